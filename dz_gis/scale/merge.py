"""Partition results back into one coverage run, row for row as a single run has them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import Catalog
from ..pipeline import SNAP_COLUMNS, CoverageRun, assemble_run
from .parts import Partition

__all__ = ["merge_results"]


def merge_results(
    parts: list[Partition],
    results: dict[str, dict[str, Any]],
    home: np.ndarray,
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    catalog: Catalog,
    minutes: Sequence[int],
    home_m: np.ndarray,
    joined_within_m: float,
    horizon_min: float,
) -> CoverageRun:
    """One :class:`CoverageRun` of the partitions that finished.

    Each compound's times and join come from its own partition; each facility's join from the
    partition it lies in (or is nearest to, ``home_m`` away). A facility farther than
    ``joined_within_m`` from every partition is listed with an empty join (NaN, NA): no one is
    within the halo of it, and its partition's network may not hold its nearest street. Coverage, summary
    and the unreachable table are computed as :func:`dz_gis.run_coverage` computes them.
    """
    done = [p for p in parts if p.name in results]
    cats = [c for c in catalog.ids if c in set(facilities["category"])]
    times = pd.DataFrame(np.nan, index=compounds.index, columns=cats)
    comp_snap = _empty_joins(len(compounds))
    for part in done:
        res = results[part.name]
        for col in cats:
            if col in res["times"]:
                times.iloc[part.compounds, times.columns.get_loc(col)] = res["times"][col].to_numpy(dtype=float)
        for col in SNAP_COLUMNS:
            comp_snap[col].iloc[part.compounds] = res["compounds"][col].to_numpy()
    fac_snap = _facility_joins(parts, results, home, home_m <= joined_within_m)
    own_comm = np.sort(np.concatenate([p.communities for p in done] or [np.array([], int)]))
    own_comp = np.sort(np.concatenate([p.compounds for p in done] or [np.array([], int)]))
    comp = compounds.assign(**{c: _typed(comp_snap[c]) for c in SNAP_COLUMNS}).iloc[own_comp]
    fac = facilities.assign(**{c: _typed(fac_snap[c]) for c in SNAP_COLUMNS})
    speeds = {res["walk_m_per_min"] for res in results.values()}
    return assemble_run(
        communities.iloc[own_comm],
        comp,
        fac,
        times.iloc[own_comp],
        minutes=minutes,
        catalog=catalog,
        isochrones=_circles([results[p.name]["isochrones"] for p in done]),
        walk_m_per_min=speeds.pop() if len(speeds) == 1 else float("nan"),
        horizon_min=horizon_min,
    )


def _empty_joins(n: int) -> dict[str, pd.Series]:
    return {
        "snap_m": pd.Series(np.full(n, np.nan)),
        "streets": pd.Series(np.zeros(n, dtype=int)),
        "reachable": pd.Series(pd.array([pd.NA] * n, dtype="boolean")),
        "near_island": pd.Series(pd.array([pd.NA] * n, dtype="boolean")),
    }


def _typed(values: pd.Series) -> np.ndarray | pd.arrays.BooleanArray:
    """Plain booleans when every value is known, nullable ones (NA: not joined) otherwise."""
    if isinstance(values.dtype, pd.BooleanDtype) and not values.isna().any():
        return values.to_numpy(dtype=bool)
    return values.array if isinstance(values.dtype, pd.BooleanDtype) else values.to_numpy()


def _facility_joins(
    parts: list[Partition], results: dict[str, dict[str, Any]], home: np.ndarray, near: np.ndarray
) -> dict[str, pd.Series]:
    """Each facility's join from its home partition, when it finished and the facility is ``near`` it."""
    joins = _empty_joins(len(home))
    for k, part in enumerate(parts):
        if part.name not in results:
            continue
        res = results[part.name]["facilities"]
        if len(res) == 0:
            continue
        mine = (home[part.facilities] == k) & near[part.facilities]  # of its clip, whose home it is
        rows = part.facilities[mine]
        for col in SNAP_COLUMNS:
            joins[col].iloc[rows] = res[col].to_numpy()[mine]
    return joins


def _circles(frames: list[gpd.GeoDataFrame | None]) -> gpd.GeoDataFrame | None:
    """The walking circles of the partitions, joined per category and band.

    Every part of a partition's circles is truly within the band of its facility (walks on a
    clipped network are walks on the whole); within the partitions' land they are exactly the
    single run's circles, outside it they may stop short at a partition's halo.
    """
    kept = [f for f in frames if f is not None]
    if not kept:
        return None
    crs = kept[0].crs
    table = pd.concat([f.to_crs(crs) for f in kept], ignore_index=True)
    keys = [c for c in table.columns if c != table.geometry.name]
    rows = []
    for values, group in table.groupby(keys, sort=True, dropna=False):
        rows.append({**dict(zip(keys, values, strict=True)), "geometry": shapely.union_all(group.geometry.array)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
