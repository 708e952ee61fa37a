"""Walking networks: built from an OSM file or online, timed on slopes, prepared for search.

:mod:`~dz_gis.network.build` (walkable ways → a projected graph with walking times),
:mod:`~dz_gis.network.from_file` and :mod:`~dz_gis.network.online` (the sources),
:mod:`~dz_gis.network.terrain` (slope from a DEM), :mod:`~dz_gis.network.prepared` (the
compressed arrays every search uses; :mod:`~dz_gis.network.from_graph` reads a graph into
them) and :mod:`~dz_gis.network.snap` (points onto edges).

Graphs follow the OSMnx convention: a ``networkx.MultiDiGraph`` with node ``x``/``y`` in
the projected CRS ``graph.graph["crs"]`` and ``length`` (m), ``walk_s`` (s) and a LineString
``geometry`` on every edge direction. For big areas, :func:`walk_network_from_file` reads an
OSM file (:mod:`~dz_gis.network.osm_arrays`, pyosmium) straight into a :class:`PreparedNetwork`,
which every access function takes in place of a graph (:data:`Network`).
"""

from .build import STEPS_FACTOR as STEPS_FACTOR
from .build import add_walk_times as add_walk_times
from .build import walk_graph_from_edges as walk_graph_from_edges
from .from_file import walk_graph_from_file as walk_graph_from_file
from .from_file import walk_network_from_file as walk_network_from_file
from .online import walk_graph_from_place as walk_graph_from_place
from .prepared import Network as Network
from .prepared import PreparedNetwork as PreparedNetwork
from .prepared import invalidate as invalidate
from .prepared import network_from_arrays as network_from_arrays
from .prepared import prepare as prepare
from .snap import DEFAULT_MAX_SNAP_M as DEFAULT_MAX_SNAP_M
from .snap import snap as snap
from .ways import WALKABLE_HIGHWAYS as WALKABLE_HIGHWAYS
from .ways import enterable as enterable
from .ways import walkable as walkable

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "STEPS_FACTOR",
    "WALKABLE_HIGHWAYS",
    "Network",
    "PreparedNetwork",
    "add_walk_times",
    "enterable",
    "walkable",
    "invalidate",
    "network_from_arrays",
    "prepare",
    "snap",
    "walk_graph_from_edges",
    "walk_graph_from_file",
    "walk_graph_from_place",
    "walk_network_from_file",
]
