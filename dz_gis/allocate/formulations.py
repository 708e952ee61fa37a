"""The siting models as sparse MILPs: covering (LSCP, MCLP, both capacitated or not) and p-median.

Each builder returns a :class:`Built`: the :class:`~dz_gis.allocate._highs.Milp`, a greedy
start, and how to read the candidates opened off a solution. Side constraints are shared:
quotas per unit, a budget, closed and existing sites (see :mod:`dz_gis.allocate.inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._errors import InfeasibleError
from ._highs import Milp
from .greedy import greedy_cover
from .inputs import SitingInputs, group_members
from .reduce import ReducedCoverage, reduce_coverage
from .tighten import PROOF_OPTIONS, max_cover_milp, max_cover_start, tighten_max_cover

__all__ = [
    "Built",
    "build_capacitated_cover",
    "build_cover",
    "build_median",
    "check_quotas",
    "median_reach",
    "side_rows",
]


@dataclass
class Built:
    """A model ready to solve."""

    milp: Milp
    columns: np.ndarray  #: original candidate column of each site variable (the first ``len(columns)`` columns)
    start: np.ndarray | None  #: a feasible start for every column, or None
    constant: float = 0.0  #: added to the solver's objective (weight already served by existing sites)
    pairs: tuple[np.ndarray, np.ndarray] | None = None  #: (model row, original column) of each allocation variable
    pair_offset: int = 0  #: index of the first allocation variable
    row_of: np.ndarray | None = None  #: model row of each original demand row (-2: none)
    sizes: dict[str, int] = field(default_factory=dict)  #: rows and columns before and after reduction

    def opened(self, x: np.ndarray, inputs: SitingInputs) -> np.ndarray:
        """Sorted candidate columns open in solution ``x`` (existing included)."""
        picked = self.columns[x[: len(self.columns)] > 0.5]
        return np.union1d(picked, np.flatnonzero(inputs.existing)).astype(np.int64)


def check_quotas(inputs: SitingInputs, p: int | None) -> None:
    """Raise :class:`InfeasibleError` when units' quotas cannot be met by their candidates, p or the budget."""
    allowed = ~inputs.existing & ~inputs.closed
    short, need, cheapest = [], 0, 0.0
    for g, cols in group_members(inputs).items():
        k = inputs.min_per_group[g]
        have = int(inputs.existing[cols].sum())
        free = cols[allowed[cols]]
        if have + len(free) < k:
            short.append(f"{g} (needs {k}, has {have} existing and {len(free)} candidates)")
        missing = max(0, k - have)
        need += missing
        if inputs.site_cost is not None and missing:
            cheapest += float(np.sort(inputs.site_cost[free])[:missing].sum())
    if short:
        raise InfeasibleError(
            "quota per unit cannot be met: " + "; ".join(short[:8]) + ". Add candidate sites in these units or lower "
            "min_per_group."
        )
    if p is not None and need > p:
        raise InfeasibleError(
            f"count: the units' quotas need {need} new sites but p = {p}; raise p to at least {need}."
        )
    if inputs.budget is not None and cheapest > inputs.budget + 1e-9:
        raise InfeasibleError(
            f"budget: the cheapest sites that meet the units' quotas cost {cheapest:g}, more than the budget "
            f"{inputs.budget:g}."
        )


def build_cover(inputs: SitingInputs, cover: sp.csr_matrix, p: int | None) -> tuple[Built, ReducedCoverage]:
    """LSCP (``p`` None: fewest sites covering every row) or MCLP (most weight covered with ``p`` new sites)."""
    allowed = ~inputs.existing & ~inputs.closed
    red = reduce_coverage(
        cover,
        inputs.weights,
        inputs.existing,
        allowed,
        site_cost=inputs.site_cost,
        drop_dominated=not inputs.min_per_group,
    )
    if p is None and len(red.unreachable):
        raise InfeasibleError(
            f"coverage: {len(red.unreachable)} demand row(s) have no candidate or existing site within the service "
            f"time: {inputs.demand_name(red.unreachable)}. Add candidates near them, raise service_min, or leave "
            "them out (MCLP covers what it can)."
        )
    plain = not inputs.min_per_group and inputs.budget is None  # no side rows: the greedy start is feasible
    if p is not None and plain:
        return _tight_max_cover(inputs, cover.shape, red, p), red
    n_rows, n_cols = red.cover.shape
    milp = Milp(minimize=p is None)
    y0 = milp.add_columns(np.ones(n_cols) if p is None else np.zeros(n_cols), 0.0, 1.0, integer=True)
    a = red.cover.tocoo()
    if p is None:
        milp.add_rows(a.row, y0 + a.col, 1.0, 1.0, np.inf, n_rows)
        pick = greedy_cover(red.cover)
        start = None if pick is None else _indicator(pick, n_cols)
    else:
        z0 = milp.add_columns(red.weights, 0.0, 1.0, integer=False)
        rows = np.concatenate([np.arange(n_rows), a.row])
        cols = np.concatenate([z0 + np.arange(n_rows), y0 + a.col])
        vals = np.concatenate([np.ones(n_rows), -np.ones(len(a.row))])
        milp.add_rows(rows, cols, vals, -np.inf, 0.0, n_rows)
        milp.add_rows(np.zeros(n_cols), y0 + np.arange(n_cols), 1.0, -np.inf, float(p), 1)
        start = None  # quotas or a budget: the greedy start may break them
        milp.options["mip_allow_restart"] = False
    side_rows(milp, inputs, red.columns, y0)
    built = Built(milp, red.columns, start if plain else None)
    built.constant = red.served_by_existing if p is not None else float(inputs.existing.sum())
    built.sizes = _sizes(cover.shape, (n_rows, n_cols))
    return built, red


def _tight_max_cover(inputs: SitingInputs, shape: tuple[int, int], red: ReducedCoverage, p: int) -> Built:
    """MCLP without side rows, tightened first (:mod:`~dz_gis.allocate.tighten`), with its start."""
    cost = None if inputs.site_cost is None else inputs.site_cost[red.columns]
    tight = tighten_max_cover(red.cover, red.weights, p, cost)
    milp = max_cover_milp(tight.cover, tight.weights, p)
    milp.options.update(PROOF_OPTIONS)
    built = Built(milp, red.columns[tight.columns], max_cover_start(tight.cover, tight.start))
    built.constant = red.served_by_existing
    built.sizes = _sizes(shape, tight.cover.shape)
    return built


def build_capacitated_cover(inputs: SitingInputs, cover: sp.csr_matrix, p: int | None) -> Built:
    """Covering with capacities: each site serves at most its capacity; rows may be served in part."""
    assert inputs.capacity is not None
    openable = ~inputs.closed
    red = reduce_coverage(cover, inputs.weights, np.zeros_like(openable), openable, drop_dominated=False)
    if p is None and len(red.unreachable):
        raise InfeasibleError(
            f"coverage: {len(red.unreachable)} demand row(s) have no site within the service time: "
            f"{inputs.demand_name(red.unreachable)}."
        )
    if p is None:
        total_cap = float(inputs.capacity[openable].sum())
        if total_cap < red.weights.sum() - 1e-9:
            raise InfeasibleError(
                f"capacity: every site open together serves {total_cap:g}, less than the demand {red.weights.sum():g}."
            )
    n_rows, n_cols = red.cover.shape
    cols = red.columns
    milp = Milp(minimize=p is None)
    lower = inputs.existing[cols].astype(float)
    y0 = milp.add_columns(
        np.where(inputs.existing[cols], 0.0, 1.0) if p is None else np.zeros(n_cols), lower, 1.0, integer=True
    )
    a = red.cover.tocoo()
    n_pairs = len(a.row)
    w = red.weights[a.row]
    x0 = milp.add_columns(np.zeros(n_pairs) if p is None else w, 0.0, 1.0, integer=False)
    pair = np.arange(n_pairs)
    # each row served at most (MCLP) or exactly (LSCP) once
    milp.add_rows(a.row, x0 + pair, 1.0, 1.0 if p is None else -np.inf, 1.0, n_rows)
    # a site serves at most its capacity, and only when open
    capacity_rows(milp, x0, y0, a.col, w, inputs.capacity[cols])
    open_only(milp, x0, y0 + a.col)
    if p is not None:
        new = np.flatnonzero(~inputs.existing[cols])
        milp.add_rows(np.zeros(len(new)), y0 + new, 1.0, -np.inf, float(p), 1)
    side_rows(milp, inputs, cols, y0, new_only=True)
    built = Built(milp, cols, None)
    built.constant = float(inputs.existing.sum()) if p is None else 0.0
    built.pairs, built.pair_offset, built.row_of = (a.row, cols[a.col]), x0, red.row_of
    built.sizes = _sizes(cover.shape, (n_rows, n_cols))
    return built


def median_reach(inputs: SitingInputs, reach: sp.csr_matrix, p: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """The reachable pairs of the sites that may be open, and those sites' columns; checks every row is reachable."""
    cols = np.flatnonzero(~inputs.closed)
    sub = reach[:, cols].tocsr()
    sub.sort_indices()
    lost = np.flatnonzero(np.diff(sub.indptr) == 0)
    if len(lost):
        raise InfeasibleError(
            f"coverage: {len(lost)} demand row(s) reach no site: {inputs.demand_name(lost)}. Add candidates near "
            "them or raise service_min."
        )
    new = np.flatnonzero(~inputs.existing[cols])
    if p > len(new):
        raise InfeasibleError(f"count: p = {p} new sites but only {len(new)} candidates may be opened.")
    return sub, cols


def build_median(inputs: SitingInputs, reach: sp.csr_matrix, p: int) -> Built:
    """p-median with capacities: every row served by open sites within their capacity, weighted minutes least."""
    sub, cols = median_reach(inputs, reach, p)
    new = np.flatnonzero(~inputs.existing[cols])
    if inputs.capacity is not None:
        total_cap = float(inputs.capacity[cols].sum())
        if total_cap < inputs.weights.sum() - 1e-9:
            raise InfeasibleError(
                f"capacity: every site open together serves {total_cap:g}, "
                f"less than the demand {inputs.weights.sum():g}."
            )
    n_rows, n_cols = sub.shape
    milp = Milp(minimize=True)
    y0 = milp.add_columns(np.zeros(n_cols), inputs.existing[cols].astype(float), 1.0, integer=True)
    a = sub.tocoo()
    n_pairs = len(a.row)
    w = inputs.weights[a.row]
    x0 = milp.add_columns(w * a.data, 0.0, 1.0, integer=False)
    pair = np.arange(n_pairs)
    milp.add_rows(a.row, x0 + pair, 1.0, 1.0, 1.0, n_rows)
    open_only(milp, x0, y0 + a.col)
    milp.add_rows(np.zeros(len(new)), y0 + new, 1.0, float(p), float(p), 1)
    if inputs.capacity is not None:
        capacity_rows(milp, x0, y0, a.col, w, inputs.capacity[cols])
    side_rows(milp, inputs, cols, y0, new_only=True)
    built = Built(milp, cols, None)
    built.pairs, built.pair_offset, built.row_of = (a.row, cols[a.col]), x0, np.arange(n_rows)
    built.sizes = _sizes(reach.shape, (n_rows, n_cols))
    return built


def capacity_rows(milp: Milp, x0: int, y0: int, site: np.ndarray, weight: np.ndarray, capacity: np.ndarray) -> None:
    """Rows ``Σ w·x ≤ capacity·y``: site ``j`` (columns ``y0…``) serves at most its capacity, and only when open.

    ``site`` and ``weight`` give each allocation variable ``x0…`` its site and its row's weight.
    """
    n = len(capacity)
    cap = np.minimum(capacity, weight.sum())  # an unlimited site needs no more than all the demand
    milp.add_rows(
        np.r_[site, np.arange(n)],
        np.r_[x0 + np.arange(len(site)), y0 + np.arange(n)],
        np.r_[weight, -cap],
        -np.inf,
        0.0,
        n,
    )


def _sizes(given: tuple[int, int], model: tuple[int, int]) -> dict[str, int]:
    return {"demand_rows": given[0], "candidates": given[1], "model_rows": model[0], "model_candidates": model[1]}


def open_only(milp: Milp, x0: int, site_columns: np.ndarray) -> None:
    """Rows ``x ≤ y``: the allocation variables ``x0…`` serve only through their (open) site columns."""
    n = len(site_columns)
    pair = np.arange(n)
    milp.add_rows(np.r_[pair, pair], np.r_[x0 + pair, site_columns], np.r_[np.ones(n), -np.ones(n)], -np.inf, 0.0, n)


def side_rows(milp: Milp, inputs: SitingInputs, cols: np.ndarray, y0: int, *, new_only: bool = False) -> None:
    """Quotas per unit and the budget, on the site variables ``y0…`` of candidates ``cols``."""
    new = ~inputs.existing[cols]
    for g, k in inputs.min_per_group.items():
        assert inputs.groups is not None
        members = np.flatnonzero(inputs.groups[cols] == g)
        have = int(inputs.existing[(inputs.groups == g)].sum())
        if new_only:  # existing sites are variables fixed at 1 in this model: count them as they are
            have = 0
        need = k - have
        if need > 0:
            milp.add_rows(np.zeros(len(members)), y0 + members, 1.0, float(need), np.inf, 1)
    if inputs.budget is not None:
        assert inputs.site_cost is not None
        spend = np.flatnonzero(new)
        milp.add_rows(np.zeros(len(spend)), y0 + spend, inputs.site_cost[cols][spend], -np.inf, inputs.budget, 1)


def _indicator(picked: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[picked] = 1.0
    return out
