"""A walking network in compressed form: NumPy arrays and a CSR matrix, reused by every query.

:func:`prepare` turns any graph in the OSMnx convention (node ``x``/``y`` in a projected
CRS named by ``graph.graph["crs"]``, edge ``walk_s`` seconds) into a
:class:`PreparedNetwork`. It reads the networkx graph once, attribute by attribute
(:mod:`dz_gis.network.from_graph`), and never copies it: a 1,000,000-node networkx graph
already holds several GB. The result is cached per graph object and rebuilt when the
graph's node count changes; after changing edges in place, call :func:`invalidate`.

A :class:`PreparedNetwork` is also a network in its own right: every access function
takes it where it takes a graph (``prepare`` returns it as it is), so a big area can go
from an OSM file to walking times without a networkx graph at all
(:func:`dz_gis.network.walk_network_from_file`, :func:`network_from_arrays`);
:meth:`PreparedNetwork.to_networkx` builds the graph when one is wanted.

Edges without a geometry of their own are straight between their nodes; their
LineStrings are made only when something asks for them (:meth:`PreparedNetwork.geoms`),
and only for the edges asked about.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeAlias, TypeVar

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from .._errors import CRSError, ValidationError
from .._gc import gc_paused
from .from_graph import arrays_from_graph, graph_from_arrays
from .segments import SegmentIndex, segment_index

__all__ = ["Network", "PreparedNetwork", "invalidate", "network_from_arrays", "prepare"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(eq=False)
class PreparedNetwork:
    """Arrays describing a walking network; build it with :func:`prepare` or :func:`network_from_arrays`."""

    node_ids: np.ndarray  #: graph node id of each matrix row
    xy: np.ndarray  #: (n, 2) node coordinates in the graph CRS
    edge_u: np.ndarray  #: matrix row of each directed edge's start
    edge_v: np.ndarray  #: ... and end
    edge_s: np.ndarray  #: walk seconds of each directed edge
    edge_rev: np.ndarray  #: index of the reverse edge (same way, other direction) or -1
    edge_steps: np.ndarray  #: True for steps (partial times stay proportional)
    edge_enterable: np.ndarray  #: True where a point beside the edge may join it (:mod:`dz_gis.network.ways`)
    #: each edge's own LineString (references, not copies), None where it is straight between
    #: its nodes; None altogether when every edge is straight
    given_geom: np.ndarray | None
    edge_length: np.ndarray  #: length (m) of each directed edge's geometry
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
    #: other graph attributes kept for :meth:`to_networkx` (source, dem, steps_factor ...)
    attrs: dict[str, Any] = field(repr=False, default_factory=dict)
    _derived: dict[Hashable, Any] = field(repr=False, default_factory=dict)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def graph(self) -> dict[str, Any]:
        """The graph attributes, as ``graph.graph`` of a networkx graph: ``crs``, ``walk_m_per_min`` ..."""
        return {
            **self.attrs,
            "crs": self.crs,
            "walk_m_per_min": self.walk_m_per_min,
            "slope_model": self.slope_model,
        }

    def number_of_nodes(self) -> int:
        """Number of nodes (as networkx names it)."""
        return self.n

    def number_of_edges(self) -> int:
        """Number of directed edges (as networkx names it)."""
        return len(self.edge_u)

    def to_networkx(self) -> nx.MultiDiGraph:
        """The network as a networkx ``MultiDiGraph`` in the OSMnx convention.

        Nodes get ``x``/``y``; edges ``length``, ``walk_s``, ``enterable``, ``geometry``
        (straight ones included) and ``highway="steps"`` on steps. ``prepare`` of the result
        gives the same walking times as this network.
        """
        return graph_from_arrays(self)

    @cached_property
    def edge_geom(self) -> np.ndarray:
        """LineString of every directed edge (straight ones made on first use, all at once)."""
        return self.geoms(np.arange(len(self.edge_u)))

    def geoms(self, edges: np.ndarray) -> np.ndarray:
        """LineStrings of ``edges`` (indices); straight ones made for these edges only."""
        edges = np.asarray(edges, dtype=np.int64)
        if "edge_geom" in self.__dict__:
            return self.__dict__["edge_geom"][edges]
        out = np.empty(len(edges), dtype=object) if self.given_geom is None else self.given_geom[edges]
        straight = np.flatnonzero(shapely.is_missing(out))
        if len(straight):
            with gc_paused():
                for lo in range(0, len(straight), 1 << 18):  # in chunks: small coordinate copies
                    part = straight[lo : lo + (1 << 18)]
                    e = edges[part]
                    out[part] = shapely.linestrings(
                        np.stack([self.xy[self.edge_u[e]], self.xy[self.edge_v[e]]], axis=1)
                    )
        return out

    @cached_property
    def reverse_csr(self) -> sp.csr_matrix:
        """The reversed graph as an (n, n) CSR matrix of seconds (entry [v, u] for u→v)."""
        n = self.n
        return sp.csr_matrix((self.csr_data, self.csr_indices, self.csr_indptr[: n + 1]), shape=(n, n))

    def with_source(self, cols: np.ndarray, seconds: np.ndarray) -> sp.csr_matrix:
        """The (n+1)-node reversed graph whose extra node ``n`` links to ``cols``.

        Its arrays are this thread's own copy of the graph's, made on the first call: each
        call writes only the extra node's links at their end, so nothing the size of the
        graph is copied per call. The matrix is valid until this thread's next call.
        """
        order = np.lexsort((seconds, cols))
        cols, seconds = cols[order], seconds[order]
        first = np.r_[True, cols[1:] != cols[:-1]]  # keep the fastest link per node
        cols, seconds = cols[first], seconds[first]
        data, indices, indptr = _source_scratch(self, len(cols))
        nnz, end = len(self.csr_data), len(self.csr_data) + len(cols)
        data[nnz:end] = np.maximum(seconds, 1e-9)
        indices[nnz:end] = cols
        indptr[-1] = end
        n1 = self.n + 1
        return sp.csr_matrix((data[:end], indices[:end], indptr), shape=(n1, n1), copy=False)

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
    def access_index(self) -> SegmentIndex:
        """Spatial index over :attr:`access_edges` (arrays; its lines are numbered like them)."""
        edges = self.access_edges
        lines = None if self.given_geom is None else self.given_geom[edges]
        return segment_index(self.xy, self.edge_u[edges], self.edge_v[edges], lines)

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
        length = self.edge_length
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


#: Per network, per thread: the reversed graph's arrays with room for a virtual source's links.
_SCRATCH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SCRATCH_LOCK = threading.Lock()


def _source_scratch(net: PreparedNetwork, links: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The calling thread's copy of ``net``'s reversed-graph arrays, with room for ``links`` more entries."""
    with _SCRATCH_LOCK:
        local = _SCRATCH.setdefault(net, threading.local())
    have = getattr(local, "arrays", None)
    nnz = len(net.csr_data)
    if have is None or len(have[0]) < nnz + links:
        room = nnz + max(2 * links, 4096)
        data = np.empty(room, dtype=net.csr_data.dtype)
        indices = np.empty(room, dtype=net.csr_indices.dtype)
        data[:nnz], indices[:nnz] = net.csr_data, net.csr_indices
        local.arrays = have = (data, indices, net.csr_indptr.copy())
    return have


#: What the access functions take: a networkx graph in the OSMnx convention, or its prepared form.
Network: TypeAlias = nx.MultiDiGraph | PreparedNetwork

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def prepare(graph: Network) -> PreparedNetwork:
    """Return the compressed form of ``graph``, building it on first use only.

    A :class:`PreparedNetwork` is returned as it is.

    Raises
    ------
    ValidationError
        If the graph has no CRS, a geographic CRS, no nodes, or edges without ``walk_s``.
    """
    if isinstance(graph, PreparedNetwork):
        return graph
    cached = _CACHE.get(graph)
    # Only the node count is compared: counting a networkx graph's edges walks every
    # node (0.15 s at 200,000 nodes), which would dominate a repeated query.
    if cached is not None and cached.signature[0] == graph.number_of_nodes():
        return cached
    with gc_paused():  # millions of small objects read with a big graph alive: no full collections
        prepared = _build(graph)
    _CACHE[graph] = prepared
    return prepared


def invalidate(graph: Network) -> None:
    """Forget the compressed form of ``graph`` after changing its edges in place.

    Adding or removing nodes is noticed by itself; changing edges or their ``walk_s``
    without touching the nodes is not, so call this afterwards (
    :func:`dz_gis.network.add_walk_times` does). A :class:`PreparedNetwork` has nothing to forget.
    """
    if not isinstance(graph, PreparedNetwork):
        _CACHE.pop(graph, None)


def _build(graph: nx.MultiDiGraph) -> PreparedNetwork:
    crs = graph.graph.get("crs")
    if graph.number_of_nodes() == 0:
        raise ValidationError("graph has no nodes.")
    a = arrays_from_graph(graph)
    attrs = {k: v for k, v in graph.graph.items() if k not in ("crs", "walk_m_per_min", "slope_model")}
    return network_from_arrays(
        a.node_ids,
        a.xy,
        a.u,
        a.v,
        a.walk_s,
        crs=crs,
        walk_m_per_min=float(graph.graph.get("walk_m_per_min", 67.0)),
        slope_model=str(graph.graph.get("slope_model", "flat")),
        steps=a.steps,
        enterable=a.enterable,
        geometry=a.geometry,
        attrs=attrs,
    )


def network_from_arrays(
    node_ids: np.ndarray,
    xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    walk_s: np.ndarray,
    *,
    crs: Any,
    walk_m_per_min: float = 67.0,
    slope_model: str = "flat",
    steps: np.ndarray | None = None,
    enterable: np.ndarray | None = None,
    geometry: np.ndarray | None = None,
    reverse: np.ndarray | None = None,
    attrs: dict[str, Any] | None = None,
) -> PreparedNetwork:
    """A :class:`PreparedNetwork` from arrays: nodes, and directed edges as rows ``u`` → ``v``.

    Parameters
    ----------
    node_ids, xy
        Node ids and (n, 2) coordinates in the projected ``crs``.
    u, v, walk_s
        Each directed edge's start and end (rows of ``xy``) and walking seconds; a two-way
        way is two edges.
    steps, enterable
        Per edge (default: no steps, all enterable).
    geometry
        Per edge LineString (reversed for the reverse direction), None where the edge is
        straight between its nodes; None altogether when all are.
    reverse
        Per edge, the index of the same way's other direction (-1: none), when the caller
        knows it; found from the ends and lengths otherwise.

    Raises
    ------
    ValidationError
        If the CRS is missing or geographic, there are no nodes, or times are missing,
        negative or not finite.
    """
    crs = _projected_crs(crs)
    n, m = len(node_ids), len(u)
    if n == 0:
        raise ValidationError("graph has no nodes.")
    eu, ev = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    es = np.asarray(walk_s, dtype=float)
    xy = np.asarray(xy, dtype=float)
    if xy.shape != (n, 2) or len(ev) != m or len(es) != m:
        raise ValidationError(
            f"network arrays do not match: {n} node ids, xy of shape {xy.shape} (want ({n}, 2)), "
            f"{m} edge starts, {len(ev)} ends, {len(es)} times."
        )
    if m and (min(eu.min(), ev.min()) < 0 or max(eu.max(), ev.max()) >= n):
        raise ValidationError(f"edge ends must be node rows 0..{n - 1}; some are outside.")
    if np.isnan(es).any():
        raise ValidationError(
            f"{int(np.isnan(es).sum())} graph edges lack 'walk_s' (seconds); "
            "call dz_gis.network.add_walk_times(graph) first."
        )
    if (es < 0).any() or not np.isfinite(es).all():
        raise ValidationError("graph edges have negative or non-finite 'walk_s'.")
    length = np.hypot(xy[ev, 0] - xy[eu, 0], xy[ev, 1] - xy[eu, 1])
    if geometry is not None:
        has = np.flatnonzero(~shapely.is_missing(geometry))
        length[has] = shapely.length(geometry[has])
        if len(has) == 0:
            geometry = None
    indptr, indices, data = _reverse_csr(eu, ev, es, n)
    base = sp.csr_matrix((data, indices, indptr[: n + 1]), shape=(n, n))
    _, labels = connected_components(base, directed=True, connection="weak")
    return PreparedNetwork(
        node_ids=node_ids,
        xy=xy,
        edge_u=eu,
        edge_v=ev,
        edge_s=es,
        edge_rev=_reverse_pairs(eu, ev, length, geometry, xy) if reverse is None else np.asarray(reverse, np.int64),
        edge_steps=np.zeros(m, dtype=bool) if steps is None else np.asarray(steps, dtype=bool),
        edge_enterable=np.ones(m, dtype=bool) if enterable is None else np.asarray(enterable, dtype=bool),
        given_geom=geometry,
        edge_length=length,
        component=labels,
        main_component=int(np.bincount(labels).argmax()),
        crs=crs,
        walk_m_per_min=float(walk_m_per_min),
        slope_model=str(slope_model),
        signature=(n, m),
        csr_indptr=indptr,
        csr_indices=indices,
        csr_data=data,
        attrs=dict(attrs or {}),
    )


def _projected_crs(crs: Any) -> Any:
    if crs is None:
        raise CRSError('graph has no graph.graph["crs"]; build it with dz_gis.network or project it with osmnx.')
    from pyproj import CRS

    if not CRS.from_user_input(crs).is_projected:
        raise CRSError(
            f"graph is in {CRS.from_user_input(crs).name} (degrees); walking distances need metres. "
            "Project it first, e.g. osmnx.project_graph(graph, to_crs=dz_gis.metric_crs_for(lon, lat))."
        )
    return crs


def _reverse_pairs(
    eu: np.ndarray, ev: np.ndarray, length: np.ndarray, geoms: np.ndarray | None, xy: np.ndarray
) -> np.ndarray:
    """Index of each edge's reverse: the v→u edge of the same way (same length), one-to-one; -1 if none.

    Edges are grouped by their unordered ends and length (to the mm); within a group the
    k-th u<v edge pairs with the k-th u>v edge, in edge order. One sort, no table join.
    """
    m = len(eu)
    rev = np.full(m, -1, dtype=np.int64)
    length = np.round(length, 3)
    idx = np.flatnonzero(eu != ev)  # a self-loop is not its own reverse (loops: below)
    a, b = eu[idx], ev[idx]
    pair = np.minimum(a, b) * np.int64(len(xy)) + np.maximum(a, b)  # the unordered ends as one number
    back = (a > b).astype(np.int8)
    L = length[idx]
    order = np.lexsort((back, L, pair))  # stable: edge order within ties
    pair, L, back, idx = pair[order], L[order], back[order], idx[order]
    new_group = np.r_[True, (pair[1:] != pair[:-1]) | (L[1:] != L[:-1])]
    group = np.cumsum(new_group) - 1
    new_run = new_group | np.r_[True, back[1:] != back[:-1]]
    starts = np.flatnonzero(new_run)
    k = np.arange(len(idx)) - np.repeat(starts, np.diff(np.r_[starts, len(idx)]))  # rank within (group, direction)
    key = group * (int(k.max(initial=0)) + 1) + k
    fwd, bwd = back == 0, back == 1
    _, i_f, i_b = np.intersect1d(key[fwd], key[bwd], assume_unique=True, return_indices=True)
    a, b = idx[fwd][i_f], idx[bwd][i_b]
    rev[a], rev[b] = b, a
    _pair_loops(rev, eu, length, geoms, xy, ev)  # ... but a two-way loop way is two loops, one reversed
    return rev


def _pair_loops(
    rev: np.ndarray, eu: np.ndarray, length: np.ndarray, geoms: np.ndarray | None, xy: np.ndarray, ev: np.ndarray
) -> None:
    """Pair the two directions of a two-way loop way (u→u twice, one geometry reversed)."""
    loops = np.flatnonzero(eu == ev)
    if len(loops) < 2:
        return
    shape = np.empty(len(loops), dtype=object) if geoms is None else geoms[loops]
    straight = shapely.is_missing(shape)
    if straight.any():
        shape[straight] = shapely.linestrings(np.stack([xy[eu[loops[straight]]], xy[ev[loops[straight]]]], axis=1))
    geom = dict(zip(loops.tolist(), shape, strict=True))
    frame = pd.DataFrame({"i": loops, "a": eu[loops], "L": length[loops]})
    for _, group in frame.groupby(["a", "L"]):
        free = list(group["i"])
        while len(free) > 1:
            i = free.pop(0)
            twin = next((j for j in free if shapely.equals_exact(geom[i], shapely.reverse(geom[j]), 1e-9)), None)
            if twin is not None:
                free.remove(twin)
                rev[i], rev[twin] = twin, i


def _reverse_csr(eu: np.ndarray, ev: np.ndarray, es: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays of the reversed graph (v → u) plus an empty row n for virtual sources.

    Parallel edges keep the fastest: one sort on the (v, u) key, a minimum per run.
    """
    key = ev * np.int64(n) + eu
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    d = es[order]
    if len(start) < len(key):
        d = np.minimum.reduceat(d, start)
    key = key[start]
    r, c = key // n, key % n
    d = np.maximum(d, 1e-9)
    counts = np.bincount(r, minlength=n + 1)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return indptr, c.astype(np.int32), d
