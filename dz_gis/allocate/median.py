"""p-median by distance levels, truncated and widened until the answer is proven (exact).

The textbook model has one assignment variable and one row ``x_ij ≤ y_j`` for every reachable
pair: 200,000 rows for 1,000 homes × 200 sites, whose root LP alone takes HiGHS a minute. Here
each demand row's reachable sites are sorted into distance levels D₀ < D₁ < … and the walk
is written as ``D₀ + Σ_k (D_{k+1} − D_k)·u_k``, ``u_k`` = 1 when no open site is within D_k
(Elloumi 2010, "A tighter formulation of the p-median problem"; chained as in García,
Labbé & Marín 2011, "Solving large p-median problems with a radius formulation", so each
pair appears once). Only the first levels of each row are kept — as far as a greedy solution
reaches, with a margin — which makes the model a relaxation (a lower bound). If its optimum
serves every row within the levels kept, it is optimal for the whole problem; otherwise the
rows that went further get more levels and it is solved again. No library does this; it is
written here because it is what makes exact p-median fast (see ``make bench``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._highs import Milp, MilpResult
from .greedy import greedy_median
from .inputs import SitingInputs

__all__ = ["DistanceLevels", "distance_levels", "nearest_level", "solve_median_levels"]


@dataclass
class DistanceLevels:
    """Each demand row's reachable sites, nearest first, with the distance level of each."""

    row: np.ndarray  #: demand row of each entry (sorted by row, then minutes)
    col: np.ndarray  #: model column of each entry
    minutes: np.ndarray
    level: np.ndarray  #: distance level within its row (0 = nearest distance)
    start: np.ndarray  #: first entry of each row (len rows + 1)
    n_levels: np.ndarray  #: distinct distances of each row
    values: list[np.ndarray]  #: the distinct distances of each row


def distance_levels(reach: sp.csr_matrix) -> DistanceLevels:
    """Sort every row's entries by minutes and number its distinct distances."""
    coo = reach.tocoo()
    order = np.lexsort((coo.data, coo.row))
    row, col, minutes = coo.row[order], coo.col[order], coo.data[order]
    new_level = np.ones(len(row), dtype=bool)
    new_level[1:] = (row[1:] != row[:-1]) | (minutes[1:] > minutes[:-1])
    start = np.searchsorted(row, np.arange(reach.shape[0] + 1))
    if (np.diff(start) == 0).any():
        raise ValueError("every demand row needs a reachable site")  # the model checks this first, in words
    counts = np.cumsum(new_level)
    level = (counts - counts[start[row]]).astype(np.int64)
    n_levels = np.bincount(row[new_level], minlength=reach.shape[0]).astype(np.int64)
    values = [minutes[a:b][new_level[a:b]] for a, b in zip(start[:-1], start[1:], strict=True)]
    return DistanceLevels(row, col, minutes, level, start, n_levels, values)


def solve_median_levels(
    inputs: SitingInputs,
    reach: sp.csr_matrix,
    cols: np.ndarray,
    p: int,
    add_side_rows: Callable[[Milp, int], None],
    time_limit: float | None,
) -> tuple[MilpResult | None, np.ndarray, dict[str, int]]:
    """Exact uncapacitated p-median over ``reach`` (rows × model columns ``cols``).

    ``add_side_rows(milp, first_site_column)`` adds quotas and budget. Returns the last solve
    (None: infeasible), the open model columns (bool) and the model sizes. The objective of
    the result is that of the relaxed model (without each row's nearest distance); the caller
    prices the sites found.
    """
    lv = distance_levels(reach)
    weights = inputs.weights
    must = np.flatnonzero(inputs.existing[cols])
    fine, start_y = _initial_levels(lv, reach, weights, p, must)
    breaks = [_breakpoints(int(t), int(k)) for t, k in zip(fine, lv.n_levels, strict=True)]
    rounds = 0
    while True:
        rounds += 1
        milp, y0, u_first = _model(lv, breaks, weights, len(cols), inputs.existing[cols], p)
        add_side_rows(milp, y0)
        start = None if start_y is None else _start(lv, breaks, start_y, u_first, milp.n_cols)
        result = milp.solve(time_limit=time_limit, start=start)
        if result is None:
            return None, np.zeros(len(cols), bool), {}
        open_ = result.x[: len(cols)] > 0.5
        nearest = nearest_level(lv, open_)
        # a row is priced exactly when its nearest open site is at level 0 or just past a breakpoint
        short = [i for i in np.flatnonzero(nearest > 0) if not _is_break(breaks[i], nearest[i] - 1)]
        if not short or result.status != "optimal":
            sizes = {"model_rows": int(reach.shape[0]), "model_candidates": len(cols)}
            sizes |= {"level_rows": int(sum(len(b) for b in breaks)), "rounds": rounds}
            return result, open_, sizes
        for i in short:  # price these rows exactly around where they went, and finer on the way
            extra = np.arange(max(0, nearest[i] - 3), min(nearest[i] + 2, lv.n_levels[i]))
            breaks[i] = np.union1d(breaks[i], extra)
        start_y = open_


def _breakpoints(fine: int, n_levels: int) -> np.ndarray:
    """Levels 0…fine−1, then every 2nd, 4th, 8th… level, and always the last."""
    points = list(range(min(fine, n_levels)))
    step, at = 2, fine - 1 + 2
    while at < n_levels - 1:
        points.append(at)
        step *= 2
        at += step
    points.append(n_levels - 1)
    return np.unique(np.asarray(points, dtype=np.int64))


def _is_break(breaks: np.ndarray, level: int) -> bool:
    j = np.searchsorted(breaks, level)
    return bool(j < len(breaks) and breaks[j] == level)


def _initial_levels(
    lv: DistanceLevels, reach: sp.csr_matrix, weights: np.ndarray, p: int, must: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fine levels per row (as far as the greedy solution serves it, plus half again and two) and that solution."""
    keep = np.minimum(lv.n_levels, 3)
    open_ = None
    if reach.shape[0] * reach.shape[1] <= 20_000_000:
        dense = np.full(reach.shape, np.inf)
        dense[lv.row, lv.col] = lv.minutes
        pick = greedy_median(dense, weights, p, must)
        if pick is not None:
            open_ = np.zeros(reach.shape[1], dtype=bool)
            open_[pick] = True
            reached = nearest_level(lv, open_)
            keep = np.maximum(keep, np.minimum(lv.n_levels, reached + reached // 2 + 2))
    return keep.astype(np.int64), open_


def nearest_level(lv: DistanceLevels, open_: np.ndarray) -> np.ndarray:
    """Distance level of each row's nearest open site (n_levels where none is open)."""
    levels = np.where(open_[lv.col], lv.level, np.iinfo(np.int64).max)
    nearest = np.minimum.reduceat(levels, lv.start[:-1])  # every row has entries (distance_levels checks)
    return np.where(nearest == np.iinfo(np.int64).max, lv.n_levels, nearest)


def _model(
    lv: DistanceLevels, breaks: list[np.ndarray], weights: np.ndarray, n_cols: int, existing: np.ndarray, p: int
) -> tuple[Milp, int, np.ndarray]:
    """The level model: site columns first, then one variable per breakpoint of each row.

    ``u_m`` = 1 when no open site is within breakpoint level b_m; it adds the walk from the
    last lower bound to D[b_m + 1] (the least the walk can then be). The last breakpoint is
    the farthest reachable site: ``u`` there is 0 (some site must serve the row).
    """
    milp = Milp(minimize=True)
    y0 = milp.add_columns(np.zeros(n_cols), existing.astype(float), 1.0, integer=True)
    sizes = np.array([len(b) for b in breaks])
    u_first = np.r_[0, np.cumsum(sizes)][:-1]
    n_u = int(sizes.sum())
    cost = np.zeros(n_u)
    upper = np.ones(n_u)
    for i, b in enumerate(breaks):  # ragged per row; one short numpy step per demand row
        d = lv.values[i]
        bound = np.r_[d[0], d[np.minimum(b + 1, len(d) - 1)]]
        cost[u_first[i] : u_first[i] + len(b)] = weights[i] * np.diff(bound)
        upper[u_first[i] + len(b) - 1] = 0.0
    u0 = milp.add_columns(cost, 0.0, upper, integer=False)
    # each pair joins the chain row of the first breakpoint at or past its level
    m = np.concatenate([np.searchsorted(breaks[i], lv.level[a:b]) for i, (a, b) in enumerate(zip(lv.start[:-1], lv.start[1:], strict=True))])
    e_row = u_first[lv.row] + m
    first = np.zeros(n_u, dtype=bool)
    first[u_first] = True
    prev = np.flatnonzero(~first)
    rows = np.concatenate([np.arange(n_u), prev, e_row])
    cols = np.concatenate([u0 + np.arange(n_u), u0 + prev - 1, y0 + lv.col])
    vals = np.concatenate([np.ones(n_u), -np.ones(len(prev)), np.ones(len(e_row))])
    milp.add_rows(rows, cols, vals, np.where(first, 1.0, 0.0), np.inf, n_u)
    new = np.flatnonzero(~existing)
    milp.add_rows(np.zeros(len(new)), y0 + new, 1.0, float(p), float(p), 1)
    return milp, y0, u_first


def _start(lv: DistanceLevels, breaks: list[np.ndarray], open_: np.ndarray, u_first: np.ndarray, n_total: int) -> np.ndarray:
    """The breakpoint variables of solution ``open_`` (a feasible start for the refined model)."""
    x = np.zeros(n_total)
    x[: len(open_)] = open_
    nearest = nearest_level(lv, open_)
    base = len(open_)
    for i, b in enumerate(breaks):
        x[base + u_first[i] : base + u_first[i] + int(np.searchsorted(b, nearest[i]))] = 1.0
    return x
