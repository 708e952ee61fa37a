"""Reading the layers planners have: communities, compounds and facilities, in WGS84 with standard columns.

:mod:`~dz_gis.io.files` (any GIS or table file, CRS and Chinese web offsets),
:mod:`~dz_gis.io.columns` (the standard columns and their Chinese names),
:mod:`~dz_gis.io.layers` (the three readers), :mod:`~dz_gis.io.osm_layers` (facilities from
an OpenStreetMap file) and :mod:`~dz_gis.io.osm_homes` (homes, households and compounds from
its buildings), for places without their own lists.
"""

from .columns import COLUMN_ALIASES as COLUMN_ALIASES
from .files import detect_dbf_encoding as detect_dbf_encoding
from .files import read_table as read_table
from .layers import read_communities as read_communities
from .layers import read_compounds as read_compounds
from .layers import read_facilities as read_facilities
from .osm_homes import HouseholdAssumptions as HouseholdAssumptions
from .osm_homes import compounds_from_osm as compounds_from_osm
from .osm_homes import estimate_homes as estimate_homes
from .osm_layers import facilities_from_osm as facilities_from_osm

__all__ = [
    "COLUMN_ALIASES",
    "HouseholdAssumptions",
    "compounds_from_osm",
    "detect_dbf_encoding",
    "estimate_homes",
    "facilities_from_osm",
    "read_communities",
    "read_compounds",
    "read_facilities",
    "read_table",
]
