"""Benchmark the walking-time and isochrone engine against the usual recipes.

Run from the repository root::

    python scripts/bench_engine.py                      # sample, 50000, 200000 nodes
    python scripts/bench_engine.py --sizes 1000000      # ~10 min; graph ~4 GB, peak RSS ~11 GB
    python scripts/bench_engine.py --quick              # smoke test, < 1 min

Each size runs in a fresh subprocess (``--one SIZE``) so that its peak memory is its
own. Graphs: the bundled Helsinki sample (its real facilities, top 5 categories) and
:func:`dz_gis.datasets.synthetic_street_graph` with facilities at random nodes, moved
a few metres so that they snap onto edges (1.4 % of the nodes, at most 2,800).

Methods, all on the same graph in the same run:

(a) the OSMnx notebook recipe, ``networkx.ego_graph`` per facility (and per band);
(b) networkx ``multi_source_dijkstra_path_length`` per category on the reversed graph;
(c) the floor: bare ``scipy.sparse.csgraph.dijkstra(min_only=True)`` per category on
    the prebuilt CSR of :func:`dz_gis.network.prepare` (prepare time excluded);
(d) ours, :func:`dz_gis.access.nearest_times`, first call and repeated;
(e) isochrones: :func:`dz_gis.access.isochrones` (wall clock and CPU) vs the reach + convex
    hull recipe (goal <= 6x) and ego_graph + buffer + union; checked valid and against the
    plain exact build (every reached stretch of street buffered) on a subset.

(a), (b) and (c) start at the facilities' nearest nodes, as the notebook does; (d) and
(e) snap the facilities onto the nearest edge. Exact agreement of (d) with (c) is
therefore checked separately, with facilities placed exactly on node coordinates.

Peak memory: ``ru_maxrss`` of the subprocess at its end. Per-phase peaks reset the
kernel's high-water mark (``/proc/self/clear_refs``, Linux), which also resets
``ru_maxrss``; the process peak reported is the maximum over all phases and the final
``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

# scripts/ is on sys.path when this file runs as a script
from bench_recipes import (  # noqa: E402
    CUTOFF_S,
    MINUTES,
    TOL_S,
    PeakTracker,
    compare,
    csgraph_floor,
    dict_to_array,
    ego_recipe,
    exact_isochrones,
    hull_isochrones,
    load_average,
    maxrss_mb,
    median_time,
    nearest_nodes,
    networkx_multisource,
    progress,
    recipe_isochrones,
    rss_mb,
    timed,
    verdict,
)
from scipy.sparse.csgraph import dijkstra

import dz_gis
from dz_gis.access import DEFAULT_OFFSET_M, isochrones, nearest_times
from dz_gis.access._faces import street_faces
from dz_gis.access._polygons import BUFFER_QUAD_SEGS
from dz_gis.datasets import synthetic_street_graph
from dz_gis.network import invalidate, prepare
from dz_gis.network.snap import DEFAULT_MAX_SNAP_M, snap

N_CATEGORIES = 5
FACILITY_SHARE = 0.014
FACILITY_CAP = 2800
SNAP_OFFSET_M = (2.0, 6.0)  #: synthetic facilities sit this far from their node
SEED = 0
DEFAULT_SIZES = ("sample", "50000", "200000")
QUICK_SIZES = ("sample", "50000")


@dataclass(frozen=True)
class Budget:
    """How much of each slow method to run."""

    ego_subset: int  #: facilities timed for the ego_graph recipe (then extrapolated)
    iso_subset: int  #: facilities timed for the isochrone recipe (then extrapolated)
    ours_iso_subset: int | None  #: facilities for our per-facility isochrones (None: all)
    repeats: int  #: repeated timings (median)


FULL = Budget(ego_subset=200, iso_subset=30, ours_iso_subset=None, repeats=5)
QUICK = Budget(ego_subset=20, iso_subset=5, ours_iso_subset=100, repeats=3)


@dataclass
class Row:
    """One line of a result table."""

    method: str
    seconds: float | None
    notes: str = ""
    floor_ratio: bool = True  #: show seconds / floor
    peak_mb: float | None = None  #: phase peak RSS above the RSS before it
    load: float | None = None  #: 1-minute load average when the phase ended


@dataclass
class SizeResult:
    """Everything measured for one graph size (sent from the subprocess as JSON)."""

    size: str
    label: str
    nodes: int
    edges: int
    facilities: int
    categories: int
    rows: list[Row] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    graph_mb: float | None = None
    base_mb: float | None = None  #: RSS after imports, before the graph
    peak_mb: float | None = None
    key: dict[str, float] = field(default_factory=dict)  #: seconds for the summary


# ---------------------------------------------------------------------- inputs


def load_graph(size: str) -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame | None, str]:
    """The graph for ``size`` ("sample" or a node count), the sample's facilities, a label."""
    if size == "sample":
        sample = dz_gis.load_sample()
        facilities = sample.facilities
        return sample.graph, facilities, "Helsinki sample (real OSM)"
    n = int(size)
    return synthetic_street_graph(n, seed=SEED), None, f"synthetic {n:,}-node street grid"


def sample_facilities(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sample's facilities of its 5 most frequent categories (ties by name)."""
    counts = facilities["category"].value_counts()
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:N_CATEGORIES]
    keep = facilities["category"].isin([c for c, _ in top])
    return facilities[keep].reset_index(drop=True)


def synthetic_facilities(graph: nx.MultiDiGraph, seed: int = SEED) -> gpd.GeoDataFrame:
    """Facilities at random connected nodes, moved a few metres off them, 5 categories."""
    rng = np.random.default_rng(seed)
    n = graph.number_of_nodes()
    count = min(FACILITY_CAP, max(N_CATEGORIES, round(FACILITY_SHARE * n)))
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=n)
    candidates = ids[np.fromiter((d for _, d in graph.out_degree(ids.tolist())), dtype=np.int64, count=n) > 0]
    picked = rng.choice(candidates, size=count, replace=False)
    xy = np.array([(graph.nodes[v]["x"], graph.nodes[v]["y"]) for v in picked.tolist()])
    angle = rng.uniform(0.0, 2 * np.pi, count)
    dist = rng.uniform(*SNAP_OFFSET_M, count)
    xy = xy + np.c_[np.cos(angle), np.sin(angle)] * dist[:, None]
    cats = np.array([f"cat{k + 1}" for k in range(N_CATEGORIES)])[rng.permutation(count) % N_CATEGORIES]
    return gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(count)], "category": cats},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=graph.graph["crs"],
    )


# ---------------------------------------------------------------------- checks


def check_ours_vs_floor_exact(graph: nx.MultiDiGraph, net, fac_nodes: np.ndarray, cats: np.ndarray) -> str:
    """Ours vs (c) with facilities placed exactly on node coordinates (snap distance 0)."""
    rows = pd.Index(net.node_ids).get_indexer(fac_nodes)
    # a node on streets that cannot be entered from the side (tunnels, bridges) is joined elsewhere
    enterable = np.zeros(net.n, dtype=bool)
    enterable[net.edge_u[net.edge_enterable]] = True
    enterable[net.edge_v[net.edge_enterable]] = True
    main = (net.component[rows] == net.main_component) & enterable[rows]
    rows, c = rows[main], cats[main]
    fac = gpd.GeoDataFrame({"category": c}, geometry=gpd.points_from_xy(net.xy[rows, 0], net.xy[rows, 1]), crs=net.crs)
    ours = nearest_times(graph, fac, cutoff_min=CUTOFF_S / 60.0)
    worst, mism, n_both = 0.0, 0, 0
    for cat in pd.unique(c):
        floor = dijkstra(net.reverse_csr, indices=np.unique(rows[c == cat]), min_only=True, limit=CUTOFF_S)
        mine = ours.nodes[cat].to_numpy() * 60.0
        mine = np.where(np.isnan(mine), np.inf, mine)
        d, m, b = compare(mine, floor)
        worst, mism, n_both = max(worst, d), mism + m, n_both + b
    snap_max = float(ours.snapped["snap_m"].max())
    ok = worst <= TOL_S and mism == 0
    return (
        f"{verdict(ok)} ours vs (c), exact: ours starts at the point snapped onto an edge, (c) at a "
        f"node, so here {len(fac)} facilities sit exactly on their nearest node (main network, enterable; snap "
        f"{snap_max:.1e} m, at an edge end), where both must agree: max |diff| {worst:.1e} s over "
        f"{n_both:,} node×category times, {mism} reached by one only"
    )


def band_of(seconds: np.ndarray) -> np.ndarray:
    """Smallest band (s) containing each time, inf beyond the last."""
    out = np.full(len(seconds), np.inf)
    for m in sorted(MINUTES, reverse=True):
        out[seconds <= m * 60.0] = m * 60.0
    return out


# ---------------------------------------------------------------------- one size


@dataclass
class Bench:
    """One graph and its facilities, shared by the measuring steps of one size."""

    size: str
    budget: Budget
    graph: nx.MultiDiGraph
    fac: gpd.GeoDataFrame
    cats: np.ndarray  #: category of each facility
    fac_nodes: np.ndarray  #: nearest graph node of each facility
    order: np.ndarray  #: random order of the facilities (subsets are its first items)
    res: SizeResult
    mem: PeakTracker

    def add(self, method: str, seconds: float, notes: str, peak: float | None, floor_ratio: bool = True) -> None:
        """Append a table row."""
        self.res.rows.append(Row(method, seconds, notes, floor_ratio, peak, load_average()))

    def subset(self, n: int) -> tuple[np.ndarray, float, str]:
        """The first ``n`` facilities in random order, the extrapolation factor, and a note."""
        sub = self.order[: min(n, len(self.fac))]
        if len(sub) == len(self.fac):
            return sub, 1.0, f"all {len(sub):,} facilities"
        return sub, len(self.fac) / len(sub), f"extrapolated from {len(sub)} of {len(self.fac):,}"


def setup(size: str, budget: Budget) -> Bench:
    """Build the graph (measuring its time and RSS) and place the facilities."""
    mem = PeakTracker()
    rss0 = rss_mb()
    progress(size, "building the networkx graph")
    (t_graph, (graph, sample_fac, label)), _ = mem.run(lambda: timed(lambda: load_graph(size)))
    rss1 = rss_mb()
    fac = sample_facilities(sample_fac) if sample_fac is not None else synthetic_facilities(graph)
    cats = fac["category"].to_numpy()
    res = SizeResult(
        size,
        label,
        graph.number_of_nodes(),
        graph.number_of_edges(),
        len(fac),
        len(pd.unique(cats)),
        graph_mb=None if rss0 is None or rss1 is None else rss1 - rss0,
        base_mb=rss0,
    )
    bench = Bench(
        size,
        budget,
        graph,
        fac,
        cats,
        nearest_nodes(graph, fac),
        np.random.default_rng(SEED).permutation(len(fac)),
        res,
        mem,
    )
    bench.add("build networkx graph", t_graph, "setup, not part of any method", None, False)
    return bench


def measure_times(b: Bench) -> dict[str, Any]:
    """Methods (a)-(d) and prepare; returns their outputs for the checks."""
    g, mem, reps = b.graph, b.mem, b.budget.repeats
    progress(b.size, "prepare alone")
    (t, _), pk = mem.run(lambda: timed(lambda: prepare(g)))
    invalidate(g)  # forgotten again: the first call below builds it
    b.add("prepare(G) alone", t, "compressed arrays + CSR, once per graph", pk)
    b.res.key["prepare"] = t

    progress(b.size, "networkx -> CSR")
    (t, _), pk = mem.run(lambda: timed(lambda: nx.to_scipy_sparse_array(g, weight="walk_s")))
    b.add("networkx -> CSR (to_scipy_sparse_array)", t, "the least a first call on a networkx graph pays", pk)
    b.res.key["nx_csr"] = t

    progress(b.size, "(d) ours")
    cut = CUTOFF_S / 60.0
    (t, _), pk = mem.run(lambda: timed(lambda: nearest_times(g, b.fac, cutoff_min=cut)))
    b.add("(d) ours nearest_times, first call", t, "incl. prepare + snapping index", pk)
    b.res.key["ours_first"] = t
    (t, ours), pk = mem.run(lambda: median_time(lambda: nearest_times(g, b.fac, cutoff_min=cut), reps))
    b.add("(d) ours nearest_times, repeated", t, f"median of {reps}", pk)
    b.res.key["ours_rep"] = t

    net = prepare(g)
    (t, _), pk = mem.run(lambda: median_time(lambda: prepare(g), reps))
    b.add("prepare(G) cached (cache-hit check)", t, f"paid by every call of ours; median of {reps}", pk)
    b.res.key["prepare_hit"] = t
    index = pd.Index(net.node_ids)
    csr = net.reverse_csr
    sources = {cat: np.unique(b.fac_nodes[b.cats == cat]) for cat in pd.unique(b.cats)}
    rows = {cat: index.get_indexer(src) for cat, src in sources.items()}
    progress(b.size, "(c) floor")
    (t, floor), pk = mem.run(lambda: median_time(lambda: csgraph_floor(csr, rows), reps))
    b.add("(c) floor: csgraph.dijkstra min_only", t, f"per category, prebuilt CSR; median of {reps}", pk)
    b.res.key["floor"] = t

    progress(b.size, "(b) networkx multi-source")
    (t, nxd), pk = mem.run(lambda: timed(lambda: networkx_multisource(g, sources)))
    b.add("(b) networkx multi_source_dijkstra", t, "per category, G.reverse(copy=False)", pk)
    b.res.key["networkx"] = t

    progress(b.size, "(a) ego_graph recipe")
    sub, scale, how = b.subset(b.budget.ego_subset)
    nodes, cats = b.fac_nodes[sub], b.cats[sub]
    (t, _), pk = mem.run(lambda: timed(lambda: ego_recipe(g, nodes, cats, (CUTOFF_S,))))
    b.add("(a) ego_graph 15 min per facility", t * scale, f"reach set only; {how}", pk)
    b.res.key["ego1"] = t * scale
    bands = tuple(m * 60.0 for m in MINUTES)
    (t, ego3), pk = mem.run(lambda: timed(lambda: ego_recipe(g, nodes, cats, bands)))
    b.add("(a) ego_graph 5/10/15 per facility", t * scale, f"notebook: min band per node; {how}", pk)
    b.res.key["ego3"] = t * scale
    return {
        "net": net,
        "index": index,
        "ours": ours,
        "floor": floor,
        "nx": nxd,
        "ego3": ego3 if scale == 1.0 else None,
    }


def add_checks(b: Bench, out: dict[str, Any]) -> None:
    """Agreement of the methods, in the same run."""
    progress(b.size, "checks")
    index, floor = out["index"], out["floor"]
    worst, mism, nb = 0.0, 0, 0
    for cat, times in out["nx"].items():
        d, m, n = compare(dict_to_array(times, index), floor[cat])
        worst, mism, nb = max(worst, d), mism + m, nb + n
    b.res.checks.append(
        f"{verdict(worst <= TOL_S and mism == 0)} (b) networkx vs (c) csgraph, same source nodes: "
        f"max |diff| {worst:.1e} s over {nb:,} node×category times, {mism} reached by one only"
    )
    b.res.checks.append(check_ours_vs_floor_exact(b.graph, out["net"], b.fac_nodes, b.cats))
    # the timed run: ours starts at the snapped point, (c) at the nearest node
    delta = []
    for cat, times in floor.items():
        mine = out["ours"].nodes[cat].to_numpy() * 60.0
        both = np.isfinite(mine) & np.isfinite(times)
        delta.append(mine[both] - times[both])
    delta = np.concatenate(delta)
    lo, hi = np.percentile(delta, [1, 99])
    b.res.checks.append(
        "INFO timed run, ours (facilities a few m off nodes, snapped onto edges) minus (c) (from their "
        f"nearest nodes): median {np.median(delta):+.1f} s, 1st..99th percentile {lo:+.1f}..{hi:+.1f} s "
        "- different start points, not an error"
    )
    if out["ego3"] is not None:
        mism = sum(
            int((band_of(times) != dict_to_array(out["ego3"].get(cat, {}), index)).sum())
            for cat, times in floor.items()
        )
        b.res.checks.append(
            f"{verdict(mism == 0)} (a) ego_graph bands vs bands of (c) times: {mism} node×category "
            "disagreements (ego_graph walks facility→node, (c) node→facility)"
        )


def vertices(gdf: gpd.GeoDataFrame) -> str:
    """Total vertices of a layer's geometries (16 bytes each in memory)."""
    n = int(shapely.get_num_coordinates(gdf.geometry.array).sum())
    return f"{n / 1e6:,.1f} M vertices" if n >= 1e5 else f"{n:,} vertices"


def cpu_timed(fn):
    """(CPU seconds of the whole process, every thread, result of ``fn()``)."""
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def check_exact(b: Bench, net, part: gpd.GeoDataFrame, iso: gpd.GeoDataFrame) -> str:
    """Our polygons against the plain exact build (every reached stretch buffered) on a subset."""
    progress(b.size, "isochrones: exact slow build")
    take = part.iloc[: b.budget.iso_subset]
    snapped = snap(net, take, max_snap_m=DEFAULT_MAX_SNAP_M, reach_m=DEFAULT_OFFSET_M)
    mine = iso.set_index(["facility_id", "minutes"])["geometry"]
    ours, exact = [], []
    for point, joins in snapped.attachments.groupby("point"):
        fid = take["facility_id"].iloc[point]
        exact += exact_isochrones(net, joins, DEFAULT_OFFSET_M, BUFFER_QUAD_SEGS)
        ours += [mine.loc[(fid, float(m))] for m in MINUTES]
    ours_a, exact_a = np.asarray(ours, dtype=object), np.asarray(exact, dtype=object)
    area = shapely.area(exact_a)
    rel = np.abs(shapely.area(ours_a) - area) / np.maximum(area, 1e-9)
    sym = shapely.area(shapely.symmetric_difference(ours_a, exact_a)) / np.maximum(area, 1e-9)
    ok = len(rel) > 0 and float(sym.max()) <= 1e-3
    return (
        f"{verdict(ok)} isochrones vs the plain exact build (every reached stretch of street buffered) "
        f"on {len(rel)} polygons: area differs by at most {rel.max():.1e}, symmetric difference at most "
        f"{sym.max():.1e} of the area (goal <= 1e-3)"
    )


def measure_isochrones(b: Bench, net) -> None:
    """(e): our isochrones (faces, per facility, dissolved) and the notebook recipe."""
    g, mem = b.graph, b.mem
    progress(b.size, "isochrones: faces")
    (t, faces), pk = mem.run(lambda: timed(lambda: street_faces(net, DEFAULT_OFFSET_M, BUFFER_QUAD_SEGS)))
    b.add("(e) ours isochrones: faces build", t, f"once per graph ({len(faces.face_geom):,} faces)", pk, False)
    b.res.key["faces"] = t
    fac = b.fac.assign(facility_id=b.fac["facility_id"].astype(str))
    sub, scale, how = b.subset(b.budget.ours_iso_subset or len(fac))
    part = fac.iloc[sub] if scale != 1.0 else fac
    progress(b.size, f"isochrones: ours for {len(part)} facilities × {len(MINUTES)} bands")
    (t, iso), pk = mem.run(lambda: timed(lambda: cpu_timed(lambda: isochrones(g, part, minutes=MINUTES))))
    cpu, iso = iso
    notes = f"{how} × {len(MINUTES)} bands; {os.cpu_count()} threads; CPU {fmt_s(cpu * scale)}; output {vertices(iso)}"
    b.add("(e) ours isochrones per facility", t * scale, notes, pk, False)
    b.res.key["iso"], b.res.key["iso_cpu"] = t * scale, cpu * scale
    progress(b.size, "isochrones: reach + convex hull")
    rows = pd.Index(net.node_ids).get_indexer(b.fac_nodes[sub] if scale != 1.0 else b.fac_nodes)
    (t, hull), pk = mem.run(lambda: timed(lambda: cpu_timed(lambda: hull_isochrones(net, rows))))
    cpu, _ = hull
    b.add(
        "(e) recipe reach + convex hull",
        t * scale,
        f"{how} × {len(MINUTES)} bands; CPU {fmt_s(cpu * scale)}",
        pk,
        False,
    )
    b.res.key["hull"], b.res.key["hull_cpu"] = t * scale, cpu * scale
    valid = shapely.is_valid(iso.geometry.array)
    b.res.checks.append(
        f"{verdict(bool(valid.all()))} isochrones per facility: {valid.sum():,} of {len(valid):,} valid (OGC)"
    )
    b.res.checks.append(check_exact(b, net, part, iso))
    progress(b.size, "isochrones: ours dissolved")
    (t, diss), pk = mem.run(lambda: timed(lambda: isochrones(g, fac, minutes=MINUTES, dissolve=True)))
    notes = f"{b.res.categories} categories × {len(MINUTES)} bands; output {vertices(diss)}"
    b.add("(e) ours isochrones dissolved", t, notes, pk, False)
    b.res.key["iso_diss"] = t
    ok = shapely.is_valid(diss.geometry.array)
    b.res.checks.append(f"{verdict(bool(ok.all()))} isochrones dissolved: {ok.sum():,} of {len(ok):,} valid (OGC)")
    del diss

    progress(b.size, "isochrones: notebook recipe")
    sub, scale, how = b.subset(b.budget.iso_subset)
    (t, rec), pk = mem.run(lambda: timed(lambda: recipe_isochrones(g, b.fac_nodes[sub])))
    b.add(
        "(e) recipe ego_graph+buffer+union",
        t * scale,
        f"per facility × {len(MINUTES)} bands; {how}",
        pk,
        False,
    )
    b.res.key["iso_recipe"] = t * scale
    mine = iso.set_index(["facility_id", "minutes"])["geometry"]
    pairs = [(fid, float(m)) for fid in fac["facility_id"].to_numpy()[sub] for m in MINUTES]
    have = [k for k, pair in enumerate(pairs) if pair in mine.index]
    if have:
        ours_area = shapely.area(np.asarray([mine.loc[pairs[k]] for k in have], dtype=object))
        ratio = ours_area / np.maximum(shapely.area(np.asarray(rec, dtype=object)[have]), 1e-9)
        b.res.checks.append(
            f"INFO isochrone area ours / recipe over {len(have)} polygons: median {np.median(ratio):.2f}, "
            f"range {ratio.min():.2f}..{ratio.max():.2f} (recipe: whole edges between reached nodes + node "
            "discs, from the nearest node; ours: edges cut where the time runs out, from the snapped point)"
        )


def run_size(size: str, budget: Budget) -> SizeResult:
    """Measure every method on one graph; returns the table rows and checks."""
    b = setup(size, budget)
    out = measure_times(b)
    add_checks(b, out)
    net = out["net"]
    del out  # networkx's result dicts are large
    measure_isochrones(b, net)
    gc.collect()
    b.res.peak_mb = max(b.mem.process_peak, maxrss_mb())
    return b.res


# ---------------------------------------------------------------------- output


def fmt_s(s: float | None) -> str:
    """Seconds, 3 significant-ish digits."""
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s:.1e}"
    return f"{s:.4f}" if s < 1 else f"{s:.2f}" if s < 100 else f"{s:,.0f}"


def fmt_ratio(r: float) -> str:
    """A ratio like 1.23x or 1,234x."""
    if r < 0.01:
        return f"{r:.0e}x"
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x" if r < 100 else f"{r:,.0f}x"


def fmt_mb(mb: float | None) -> str:
    """Megabytes."""
    return "-" if mb is None else f"{max(mb, 0.0):,.0f} MB"


def row_order(row: Row) -> int:
    """Display order: setup, then (a) to (e)."""
    prefixes = ("build", "networkx ->", "prepare", "(a)", "(b)", "(c)", "(d)", "(e)")
    return next((i for i, p in enumerate(prefixes) if row.method.startswith(p)), len(prefixes))


def print_table(res: SizeResult) -> None:
    """The table of one size."""
    floor = res.key["floor"]
    title = (
        f"{res.label}: {res.nodes:,} nodes, {res.edges:,} directed edges, "
        f"{res.facilities:,} facilities in {res.categories} categories, cutoff 15 min"
    )
    print()
    print(title)
    print("=" * len(title))
    head = f"{'method':<40} {'seconds':>9} {'x floor':>9} {'peak+':>9} {'load':>5}  notes"
    print(head)
    print("-" * (len(head) + 40))
    for row in sorted(res.rows, key=row_order):
        ratio = fmt_ratio(row.seconds / floor) if row.floor_ratio and row.seconds is not None else ""
        load = "-" if row.load is None else f"{row.load:.1f}"
        print(f"{row.method:<40} {fmt_s(row.seconds):>9} {ratio:>9} {fmt_mb(row.peak_mb):>9} {load:>5}  {row.notes}")
    k = res.key
    print("-" * (len(head) + 40))
    ratios = [
        ("ours repeated / floor", k["ours_rep"] / floor, "overhead over bare csgraph"),
        (
            "  same, minus the cache check",
            (k["ours_rep"] - k["prepare_hit"]) / floor,
            "the cache hit of prepare(G) excluded",
        ),
        (
            "ours repeated / networkx",
            k["ours_rep"] / k["networkx"],
            f"networkx {k['networkx'] / k['ours_rep']:,.1f}x slower",
        ),
        (
            "ours first / (nx->CSR + floor)",
            k["ours_first"] / (k["nx_csr"] + floor),
            "first-call goal <= 1.5: the bare conversion of the networkx graph plus the search",
        ),
        (
            "ours first call / networkx",
            k["ours_first"] / k["networkx"],
            "first call incl. prepare + snapping index",
        ),
        (
            "ours repeated / ego_graph",
            k["ours_rep"] / k["ego3"],
            f"notebook recipe {k['ego3'] / k['ours_rep']:,.0f}x slower",
        ),
        (
            "ours first call / ego_graph",
            k["ours_first"] / k["ego3"],
            "first call incl. prepare + snapping index",
        ),
        (
            "isochrones ours / reach+hull",
            k["iso"] / k["hull"],
            "goal <= 6: exact polygons against the convex hull of the reached nodes, wall clock",
        ),
        ("  same, CPU time", k["iso_cpu"] / k["hull_cpu"], "all threads' CPU seconds against the recipe's"),
        (
            "isochrones ours / ego recipe",
            k["iso"] / k["iso_recipe"],
            f"notebook recipe {k['iso_recipe'] / k['iso']:,.1f}x slower",
        ),
        ("  incl. faces build", (k["iso"] + k["faces"]) / k["iso_recipe"], "faces: once per graph"),
    ]
    for name, value, note in ratios:
        print(f"{name:<30} {value:>10.4g}   {note}")
    print(
        f"memory: process peak {fmt_mb(res.peak_mb)} = ru_maxrss; after imports {fmt_mb(res.base_mb)}; "
        f"networkx graph {fmt_mb(res.graph_mb)} (RSS after building it minus before); "
        "peak+ = phase peak above the RSS before the phase"
    )
    print(
        f"load: 1-minute load average at the end of each phase, {os.cpu_count()} CPUs; this benchmark "
        "alone gives about 1 (isochrones about 2); more means other work shared the CPUs and slowed it"
    )
    print("checks:")
    for line in res.checks:
        print(f"  {line}")
    sys.stdout.flush()


def print_summary(results: list[SizeResult]) -> None:
    """One line per size."""
    print()
    print("Summary (seconds; ratios are slower-method / ours)")
    head = (
        f"{'graph':<12} {'nodes':>10} {'facil.':>7} {'prepare':>8} {'floor':>8} {'ours 1st':>9} "
        f"{'1st/(csr+floor)':>15} {'ours rep':>9} {'cache chk':>9} {'ours/floor':>10} "
        f"{'networkx':>9} {'nx/ours':>8} {'ego/ours':>9} "
        f"{'iso ours':>9} {'iso recipe':>10} {'rec/ours':>8} {'graph RSS':>10} {'peak RSS':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        k = r.key
        print(
            f"{r.size:<12} {r.nodes:>10,} {r.facilities:>7,} {fmt_s(k['prepare']):>8} {fmt_s(k['floor']):>8} "
            f"{fmt_s(k['ours_first']):>9} {k['ours_first'] / (k['nx_csr'] + k['floor']):>15.2f} "
            f"{fmt_s(k['ours_rep']):>9} {fmt_s(k['prepare_hit']):>9} "
            f"{k['ours_rep'] / k['floor']:>10.2f} "
            f"{fmt_s(k['networkx']):>9} {fmt_ratio(k['networkx'] / k['ours_rep']):>8} "
            f"{fmt_ratio(k['ego3'] / k['ours_rep']):>9} {fmt_s(k['iso'] + k['faces']):>9} "
            f"{fmt_s(k['iso_recipe']):>10} {fmt_ratio(k['iso_recipe'] / (k['iso'] + k['faces'])):>8} "
            f"{fmt_mb(r.graph_mb):>10} {fmt_mb(r.peak_mb):>10}"
        )
    print(
        "iso ours includes the faces build; ego/ours uses the notebook's 3-band recipe; "
        "extrapolated figures are marked in the tables."
    )


# ---------------------------------------------------------------------- driver


def run_child(size: str, quick: bool) -> SizeResult | None:
    """Run one size in a fresh interpreter; its table streams through, the result comes as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--one", size, "--json", out]
        if quick:
            cmd.append("--quick")
        proc = subprocess.run(cmd, check=False)
        if proc.returncode != 0 or not os.path.exists(out):
            print(f"size {size}: subprocess failed (exit {proc.returncode})", file=sys.stderr)
            return None
        with open(out) as fh:
            data = json.load(fh)
    data["rows"] = [Row(**r) for r in data["rows"]]
    return SizeResult(**data)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", help=f"'sample' and/or node counts (default: {' '.join(DEFAULT_SIZES)})")
    p.add_argument("--quick", action="store_true", help="sample + 50000 with small subsets (smoke test)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    budget = QUICK if args.quick else FULL
    if args.one:
        res = run_size(args.one, budget)
        print_table(res)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(asdict(res), fh)
        return 0
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    for s in sizes:
        if s != "sample" and not s.isdigit():
            p.error(f"size must be 'sample' or a node count, not {s!r}")
    print(
        f"bench_engine: sizes {', '.join(sizes)}; {os.cpu_count()} CPUs; networkx {nx.__version__}; "
        f"each size in a fresh subprocess{' (quick)' if args.quick else ''}"
    )
    results = [r for s in sizes if (r := run_child(s, args.quick)) is not None]
    if results:
        print_summary(results)
    return 0 if len(results) == len(sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
