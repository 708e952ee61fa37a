"""Opening rasters (DEMs, population grids) with the errors a planner can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._errors import DataFileError

__all__ = ["open_raster"]


def open_raster(path: str | Path, what: str, *, hint: str = "") -> Any:
    """Open ``path`` with rasterio; a missing file, an unreadable one or a missing CRS is a DataFileError.

    ``what`` names the raster in messages ("DEM", "population raster").
    """
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"Reading a {what} needs rasterio: pip install 'dz_gis[raster]'") from exc
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: {what} file not found.")
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DataFileError(f"{path}: cannot read it as a raster ({exc}).") from None
    if src.crs is None:
        src.close()
        raise DataFileError(
            f"{path}: the {what} has no CRS. Add one (e.g. gdal_edit.py -a_srs EPSG:4326 {path.name}).{hint}"
        )
    return src
