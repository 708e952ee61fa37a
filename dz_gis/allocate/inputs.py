"""What a siting model is given, checked once: costs, weights, existing and closed sites, side constraints.

Every model reads a :class:`SitingInputs`; :func:`siting_inputs` turns what a user passes
(a dense matrix with ``np.inf`` for unreachable pairs or a sparse one whose stored entries
are the reachable pairs, index arrays or masks, scalars or arrays) into it, and says what is
wrong in words when something is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import ValidationError

__all__ = [
    "SitingInputs",
    "columns_mask",
    "group_members",
    "pairs_within",
    "reach_matrix",
    "siting_inputs",
    "within_minutes",
]


@dataclass
class SitingInputs:
    """A siting problem's data, in candidate-column and demand-row order."""

    reach: sp.csr_matrix  #: demand × candidates minutes of the reachable pairs (explicit zeros kept)
    weights: np.ndarray  #: demand weight of every row
    existing: np.ndarray  #: bool per candidate: already built, always open
    closed: np.ndarray  #: bool per candidate: must stay closed
    capacity: np.ndarray | None = None  #: demand weight each candidate can serve (None: unlimited)
    groups: np.ndarray | None = None  #: label of each candidate's unit (street…); None where it has none
    min_per_group: dict[Any, int] = field(default_factory=dict)  #: at least this many open sites per unit
    site_cost: np.ndarray | None = None  #: cost of opening each new site
    budget: float | None = None  #: the new sites' costs add up to at most this
    demand_labels: np.ndarray | None = None  #: names of the demand rows, for messages
    candidate_labels: np.ndarray | None = None  #: names of the candidate columns, for messages

    @property
    def shape(self) -> tuple[int, int]:
        """(demand rows, candidate columns)."""
        return self.reach.shape

    def demand_name(self, rows: np.ndarray, limit: int = 8) -> str:
        """Up to ``limit`` demand rows by name, for an error message."""
        return _names(self.demand_labels, rows, limit)

    def candidate_name(self, cols: np.ndarray, limit: int = 8) -> str:
        """Up to ``limit`` candidate columns by name, for an error message."""
        return _names(self.candidate_labels, cols, limit)


def siting_inputs(
    cost: Any,
    *,
    weights: Any = None,
    existing: Any = None,
    closed: Any = None,
    capacity: Any = None,
    groups: Any = None,
    min_per_group: int | Mapping[Any, int] | None = None,
    site_cost: Any = None,
    budget: float | None = None,
    demand_labels: Any = None,
    candidate_labels: Any = None,
) -> SitingInputs:
    """Check and normalise a siting model's inputs (see the models' ``from_cost_matrix``)."""
    reach = reach_matrix(cost)
    n_dem, n_cand = reach.shape
    w = _vector(weights, n_dem, "weights", default=1.0)
    ex = columns_mask(existing, n_cand, "existing")
    cl = columns_mask(closed, n_cand, "closed")
    both = np.flatnonzero(ex & cl)
    if len(both):
        raise ValidationError(
            f"candidate columns {both[:8].tolist()} are both existing (always open) and closed; "
            "an existing facility cannot be closed — take it out of one of the two."
        )
    cap = None if capacity is None else _vector(capacity, n_cand, "capacity", default=np.inf)
    cost_vec = None if site_cost is None else _vector(site_cost, n_cand, "site_cost", default=0.0)
    if budget is not None and not (np.isfinite(budget) and budget >= 0):
        raise ValidationError(f"budget must be a number ≥ 0, got {budget!r}.")
    if budget is not None and cost_vec is None:
        raise ValidationError("budget= needs site_cost= (the cost of opening each candidate).")
    grp, quota = _groups(groups, min_per_group, n_cand)
    return SitingInputs(
        reach=reach,
        weights=w,
        existing=ex,
        closed=cl,
        capacity=cap,
        groups=grp,
        min_per_group=quota,
        site_cost=cost_vec,
        budget=None if budget is None else float(budget),
        demand_labels=None if demand_labels is None else np.asarray(demand_labels, dtype=object),
        candidate_labels=None if candidate_labels is None else np.asarray(candidate_labels, dtype=object),
    )


def reach_matrix(cost: Any) -> sp.csr_matrix:
    """Demand × candidates minutes as CSR, stored entries = reachable pairs (explicit zeros kept)."""
    if sp.issparse(cost):
        matrix = sp.csr_matrix(cost, dtype=float, copy=True)
        matrix.sum_duplicates()
        data = matrix.data
        where = "the stored entries of cost"
    else:
        dense = np.asarray(cost, dtype=float)
        if dense.ndim != 2:
            raise ValidationError(f"cost must be a demand × candidates matrix (2-D), got {dense.ndim} dimension(s).")
        if np.isnan(dense).any():
            i, j = np.argwhere(np.isnan(dense))[0]
            raise ValidationError(
                f"cost has NaN (first at row {i}, column {j}); write np.inf for a pair that cannot be reached."
            )
        rows, cols = np.nonzero(np.isfinite(dense))
        matrix = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
        data = matrix.data
        where = "cost"
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValidationError(
            f"cost is {matrix.shape[0]} × {matrix.shape[1]}: it needs demand rows and candidate columns."
        )
    if not np.isfinite(data).all() or (data < 0).any():
        raise ValidationError(f"{where} must be finite minutes ≥ 0 (a sparse matrix stores only the reachable pairs).")
    matrix.sort_indices()
    return matrix


def within_minutes(reach: sp.csr_matrix, limit: float) -> sp.csr_matrix:
    """True for the stored pairs of ``reach`` within ``limit`` minutes (explicit zeros count; no stored False)."""
    keep = reach.tocoo()
    inside = keep.data <= limit + 1e-9
    ones = np.ones(int(inside.sum()), dtype=bool)
    return sp.csr_matrix((ones, (keep.row[inside], keep.col[inside])), shape=reach.shape)


def pairs_within(reach: sp.csr_matrix, limit: float) -> sp.csr_matrix:
    """The stored pairs of ``reach`` within ``limit`` minutes, with their minutes (explicit zeros kept)."""
    coo = reach.tocoo()
    inside = coo.data <= limit + 1e-9
    return sp.csr_matrix((coo.data[inside], (coo.row[inside], coo.col[inside])), shape=reach.shape)


def columns_mask(value: Any, n: int, name: str) -> np.ndarray:
    """A bool mask over ``n`` candidate columns from column numbers, or a mask, or None."""
    if value is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValidationError(f"{name} as a mask must have one entry per candidate ({n}), got {arr.shape}.")
        return arr.copy()
    if arr.size == 0:
        return np.zeros(n, dtype=bool)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValidationError(f"{name} must list candidate column numbers (integers) or be a bool mask.")
    bad = arr[(arr < 0) | (arr >= n)]
    if len(bad):
        raise ValidationError(f"{name} lists columns {bad[:8].tolist()} outside 0…{n - 1}.")
    mask = np.zeros(n, dtype=bool)
    mask[arr] = True
    return mask


def _vector(value: Any, n: int, name: str, *, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=float)
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValidationError(f"{name} must have {n} entries (one per row/column), got {arr.shape}.")
    bad = np.flatnonzero(np.isnan(arr) | (arr < 0))
    if len(bad):
        raise ValidationError(f"{name} must be ≥ 0 and not missing; entries {bad[:8].tolist()} are not.")
    return arr


def _groups(groups: Any, quota: int | Mapping[Any, int] | None, n: int) -> tuple[np.ndarray | None, dict[Any, int]]:
    if groups is None:
        if quota:
            raise ValidationError("min_per_group= needs groups= (the unit, e.g. the street, of every candidate).")
        return None, {}
    labels = np.asarray(pd.Series(groups, dtype=object).where(pd.notna(pd.Series(groups, dtype=object)), None))
    if labels.shape != (n,):
        raise ValidationError(f"groups must name a unit (or None) for each of the {n} candidates, got {labels.shape}.")
    if quota is None:
        return labels, {}
    if isinstance(quota, Mapping):
        wanted = {key: int(k) for key, k in quota.items()}
    else:
        wanted = {g: int(quota) for g in pd.unique(labels[labels != None])}  # noqa: E711 - elementwise
    negative = [g for g, k in wanted.items() if k < 0]
    if negative:
        raise ValidationError(f"min_per_group must be ≥ 0; units {negative[:8]} are not.")
    return labels, wanted


def _names(labels: np.ndarray | None, idx: np.ndarray, limit: int) -> str:
    idx = np.asarray(idx)
    shown = [str(labels[i]) if labels is not None else str(int(i)) for i in idx[:limit]]
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return ", ".join(shown) + more


def group_members(inputs: SitingInputs) -> dict[Any, np.ndarray]:
    """Candidate columns of every unit that has a quota."""
    if inputs.groups is None:
        return {}
    return {g: np.flatnonzero(inputs.groups == g) for g in inputs.min_per_group}
