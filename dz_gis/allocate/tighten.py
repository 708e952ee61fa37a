"""The maximal covering model made small before the exact solve: a near-optimal start and a bound.

Hard MCLP instances are won by the size of the model HiGHS branches on, so before it runs:

1. a start: greedy, then single swaps (:mod:`~dz_gis.allocate.greedy`);
2. the LP relaxation (HiGHS), whose duals price every row;
3. a better start: the MCLP restricted to the candidates the LP uses (with the start's),
   solved exactly — a small model, since MCLP's relaxation is tight — then swaps again;
4. every candidate whose Lagrangian bound (:mod:`~dz_gis.allocate.bound`) shows that opening
   it cannot beat the start leaves, and the model is reduced again
   (:func:`~dz_gis.allocate.reduce.keep_columns`).

Nothing here decides the answer: the model that is left still holds an optimal solution of
the whole problem (step 4 only drops candidates no better solution can use) and HiGHS proves
it optimal. The start is handed to HiGHS as a MIP start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._highs import Milp
from .bound import cannot_improve, max_cover_bounds
from .greedy import greedy_max_cover, swap_max_cover
from .reduce import keep_columns

__all__ = ["PROOF_OPTIONS", "TightCover", "max_cover_milp", "max_cover_start", "tighten_max_cover"]

#: the restricted model of step 3 takes at most this many candidates (those the LP uses most)
RESTRICTED_MAX = 120
#: and is searched for at most this many branch-and-bound nodes (a count, so the start is the same every run)
RESTRICTED_NODES = 200

#: HiGHS options for the tightened model and the restricted one, measured on the dense 2,000 × 500
#: MCLP of scripts/bench_allocate.py and other draws of it, where the start is optimal or close:
#: HiGHS's presolve removes one row and one column yet took 1.4 of 1.8 s; restarts after presolve
#: only cost time; the sub-MIP heuristics (RINS, RENS), feasibility jump and the root reduced-cost
#: heuristic look for a better solution for up to seconds (1.3 s against 0.3 s on one restricted
#: model), and the proof does not need them. The gap stays 0 (``Milp.solve``).
PROOF_OPTIONS: dict[str, object] = {
    "presolve": "off",
    "mip_allow_restart": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_root_reduced_cost": False,
}


@dataclass
class TightCover:
    """A maximal covering model after tightening."""

    cover: sp.csr_matrix  #: rows × kept candidates
    weights: np.ndarray  #: weight of each row
    columns: np.ndarray  #: column of the given matrix of each kept candidate
    start: np.ndarray  #: the best solution known, as kept candidates (positions in ``columns``)
    row_of: np.ndarray  #: row of the tightened model of each given row (-1: no kept candidate reaches it)
    start_value: float  #: weight the start covers
    lp_bound: float  #: the LP relaxation's objective (nan when not solved)


def max_cover_milp(cover: sp.csr_matrix, weights: np.ndarray, p: int) -> Milp:
    """MCLP: site columns ``y`` (binary, first), coverage columns ``z ≤ Σ y`` in [0, 1], ``Σ y ≤ p``.

    ``z`` is continuous: for whole ``y`` the best ``z`` is 0 or 1 on its own.
    """
    n_rows, n_cols = cover.shape
    milp = Milp(minimize=False)
    y0 = milp.add_columns(np.zeros(n_cols), 0.0, 1.0, integer=True)
    z0 = milp.add_columns(weights, 0.0, 1.0, integer=False)
    a = sp.coo_matrix(cover)
    rows = np.concatenate([np.arange(n_rows), a.row])
    cols = np.concatenate([z0 + np.arange(n_rows), y0 + a.col])
    vals = np.concatenate([np.ones(n_rows), -np.ones(len(a.row))])
    milp.add_rows(rows, cols, vals, -np.inf, 0.0, n_rows)
    milp.add_rows(np.zeros(n_cols), y0 + np.arange(n_cols), 1.0, -np.inf, float(p), 1)
    return milp


def max_cover_start(cover: sp.csr_matrix, picked: np.ndarray) -> np.ndarray:
    """The values of every column of :func:`max_cover_milp` for the sites ``picked``."""
    y = np.zeros(cover.shape[1])
    y[picked] = 1.0
    return np.concatenate([y, np.minimum(cover @ y, 1.0)])


def tighten_max_cover(
    cover: sp.csr_matrix, weights: np.ndarray, p: int, site_cost: np.ndarray | None = None
) -> TightCover:
    """Steps 1–4 of the module text; ``site_cost`` only breaks ties between dominated candidates."""
    cover = sp.csr_matrix(cover, dtype=bool)
    n_rows, n_cols = cover.shape
    start = swap_max_cover(cover, weights, greedy_max_cover(cover, weights, p))
    keep_all = TightCover(cover, weights, np.arange(n_cols), start, np.arange(n_rows), 0.0, float("nan"))
    keep_all.start_value = covered(cover, weights, start)
    if p <= 0 or n_cols <= p or n_rows == 0:
        return keep_all
    whole = max_cover_milp(cover, weights, p)
    whole.options["presolve"] = "off"  # as in PROOF_OPTIONS: little to find, and measured slower with it
    relaxed = whole.relaxation()
    if relaxed is None:  # pragma: no cover - the relaxation of a feasible bounded model is solved
        return keep_all
    keep_all.lp_bound = relaxed.objective
    start = _restricted_optimum(cover, weights, p, start, relaxed.x[:n_cols])
    value = covered(cover, weights, start)
    _, if_open = max_cover_bounds(cover, weights, p, relaxed.row_dual[:n_rows])
    integral = bool(np.all(weights == np.round(weights)) and weights.sum() < 2.0**52)
    in_start = np.zeros(n_cols, dtype=bool)
    in_start[start] = True
    useful = ~cannot_improve(if_open, value, integral)
    small, small_w, columns, row_of = keep_columns(cover, weights, useful, in_start, site_cost)
    position = np.full(n_cols, -1, dtype=np.int64)
    position[columns] = np.arange(len(columns))
    return TightCover(small, small_w, columns, np.sort(position[start]), row_of, value, relaxed.objective)


def covered(cover: sp.csr_matrix, weights: np.ndarray, picked: np.ndarray) -> float:
    """Weight of the rows the columns ``picked`` reach."""
    return float(weights[np.asarray(cover[:, picked].sum(axis=1)).ravel() > 0].sum())


def _restricted_optimum(
    cover: sp.csr_matrix, weights: np.ndarray, p: int, start: np.ndarray, lp_sites: np.ndarray
) -> np.ndarray:
    """Step 3: the best of ``start`` and the optimum over the candidates the LP opens (and the start's)."""
    used = np.flatnonzero(lp_sites > 1e-6)
    used = used[np.argsort(-lp_sites[used], kind="stable")][:RESTRICTED_MAX]
    pool = np.zeros(cover.shape[1], dtype=bool)
    pool[used] = True
    in_start = np.zeros(cover.shape[1], dtype=bool)
    in_start[start] = True
    if not (pool & ~in_start).any():
        return start
    sub, sub_w, columns, _ = keep_columns(cover, weights, pool, in_start)
    milp = max_cover_milp(sub, sub_w, p)
    milp.options.update(PROOF_OPTIONS)
    milp.options["mip_max_nodes"] = RESTRICTED_NODES  # a start, not the answer: the best found is enough
    result = milp.solve(start=max_cover_start(sub, np.searchsorted(columns, start)))
    if result is None:  # pragma: no cover - opening nothing is always feasible
        return start
    found = swap_max_cover(cover, weights, columns[result.x[: len(columns)] > 0.5])
    return found if covered(cover, weights, found) > covered(cover, weights, start) else start
