"""Benchmark the origin–destination matrix against networkx and pandana on the same graph.

Run from the repository root::

    python scripts/bench_od.py                 # 200,000-node street grid, 5,000 x 1,000, 15 minutes
    python scripts/bench_od.py --quick         # 50,000 nodes, 1,000 x 200

Methods, all in one run on one graph (synthetic_street_graph, flat walking times):

(a) ours, dz_gis.od_times: batched local searches per destination; first call (builds the
    compressed graph and joins the points) and a repeated call;
(b) networkx: single_source_dijkstra_path_length per destination on the reversed graph with
    the cutoff, origins looked up at their nodes (timed on a subset of destinations and
    scaled to all, marked "extrapolated");
(c) pandana: Network.shortest_path_lengths over origin-destination node pairs (contraction
    hierarchies; its set-up timed apart; timed on a subset of pairs and scaled).

Origins and destinations sit exactly on graph nodes and join with reach_m=0, so all three
compute the same node-to-node times; the check compares them pair by pair on the subset.
"""

from __future__ import annotations

import argparse
import sys
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from dz_gis.access import od_times
from dz_gis.datasets import synthetic_street_graph

CUTOFF_MIN = 15.0


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--origins", type=int, default=5_000)
    parser.add_argument("--destinations", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="50,000 nodes, 1,000 origins x 200 destinations")
    args = parser.parse_args(argv)
    if args.quick:
        args.nodes, args.origins, args.destinations = 50_000, 1_000, 200
    rng = np.random.default_rng(0)
    print(f"graph: synthetic street grid, {args.nodes:,} nodes", file=sys.stderr)
    g = synthetic_street_graph(args.nodes)
    ids = np.array(list(g.nodes))
    xy = np.array([(g.nodes[n]["x"], g.nodes[n]["y"]) for n in ids])
    o_nodes = rng.choice(ids, args.origins, replace=False)
    d_nodes = rng.choice(ids, args.destinations, replace=False)
    pos = pd.Series(np.arange(len(ids)), index=ids)
    crs = g.graph["crs"]
    origins = gpd.GeoDataFrame(index=o_nodes, geometry=gpd.points_from_xy(*xy[pos[o_nodes]].T), crs=crs)
    destinations = gpd.GeoDataFrame(index=d_nodes, geometry=gpd.points_from_xy(*xy[pos[d_nodes]].T), crs=crs)
    rows = []

    t_first, od = timed(lambda: od_times(g, origins, destinations, cutoff_min=CUTOFF_MIN, reach_m=0.0))
    t_rep, od = timed(lambda: od_times(g, origins, destinations, cutoff_min=CUTOFF_MIN, reach_m=0.0))
    rows.append(("(a) ours od_times, first call", t_first, ""))
    rows.append(("(a) ours od_times, repeated", t_rep, ""))
    pairs = len(od)

    # (b) networkx per destination, on a subset
    sub = d_nodes[: max(10, args.destinations // 20)]
    rev = g.reverse(copy=False)
    cutoff_s = CUTOFF_MIN * 60
    t_nx, nx_times = timed(
        lambda: {d: nx.single_source_dijkstra_path_length(rev, d, cutoff=cutoff_s, weight="walk_s") for d in sub}
    )
    o_set = set(o_nodes.tolist())
    nx_pairs = {(o, d): s / 60 for d, dist in nx_times.items() for o, s in dist.items() if o in o_set}
    scale = args.destinations / len(sub)
    rows.append((f"(b) networkx per destination ({len(sub)} of {args.destinations}, extrapolated)", t_nx * scale, ""))

    # (c) pandana shortest_path_lengths on pairs, on a subset of pairs
    try:
        import pandana
    except ImportError:
        pandana = None
    pd_check = None
    if pandana is not None:
        edges = nx.to_pandas_edgelist(g)[["source", "target", "walk_s"]]

        def build():
            net = pandana.Network(
                pd.Series(xy[:, 0], index=ids),
                pd.Series(xy[:, 1], index=ids),
                edges["source"],
                edges["target"],
                edges[["walk_s"]],
                twoway=False,
            )
            return net

        t_setup, pnet = timed(build)
        rows.append(("(c) pandana Network set-up (contraction hierarchies)", t_setup, "once per graph"))
        n_pairs = args.origins * args.destinations
        k = min(n_pairs, 200_000)
        oo = rng.choice(o_nodes, k)
        dd = rng.choice(d_nodes, k)
        t_pd, lengths = timed(lambda: pnet.shortest_path_lengths(oo.tolist(), dd.tolist(), imp_name="walk_s"))
        label = f"({k:,} of {n_pairs:,} pairs, extrapolated)" if k < n_pairs else f"({k:,} pairs)"
        rows.append((f"(c) pandana shortest_path_lengths {label}", t_pd * n_pairs / k, ""))
        pd_check = pd.Series(np.asarray(lengths, dtype=float) / 60, index=pd.MultiIndex.from_arrays([oo, dd]))

    # checks: the same pairs and minutes
    ours = od.set_index(["origin", "destination"])["minutes"]
    ours_sub = ours[ours.index.get_level_values(1).isin(sub)]
    same_keys = set(ours_sub.index) == set(nx_pairs)
    diff = max((abs(ours_sub[p] - m) for p, m in nx_pairs.items() if p in ours_sub.index), default=0.0)
    print(
        f"\nOD matrix, {args.origins:,} origins x {args.destinations:,} destinations within {CUTOFF_MIN:g} min on "
        f"{args.nodes:,} nodes: {pairs:,} pairs"
    )
    print(f"{'method':<78}{'seconds':>10}{'vs ours':>10}")
    for name, t, note in rows:
        print(f"{name:<78}{t:>10.2f}{t / t_rep:>9.1f}x  {note}")
    print("checks:")
    print(
        f"  {'PASS' if same_keys and diff < 1e-6 else 'FAIL'} ours vs networkx on {len(sub)} destinations: "
        f"same pairs {same_keys}, max |diff| {diff:.1e} min"
    )
    if pd_check is not None:
        within = pd_check[pd_check <= CUTOFF_MIN]
        hit = within.index.isin(ours.index)
        d2 = np.abs(ours.reindex(within.index[hit]).to_numpy() - within[hit].to_numpy())
        ok = hit.all() and (d2.max(initial=0) < 1e-3)  # pandana keeps weights in single precision
        print(
            f"  {'PASS' if ok else 'FAIL'} ours vs pandana on {len(within):,} sampled pairs within the cutoff: "
            f"all found {bool(hit.all())}, max |diff| {d2.max(initial=0):.1e} min (pandana: float32 weights)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
