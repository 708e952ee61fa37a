"""Smaller coverage models with the same optimum: how hard siting instances are won.

A covering model (LSCP, MCLP) only asks *which* candidates reach each demand row, so

- rows already reached by an existing facility are served whatever is built (uncapacitated
  models): they leave the model and their weight is added back;
- rows reached by exactly the same candidates are one row with their weights summed;
- a candidate whose rows are a subset of another's, which costs no less, is never needed
  (swap it for the other in any solution: nothing is lost) — unless units have quotas or
  sites have capacities, where two sites may both be needed;
- a candidate that reaches no remaining row is never needed either (same exceptions).

The reduced model is solved and its answer mapped back to the original rows and columns.
When a bound rules candidates out (:mod:`~dz_gis.allocate.tighten`), :func:`keep_columns`
reduces again: rows no kept candidate reaches cover nothing whatever is built, and leave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["ReducedCoverage", "keep_columns", "reduce_coverage"]


@dataclass
class ReducedCoverage:
    """A covering model after reduction."""

    cover: sp.csr_matrix  #: merged rows × kept candidates, True where the candidate reaches the row
    weights: np.ndarray  #: weight of each merged row
    columns: np.ndarray  #: original candidate column of each kept column
    row_of: np.ndarray  #: merged row of each original row; -1 served by an existing site, -2 by no candidate
    served_by_existing: float  #: weight of the rows an existing site already serves
    unreachable: np.ndarray  #: original rows no candidate (new or existing) reaches


def reduce_coverage(
    cover: sp.csr_matrix,
    weights: np.ndarray,
    open_now: np.ndarray,
    allowed: np.ndarray,
    *,
    site_cost: np.ndarray | None = None,
    drop_dominated: bool = True,
) -> ReducedCoverage:
    """Reduce a covering model (see the module text).

    Parameters
    ----------
    cover
        Demand × candidates, True where the candidate is within the service time of the row.
    weights
        Demand weight of every row.
    open_now
        Candidates that are open whatever happens (existing facilities): their rows leave.
    allowed
        Candidates the model may open (not existing, not closed).
    site_cost
        Cost of each candidate; a cheaper candidate is never called dominated by a dearer one.
    drop_dominated
        Drop dominated and useless candidates (only valid without quotas and capacities).
    """
    cover = sp.csr_matrix(cover, dtype=bool)
    served = (
        np.asarray(cover[:, open_now].sum(axis=1)).ravel() > 0 if open_now.any() else np.zeros(cover.shape[0], bool)
    )
    pool = np.flatnonzero(allowed)
    sub = cover[:, pool].tocsr()
    reachable = np.diff(sub.indptr) > 0
    unreachable = np.flatnonzero(~reachable & ~served)
    keep_rows = np.flatnonzero(reachable & ~served)
    merged, row_of_kept, merged_w = _merge_rows(sub[keep_rows], weights[keep_rows])
    row_of = np.full(cover.shape[0], -2, dtype=np.int64)
    row_of[served] = -1
    row_of[keep_rows] = row_of_kept
    columns = pool
    if drop_dominated:
        keep_cols = _undominated(merged, None if site_cost is None else site_cost[pool])
        merged = merged[:, keep_cols].tocsr()
        columns = pool[keep_cols]
    return ReducedCoverage(
        cover=merged,
        weights=merged_w,
        columns=columns,
        row_of=row_of,
        served_by_existing=float(weights[served].sum()),
        unreachable=unreachable,
    )


def keep_columns(
    cover: sp.csr_matrix,
    weights: np.ndarray,
    keep: np.ndarray,
    protect: np.ndarray,
    site_cost: np.ndarray | None = None,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """A covering model cut to the columns ``keep`` (bool), reduced again; ``protect`` columns stay.

    Returns the new matrix, its rows' weights, the old column of each new column and the new
    row of each old row (-1 where no kept column reaches the row: it leaves the model).
    """
    cols = np.flatnonzero(keep | protect)
    sub = sp.csr_matrix(cover)[:, cols].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    merged, row_of_kept, merged_w = _merge_rows(sub[rows], weights[rows])
    undominated = np.zeros(len(cols), dtype=bool)
    undominated[_undominated(merged, None if site_cost is None else site_cost[cols])] = True
    stay = np.flatnonzero(undominated | protect[cols])
    row_of = np.full(cover.shape[0], -1, dtype=np.int64)
    row_of[rows] = row_of_kept
    return merged[:, stay].tocsr(), merged_w, cols[stay], row_of


def _merge_rows(cover: sp.csr_matrix, weights: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Rows with the same candidates as one row; returns the merged matrix, each row's merged row, the weights."""
    cover = cover.tocsr()
    cover.sort_indices()
    keys = [cover.indices[a:b].tobytes() for a, b in zip(cover.indptr[:-1], cover.indptr[1:], strict=True)]
    first: dict[bytes, int] = {}
    row_of = np.fromiter((first.setdefault(k, len(first)) for k in keys), dtype=np.int64, count=len(keys))
    merged_w = np.bincount(row_of, weights=weights, minlength=len(first)) if len(keys) else np.empty(0)
    representative = np.zeros(len(first), dtype=np.int64)
    representative[row_of[::-1]] = np.arange(len(keys))[::-1]  # first row of each group
    return cover[representative].tocsr(), row_of, merged_w


def _undominated(cover: sp.csr_matrix, cost: np.ndarray | None) -> np.ndarray:
    """Columns no other column dominates (reaches a superset of rows at no higher cost; ties: lower index)."""
    n = cover.shape[1]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    cols = cover.T.tocsr().astype(np.int32)
    size = np.diff(cols.indptr)
    overlap = (cols @ cols.T).tocoo()  # |rows of j ∩ rows of k| for every pair that shares a row
    j, k, shared = overlap.row, overlap.col, overlap.data
    inside = (j != k) & (shared == size[j])  # rows of j ⊆ rows of k
    j, k = j[inside], k[inside]
    cheaper = np.ones(len(j), dtype=bool) if cost is None else cost[k] <= cost[j]
    strictly = (size[k] > size[j]) | (k < j)
    if cost is not None:
        strictly |= cost[k] < cost[j]
    dominated = np.zeros(n, dtype=bool)
    dominated[j[cheaper & strictly]] = True
    dominated |= size == 0
    return np.flatnonzero(~dominated)
