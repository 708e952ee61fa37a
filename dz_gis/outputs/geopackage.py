"""GeoPackage output: several layers in one file, written atomically and valid (OGC)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from .._atomic import atomic_path
from .._errors import ValidationError

__all__ = ["write_geopackage"]

logger = logging.getLogger(__name__)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z")


def write_geopackage(
    path: str | Path, layers: Mapping[str, gpd.GeoDataFrame], *, fixed_date: str | None = None
) -> Path:
    """Write several layers into one GeoPackage; the file appears only when all succeeded.

    Geometries are written valid (OGC): reprojecting a valid polygon can make it invalid
    where two of its vertices lie a hair apart (they may round to one point in degrees),
    so invalid ones are repaired with GEOS ``make_valid`` (keeping polygons polygons).

    Parameters
    ----------
    path
        The GeoPackage to write (replaced if it exists).
    layers
        ``{layer name: frame}``, written in this order.
    fixed_date
        GDAL stamps every layer with the time of writing (``last_change`` in
        ``gpkg_contents``), so two writes of the same data differ. A date here
        (``"2000-01-01T00:00:00.000Z"``: ISO 8601, UTC, milliseconds optional) is written instead,
        through GDAL's ``OGR_CURRENT_DATE`` option, and the same layers give the same bytes.
    """
    path = Path(path)
    if fixed_date is not None and not _ISO_DATE.fullmatch(fixed_date):
        raise ValidationError(
            f"fixed_date={fixed_date!r}: write it as YYYY-MM-DDTHH:MM:SS[.sss]Z, e.g. '2000-01-01T00:00:00.000Z'."
        )
    with atomic_path(path) as tmp, _gdal_date(fixed_date):
        for i, (name, gdf) in enumerate(layers.items()):
            pyogrio.write_dataframe(_valid(gdf, name), tmp, layer=name, driver="GPKG", append=i > 0)
    return path


@contextmanager
def _gdal_date(date: str | None) -> Iterator[None]:
    """GDAL's ``OGR_CURRENT_DATE`` set to ``date`` for the block, then restored."""
    if date is None:
        yield
        return
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    if before == os.environ.get("OGR_CURRENT_DATE"):
        before = None  # it came from the environment (or nowhere): unset the option, GDAL reads the variable again
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": date})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def _valid(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.array
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not bad.any():
        return gdf
    fixed = np.asarray(geoms, dtype=object).copy()
    fixed[bad] = shapely.make_valid(fixed[bad], method="structure", keep_collapsed=False)
    logger.info("layer %s: %d invalid geometries repaired before writing", name, bad.sum())
    return gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))
