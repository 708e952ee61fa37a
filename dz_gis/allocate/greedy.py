"""Greedy solutions that give the exact solver a feasible start (a warm start, not the answer)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["greedy_cover", "greedy_max_cover", "greedy_median", "swap_max_cover"]


def greedy_max_cover(cover: sp.csr_matrix, weights: np.ndarray, p: int, must: np.ndarray | None = None) -> np.ndarray:
    """Columns picked one at a time by the weight they newly cover (``must`` first), at most ``p`` new."""
    cols = cover.T.tocsr()
    covered = np.zeros(cover.shape[0], dtype=bool)
    chosen: list[int] = []
    for j in [] if must is None else list(must):
        chosen.append(int(j))
        covered[cols.indices[cols.indptr[j] : cols.indptr[j + 1]]] = True
    for _ in range(p):
        gain = cols @ (weights * ~covered)
        if len(chosen):
            gain[chosen] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        covered[cols.indices[cols.indptr[best] : cols.indptr[best + 1]]] = True
    return np.array(sorted(set(chosen)), dtype=np.int64)


def greedy_cover(cover: sp.csr_matrix) -> np.ndarray | None:
    """Columns picked by how many uncovered rows they reach until every row is covered (None if impossible)."""
    cols = cover.T.tocsr()
    left = np.ones(cover.shape[0], dtype=bool)
    chosen: list[int] = []
    while left.any():
        gain = cols @ left.astype(float)
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            return None
        chosen.append(best)
        left[cols.indices[cols.indptr[best] : cols.indptr[best + 1]]] = False
    return np.array(sorted(chosen), dtype=np.int64)


def greedy_median(cost: np.ndarray, weights: np.ndarray, p: int, must: np.ndarray) -> np.ndarray | None:
    """p-median by greedy addition on a dense cost matrix (np.inf unreachable).

    Each step opens the column that lowers the weighted total most. None when the sites
    picked leave a row unreachable.
    """
    best = np.full(cost.shape[0], np.inf)
    chosen = [int(j) for j in must]
    for j in chosen:
        best = np.minimum(best, cost[:, j])
    for _ in range(p):
        with np.errstate(invalid="ignore"):
            trial = np.minimum(best[:, None], cost)
            # unreachable rows count as a big cost so that reaching them is rewarded first
            total = np.where(np.isfinite(trial), trial, 1e9) * weights[:, None]
        score = total.sum(axis=0)
        score[chosen] = np.inf
        pick = int(np.argmin(score))
        if not np.isfinite(score[pick]):
            break
        chosen.append(pick)
        best = np.minimum(best, cost[:, pick])
    if not np.isfinite(best).all():
        return None
    return np.array(sorted(chosen), dtype=np.int64)


def swap_max_cover(cover: sp.csr_matrix, weights: np.ndarray, chosen: np.ndarray, rounds: int = 50) -> np.ndarray:
    """``chosen`` improved by the best single swap (one site out, one in) while any swap adds weight.

    All swaps are priced at once: with c_i the open sites reaching row i, dropping j loses the
    rows only j reaches, and adding k gains the rows nobody reaches plus those only j reached.
    """
    a = sp.csc_matrix(cover, dtype=float)
    chosen = np.asarray(chosen, dtype=np.int64)
    for _ in range(rounds):
        if len(chosen) == 0 or len(chosen) == a.shape[1]:
            break
        count = np.asarray(a[:, chosen].sum(axis=1)).ravel()
        alone = weights * (count == 1)
        lose = a[:, chosen].T @ alone  # per chosen j
        gain_free = a.T @ (weights * (count == 0))  # per candidate k
        shared = (a.T @ sp.diags(alone) @ a[:, chosen]).toarray()  # k × j: rows only j reached that k reaches
        delta = gain_free[:, None] + shared - lose[None, :]
        delta[chosen, :] = -np.inf
        k, j = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[k, j] <= 1e-9:
            break
        chosen = np.sort(np.r_[np.delete(chosen, j), k])
    return chosen
