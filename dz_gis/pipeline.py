"""The coverage run: layers + walking graph → coverage per community and compound.

This is the stage the command line and the notebooks call; it wires together
:mod:`dz_gis.access` (times, coverage, circles) and :mod:`dz_gis.plan` (gaps, indicators,
register) and returns frames, writing nothing (:mod:`dz_gis.outputs` writes them).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import DzGisError, ValidationError
from ._validate import (
    require_columns,
    require_nonempty,
    require_nonnegative_numbers,
    warn_duplicate_points,
    warn_overlaps,
)
from .access.coverage import coverage_by_unit, share_within
from .access.isochrones import isochrones
from .access.offsets import web_offset_hint
from .access.times import nearest_times
from .catalog import Catalog, default_catalog
from .demand import assign_demand, codes_as_text, link_compounds
from .network.prepared import Network, prepare
from .network.snap import DEFAULT_MAX_SNAP_M, Snapped, snap
from .plan.gaps import flag_gaps
from .plan.indicators import indicator_table
from .plan.register import RegisterReport, read_register, reconcile_register
from .plan.rules import RuleSet
from .scopes import build_units

__all__ = ["CoverageRun", "PlanCheck", "assemble_run", "run_coverage", "check_plan", "with_facilities"]

logger = logging.getLogger(__name__)

#: Walking times are computed to this many times the longest band (an empty time: none within it).
HORIZON_BANDS = 4

#: Columns saying how a compound or facility joined the walking network (:func:`run_coverage`).
SNAP_COLUMNS = ("snap_m", "streets", "reachable", "near_island")


@dataclass
class CoverageRun:
    """Result of :func:`run_coverage`."""

    communities: gpd.GeoDataFrame  #: with ``cov_<category>_<m>min`` columns (share of households)
    compounds: gpd.GeoDataFrame  #: with ``walk_min_<category>`` columns
    facilities: gpd.GeoDataFrame  #: with ``snap_m`` and ``reachable``
    unreachable: pd.DataFrame  #: facilities and compounds that could not be given a time
    summary: pd.DataFrame  #: per category: households covered within each band, city-wide
    minutes: tuple[int, ...]
    isochrones: gpd.GeoDataFrame | None = None  #: walking circles dissolved per category and band
    times: pd.DataFrame | None = None  #: minutes from each compound to the nearest facility per category
    walk_m_per_min: float | None = None  #: flat walking speed of the graph the times come from
    #: minutes the walking times were computed to: an empty time means no facility within it
    horizon_min: float | None = None


def check_layers(communities: pd.DataFrame, compounds: pd.DataFrame, facilities: pd.DataFrame) -> None:
    """Raise a clear error when a layer is empty or lacks a column a coverage run needs."""
    for name, frame, cols in (
        ("communities", communities, ["community_id"]),
        ("compounds", compounds, ["compound_id", "households"]),
        ("facilities", facilities, ["facility_id", "category"]),
    ):
        require_nonempty(frame, name)
        require_columns(frame, cols, name)


def prepared_layers(
    communities: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, catalog: Catalog
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The layers as a coverage run uses them: checked, compounds linked and their demand assigned.

    Households are numbers (negative or text stop), facility names (公园) become catalog ids
    (an unknown category stops), numeric community codes become text, and overlaps, features
    listed twice and compounds without households are warned about. A single run
    (:func:`run_coverage`) and a partitioned one (:func:`dz_gis.scale.run_partitioned`) both
    start here, so both see the same layers.
    """
    check_layers(communities, compounds, facilities)
    compounds = require_nonnegative_numbers(compounds, ["households", "population"], "compounds")
    warn_missing_households(compounds)
    # names (公园) as catalog ids (park); a category the catalog does not know is an error, not dropped
    facilities = facilities.assign(category=catalog.resolve_all(facilities["category"], where="facilities"))
    codes = communities["community_id"]
    if not pd.api.types.is_string_dtype(codes):  # a layer made by hand with integer codes meets text codes
        communities = communities.assign(community_id=codes_as_text(codes).astype(object))
    warn_overlaps(communities, "community_id", "communities")
    warn_duplicate_points(facilities, "facility_id", "facilities")
    warn_duplicate_points(compounds, "compound_id", "compounds")
    compounds = link_compounds(compounds, communities)  # by code, by name, or by location; never dropped silently
    communities, _ = assign_demand(communities, compounds)
    return communities, compounds, facilities


def warn_missing_households(compounds: pd.DataFrame) -> None:
    """Warn when compounds have no households: they count in no share, silently otherwise."""
    empty = compounds["households"].isna().to_numpy()
    if not empty.any():
        return
    ids = compounds["compound_id"].astype(str).to_numpy()
    if empty.all():
        what = (
            "households is empty for every compound, so every household share is empty (no data). Fill in the "
            "households (户数), or name the column that holds them (columns: {households: <column>})."
        )
    else:
        shown = ", ".join(ids[empty][:5]) + (" ..." if empty.sum() > 5 else "")
        what = (
            f"{int(empty.sum()):,} of {len(empty):,} compounds have no households ({shown}): they count in no "
            "share, and their communities' shares are of their other compounds. Fill them in (户数)."
        )
    warnings.warn(f"compounds: {what}", UserWarning, stacklevel=3)


def check_on_network(layer: gpd.GeoDataFrame, snapped: Snapped, what: str, id_column: str, max_snap_m: float) -> None:
    """Stop when no feature of a layer is near the walking network; warn when many are not.

    Features farther than ``max_snap_m`` from every street get no walking time, so their
    homes count as reaching nothing. That is right for a farmstead beyond the last lane,
    and wrong when the network was built for another area: then a planner must hear of it
    before reading any share.
    """
    far = snapped.points["too_far"].to_numpy(dtype=bool)
    if not far.any():
        return
    ids = layer[id_column].astype(str).to_numpy() if id_column in layer else layer.index.astype(str).to_numpy()
    shown = ", ".join(ids[far][:5]) + (" ..." if far.sum() > 5 else "")
    fix = (
        "Check that the walking network covers the study area (the OSM file or the area it was built for) "
        "and that the layer's coordinates are in the system declared (coords:)."
    )
    if far.all():
        raise ValidationError(
            f"{what}: none of the {len(far):,} features lies within {max_snap_m:g} m of the walking network, "
            f"so no walking time can be computed. {fix}"
        )
    share, of = far.mean(), ""
    hh = pd.to_numeric(layer["households"], errors="coerce").to_numpy(dtype=float) if "households" in layer else None
    if hh is not None and np.nansum(hh) > 0:  # compounds: the share of the homes, not of the points
        share, of = np.nansum(hh[far]) / np.nansum(hh), " of the households"
    if share >= 0.05:
        warnings.warn(
            f"{what}: {int(far.sum()):,} of {len(far):,} features ({share:.0%}{of}) lie more than "
            f"{max_snap_m:g} m from the walking network and reach nothing ({shown}). {fix}",
            UserWarning,
            stacklevel=3,
        )


def run_coverage(
    graph: Network,
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    minutes: Sequence[int] = (5, 10, 15),
    catalog: Catalog | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    with_isochrones: bool = True,
) -> CoverageRun:
    """Share of each community's households within each walking band of each facility category.

    Parameters
    ----------
    graph
        Walking graph (:func:`dz_gis.network.walk_graph_from_file`).
    communities
        Standard community layer; compounds are linked to it by ``community_id``.
    compounds
        Residential compounds with ``households``; their ``community_id`` (a code or a name of
        the community layer) links them, else their location (:func:`dz_gis.demand.link_compounds`).
    facilities
        Facility points with ``category``.
    minutes
        Walking bands.
    with_isochrones
        Also build the walking circles of each category (dissolved per band).

    Returns
    -------
    CoverageRun
    """
    catalog = catalog or default_catalog()
    minutes = tuple(int(m) for m in minutes)
    communities, compounds, facilities = prepared_layers(communities, compounds, facilities, catalog)
    net = prepare(graph)
    fsnap = snap(net, facilities, max_snap_m=max_snap_m)  # once: the times, the circles and the tables use it
    csnap = snap(net, compounds, max_snap_m=max_snap_m)
    check_on_network(facilities, fsnap, "facilities", "facility_id", max_snap_m)
    check_on_network(compounds, csnap, "compounds", "compound_id", max_snap_m)
    for layer, what in ((facilities, "facilities"), (compounds, "compounds")):
        hint = web_offset_hint(net, layer, what)  # a layer read with the wrong coords: (高德/百度)
        if hint:
            warnings.warn(hint, UserWarning, stacklevel=2)
    with warnings.catch_warnings():
        # the unreachable facilities are reported in the result table instead
        warnings.simplefilter("ignore", UserWarning)
        found = nearest_times(
            graph,
            facilities,
            cutoff_min=max(minutes) * HORIZON_BANDS,
            demand=compounds,
            max_snap_m=max_snap_m,
            facility_snap=fsnap,
            demand_snap=csnap,
        ).demand
    assert found is not None  # demand was given
    times = found[[c for c in catalog.ids if c in found.columns]]
    iso = None
    if with_isochrones:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # unreachable ones are reported in the table
            iso = isochrones(graph, facilities, minutes=minutes, dissolve=True, facility_snap=fsnap)
        iso.insert(1, "name_zh", [catalog[c].name_zh for c in iso["category"]])
    return assemble_run(
        communities,
        _with_snap(compounds, csnap.points),
        _with_snap(facilities, fsnap.points),
        times,
        minutes=minutes,
        catalog=catalog,
        isochrones=iso,
        walk_m_per_min=float(graph.graph.get("walk_m_per_min", np.nan)),
        horizon_min=float(max(minutes) * HORIZON_BANDS),
    )


def assemble_run(
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    times: pd.DataFrame,
    *,
    minutes: Sequence[int],
    catalog: Catalog | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    walk_m_per_min: float | None = None,
    horizon_min: float | None = None,
) -> CoverageRun:
    """A :class:`CoverageRun` from walking times already computed: coverage, summary, unreachable.

    ``compounds`` and ``facilities`` carry how they joined the network (``snap_m``,
    ``streets``, ``reachable``, ``near_island``); ``times`` holds minutes per compound (rows
    as ``compounds``) and category. :func:`run_coverage` ends here, and so does a run merged
    from parts (:func:`dz_gis.scale.run_partitioned`), so both define every column alike.
    """
    catalog = catalog or default_catalog()
    minutes = tuple(int(m) for m in minutes)
    comp = compounds.assign(**{f"walk_min_{c}": times[c].round(2) for c in times.columns})
    joined = [c for c in SNAP_COLUMNS if c in comp]
    comp = comp[[c for c in comp.columns if c not in joined] + joined]  # the times first, then how it joined
    cov = coverage_by_unit(compounds, times, minutes=minutes)
    comm = communities.drop(columns=[c for c in communities.columns if c.startswith("cov_")])
    comm = comm.merge(cov.drop(columns=["households"]), left_on="community_id", right_index=True, how="left")
    return CoverageRun(
        communities=comm,
        compounds=comp,
        facilities=facilities,
        unreachable=_unreachable(facilities, comp),
        summary=_summary(compounds, facilities, times, minutes, catalog),
        minutes=minutes,
        isochrones=isochrones,
        times=times,
        walk_m_per_min=walk_m_per_min,
        horizon_min=horizon_min,
    )


def with_facilities(run: CoverageRun, graph: Network, facilities: gpd.GeoDataFrame) -> CoverageRun:
    """The run again with another facility layer: times, coverage, summary and circles of the categories that changed.

    Categories whose facilities are the same keep their numbers; the others are computed as
    :func:`run_coverage` computes them, so a run with proposed sites added shows them in every
    table, column and circle (what :mod:`dz_gis.allocate` uses for "after").
    """
    if run.times is None:
        raise DzGisError("the coverage run has no walking times (run it with run_coverage).")
    require_columns(facilities, ["facility_id", "category"], "facilities")
    changed = sorted(_changed_categories(run.facilities, facilities))
    if not changed:
        return run
    same = facilities[facilities["category"].isin(changed)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unreachable sites are reported in the table
        found = nearest_times(graph, same, cutoff_min=max(run.minutes) * HORIZON_BANDS, demand=run.compounds).demand
    assert found is not None
    times = run.times.copy()
    for cat in changed:
        times[cat] = found[cat].to_numpy() if cat in found else np.nan
    comp = run.compounds.assign(**{f"walk_min_{c}": times[c].round(2) for c in changed})
    cov = coverage_by_unit(run.compounds, times, minutes=run.minutes)
    comm = run.communities.drop(
        columns=[c for c in run.communities.columns if c.startswith(("cov_", "covpop_", "p50_", "p90_"))]
    )
    comm = comm.merge(cov.drop(columns=["households"]), left_on="community_id", right_index=True, how="left")
    iso = run.isochrones
    if iso is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fresh = isochrones(graph, same, minutes=run.minutes, dissolve=True)
        fresh.insert(1, "name_zh", [default_catalog()[c].name_zh for c in fresh["category"]])
        kept = iso[~iso["category"].isin(changed)]
        iso = gpd.GeoDataFrame(pd.concat([kept, fresh.to_crs(iso.crs)], ignore_index=True), crs=iso.crs)
    fac = facilities if "snap_m" in facilities else _with_snap(facilities, snap(prepare(graph), facilities).points)
    return dataclasses.replace(
        run,
        communities=comm,
        compounds=comp,
        facilities=fac,
        summary=_summary(run.compounds, facilities, times, run.minutes, default_catalog()),
        isochrones=iso,
        times=times,
    )


def _changed_categories(before: pd.DataFrame, after: pd.DataFrame) -> set[str]:
    """Categories whose facility ids differ between two facility layers."""
    cats = set(before["category"]) | set(after["category"])
    ids_before = before.groupby("category")["facility_id"].agg(lambda s: frozenset(map(str, s)))
    ids_after = after.groupby("category")["facility_id"].agg(lambda s: frozenset(map(str, s)))
    return {c for c in cats if ids_before.get(c, frozenset()) != ids_after.get(c, frozenset())}


def _with_snap(layer: gpd.GeoDataFrame, snapped: pd.DataFrame) -> gpd.GeoDataFrame:
    """The layer with how each feature joined the network.

    ``snap_m`` (to its nearest street), ``streets`` (how many it joins), ``reachable``, ``near_island``.
    """
    return layer.assign(
        snap_m=snapped["snap_m"].round(1).to_numpy(),
        streets=snapped["streets"].to_numpy(),
        reachable=~snapped["too_far"].to_numpy(),
        near_island=snapped["near_island"].to_numpy(),
    )


def _unreachable(fac: pd.DataFrame, comp: pd.DataFrame) -> pd.DataFrame:
    """Facilities and compounds too far from the network, or nearest to a disconnected fragment."""
    frames = [
        pd.DataFrame(
            {
                "layer": layer,
                "id": frame[id_col].to_numpy(),
                "category": frame["category"].to_numpy() if layer == "facility" else None,
                "snap_m": frame["snap_m"].to_numpy(),
                # NA (a partitioned run's facility beyond every halo, not joined) is neither
                "too_far": ~frame["reachable"].to_numpy(dtype=bool, na_value=True),
                "near_island": frame["near_island"].to_numpy(dtype=bool, na_value=False),
            }
        )
        for layer, frame, id_col in (("facility", fac, "facility_id"), ("compound", comp, "compound_id"))
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[table["too_far"] | table["near_island"]].reset_index(drop=True)


def _summary(
    compounds: pd.DataFrame, facilities: pd.DataFrame, times: pd.DataFrame, minutes: tuple[int, ...], catalog: Catalog
) -> pd.DataFrame:
    """Per category, the share of all households within each band (NaN: no facility of it in the data)."""
    hh = compounds["households"].to_numpy(dtype=float)
    whole = np.zeros(len(hh))
    rows = []
    for cat in catalog.ids:
        count = int((facilities["category"] == cat).sum())
        row: dict[str, object] = {"category": cat, "name_zh": catalog[cat].name_zh, "facilities": count}
        t = times[cat].to_numpy() if cat in times else np.full(len(hh), np.nan)
        for m in minutes:
            share = share_within(t, hh, m, whole)
            known = count > 0 and np.isfinite(share.iloc[0])
            row[f"hh_share_{m}min"] = round(float(share.iloc[0]), 4) if known else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("category")


@dataclass
class PlanCheck:
    """Result of :func:`check_plan`."""

    gaps: gpd.GeoDataFrame  #: one row per (unit, rule) with the unit's geometry
    indicators: pd.DataFrame  #: the rules file's indicator table, target beside actual (may be empty)
    register: RegisterReport | None  #: the register check, or None when the rules file names no register
    #: categories judged as surveyed (complete lists): none in the data was a gap, not "no data"
    surveyed: frozenset[str] = frozenset()


def check_plan(
    run: CoverageRun,
    rules: RuleSet,
    *,
    register: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
    surveyed: Iterable[str] = (),
) -> PlanCheck:
    """Gap flags, the indicator table and the register check for a coverage run.

    Parameters
    ----------
    run
        Result of :func:`run_coverage` (its walking times are reused).
    rules
        From :func:`dz_gis.load_rules`; its ``indicators`` and ``register`` say which
        indicators are reported and which register the communities are checked against.
    register
        A register table (:func:`dz_gis.plan.read_register`) to use instead of the one the
        rules file names.
    surveyed
        Categories whose facility lists are complete (:func:`dz_gis.plan.flag_gaps`): none in
        the data is then a ``gap``, not ``no data``.

    Examples
    --------
    >>> import dz_gis
    >>> s = dz_gis.load_sample()
    >>> run = dz_gis.run_coverage(s.graph, s.communities, s.compounds, s.facilities, with_isochrones=False)
    >>> check = dz_gis.check_plan(run, dz_gis.load_rules("gb50180_2018"))
    >>> len(check.indicators), check.register is None
    (0, True)
    """
    if rules.walk_m_per_min and run.walk_m_per_min and abs(rules.walk_m_per_min - run.walk_m_per_min) > 1e-6:
        warnings.warn(
            f"the rules file assumes walking at {rules.walk_m_per_min:g} m/min but the walking times were "
            f"computed at {run.walk_m_per_min:g} m/min; build the graph with walk_m_per_min="
            f"{rules.walk_m_per_min:g} for reach rules to mean what the file says.",
            UserWarning,
            stacklevel=2,
        )
    units = build_units(run.communities, run.compounds)
    table = flag_gaps(
        rules,
        run.communities,
        run.facilities,
        compounds=run.compounds,
        times=run.times,
        catalog=catalog,
        units=units,
        horizon_min=run.horizon_min,
        surveyed=surveyed,
    )
    geoms = pd.concat(
        [frame[["unit_id", "geometry"]].assign(scope=scope).to_crs(4326) for scope, frame in units.items()],
        ignore_index=True,
    )
    located = table.merge(geoms, on=["scope", "unit_id"], how="left")
    gaps = gpd.GeoDataFrame(located, geometry="geometry", crs=4326)
    ind = indicator_table(
        rules.indicators, table, communities=run.communities, facilities=run.facilities, compounds=run.compounds
    )
    known = frozenset((catalog or default_catalog()).resolve_all(surveyed, where="surveyed"))
    return PlanCheck(gaps, ind, _register_check(run.communities, rules, register), known)


def _register_check(communities: pd.DataFrame, rules: RuleSet, register: pd.DataFrame | None) -> RegisterReport | None:
    if register is None and rules.register is None:
        return None
    try:
        reg = register if register is not None else read_register(rules.register)
    except DzGisError as exc:
        warnings.warn(f"the register check was skipped: {exc}", UserWarning, stacklevel=3)
        return None
    return reconcile_register(communities, reg)
