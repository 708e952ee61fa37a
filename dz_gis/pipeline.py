"""The coverage run: layers + walking graph → coverage per community and compound.

This is the stage the command line and the notebooks call; it only wires together
:mod:`dz_gis.access` (times, coverage) and returns frames, writing nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from ._errors import DzGisError
from ._validate import require_columns, require_nonempty
from .access import DEFAULT_MAX_SNAP_M, coverage_by_unit, nearest_times, snap_points
from .catalog import Catalog, default_catalog
from .demand import assign_demand
from .isochrones import isochrones
from .rules import RuleSet

__all__ = ["CoverageRun", "PlanCheck", "run_coverage", "check_plan"]

logger = logging.getLogger(__name__)


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


def run_coverage(
    graph: nx.MultiDiGraph,
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
        Residential compounds with ``households`` and ``community_id``.
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
    for name, frame, cols in (
        ("communities", communities, ["community_id"]),
        ("compounds", compounds, ["compound_id", "community_id", "households"]),
        ("facilities", facilities, ["facility_id", "category"]),
    ):
        require_nonempty(frame, name)
        require_columns(frame, cols, name)
    minutes = tuple(int(m) for m in minutes)
    communities, _ = assign_demand(communities, compounds)
    with warnings.catch_warnings():
        # the unreachable facilities are reported in the result table instead
        warnings.simplefilter("ignore", UserWarning)
        times = nearest_times(
            graph, facilities, cutoff_min=max(minutes) * 4, demand=compounds, max_snap_m=max_snap_m
        ).demand
    order = [c for c in catalog.ids if c in times.columns]
    times = times[order]

    comp = compounds.copy()
    for cat in order:
        comp[f"walk_min_{cat}"] = times[cat].round(2)
    csnap = snap_points(graph, compounds, max_snap_m=max_snap_m)
    comp["snap_m"] = csnap["snap_m"].round(1)
    comp["reachable"] = ~csnap["too_far"]
    comp["near_island"] = csnap["near_island"]

    cov = coverage_by_unit(compounds, times, minutes=minutes)
    comm = communities.drop(columns=[c for c in communities.columns if c.startswith("cov_")])
    comm = comm.merge(cov.drop(columns=["households"]), left_on="community_id", right_index=True, how="left")

    fac = facilities.copy()
    fsnap = snap_points(graph, facilities, max_snap_m=max_snap_m)
    fac["snap_m"] = fsnap["snap_m"].round(1)
    fac["reachable"] = ~fsnap["too_far"]
    fac["near_island"] = fsnap["near_island"]

    unreachable = pd.concat(
        [
            pd.DataFrame(
                {
                    "layer": "facility",
                    "id": fac["facility_id"],
                    "category": fac["category"],
                    "snap_m": fac["snap_m"],
                    "too_far": fsnap["too_far"],
                    "near_island": fsnap["near_island"],
                }
            ),
            pd.DataFrame(
                {
                    "layer": "compound",
                    "id": comp["compound_id"],
                    "category": None,
                    "snap_m": comp["snap_m"],
                    "too_far": csnap["too_far"],
                    "near_island": csnap["near_island"],
                }
            ),
        ],
        ignore_index=True,
    )
    unreachable = unreachable[unreachable["too_far"] | unreachable["near_island"]].reset_index(drop=True)

    hh = compounds["households"].to_numpy(dtype=float)
    hh = np.where(np.isfinite(hh), hh, 0.0)
    rows = []
    for cat in catalog.ids:
        row = {
            "category": cat,
            "name_zh": catalog[cat].name_zh,
            "facilities": int((facilities["category"] == cat).sum()),
        }
        t = times[cat].to_numpy() if cat in times else np.full(len(hh), np.nan)
        for m in minutes:
            known = row["facilities"] > 0 and hh.sum() > 0  # no facility in the data: no data, not 0 %
            row[f"hh_share_{m}min"] = round(float(hh[t <= m].sum() / hh.sum()), 4) if known else np.nan
        rows.append(row)
    summary = pd.DataFrame(rows).set_index("category")
    iso = None
    if with_isochrones:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # unreachable ones are reported above
            iso = isochrones(graph, facilities, minutes=minutes, dissolve=True)
        iso.insert(1, "name_zh", [catalog[c].name_zh for c in iso["category"]])
    speed = float(graph.graph.get("walk_m_per_min", np.nan))
    return CoverageRun(comm, comp, fac, unreachable, summary, minutes, iso, times, speed)


@dataclass
class PlanCheck:
    """Result of :func:`check_plan`."""

    gaps: gpd.GeoDataFrame  #: one row per (unit, rule) with the unit's geometry
    indicators: pd.DataFrame  #: the plan's indicator table, target beside actual
    register: object | None  #: :class:`dz_gis.register.RegisterReport`, or None without a register


def check_plan(
    run: CoverageRun,
    rules: RuleSet,
    *,
    register: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
) -> PlanCheck:
    """Gap flags, the indicator table and the register check for a coverage run.

    Parameters
    ----------
    run
        Result of :func:`run_coverage` (its walking times are reused).
    rules
        From :func:`dz_gis.rules.load_rules`.
    register
        The 2023 register (:func:`dz_gis.register.read_register`); read from the shipped
        file when omitted, skipped (None) when that file is absent.
    """
    if rules.walk_m_per_min and run.walk_m_per_min and abs(rules.walk_m_per_min - run.walk_m_per_min) > 1e-6:
        warnings.warn(
            f"the rules file assumes walking at {rules.walk_m_per_min:g} m/min but the walking times were "
            f"computed at {run.walk_m_per_min:g} m/min; build the graph with walk_m_per_min="
            f"{rules.walk_m_per_min:g} for reach rules to mean what the file says.",
            UserWarning,
            stacklevel=2,
        )
    from .gaps import build_units, flag_gaps
    from .indicators import indicators
    from .register import read_register, reconcile_register

    units = build_units(run.communities, run.compounds)
    table = flag_gaps(
        rules, run.communities, run.facilities, compounds=run.compounds, times=run.times, catalog=catalog, units=units
    )
    geoms = pd.concat(
        [frame[["unit_id", "geometry"]].assign(scope=scope).to_crs(4326) for scope, frame in units.items()],
        ignore_index=True,
    )
    located = table.merge(geoms, on=["scope", "unit_id"], how="left")
    gaps = gpd.GeoDataFrame(located, geometry="geometry", crs=4326)
    ind = indicators(table, rules, communities=run.communities, facilities=run.facilities, compounds=run.compounds)
    report = None
    try:
        reg = register if register is not None else read_register()
    except DzGisError as exc:
        logger.info("register check skipped: %s", exc)
        reg = None
    if reg is not None:
        report = reconcile_register(run.communities, reg)
    return PlanCheck(gaps, ind, report)
