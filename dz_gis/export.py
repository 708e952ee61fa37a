"""GeoPackage and table outputs, written atomically."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ._atomic import atomic_path

__all__ = ["write_geopackage", "write_csv"]

logger = logging.getLogger(__name__)


def write_geopackage(path: str | Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write several layers into one GeoPackage; the file appears only when all succeeded.

    Geometries are written valid (OGC): reprojecting a valid polygon can make it invalid
    where two of its vertices lie a hair apart (they may round to one point in degrees),
    so invalid ones are repaired with GEOS ``make_valid`` (keeping polygons polygons).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for i, (name, gdf) in enumerate(layers.items()):
            pyogrio.write_dataframe(_valid(gdf, name), tmp, layer=name, driver="GPKG", append=i > 0)
    return path


def _valid(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.array
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not bad.any():
        return gdf
    fixed = np.asarray(geoms, dtype=object).copy()
    fixed[bad] = shapely.make_valid(fixed[bad], method="structure", keep_collapsed=False)
    logger.info("layer %s: %d invalid geometries repaired before writing", name, bad.sum())
    return gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))


def write_csv(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a CSV with a UTF-8 BOM, so Excel shows Chinese text correctly."""
    path = Path(path)
    with atomic_path(path) as tmp:
        # a plain 0..n index means nothing to a planner in Excel; a named one (e.g. category) does
        table.to_csv(tmp, encoding="utf-8-sig", index=not isinstance(table.index, pd.RangeIndex))
    return path
