"""The plan judged again with proposed sites added: the same check_plan as the gap table, so the tables agree."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd

from ..network.prepared import Network
from ..pipeline import CoverageRun, PlanCheck, check_plan, with_facilities
from ..plan.rules import RuleSet

__all__ = ["changed_rows", "quiet_check", "run_after"]


def run_after(run: CoverageRun, graph: Network, sites: gpd.GeoDataFrame) -> CoverageRun:
    """The run with the proposed sites among its facilities, every table of their categories recomputed."""
    cols = [c for c in ("facility_id", "category", "name", "geometry") if c in sites]
    added = sites[cols].to_crs(run.facilities.crs)
    facilities = pd.concat([run.facilities, added], ignore_index=True)
    facilities = gpd.GeoDataFrame(facilities, geometry="geometry", crs=run.facilities.crs)
    return with_facilities(
        run, graph, facilities.drop(columns=["snap_m", "streets", "reachable", "near_island"], errors="ignore")
    )


def quiet_check(run: CoverageRun, rules: RuleSet, like: PlanCheck | None = None) -> PlanCheck:
    """check_plan without repeating the warnings the run already gave; judged as ``like`` was (surveyed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the same warnings were shown for the run itself
        return check_plan(run, rules, surveyed=like.surveyed if like is not None else ())


def changed_rows(before: PlanCheck, after: PlanCheck, rule_ids: list[str], *, every: bool = False) -> pd.DataFrame:
    """The rows of these rules whose status differs between the two checks (``every``: all their rows)."""
    ids = rule_ids
    keys = ["rule_id", "scope", "unit_id"]
    b = pd.DataFrame(before.gaps.drop(columns="geometry"))
    a = pd.DataFrame(after.gaps.drop(columns="geometry"))
    b, a = b[b["rule_id"].isin(ids)], a[a["rule_id"].isin(ids)]
    named = [c for c in ("unit_name", "title_zh", "required", "clause") if c in b]
    merged = b[keys + named + ["status", "actual"]].merge(
        a[keys + ["status", "actual"]], on=keys, suffixes=("_before", "_after")
    )
    if every:
        return merged.reset_index(drop=True)
    return merged[merged["status_before"] != merged["status_after"]].reset_index(drop=True)
