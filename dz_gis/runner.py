"""Carry out an analysis step by step, with progress, and print what it found.

:class:`Job` says where the layers and the walking graph come from and what to compute;
:class:`Runner` computes each part once, on first use (graph → layers → coverage → plan check
→ proposals), logging a ``[step] … done in 3.2 s`` line for every step that takes a while.
:func:`run_command` carries out one ``dz-gis`` command (``run``, ``network``, ``coverage``,
``gaps``, ``site``, ``folio``, ``export``) on a project file (:mod:`dz_gis.project`);
:func:`run_demo` is ``dz-gis demo`` on the bundled sample. Both print through the same
functions.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from ._errors import ValidationError
from ._progress import ticking, track

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from .allocate.presets import Proposals
    from .catalog import Catalog
    from .pipeline import CoverageRun, PlanCheck
    from .plan import RuleSet
    from .project import Project

__all__ = ["COMMANDS", "Job", "Runner", "job_from_project", "run_command", "run_demo"]

#: The single-step commands and what each does (``run`` does them all).
COMMANDS = {
    "network": "build and cache the walking network (步行路网), print its size",
    "coverage": "walking-time coverage per community (社区覆盖率), coverage_summary.csv",
    "gaps": "check the plan's rules: gaps (短板) and indicators (指标), gaps.csv, indicators.csv",
    "site": "propose sites (选址建议) with the siting presets, proposals.csv",
    "folio": "the printable gap-map folio (图册), folio.pdf",
    "export": "GeoPackage for QGIS, CSV tables and the web map (网页地图)",
}
#: Steps shorter than this (seconds) log no "done in" line.
SLOW_S = 2.0


@dataclass
class Job:
    """What a run needs: sources of the graph and layers, the rules, bands, presets and outputs."""

    load_graph: Callable[[], nx.MultiDiGraph]
    load_layers: Callable[[], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]]
    out: Path
    rules: str | Path | None = None
    register: Path | None = None
    minutes: list[int] = field(default_factory=lambda: [5, 10, 15])
    siting: dict[str, dict[str, Any]] = field(default_factory=dict)
    web_map: bool = True
    folio: bool = True
    attribution: str = ""
    provisional: bool = False  #: the units are derived, not official (the sample's wording)
    progress: bool = True  #: log steps on stderr
    network_name: str = "network"
    title: str = ""  #: printed above the report, heads the web map and the folio
    tiles: str = "OpenStreetMap"  #: the web map's online base
    tiles_attribution: str | None = None
    surveyed: list[str] = field(default_factory=list)  #: categories whose lists are complete


class Runner:
    """Computes the parts of a :class:`Job` once each, on first use, timing every step."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str, what: str) -> Iterator[None]:
        """Time a step; log its start and, when slow, its end on stderr."""
        if self.job.progress:
            print(f"[{name}] {what} …", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        with ticking(f"[{name}]") if self.job.progress else nullcontext():
            yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
        if self.job.progress and self.seconds[name] >= SLOW_S:
            print(f"[{name}] done in {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The walking graph (built, or reloaded from the cache)."""
        with self.step("network", f"walking network (步行路网) from {self.job.network_name}"):
            return self.job.load_graph()

    @cached_property
    def layers(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """Communities, compounds and facilities, read and checked."""
        with self.step("read", "communities (社区), compounds (小区), facilities (设施)"):
            return self.job.load_layers()

    @cached_property
    def rules(self) -> RuleSet:
        """The rules file, read and checked."""
        from .plan import load_rules

        return load_rules(self.job.rules)

    def coverage(self, *, isochrones: bool = True) -> CoverageRun:
        """The coverage run (with the walking circles unless ``isochrones=False`` and not yet computed)."""
        from .pipeline import run_coverage

        if "_coverage" not in self.__dict__ or (isochrones and self.__dict__["_coverage"].isochrones is None):
            graph = self.graph
            communities, compounds, facilities = self.layers
            with self.step("coverage", f"walking times and coverage, {'/'.join(map(str, self.job.minutes))} min"):
                self.__dict__["_coverage"] = run_coverage(
                    graph, communities, compounds, facilities, minutes=self.job.minutes, with_isochrones=isochrones
                )
        return self.__dict__["_coverage"]

    @cached_property
    def check(self) -> PlanCheck:
        """The plan check: gaps, indicators, register."""
        from .pipeline import check_plan
        from .plan import read_register

        run, rules = self.coverage(isochrones=False), self.rules
        register = read_register(self.job.register) if self.job.register is not None else None
        with self.step("gaps", f"plan check ({rules.name})"):
            return check_plan(run, rules, register=register, surveyed=self.job.surveyed)

    @cached_property
    def proposals(self) -> list[Proposals]:
        """What each siting preset of the job proposes (in the job's order)."""
        from .allocate.presets import propose_elderly_care, propose_toilets

        run, check, graph = self.coverage(isochrones=False), self.check, self.graph
        out = []
        with self.step("site", f"siting presets {', '.join(self.job.siting) or '(none)'}"):
            for name, options in track(self.job.siting.items(), "siting 选址", total=len(self.job.siting)):
                preset = propose_elderly_care if name == "elderly_care" else propose_toilets
                out.append(preset(run, self.rules, graph=graph, check=check, **options))
        return out

    def write(self, *, folio: bool | None = None, web_map: bool | None = None) -> dict[str, Path]:
        """Everything :func:`dz_gis.outputs.write_outputs` writes (by default as the job says)."""
        from .outputs import write_outputs

        run, check, proposals = self.coverage(), self.check, self.proposals
        with self.step("export", f"writing the outputs into {self.job.out}"):
            return write_outputs(
                run,
                check,
                self.job.out,
                attribution=self.job.attribution,
                web_map=self.job.web_map if web_map is None else web_map,
                folio=self.job.folio if folio is None else folio,
                proposals=proposals,
                title=self.job.title,
                tiles=self.job.tiles,
                tiles_attribution=self.job.tiles_attribution,
            )


# ----------------------------------------------------------------------------- commands


def run_demo(out: str | Path, *, minutes: list[int], rules: str | None, toilets: int) -> int:
    """``dz-gis demo``: the bundled sample, every output, the full report (no progress lines)."""
    from .datasets import load_sample
    from .outputs import check_writable

    check_writable(out)  # before the analysis, not after it
    t0 = time.perf_counter()
    sample = load_sample()
    job = Job(
        load_graph=lambda: sample.graph,
        load_layers=lambda: (sample.communities, sample.compounds, sample.facilities),
        out=Path(out),
        rules=rules,
        minutes=list(minutes),
        siting={"elderly_care": {}, "toilets": {"p": toilets}},
        attribution=sample.attribution,
        provisional=True,
        progress=False,
    )
    runner = Runner(job)
    _ = runner.graph
    t_graph = time.perf_counter() - t0
    written = runner.write()
    print_report(runner, written, time.perf_counter() - t0, graph_s=t_graph)
    return 0


def run_command(project: Project, command: str) -> int:
    """Carry out one ``dz-gis`` command (``run`` or one of :data:`COMMANDS`) on a checked project."""
    from .outputs import check_writable, write_csv, write_folio
    from .outputs.bundle import proposed_sites

    if command not in COMMANDS and command != "run":
        raise ValidationError(f"unknown command {command!r}; use run or one of {', '.join(COMMANDS)}.")
    t0 = time.perf_counter()
    if command != "network":
        check_writable(project.out)
    runner = Runner(job_from_project(project))
    out = project.out
    if command == "network":
        print_network(runner.graph, runner.seconds["network"])
    elif command == "coverage":
        run = runner.coverage(isochrones=False)
        print_coverage(run, _catalog())
        _wrote([write_csv(out / "coverage_summary.csv", run.summary)])
    elif command == "gaps":
        check = runner.check
        print_plan_check(check, runner.rules, runner.seconds["coverage"] + runner.seconds["gaps"])
        _wrote(
            [
                write_csv(out / "gaps.csv", check.gaps.drop(columns="geometry")),
                write_csv(out / "indicators.csv", check.indicators),
            ]
        )
    elif command == "site":
        if not project.siting:
            raise ValidationError(
                f"{project.path}: siting: no presets, so nothing to propose. Add e.g. "
                "siting: {elderly_care: {}, toilets: {p: 3}} (选址建议)."
            )
        proposals = runner.proposals
        print_proposals(proposals, runner.seconds["site"])
        sites = proposed_sites(proposals)
        _wrote([] if sites is None else [write_csv(out / "proposals.csv", sites.drop(columns="geometry"))])
    elif command == "folio":
        run, check, sites = runner.coverage(), runner.check, proposed_sites(runner.proposals)
        with runner.step("folio", "the folio PDF (图册)"):
            path = write_folio(
                run, check, out / "folio.pdf", attribution=project.attribution, proposals=sites, title=project.name
            )
        _wrote([path])
    elif command == "export":
        _wrote(list(runner.write(folio=False).values()), one_step=False)
    else:
        written = runner.write()
        print_report(runner, written, time.perf_counter() - t0, graph_s=runner.seconds["network"])
    return 0


def _catalog() -> Catalog:
    from .catalog import default_catalog

    return default_catalog()


def _wrote(paths: list[Path], *, one_step: bool = True) -> None:
    print(f"\nWrote 已写出 {', '.join(str(p) for p in paths) or 'nothing'}.")
    if not (one_step and paths):
        return
    from ._atomic import MANIFEST

    folder = paths[0].parent
    listed = folder / MANIFEST
    others = set(listed.read_text(encoding="utf-8").split()) - {p.name for p in paths} if listed.exists() else set()
    if any((folder / name).exists() for name in others):
        print(
            f"Note 注意: {folder} also holds the files of an earlier complete run ({', '.join(sorted(others)[:4])}"
            f"{' ...' if len(others) > 4 else ''}); only the file(s) above come from this one. Run dz-gis export "
            "(or run) to write every file from one run.",
            file=sys.stderr,
        )


def job_from_project(project: Project) -> Job:
    """The :class:`Job` of a checked project file: its readers, its network, its choices."""
    from .project import graph_loader, layers_loader, network_name

    return Job(
        load_graph=graph_loader(project),
        load_layers=layers_loader(project),
        out=project.out,
        rules=project.rules,
        register=project.register,
        minutes=project.minutes,
        siting=project.siting,
        web_map=project.web_map,
        folio=project.folio,
        attribution=project.attribution,
        network_name=network_name(project),
        title=project.name,
        tiles=project.tiles,
        tiles_attribution=project.tiles_attribution,
        surveyed=project.surveyed,
    )


# ----------------------------------------------------------------------------- printing


def print_report(runner: Runner, written: dict[str, Path], elapsed: float, *, graph_s: float) -> None:
    """The full report of ``dz-gis demo`` / ``dz-gis run``: inputs, coverage, plan check, proposals."""
    job, graph = runner.job, runner.graph
    comm, comp, fac = runner.layers
    run = runner.coverage()
    streets = comm["street"].nunique() if "street" in comm else 0
    households = comp["households"].sum()
    if job.title:
        print(job.title)
    print(job.attribution)
    if job.provisional:
        units = f"{len(comm)} provisional community units in {streets} provisional streets (街道)"
        homes = f"{len(comp)} compounds ({households:,.0f} households, estimated)"
    else:
        units = f"{len(comm)} communities (社区) in {streets} streets (街道)"
        homes = f"{len(comp)} compounds (小区) ({households:,.0f} households)"
    print(
        f"Walking graph: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges "
        f"(built in {graph_s:.1f} s); {units}, {homes}, {len(fac)} facilities."
    )
    print_coverage(run, _catalog())
    check_s = runner.seconds.get("coverage", 0.0) + runner.seconds.get("gaps", 0.0)
    print_plan_check(runner.check, runner.rules, check_s, provisional=job.provisional)
    if runner.proposals:
        print_proposals(runner.proposals, runner.seconds.get("site", 0.0))
    print(f"\nWrote {', '.join(str(p) for p in written.values())} in {elapsed:.1f} s.")


def print_network(graph: nx.MultiDiGraph, seconds: float) -> None:
    """Size of a walking graph."""
    km = sum(d.get("length", 0.0) for _, _, d in graph.edges(data=True)) / 2000.0  # both directions
    print(
        f"Walking network 步行路网: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} directed edges, "
        f"about {km:,.1f} km of ways, CRS {graph.graph.get('crs')} ({seconds:.1f} s; cached for the next run)."
    )


def print_coverage(run: CoverageRun, cat: Catalog) -> None:
    """What could not be reached, and the share of households within each band, by category."""
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


def print_plan_check(check: PlanCheck, rules: RuleSet, seconds: float, *, provisional: bool = False) -> None:
    """Counts of gap rows, the worst gaps, the indicators and the register check."""
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
            "units match the 2023 register"
            + (" (the sample's units are provisional, so none should)." if provisional else " (名录匹配).")
        )
        if len(r.unknown) and not provisional:
            print("  The units not in the register are listed in register_unknown.csv (未匹配的社区).")


def _closes(gaps: Any, proposal_id: str) -> str:
    """'; needed for: U03 (rule), …' — the changed gap rows this one site is needed for."""
    if "closed_by" not in gaps or gaps.empty:
        return ""
    mine = gaps[gaps["closed_by"].astype(str).str.split(", ").map(lambda ids: proposal_id in ids)]
    if mine.empty:
        return ""
    rows = [f"{r['unit_name'] if 'unit_name' in r else r['unit_id']} ({r['rule_id']})" for _, r in mine.iterrows()]
    return "; needed for " + ", ".join(rows[:4]) + (f" and {len(rows) - 4} more" if len(rows) > 4 else "")


def print_proposals(proposals: list[Proposals], seconds: float) -> None:
    """Each preset's new sites and the gap rows they change."""
    print(f"\nProposed sites 选址建议 (exact MCLP, HiGHS; {seconds:.1f} s):")
    for prop in proposals:
        m = prop.model
        cov = prop.coverage  # the compounds' demand only (a toilet model also weighs public spaces)
        share = cov["after"].sum() / cov["weight"].sum() if cov["weight"].sum() else float("nan")
        gap = "proven optimal" if m.status == "optimal" else f"time limit, gap {m.mip_gap:.2%}"
        name = prop.sites["name_zh"].iloc[0] if len(prop.sites) else prop.model.name
        n_open = 0 if m.selected is None else len(m.selected)
        print(
            f"  {name}: {len(prop.sites)} new (p = {m.p}), {prop.demand_weight} within {prop.minutes:g} min at "
            f"{prop.walk_m_per_min:g} m/min: {share:.0%} after ({gap}); {n_open} sites open in all"
        )
        for _, site in prop.sites.iterrows():
            street = f", {site['street']}" if "street" in site and site["street"] == site["street"] else ""
            spaces = site.get("public_spaces", 0)
            also = f" and {spaces:.0f} public spaces" if spaces == spaces and spaces else ""
            print(
                f"    {site['proposal_id']}: in {site['community_id']}{street}, serves {site['serves']:,.0f} "
                f"{prop.demand_weight}{also} (may stand up to {site.get('moved_m', 0):.0f} m from the point)"
                + _closes(prop.gaps, str(site["proposal_id"]))
            )
        closed = prop.gaps
        if len(closed):
            moves = closed.groupby(["status_before", "status_after"]).size()
            said = ", ".join(f"{n} {b} → {a}" for (b, a), n in moves.items())
            print(f"    gap rows changed: {said}")
