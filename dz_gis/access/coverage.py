"""Coverage: the share of households (or residents) within m minutes, per unit.

:func:`covered_within` is the one place the households within m minutes are counted
(:func:`share_within` divides them by the total); the coverage table
(:func:`coverage_by_unit`), the city-wide summary of a run and the plan's reach rules all
call it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import require_columns

__all__ = ["covered_within", "share_within", "coverage_by_unit"]


def covered_within(times: np.ndarray, weights: np.ndarray, minutes: float, groups: np.ndarray) -> pd.DataFrame:
    """Per group, the total weight and the weight whose walking time is at most ``minutes``.

    Missing weights count as 0; times that are NaN or inf were not reached.

    Returns
    -------
    pandas.DataFrame
        ``total`` and ``within``, indexed by group (points without a group are left out).
    """
    w = np.asarray(weights, dtype=float)
    w = np.where(np.isfinite(w), w, 0.0)
    within = np.where(np.asarray(times, dtype=float) <= minutes, w, 0.0)
    return pd.DataFrame({"total": w, "within": within}).groupby(np.asarray(groups)).sum()


def share_within(times: np.ndarray, weights: np.ndarray, minutes: float, groups: np.ndarray) -> pd.Series:
    """Per group, the share of the weight whose walking time is at most ``minutes``.

    Parameters
    ----------
    times
        Minutes from each demand point to the nearest facility (NaN or inf: none reached).
    weights
        Households or residents of each demand point; missing weights count as 0.
    minutes
        The band.
    groups
        Unit of each demand point (points without a unit are left out).

    Returns
    -------
    pandas.Series
        Share (0-1) per group, NaN where the group's total weight is 0 ("no data").

    Examples
    --------
    >>> share_within(np.array([3.0, 12.0, np.nan]), np.array([10.0, 30.0, 60.0]), 10, np.array(["a", "a", "b"]))
    a    0.25
    b    0.00
    dtype: float64
    """
    sums = covered_within(times, weights, minutes, groups)
    total = sums["total"]
    return sums["within"] / total.where(total > 0)


def coverage_by_unit(
    demand: pd.DataFrame,
    demand_times: pd.DataFrame,
    *,
    unit: str = "community_id",
    weight: str = "households",
    minutes: Sequence[int] = (5, 10, 15),
) -> pd.DataFrame:
    """Coverage per unit and category: shares within each band, median and 90th-percentile time.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit: ``<weight>`` (the total), ``cov_<category>_<m>min`` (share of
        ``weight`` within ``m`` minutes, 0-1), ``covpop_<category>_<m>min`` (share of
        ``population`` when the demand has it), and ``p50_<category>_min`` /
        ``p90_<category>_min`` (``weight``-weighted median and 90th-percentile walking
        time; NaN when fewer than half / 90 % of the weight reaches a facility within
        the times computed). Units with no demand get NaN ("no data"), never 0.
    """
    require_columns(demand, [unit, weight], "demand")
    groups = demand[unit].to_numpy()
    weights = {weight: demand[weight].to_numpy(dtype=float)}
    if "population" in demand and weight != "population":
        weights["population"] = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float)
    weights = {name: np.where(np.isfinite(w), w, 0.0) for name, w in weights.items()}
    out: dict[str, pd.Series] = {weight: pd.Series(weights[weight], index=demand.index).groupby(groups).sum()}
    for cat in demand_times.columns:
        t = demand_times[cat].to_numpy()
        for name, w in weights.items():
            prefix = "cov" if name == weight else "covpop"
            for m in minutes:
                out[f"{prefix}_{cat}_{m}min"] = share_within(t, w, m, groups).reindex(out[weight].index)
        for q in (50, 90):
            out[f"p{q}_{cat}_min"] = _weighted_quantile(groups, t, weights[weight], q / 100).reindex(out[weight].index)
    return pd.DataFrame(out)


def _weighted_quantile(groups: np.ndarray, t: np.ndarray, w: np.ndarray, q: float) -> pd.Series:
    """Per group, the smallest time by which a share ``q`` of the weight has arrived."""
    frame = pd.DataFrame({"g": groups, "t": np.where(np.isfinite(t), t, np.inf), "w": w})
    frame = frame[frame["w"] > 0].sort_values(["g", "t"])
    cum = frame.groupby("g")["w"].cumsum()
    total = frame.groupby("g")["w"].transform("sum")
    reached = frame[cum >= q * total - 1e-9]
    first = reached.groupby("g")["t"].first()
    return first.where(np.isfinite(first))
