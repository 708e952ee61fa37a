"""Elevation from a DEM and slope-dependent walking speed.

Walking speed on a slope follows Tobler's hiking function, scaled so that flat ground
gives the planner's speed (``walk_m_per_min``, 67 m/min by default)::

    speed(s) = walk_m_per_min * exp(-3.5 * (|s + 0.05| - 0.05))

where ``s`` is the rise over the horizontal run of a segment (dz/dx). Tobler's
function is fastest on a gentle descent (s = -0.05, +19 %) and slows both up and
steeply down; uphill and downhill therefore differ. ``slope_model="flat"`` ignores
the terrain; ``"naismith"`` adds 1 minute per 10 m of ascent (Naismith's rule scaled
to the flat speed) and ignores descent. Steps keep their flat steps factor and are
not slowed again by slope (the factor already covers climbing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS, Transformer

from .._errors import DataFileError, ValidationError
from .._raster import open_raster

__all__ = ["SLOPE_MODELS", "speed_factor", "sample_dem", "segment_seconds"]

#: Names accepted by ``slope_model=``.
SLOPE_MODELS = ("tobler", "naismith", "flat")


def speed_factor(slope: np.ndarray, model: str = "tobler") -> np.ndarray:
    """Speed on ``slope`` (rise/run) relative to flat ground, for the Tobler model.

    Examples
    --------
    >>> float(speed_factor(np.array([0.0]))[0])
    1.0
    >>> bool(speed_factor(np.array([0.1]))[0] < speed_factor(np.array([-0.1]))[0])
    True
    """
    slope = np.asarray(slope, dtype=float)
    if model == "tobler":
        return np.exp(-3.5 * (np.abs(slope + 0.05) - 0.05))
    if model == "flat":
        return np.ones_like(slope)
    raise ValidationError(f"speed_factor has no closed form for slope_model={model!r}; use segment_seconds.")


def segment_seconds(
    dx: np.ndarray, dz: np.ndarray | None, *, walk_m_per_min: float, model: str = "tobler"
) -> np.ndarray:
    """Seconds to walk segments of horizontal length ``dx`` (m) rising ``dz`` (m)."""
    if model not in SLOPE_MODELS:
        raise ValidationError(f"slope_model must be one of {SLOPE_MODELS}, not {model!r}.")
    flat = np.asarray(dx, dtype=float) / (walk_m_per_min / 60.0)
    if dz is None or model == "flat":
        return flat
    dz = np.asarray(dz, dtype=float)
    if model == "naismith":
        # Naismith: 1 h per 5 km plus 1 h per 600 m of ascent, i.e. ascent costs
        # 7.5 s per metre at 5 km/h; scaled here to the planner's flat speed.
        return flat + np.maximum(dz, 0.0) * 7.5 * (83.33 / walk_m_per_min)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(dx > 0, dz / np.where(dx > 0, dx, 1.0), 0.0)
    return flat / speed_factor(slope, "tobler")


def sample_dem(dem: str | Path, x: np.ndarray, y: np.ndarray, crs: Any) -> np.ndarray:
    """Bilinear elevations (m) at points ``x``, ``y`` given in ``crs``.

    The DEM may be in any CRS rasterio reads. Points outside the DEM, or whose
    neighbouring cells are nodata, are an error: a missing elevation is never 0.

    Raises
    ------
    DataFileError
        If the DEM cannot be read, has no CRS, or does not cover every point.
    """
    from scipy.ndimage import map_coordinates

    dem = Path(dem)
    with open_raster(dem, "DEM") as src:  # says how to install rasterio when it is missing
        import rasterio

        to_dem = Transformer.from_crs(CRS.from_user_input(crs), CRS.from_user_input(src.crs.to_wkt()), always_xy=True)
        dx, dy = to_dem.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        inv = ~src.transform
        cols = inv.a * dx + inv.b * dy + inv.c
        rows = inv.d * dx + inv.e * dy + inv.f
        # pixel centres sit at +0.5; map_coordinates indexes centres at integers
        rows = np.asarray(rows) - 0.5
        cols = np.asarray(cols) - 0.5
        outside = (rows < -0.5) | (cols < -0.5) | (rows > src.height - 0.5) | (cols > src.width - 0.5)
        if outside.any():
            raise DataFileError(
                f"{dem}: {int(outside.sum())} of {len(outside)} network points lie outside the DEM "
                f"(DEM bounds {tuple(round(b, 3) for b in src.bounds)} in {src.crs}). "
                "Use a DEM that covers the whole study area plus its buffer."
            )
        r0, r1 = int(max(np.floor(rows.min()), 0)), int(min(np.ceil(rows.max()) + 1, src.height - 1))
        c0, c1 = int(max(np.floor(cols.min()), 0)), int(min(np.ceil(cols.max()) + 1, src.width - 1))
        window = rasterio.windows.Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1)
        band = src.read(1, window=window, masked=True)
    values = np.ma.filled(band.astype(float), np.nan)
    rr = np.clip(rows - r0, 0, values.shape[0] - 1)
    cc = np.clip(cols - c0, 0, values.shape[1] - 1)
    z = map_coordinates(values, [rr, cc], order=1, mode="nearest")
    missing = ~np.isfinite(z)
    if missing.any():
        raise DataFileError(
            f"{dem}: {int(missing.sum())} network points fall on nodata cells of the DEM. "
            "Fill the holes first (e.g. gdal_fillnodata.py) or use a complete DEM."
        )
    return z
