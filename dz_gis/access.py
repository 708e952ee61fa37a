"""Walking times from every place to the nearest facility of each category, and coverage.

The graph is turned once into a compressed sparse matrix of walking seconds
(:class:`PreparedNetwork`, cached per graph); each category then costs one
multi-source Dijkstra (scipy.sparse.csgraph) on the *reversed* graph, started from a
virtual node linked to every facility of that category - not one search per facility.
Reversed, because the time that matters is from home *to* the facility, and with
slopes the two directions differ.

Points attach to their nearest node of the main connected component; the straight walk
from the point to that node (the snap distance) is added to its time. Points farther
than ``max_snap_m`` are reported, never silently given a time.
"""

from __future__ import annotations

import logging
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from ._errors import ValidationError
from ._validate import require_columns, require_nonempty

__all__ = [
    "PreparedNetwork",
    "prepare",
    "snap_points",
    "nearest_times",
    "coverage_by_unit",
]

logger = logging.getLogger(__name__)

#: Points farther than this from the network are reported as unreachable.
DEFAULT_MAX_SNAP_M = 250.0


@dataclass(frozen=True)
class PreparedNetwork:
    """A walking graph in compressed form, built once and reused for every query."""

    node_ids: np.ndarray  #: graph node id of each matrix row
    xy: np.ndarray  #: (n, 2) node coordinates in the graph CRS
    reverse_csr: sp.csr_matrix  #: walk seconds, entry [v, u] for edge u→v
    component: np.ndarray  #: weakly connected component label of each node
    main_component: int
    main_nodes: np.ndarray  #: matrix rows of the main component's nodes
    tree: cKDTree  #: spatial index over ``main_nodes``
    crs: object
    walk_m_per_min: float
    signature: tuple[int, int]

    @property
    def n(self) -> int:
        return len(self.node_ids)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def prepare(graph: nx.MultiDiGraph) -> PreparedNetwork:
    """Return the compressed form of ``graph``, building it on first use only.

    The cache is tied to the graph object; changing the graph's node or edge count
    rebuilds it.
    """
    signature = (graph.number_of_nodes(), graph.number_of_edges())
    cached = _CACHE.get(graph)
    if cached is not None and cached.signature == signature:
        return cached
    if "crs" not in graph.graph:
        raise ValidationError('graph has no graph.graph["crs"]; build it with dz_gis.network or osmnx.')
    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=signature[0])
    index = pd.Index(node_ids)
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    u, v, w = [], [], []
    for a, b, data in graph.edges(data=True):
        if "walk_s" not in data:
            raise ValidationError(
                "graph edges lack 'walk_s' (seconds); call dz_gis.network.add_walk_times(graph) first."
            )
        u.append(a)
        v.append(b)
        w.append(data["walk_s"])
    ui = index.get_indexer(u)
    vi = index.get_indexer(v)
    n = len(node_ids)
    # Reverse direction (v -> u); duplicates (parallel edges) keep the fastest.
    coo = sp.coo_matrix((np.asarray(w, dtype=float), (vi, ui)), shape=(n, n))
    csr = _min_duplicates(coo)
    _, labels = connected_components(csr, directed=True, connection="weak")
    main = int(np.bincount(labels).argmax())
    main_nodes = np.flatnonzero(labels == main)
    prepared = PreparedNetwork(
        node_ids=node_ids,
        xy=xy,
        reverse_csr=csr,
        component=labels,
        main_component=main,
        main_nodes=main_nodes,
        tree=cKDTree(xy[main_nodes]),
        crs=graph.graph["crs"],
        walk_m_per_min=float(graph.graph.get("walk_m_per_min", 67.0)),
        signature=signature,
    )
    _CACHE[graph] = prepared
    return prepared


def _min_duplicates(coo: sp.coo_matrix) -> sp.csr_matrix:
    order = np.lexsort((coo.data, coo.col, coo.row))
    r, c, d = coo.row[order], coo.col[order], coo.data[order]
    first = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]
    # a zero-length edge would vanish in a sparse matrix; keep it as a tiny positive time
    d = np.maximum(d[first], 1e-9)
    return sp.csr_matrix((d, (r[first], c[first])), shape=coo.shape)


def snap_points(
    graph: nx.MultiDiGraph, points: gpd.GeoDataFrame, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> pd.DataFrame:
    """Attach points to their nearest node of the network's main connected component.

    Nodes on islands (fragments not connected to the main network, such as an indoor
    corridor or a footpath mapped without its connection) are never used: a point
    next to one is attached to the main network further away, or reported.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``node`` (matrix row), ``snap_m`` and ``too_far``
        (True when ``snap_m`` > ``max_snap_m``: no time is given).
    """
    net = prepare(graph)
    require_nonempty(points, "points")
    if points.crs is None:
        raise ValidationError("points have no CRS; set one with .set_crs(...).")
    geoms = points.to_crs(net.crs).geometry.array
    pts = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(pts)
    dist, nearest = net.tree.query(xy)
    return pd.DataFrame(
        {"node": net.main_nodes[nearest], "snap_m": dist, "too_far": dist > max_snap_m},
        index=points.index,
    )


def nearest_times(
    graph: nx.MultiDiGraph,
    facilities: gpd.GeoDataFrame,
    *,
    by: str = "category",
    cutoff_min: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Walking minutes from every node (and demand point) to the nearest facility per category.

    Parameters
    ----------
    graph
        Walking graph in the OSMnx convention with ``walk_s`` on edges.
    facilities
        Points with a ``by`` column, in any CRS.
    by
        Column that groups facilities (one Dijkstra per group).
    cutoff_min
        Times beyond this are NaN (and the search stops there).
    demand
        Optional demand points/polygons; their times include their own snap walk.
    max_snap_m
        Facilities/demand points farther than this from the network are unreachable.

    Returns
    -------
    (node_times, demand_times)
        ``node_times`` indexed by graph node id, one column per category, minutes;
        ``demand_times`` indexed like ``demand`` (or None).
    """
    require_columns(facilities, [by], "facilities")
    net = prepare(graph)
    speed_mps = net.walk_m_per_min / 60.0
    fac_snap = snap_points(graph, facilities, max_snap_m=max_snap_m)
    usable = ~fac_snap["too_far"].to_numpy()
    dropped = int((~usable).sum())
    if dropped:
        warnings.warn(
            f"{dropped} facilit{'y is' if dropped == 1 else 'ies are'} more than {max_snap_m:g} m "
            "from the walking network and were left out (see snap_points for the list).",
            UserWarning,
            stacklevel=2,
        )
    limit = np.inf if cutoff_min is None else cutoff_min * 60.0
    n = net.n
    categories = list(pd.unique(facilities[by]))
    times = {}
    for cat in categories:
        mask = (facilities[by] == cat).to_numpy() & usable
        if not mask.any():
            times[cat] = np.full(n, np.nan)
            continue
        # A virtual source (row n) linked to each facility's node by its snap walk makes
        # one Dijkstra give every node its time to the nearest facility, snap included.
        nodes = fac_snap["node"].to_numpy()[mask]
        offset = fac_snap["snap_m"].to_numpy()[mask] / speed_mps
        src = sp.csr_matrix(
            (np.maximum(offset, 1e-9), (np.zeros(len(nodes), dtype=int), nodes)), shape=(1, n)
        )
        src = _min_duplicates(src.tocoo())
        aug = sp.vstack([sp.hstack([net.reverse_csr, sp.csr_matrix((n, 1))]), sp.hstack([src, sp.csr_matrix((1, 1))])]).tocsr()
        dist = dijkstra(aug, directed=True, indices=n, limit=limit)[:n]
        times[cat] = np.where(np.isfinite(dist), dist / 60.0, np.nan)
    node_times = pd.DataFrame(times, index=pd.Index(net.node_ids, name="node"))
    demand_times = None
    if demand is not None:
        snap = snap_points(graph, demand, max_snap_m=max_snap_m)
        walk_min = snap["snap_m"].to_numpy() / net.walk_m_per_min
        values = node_times.to_numpy()[snap["node"].to_numpy()] + walk_min[:, None]
        values[snap["too_far"].to_numpy()] = np.nan
        if cutoff_min is not None:
            values[values > cutoff_min] = np.nan
        demand_times = pd.DataFrame(values, index=demand.index, columns=node_times.columns)
    return node_times, demand_times


def coverage_by_unit(
    demand: pd.DataFrame,
    demand_times: pd.DataFrame,
    *,
    unit: str = "community_id",
    weight: str = "households",
    minutes: Sequence[int] = (5, 10, 15),
) -> pd.DataFrame:
    """Share of ``weight`` (households) per unit within each walking band, per category.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit; columns ``cov_<category>_<m>min`` in [0, 1], plus
        ``<weight>`` (the total). Units with no demand get NaN ("no data"), never 0.
    """
    require_columns(demand, [unit, weight], "demand")
    w = demand[weight].to_numpy(dtype=float)
    w = np.where(np.isfinite(w), w, 0.0)
    groups = demand[unit].to_numpy()
    out = {weight: pd.Series(w, index=demand.index).groupby(groups).sum()}
    total = out[weight]
    for cat in demand_times.columns:
        t = demand_times[cat].to_numpy()
        for m in minutes:
            within = pd.Series(np.where(t <= m, w, 0.0), index=demand.index).groupby(groups).sum()
            out[f"cov_{cat}_{m}min"] = (within / total.where(total > 0)).reindex(total.index)
    return pd.DataFrame(out)
