"""Rule kinds: what each kind of rule takes, how it is checked on load, and how it is judged.

One :class:`RuleKind` entry per kind in :data:`RULE_KINDS` holds everything about it: its
parameters (types, whether required, what they mean, the value check), a check across its
parameters, and the evaluator that judges one unit. The rules-file loader
(:mod:`dz_gis.plan.rules`) and the gap table (:mod:`dz_gis.plan.gaps`) only read this
registry, so a new kind is one new entry here (and its test).

An evaluator gets the rule's parameters, one unit (a row of :class:`dz_gis.scopes.Units`)
and the :class:`Evidence` of the run, and returns a :class:`Verdict`. Missing data never
passes as met: a category with no facility anywhere in the data gives ``no data``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..access.coverage import covered_within
from ..catalog import Catalog
from ..scopes import Units, member_communities

__all__ = ["NUMBER", "Param", "RuleKind", "Verdict", "Evidence", "RULE_KINDS", "positive"]

#: Types a number parameter accepts (YAML gives int or float).
NUMBER = (int, float)
NAN = float("nan")


@dataclass(frozen=True)
class Param:
    """One parameter of a rule kind."""

    types: tuple[type, ...]
    required: bool
    description: str
    #: returns what is wrong with a value ("must be positive"), or None when it is fine
    check: Callable[[Any], str | None] | None = None
    #: the value is a facility category id of the catalog
    category: bool = False
    #: the value is the id of another rule of the same file
    rule_ref: bool = False


@dataclass(frozen=True)
class Verdict:
    """How one unit fares against one rule: a row of the gap table without the rule's own columns."""

    status: str  #: met, gap or no data
    required: str  #: the requirement, in words
    actual: str = "—"  #: what the unit has, in words
    required_value: float = NAN
    actual_value: float = NAN
    shortfall: float = NAN  #: how far from the target, in ``shortfall_unit``
    shortfall_unit: str = ""
    detail: str = ""


@dataclass
class Evidence:
    """What the evaluators judge units by: the units, the facilities in them, the walking times."""

    units: Units
    facilities: gpd.GeoDataFrame
    catalog: Catalog
    #: scope -> unit id of the polygon each facility lies in (NaN outside every unit)
    facility_unit: Mapping[str, pd.Series]
    compounds: gpd.GeoDataFrame | None = None
    #: minutes from each compound to the nearest facility of each category
    times: pd.DataFrame | None = None
    #: scope -> unit id of each compound
    compound_unit: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: gap rows of the rules judged so far, by rule id (share_target counts them)
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: minutes the walking times were computed to (an empty time: none within it), when known
    horizon_min: float | None = None
    #: categories whose facility lists are complete: none in the data means none built (a gap)
    surveyed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.present = set(self.facilities["category"].unique()) | set(self.surveyed)

    def facilities_in(self, scope: str, unit: pd.Series, category: str) -> gpd.GeoDataFrame:
        """The facilities of ``category`` inside ``unit``."""
        fac = self.facilities
        mask = (fac["category"] == category).to_numpy() & (self.facility_unit[scope] == unit["unit_id"]).to_numpy()
        return fac[mask]

    def name(self, category: str) -> str:
        """The category's Chinese name."""
        return self.catalog[category].name_zh

    def unmapped(self, category: str, required: str, required_value: float) -> Verdict:
        """No facility of ``category`` anywhere in the data: no data, never a gap (unless surveyed)."""
        return Verdict(
            "no data",
            required,
            required_value=required_value,
            detail=f"no {self.name(category)} ({category}) anywhere in the facility data; supply a list of them, "
            "or name the category as surveyed (surveyed=) if the list is complete and there are none",
        )


Evaluator = Callable[[Mapping[str, Any], pd.Series, Evidence, str], Verdict]


@dataclass(frozen=True)
class RuleKind:
    """A kind of rule: its parameters, a check across them, and the evaluator of one unit."""

    name: str
    summary: str
    params: Mapping[str, Param]
    evaluate: Evaluator
    #: returns what is wrong with the parameters taken together, or None
    check: Callable[[Mapping[str, Any]], str | None] | None = None
    #: for an indicator that reads a city-wide rule of this kind: its target and basis in words
    target_text: Callable[[Mapping[str, Any]], str] | None = None
    basis_text: Callable[[Mapping[str, Any]], str] | None = None

    @property
    def counts_other_rules(self) -> bool:
        """Judged from other rules' results (a parameter names a rule), so judged after them."""
        return any(p.rule_ref for p in self.params.values())


# ------------------------------------------------------------------------ parameter checks


def positive(value: Any) -> str | None:
    """What is wrong with a value that must be positive (None: nothing)."""
    return None if value > 0 else "must be positive"  # NaN fails too


def _share(value: Any) -> str | None:
    return None if 0 <= value <= 1 else "is a share between 0 and 1"


def _at_least_one(value: Any) -> str | None:
    return None if value >= 1 else "must be at least 1"


def _range(value: Any) -> str | None:
    ok = (
        len(value) == 2
        and all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in value)
        and value[0] <= value[1]
    )
    return None if ok else "must be [min, max] with min <= max"


def _weight(value: Any) -> str | None:
    return None if value in {"households", "population"} else "must be households or population"


def _category(what: str) -> Param:
    return Param((str,), True, what, category=True)


# ------------------------------------------------------------------------------ evaluators


def _presence(p: Mapping[str, Any], unit: pd.Series, ev: Evidence, scope: str) -> Verdict:
    cat = p["category"]
    need = p.get("min_count", 1)
    required = f"≥ {need} {ev.name(cat)}"
    if cat not in ev.present:
        return ev.unmapped(cat, required, need)
    n = len(ev.facilities_in(scope, unit, cat))
    return Verdict("met" if n >= need else "gap", required, f"{n}", need, n, max(need - n, 0), "facilities")


def _reach(p: Mapping[str, Any], unit: pd.Series, ev: Evidence, scope: str) -> Verdict:
    cat, minutes, share = p["category"], p["minutes"], p["min_share"]
    weight = p.get("weight", "households")
    required = f"≥ {share:.0%} of {weight} within {minutes:g} min"
    if cat not in ev.present:
        return ev.unmapped(cat, required, share)
    if ev.compounds is None or ev.times is None or scope not in ev.compound_unit:
        return Verdict(
            "no data", required, required_value=share, detail="needs compounds (with community_id) and walking times"
        )
    mine = ev.compound_unit[scope] == str(unit["unit_id"])
    w = (
        pd.to_numeric(ev.compounds[weight], errors="coerce").to_numpy(dtype=float)[mine]
        if weight in ev.compounds
        else np.array([])
    )
    if len(w) == 0 or not np.isfinite(w).all() or w.sum() <= 0:
        return Verdict("no data", required, required_value=share, detail=f"no {weight} in this unit")
    t = ev.times[cat].to_numpy(dtype=float)[mine] if cat in ev.times else np.full(len(w), np.nan)
    sums = covered_within(t, w, minutes, np.zeros(len(w))).iloc[0]
    total, covered = float(sums["total"]), float(sums["within"])
    actual = covered / total
    short = max(math.ceil(share * total - covered - 1e-9), 0)
    detail = _time_detail(t, ev.horizon_min)
    status = "met" if actual >= share - 1e-12 else "gap"
    return Verdict(status, required, f"{actual:.0%}", share, actual, short, weight, detail)


def _time_detail(t: np.ndarray, horizon_min: float | None) -> str:
    """Median and 90th percentile of the compounds' times; unreached ones count as beyond every time.

    Examples
    --------
    >>> _time_detail(np.array([2.0, 4.0, 6.0]), 60)
    'median 4.0 min, 90th percentile 5.6 min'
    >>> _time_detail(np.array([2.0, np.nan, np.nan]), 15)
    'median over 15 min, 90th percentile over 15 min'
    >>> _time_detail(np.array([2.0, 4.0, np.nan]), 15)
    'median 4.0 min, 90th percentile over 15 min'
    >>> _time_detail(np.array([np.nan]), 15)
    'no compound reaches one within 15 min'
    """
    if not np.isfinite(t).any():
        return f"no compound reaches one within {horizon_min:g} min" if horizon_min else "no compound reaches one"
    # unreached: a huge finite time rather than inf, whose interpolation weight 0 would give NaN
    known = np.where(np.isfinite(t), t, _UNREACHED)
    beyond = f"over {horizon_min:g} min" if horizon_min else "beyond the times computed"
    parts = []
    for label, q in (("median", 50), ("90th percentile", 90)):
        v = float(np.percentile(known, q))
        parts.append(f"{label} {v:.1f} min" if v < _UNREACHED / 1e10 else f"{label} {beyond}")
    return ", ".join(parts)


_UNREACHED = 1e300


def _area_per_households(p: Mapping[str, Any], unit: pd.Series, ev: Evidence, scope: str) -> Verdict:
    cat, per100 = p["category"], p["m2_per_100_households"]
    required = f"≥ {per100:g} m² per 100 households"
    if cat not in ev.present:
        return ev.unmapped(cat, required, per100)
    hh = unit["households"]
    if not np.isfinite(hh) or hh <= 0:
        return Verdict("no data", required, required_value=per100, detail="households unknown")
    fac = ev.facilities_in(scope, unit, cat)
    area = pd.to_numeric(fac["area_m2"], errors="coerce") if "area_m2" in fac else pd.Series(dtype=float)
    if len(fac) and area.isna().any():
        missing = f"{int(area.isna().sum())} {ev.name(cat)} without floor area (area_m2)"
        return Verdict("no data", required, required_value=per100, detail=missing)
    total = float(area.sum())
    actual = total / hh * 100
    status = "met" if actual >= per100 - 1e-9 else "gap"
    short = max(per100 * hh / 100 - total, 0.0)
    detail = f"{total:,.0f} m² for {hh:,.0f} households"
    return Verdict(status, required, f"{actual:.1f} m²/100 hh", per100, actual, short, "m²", detail)


def _min_area(p: Mapping[str, Any], unit: pd.Series, ev: Evidence, scope: str) -> Verdict:
    cat, need = p["category"], p["min_m2"]
    required = f"largest {ev.name(cat)} ≥ {need:g} m²"
    if cat not in ev.present:
        return ev.unmapped(cat, required, need)
    fac = ev.facilities_in(scope, unit, cat)
    if len(fac) == 0:
        return Verdict("gap", required, f"no {ev.name(cat)}", need, 0.0, need, "m²")
    area = pd.to_numeric(fac["area_m2"], errors="coerce") if "area_m2" in fac else pd.Series(np.nan, index=fac.index)
    if area.isna().all():
        return Verdict("no data", required, required_value=need, detail="floor area (area_m2) unknown")
    best = float(area.max())
    return Verdict(
        "met" if best >= need else "gap", required, _fmt(best, "m²"), need, best, max(need - best, 0.0), "m²"
    )


def _size_range(p: Mapping[str, Any], unit: pd.Series, ev: Evidence, scope: str) -> Verdict:
    parts, req_text = [], []
    short, status, short_unit = 0.0, "met", ""
    for col in ("households", "population"):
        if p.get(col) is None:
            continue
        lo, hi = p[col]
        req_text.append(f"{lo:,}–{hi:,} {col}")
        value = unit.get(col, np.nan)
        if not np.isfinite(value):
            return Verdict("no data", "; ".join(req_text), detail=f"{col} unknown")
        parts.append(f"{value:,.0f} {col}")
        off = lo - value if value < lo else value - hi if value > hi else 0.0
        if off > 0:
            status = "gap"
            if not short_unit:
                short, short_unit = off, col
    detail = "outside the range by the shortfall" if status == "gap" else ""
    households = unit.get("households", np.nan)
    return Verdict(
        status, "; ".join(req_text), "; ".join(parts), NAN, households, short, short_unit or "households", detail
    )


def _adjacency(p: Mapping[str, Any], unit: pd.Series, ev: Evidence, scope: str) -> Verdict:
    cat, near, max_m = p["category"], p["near_category"], p["max_m"]
    required = f"every {ev.name(cat)} within {max_m:g} m of a {ev.name(near)}"
    for c in (cat, near):
        if c not in ev.present:
            return ev.unmapped(c, required, max_m)
    fac = ev.facilities_in(scope, unit, cat)
    if len(fac) == 0:
        return Verdict("no data", required, required_value=max_m, detail=f"no {ev.name(cat)} in this unit to check")
    crs = ev.units[scope].crs
    others = ev.facilities[ev.facilities["category"] == near].to_crs(crs).geometry.to_numpy()
    if len(others) == 0:  # a surveyed category with none anywhere: every one is too far
        return Verdict("gap", required, f"no {ev.name(near)}", max_m, NAN, len(fac), "facilities", "none to be near")
    d = shapely.distance(fac.to_crs(crs).geometry.to_numpy()[:, None], others[None, :]).min(axis=1)
    far = int((d > max_m).sum())
    nearest = float(d.max())
    return Verdict(
        "met" if far == 0 else "gap",
        required,
        f"nearest {_fmt(nearest, 'm')}",
        max_m,
        nearest,
        far,
        "facilities",
        f"{far} of {len(d)} too far",
    )


def _share_target(p: Mapping[str, Any], unit: pd.Series, ev: Evidence, scope: str) -> Verdict:
    base = ev.results.get(p["of_rule"])
    target = p["target"]
    required = f"≥ {target:.0%} of units meet {p['of_rule']}"
    if base is None or len(base) == 0:
        return Verdict("no data", required, required_value=target, detail="the rule it counts was not evaluated")
    base_scope = base["scope"].iloc[0]
    if scope == "city":
        mine = base
    else:
        ids = member_communities(ev.units, scope, str(unit["unit_id"])) if base_scope == "community" else None
        if ids is None:
            return Verdict("no data", required, required_value=target, detail="cannot group the units")
        mine = base[base["unit_id"].isin(ids)]
    judged = mine[mine["status"] != "no data"]
    if len(judged) == 0:
        return Verdict("no data", required, required_value=target, detail="no unit could be judged")
    met = int((judged["status"] == "met").sum())
    actual = met / len(judged)
    short = max(math.ceil(target * len(judged) - met - 1e-9), 0)
    return Verdict(
        "met" if actual >= target - 1e-12 else "gap",
        required,
        f"{actual:.0%} ({met} of {len(judged)})",
        target,
        actual,
        short,
        f"{base_scope} units",
        f"{len(mine) - len(judged)} without data",
    )


def _fmt(x: float, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    text = f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"
    return f"{text} {unit}".strip()


def _needs_a_range(p: Mapping[str, Any]) -> str | None:
    if {"households", "population"} & set(p):
        return None
    return "kind 'size_range' needs households: [min, max] and/or population: [min, max]."


# -------------------------------------------------------------------------------- registry

#: Every rule kind, by name.
RULE_KINDS: dict[str, RuleKind] = {
    kind.name: kind
    for kind in (
        RuleKind(
            "presence",
            "at least one facility of a category inside the unit",
            {"category": _category("facility category id that must be inside the unit")},
            _presence,
        ),
        RuleKind(
            "count",
            "at least min_count facilities of a category inside the unit",
            {
                "category": _category("facility category id"),
                "min_count": Param((int,), True, "facilities of that category required in the unit", _at_least_one),
            },
            _presence,
        ),
        RuleKind(
            "reach",
            "a share of the unit's households (or residents) within m minutes' walk of a category",
            {
                "category": _category("facility category id"),
                "minutes": Param(NUMBER, True, "walking time limit", positive),
                "min_share": Param(NUMBER, True, "share of households (0-1) that must be within the limit", _share),
                "weight": Param((str,), False, "households (default) or population", _weight),
            },
            _reach,
        ),
        RuleKind(
            "area_per_households",
            "floor area of a category per 100 households in the unit",
            {
                "category": _category("facility category id whose floor area counts"),
                "m2_per_100_households": Param(NUMBER, True, "required floor area per 100 households", positive),
            },
            _area_per_households,
            target_text=lambda p: f"≥ {p['m2_per_100_households']:g}",
        ),
        RuleKind(
            "min_area",
            "the unit's largest facility of a category reaches a floor area",
            {
                "category": _category("facility category id"),
                "min_m2": Param(
                    NUMBER, True, "floor area the unit's largest facility of the category must reach", positive
                ),
            },
            _min_area,
        ),
        RuleKind(
            "size_range",
            "the unit's households and/or residents lie within a range",
            {
                "households": Param((list,), False, "[min, max] households", _range),
                "population": Param((list,), False, "[min, max] residents", _range),
            },
            _size_range,
            check=_needs_a_range,
        ),
        RuleKind(
            "adjacency",
            "every facility of a category stands within max_m of one of another category",
            {
                "category": _category("facility category that must stand next to another"),
                "near_category": _category("the category it must be next to"),
                "max_m": Param(NUMBER, True, "largest straight-line distance counted as adjacent", positive),
            },
            _adjacency,
        ),
        RuleKind(
            "share_target",
            "a share of units meets another rule",
            {
                "of_rule": Param((str,), True, "id of the rule whose share of met units is counted", rule_ref=True),
                "target": Param(NUMBER, True, "share (0-1) of units that must meet it", _share),
            },
            _share_target,
            target_text=lambda p: f"≥ {p['target']:.0%}",
            basis_text=lambda p: f"share of units meeting rule {p['of_rule']}",
        ),
    )
}
