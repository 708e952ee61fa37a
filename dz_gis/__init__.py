"""dz_gis: 15-minute life-circle (15分钟社区生活圈) service-coverage analysis.

One package per stage, data flowing one way: :mod:`~dz_gis.io` (read layers, coordinate
offsets) → :mod:`~dz_gis.network` (walking graph) → :mod:`~dz_gis.access` (walking times,
coverage, isochrones) → :mod:`~dz_gis.plan` (rules, gaps, indicators, register) →
:mod:`~dz_gis.pipeline` (the run, wired together) → :mod:`~dz_gis.scale` (the run partitioned
by district on Dask) → :mod:`~dz_gis.outputs` (tables, GeoPackage, web map).
:mod:`~dz_gis.scopes` holds the units rules are scoped to and :mod:`~dz_gis.datasets` the
bundled samples.
"""

from __future__ import annotations

from ._errors import CategoryError as CategoryError
from ._errors import ColumnError as ColumnError
from ._errors import CRSError as CRSError
from ._errors import DataFileError as DataFileError
from ._errors import DownloadError as DownloadError
from ._errors import DzGisError as DzGisError
from ._errors import GeometryError as GeometryError
from ._errors import InfeasibleError as InfeasibleError
from ._errors import RulesError as RulesError
from ._errors import StudyAreaError as StudyAreaError
from ._errors import ValidationError as ValidationError
from .access import isochrones as isochrones
from .access import nearest_times as nearest_times
from .access import od_matrix as od_matrix
from .access import od_times as od_times
from .catalog import default_catalog as default_catalog
from .catalog import load_catalog as load_catalog
from .coords import metric_crs_for as metric_crs_for
from .coords import to_wgs84 as to_wgs84
from .datasets import load_dazhou_boundaries as load_dazhou_boundaries
from .datasets import load_sample as load_sample
from .io import read_communities as read_communities
from .io import read_compounds as read_compounds
from .io import read_facilities as read_facilities
from .network import walk_graph_from_file as walk_graph_from_file
from .network import walk_graph_from_place as walk_graph_from_place
from .network import walk_network_from_file as walk_network_from_file
from .outputs import write_outputs as write_outputs
from .pipeline import check_plan as check_plan
from .pipeline import run_coverage as run_coverage
from .plan import load_rules as load_rules
from .plan import read_register as read_register
from .plan import reconcile_register as reconcile_register
from .scale import run_partitioned as run_partitioned

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "CategoryError",
    "ColumnError",
    "DataFileError",
    "DownloadError",
    "DzGisError",
    "GeometryError",
    "InfeasibleError",
    "RulesError",
    "StudyAreaError",
    "ValidationError",
    "check_plan",
    "default_catalog",
    "isochrones",
    "load_catalog",
    "load_dazhou_boundaries",
    "load_rules",
    "load_sample",
    "metric_crs_for",
    "nearest_times",
    "od_matrix",
    "od_times",
    "read_communities",
    "read_compounds",
    "read_facilities",
    "read_register",
    "reconcile_register",
    "run_coverage",
    "run_partitioned",
    "to_wgs84",
    "walk_graph_from_file",
    "walk_graph_from_place",
    "walk_network_from_file",
    "write_outputs",
]
