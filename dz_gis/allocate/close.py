"""Close the plan's gaps: the fewest new facilities so that every unit meets the named rules.

For each facility category the rules name, one exact model (HiGHS):

- a ``reach`` rule (e.g. 90 % of a community's households within 15 minutes of a
  kindergarten) asks, for every unit it applies to, that the weight of its compounds within
  the minutes of an existing or new site reaches the share;
- a ``count`` or ``presence`` rule (e.g. one elderly-care complex per street) asks for that
  many sites inside the unit, existing ones counted;
- the objective is the fewest new sites; among those, the most demand weight within reach.

A category missing from the data counts as none built (the gap table says "no data" there:
closing it means building them). A unit that no set of candidates can bring to the target is
not allowed to make the whole problem infeasible: it is left out and reported in
``unfixable`` with the best it could reach. The result is judged again by
:func:`dz_gis.pipeline.check_plan`, so ``rows`` shows each targeted row before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import InfeasibleError, ValidationError
from ..access.matrix import od_matrix, od_times
from ..catalog import Catalog, default_catalog
from ..network.prepared import Network
from ..pipeline import CoverageRun, PlanCheck
from ..plan.rules import Rule, RuleSet
from ..scopes import build_units, compound_units, units_containing
from ._highs import Milp
from .after import changed_rows, quiet_check, run_after
from .candidates import network_candidates
from .inputs import within_minutes

__all__ = ["GapClosure", "close_gaps"]

_CLOSABLE = {"reach", "count", "presence"}


@dataclass
class GapClosure:
    """What :func:`close_gaps` proposes."""

    sites: gpd.GeoDataFrame  #: new sites (WGS84): ``proposal_id``, ``category``, ``community_id``…
    rows: pd.DataFrame  #: every targeted (rule, unit) row: status before and after
    unfixable: pd.DataFrame  #: units no candidates can bring to the target, with the best they can reach
    solves: pd.DataFrame  #: per category: new sites, status, mip_gap, seconds
    after: CoverageRun  #: the run with the new sites added
    notes: list[str] = field(default_factory=list)


def close_gaps(
    check: PlanCheck,
    rule_ids: list[str],
    candidates: gpd.GeoDataFrame | None = None,
    *,
    run: CoverageRun,
    rules: RuleSet,
    graph: Network,
    spacing_m: float = 150.0,
    time_limit: float | None = None,
    catalog: Catalog | None = None,
) -> GapClosure:
    """The fewest new facilities so that every unit meets the rules ``rule_ids`` (see the module text).

    Parameters
    ----------
    check
        The plan check of ``run`` (its rows say which units each rule applies to).
    rule_ids
        Rules of kind ``reach``, ``count`` or ``presence`` to meet.
    candidates
        Candidate sites (any CRS); default :func:`dz_gis.allocate.network_candidates` inside the
        communities. Each category gets its own copy.
    """
    catalog = catalog or default_catalog()
    chosen = _rules(rules, rule_ids)
    if candidates is None:
        candidates = network_candidates(graph, run.communities, spacing_m=spacing_m)
    units = build_units(run.communities, run.compounds)
    by_cat: dict[str, list[Rule]] = {}
    for rule in chosen:
        by_cat.setdefault(rule.params["category"], []).append(rule)
    sites, unfixable, solves = [], [], []
    for category, cat_rules in by_cat.items():
        opened, lost, solve = _close_category(category, cat_rules, check, run, graph, candidates, units)
        new = candidates.iloc[opened].to_crs(4326).reset_index(drop=True)
        new = new.assign(category=category, name_zh=f"拟建{catalog[category].name_zh}")
        sites.append(new)
        unfixable.extend(lost)
        solves.append({"category": category, "new_sites": len(opened), **solve})
    site_frame = _label(pd.concat(sites, ignore_index=True), units)
    after = run_after(run, graph, site_frame) if len(site_frame) else run
    rows = changed_rows(check, quiet_check(after, rules, check), rule_ids, every=True)
    return GapClosure(
        sites=site_frame,
        rows=rows,
        unfixable=pd.DataFrame(unfixable, columns=["rule_id", "scope", "unit_id", "reason", "best_possible"]),
        solves=pd.DataFrame(solves),
        after=after,
    )


def _rules(rules: RuleSet, rule_ids: list[str]) -> list[Rule]:
    known = {r.id: r for r in rules.rules}
    missing = [r for r in rule_ids if r not in known]
    if missing:
        raise ValidationError(f"rules {missing} are not in {rules.name}; its rules: {sorted(known)[:12]}…")
    bad = [f"{r} ({known[r].kind})" for r in rule_ids if known[r].kind not in _CLOSABLE]
    if bad:
        raise ValidationError(f"close_gaps can meet rules of kind {sorted(_CLOSABLE)} by building sites; not {bad}.")
    return [known[r] for r in rule_ids]


# long: one model per category, its rows built rule by rule (reach rows need coverage, counts need units)
def _close_category(
    category: str,
    cat_rules: list[Rule],
    check: PlanCheck,
    run: CoverageRun,
    graph: Network,
    candidates: gpd.GeoDataFrame,
    units: Any,
) -> tuple[np.ndarray, list[tuple[Any, ...]], dict[str, Any]]:
    existing = run.facilities[run.facilities["category"] == category]
    n_cand = len(candidates)
    milp = Milp(minimize=True)
    y0 = milp.add_columns(np.ones(n_cand), 0.0, 1.0, integer=True)
    lost: list[tuple[Any, ...]] = []
    reach_rules = [r for r in cat_rules if r.kind == "reach"]
    if reach_rules:
        cover, pre = _coverage(graph, run, candidates, existing, max(float(r.params["minutes"]) for r in reach_rules))
    member = compound_units(units, run.compounds)
    bonus_total = len(reach_rules)
    for rule in cat_rules:
        rows = check.gaps[check.gaps["rule_id"] == rule.id]
        if rule.kind == "reach":
            minutes, share = float(rule.params["minutes"]), float(rule.params["min_share"])
            weight = rule.params.get("weight", "households")
            w = pd.to_numeric(run.compounds[weight], errors="coerce").fillna(0).to_numpy(dtype=float)
            within = within_minutes(cover, minutes)
            done = (pre <= minutes + 1e-9).astype(float)
            # z_i ≤ Σ y over the candidates within the minutes; z_i = 1 already where an existing site reaches
            z0 = milp.add_columns(-0.5 * w / max(w.sum(), 1e-9) / bonus_total, 0.0, 1.0 - done, integer=False)
            a = within.tocoo()
            n = len(w)
            milp.add_rows(
                np.r_[np.arange(n), a.row],
                np.r_[z0 + np.arange(n), y0 + a.col],
                np.r_[np.ones(n), -np.ones(a.nnz)],
                -np.inf,
                0.0,
                n,
            )
            reachable = done + (np.asarray(within.sum(axis=1)).ravel() > 0) * (1 - done)
            for _, row in rows.iterrows():
                mine = member.get(row["scope"], np.array([])) == str(row["unit_id"])
                total = w[mine].sum()
                if total <= 0:
                    continue
                best = float((w[mine] * reachable[mine]).sum() / total)
                if best < share - 1e-12:
                    lost.append((rule.id, row["scope"], row["unit_id"], "no candidate set reaches the share", best))
                    continue
                need = share * total - float((w[mine] * done[mine]).sum())
                if need > 1e-9:
                    cols = np.flatnonzero(mine)
                    milp.add_rows(np.zeros(len(cols)), z0 + cols, w[cols], need - 1e-9, np.inf, 1)
        else:
            k = int(rule.params.get("min_count", 1))
            scope = rule.scope
            cand_unit = units_containing(units[scope], candidates).astype(object).to_numpy()
            ex_unit = units_containing(units[scope], existing).value_counts() if len(existing) else pd.Series(dtype=int)
            for _, row in rows.iterrows():
                need = k - int(ex_unit.get(str(row["unit_id"]), 0))
                cols = np.flatnonzero(cand_unit == str(row["unit_id"]))
                if need <= 0:
                    continue
                if len(cols) < need:
                    lost.append((rule.id, scope, row["unit_id"], f"only {len(cols)} candidates inside", len(cols)))
                    continue
                milp.add_rows(np.zeros(len(cols)), y0 + cols, 1.0, float(need), np.inf, 1)
    if milp.n_rows == 0:
        return np.empty(0, dtype=np.int64), lost, {"status": "nothing to close", "mip_gap": 0.0, "solve_s": 0.0}
    result = milp.solve()
    if result is None:  # pragma: no cover - every row was checked to be reachable alone
        raise InfeasibleError(f"close_gaps: the {category} rules cannot all be met together with these candidates.")
    opened = np.flatnonzero(result.x[:n_cand] > 0.5)
    return opened, lost, {"status": result.status, "mip_gap": result.mip_gap, "solve_s": round(result.solve_s, 3)}


def _coverage(
    graph: Network, run: CoverageRun, candidates: gpd.GeoDataFrame, existing: gpd.GeoDataFrame, minutes: float
) -> tuple[Any, np.ndarray]:
    """Compounds × candidates minutes (sparse, within ``minutes``) and each compound's minutes to an existing site."""
    od = od_times(graph, run.compounds, candidates, cutoff_min=minutes)
    cover = od_matrix(od, run.compounds, candidates)
    pre = np.full(len(run.compounds), np.inf)
    if len(existing):
        od_ex = od_times(graph, run.compounds, existing, cutoff_min=minutes)
        best = od_ex.groupby("origin")["minutes"].min()
        pre = best.reindex(run.compounds.index).fillna(np.inf).to_numpy()
    return cover, pre


def _label(sites: pd.DataFrame, units: Any) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(sites, geometry="geometry", crs=4326)
    number = frame.groupby("category").cumcount() + 1
    frame.insert(0, "proposal_id", [f"G-{c}-{n}" for c, n in zip(frame["category"], number, strict=True)])
    frame.insert(1, "facility_id", frame["proposal_id"])
    frame["community_id"] = units_containing(units["community"], frame).to_numpy()
    if "street" in units:
        frame["street"] = units_containing(units["street"], frame).to_numpy()
    return frame
