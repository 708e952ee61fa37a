"""Benchmark the siting models (dz_gis.allocate, HiGHS) against spopt + PuLP + CBC on the same instances.

Run from the repository root::

    python scripts/bench_allocate.py            # the three instances of the issue, full size
    python scripts/bench_allocate.py --quick    # smaller versions, for a fast look

Instances (same cost matrix, same objective, both solved to proven optimality):

(a) sparse MCLP: 5,000 demand x 1,000 candidates at random nodes of a 200,000-node synthetic
    street grid, 15 minutes, p = 20; ours gets od_matrix's sparse matrix, spopt the dense one;
(b) dense MCLP: 2,000 x 500 at random nodes of the bundled sample's walking graph (central
    Helsinki), 5 minutes, p = 10;
(c) p-median: 1,000 x 200 on the sample graph, every pair reachable (checked), p = 10.

Weights are random whole numbers. spopt gets the dense matrix with 1e6 for pairs beyond the
cutoff (above every service time); its p_facilities counts existing sites, ours new ones only
(no existing sites here, so the same p). Timed one after the other in one run: ours =
from_cost_matrix + solve (build and reduce, then HiGHS; for MCLP the reduction also solves the LP
relaxation and a restricted model for its start and bound: that time is in "build", what HiGHS
spends proving the optimum on the model left is "solve"); spopt = from_cost_matrix (the PuLP
model), then solve with PULP_CBC_CMD(msg=False) and results=False (its answer tables are not
timed). The OD matrix is computed once, outside both timings. Objectives must agree to 1e-6
relative or the check FAILs (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from dz_gis import load_sample, od_matrix, od_times
from dz_gis.allocate import MCLP, PMedian
from dz_gis.datasets import synthetic_street_graph

UNREACHABLE = 1e6  # spopt's value for a pair beyond the cutoff
# PuLP 3.x deprecations hit by spopt 0.7 and by PULP_CBC_CMD; they do not change the answer
warnings.filterwarnings("ignore", message="Constructing LpVariable", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated", category=DeprecationWarning)


@dataclass
class Instance:
    label: str
    model: str  # "MCLP" or "PMedian"
    cost: sp.csr_matrix  # minutes of the reachable pairs (explicit zeros kept)
    weights: np.ndarray
    p: int
    service_min: float | None
    goal: float
    ours_dense: bool  # give ours the dense array (np.inf) rather than the sparse matrix


@dataclass
class Result:
    instance: Instance
    sizes: dict
    ours_build: float
    ours_solve: float
    ours_total: float
    ours_objective: float
    ours_status: str
    spopt_build: float
    spopt_solve: float
    spopt_objective: float
    spopt_status: str


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def points_at(graph: nx.MultiDiGraph, nodes: np.ndarray, prefix: str) -> gpd.GeoDataFrame:
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    index = pd.Index([f"{prefix}{i}" for i in range(len(nodes))])
    return gpd.GeoDataFrame(index=index, geometry=gpd.points_from_xy(*xy.T), crs=graph.graph["crs"])


def od_cost(graph, rng, n_demand: int, n_cand: int, cutoff: float) -> sp.csr_matrix:
    """Demand and candidates at random nodes of the largest strongly connected part; minutes within ``cutoff``."""
    core = np.array(sorted(max(nx.strongly_connected_components(graph), key=len), key=str), dtype=object)
    demand = points_at(graph, rng.choice(core, n_demand, replace=False), "d")
    cands = points_at(graph, rng.choice(core, n_cand, replace=False), "c")
    od = od_times(graph, demand, cands, cutoff_min=cutoff, reach_m=0.0)
    return od_matrix(od, demand, cands)


def dense(cost: sp.csr_matrix, fill: float) -> np.ndarray:
    out = np.full(cost.shape, fill)
    coo = cost.tocoo()
    out[coo.row, coo.col] = coo.data
    return out


def run_ours(inst: Instance):
    cost = dense(inst.cost, np.inf) if inst.ours_dense else inst.cost
    cls = MCLP if inst.model == "MCLP" else PMedian
    t_from, model = timed(
        lambda: cls.from_cost_matrix(cost, service_min=inst.service_min, p=inst.p, weights=inst.weights)
    )
    t_solve, model = timed(model.solve)
    return model, t_from, t_from + t_solve


def run_spopt(inst: Instance):
    import pulp
    from spopt.locate import MCLP as SpMCLP
    from spopt.locate import PMedian as SpPMedian

    cost = dense(inst.cost, UNREACHABLE)
    if inst.model == "MCLP":
        t_build, model = timed(lambda: SpMCLP.from_cost_matrix(cost, inst.weights, inst.service_min, inst.p))
    else:
        t_build, model = timed(lambda: SpPMedian.from_cost_matrix(cost, inst.weights, inst.p))
    t_solve, model = timed(lambda: model.solve(pulp.PULP_CBC_CMD(msg=False), results=False))
    return t_build, t_solve, float(model.problem.objective.value()), pulp.LpStatus[model.problem.status]


def bench(inst: Instance, skip_spopt: bool) -> Result:
    print(f"{inst.label}: ours…", file=sys.stderr, flush=True)
    model, t_from, t_ours = run_ours(inst)
    if skip_spopt:
        sp_build = sp_solve = sp_obj = float("nan")
        sp_status = "skipped"
    else:
        print(f"{inst.label}: spopt…", file=sys.stderr, flush=True)
        sp_build, sp_solve, sp_obj, sp_status = run_spopt(inst)
    return Result(
        inst,
        model.sizes,
        t_from + model.build_s,
        model.solve_s,
        t_ours,
        model.objective,
        model.status,
        sp_build,
        sp_solve,
        sp_obj,
        sp_status,
    )


def instances(quick: bool, rng: np.random.Generator, nodes: int | None, only: str) -> list[Instance]:
    if quick:
        n_nodes, a, b, c = nodes or 50_000, (1_000, 200, 10), (500, 150, 5), (300, 80, 5)
    else:
        n_nodes, a, b, c = nodes or 200_000, (5_000, 1_000, 20), (2_000, 500, 10), (1_000, 200, 10)
    out: list[Instance] = []
    if "a" in only:
        out.append(sparse_mclp(rng, n_nodes, a))
    if "b" not in only and "c" not in only:
        return out
    sample = load_sample().graph
    if "b" in only:
        out.append(dense_mclp(rng, sample, b))
    if "c" in only:
        out.append(p_median(rng, sample, c))
    return out


def sparse_mclp(rng, n_nodes, a) -> Instance:
    print(f"(a) graph: synthetic street grid, {n_nodes:,} nodes; OD within 15 min", file=sys.stderr, flush=True)
    grid = synthetic_street_graph(n_nodes)
    cost = od_cost(grid, rng, a[0], a[1], 15.0)
    return Instance(
        f"(a) sparse MCLP {a[0]:,} x {a[1]:,}, 15 min, p={a[2]}, {n_nodes:,}-node grid",
        "MCLP",
        cost,
        rng.integers(1, 21, a[0]).astype(float),
        a[2],
        15.0,
        100.0,
        False,
    )


def dense_mclp(rng, sample, b) -> Instance:
    print("(b) graph: sample (central Helsinki); OD within 5 min", file=sys.stderr, flush=True)
    cost = od_cost(sample, rng, b[0], b[1], 5.0)
    return Instance(
        f"(b) dense MCLP {b[0]:,} x {b[1]:,}, 5 min, p={b[2]}, sample graph",
        "MCLP",
        cost,
        rng.integers(1, 21, b[0]).astype(float),
        b[2],
        5.0,
        5.0,
        True,
    )


def p_median(rng, sample, c) -> Instance:
    print("(c) graph: sample; OD of every pair", file=sys.stderr, flush=True)
    cutoff = 240.0
    cost = od_cost(sample, rng, c[0], c[1], cutoff)
    if cost.nnz != c[0] * c[1] or cost.data.max() >= cutoff:
        raise SystemExit(f"(c) p-median: {cost.nnz:,} of {c[0] * c[1]:,} pairs within {cutoff:g} min; raise the cutoff")
    return Instance(
        f"(c) p-median {c[0]:,} x {c[1]:,}, all pairs (max {cost.data.max():.0f} min), p={c[2]}, sample graph",
        "PMedian",
        cost,
        rng.integers(1, 21, c[0]).astype(float),
        c[2],
        None,
        4.0,
        True,
    )


def report(results: list[Result]) -> bool:
    ok = True
    print(
        f"\n{'instance':<74}{'pairs':>11}  {'rows→':>6}{'cands':>6}"
        f"{'ours build':>11}{'solve':>8}{'total':>8}{'spopt build':>12}{'CBC':>8}{'total':>8}{'ratio':>8}{'goal':>7}"
    )
    for r in results:
        s = r.sizes
        sp_total = r.spopt_build + r.spopt_solve
        ratio = sp_total / r.ours_total
        print(
            f"{r.instance.label:<74}{r.instance.cost.nnz:>11,}  "
            f"{s.get('demand_rows', 0):>6}{s.get('candidates', 0):>6}"
            f"{r.ours_build:>11.3f}{r.ours_solve:>8.3f}{r.ours_total:>8.3f}"
            f"{r.spopt_build:>12.2f}{r.spopt_solve:>8.2f}{sp_total:>8.2f}{ratio:>7.1f}x{r.instance.goal:>6.0f}x"
        )
        print(f"{'':<74}{'reduced to':>11}  {s.get('model_rows', 0):>6}{s.get('model_candidates', 0):>6}")
    print("checks:")
    for r in results:
        if r.spopt_status == "skipped":
            print(f"  ---- {r.instance.label}: spopt skipped; ours {r.ours_objective:.6g} ({r.ours_status})")
            continue
        same = abs(r.ours_objective - r.spopt_objective) <= 1e-6 * max(1.0, abs(r.spopt_objective))
        optimal = r.ours_status == "optimal" and r.spopt_status == "Optimal"
        met = (r.spopt_build + r.spopt_solve) / r.ours_total >= r.instance.goal
        ok &= same and optimal
        print(
            f"  {'PASS' if same and optimal else 'FAIL'} {r.instance.label}: objective ours {r.ours_objective:.10g} "
            f"({r.ours_status}), spopt {r.spopt_objective:.10g} ({r.spopt_status}); "
            f"goal {r.instance.goal:g}x {'met' if met else 'MISSED'}"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller instances (50,000-node grid, 1,000 x 200 …)")
    parser.add_argument("--nodes", type=int, default=None, help="nodes of the synthetic grid for (a)")
    parser.add_argument("--only", default="abc", help="instances to run, e.g. 'bc'")
    parser.add_argument("--no-spopt", action="store_true", help="time ours only (no check)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    chosen = instances(args.quick, rng, args.nodes, args.only)
    results = [bench(i, args.no_spopt) for i in chosen]
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
