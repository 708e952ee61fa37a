"""GeoPackage output: several layers in one file, written atomically and valid (OGC)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from .._atomic import atomic_path

__all__ = ["write_geopackage"]

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
