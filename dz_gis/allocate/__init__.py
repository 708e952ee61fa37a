"""Location-allocation: where to build, solved to proven optimality with HiGHS.

:mod:`~dz_gis.allocate.models` holds LSCP, MCLP and p-median on a cost matrix or on map
layers (with the plan's side constraints: existing and closed sites, a quota per unit,
capacities, a budget); :mod:`~dz_gis.allocate.reduce` and :mod:`~dz_gis.allocate.tighten`
(MCLP: a start and a Lagrangian bound, :mod:`~dz_gis.allocate.bound`) make hard instances
small; :mod:`~dz_gis.allocate._highs` passes the sparse model to HiGHS.
:mod:`~dz_gis.allocate.candidates` makes candidate sites from the network,
:mod:`~dz_gis.allocate.presets` asks the plan's questions (elderly-care complexes, public
toilets) and :mod:`~dz_gis.allocate.close` finds the fewest sites that close named gaps;
both judge the plan again through :mod:`~dz_gis.allocate.after`.
"""

from .candidates import network_candidates as network_candidates
from .close import GapClosure as GapClosure
from .close import close_gaps as close_gaps
from .layers import SiteLayers as SiteLayers
from .models import LSCP as LSCP
from .models import MCLP as MCLP
from .models import PMedian as PMedian
from .models import SitingModel as SitingModel
from .presets import Proposals as Proposals
from .presets import propose_elderly_care as propose_elderly_care
from .presets import propose_sites as propose_sites
from .presets import propose_toilets as propose_toilets

__all__ = [
    "LSCP",
    "MCLP",
    "PMedian",
    "GapClosure",
    "Proposals",
    "SiteLayers",
    "SitingModel",
    "close_gaps",
    "network_candidates",
    "propose_elderly_care",
    "propose_sites",
    "propose_toilets",
]
