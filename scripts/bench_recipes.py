"""The obvious alternatives the engine is measured against, and the bench's timing and memory tools.

(a) the OSMnx notebook recipe (``networkx.ego_graph`` per facility), (b) networkx
multi-source Dijkstra, (c) bare ``scipy.sparse.csgraph.dijkstra``, the notebook's
isochrones (ego_graph + buffered edges and nodes + union), the reach + convex hull recipe,
and the plain exact build of our polygons (every reached stretch buffered) that checks
them. Used by ``bench_engine.py``.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.ops import substring

MINUTES = (5, 10, 15)
CUTOFF_S = 15 * 60.0
RECIPE_BUFFER_M = 25.0  #: notebook recipe: buffer of reached edges and nodes
TOL_S = 1e-6


# ---------------------------------------------------------------------- memory


def _status_kb(field_name: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    """Current resident set size (Linux), in MB."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024.0


def maxrss_mb() -> float:
    """``ru_maxrss`` of this process, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class PeakTracker:
    """Per-phase peak RSS; keeps the process peak across high-water-mark resets."""

    def __init__(self) -> None:
        self.process_peak = maxrss_mb()
        self.can_reset = self._reset()

    def _reset(self) -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            return True
        except OSError:
            return False

    def run(self, fn: Callable[[], Any]) -> tuple[Any, float | None]:
        """Run ``fn``; return its result and its peak RSS above the RSS before it (MB)."""
        gc.collect()
        before = rss_mb()
        self.process_peak = max(self.process_peak, maxrss_mb())
        reset = self.can_reset and self._reset()
        result = fn()
        peak = maxrss_mb()
        self.process_peak = max(self.process_peak, peak)
        if not reset or before is None:
            return result, None
        return result, peak - before


# ---------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call, and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall-clock seconds over ``repeats`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t, out = timed(fn)
        times.append(t)
    return statistics.median(times), out


def load_average() -> float | None:
    """1-minute load average (None where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def progress(size: str, msg: str) -> None:
    """A progress line on stderr (the tables go to stdout)."""
    print(f"  [{size} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- nodes


def node_table(graph: nx.MultiDiGraph) -> tuple[np.ndarray, np.ndarray]:
    """Node ids and coordinates, in the graph's iteration order."""
    ids, xy = [], []
    for node, data in graph.nodes(data=True):
        ids.append(node)
        xy.append((data["x"], data["y"]))
    return np.asarray(ids), np.asarray(xy, dtype=float)


def nearest_nodes(graph: nx.MultiDiGraph, facilities: gpd.GeoDataFrame) -> np.ndarray:
    """Nearest graph node of each facility (what ``osmnx.nearest_nodes`` gives)."""
    ids, xy = node_table(graph)
    pts = shapely.get_coordinates(facilities.to_crs(graph.graph["crs"]).geometry.array)
    _, idx = cKDTree(xy).query(pts)
    return ids[idx]


# ---------------------------------------------------------------------- methods


def ego_recipe(
    graph: nx.MultiDiGraph, nodes: np.ndarray, cats: np.ndarray, bands_s: tuple[float, ...]
) -> dict[str, dict[Any, float]]:
    """OSMnx notebook recipe: ``ego_graph`` per facility and band; smallest band per node.

    With one band (900 s) this is the reached set per category, the cheapest use of it.
    """
    best: dict[str, dict[Any, float]] = {}
    for node, cat in zip(nodes.tolist(), cats.tolist(), strict=True):
        d = best.setdefault(cat, {})
        for band in sorted(bands_s, reverse=True):  # as the notebook: largest band first
            sub = nx.ego_graph(graph, node, radius=band, distance="walk_s")
            for v in sub:
                if d.get(v, np.inf) > band:
                    d[v] = band
    return best


def networkx_multisource(graph: nx.MultiDiGraph, sources: dict[str, np.ndarray]) -> dict[str, dict]:
    """networkx multi-source Dijkstra per category on the reversed graph (a view, no copy)."""
    rev = graph.reverse(copy=False)
    return {
        cat: nx.multi_source_dijkstra_path_length(rev, set(src.tolist()), cutoff=CUTOFF_S, weight="walk_s")
        for cat, src in sources.items()
    }


def csgraph_floor(csr, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Bare scipy Dijkstra per category, all sources at once (``min_only``)."""
    return {cat: dijkstra(csr, directed=True, indices=r, min_only=True, limit=CUTOFF_S) for cat, r in rows.items()}


def recipe_polygon(graph: nx.MultiDiGraph, node: Any, band_s: float) -> shapely.Geometry:
    """Notebook isochrone: ego_graph, buffer its edges and nodes by 25 m, union.

    Generous to the recipe: vectorised shapely, and each two-way street buffered once
    (the notebook buffers both directions and looks nodes up one by one).
    """
    sub = nx.ego_graph(graph, node, radius=band_s, distance="walk_s")
    pts = shapely.points([(d["x"], d["y"]) for _, d in sub.nodes(data=True)])
    seen, lines = set(), []
    for u, v, d in sub.edges(data=True):
        key = (u, v) if u <= v else (v, u)
        if key in seen:
            continue
        seen.add(key)
        geom = d.get("geometry")
        if geom is None:
            geom = shapely.LineString([(sub.nodes[u]["x"], sub.nodes[u]["y"]), (sub.nodes[v]["x"], sub.nodes[v]["y"])])
        lines.append(geom)
    geoms = np.concatenate([pts, np.asarray(lines, dtype=object)])
    return shapely.union_all(shapely.buffer(geoms, RECIPE_BUFFER_M))


def recipe_isochrones(graph: nx.MultiDiGraph, nodes: np.ndarray) -> list[shapely.Geometry]:
    """The notebook isochrones, one polygon per facility and band."""
    return [recipe_polygon(graph, node, m * 60.0) for node in nodes.tolist() for m in MINUTES]


def hull_isochrones(net, nodes: np.ndarray, batch: int = 64) -> list[shapely.Geometry]:
    """Reach + convex hull: one bounded scipy search per facility, hull of the reached nodes per band.

    The cheapest polygon there is (it claims land across rivers and rail lines): the
    yardstick for the cost of exact polygons.
    """
    out = []
    for start in range(0, len(nodes), batch):
        dist = dijkstra(net.reverse_csr, directed=True, indices=nodes[start : start + batch], limit=CUTOFF_S)
        for row in dist:
            out += [shapely.convex_hull(shapely.multipoints(net.xy[row <= m * 60.0])) for m in MINUTES]
    return out


def exact_isochrones(net, joins: pd.DataFrame, offset_m: float, quad_segs: int) -> list[shapely.Geometry]:
    """The plain exact build of one facility's polygons: every reached stretch of street, buffered.

    ``joins`` are the facility's streets (``snap`` attachments: edge, u, v, pos_m, from_u_s,
    from_v_s, snap_m). Its own search: Dijkstra on the reversed graph from a virtual node
    linked to the ends of those streets. Each directed edge u->v is reached from the
    position where walking on to v and from v to the facility fits the band; the facility's
    own streets also straight along to it. Flat walking times only (seconds in proportion
    to length along an edge). Slow: one substring per reached edge and one big buffer.
    """
    assert net.slope_model == "flat", "the exact build assumes flat walking times"
    n, speed = net.n, net.walk_m_per_min / 60.0
    off = joins["snap_m"].to_numpy() / speed
    cols = np.r_[joins["u"].to_numpy(), joins["v"].to_numpy()]
    secs = np.r_[joins["from_u_s"].to_numpy() + off, joins["from_v_s"].to_numpy() + off]
    ok = np.isfinite(secs)
    first = np.full(n, np.inf)
    np.minimum.at(first, cols[ok], secs[ok])  # scipy would sum duplicate entries: keep the fastest link
    hit = np.flatnonzero(np.isfinite(first))
    extra = sp.csr_matrix((np.maximum(first[hit], 1e-9), (np.zeros(len(hit), dtype=np.int64), hit)), shape=(1, n))
    graph = sp.vstack([sp.hstack([net.reverse_csr, sp.csr_matrix((n, 1))]), sp.hstack([extra, sp.csr_matrix((1, 1))])])
    t = dijkstra(graph.tocsr(), directed=True, indices=n, limit=CUTOFF_S)[:n]
    geom = net.edge_geom
    length = shapely.length(geom)
    edges = np.flatnonzero(net.edge_enterable & np.isfinite(t[net.edge_v]))
    out = []
    for m in MINUTES:
        band = m * 60.0
        left = band - t[net.edge_v[edges]]
        step = net.edge_s[edges]
        with np.errstate(divide="ignore", invalid="ignore"):
            start = np.where(step > 0, length[edges] * np.maximum(0.0, 1.0 - left / step), 0.0)
        on = left >= 0
        whole = on & (start <= 0)  # most reached edges are reached from end to end
        lines = list(geom[edges[whole]])
        lines += [substring(geom[e], a, length[e]) for e, a in zip(edges[on & ~whole], start[on & ~whole], strict=True)]
        for e, pos, o in zip(joins["edge"], joins["pos_m"], off, strict=True):
            if o > band or not net.edge_enterable[e]:
                continue
            lo = pos - (band - o) / net.edge_s[e] * length[e] if net.edge_s[e] > 0 else 0.0
            rev = net.edge_rev[e]
            hi = pos + (band - o) / net.edge_s[rev] * length[e] if rev >= 0 and net.edge_s[rev] > 0 else pos
            lines.append(substring(geom[e], max(lo, 0.0), min(hi, length[e])))
        lines = [g for g in lines if g.length > 0]
        out.append(shapely.buffer(shapely.multilinestrings(lines), offset_m, quad_segs=quad_segs))
    return out


# ---------------------------------------------------------------------- comparing


def dict_to_array(times: dict, index: pd.Index) -> np.ndarray:
    """networkx {node: seconds} as an array over ``index`` (inf where absent)."""
    s = pd.Series(times, dtype=float)
    return s.reindex(index).fillna(np.inf).to_numpy()


def compare(a: np.ndarray, b: np.ndarray, limit: float = CUTOFF_S) -> tuple[float, int, int]:
    """Max |a - b| where both finite, nodes finite in one only (away from the limit), compared."""
    fa, fb = np.isfinite(a), np.isfinite(b)
    both = fa & fb
    diff = float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0
    one = fa ^ fb
    val = np.where(fa, a, b)
    real = int((one & (val < limit - TOL_S)).sum())
    return diff, real, int(both.sum())


def verdict(ok: bool) -> str:
    """PASS/FAIL."""
    return "PASS" if ok else "FAIL"
