"""The plan's indicator table (e.g. Dazhou's 表2 主要指标): target beside actual, from the rules file.

A rules file lists its plan's indicators under ``indicators:``; each names a kind from
:data:`INDICATOR_KINDS`:

``rule``
    A city-wide rule of the same file (usually a ``share_target``): its row in the gap table.
``area_per_households``
    Floor area of a category per 100 households over the whole area.
``compound_share``
    The share of compounds whose yes/no column is yes (是/有/1/true).
``not_spatial``
    An indicator no spatial layer supports; ``needs`` says what data would.

A rules file without ``indicators:`` gives an empty table: indicators belong to a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from .kinds import NUMBER, Param, positive

__all__ = ["INDICATOR_COLUMNS", "INDICATOR_KINDS", "Indicator", "IndicatorKind", "indicator_table"]

#: Columns of the indicator table, in order.
INDICATOR_COLUMNS = ["indicator_zh", "indicator_en", "target", "actual", "status", "basis", "clause"]


@dataclass(frozen=True)
class Indicator:
    """One indicator of a plan, as its rules file states it."""

    id: str
    title_zh: str
    title_en: str
    kind: str
    params: Mapping[str, Any]
    target: str  #: the target as the plan writes it (≥ 90%, 100 + 100 …)
    clause: str
    basis: str = ""  #: for ``rule`` indicators: what the rule counts
    line: int = 0


@dataclass(frozen=True)
class Layers:
    """What the indicators are computed from: the gap table and the run's layers."""

    gaps: pd.DataFrame
    communities: pd.DataFrame | None = None
    facilities: pd.DataFrame | None = None
    compounds: pd.DataFrame | None = None


@dataclass(frozen=True)
class IndicatorKind:
    """A kind of indicator: its parameters, its target in words, its evaluator."""

    name: str
    params: Mapping[str, Param]
    #: returns ``{"actual", "status", "basis"}``
    evaluate: Callable[[Indicator, Layers], dict[str, str]]
    #: the target in words from the parameters (None: the file must give ``target:``)
    target_text: Callable[[Mapping[str, Any]], str] | None = field(default=None)


def indicator_table(
    indicators: tuple[Indicator, ...] | list[Indicator],
    gaps: pd.DataFrame,
    *,
    communities: pd.DataFrame | None = None,
    facilities: pd.DataFrame | None = None,
    compounds: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The indicator table: one row per indicator, supported or not.

    Returns
    -------
    pandas.DataFrame
        :data:`INDICATOR_COLUMNS`; status is ``met``, ``gap`` or ``no data`` (with
        ``basis`` saying what data is missing).
    """
    layers = Layers(gaps, communities, facilities, compounds)
    rows = []
    for ind in indicators:
        result = INDICATOR_KINDS[ind.kind].evaluate(ind, layers)
        rows.append(
            {
                "indicator_zh": ind.title_zh,
                "indicator_en": ind.title_en,
                "target": ind.target,
                **result,
                "clause": ind.clause,
            }
        )
    return pd.DataFrame(rows, columns=INDICATOR_COLUMNS)


def _no_data(basis: str) -> dict[str, str]:
    return {"actual": "—", "status": "no data", "basis": basis}


def _from_rule(ind: Indicator, layers: Layers) -> dict[str, str]:
    gaps = layers.gaps
    hit = gaps[gaps["rule_id"] == ind.params["rule"]]
    if len(hit) == 0:
        return _no_data(f"{ind.basis}; the rule was not evaluated")
    row = hit.iloc[0]
    return {
        "actual": row["actual"],
        "status": row["status"],
        "basis": ind.basis + (f"; {row['detail']}" if row["detail"] else ""),
    }


def _area_per_households(ind: Indicator, layers: Layers) -> dict[str, str]:
    per100, cat = ind.params["m2_per_100_households"], ind.params["category"]
    communities, facilities = layers.communities, layers.facilities
    if communities is None or facilities is None or "households" not in communities:
        return _no_data("needs communities with households and facilities with area_m2")
    hh = pd.to_numeric(communities["households"], errors="coerce")
    fac = facilities[facilities["category"] == cat]
    area = pd.to_numeric(fac["area_m2"], errors="coerce") if "area_m2" in fac else pd.Series(dtype=float)
    if hh.isna().any() or hh.sum() <= 0:
        return _no_data("households unknown for some communities")
    if len(fac) == 0 or area.isna().any():
        missing = int(area.isna().sum()) if len(fac) else 0
        return _no_data(f"floor area (area_m2) missing for {missing} of {len(fac)} {cat} facilities")
    actual = float(area.sum() / hh.sum() * 100)
    return {
        "actual": f"{actual:.1f}",
        "status": "met" if actual >= per100 else "gap",
        "basis": f"{area.sum():,.0f} m² / {hh.sum():,.0f} households, whole area",
    }


def _compound_share(ind: Indicator, layers: Layers) -> dict[str, str]:
    col, target = ind.params["column"], _as_share(ind.params["target"])
    compounds = layers.compounds
    if compounds is None or col not in compounds:
        return _no_data(f"needs compound column {col} (yes/no per compound)")
    values = compounds[col].map(_truthy)
    known = values.dropna()
    if len(known) == 0:
        return _no_data(f"compound column {col} is empty")
    met = int(known.astype(bool).sum())
    return {
        "actual": f"{met / len(known):.0%}",
        "status": "met" if Fraction(met, len(known)) >= target else "gap",
        "basis": f"{met} of {len(known)} compounds ({len(values) - len(known)} unknown)",
    }


def _not_spatial(ind: Indicator, layers: Layers) -> dict[str, str]:
    return _no_data(f"not in the spatial data; needs {ind.params['needs']}")


def _as_share(value: Any) -> Fraction:
    """A share written as a number (0.6) or a fraction ("2/3"), exactly."""
    return Fraction(str(value).strip())


def _share_check(value: Any) -> str | None:
    try:
        share = _as_share(value)
    except (ValueError, ZeroDivisionError):
        return "is a share: a number between 0 and 1 or a fraction such as 2/3"
    return None if 0 <= share <= 1 else "is a share between 0 and 1"


def _truthy(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "是", "有"}:
        return True
    if text in {"0", "false", "no", "n", "否", "无"}:
        return False
    return None


#: Every indicator kind, by name.
INDICATOR_KINDS: dict[str, IndicatorKind] = {
    kind.name: kind
    for kind in (
        IndicatorKind("rule", {"rule": Param((str,), True, "id of a city-scope rule of this file")}, _from_rule),
        IndicatorKind(
            "area_per_households",
            {
                "category": Param((str,), True, "facility category whose floor area counts", category=True),
                "m2_per_100_households": Param(NUMBER, True, "target floor area per 100 households", positive),
            },
            _area_per_households,
            lambda p: f"≥ {p['m2_per_100_households']:g}",
        ),
        IndicatorKind(
            "compound_share",
            {
                "column": Param((str,), True, "compound column with yes/no per compound"),
                "target": Param((int, float, str), True, "share of compounds (0.6 or 2/3)", _share_check),
            },
            _compound_share,
            lambda p: f"≥ {float(_as_share(p['target'])):.0%}",
        ),
        IndicatorKind(
            "not_spatial",
            {"needs": Param((str,), True, "the data that would support it")},
            _not_spatial,
        ),
    )
}
