"""Points that lie beside the streets only after a Chinese web-map shift: a layer read in the wrong coordinates.

Amap (高德) and Tencent publish GCJ-02 coordinates, Baidu BD-09: both are WGS84 moved by a
few hundred metres. A layer read with the wrong ``coords:`` is moved by that much, in the
city's own direction, and nothing in the file tells it apart. The streets do: facilities and
homes lie near them (a median of metres to tens of metres), and a wrongly read layer lies
farther, while the same layer moved back by the shift lies near again. This module tries the
shifts a misread layer can carry and names the one that clearly brings the points onto the
streets. It only warns: a layer of points far from streets (a rural survey, a park's centre)
moves no closer under any shift, so it is never flagged.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from ..coords import gcj02_to_bd09, in_china, to_wgs84, wgs84_to_gcj02
from ..network.prepared import PreparedNetwork

__all__ = ["web_offset_hint"]

#: Fewer points than this say nothing about a layer's coordinates.
MIN_POINTS = 8
#: A median needs no more points than this (evenly picked): a 100,000-home layer costs what 2,000 do.
MAX_POINTS = 2000

#: A shift is named when it brings the median distance to the street down to this share or less ...
MAX_RATIO = 0.5
#: ... and by at least this much (metres): a layer already on the streets is left alone.
MIN_GAIN_M = 10.0

#: What the layer's points would be if it was read wrongly: (how it was misread, the fix, the points moved back).
_MISREADINGS: tuple[tuple[str, str, Callable], ...] = (
    (
        "GCJ-02 coordinates (高德/腾讯) read as WGS84",
        "coords: gcj02",
        lambda lon, lat: to_wgs84(lon, lat, source="gcj02"),
    ),
    (
        "BD-09 coordinates (百度) read as WGS84",
        "coords: bd09",
        lambda lon, lat: to_wgs84(lon, lat, source="bd09"),
    ),
    ("WGS84 coordinates read as GCJ-02", "coords: wgs84 (or no coords:)", wgs84_to_gcj02),
    (
        "WGS84 coordinates read as BD-09",
        "coords: wgs84 (or no coords:)",
        lambda lon, lat: gcj02_to_bd09(*wgs84_to_gcj02(lon, lat)),
    ),
)


def web_offset_hint(net: PreparedNetwork, layer: gpd.GeoDataFrame, what: str) -> str | None:
    """A warning text when ``layer`` lies near the streets only if it was read in another web offset, else None.

    Parameters
    ----------
    net
        The walking network the layer is used with.
    layer
        Points or polygons (a point inside each is used), any CRS.
    what
        Names the layer in the text (``"facilities"``).
    """
    if layer.crs is None or len(layer) < MIN_POINTS:
        return None
    pts = shapely.point_on_surface(layer.to_crs(4326).geometry.array)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    inside = np.isfinite(lon) & np.isfinite(lat) & in_china(lon, lat)
    if inside.sum() < MIN_POINTS:  # the offsets exist only in China
        return None
    lon, lat = lon[inside], lat[inside]
    if len(lon) > MAX_POINTS:
        pick = np.linspace(0, len(lon) - 1, MAX_POINTS).astype(np.int64)
        lon, lat = lon[pick], lat[pick]
    to_net = Transformer.from_crs(4326, net.crs, always_xy=True)

    def median_m(x: np.ndarray, y: np.ndarray) -> float:
        xy = np.column_stack(to_net.transform(x, y))
        _, dist = net.access_index.nearest(xy[np.isfinite(xy).all(axis=1)])
        return float(np.median(dist)) if len(dist) else np.inf

    given = median_m(lon, lat)
    tried = [(median_m(*back(lon, lat)), how, fix) for how, fix, back in _MISREADINGS]
    best, how, fix = min(tried, key=lambda t: t[0])
    if best > MAX_RATIO * given or given - best < MIN_GAIN_M:
        return None
    return (
        f"{what}: the points lie a median {given:.0f} m from the nearest street, but {best:.0f} m if they are "
        f"{how}. Check the layer's coordinate system: the fix is probably {fix} for this layer in the project "
        "file (coords= in Python). Points read in the wrong system are off by several hundred metres."
    )
