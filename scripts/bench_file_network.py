"""Benchmark an OSM file to nearest-facility times: the array path against the networkx path.

Run from the repository root::

    python scripts/bench_file_network.py                    # 50,000, 200,000 and 1,000,000 nodes
    python scripts/bench_file_network.py --sizes 100000     # quicker
    python scripts/bench_file_network.py --no-networkx      # the array path only
    python scripts/bench_file_network.py --no-isochrones    # times and snapping only

For each size a synthetic OpenStreetMap file is written with pyosmium
(:func:`dz_gis.datasets.synthetic.synthetic_osm_file`: the street grid of the engine bench as
ways of up to 8 segments, six highway classes, bridges, private ways). Then, each in a fresh
process so that its peak memory is its own (``ru_maxrss`` of the finished child,
``RUSAGE_CHILDREN``):

(a) the array path: :func:`dz_gis.network.walk_network_from_file` and
    :func:`dz_gis.access.nearest_times` on the network it returns;
(b) the networkx path: :func:`dz_gis.network.walk_graph_from_file` (pyrosm, a networkx graph)
    and :func:`dz_gis.access.nearest_times` on the graph.

(s) snapping on the array path: the index of street segments in arrays
    (:attr:`dz_gis.network.PreparedNetwork.access_index`) against a GEOS ``STRtree`` over a
    LineString per street, built in the same process one after the other (memory: resident
    growth while each is built), and 100,000 random points: nearest street and every street
    within max(nearest, 25 m), the same pairs from both.

(c) isochrones on the array path: :func:`dz_gis.access.isochrones` of every facility, 5, 10
    and 15 minutes, after the street faces (timed alone: their cost per node is compared
    across the sizes, goal within 1.5x). Goal: the process peaks under 5 GB at 1M nodes.

All with 1.4 % of the nodes as facilities (at most 2,800, 5 categories), a few metres off
their node, 15-minute cutoff, no cache. The times of (a) and (b) are compared node by node.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

N_CATEGORIES = 5
FACILITY_SHARE = 0.014
FACILITY_CAP = 2800
GOAL_MB = 1500.0
ISO_GOAL_MB = 5000.0
SNAP_POINTS = 100_000


def child(path: str, mode: str, out: str) -> None:
    """One path, file to times (or isochrones), in this process; writes seconds per step and the times."""
    import geopandas as gpd

    from dz_gis.access import nearest_times
    from dz_gis.network import prepare, walk_graph_from_file, walk_network_from_file

    steps = {}
    t = time.perf_counter()
    if mode in ("arrays", "isochrones", "snap"):
        net = walk_network_from_file(path, cache=False)
    else:
        net = walk_graph_from_file(path, cache=False)
    steps["read file -> network"] = time.perf_counter() - t
    t = time.perf_counter()
    p = prepare(net)
    steps["prepare"] = time.perf_counter() - t
    rng = np.random.default_rng(0)
    count = min(FACILITY_CAP, max(N_CATEGORIES, round(FACILITY_SHARE * p.n)))
    main = np.flatnonzero(p.component == p.main_component)
    pick = rng.choice(np.sort(p.node_ids[main]), size=count, replace=False)  # the same ids on both paths
    order = np.argsort(p.node_ids)
    rows = order[np.searchsorted(p.node_ids, pick, sorter=order)]
    angle = rng.uniform(0.0, 2 * np.pi, count)
    xy = p.xy[rows] + np.c_[np.cos(angle), np.sin(angle)] * rng.uniform(2.0, 6.0, count)[:, None]
    cats = np.array([f"cat{k + 1}" for k in range(N_CATEGORIES)])[np.arange(count) % N_CATEGORIES]
    fac = gpd.GeoDataFrame({"category": cats}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=p.crs)
    if mode == "isochrones":
        isochrone_steps(net, p, fac, steps, out)
        return
    if mode == "snap":
        snap_steps(p, steps, out)
        return
    t = time.perf_counter()
    times = nearest_times(net, fac, cutoff_min=15)
    steps["nearest_times (first call)"] = time.perf_counter() - t
    t = time.perf_counter()
    nearest_times(net, fac, cutoff_min=15)
    steps["nearest_times (repeated)"] = time.perf_counter() - t
    nodes = times.nodes.sort_index()
    np.savez(out + ".npz", ids=nodes.index.to_numpy(), values=nodes.to_numpy())
    info = {"steps": steps, "nodes": p.n, "edges": len(p.edge_u), "facilities": count}
    info["peak_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with open(out, "w") as fh:
        json.dump(info, fh)


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024.0 for line in fh if line.startswith("VmRSS"))


def snap_steps(p, steps: dict, out: str) -> None:
    """The array snapping index and a GEOS STRtree over the same streets: memory, build, 100,000 points."""
    import gc

    import shapely

    rng = np.random.default_rng(1)
    xy = rng.uniform(p.xy.min(axis=0), p.xy.max(axis=0), size=(SNAP_POINTS, 2))
    gc.collect()
    before = _rss_mb()
    t = time.perf_counter()
    index = p.access_index
    steps["arrays: build"] = time.perf_counter() - t
    arrays_mb = _rss_mb() - before
    t = time.perf_counter()
    _, d = index.nearest(xy)
    pt, line, _ = index.within(xy, np.maximum(d, 25.0))
    steps["arrays: 100k points"] = time.perf_counter() - t
    gc.collect()
    before = _rss_mb()
    t = time.perf_counter()
    tree = shapely.STRtree(p.geoms(p.access_edges))
    tree.query(shapely.Point(0.0, 0.0))  # GEOS builds the tree on the first query
    steps["STRtree: build"] = time.perf_counter() - t
    geos_mb = _rss_mb() - before
    t = time.perf_counter()
    pts = shapely.points(xy)
    (where, _), dist = tree.query_nearest(pts, all_matches=False, return_distance=True)
    d_geos = dist[np.argsort(where, kind="stable")]
    pg, lg = tree.query(pts, predicate="dwithin", distance=np.maximum(d_geos, 25.0))
    steps["STRtree: 100k points"] = time.perf_counter() - t
    m = len(p.access_edges)
    ours, theirs = np.sort(pt.astype(np.int64) * m + line), np.sort(pg.astype(np.int64) * m + lg)
    info = {"steps": steps, "nodes": p.n, "edges": len(p.edge_u), "streets": m, "pairs": len(ours)}
    info |= {"arrays_mb": arrays_mb, "geos_mb": geos_mb, "nearest_diff_m": float(np.abs(d - d_geos).max())}
    info["pairs_differ"] = int(len(np.setxor1d(ours, theirs)))
    info["peak_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    np.savez(out + ".npz", ids=np.zeros(0), values=np.zeros(0))
    with open(out, "w") as fh:
        json.dump(info, fh)


def isochrone_steps(net, p, fac, steps: dict, out: str) -> None:
    """Faces (timed per node) and every facility's 5/10/15-minute isochrones, on the array network."""
    import shapely

    from dz_gis.access import DEFAULT_OFFSET_M, isochrones
    from dz_gis.access._faces import street_faces
    from dz_gis.access._polygons import BUFFER_QUAD_SEGS

    t = time.perf_counter()
    street_faces(p, DEFAULT_OFFSET_M, BUFFER_QUAD_SEGS)
    steps["street faces"] = time.perf_counter() - t
    fac = fac.assign(facility_id=np.arange(len(fac)))
    t = time.perf_counter()
    iso = isochrones(net, fac, minutes=(5, 10, 15))
    steps["isochrones"] = time.perf_counter() - t
    info = {"steps": steps, "nodes": p.n, "edges": len(p.edge_u), "facilities": len(fac)}
    info["valid"] = bool(shapely.is_valid(iso.geometry.array).all())
    info["polygons"] = len(iso)
    info["faces_us_per_node"] = steps["street faces"] / p.n * 1e6
    info["peak_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    np.savez(out + ".npz", ids=np.zeros(0), values=np.zeros(0))
    with open(out, "w") as fh:
        json.dump(info, fh)


def run(path: str, mode: str, tmp: str) -> dict | None:
    """Run one path in a child; its result plus the child's peak RSS."""
    out = os.path.join(tmp, f"{mode}.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, path, out], check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0 or not os.path.exists(out):
        print(f"  {mode}: child failed (exit {proc.returncode})")
        return None
    with open(out) as fh:
        info = json.load(fh)
    # RUSAGE_CHILDREN is the largest finished child so far: exact when it grew, else the child's own
    info["peak_mb"] = after / 1024.0 if after > before else info["peak_self_mb"]
    info["wall"] = wall
    data = np.load(out + ".npz", allow_pickle=False)
    info["ids"], info["values"] = data["ids"], data["values"]
    return info


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--sizes",
        nargs="+",
        type=int,
        default=[50_000, 200_000, 1_000_000],
        help="node counts (default 50000 200000 1000000)",
    )
    p.add_argument("--no-networkx", action="store_true", help="skip the networkx path (b)")
    p.add_argument("--no-isochrones", action="store_true", help="skip the isochrone run (c)")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child[1], args.child[0], args.child[2])
        return 0
    from dz_gis.datasets.synthetic import synthetic_osm_file

    ok = True
    iso: dict[int, dict | None] = {}
    print(f"bench_file_network: sizes {', '.join(f'{s:,}' for s in args.sizes)}; {os.cpu_count()} CPUs")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            path = str(synthetic_osm_file(os.path.join(tmp, f"grid{size}.osm.pbf"), size))
            print(
                f"\nsynthetic {size:,}-node OSM file: {os.path.getsize(path) / 1e6:.1f} MB, written in "
                f"{time.perf_counter() - t:.0f} s"
            )
            results = {"(a) arrays: walk_network_from_file": run(path, "arrays", tmp)}
            if not args.no_networkx:
                results["(b) networkx: walk_graph_from_file"] = run(path, "networkx", tmp)
            ok &= report(results)
            ok &= report_snap(run(path, "snap", tmp))
            if not args.no_isochrones:
                iso[size] = run(path, "isochrones", tmp)
                ok &= report_isochrones(iso[size])
    if len([r for r in iso.values() if r]) > 1:
        ok &= report_faces(iso)
    return 0 if ok else 1


def report_snap(r: dict | None) -> bool:
    """The snapping index against the STRtree: memory, time, the same answers."""
    if r is None:
        print("(s) snapping: failed")
        return False
    st = r["steps"]
    print(
        f"(s) snapping index, {r['streets']:,} streets: arrays {r['arrays_mb']:,.0f} MB, built in "
        f"{st['arrays: build']:.2f} s; GEOS STRtree {r['geos_mb']:,.0f} MB, {st['STRtree: build']:.2f} s "
        f"(memory {r['geos_mb'] / max(r['arrays_mb'], 1e-9):.1f}x)"
    )
    print(
        f"    {SNAP_POINTS:,} points, nearest + within max(nearest, 25 m): arrays {st['arrays: 100k points']:.2f} s, "
        f"STRtree {st['STRtree: 100k points']:.2f} s ({st['STRtree: 100k points'] / st['arrays: 100k points']:.2f}x)"
    )
    met = r["pairs_differ"] == 0 and r["nearest_diff_m"] <= 1e-6
    print(
        f"{'PASS' if met else 'FAIL'} same streets from both: {r['pairs']:,} pairs, {r['pairs_differ']} differ; "
        f"nearest distance max |diff| {r['nearest_diff_m']:.1e} m"
    )
    return met


def report_isochrones(r: dict | None) -> bool:
    """The isochrone run's peak memory against its goal."""
    if r is None:
        print("(c) isochrones: failed")
        return False
    steps = "; ".join(f"{k} {v:.2f}" for k, v in r["steps"].items())
    print(f"{'(c) arrays: isochrones 5/10/15':<38} {r['peak_mb']:>6,.0f} MB {r['wall']:>8.1f}  {steps}")
    met = r["peak_mb"] < ISO_GOAL_MB and r["valid"]
    print(
        f"{'PASS' if met else 'FAIL'} isochrone run peak {r['peak_mb']:,.0f} MB (goal < {ISO_GOAL_MB:,.0f} MB), "
        f"{r['polygons']:,} polygons, all valid: {r['valid']}"
    )
    return met


def report_faces(iso: dict) -> bool:
    """Street faces' cost per node across the sizes (goal: within 1.5x of each other)."""
    per = {size: r["faces_us_per_node"] for size, r in iso.items() if r}
    spread = max(per.values()) / min(per.values())
    cells = ", ".join(f"{size:,} nodes {us:.1f} us" for size, us in per.items())
    met = spread <= 1.5
    print(
        f"\n{'PASS' if met else 'FAIL'} street faces per node: {cells}; largest / smallest {spread:.2f} (goal <= 1.5)"
    )
    return met


def report(results: dict) -> bool:
    """Print one size's table; True when the array path met the memory goal."""
    first = next((r for r in results.values() if r), None)
    if first is None:
        return False
    print(f"{first['nodes']:,} nodes, {first['edges']:,} directed edges, {first['facilities']:,} facilities, 15 min")
    head = f"{'path':<38} {'peak RSS':>9} {'total s':>8}  steps (s)"
    print(head)
    print("-" * (len(head) + 60))
    for name, r in results.items():
        if r is None:
            print(f"{name:<38} failed")
            continue
        steps = "; ".join(f"{k} {v:.2f}" for k, v in r["steps"].items())
        print(f"{name:<38} {r['peak_mb']:>6,.0f} MB {r['wall']:>8.1f}  {steps}")
    a, b = results.get("(a) arrays: walk_network_from_file"), results.get("(b) networkx: walk_graph_from_file")
    met = a is not None and a["peak_mb"] < GOAL_MB
    if a is not None:
        print(f"{'PASS' if met else 'FAIL'} array path peak {a['peak_mb']:,.0f} MB (goal < {GOAL_MB:,.0f} MB)")
    if a is not None and b is not None:
        print(f"memory networkx / arrays: {b['peak_mb'] / a['peak_mb']:.2f}x; time {b['wall'] / a['wall']:.2f}x")
        same_ids = np.array_equal(a["ids"], b["ids"])
        va, vb = a["values"], b["values"]
        diff = np.nanmax(np.abs(va - vb)) * 60.0 if same_ids and va.shape == vb.shape else np.inf
        nan_mismatch = int((np.isnan(va) != np.isnan(vb)).sum()) if same_ids and va.shape == vb.shape else -1
        good = same_ids and diff <= 1e-6 and nan_mismatch == 0
        print(
            f"{'PASS' if good else 'FAIL'} same times on both paths: same nodes {same_ids}, max |diff| "
            f"{diff:.1e} s, {nan_mismatch} reached by one only"
        )
    return met


if __name__ == "__main__":
    sys.exit(main())
