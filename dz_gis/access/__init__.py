"""Access: walking times to the nearest facility, coverage shares and isochrones.

:mod:`~dz_gis.access.times` (one multi-source search per category), :mod:`~dz_gis.access.coverage`
(the share of households within m minutes, the one place it is computed) and
:mod:`~dz_gis.access.isochrones` (walking circles from the reached streets).
"""

from .coverage import coverage_by_unit as coverage_by_unit
from .coverage import share_within as share_within
from .isochrones import DEFAULT_OFFSET_M as DEFAULT_OFFSET_M
from .isochrones import isochrones as isochrones
from .matrix import od_matrix as od_matrix
from .matrix import od_times as od_times
from .times import DEFAULT_MAX_SNAP_M as DEFAULT_MAX_SNAP_M
from .times import NearestTimes as NearestTimes
from .times import nearest_times as nearest_times
from .times import snap_points as snap_points

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "DEFAULT_OFFSET_M",
    "NearestTimes",
    "coverage_by_unit",
    "isochrones",
    "nearest_times",
    "od_matrix",
    "od_times",
    "share_within",
    "snap_points",
]
