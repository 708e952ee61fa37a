"""Evaluate a rules file against the data: one row per (unit, rule) - the gap table.

Status is ``met``, ``gap`` or ``no data``. Missing data never passes as ``met``: a
facility category with no facility anywhere in the data (often one that OpenStreetMap
does not map, such as 公共法律服务工作室) gives ``no data``, because absent from the data
is not the same as absent on the ground; so do units with no households, facilities
without floor area, or a rule about a column the layer lacks. How each kind of rule
judges a unit is in :mod:`dz_gis.plan.kinds`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict

import geopandas as gpd
import pandas as pd

from .._validate import require_columns
from ..catalog import Catalog, default_catalog
from ..network.prepared import Network
from ..scopes import Units, build_units, compound_units, units_containing
from .kinds import RULE_KINDS, Evidence, Verdict
from .rules import Rule, RuleSet

__all__ = ["GAP_COLUMNS", "flag_gaps"]

logger = logging.getLogger(__name__)

#: Columns of the gap table, in order.
GAP_COLUMNS = [
    "scope",
    "unit_id",
    "unit_name",
    "rule_id",
    "title_zh",
    "title_en",
    "kind",
    "status",
    "severity",
    "required",
    "actual",
    "required_value",
    "actual_value",
    "shortfall",
    "shortfall_unit",
    "detail",
    "clause",
    "verified",
]
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_WHY_NO_UNITS = {
    "street": "the community layer has no 'street' (街道) column",
    "district": "the community layer has no 'district' (区县) column",
    "compound": "no compounds were given",
}


def flag_gaps(
    rules: RuleSet,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    compounds: gpd.GeoDataFrame | None = None,
    times: pd.DataFrame | None = None,
    graph: Network | None = None,
    catalog: Catalog | None = None,
    units: Units | None = None,
    horizon_min: float | None = None,
    surveyed: Iterable[str] = (),
) -> pd.DataFrame:
    """Check every rule against every unit of its scope.

    Parameters
    ----------
    rules
        From :func:`dz_gis.load_rules`.
    communities
        Standard community layer (``community_id``, ``households``, optional ``street``,
        ``district``, ``community_type``).
    facilities
        Facility points with ``category`` and, for floor-area rules, ``area_m2``.
    compounds
        Residential compounds with ``community_id`` and ``households``; needed by reach rules.
    times
        Walking minutes from each compound to the nearest facility of each category
        (``nearest_times(...).demand``); computed from ``graph`` when omitted.
    graph
        Walking graph, used only when ``times`` is omitted and a reach rule needs it.
    units
        Units already built from these layers by :func:`dz_gis.scopes.build_units` (else built here).
    horizon_min
        How far the walking times were computed: an empty time means none within it, and a
        median or percentile beyond it is reported as "over <horizon> min", never as the
        median of the compounds that were reached.
    surveyed
        Categories (ids, names or aliases) whose facility lists are complete, e.g. a civil-affairs
        register of 社区养老服务综合体: when the data holds none, their rules read ``gap`` (none
        built), not ``no data``. Absent from a list is not absent on the ground unless it says so.

    Returns
    -------
    pandas.DataFrame
        :data:`GAP_COLUMNS`: one row per (unit, rule), worst first.
    """
    require_columns(facilities, ["category", "geometry"], "facilities")
    units = units if units is not None else build_units(communities, compounds)
    if times is None and compounds is not None and graph is not None and any(r.kind == "reach" for r in rules):
        from ..access.times import nearest_times

        times = nearest_times(graph, facilities, demand=compounds).demand
    evidence = Evidence(
        units=units,
        facilities=facilities,
        catalog=catalog or default_catalog(),
        facility_unit={scope: units_containing(frame, facilities) for scope, frame in units.items()},
        compounds=compounds,
        times=times,
        compound_unit=compound_units(units, compounds),
        horizon_min=horizon_min,
        surveyed=frozenset((catalog or default_catalog()).resolve_all(surveyed, where="surveyed")),
    )
    rows: list[dict] = []
    for rule in sorted(rules, key=lambda r: RULE_KINDS[r.kind].counts_other_rules):
        frame = _evaluate(rule, evidence)
        evidence.results[rule.id] = frame
        rows.extend(frame.to_dict("records"))
    table = pd.DataFrame(rows, columns=GAP_COLUMNS)
    order = {"gap": 0, "no data": 1, "met": 2}
    table = table.assign(
        _s=table["status"].map(order),
        _v=table["severity"].map(_SEVERITY_ORDER),
        _r=table["rule_id"].map({r.id: i for i, r in enumerate(rules)}),
    ).sort_values(["_s", "_v", "_r", "unit_id"], kind="stable")
    return table.drop(columns=["_s", "_v", "_r"]).reset_index(drop=True)


def _evaluate(rule: Rule, evidence: Evidence) -> pd.DataFrame:
    units = evidence.units.get(rule.scope)
    if units is None or len(units) == 0:
        verdict = Verdict("no data", "—", detail=_WHY_NO_UNITS.get(rule.scope, "no units"))
        return pd.DataFrame([_row(rule, "—", f"no {rule.scope} units", verdict)], columns=GAP_COLUMNS)
    for col, want in rule.applies_to.items():
        if col not in units:
            why = f"the {rule.scope} layer has no {col!r} column, which this rule applies by"
            verdict = Verdict("no data", "—", detail=why)
            return pd.DataFrame([_row(rule, "—", f"all {rule.scope} units", verdict)], columns=GAP_COLUMNS)
        kept = units[units[col].isin(want if isinstance(want, list) else [want])]
        if len(kept) == 0:  # say so: a rule that applies to nobody is not silently skipped
            present = ", ".join(sorted(map(str, units[col].dropna().unique()))[:8]) or "none"
            why = f"no {rule.scope} unit has {col} = {want!r} (values in the layer: {present})"
            verdict = Verdict("no data", "—", detail=why)
            return pd.DataFrame([_row(rule, "—", f"all {rule.scope} units", verdict)], columns=GAP_COLUMNS)
        units = kept
    evaluate = RULE_KINDS[rule.kind].evaluate
    rows = [
        _row(rule, unit["unit_id"], unit["unit_name"], evaluate(rule.params, unit, evidence, rule.scope))
        for _, unit in units.iterrows()
    ]
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def _row(rule: Rule, unit_id: str, unit_name: str, verdict: Verdict) -> dict:
    """A gap-table row: the rule's own columns around the unit's verdict."""
    row = asdict(verdict)
    row["detail"] = (verdict.detail + ("" if rule.verified else " [standard unverified]")).strip()
    return {
        "scope": rule.scope,
        "unit_id": unit_id,
        "unit_name": unit_name,
        "rule_id": rule.id,
        "title_zh": rule.title_zh,
        "title_en": rule.title_en,
        "kind": rule.kind,
        "severity": rule.severity,
        "clause": rule.clause,
        "verified": rule.verified,
        **row,
    }
