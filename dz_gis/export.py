"""GeoPackage and table outputs, written atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ._atomic import atomic_path

__all__ = ["write_geopackage", "write_csv"]


def write_geopackage(path: str | Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write several layers into one GeoPackage; the file appears only when all succeeded."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for i, (name, gdf) in enumerate(layers.items()):
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", append=i > 0)
    return path


def write_csv(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a CSV with a UTF-8 BOM, so Excel shows Chinese text correctly."""
    path = Path(path)
    with atomic_path(path) as tmp:
        # a plain 0..n index means nothing to a planner in Excel; a named one (e.g. category) does
        table.to_csv(tmp, encoding="utf-8-sig", index=not isinstance(table.index, pd.RangeIndex))
    return path
