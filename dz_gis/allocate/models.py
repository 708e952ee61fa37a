"""LSCP, MCLP and p-median with the shape spopt users know, solved exactly by HiGHS.

``Model.from_cost_matrix(cost, service_min=..., p=..., ...)`` then ``.solve()``; the solved
model carries ``selected`` (candidate columns open, existing included), ``objective``,
``mip_gap``, ``status`` and ``solve_s``. ``cost`` is demand × candidates minutes: a dense array
with ``np.inf`` where a pair cannot be reached, or a scipy sparse matrix whose stored entries
are the reachable pairs (what :func:`dz_gis.od_matrix` returns). Side constraints the plan
needs — existing sites, closed sites, a quota per unit (one elderly-care complex per street),
capacities, a budget — are keywords of every model.

Objectives, as in spopt: LSCP the number of sites open (existing included); MCLP the demand
weight covered (by existing and new sites); p-median the weighted minutes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Self

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import InfeasibleError, ValidationError
from ..network.prepared import Network
from .formulations import (
    Built,
    build_capacitated_cover,
    build_cover,
    build_median,
    check_quotas,
    median_reach,
    side_rows,
)
from .inputs import SitingInputs, pairs_within, siting_inputs, within_minutes
from .layers import SiteLayers, site_layers
from .median import solve_nearest_median

__all__ = ["LSCP", "MCLP", "PMedian", "SitingModel"]


class SitingModel:
    """What the three models share: inputs, solving, and the solution read back."""

    name = "siting"

    def __init__(self, inputs: SitingInputs, *, service_min: float | None, p: int | None) -> None:
        self.inputs = inputs
        self.service_min = None if service_min is None else float(service_min)
        self.p = p
        self.selected: np.ndarray | None = None  #: candidate columns open, sorted (existing included)
        self.objective: float = float("nan")
        self.bound: float = float("nan")  #: the best bound proven (equals the objective when optimal)
        self.mip_gap: float = float("nan")
        self.status: str = "not solved"
        self.solve_s: float = float("nan")  #: seconds in the solver
        self.build_s: float = float("nan")  #: seconds building and reducing the model
        self.sizes: dict[str, int] = {}  #: demand rows and candidates before and after reduction
        self.allocation: sp.csr_matrix | None = None  #: share of each demand row served by each site
        self.layers: SiteLayers | None = None  #: the map layers, when made by :meth:`from_layers`

    @classmethod
    def from_cost_matrix(
        cls,
        cost: Any,
        *,
        service_min: float | None = None,
        p: int | None = None,
        weights: Any = None,
        existing: Any = None,
        capacity: Any = None,
        closed: Any = None,
        groups: Any = None,
        min_per_group: int | Mapping[Any, int] | None = None,
        site_cost: Any = None,
        budget: float | None = None,
        demand_labels: Any = None,
        candidate_labels: Any = None,
    ) -> Self:
        """A model from a demand × candidates matrix of minutes.

        Parameters
        ----------
        cost
            Dense array (``np.inf`` = cannot be reached) or scipy sparse matrix (stored entries
            are the reachable pairs; an explicit 0 is a pair 0 minutes apart).
        service_min
            A candidate serves a demand row within this many minutes (p-median: optional limit).
        p
            New sites to open (MCLP, p-median); existing ones come on top.
        weights
            Demand weight of each row (households, older residents…); default 1.
        existing
            Candidate columns already built (numbers or a bool mask): always open.
        capacity
            Demand weight each site can serve (a number or one per candidate): rows may then be
            served in part and by several sites.
        closed
            Candidate columns that must stay closed.
        groups, min_per_group
            The unit of each candidate (e.g. its street) and at least how many sites each unit
            must have open (one number for all, or ``{unit: k}``); existing sites count.
        site_cost, budget
            Cost of opening each candidate, and the most the new sites may cost together.
        demand_labels, candidate_labels
            Names used in messages (e.g. compound ids), in row / column order.
        """
        inputs = siting_inputs(
            cost,
            weights=weights,
            existing=existing,
            closed=closed,
            capacity=capacity,
            groups=groups,
            min_per_group=min_per_group,
            site_cost=site_cost,
            budget=budget,
            demand_labels=demand_labels,
            candidate_labels=candidate_labels,
        )
        return cls(inputs, service_min=service_min, p=_count(p, cls.name))

    @classmethod
    def from_layers(
        cls,
        graph: Network,
        demand: gpd.GeoDataFrame,
        candidates: gpd.GeoDataFrame,
        *,
        service_min: float | None = None,
        p: int | None = None,
        existing: gpd.GeoDataFrame | None = None,
        weights: str | np.ndarray | None = "households",
        walk_m_per_min: float | None = None,
        cutoff_min: float | None = None,
        groups: str | None = None,
        capacity: str | float | None = None,
        site_cost: str | None = None,
        **options: Any,
    ) -> Self:
        """A model from map layers: minutes from :func:`dz_gis.od_times` (the coverage table's access model).

        ``candidates`` and ``existing`` become the columns (candidates first, then existing
        facilities, always open); ``groups``, ``capacity`` and ``site_cost`` may name their
        columns. ``walk_m_per_min`` scales the graph's minutes to a slower walker. Other
        keywords (``min_per_group``, ``budget``, ``closed``…) as in :meth:`from_cost_matrix`.
        The layers stay on the model as ``.layers`` (:class:`~dz_gis.allocate.layers.SiteLayers`).
        """
        limit = cutoff_min if cutoff_min is not None else service_min
        if limit is None:
            raise ValidationError(f"{cls.name}.from_layers needs service_min= or cutoff_min= (minutes).")
        layers = site_layers(
            graph,
            demand,
            candidates,
            existing=existing,
            weights=weights,
            cutoff_min=limit,
            walk_m_per_min=walk_m_per_min,
        )
        label = next((c for c in ("candidate_id", "facility_id", "name") if c in layers.sites), None)
        model = cls.from_cost_matrix(
            layers.cost,
            service_min=service_min,
            p=p,
            weights=layers.weights,
            existing=layers.sites["existing"].to_numpy(dtype=bool),
            groups=None if groups is None else layers.sites[groups].to_numpy(dtype=object),
            capacity=_column(layers.sites, capacity),
            site_cost=_column(layers.sites, site_cost),
            demand_labels=demand.index.to_numpy(),
            candidate_labels=None if label is None else layers.sites[label].to_numpy(dtype=object),
            **options,
        )
        model.layers = layers
        return model

    def site_table(self, rows: np.ndarray | None = None) -> gpd.GeoDataFrame:
        """The open sites on the map (needs :meth:`from_layers`): ``new``, and the demand weight each serves.

        ``serves`` is the weight of the demand rows whose nearest open site within
        ``service_min`` is this one (capacitated models: the weight allocated to it); ``rows``
        limits it to those demand rows.
        """
        if self.layers is None or self.selected is None:
            raise ValidationError("site_table needs a model made with from_layers and solved.")
        sites = self.layers.sites.iloc[self.selected].copy()
        sites.insert(0, "column", self.selected)
        sites["new"] = ~sites["existing"].to_numpy(dtype=bool)
        sites["serves"] = self._served_by_site(rows)[self.selected]
        sites["model"] = self.name
        sites["status"] = self.status
        return sites

    def _served_by_site(self, rows: np.ndarray | None = None) -> np.ndarray:
        w = self.inputs.weights
        if rows is not None:  # count these demand rows only
            w = np.where(np.isin(np.arange(len(w)), rows), w, 0.0)
        if self.allocation is not None:
            return np.asarray(self.allocation.multiply(w[:, None]).sum(axis=0)).ravel()
        limit = np.inf if self.service_min is None else self.service_min + 1e-9
        coo = self.inputs.reach.tocoo()
        open_ = np.zeros(self.inputs.shape[1], dtype=bool)
        open_[self.selected] = True
        hit = open_[coo.col] & (coo.data <= limit)
        row, col, minutes = coo.row[hit], coo.col[hit], coo.data[hit]
        order = np.lexsort((col, minutes, row))  # each row to its nearest open site
        row, col = row[order], col[order]
        first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, dtype=bool)
        return np.bincount(col[first], weights=w[row[first]], minlength=self.inputs.shape[1])

    # -- solving ------------------------------------------------------------------------------------------

    def solve(self, time_limit: float | None = None) -> Self:
        """Solve to proven optimality (or until ``time_limit`` seconds: best found, ``status="time_limit"``)."""
        began = time.perf_counter()
        check_quotas(self.inputs, self.p)
        built = self._build()
        self.build_s = time.perf_counter() - began
        self.sizes = built.sizes
        result = built.milp.solve(time_limit=time_limit, start=built.start)
        if result is None:
            raise InfeasibleError(self._infeasible_message())
        self.selected = built.opened(result.x, self.inputs)
        self.objective = result.objective + built.constant
        self.bound = result.bound + built.constant
        self.mip_gap, self.status, self.solve_s = result.mip_gap, result.status, result.solve_s
        if built.pairs is not None:
            self.allocation = _allocation(built, result.x, self.inputs.shape)
        self._tidy()
        return self

    def _build(self) -> Built:  # pragma: no cover - every model defines it
        raise NotImplementedError

    def _tidy(self) -> None:
        """Drop new sites that serve nothing (the solver may open them when it costs nothing)."""

    def coverage_matrix(self) -> sp.csr_matrix:
        """Demand × candidates, True where the candidate is within ``service_min`` of the row."""
        if self.service_min is None or not self.service_min >= 0:
            raise ValidationError(f"{self.name} needs service_min= (minutes), got {self.service_min!r}.")
        return within_minutes(self.inputs.reach, self.service_min)

    def _infeasible_message(self) -> str:
        active = [
            "coverage of every row" if self.name == "LSCP" else "",
            "capacities" if self.inputs.capacity is not None else "",
        ]
        active += [
            "quotas per unit" if self.inputs.min_per_group else "",
            "budget" if self.inputs.budget is not None else "",
        ]
        named = ", ".join(a for a in active if a) or "its constraints"
        return f"{self.name}: no set of sites meets {named} together; relax one of them (more candidates, p, budget)."

    @property
    def new_sites(self) -> np.ndarray:
        """Columns opened by the model (not existing)."""
        if self.selected is None:
            return np.empty(0, dtype=np.int64)
        return self.selected[~self.inputs.existing[self.selected]]

    def covered_share(self) -> np.ndarray:
        """Share of each demand row's weight served within the service time (by the sites open)."""
        if self.selected is None:
            raise ValidationError("solve the model first (.solve()).")
        if self.allocation is not None:
            return np.minimum(np.asarray(self.allocation.sum(axis=1)).ravel(), 1.0)
        cover = self.coverage_matrix()
        return (np.asarray(cover[:, self.selected].sum(axis=1)).ravel() > 0).astype(float)

    def __repr__(self) -> str:
        n = self.inputs.shape
        return f"{self.name}({n[0]} demand × {n[1]} candidates, {self.status}, objective={self.objective:g})"


class LSCP(SitingModel):
    """Location set covering: the fewest sites so that every demand row is within ``service_min``."""

    name = "LSCP"

    def _build(self) -> Built:
        if self.inputs.capacity is not None:
            return build_capacitated_cover(self.inputs, self.coverage_matrix(), None)
        return build_cover(self.inputs, self.coverage_matrix(), None)[0]


class MCLP(SitingModel):
    """Maximal covering: ``p`` new sites covering the most demand weight within ``service_min``.

    Sites that would cover nothing more are not opened, so fewer than ``p`` may come back
    when ``p`` is more than the demand needs.
    """

    name = "MCLP"

    def _build(self) -> Built:
        if self.p is None:
            raise ValidationError("MCLP needs p= (how many new sites).")
        if self.inputs.capacity is not None:
            return build_capacitated_cover(self.inputs, self.coverage_matrix(), self.p)
        return build_cover(self.inputs, self.coverage_matrix(), self.p)[0]

    def _tidy(self) -> None:
        if self.inputs.capacity is not None or self.inputs.min_per_group or self.selected is None:
            return
        cover = self.coverage_matrix().tocsc()
        keep = list(self.selected)
        for j in sorted(self.new_sites, key=lambda c: cover[:, c].nnz):
            rest = [c for c in keep if c != j]
            rows = cover[:, [j]].nonzero()[0]
            if len(rows) == 0 or (rest and np.all(np.asarray(cover[rows][:, rest].sum(axis=1)).ravel() > 0)):
                keep = rest
        self.selected = np.array(sorted(keep), dtype=np.int64)


class PMedian(SitingModel):
    """p-median: ``p`` new sites that make the demand-weighted walking minutes least, every row served.

    With ``service_min``, a row may only be served by sites within it.
    """

    name = "PMedian"

    def _build(self) -> Built:
        if self.p is None:
            raise ValidationError("PMedian needs p= (how many new sites).")
        return build_median(self.inputs, self._limited_reach(), self.p)

    def coverage_matrix(self) -> sp.csr_matrix:
        """Demand × candidates, True where the candidate is within ``service_min`` of the row."""
        return within_minutes(self.inputs.reach, np.inf if self.service_min is None else self.service_min)

    def solve(self, time_limit: float | None = None) -> Self:
        """Solve to proven optimality (or until ``time_limit`` seconds per round: best found, with its gap).

        With capacities the textbook assignment model is solved; without, each home's nearest
        sites are widened until proven (:mod:`dz_gis.allocate.median`: same optimum, far smaller).
        """
        if self.inputs.capacity is not None:
            return super().solve(time_limit)
        if self.p is None:
            raise ValidationError("PMedian needs p= (how many new sites).")
        began = time.perf_counter()
        check_quotas(self.inputs, self.p)
        reach, cols = median_reach(self.inputs, self._limited_reach(), self.p)
        result, open_, sizes = solve_nearest_median(
            reach,
            self.inputs.weights,
            self.inputs.existing[cols],
            self.p,
            lambda milp, y0: side_rows(milp, self.inputs, cols, y0, new_only=True),
            time_limit,
        )
        if result is None:
            raise InfeasibleError(self._infeasible_message())
        self.sizes = {"demand_rows": self.inputs.shape[0], "candidates": self.inputs.shape[1]} | sizes
        self.selected = np.union1d(cols[open_], np.flatnonzero(self.inputs.existing)).astype(np.int64)
        self.allocation = _nearest_allocation(reach, open_, cols, self.inputs.shape)
        assigned = self.allocation.multiply(self._limited_reach()).sum(axis=1)
        self.objective = float(np.asarray(assigned).ravel() @ self.inputs.weights)
        self.bound = min(result.bound, self.objective)
        self.status, self.solve_s = result.status, result.solve_s
        gap = (self.objective - self.bound) / max(abs(self.objective), 1e-12)
        self.mip_gap = 0.0 if result.status == "optimal" else max(0.0, gap)
        self.build_s = time.perf_counter() - began - self.solve_s
        return self

    def _limited_reach(self) -> sp.csr_matrix:
        reach = self.inputs.reach
        return reach if self.service_min is None else pairs_within(reach, self.service_min)


def _nearest_allocation(
    reach: sp.csr_matrix, open_: np.ndarray, cols: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """Each demand row served wholly by its nearest open site (ties: the lower column)."""
    coo = reach.tocoo()
    hit = open_[coo.col]
    row, col, minutes = coo.row[hit], coo.col[hit], coo.data[hit]
    order = np.lexsort((col, minutes, row))
    row, col = row[order], col[order]
    first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, dtype=bool)
    return sp.csr_matrix((np.ones(int(first.sum())), (row[first], cols[col[first]])), shape=shape)


def _allocation(built: Built, x: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Demand × candidates share served, from the allocation variables (merged rows spread back)."""
    assert built.pairs is not None and built.row_of is not None
    model_row, col = built.pairs
    share = x[built.pair_offset : built.pair_offset + len(model_row)]
    by_model = sp.csr_matrix(
        (np.clip(share, 0.0, 1.0), (model_row, col)), shape=(int(model_row.max(initial=-1)) + 1, shape[1])
    )
    rows = np.flatnonzero(built.row_of >= 0)
    spread = sp.csr_matrix((np.ones(len(rows)), (rows, built.row_of[rows])), shape=(shape[0], by_model.shape[0]))
    result = (spread @ by_model).tocsr()
    result.eliminate_zeros()
    return result


def _column(frame: pd.DataFrame, value: Any) -> Any:
    """A column of ``frame`` when ``value`` names one, else ``value`` itself."""
    if isinstance(value, str):
        if value not in frame:
            raise ValidationError(f"the sites have no column {value!r}; columns: {list(frame.columns)}.")
        return pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    return value


def _count(p: int | None, name: str) -> int | None:
    if p is None:
        return None
    if isinstance(p, bool) or not float(p).is_integer() or p < 0:
        raise ValidationError(f"{name}: p must be a whole number ≥ 0, got {p!r}.")
    return int(p)
