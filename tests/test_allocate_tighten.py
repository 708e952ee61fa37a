"""MCLP tightened before the exact solve: the Lagrangian bound, the candidates it drops, the same optimum.

Small instances are solved by brute force (every set of p candidates), so each claim is
checked against the true optimum, not against the solver that is being tested.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp

from dz_gis.allocate import MCLP
from dz_gis.allocate.bound import cannot_improve, max_cover_bounds
from dz_gis.allocate.tighten import covered, tighten_max_cover

INF = np.inf


def brute_force(cover: sp.csr_matrix, weights: np.ndarray, p: int, must: int | None = None) -> float:
    """The most weight any p candidates cover (all of them opening ``must`` when given)."""
    n = cover.shape[1]
    best = 0.0
    for k in range(0, min(p, n) + 1):
        for picked in combinations(range(n), k):
            if must is None or must in picked:
                best = max(best, covered(cover, weights, np.array(picked, dtype=np.int64)))
    return best


def random_cover(seed: int, n_rows: int = 14, n_cols: int = 8, density: float = 0.3):
    rng = np.random.default_rng(seed)
    cover = sp.csr_matrix(rng.random((n_rows, n_cols)) < density)
    return cover, rng.integers(1, 10, n_rows).astype(float)


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bounds_hold_for_any_multipliers(seed):
    cover, w = random_cover(seed)
    rng = np.random.default_rng(seed + 50)
    p = 3
    for lam in (np.zeros(len(w)), w, rng.random(len(w)) * w, rng.random(len(w)) * 20 - 5):
        bound, if_open = max_cover_bounds(cover, w, p, lam)
        assert bound >= brute_force(cover, w, p) - 1e-9
        for j in range(cover.shape[1]):
            assert if_open[j] >= brute_force(cover, w, p, must=j) - 1e-9


def test_cannot_improve_rounds_down_only_for_whole_weights():
    bound = np.array([20.5, 21.0, 20.0, 19.9])
    assert cannot_improve(bound, 20.0, integral=True).tolist() == [True, False, True, True]
    # without whole weights a bound equal to the start is kept: its rounding could hide a better solution
    assert cannot_improve(bound, 20.0, integral=False).tolist() == [False, False, False, True]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("p", [2, 3])
@pytest.mark.parametrize("whole", [True, False], ids=["whole-weights", "fractional-weights"])
def test_tightened_model_keeps_the_optimum(seed, p, whole):
    cover, w = random_cover(seed, n_rows=16, n_cols=9)
    if not whole:  # the bound may not round down: another test of the same claim
        w = w * 0.37 + np.random.default_rng(seed).random(len(w))
    best = brute_force(cover, w, p)
    tight = tighten_max_cover(cover, w, p)
    assert tight.start_value <= best + 1e-9
    assert covered(tight.cover, tight.weights, tight.start) == pytest.approx(tight.start_value)
    # the smaller model still reaches the optimum; rows it left out are reached by no kept candidate
    assert brute_force(tight.cover, tight.weights, p) == pytest.approx(best)
    left_out = np.flatnonzero(tight.row_of < 0)
    assert cover[left_out][:, tight.columns].nnz == 0
    # and the whole model says the same (built from the cost matrix, solved by HiGHS)
    cost = np.where(cover.toarray(), 1.0, INF)
    m = MCLP.from_cost_matrix(cost, service_min=5, p=p, weights=w).solve()
    assert m.status == "optimal" and m.objective == pytest.approx(best)
    assert covered(cover, w, m.selected) == pytest.approx(best)


# rows 0…3 weigh 10, 10, 1, 1; c0 reaches rows 0 and 1, c1 rows 1 and 2, c2 rows 2 and 3:
# no candidate's rows hold another's (no dominance), yet with p = 1 only c0 can be optimal
CHAIN = np.array(
    [
        [1.0, INF, INF],
        [1.0, 1.0, INF],
        [INF, 1.0, 1.0],
        [INF, INF, 1.0],
    ]
)
CHAIN_W = np.array([10.0, 10.0, 1.0, 1.0])


def test_bound_drops_candidates_no_dominance_would():
    cover = sp.csr_matrix(np.isfinite(CHAIN))
    tight = tighten_max_cover(cover, CHAIN_W, 1)
    # the LP relaxation is whole here (20, c0), so every bound with another site open is ≤ 20
    assert tight.lp_bound == pytest.approx(20.0) and tight.columns.tolist() == [0]
    m = MCLP.from_cost_matrix(CHAIN, service_min=5, p=1, weights=CHAIN_W).solve()
    assert m.selected.tolist() == [0] and m.objective == 20 and m.sizes["model_candidates"] == 1


def test_existing_site_changes_what_the_bound_keeps():
    # c0 already open: rows 0 and 1 are served; the one new site is best at c2 (rows 2, 3)
    m = MCLP.from_cost_matrix(CHAIN, service_min=5, p=1, weights=CHAIN_W, existing=[0]).solve()
    assert m.selected.tolist() == [0, 2] and m.objective == 22 and m.status == "optimal"


def test_quota_keeps_a_candidate_the_bound_would_drop():
    # a quota per unit puts c2 (unit B) in the answer although the bound rules it out without it
    groups = ["A", "A", "B"]
    m = MCLP.from_cost_matrix(CHAIN, service_min=5, p=2, weights=CHAIN_W, groups=groups, min_per_group=1).solve()
    assert m.selected.tolist() == [0, 2] and m.objective == 22 and m.status == "optimal"
    assert m.sizes["model_candidates"] == 3  # no candidate dropped when units have quotas


def test_budget_and_capacity_are_solved_whole():
    # c0 is dear: with a budget of 5 the best affordable site is c1
    cheap = MCLP.from_cost_matrix(CHAIN, service_min=5, p=1, weights=CHAIN_W, site_cost=[9, 2, 1], budget=5).solve()
    assert cheap.selected.tolist() == [1] and cheap.objective == 11
    # c0 serves at most 12 of rows 0 and 1: c0 + c1 serve 10 + 10 + 1 (row 1 split between them),
    # where the uncapacitated answer c0 + c2 would serve only 12 + 2
    capped = MCLP.from_cost_matrix(CHAIN, service_min=5, p=2, weights=CHAIN_W, capacity=[12, 1e9, 1e9]).solve()
    assert capped.objective == pytest.approx(21) and capped.status == "optimal"
    assert capped.selected.tolist() == [0, 1] and capped.sizes["model_candidates"] == 3
