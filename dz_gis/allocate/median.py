"""Exact p-median on each home's nearest sites, widened until the answer is proven.

The textbook model has an assignment variable and a row ``x_ij ≤ y_j`` for every reachable
pair: 200,000 rows for 1,000 homes × 200 sites, and HiGHS spends its time in that root LP.
Here each demand row may be assigned only to its ``q`` nearest sites, or to a stand-in that
costs the distance of its (q+1)-th nearest site — the least it could walk if none of the q
were open (Church 2008, "BEAMR: An exact and approximate model for the p-median problem",
Computers & Operations Research 35). That model is a relaxation: its optimum is a lower
bound. When no row uses its stand-in, the sites it opens cost exactly what it says, so they
are optimal for the whole problem; otherwise the rows whose nearest open site lay beyond
their q get more sites and it is solved again (warm-started). No library does this; it is
written here because it is what makes exact p-median fast (``make bench``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._highs import Milp, MilpResult
from .greedy import greedy_median

__all__ = ["NearestSites", "nearest_sites", "solve_nearest_median"]

#: Sites per demand row in the first round: at least this many, and half again as many as
#: there are sites per open site (a row's nearest open site is about that far down its list).
FIRST_Q = 10


@dataclass
class NearestSites:
    """Each demand row's reachable sites, nearest first (ties: lower column)."""

    row: np.ndarray
    col: np.ndarray
    minutes: np.ndarray
    rank: np.ndarray  #: 0 = nearest
    start: np.ndarray  #: first entry of each row (len rows + 1)

    @property
    def count(self) -> np.ndarray:
        """Reachable sites of each row."""
        return np.diff(self.start)


def nearest_sites(reach: sp.csr_matrix) -> NearestSites:
    """Sort every row's reachable pairs by minutes (every row must have one)."""
    coo = reach.tocoo()
    order = np.lexsort((coo.col, coo.data, coo.row))
    row, col, minutes = coo.row[order], coo.col[order], coo.data[order]
    start = np.searchsorted(row, np.arange(reach.shape[0] + 1))
    rank = np.arange(len(row)) - np.repeat(start[:-1], np.diff(start))
    return NearestSites(row, col, minutes, rank, start)


def nearest_open_rank(ns: NearestSites, open_: np.ndarray) -> np.ndarray:
    """Rank of each row's nearest open site (its count of sites when none is open)."""
    ranks = np.where(open_[ns.col], ns.rank, np.iinfo(np.int64).max)
    best = np.minimum.reduceat(ranks, ns.start[:-1])
    return np.where(best == np.iinfo(np.int64).max, ns.count, best)


def solve_nearest_median(
    reach: sp.csr_matrix,
    weights: np.ndarray,
    existing: np.ndarray,
    p: int,
    add_side_rows: Callable[[Milp, int], None],
    time_limit: float | None,
) -> tuple[MilpResult | None, np.ndarray, dict[str, int]]:
    """Open sites (bool per column of ``reach``) of the exact uncapacitated p-median.

    Returns the last solve (None: infeasible), the open columns and the model sizes; the
    result's bound is a valid lower bound of the whole problem.
    """
    ns = nearest_sites(reach)
    per_site = np.ceil(1.5 * ns.count / max(p + int(existing.sum()), 1)).astype(np.int64)
    q = np.minimum(ns.count, np.maximum(FIRST_Q, per_site))
    open_ = _greedy(ns, reach.shape, weights, p, existing)
    if open_ is not None:  # as far as a greedy solution serves each row, and half again
        greedy_rank = nearest_open_rank(ns, open_)
        q = np.minimum(ns.count, np.maximum(q, greedy_rank + greedy_rank // 2 + 2))
    rounds = 0
    while True:
        rounds += 1
        milp, x0, keep = _model(ns, q, weights, existing, p)
        add_side_rows(milp, 0)
        start = None if open_ is None else _start(ns, q, keep, open_, milp.n_cols, x0)
        result = milp.solve(time_limit=time_limit, start=start)
        if result is None:
            return None, np.zeros(reach.shape[1], dtype=bool), {}
        open_ = result.x[: reach.shape[1]] > 0.5
        rank = nearest_open_rank(ns, open_)
        beyond = np.flatnonzero(rank >= q)
        if len(beyond) == 0 or result.status != "optimal":
            sizes = {"model_rows": reach.shape[0], "model_candidates": reach.shape[1]}
            return result, open_, sizes | {"assignment_pairs": int(keep.sum()), "rounds": rounds}
        q[beyond] = np.minimum(ns.count[beyond], np.maximum(2 * q[beyond], rank[beyond] + 1))


def _model(
    ns: NearestSites, q: np.ndarray, weights: np.ndarray, existing: np.ndarray, p: int
) -> tuple[Milp, int, np.ndarray]:
    """Sites, then each row's assignments to its q nearest, then the stand-ins of rows with more sites."""
    n_rows, n_cols = len(q), len(existing)
    milp = Milp(minimize=True)
    milp.add_columns(np.zeros(n_cols), existing.astype(float), 1.0, integer=True)
    keep = ns.rank < q[ns.row]
    row, col, minutes = ns.row[keep], ns.col[keep], ns.minutes[keep]
    x0 = milp.add_columns(weights[row] * minutes, 0.0, 1.0, integer=False)
    short = np.flatnonzero(q < ns.count)  # rows that may stand in for a farther site
    next_minutes = ns.minutes[ns.start[short] + q[short]]
    h0 = milp.add_columns(weights[short] * next_minutes, 0.0, 1.0, integer=False)
    n_x = len(row)
    pair = np.arange(n_x)
    # every row served once: by one of its q nearest, or by its stand-in
    milp.add_rows(np.r_[row, short], np.r_[x0 + pair, h0 + np.arange(len(short))], 1.0, 1.0, 1.0, n_rows)
    # only by an open site
    milp.add_rows(np.r_[pair, pair], np.r_[x0 + pair, col], np.r_[np.ones(n_x), -np.ones(n_x)], -np.inf, 0.0, n_x)
    new = np.flatnonzero(~existing)
    milp.add_rows(np.zeros(len(new)), new, 1.0, float(p), float(p), 1)
    return milp, x0, keep


def _greedy(
    ns: NearestSites, shape: tuple[int, int], weights: np.ndarray, p: int, existing: np.ndarray
) -> np.ndarray | None:
    if shape[0] * shape[1] > 20_000_000:
        return None
    dense = np.full(shape, np.inf)
    dense[ns.row, ns.col] = ns.minutes
    pick = greedy_median(dense, weights, p, np.flatnonzero(existing))
    if pick is None:
        return None
    open_ = np.zeros(shape[1], dtype=bool)
    open_[pick] = True
    return open_


def _start(ns: NearestSites, q: np.ndarray, keep: np.ndarray, open_: np.ndarray, n_total: int, x0: int) -> np.ndarray:
    """Columns of solution ``open_``: each row to its nearest open site among its q, else its stand-in."""
    x = np.zeros(n_total)
    x[: len(open_)] = open_
    rank = nearest_open_rank(ns, open_)
    kept_row, kept_rank = ns.row[keep], ns.rank[keep]
    x[x0 + np.flatnonzero(kept_rank == rank[kept_row])] = 1.0
    short = np.flatnonzero(q < ns.count)
    h0 = x0 + int(keep.sum())
    x[h0 + np.flatnonzero(rank[short] >= q[short])] = 1.0
    return x
