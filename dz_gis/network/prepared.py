"""A walking graph in compressed form, built once per graph and reused by every query.

:func:`prepare` turns any graph in the OSMnx convention (node ``x``/``y`` in a projected
CRS named by ``graph.graph["crs"]``, edge ``walk_s`` seconds) into NumPy arrays and a
CSR matrix of the *reversed* graph. It never copies the networkx graph: a 1,000,000-node
networkx graph already holds several GB. The result is cached per graph object and
rebuilt when the graph's node count changes; after changing edges in place, call
:func:`invalidate`.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from .._errors import CRSError, ValidationError

__all__ = ["PreparedNetwork", "prepare", "invalidate"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(eq=False)
class PreparedNetwork:
    """Arrays describing a walking graph; build it with :func:`prepare`."""

    node_ids: np.ndarray  #: graph node id of each matrix row
    xy: np.ndarray  #: (n, 2) node coordinates in the graph CRS
    edge_u: np.ndarray  #: matrix row of each directed edge's start
    edge_v: np.ndarray  #: ... and end
    edge_s: np.ndarray  #: walk seconds of each directed edge
    edge_rev: np.ndarray  #: index of the reverse edge (same way, other direction) or -1
    edge_steps: np.ndarray  #: True for steps (partial times stay proportional)
    edge_enterable: np.ndarray  #: True where a point beside the edge may join it (:mod:`dz_gis.network.ways`)
    edge_geom: np.ndarray  #: LineString of each directed edge (references, not copies)
    component: np.ndarray  #: weakly connected component of each node
    main_component: int
    crs: Any
    walk_m_per_min: float
    slope_model: str
    signature: tuple[int, int]
    #: reversed graph with one spare row/column (index n) for a virtual source
    csr_indptr: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    csr_indices: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    csr_data: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    _derived: dict[Hashable, Any] = field(repr=False, default_factory=dict)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @cached_property
    def reverse_csr(self) -> sp.csr_matrix:
        """The reversed graph as an (n, n) CSR matrix of seconds (entry [v, u] for u→v)."""
        n = self.n
        return sp.csr_matrix((self.csr_data, self.csr_indices, self.csr_indptr[: n + 1]), shape=(n, n))

    def with_source(self, cols: np.ndarray, seconds: np.ndarray) -> sp.csr_matrix:
        """The (n+1)-node reversed graph whose extra node ``n`` links to ``cols``.

        Costs one concatenation of the edge arrays, not a rebuild of the matrix.
        """
        order = np.lexsort((seconds, cols))
        cols, seconds = cols[order], seconds[order]
        first = np.r_[True, cols[1:] != cols[:-1]]  # keep the fastest link per node
        cols, seconds = cols[first], seconds[first]
        indptr = self.csr_indptr.copy()
        indptr[-1] += len(cols)
        data = np.concatenate([self.csr_data, np.maximum(seconds, 1e-9)])
        indices = np.concatenate([self.csr_indices, cols.astype(self.csr_indices.dtype)])
        n1 = self.n + 1
        return sp.csr_matrix((data, indices, indptr), shape=(n1, n1), copy=False)

    @cached_property
    def canonical(self) -> np.ndarray:
        """Edges to snap to: one direction of each two-way way, on the main network."""
        idx = np.arange(len(self.edge_u))
        one = (self.edge_rev < 0) | (idx < self.edge_rev)
        main = self.component[self.edge_u] == self.main_component
        return idx[one & main]

    @cached_property
    def access_edges(self) -> np.ndarray:
        """Edges points join the network through: one direction of each enterable way, any component."""
        idx = np.arange(len(self.edge_u))
        return idx[((self.edge_rev < 0) | (idx < self.edge_rev)) & self.edge_enterable]

    @cached_property
    def access_tree(self) -> shapely.STRtree:
        """Spatial index over :attr:`access_edges`."""
        return shapely.STRtree(self.edge_geom[self.access_edges])

    @cached_property
    def fragment_access_edges(self) -> np.ndarray:
        """:attr:`access_edges` off the main network (fragments: campuses, clipped estates)."""
        edges = self.access_edges
        return edges[self.component[self.edge_u[edges]] != self.main_component]

    @cached_property
    def main_access_edges(self) -> np.ndarray:
        """:attr:`access_edges` on the main network."""
        edges = self.access_edges
        return edges[self.component[self.edge_u[edges]] == self.main_component]

    @cached_property
    def main_access_tree(self) -> shapely.STRtree:
        """Spatial index over :attr:`main_access_edges`."""
        return shapely.STRtree(self.edge_geom[self.main_access_edges])

    @cached_property
    def node_tree(self) -> Any:
        """A k-d tree (``scipy.spatial.cKDTree``) over the node coordinates."""
        from scipy.spatial import cKDTree

        return cKDTree(self.xy)

    @cached_property
    def fastest_mps(self) -> float:
        """The highest speed (m/s) on any edge: straight length over walking time.

        No walk is faster, so nothing farther than ``t × fastest_mps`` in a straight line
        can be reached within ``t`` seconds.
        """
        length = shapely.length(self.edge_geom)
        if ((self.edge_s <= 0) & (length > 0)).any():
            return float("inf")  # an edge walked in no time: any distance may be reached
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(self.edge_s > 0, length / self.edge_s, 0.0)
        return float(max(np.nanmax(speed, initial=0.0), 1e-6))

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """A value another stage computes from this network once and keeps with it.

        For example the street faces of the isochrones, or snapped points; ``build`` runs
        on the first call with ``key`` only.
        """
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _pair_loops(rev: np.ndarray, frame: pd.DataFrame, geoms: np.ndarray) -> None:
    """Pair the two directions of a two-way loop way (u→u twice, one geometry reversed)."""
    loops = frame[(frame["a"] == frame["b"])]
    if loops.empty:
        return
    for _, group in loops.groupby(["a", "L"]):
        free = list(group["i"])
        while len(free) > 1:
            i = free.pop(0)
            twin = next((j for j in free if shapely.equals_exact(geoms[i], shapely.reverse(geoms[j]), 1e-9)), None)
            if twin is not None:
                free.remove(twin)
                rev[i], rev[twin] = twin, i


def prepare(graph: nx.MultiDiGraph) -> PreparedNetwork:
    """Return the compressed form of ``graph``, building it on first use only.

    Raises
    ------
    ValidationError
        If the graph has no CRS, a geographic CRS, no nodes, or edges without ``walk_s``.
    """
    cached = _CACHE.get(graph)
    # Only the node count is compared: counting a networkx graph's edges walks every
    # node (0.15 s at 200,000 nodes), which would dominate a repeated query.
    if cached is not None and cached.signature[0] == graph.number_of_nodes():
        return cached
    prepared = _build(graph, (graph.number_of_nodes(), graph.number_of_edges()))
    _CACHE[graph] = prepared
    return prepared


def invalidate(graph: nx.MultiDiGraph) -> None:
    """Forget the compressed form of ``graph`` after changing its edges in place.

    Adding or removing nodes is noticed by itself; changing edges or their ``walk_s``
    without touching the nodes is not, so call this afterwards (
    :func:`dz_gis.network.add_walk_times` does).
    """
    _CACHE.pop(graph, None)


def _build(graph: nx.MultiDiGraph, signature: tuple[int, int]) -> PreparedNetwork:
    crs = _projected_crs(graph)
    n, m = signature
    if n == 0:
        raise ValidationError("graph has no nodes.")
    node_ids, xy = _nodes(graph, n)
    eu, ev, es, steps, enter, geoms = _edges(graph, node_ids, xy, m)
    indptr, indices, data = _reverse_csr(eu, ev, es, n)
    base = sp.csr_matrix((data, indices, indptr[: n + 1]), shape=(n, n))
    _, labels = connected_components(base, directed=True, connection="weak")
    return PreparedNetwork(
        node_ids=node_ids,
        xy=xy,
        edge_u=eu,
        edge_v=ev,
        edge_s=es,
        edge_rev=_reverse_pairs(eu, ev, geoms),
        edge_steps=steps,
        edge_enterable=enter,
        edge_geom=geoms,
        component=labels,
        main_component=int(np.bincount(labels).argmax()),
        crs=crs,
        walk_m_per_min=float(graph.graph.get("walk_m_per_min", 67.0)),
        slope_model=str(graph.graph.get("slope_model", "flat")),
        signature=signature,
        csr_indptr=indptr,
        csr_indices=indices,
        csr_data=data,
    )


def _projected_crs(graph: nx.MultiDiGraph) -> Any:
    crs = graph.graph.get("crs")
    if crs is None:
        raise CRSError('graph has no graph.graph["crs"]; build it with dz_gis.network or project it with osmnx.')
    from pyproj import CRS

    if not CRS.from_user_input(crs).is_projected:
        raise CRSError(
            f"graph is in {CRS.from_user_input(crs).name} (degrees); walking distances need metres. "
            "Project it first, e.g. osmnx.project_graph(graph, to_crs=dz_gis.metric_crs_for(lon, lat))."
        )
    return crs


def _nodes(graph: nx.MultiDiGraph, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Node ids (int64 where they are integers) and their (n, 2) coordinates."""
    node_ids = np.empty(n, dtype=object)
    xy = np.empty((n, 2), dtype=float)
    for i, (node, data) in enumerate(graph.nodes(data=True)):
        node_ids[i] = node
        xy[i, 0] = data["x"]
        xy[i, 1] = data["y"]
    try:
        node_ids = node_ids.astype(np.int64)
    except (TypeError, ValueError, OverflowError):
        pass  # non-integer node ids stay objects
    return node_ids, xy


def _edges(
    graph: nx.MultiDiGraph, node_ids: np.ndarray, xy: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start and end rows, seconds, steps and enterable flags, geometries (straight where none)."""
    index = {node: i for i, node in enumerate(node_ids.tolist())}
    eu = np.empty(m, dtype=np.int64)
    ev = np.empty(m, dtype=np.int64)
    es = np.empty(m, dtype=float)
    steps = np.zeros(m, dtype=bool)
    enter = np.ones(m, dtype=bool)
    tagged: list[tuple[int, dict]] = []  # edges without an enterable flag but with a tag that may forbid it
    geoms = np.empty(m, dtype=object)
    missing = 0
    for i, (u, v, data) in enumerate(graph.edges(data=True)):
        eu[i] = index[u]
        ev[i] = index[v]
        w = data.get("walk_s")
        if w is None:
            missing += 1
            w = np.nan
        es[i] = w
        highway = data.get("highway")
        steps[i] = highway == "steps"
        flag = _flag(data.get("enterable"))
        if flag is not None:
            enter[i] = flag
        elif data.get("bridge") or data.get("tunnel") or data.get("layer") or _indoor(highway):
            tagged.append((i, data))
        geoms[i] = data.get("geometry")
    if missing:
        raise ValidationError(
            f"{missing} graph edges lack 'walk_s' (seconds); call dz_gis.network.add_walk_times(graph) first."
        )
    if (es < 0).any() or not np.isfinite(es).all():
        raise ValidationError("graph edges have negative or non-finite 'walk_s'.")
    no_geom = np.flatnonzero(pd.isna(geoms))
    if len(no_geom):
        coords = np.stack([xy[eu[no_geom]], xy[ev[no_geom]]], axis=1)
        geoms[no_geom] = shapely.linestrings(coords)
    if tagged:  # a graph built elsewhere (OSMnx, a survey): decide from its tags
        from .ways import enterable

        tags = ["highway", "bridge", "tunnel", "layer"]
        frame = pd.DataFrame([{t: d.get(t) for t in tags} for _, d in tagged], columns=tags)
        enter[np.array([i for i, _ in tagged])] = enterable(frame)
    return eu, ev, es, steps, enter, geoms


def _flag(value: Any) -> bool | None:
    """An ``enterable`` flag as a bool; None when absent or unreadable (then the tags decide).

    GraphML and CSV round trips give text ("False"), which Python would take as true.
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    return {"true": True, "1": True, "false": False, "0": False}.get(text) if text is not None else None


def _indoor(highway: Any) -> bool:
    values = highway if isinstance(highway, list) else [highway]
    return any(v in ("corridor", "elevator") for v in values)


def _reverse_pairs(eu: np.ndarray, ev: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Index of each edge's reverse: the v→u edge of the same way (same length), one-to-one; -1 if none."""
    m = len(eu)
    length = np.round(shapely.length(geoms), 3)
    frame = pd.DataFrame({"i": np.arange(m), "a": eu, "b": ev, "L": length})
    frame["k"] = frame.groupby(["a", "b", "L"]).cumcount()
    pairs = frame.merge(frame, left_on=["a", "b", "L", "k"], right_on=["b", "a", "L", "k"], suffixes=("", "_r"))
    rev = np.full(m, -1, dtype=np.int64)
    rev[pairs["i"].to_numpy()] = pairs["i_r"].to_numpy()
    rev[rev == np.arange(m)] = -1  # a self-loop is not its own reverse ...
    _pair_loops(rev, frame, geoms)  # ... but a two-way loop way is two loops, one reversed
    return rev


def _reverse_csr(eu: np.ndarray, ev: np.ndarray, es: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of the reversed graph (v → u) plus an empty row n for virtual sources."""
    order = np.lexsort((es, eu, ev))
    r, c, d = ev[order], eu[order], es[order]
    keep = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])]  # parallel edges: keep the fastest
    r, c, d = r[keep], c[keep], np.maximum(d[keep], 1e-9)
    counts = np.bincount(r, minlength=n + 1)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return indptr, c.astype(np.int32), d
