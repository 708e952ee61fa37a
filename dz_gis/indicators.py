"""The plan's indicator table (表2 主要指标): target beside actual, for what the data supports.

City-level share targets come from the rules file's ``share_target`` rules at city scope
(their actual values are in the gap table). Service floor area per 100 households is
computed city-wide. Compound-level governance indicators are computed when the compound
layer carries the columns named in :data:`COMPOUND_INDICATORS`; every other indicator is
listed with the data that would support it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import RuleSet

__all__ = ["COMPOUND_INDICATORS", "UNSUPPORTED", "indicators"]

#: Table 2 indicators about compounds: (column with yes/no per compound, zh, en, target share, clause).
COMPOUND_INDICATORS = [
    ("has_party_org", "建立党组织的小区占比", "Compounds with a Party organisation", 2 / 3, "表2"),
    ("has_property_management", "实施物业管理的小区占比", "Compounds with property management", 0.60, "表2"),
    ("smart_security", "智慧安防小区占比", "Compounds with smart security", 0.80, "表2"),
]

#: Indicators no spatial layer can support, with the data that would.
UNSUPPORTED = [
    (
        "每万名城镇常住人口拥有社区工作者（人）",
        "Community workers per 10,000 urban residents",
        "18",
        "staff register per community + resident population",
    ),
    (
        "社区专职工作者中取得社会工作职业资格证书比例",
        "Share of community workers with a social-work qualification",
        "15%",
        "staff register with qualifications",
    ),
    (
        "每年新增备案社区社会组织（个）",
        "New registered community social organisations per year",
        "100 + 100",
        "civil-affairs registration records",
    ),
    (
        "主城区社区党群服务中心亲民化改造验收完成率",
        "Party-mass centres renovated and accepted (main urban area)",
        "100%",
        "renovation project list with acceptance dates",
    ),
    (
        "成立业主委员会的小区（个）",
        "Compounds with an owners' committee",
        "≥ 700",
        "compound column has_owners_committee",
    ),
    (
        "注册志愿者占常住人口比例（每万人）",
        "Registered volunteers per 10,000 residents",
        "≥ 1,800",
        "volunteer register + population",
    ),
]


def indicators(
    gaps: pd.DataFrame,
    rules: RuleSet,
    *,
    communities: pd.DataFrame | None = None,
    facilities: pd.DataFrame | None = None,
    compounds: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The indicator table: one row per indicator, supported or not.

    Returns
    -------
    pandas.DataFrame
        ``indicator_zh, indicator_en, target, actual, status, basis, clause``; status is
        ``met``, ``gap`` or ``no data`` (with ``basis`` saying what data is missing).
    """
    rows = []
    for rule in rules:
        if rule.kind != "share_target" or rule.scope != "city":
            continue
        hit = gaps[(gaps["rule_id"] == rule.id)]
        actual = hit["actual"].iloc[0] if len(hit) else "—"
        status = hit["status"].iloc[0] if len(hit) else "no data"
        rows.append(
            {
                "indicator_zh": rule.title_zh,
                "indicator_en": rule.title_en,
                "target": f"≥ {rule.param('target'):.0%}",
                "actual": actual,
                "status": status,
                "basis": f"share of units meeting rule {rule.param('of_rule')}"
                + (f"; {hit['detail'].iloc[0]}" if len(hit) and hit["detail"].iloc[0] else ""),
                "clause": rule.clause,
            }
        )
    rows.append(_area_per_100(rules, communities, facilities))
    for col, zh, en, target, clause in COMPOUND_INDICATORS:
        rows.append(_compound_share(compounds, col, zh, en, target, clause))
    for zh, en, target, need in UNSUPPORTED:
        rows.append(
            {
                "indicator_zh": zh,
                "indicator_en": en,
                "target": target,
                "actual": "—",
                "status": "no data",
                "basis": f"not in the spatial data; needs {need}",
                "clause": "表2",
            }
        )
    return pd.DataFrame(rows, columns=["indicator_zh", "indicator_en", "target", "actual", "status", "basis", "clause"])


def _area_per_100(rules: RuleSet, communities, facilities) -> dict:
    rule = next((r for r in rules if r.kind == "area_per_households"), None)
    per100 = rule.param("m2_per_100_households") if rule else 30.0
    cat = rule.param("category") if rule else "community_service"
    row = {
        "indicator_zh": "每百户居民拥有社区综合服务设施面积（平方米）",
        "indicator_en": "Community service floor area per 100 households (m²)",
        "target": f"≥ {per100:g}",
        "actual": "—",
        "status": "no data",
        "clause": rule.clause if rule else "表2",
    }
    if communities is None or facilities is None or "households" not in communities:
        return {**row, "basis": "needs communities with households and facilities with area_m2"}
    hh = pd.to_numeric(communities["households"], errors="coerce")
    fac = facilities[facilities["category"] == cat]
    area = pd.to_numeric(fac["area_m2"], errors="coerce") if "area_m2" in fac else pd.Series(dtype=float)
    if hh.isna().any() or hh.sum() <= 0:
        return {**row, "basis": "households unknown for some communities"}
    if len(fac) == 0 or area.isna().any():
        missing = int(area.isna().sum()) if len(fac) else 0
        return {**row, "basis": f"floor area (area_m2) missing for {missing} of {len(fac)} {cat} facilities"}
    actual = float(area.sum() / hh.sum() * 100)
    return {
        **row,
        "actual": f"{actual:.1f}",
        "status": "met" if actual >= per100 else "gap",
        "basis": f"{area.sum():,.0f} m² / {hh.sum():,.0f} households, whole area",
    }


def _compound_share(compounds, col, zh, en, target, clause) -> dict:
    row = {
        "indicator_zh": zh,
        "indicator_en": en,
        "target": f"≥ {target:.0%}",
        "actual": "—",
        "status": "no data",
        "clause": clause,
    }
    if compounds is None or col not in compounds:
        return {**row, "basis": f"needs compound column {col} (yes/no per compound)"}
    values = compounds[col].map(_truthy)
    known = values.dropna()
    if len(known) == 0:
        return {**row, "basis": f"compound column {col} is empty"}
    share = float(np.mean(known.astype(bool)))
    return {
        **row,
        "actual": f"{share:.0%}",
        "status": "met" if share >= target else "gap",
        "basis": f"{int(known.sum())} of {len(known)} compounds ({len(values) - len(known)} unknown)",
    }


def _truthy(value) -> bool | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "是", "有"}:
        return True
    if text in {"0", "false", "no", "n", "否", "无"}:
        return False
    return None
