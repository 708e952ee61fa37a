"""The plan's siting questions, ready to ask: elderly-care complexes and public toilets.

Each preset builds an MCLP from a coverage run (its compounds are the demand, its facilities
of the category the existing sites), solves it exactly, and judges the plan again with the
proposed sites added — through the same :func:`dz_gis.pipeline.check_plan` as the gap table —
so the rows a proposal closes are the rows the table would show as met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import ValidationError
from ..catalog import Catalog, default_catalog
from ..network.prepared import Network
from ..pipeline import CoverageRun, PlanCheck
from ..plan.rules import RuleSet
from ..scopes import build_units, units_containing
from .after import changed_rows, quiet_check, run_after
from .candidates import network_candidates
from .models import MCLP

__all__ = [
    "OLDER_WALK_M_PER_MIN",
    "PUBLIC_SPACES",
    "Proposals",
    "propose_elderly_care",
    "propose_toilets",
    "propose_sites",
]

#: Walking speed of older residents, metres per minute: 0.97 m/s, the 15th-percentile speed of
#: pedestrians aged 65 and over measured at crossings by Knoblauch, Pietrucha & Nitzburg (1996),
#: "Field studies of pedestrian walking speed and start-up time", Transportation Research Record 1538.
OLDER_WALK_M_PER_MIN = 58.0

#: Facility categories where people spend time away from home: toilet demand beside the homes.
PUBLIC_SPACES = ("park", "activity_ground", "food_market")

#: Columns of the compound layer that count older residents, looked for in this order.
OLDER_COLUMNS = ("older_residents", "elderly", "pop_60plus", "population_60plus", "老年人口")


@dataclass
class Proposals:
    """What a siting preset proposes and what it changes."""

    sites: gpd.GeoDataFrame  #: the new sites (WGS84): ``proposal_id``, ``category``, ``street``, ``serves``…
    model: MCLP  #: the solved model (``status``, ``mip_gap``, ``objective``…)
    coverage: pd.DataFrame  #: per community: weight within the minutes before and after
    gaps: pd.DataFrame  #: rows of the category's rules whose status changes, before → after, ``closed_by`` which site
    after: CoverageRun  #: the run with the proposed sites added (what the tables would show)
    demand_weight: str  #: the demand column the model weighed (older residents or households)
    walk_m_per_min: float  #: walking speed the minutes assume
    minutes: float


def propose_elderly_care(
    run: CoverageRun,
    rules: RuleSet,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    graph: Network,
    p: int | None = None,
    capacity: float | None = None,
    walk_m_per_min: float = OLDER_WALK_M_PER_MIN,
    **options: Any,
) -> Proposals:
    """Community elderly-care complexes (社区养老服务综合体): one per street, most older residents in reach.

    The minutes come from the rules file's reach rule for ``elderly_care_complex`` (15 in the
    Dazhou plan), the per-street quota from its street count rule (每个街道至少建有1个); the
    demand is the compounds' older residents where the layer has them (a column named in
    :data:`OLDER_COLUMNS`), households otherwise, walking at ``walk_m_per_min`` (default
    :data:`OLDER_WALK_M_PER_MIN`). ``capacity`` caps the weight one complex serves. ``p``
    defaults to the streets that lack one (at least 1).
    """
    weight = next((c for c in OLDER_COLUMNS if c in run.compounds), "households")
    return propose_sites(
        run,
        rules,
        "elderly_care_complex",
        candidates,
        graph=graph,
        p=p,
        capacity=capacity,
        weights=weight,
        walk_m_per_min=walk_m_per_min,
        **options,
    )


def propose_toilets(
    run: CoverageRun,
    rules: RuleSet,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    graph: Network,
    p: int = 5,
    public_spaces: tuple[str, ...] = PUBLIC_SPACES,
    public_space_weight: float | None = None,
    new_residential: str | None = None,
    **options: Any,
) -> Proposals:
    """Public toilets (公共厕所): ``p`` new ones covering the most demand within the plan's minutes (5).

    The demand is the compounds' households and the public spaces people spend time in away
    from home — the facilities of ``public_spaces`` (parks, activity grounds, food markets),
    each weighing ``public_space_weight`` households (default: as much as the median
    compound, a neutral choice, not a measured figure; 0 leaves them out). The per-community
    tables count households only.

    ``new_residential`` names a yes/no column of the community layer marking new residential
    communities (新建居住社区): each one without a public toilet inside gets one among the
    proposals (the plan, ch.3 §2: 建设一个建筑面积不小于30平方米的公共厕所; the floor area is the
    design's to meet, written on the site as ``min_floor_m2``). ``p`` grows to their number
    when smaller. A marked community with no candidate site inside raises ``InfeasibleError``.
    """
    spaces = run.facilities[run.facilities["category"].isin(public_spaces)]
    if public_space_weight is None:
        public_space_weight = float(np.nanmedian(pd.to_numeric(run.compounds["households"], errors="coerce")))
    if public_space_weight < 0:
        raise ValidationError(f"public_space_weight must be ≥ 0, got {public_space_weight}.")
    extra = spaces if public_space_weight > 0 and len(spaces) else None
    quota = _new_residential_quota(run, new_residential) if new_residential else None
    proposals = propose_sites(
        run,
        rules,
        "public_toilet",
        candidates,
        graph=graph,
        p=max(p, len(quota or {})),
        extra_demand=(extra, public_space_weight),
        community_quota=quota,
        **options,
    )
    if quota:
        marked = proposals.sites["community_id"].astype(str).isin(quota)
        proposals.sites["min_floor_m2"] = np.where(marked, NEW_RESIDENTIAL_TOILET_M2, np.nan)
    return proposals


#: Floor area (m²) of the public toilet a new residential community builds (plan ch.3 §2).
NEW_RESIDENTIAL_TOILET_M2 = 30.0

_YES = {"1", "true", "yes", "y", "是", "新建", "t"}
_NO = {"0", "false", "no", "n", "否", "", "nan", "none", "f"}


def _new_residential_quota(run: CoverageRun, column: str) -> dict[str, int]:
    """One public toilet for each community marked in ``column`` that has none inside."""
    comm = run.communities
    if column not in comm:
        raise ValidationError(
            f"the community layer has no column {column!r} marking new residential communities "
            f"(columns: {', '.join(map(str, comm.columns))}); add one (yes/no, 是/否) or leave new_residential out."
        )
    text = comm[column].astype(str).str.strip().str.lower()
    odd = sorted(set(text[~text.isin(_YES | _NO)]))
    if odd:
        raise ValidationError(
            f"community column {column!r}: values {odd[:5]} are neither yes nor no; "
            "use yes/no, true/false, 1/0 or 是/否."
        )
    marked = comm.loc[text.isin(_YES).to_numpy(), "community_id"].astype(str)
    toilets = run.facilities[run.facilities["category"] == "public_toilet"]
    have = set(units_containing(build_units(comm)["community"], toilets).dropna().astype(str))
    return {cid: 1 for cid in marked if cid not in have}


def propose_sites(
    run: CoverageRun,
    rules: RuleSet,
    category: str,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    graph: Network,
    p: int | None = None,
    minutes: float | None = None,
    weights: str = "households",
    walk_m_per_min: float | None = None,
    capacity: float | None = None,
    spacing_m: float = 150.0,
    time_limit: float | None = None,
    catalog: Catalog | None = None,
    check: PlanCheck | None = None,
    extra_demand: tuple[gpd.GeoDataFrame | None, float] = (None, 0.0),
    community_quota: dict[str, int] | None = None,
) -> Proposals:
    """New sites of one facility category by MCLP, with the street quota its rules set (see the module text).

    ``extra_demand`` = (points, weight of each): demand beside the compounds (e.g. public spaces).
    ``community_quota`` = {community id: sites at least}: new or existing sites inside each
    (instead of the street quota).
    """
    catalog = catalog or default_catalog()
    minutes = float(minutes or _rule_minutes(rules, category) or catalog[category].circle_min)
    quota = _street_quota(rules, category) if "street" in run.communities else 0
    if candidates is None:
        candidates = network_candidates(graph, run.communities, spacing_m=spacing_m)
    existing = run.facilities[run.facilities["category"] == category]
    units = build_units(run.communities)
    sites_streets = _streets(units, candidates, existing)
    groups = "street" if quota and sites_streets is not None else None
    need = _streets_lacking(units, existing, quota) if groups else 0
    p = int(p if p is not None else max(need, 1))
    min_per_group: int | dict[str, int] | None = quota if groups else None
    if groups and sites_streets is not None:
        candidates = candidates.assign(street=sites_streets[0])
        existing = existing.assign(street=sites_streets[1])
    if community_quota:
        groups, min_per_group = "community", community_quota
        inside = units["community"]
        candidates = candidates.assign(community=units_containing(inside, _points(candidates)).astype(str))
        existing = existing.assign(community=units_containing(inside, _points(existing)).astype(str))
    demand, demand_weights = _demand(run.compounds, weights, *extra_demand)
    model = MCLP.from_layers(
        graph,
        demand,
        candidates,
        service_min=minutes,
        p=p,
        existing=existing,
        weights=demand_weights,
        walk_m_per_min=walk_m_per_min,
        groups=groups,
        min_per_group=min_per_group,
        capacity=capacity,
    ).solve(time_limit=time_limit)
    sites = _new_sites(model, category, catalog, run.communities, len(run.compounds))
    after = run_after(run, graph, sites)
    before_check = check if check is not None else quiet_check(run, rules)
    rule_ids = [r.id for r in rules.rules if r.params.get("category") == category]
    changed = changed_rows(before_check, quiet_check(after, rules, before_check), rule_ids)
    return Proposals(
        sites=sites,
        model=model,
        coverage=_coverage_table(model, run.compounds, run.communities),
        gaps=_closed_by(changed, run, rules, graph, sites, before_check),
        after=after,
        demand_weight=weights,
        walk_m_per_min=float(walk_m_per_min or graph.graph.get("walk_m_per_min") or np.nan),
        minutes=minutes,
    )


#: Above this many new sites of one category, gap rows are not traced to single sites
#: (one plan check without each site: about 0.6 s each on the sample).
MAX_TRACED_SITES = 30


def _closed_by(
    changed: pd.DataFrame,
    run: CoverageRun,
    rules: RuleSet,
    graph: Network,
    sites: gpd.GeoDataFrame,
    before: PlanCheck,
) -> pd.DataFrame:
    """``changed`` with ``closed_by``: the proposals without any one of which the row would not change.

    Found by judging the plan again without each site in turn (the same check_plan). A row that
    no single site is needed for ("together") changes with any large enough part of them.
    """
    if changed.empty or len(sites) > MAX_TRACED_SITES:
        return changed.assign(closed_by="" if changed.empty else "not traced (too many sites)")
    keys = ["rule_id", "scope", "unit_id"]
    want = changed.set_index(keys)["status_after"]
    ids = sites["proposal_id"].astype(str).tolist()
    if len(ids) == 1:  # without it, the plan is as before
        return changed.assign(closed_by=ids[0])
    needs: dict[tuple, list[str]] = {key: [] for key in want.index}
    for k, pid in enumerate(ids):
        without = quiet_check(run_after(run, graph, sites.drop(index=sites.index[k])), rules, before)
        status = without.gaps.set_index(keys)["status"]
        for key, after in want.items():
            if status.get(key) != after:
                needs[key].append(pid)
    return changed.assign(closed_by=[", ".join(needs[key]) or "together" for key in want.index])


def _demand(
    compounds: gpd.GeoDataFrame, weights: str, extra: gpd.GeoDataFrame | None, extra_weight: float
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The compounds (first, in their order) and any extra demand points, with the weight of each row."""
    w = pd.to_numeric(compounds[weights], errors="coerce").to_numpy(dtype=float) if weights in compounds else None
    if w is None:
        raise ValidationError(f"the compounds have no column {weights!r} to weigh the demand by.")
    if extra is None or len(extra) == 0:
        return compounds, w
    points = extra[["geometry"]].to_crs(compounds.crs).assign(demand="public_space")
    homes = compounds[["geometry"]].assign(demand="compound")
    both = pd.concat([homes, points], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=compounds.crs), np.r_[w, np.full(len(points), extra_weight)]


def _rule_minutes(rules: RuleSet, category: str) -> float | None:
    found = [r.params.get("minutes") for r in rules.rules if r.kind == "reach" and r.params.get("category") == category]
    return float(found[0]) if found and found[0] is not None else None


def _street_quota(rules: RuleSet, category: str) -> int:
    counts = [
        int(r.params.get("min_count", 1))
        for r in rules.rules
        if r.scope == "street" and r.kind == "count" and r.params.get("category") == category
    ]
    return max(counts, default=0)


def _streets(
    units: Any, candidates: gpd.GeoDataFrame, existing: gpd.GeoDataFrame
) -> tuple[pd.Series, pd.Series] | None:
    if "street" not in units:
        return None
    cand = units_containing(units["street"], _points(candidates))
    ex = units_containing(units["street"], _points(existing))
    return cand, ex


def _points(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.assign(geometry=frame.geometry.representative_point())


def _streets_lacking(units: Any, existing: gpd.GeoDataFrame, quota: int) -> int:
    streets = units["street"]
    have = units_containing(streets, existing).value_counts()
    return int(sum(max(0, quota - int(have.get(s, 0))) for s in streets["unit_id"]))


def _new_sites(
    model: MCLP, category: str, catalog: Catalog, communities: gpd.GeoDataFrame, n_homes: int
) -> gpd.GeoDataFrame:
    homes = np.arange(n_homes)  # the compounds are the first demand rows; ``serves`` counts them only
    table = model.site_table(rows=homes)
    if model.inputs.shape[0] > n_homes:  # public spaces follow the homes, each of the same weight
        spaces = model.site_table(rows=np.arange(n_homes, model.inputs.shape[0]))["serves"]
        table["public_spaces"] = np.round(spaces.to_numpy() / float(model.inputs.weights[n_homes]))
    new = table[table["new"]].reset_index(drop=True)
    new = new.drop(columns=[c for c in ("facility_id", "category", "existing", "new") if c in new])
    new.insert(0, "proposal_id", [f"P-{category}-{i + 1}" for i in range(len(new))])
    new.insert(1, "facility_id", new["proposal_id"])
    new.insert(2, "category", category)
    new.insert(3, "name_zh", f"拟建{catalog[category].name_zh}")
    new["minutes"] = model.service_min
    comm = units_containing(build_units(communities)["community"], new)
    new["community_id"] = comm.to_numpy()
    new["mip_gap"] = model.mip_gap
    return gpd.GeoDataFrame(new, geometry="geometry", crs=new.crs).to_crs(4326)


def _coverage_table(model: MCLP, compounds: pd.DataFrame, communities: pd.DataFrame) -> pd.DataFrame:
    """Per community: the demand weight within the model's minutes of an existing site, and of any open site."""
    assert model.layers is not None and model.selected is not None
    cover = model.coverage_matrix().tocsc()
    existing = np.flatnonzero(model.inputs.existing)
    before = np.asarray(cover[:, existing].sum(axis=1)).ravel() > 0 if len(existing) else np.zeros(cover.shape[0], bool)
    n = len(compounds)  # the compounds are the first demand rows (public spaces may follow)
    before, after = before[:n], model.covered_share()[:n] > 0.5
    w = model.inputs.weights[:n]
    frame = pd.DataFrame(
        {"community_id": compounds["community_id"].to_numpy(), "weight": w, "before": w * before, "after": w * after}
    )
    out = frame.groupby("community_id", sort=True).sum()
    out["share_before"] = (out["before"] / out["weight"]).round(4)
    out["share_after"] = (out["after"] / out["weight"]).round(4)
    names = communities.set_index("community_id")["name"] if "name" in communities else None
    if names is not None:
        out.insert(0, "name", names.reindex(out.index).to_numpy())
    return out.reset_index()
