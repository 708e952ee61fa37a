"""The ``dz-gis`` command line: parse, call the public API, report DzGisError as a message."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import TYPE_CHECKING

from ._errors import DzGisError

if TYPE_CHECKING:  # pragma: no cover
    from .allocate.presets import Proposals
    from .catalog import Catalog
    from .pipeline import CoverageRun, PlanCheck
    from .plan import RuleSet

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .allocate.presets import propose_elderly_care, propose_toilets
    from .catalog import default_catalog
    from .datasets import load_sample
    from .outputs import check_writable, write_outputs
    from .pipeline import check_plan, run_coverage
    from .plan import load_rules

    check_writable(args.out)  # before the analysis, not after it
    t0 = time.perf_counter()
    sample = load_sample()
    graph = sample.graph
    t_graph = time.perf_counter() - t0
    rules = load_rules(args.rules)
    t1 = time.perf_counter()
    run = run_coverage(graph, sample.communities, sample.compounds, sample.facilities, minutes=args.minutes)
    check = check_plan(run, rules)
    t_check = time.perf_counter() - t1
    t2 = time.perf_counter()
    proposals = [
        propose_elderly_care(run, rules, graph=graph, check=check),
        propose_toilets(run, rules, graph=graph, p=args.toilets, check=check),
    ]
    t_site = time.perf_counter() - t2
    written = write_outputs(run, check, args.out, attribution=sample.attribution, proposals=proposals)
    elapsed = time.perf_counter() - t0

    comm = sample.communities
    streets = comm["street"].nunique() if "street" in comm else 0
    print(sample.attribution)
    print(
        f"Walking graph: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges "
        f"(built in {t_graph:.1f} s); {len(comm)} provisional community units in {streets} provisional "
        f"streets (街道), {len(sample.compounds)} compounds ({sample.compounds['households'].sum():,.0f} "
        f"households, estimated), {len(sample.facilities)} facilities."
    )
    _print_coverage(run, default_catalog())
    _print_plan_check(check, rules, t_check)
    _print_proposals(proposals, t_site)
    print(f"\nWrote {', '.join(str(p) for p in written.values())} in {elapsed:.1f} s.")
    return 0


def _print_coverage(run: CoverageRun, cat: Catalog) -> None:
    u = run.unreachable
    far = u[u["too_far"]]
    isl = u[u["near_island"] & ~u["too_far"]]
    print(
        f"Unreachable (more than 250 m from the network): {int((far['layer'] == 'facility').sum())} facilities, "
        f"{int((far['layer'] == 'compound').sum())} compounds. Nearest street on a disconnected fragment, "
        f"timed from the main network instead: {int((isl['layer'] == 'facility').sum())} facilities, "
        f"{int((isl['layer'] == 'compound').sum())} compounds (columns reachable / near_island in the GeoPackage)."
    )
    print()
    bands = [f"hh_share_{m}min" for m in run.minutes]
    table = run.summary[run.summary["facilities"] > 0]
    print(f"{'category':<24}{'设施':<18}{'n':>4}" + "".join(f"{m:>8} min" for m in run.minutes))
    for key, row in table.iterrows():
        name = cat[str(key)].name_zh
        pad = 20 - sum(2 if ord(ch) > 127 else 1 for ch in name)
        print(f"{key:<24}{name}{' ' * max(pad, 1)}{row['facilities']:>4}" + "".join(f"{row[b]:>12.0%}" for b in bands))
    missing = [f"{cat[c].name_zh} ({c})" for c in run.summary.index[run.summary["facilities"] == 0]]
    print(f"\nNo facilities found for {len(missing)} categories: {', '.join(missing)}.")


def _print_plan_check(check: PlanCheck, rules: RuleSet, seconds: float) -> None:
    gaps = check.gaps
    counts = gaps["status"].value_counts()
    print(
        f"\nPlan check ({rules.name}): {len(rules)} rules, {len(gaps)} unit-rule rows in {seconds:.1f} s "
        f"(coverage + gaps + indicators): {counts.get('gap', 0)} gaps, {counts.get('met', 0)} met, "
        f"{counts.get('no data', 0)} no data."
    )
    worst = gaps[gaps["status"] == "gap"].head(10)
    if len(worst):
        print("Worst gaps 最突出的短板:")
        for _, row in worst.iterrows():
            short = (
                f", {row['shortfall']:,.0f} {row['shortfall_unit']} short of the target"
                if row["shortfall"] == row["shortfall"]
                else ""
            )
            print(
                f"  [{row['severity']}] {row['unit_name']}: {row['title_zh']} — needs {row['required']}, "
                f"has {row['actual']}{short} ({row['clause']})"
            )
    ind = check.indicators
    supported = ind[ind["actual"] != "—"]
    print(f"Indicators 主要指标: {len(supported)} of {len(ind)} computable from the data")
    for _, row in supported.iterrows():
        print(f"  {row['indicator_zh']}: {row['actual']} (target {row['target']}, {row['status']})")
    if check.register is not None:
        r = check.register
        print(
            f"Register check 区划核对: {len(r.matched)} of {len(r.matched) + len(r.unknown) + len(r.ambiguous)} "
            "units match the 2023 register (the sample's units are provisional, so none should)."
        )


def _print_proposals(proposals: list[Proposals], seconds: float) -> None:
    print(f"\nProposed sites 选址建议 (exact MCLP, HiGHS; {seconds:.1f} s):")
    for prop in proposals:
        m = prop.model
        share = m.objective / m.inputs.weights.sum() if m.inputs.weights.sum() else float("nan")
        gap = "proven optimal" if m.status == "optimal" else f"time limit, gap {m.mip_gap:.2%}"
        name = prop.sites["name_zh"].iloc[0] if len(prop.sites) else prop.model.name
        n_open = 0 if m.selected is None else len(m.selected)
        print(
            f"  {name}: {len(prop.sites)} new (p = {m.p}), {prop.demand_weight} within {prop.minutes:g} min at "
            f"{prop.walk_m_per_min:g} m/min: {share:.0%} after ({gap}); {n_open} sites open in all"
        )
        for _, site in prop.sites.iterrows():
            street = f", {site['street']}" if "street" in site and site["street"] == site["street"] else ""
            print(
                f"    {site['proposal_id']}: in {site['community_id']}{street}, serves {site['serves']:,.0f} "
                f"{prop.demand_weight} (may stand up to {site.get('moved_m', 0):.0f} m from the point)"
            )
        closed = prop.gaps
        if len(closed):
            moves = closed.groupby(["status_before", "status_after"]).size()
            said = ", ".join(f"{n} {b} → {a}" for (b, a), n in moves.items())
            print(f"    gap rows changed: {said}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dz-gis`` command."""
    parser = argparse.ArgumentParser(prog="dz-gis", description="15-minute life-circle coverage analysis")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the coverage analysis on the bundled sample")
    demo.add_argument("--out", default="out", help="output folder (default: out)")
    demo.add_argument("--minutes", type=int, nargs="+", default=[5, 10, 15], help="walking bands")
    demo.add_argument("--rules", default=None, help="rules file (default: the Dazhou plan's rules)")
    demo.add_argument("--toilets", type=int, default=3, help="new public toilets to propose (default: 3)")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except DzGisError as exc:
        print(f"dz-gis: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
