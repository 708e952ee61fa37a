"""Between networkx graphs and arrays: read a walking graph attribute by attribute, or build one.

Reading is the first call's cost on a networkx graph, so it is done as networkx's own
``to_scipy_sparse_array`` does it - one pass over the edges - and then each attribute
is pulled out of the edge dicts by ``map(dict.get, ...)``, which runs in C: no Python
code per edge. (Hand-written because no library reads several edge attributes of a
networkx graph into NumPy arrays at once; ``nx.to_pandas_edgelist`` builds a dict per
edge and is several times slower.)
"""

from __future__ import annotations

import operator
from itertools import repeat
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
import pandas as pd

from .._errors import ValidationError

__all__ = ["GraphArrays", "arrays_from_graph", "graph_from_arrays"]

_INDOOR = frozenset(("corridor", "elevator"))


class GraphArrays(NamedTuple):
    """A networkx walking graph as arrays (:func:`arrays_from_graph`)."""

    node_ids: np.ndarray  #: int64 where the ids are integers, else objects
    xy: np.ndarray
    u: np.ndarray  #: row of each edge's start
    v: np.ndarray
    walk_s: np.ndarray  #: NaN where missing
    steps: np.ndarray
    enterable: np.ndarray
    geometry: np.ndarray | None  #: None entries where the edge has none (None: no edge has one)


def arrays_from_graph(graph: nx.MultiDiGraph) -> GraphArrays:
    """Nodes and edges of ``graph`` as arrays, in networkx's iteration order.

    Raises
    ------
    ValidationError
        If nodes lack ``x``/``y`` or edges lack ``walk_s``.
    """
    nodes = dict(graph.nodes(data=True))
    ids, ndata = tuple(nodes), list(nodes.values())
    del nodes
    n = len(ids)
    try:
        xy = np.column_stack(
            [np.fromiter(map(operator.itemgetter(k), ndata), dtype=float, count=n) for k in ("x", "y")]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            f"graph nodes need numeric 'x' and 'y' in graph.graph['crs'] ({exc!r}); build the graph with "
            "dz_gis.network or osmnx."
        ) from None
    node_ids = _node_ids(ids)
    starts, vs, data = _out_edges(graph)
    m = len(data)
    u = np.repeat(np.arange(n, dtype=np.int64), np.diff(np.r_[0, starts]))
    v = _rows(node_ids, vs, n)

    def attr(name: str) -> list[Any]:
        return list(map(dict.get, data, repeat(name, m)))

    raw = attr("walk_s")
    missing = raw.count(None)
    if missing:
        raise ValidationError(
            f"{missing} graph edges lack 'walk_s' (seconds); call dz_gis.network.add_walk_times(graph) first."
        )
    try:
        walk_s = np.array(raw, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError("graph edges have non-numeric 'walk_s'.") from None
    highway = attr("highway")
    steps = np.zeros(m, dtype=bool)
    if "steps" in highway:
        steps = np.fromiter(map(operator.eq, highway, repeat("steps", m)), dtype=bool, count=m)
    enter = _enterable(data, highway, attr("enterable"))
    geoms = attr("geometry")
    geometry = None
    if geoms.count(None) < m:
        geometry = np.empty(m, dtype=object)
        geometry[:] = geoms
        geometry[pd.isna(geometry)] = None
    return GraphArrays(node_ids, xy, u, v, walk_s, steps, enter, geometry)


def _out_edges(graph: nx.MultiDiGraph) -> tuple[list[int], list[Any], list[dict]]:
    """One pass over the adjacency: edge count so far after each node, each edge's end and data.

    The nodes come in the order of ``graph.nodes`` (networkx keeps both in insertion order).
    """
    ends: list[int] = []
    vs: list[Any] = []
    data: list[dict] = []
    end, add_v, add_d = ends.append, vs.append, data.append
    if not graph.is_multigraph():  # a DiGraph: one data dict per neighbour
        for _, nbrs in graph.adjacency():
            vs.extend(nbrs)
            data.extend(nbrs.values())
            end(len(data))
        return ends, vs, data
    for _, nbrs in graph.adjacency():
        for v, keyed in nbrs.items():
            for d in keyed.values():
                add_v(v)
                add_d(d)
        end(len(data))
    return ends, vs, data


def _node_ids(ids: tuple) -> np.ndarray:
    """Node ids as int64 where they all are integers, else as objects."""
    try:
        as_int = np.array(ids)
    except (ValueError, OverflowError):
        as_int = None
    if as_int is not None and as_int.dtype.kind in "iu" and as_int.ndim == 1:
        return as_int.astype(np.int64)
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out


def _rows(node_ids: np.ndarray, nodes: list, n: int) -> np.ndarray:
    """Row of each of ``nodes`` in ``node_ids``."""
    if node_ids.dtype == np.int64:
        return pd.Index(node_ids).get_indexer(np.array(nodes, dtype=np.int64)).astype(np.int64)
    index = dict(zip(node_ids.tolist(), range(n), strict=True))
    return np.fromiter(map(index.__getitem__, nodes), dtype=np.int64, count=len(nodes))


def _enterable(data: list[dict], highway: list, flags: list) -> np.ndarray:
    """Each edge's ``enterable`` flag; where absent, decided from its tags (:func:`dz_gis.network.ways.enterable`)."""
    m = len(flags)
    if flags.count(None) == m:  # a graph built elsewhere (OSMnx, a survey): the tags decide
        enter, free, sub, hw = np.ones(m, dtype=bool), np.arange(m), data, highway
    elif set(map(type, flags)) <= {bool, np.bool_}:  # as dz_gis.network builds graphs
        return np.fromiter(map(bool, flags), dtype=bool, count=m)
    else:  # some flags, maybe text from GraphML/CSV round trips: one by one
        parsed = [flag(f) for f in flags]
        free = np.flatnonzero([f is None for f in parsed])
        enter = np.array([True if f is None else f for f in parsed], dtype=bool)
        sub, hw = [data[i] for i in free.tolist()], [highway[i] for i in free.tolist()]
    tagged = np.zeros(len(free), dtype=bool)
    for key in ("bridge", "tunnel", "layer"):
        if any(map(dict.get, sub, repeat(key))):
            tagged |= np.fromiter(map(bool, map(dict.get, sub, repeat(key))), dtype=bool, count=len(sub))
    try:
        indoor = not _INDOOR.isdisjoint(hw)
        check = _INDOOR.__contains__
    except TypeError:  # lists of highway values (simplified OSMnx graphs)
        indoor, check = True, _indoor
    if indoor:
        tagged |= np.fromiter(map(check, hw), dtype=bool, count=len(hw))
    if tagged.any():
        from .ways import enterable

        tags = ["highway", "bridge", "tunnel", "layer"]
        rows = free[tagged].tolist()
        frame = pd.DataFrame([{t: data[i].get(t) for t in tags} for i in rows], columns=tags)
        enter[rows] = enterable(frame)
    return enter


def flag(value: Any) -> bool | None:
    """An ``enterable`` flag as a bool; None when absent or unreadable (then the tags decide).

    GraphML and CSV round trips give text ("False"), which Python would take as true.
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    return {"true": True, "1": True, "false": False, "0": False}.get(text) if text is not None else None


def _indoor(highway: Any) -> bool:
    values = highway if isinstance(highway, list) else [highway]
    return any(v in _INDOOR for v in values)


def graph_from_arrays(net: Any) -> nx.MultiDiGraph:
    """A networkx ``MultiDiGraph`` of a :class:`dz_gis.network.PreparedNetwork` (its ``to_networkx``)."""
    graph = nx.MultiDiGraph(**net.graph)
    ids = net.node_ids.tolist()
    graph.add_nodes_from(
        (i, {"x": x, "y": y}) for i, x, y in zip(ids, net.xy[:, 0].tolist(), net.xy[:, 1].tolist(), strict=True)
    )
    geoms = net.edge_geom
    attrs = zip(
        net.edge_length.tolist(),
        net.edge_s.tolist(),
        net.edge_enterable.tolist(),
        net.edge_steps.tolist(),
        geoms,
        strict=True,
    )
    graph.add_edges_from(
        (
            ids[a],
            ids[b],
            {"length": L, "walk_s": s, "enterable": e, "geometry": g, **({"highway": "steps"} if st else {})},
        )
        for a, b, (L, s, e, st, g) in zip(net.edge_u.tolist(), net.edge_v.tolist(), attrs, strict=True)
    )
    return graph
