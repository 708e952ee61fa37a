"""Location-allocation: where to build, solved to proven optimality with HiGHS.

:mod:`~dz_gis.allocate.models` holds LSCP, MCLP and p-median on a cost matrix (with the
plan's side constraints); :mod:`~dz_gis.allocate.reduce` makes hard instances small;
:mod:`~dz_gis.allocate._highs` passes the sparse model to HiGHS.
"""

from .candidates import network_candidates as network_candidates
from .layers import SiteLayers as SiteLayers
from .models import LSCP as LSCP
from .models import MCLP as MCLP
from .models import PMedian as PMedian
from .models import SitingModel as SitingModel

__all__ = ["LSCP", "MCLP", "PMedian", "SiteLayers", "SitingModel", "network_candidates"]
