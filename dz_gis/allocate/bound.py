"""Upper bounds on the maximal covering problem, and the candidates they rule out.

Relaxing MCLP's coverage rows ``z_i ≤ Σ_j a_ij y_j`` with multipliers ``λ_i ≥ 0`` leaves a
problem solved by inspection::

    L(λ) = Σ_i max(0, w_i − λ_i) + (sum of the p largest c_j),   c_j = Σ_i a_ij λ_i

and ``L(λ)`` bounds the weight any ``p`` sites cover, for *every* ``λ ≥ 0``. Forcing candidate
``j`` open gives ``L_j(λ) = Σ_i max(0, w_i − λ_i) + c_j + (the p − 1 largest c_k, k ≠ j)``, a
bound on every solution that opens ``j``: when it is no more than the weight a known
solution covers, ``j`` can be left out without losing the optimum.

Hand-written because it is a closed form no library offers, and it is computed here in plain
arithmetic on whatever multipliers are given (the LP relaxation's duals): the bound stays
valid even when the LP solver's duals are only accurate to its tolerances.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["cannot_improve", "max_cover_bounds"]


def max_cover_bounds(
    cover: sp.csr_matrix, weights: np.ndarray, p: int, multipliers: np.ndarray
) -> tuple[float, np.ndarray]:
    """``L(λ)`` and ``L_j(λ)`` for every candidate ``j`` (see the module text); ``0 < p < candidates``."""
    lam = np.clip(np.asarray(multipliers, dtype=float), 0.0, weights)  # λ above w_i only loosens the bound
    base = float(np.maximum(weights - lam, 0.0).sum())
    price = np.asarray(sp.csr_matrix(cover, dtype=float).T @ lam).ravel()
    order = np.argsort(-price, kind="stable")
    top = price[order]
    best_p = float(top[:p].sum())
    rank = np.empty(len(price), dtype=np.int64)
    rank[order] = np.arange(len(price))
    # j among the p − 1 largest: the other p − 1 largest are the p largest without j
    if_open = np.where(rank < p - 1, base + best_p, base + price + float(top[: p - 1].sum()))
    return base + best_p, if_open


def cannot_improve(bound: np.ndarray, incumbent: float, integral: bool) -> np.ndarray:
    """Where a bound proves no solution beats ``incumbent`` (by whole units when every weight is whole)."""
    margin = 1e-9 * np.maximum(1.0, np.abs(bound))  # the rounding of the sums above, generously
    if integral:
        return np.floor(bound + margin) <= incumbent
    return bound + margin <= incumbent
