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


# ----------------------------------------------------------------------------- datums and zones

#: Old Chinese geodetic datums (EPSG code of the geographic CRS) and their Chinese names.
OLD_DATUMS = {4214: "Beijing 1954 (北京54)", 4610: "Xian 1980 (西安80)", 4555: "New Beijing (新北京54)"}


def old_datum(crs: CRS) -> str | None:
    """The name of the old Chinese datum ``crs`` is on (Beijing 1954, Xian 1980), or None.

    >>> old_datum(CRS.from_epsg(2383))
    'Xian 1980 (西安80)'
    >>> old_datum(CRS.from_wkt(CRS.from_epsg(2433).to_wkt("WKT1_ESRI")))  # an ArcGIS .prj
    'Beijing 1954 (北京54)'
    >>> old_datum(CRS.from_epsg(4545)) is None
    True
    """
    geodetic = crs.geodetic_crs
    code = geodetic.to_epsg() if geodetic is not None else None
    if code in OLD_DATUMS:
        return OLD_DATUMS[code]
    # An ArcGIS .prj (ESRI WKT) names the datum but carries no EPSG code: match the name.
    datum = crs.datum.name.lower().replace("_", " ").removeprefix("d ") if crs.datum else ""
    names = {"beijing 1954": 4214, "xian 1980": 4610, "new beijing": 4555}
    return next((OLD_DATUMS[c] for n, c in names.items() if datum.startswith(n)), None)


def old_datum_warning(crs: CRS, where: str) -> str | None:
    """The warning text for data on an old datum, or None.

    PROJ has no grid or published parameters for Beijing 1954 / Xian 1980 → CGCS2000 over most
    of China (the EPSG shifts for Beijing 1954 cover offshore oil fields only), so pyproj uses a
    "ballpark" transformation: the latitudes and longitudes are kept as they are. The two datums
    differ by tens of metres, and Beijing 1954 by more than 100 m in places.
    """
    name = old_datum(crs)
    if name is None:
        return None
    return (
        f"{where}: the data is in {crs.name}, on the old {name} datum. pyproj's default grids hold no datum "
        "shift from it to CGCS2000/WGS84 here, so it is converted without one (ballpark): positions may be off "
        "by tens of metres to more than 100 m (旧坐标系, 无七参数). For exact positions, reproject it in your GIS "
        "with the local 7-parameter transformation (七参数, from the surveying bureau) to CGCS2000 and export again."
    )


def _tm_false_easting(crs: CRS) -> tuple[float, float] | None:
    """(false easting, central meridian) of a Transverse Mercator CRS, else None."""
    op = crs.coordinate_operation if crs.is_projected else None
    if op is None or "Transverse Mercator" not in op.method_name:
        return None
    params = {p.name: p.value for p in op.params}
    fe, cm = params.get("False easting"), params.get("Longitude of natural origin")
    if fe is None or cm is None or fe % 1_000_000 != 500_000:
        return None
    return float(fe), float(cm)


def _zone_crs(datum_name: str, zone: int | None, cm: float, three_degree: bool) -> str:
    """``'EPSG:nnnn'`` of a Gauss-Krüger CRS on ``datum_name`` (zone prefix or CM form), or ''."""
    from pyproj.database import query_crs_info  # local: only needed to word an error

    family = "3-degree Gauss-Kruger" if three_degree else "Gauss-Kruger"
    wanted = f"{datum_name} / {family} " + (f"zone {zone}" if zone is not None else f"CM {cm:g}E")
    for info in query_crs_info(auth_name="EPSG"):
        if info.name == wanted:
            return f"EPSG:{info.code}"
    return ""


def check_zone_prefix(x: ArrayLike, y: ArrayLike, crs: CRS, where: str) -> None:
    """Raise CRSError when Gauss-Krüger X values contradict the zone of the declared CRS.

    In China the easting often carries its zone number in front (36 540 000 = zone 36, 540 km):
    a prefix that differs from the declared zone puts every point hundreds of km away, and a
    prefix on a CRS without one (or none on a CRS with one) makes the transformation fail.
    Chinese surveying calls the northing X; a northing read as easting is reported too.
    """
    tm = _tm_false_easting(crs)
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if tm is None or not ok.any():
        return
    xs, ys = xs[ok], ys[ok]
    fe, cm = tm
    declared = int(fe // 1_000_000) or None
    datum = crs.name.split(" / ")[0]
    if (
        np.median(xs) > 1_500_000
        and (np.median(ys) >= 10_000_000 or np.median(ys) < 1_000_000)
        and np.median(xs) < 10_000_000
    ):
        raise CRSError(
            f"{where}: the X values ({np.median(xs):,.0f}) look like northings and the Y values ({np.median(ys):,.0f}) "
            "like eastings: in Chinese surveying X is north (X 为纵坐标). Exchange the two columns, e.g. "
            "columns={'lon': 'Y', 'lat': 'X'}."
        )
    # Chinese zones are two digits (6°: 13-23, 3°: 25-45); elsewhere (German GK) one digit.
    floor = 10_000_000 if declared is None or declared >= 10 else 1_000_000
    has_prefix = xs >= floor
    prefixes = np.unique((xs[has_prefix] // 1_000_000).astype(int))
    if declared is not None and has_prefix.all() and set(prefixes) == {declared}:
        return
    if declared is None and not has_prefix.any():
        return
    said = f"the declared CRS {crs.name} ({crs.to_string()})"
    if not has_prefix.all() and declared is not None:
        code = _zone_crs(datum, None, cm, "3-degree" in crs.name)
        raise CRSError(
            f"{where}: {int((~has_prefix).sum())} X value(s) have no zone prefix (e.g. {xs[~has_prefix][0]:,.0f}), but "
            f"{said} expects X to start with its zone number {declared}. Pass crs='{code or 'EPSG:…'}' "
            f"(the CM {cm:g}E form without prefix) if the values are right, or check the X column."
        )
    zone = int(prefixes[0])
    three = zone >= 24
    zone_cm = 3 * zone if three else 6 * zone - 3
    code = _zone_crs(datum, zone, zone_cm, three)
    numbers = f"zone {zone}"
    if 13 <= zone <= 23 or 25 <= zone <= 45:
        numbers += f" ({'3°' if three else '6°'} Gauss-Krüger, central meridian {zone_cm}°E)"
    if len(prefixes) > 1:
        numbers = f"zones {list(map(int, prefixes))}"
    declared_txt = (
        f"zone {declared} (central meridian {cm:g}°E)" if declared else f"central meridian {cm:g}°E with no zone prefix"
    )
    raise CRSError(
        f"{where}: the X values start with {', '.join(map(str, map(int, prefixes)))}: the numbers say {numbers}, "
        f"but {said} is {declared_txt} (分带号与坐标系不符). Read this way every point would be hundreds "
        "of km off, or fail to convert. "
        f"Pass crs='{code or 'EPSG:…'}' if the numbers are right, or correct the X values."
    )
