"""Evaluate a rules file against the data: one row per (unit, rule) - the gap table.

Status is ``met``, ``gap`` or ``no data``. Missing data never passes as ``met``: a
facility category with no facility anywhere in the data (often one that OpenStreetMap
does not map, such as 公共法律服务工作室) gives ``no data``, because absent from the data
is not the same as absent on the ground; so do units with no households, facilities
without floor area, or a rule about a column the layer lacks.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from ._errors import ValidationError
from ._validate import require_columns
from .catalog import Catalog, default_catalog
from .coords import metric_crs_for
from .rules import Rule, RuleSet

__all__ = ["GAP_COLUMNS", "Units", "build_units", "flag_gaps"]

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


class Units(dict):
    """Units of each scope: ``{scope: GeoDataFrame}``.

    Each frame has ``unit_id``, ``unit_name``, ``households``, ``population`` and polygon
    geometry (compounds may be points).
    """


def build_units(communities: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame | None = None) -> Units:
    """Units at every scope: compounds, communities, and streets/districts/city dissolved from communities."""
    require_columns(communities, ["community_id", "geometry"], "communities")
    metric = _metric(communities)
    comm = communities.to_crs(metric)
    units = Units()
    base = pd.DataFrame(
        {
            "unit_id": comm["community_id"].astype(str).to_numpy(),
            "unit_name": comm["name"].to_numpy() if "name" in comm else comm["community_id"].to_numpy(),
            "households": _num(comm, "households"),
            "population": _num(comm, "population"),
        }
    )
    keep = [c for c in comm.columns if c not in base.columns and c != "geometry"]
    units["community"] = gpd.GeoDataFrame(
        pd.concat([base, comm[keep].reset_index(drop=True)], axis=1),
        geometry=comm.geometry.to_numpy(),
        crs=metric,
    )
    for scope, col in (("street", "street"), ("district", "district")):
        if col in comm and comm[col].notna().any():
            grouped = units["community"].assign(_g=comm[col].to_numpy())
            grouped = grouped[grouped["_g"].notna()]
            units[scope] = _dissolve(grouped, "_g")
    city = units["community"].assign(_g="city")
    units["city"] = _dissolve(city, "_g")
    units["city"]["unit_name"] = "全市 whole area"
    if compounds is not None and len(compounds):
        comp = compounds.to_crs(metric)
        units["compound"] = gpd.GeoDataFrame(
            {
                "unit_id": comp["compound_id"].astype(str).to_numpy(),
                "unit_name": comp["name"].to_numpy() if "name" in comp else comp["compound_id"].to_numpy(),
                "households": _num(comp, "households"),
                "population": _num(comp, "population"),
                "community_id": comp["community_id"].astype(str).to_numpy() if "community_id" in comp else None,
            },
            geometry=comp.geometry.to_numpy(),
            crs=metric,
        )
    return units


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return (
        pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        if col in frame
        else np.full(len(frame), np.nan)
    )


def _dissolve(frame: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    def total(s: pd.Series) -> float:
        return float(s.sum()) if s.notna().all() else np.nan

    out = frame.dissolve(by=key, aggfunc={"households": total, "population": total})
    out = out.reset_index().rename(columns={key: "unit_id"})
    out["unit_name"] = out["unit_id"].astype(str)
    out["unit_id"] = out["unit_id"].astype(str)
    out["communities"] = frame.groupby(key).size().reindex(out["unit_id"]).to_numpy()
    return out[["unit_id", "unit_name", "households", "population", "communities", "geometry"]]


def _metric(gdf: gpd.GeoDataFrame):
    if gdf.crs is None:
        raise ValidationError("communities have no CRS; set one with .set_crs(...).")
    if gdf.crs.is_projected:
        return gdf.crs
    lon, lat = gdf.to_crs(4326).union_all().centroid.coords[0]
    return metric_crs_for(lon, lat)


def _facilities_in(units: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.Series:
    """Unit id of each facility (NaN where outside every unit)."""
    pts = facilities.to_crs(units.crs)
    polys = units[units.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        return pd.Series(np.nan, index=facilities.index, dtype=object)
    joined = gpd.sjoin(pts[["geometry"]], polys[["unit_id", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    return joined["unit_id"].reindex(facilities.index)


def _fmt(x: float, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    text = f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"
    return f"{text} {unit}".strip()


def flag_gaps(
    rules: RuleSet,
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    compounds: gpd.GeoDataFrame | None = None,
    times: pd.DataFrame | None = None,
    graph: nx.MultiDiGraph | None = None,
    catalog: Catalog | None = None,
    units: Units | None = None,
) -> pd.DataFrame:
    """Check every rule against every unit of its scope.

    Parameters
    ----------
    rules
        From :func:`dz_gis.rules.load_rules`.
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
        Units already built from these layers by :func:`build_units` (else built here).

    Returns
    -------
    pandas.DataFrame
        :data:`GAP_COLUMNS`: one row per (unit, rule), worst first.
    """
    catalog = catalog or default_catalog()
    require_columns(facilities, ["category", "geometry"], "facilities")
    units = units if units is not None else build_units(communities, compounds)
    present = set(facilities["category"].unique())
    if times is None and compounds is not None and graph is not None and any(r.kind == "reach" for r in rules):
        from .access import nearest_times

        times = nearest_times(graph, facilities, demand=compounds).demand
    where = {scope: _facilities_in(frame, facilities) for scope, frame in units.items()}
    comp_unit = _compound_units(units, compounds)
    ctx = _Context(units, facilities, present, where, compounds, times, comp_unit, catalog)
    rows: list[dict] = []
    results: dict[str, pd.DataFrame] = {}
    for rule in sorted(rules, key=lambda r: r.kind == "share_target"):
        frame = _evaluate(rule, ctx, results)
        results[rule.id] = frame
        rows.extend(frame.to_dict("records"))
    table = pd.DataFrame(rows, columns=GAP_COLUMNS)
    order = {"gap": 0, "no data": 1, "met": 2}
    table = table.assign(
        _s=table["status"].map(order),
        _v=table["severity"].map(_SEVERITY_ORDER),
        _r=table["rule_id"].map({r.id: i for i, r in enumerate(rules)}),
    ).sort_values(["_s", "_v", "_r", "unit_id"], kind="stable")
    return table.drop(columns=["_s", "_v", "_r"]).reset_index(drop=True)


def _compound_units(units: Units, compounds: gpd.GeoDataFrame | None) -> dict[str, np.ndarray]:
    """For each scope, the unit id of every compound (via its community)."""
    if compounds is None or "community_id" not in compounds:
        return {}
    comm_id = compounds["community_id"].astype(str).to_numpy()
    out = {"community": comm_id, "city": np.full(len(compounds), "city", dtype=object)}
    comm = units["community"].set_index("unit_id")
    for scope, col in (("street", "street"), ("district", "district")):
        if scope in units and col in comm:
            out[scope] = comm[col].astype(str).reindex(comm_id).to_numpy()
    out["compound"] = compounds["compound_id"].astype(str).to_numpy()
    return out


class _Context:
    def __init__(self, units, facilities, present, where, compounds, times, comp_unit, catalog):
        self.units = units
        self.facilities = facilities
        self.present = present
        self.where = where
        self.compounds = compounds
        self.times = times
        self.comp_unit = comp_unit
        self.catalog = catalog


def _row(
    rule: Rule,
    unit: pd.Series,
    status: str,
    required: str,
    actual: str,
    required_value: float,
    actual_value: float,
    shortfall: float,
    shortfall_unit: str,
    detail: str = "",
) -> dict:
    return {
        "scope": rule.scope,
        "unit_id": unit["unit_id"],
        "unit_name": unit["unit_name"],
        "rule_id": rule.id,
        "title_zh": rule.title_zh,
        "title_en": rule.title_en,
        "kind": rule.kind,
        "status": status,
        "severity": rule.severity,
        "required": required,
        "actual": actual,
        "required_value": required_value,
        "actual_value": actual_value,
        "shortfall": shortfall,
        "shortfall_unit": shortfall_unit,
        "detail": (detail + ("" if rule.verified else " [standard unverified]")).strip(),
        "clause": rule.clause,
        "verified": rule.verified,
    }


def _evaluate(rule: Rule, ctx: _Context, results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    units = ctx.units.get(rule.scope)
    if units is None or len(units) == 0:
        fake = pd.Series({"unit_id": "—", "unit_name": f"no {rule.scope} units"})
        why = {
            "street": "the community layer has no 'street' (街道) column",
            "district": "the community layer has no 'district' (区县) column",
            "compound": "no compounds were given",
        }.get(rule.scope, "no units")
        return pd.DataFrame([_row(rule, fake, "no data", "—", "—", np.nan, np.nan, np.nan, "", why)])
    units = _applies(rule, units)
    if isinstance(units, str):
        fake = pd.Series({"unit_id": "—", "unit_name": f"all {rule.scope} units"})
        return pd.DataFrame([_row(rule, fake, "no data", "—", "—", np.nan, np.nan, np.nan, "", units)])
    check: Callable = _KINDS[rule.kind]
    rows = [check(rule, unit, ctx, results) for _, unit in units.iterrows()]
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def _applies(rule: Rule, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame | str:
    for col, want in rule.applies_to.items():
        if col not in units:
            return f"the {rule.scope} layer has no {col!r} column, which this rule applies by"
        wanted = want if isinstance(want, list) else [want]
        units = units[units[col].isin(wanted)]
    return units


def _in_unit(ctx: _Context, rule: Rule, unit: pd.Series, category: str) -> pd.DataFrame:
    fac = ctx.facilities
    mask = (fac["category"] == category).to_numpy() & (ctx.where[rule.scope] == unit["unit_id"]).to_numpy()
    return fac[mask]


def _name(ctx: _Context, category: str) -> str:
    return ctx.catalog[category].name_zh


def _unmapped(rule: Rule, unit: pd.Series, ctx: _Context, category: str, required: str, req_value: float):
    return _row(
        rule,
        unit,
        "no data",
        required,
        "—",
        req_value,
        np.nan,
        np.nan,
        "",
        f"no {_name(ctx, category)} ({category}) anywhere in the facility data; supply a list of them",
    )


def _presence(rule, unit, ctx, results, min_count=None):
    cat = rule.param("category")
    need = min_count or rule.param("min_count", 1)
    required = f"≥ {need} {_name(ctx, cat)}"
    if cat not in ctx.present:
        return _unmapped(rule, unit, ctx, cat, required, need)
    n = len(_in_unit(ctx, rule, unit, cat))
    status = "met" if n >= need else "gap"
    return _row(rule, unit, status, required, f"{n}", need, n, max(need - n, 0), "facilities")


def _count(rule, unit, ctx, results):
    return _presence(rule, unit, ctx, results, min_count=rule.param("min_count"))


def _reach(rule, unit, ctx, results):
    cat, minutes, share = rule.param("category"), rule.param("minutes"), rule.param("min_share")
    weight = rule.param("weight", "households")
    required = f"≥ {share:.0%} of {weight} within {minutes:g} min"
    if cat not in ctx.present:
        return _unmapped(rule, unit, ctx, cat, required, share)
    if ctx.compounds is None or ctx.times is None or rule.scope not in ctx.comp_unit:
        return _row(
            rule,
            unit,
            "no data",
            required,
            "—",
            share,
            np.nan,
            np.nan,
            "",
            "needs compounds (with community_id) and walking times",
        )
    mine = ctx.comp_unit[rule.scope] == str(unit["unit_id"])
    w = (
        pd.to_numeric(ctx.compounds[weight], errors="coerce").to_numpy(dtype=float)[mine]
        if weight in ctx.compounds
        else np.array([])
    )
    if len(w) == 0 or not np.isfinite(w).all() or w.sum() <= 0:
        return _row(rule, unit, "no data", required, "—", share, np.nan, np.nan, "", f"no {weight} in this unit")
    t = ctx.times[cat].to_numpy(dtype=float)[mine] if cat in ctx.times else np.full(len(w), np.nan)
    covered = w[t <= minutes].sum()
    total = w.sum()
    actual = covered / total
    short = max(math.ceil(share * total - covered - 1e-9), 0)
    status = "met" if actual >= share - 1e-12 else "gap"
    finite = t[np.isfinite(t)]
    detail = (
        f"median {np.median(finite):.1f} min, 90th percentile {np.percentile(finite, 90):.1f} min"
        if len(finite)
        else "no compound reaches one"
    )
    return _row(rule, unit, status, required, f"{actual:.0%}", share, actual, short, weight, detail)


def _area_per_households(rule, unit, ctx, results):
    cat, per100 = rule.param("category"), rule.param("m2_per_100_households")
    required = f"≥ {per100:g} m² per 100 households"
    if cat not in ctx.present:
        return _unmapped(rule, unit, ctx, cat, required, per100)
    hh = unit["households"]
    if not np.isfinite(hh) or hh <= 0:
        return _row(rule, unit, "no data", required, "—", per100, np.nan, np.nan, "", "households unknown")
    fac = _in_unit(ctx, rule, unit, cat)
    area = pd.to_numeric(fac["area_m2"], errors="coerce") if "area_m2" in fac else pd.Series(dtype=float)
    if len(fac) and area.isna().any():
        return _row(
            rule,
            unit,
            "no data",
            required,
            "—",
            per100,
            np.nan,
            np.nan,
            "",
            f"{int(area.isna().sum())} {_name(ctx, cat)} without floor area (area_m2)",
        )
    total = float(area.sum())
    actual = total / hh * 100
    short = max(per100 * hh / 100 - total, 0.0)
    status = "met" if actual >= per100 - 1e-9 else "gap"
    return _row(
        rule,
        unit,
        status,
        required,
        f"{actual:.1f} m²/100 hh",
        per100,
        actual,
        short,
        "m²",
        f"{total:,.0f} m² for {hh:,.0f} households",
    )


def _min_area(rule, unit, ctx, results):
    cat, need = rule.param("category"), rule.param("min_m2")
    required = f"largest {_name(ctx, cat)} ≥ {need:g} m²"
    if cat not in ctx.present:
        return _unmapped(rule, unit, ctx, cat, required, need)
    fac = _in_unit(ctx, rule, unit, cat)
    if len(fac) == 0:
        return _row(rule, unit, "gap", required, f"no {_name(ctx, cat)}", need, 0.0, need, "m²")
    area = pd.to_numeric(fac["area_m2"], errors="coerce") if "area_m2" in fac else pd.Series(np.nan, index=fac.index)
    if area.isna().all():
        return _row(rule, unit, "no data", required, "—", need, np.nan, np.nan, "", "floor area (area_m2) unknown")
    best = float(area.max())
    status = "met" if best >= need else "gap"
    return _row(rule, unit, status, required, _fmt(best, "m²"), need, best, max(need - best, 0.0), "m²")


def _size_range(rule, unit, ctx, results):
    parts, short, status, unit_name = [], 0.0, "met", ""
    req_text = []
    for col in ("households", "population"):
        bounds = rule.param(col)
        if bounds is None:
            continue
        lo, hi = bounds
        req_text.append(f"{lo:,}–{hi:,} {col}")
        value = unit.get(col, np.nan)
        if not np.isfinite(value):
            return _row(rule, unit, "no data", "; ".join(req_text), "—", np.nan, np.nan, np.nan, "", f"{col} unknown")
        parts.append(f"{value:,.0f} {col}")
        off = lo - value if value < lo else value - hi if value > hi else 0.0
        if off > 0:
            status = "gap"
            if not unit_name:
                short, unit_name = off, col
    return _row(
        rule,
        unit,
        status,
        "; ".join(req_text),
        "; ".join(parts),
        np.nan,
        unit.get("households", np.nan),
        short,
        unit_name or "households",
        "outside the range by the shortfall" if status == "gap" else "",
    )


def _adjacency(rule, unit, ctx, results):
    cat, near, max_m = rule.param("category"), rule.param("near_category"), rule.param("max_m")
    required = f"every {_name(ctx, cat)} within {max_m:g} m of a {_name(ctx, near)}"
    for c in (cat, near):
        if c not in ctx.present:
            return _unmapped(rule, unit, ctx, c, required, max_m)
    fac = _in_unit(ctx, rule, unit, cat)
    if len(fac) == 0:
        return _row(
            rule,
            unit,
            "no data",
            required,
            "—",
            max_m,
            np.nan,
            np.nan,
            "",
            f"no {_name(ctx, cat)} in this unit to check",
        )
    crs = ctx.units[rule.scope].crs
    others = ctx.facilities[ctx.facilities["category"] == near].to_crs(crs).geometry.to_numpy()
    d = shapely.distance(fac.to_crs(crs).geometry.to_numpy()[:, None], others[None, :]).min(axis=1)
    far = int((d > max_m).sum())
    status = "met" if far == 0 else "gap"
    return _row(
        rule,
        unit,
        status,
        required,
        f"nearest {_fmt(float(d.max()), 'm')}",
        max_m,
        float(d.max()),
        far,
        "facilities",
        f"{far} of {len(d)} too far",
    )


def _share_target(rule, unit, ctx, results):
    base = results.get(rule.param("of_rule"))
    target = rule.param("target")
    required = f"≥ {target:.0%} of units meet {rule.param('of_rule')}"
    if base is None or len(base) == 0:
        return _row(
            rule,
            unit,
            "no data",
            required,
            "—",
            target,
            np.nan,
            np.nan,
            "",
            "the rule it counts was not evaluated",
        )
    scope = base["scope"].iloc[0]
    if rule.scope == "city":
        mine = base
    else:
        members = ctx.units["community"]
        col = {"district": "district", "street": "street"}.get(rule.scope)
        if scope != "community" or col is None or col not in members:
            return _row(rule, unit, "no data", required, "—", target, np.nan, np.nan, "", "cannot group the units")
        ids = set(members.loc[members[col].astype(str) == str(unit["unit_id"]), "unit_id"])
        mine = base[base["unit_id"].isin(ids)]
    judged = mine[mine["status"] != "no data"]
    if len(judged) == 0:
        return _row(rule, unit, "no data", required, "—", target, np.nan, np.nan, "", "no unit could be judged")
    met = int((judged["status"] == "met").sum())
    actual = met / len(judged)
    short = max(math.ceil(target * len(judged) - met - 1e-9), 0)
    status = "met" if actual >= target - 1e-12 else "gap"
    return _row(
        rule,
        unit,
        status,
        required,
        f"{actual:.0%} ({met} of {len(judged)})",
        target,
        actual,
        short,
        f"{scope} units",
        f"{len(mine) - len(judged)} without data",
    )


_KINDS: dict[str, Callable] = {
    "presence": _presence,
    "count": _count,
    "reach": _reach,
    "area_per_households": _area_per_households,
    "min_area": _min_area,
    "size_range": _size_range,
    "adjacency": _adjacency,
    "share_target": _share_target,
}
