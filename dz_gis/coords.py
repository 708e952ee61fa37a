"""Coordinate systems: Chinese web offsets (GCJ-02, BD-09) and metric CRS choice.

GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are obfuscated versions of WGS84 used by
Chinese web maps. They differ from WGS84 by 300-700 m, so mixing them silently puts
every facility in the wrong block. :func:`to_wgs84` converts them back.

Written by hand because the libraries that implement these offsets (prcoords,
coordtransform, eviltransform) convert one point per Python call; here whole
columns are converted at once with NumPy. The test-suite checks the result against
prcoords, an independent implementation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from ._errors import CRSError, StudyAreaError

__all__ = [
    "CHINA_BOUNDS",
    "SUPPORTED_OFFSETS",
    "to_wgs84",
    "wgs84_to_gcj02",
    "gcj02_to_bd09",
    "in_china",
    "metric_crs_for",
]

#: Rough bounding box (lon_min, lat_min, lon_max, lat_max) where the GCJ-02 offset is
#: defined; outside it Amap and Baidu publish plain WGS84 and no conversion applies.
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

#: Values accepted by the ``coords=`` / ``source=`` arguments.
SUPPORTED_OFFSETS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where a lon/lat lies inside :data:`CHINA_BOUNDS`."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BOUNDS
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def _delta(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Apply the GCJ-02 offset to WGS84 longitudes and latitudes (degrees)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Apply Baidu's BD-09 transform to GCJ-02 longitudes and latitudes."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    # The published inverse formulas are approximations (errors of 1-2 m for GCJ-02);
    # a fixed-point iteration on the exact forward transform converges to < 1 mm in a
    # handful of steps because the offset varies slowly with position.
    x, y = lon.copy(), lat.copy()
    for _ in range(30):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        if np.nanmax(np.abs(ex), initial=0.0) < 1e-11 and np.nanmax(np.abs(ey), initial=0.0) < 1e-11:
            break
    return x, y


def to_wgs84(lon: ArrayLike, lat: ArrayLike, *, source: str = "gcj02", where: str = "input") -> tuple[NDArray, NDArray]:
    """Convert longitudes and latitudes from a Chinese web offset to WGS84.

    Parameters
    ----------
    lon, lat
        Degrees, scalars or array-likes of equal length.
    source
        ``"gcj02"`` (Amap / Gaode, Tencent, Google China), ``"bd09"`` (Baidu) or
        ``"wgs84"`` (returned unchanged).
    where
        Names the data in error messages (e.g. the file name).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes.

    Raises
    ------
    CRSError
        If ``source`` is not one of :data:`SUPPORTED_OFFSETS`.
    StudyAreaError
        If a point lies outside China, where the offsets are undefined.

    Examples
    --------
    >>> lon, lat = to_wgs84(107.4746, 31.2078, source="gcj02")
    >>> round(float(lon[0]), 3), round(float(lat[0]), 3)
    (107.47, 31.21)
    """
    key = str(source).lower().replace("-", "").replace("_", "")
    if key not in SUPPORTED_OFFSETS:
        raise CRSError(
            f"{where}: unknown coordinate offset {source!r}. "
            f"Use one of {', '.join(SUPPORTED_OFFSETS)} (gcj02 = Amap/Gaode, bd09 = Baidu)."
        )
    lon = np.atleast_1d(np.asarray(lon, dtype=float)).copy()
    lat = np.atleast_1d(np.asarray(lat, dtype=float)).copy()
    if key == "wgs84":
        return lon, lat
    outside = ~in_china(lon, lat)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise StudyAreaError(
            f"{where}: {int(outside.sum())} point(s) lie outside China "
            f"(first: row {first + 1}, lon={lon[first]:.6f}, lat={lat[first]:.6f}), where the "
            f"{key.upper()} offset is undefined. Check that longitude and latitude are not "
            f"swapped, or drop coords={key!r} if these are plain WGS84 coordinates."
        )
    if key == "bd09":
        lon, lat = _invert(gcj02_to_bd09, lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat)


def metric_crs_for(lon: float, lat: float) -> CRS:
    """Choose a metric CRS for a study area centred at ``lon``, ``lat`` (WGS84).

    Inside China this is the CGCS2000 3-degree Gauss-Krueger zone whose central
    meridian is nearest (EPSG:4534-4554, e.g. EPSG:4545 "CM 108E" for Dazhou), the
    projection of China's official survey data; elsewhere the local UTM zone.

    Examples
    --------
    >>> metric_crs_for(107.5, 31.2).to_epsg()
    4545
    >>> metric_crs_for(24.94, 60.17).to_epsg()
    32635
    """
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise CRSError("Cannot choose a metric CRS: the study area centre is not a finite lon/lat.")
    central = int(round(lon / 3.0)) * 3
    if bool(in_china(lon, lat)) and 75 <= central <= 135:
        return CRS.from_epsg(4534 + (central - 75) // 3)
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
