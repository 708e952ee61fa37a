"""Location-allocation models: known optima, spopt's objective on the same matrices, side constraints."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from dz_gis import InfeasibleError, ValidationError
from dz_gis.allocate import LSCP, MCLP, PMedian

INF = np.inf

# three demand rows, three candidates: c0 reaches rows 0 and 1, c1 rows 1 and 2, c2 row 2
HAND = np.array(
    [
        [1.0, INF, INF],
        [2.0, 3.0, INF],
        [INF, 4.0, 1.0],
    ]
)


def test_lscp_hand_solved():
    m = LSCP.from_cost_matrix(HAND, service_min=5).solve()
    assert m.objective == 2 and m.status == "optimal" and m.mip_gap == 0
    assert 0 in m.selected and len(m.selected) == 2
    assert m.covered_share().tolist() == [1.0, 1.0, 1.0]


def test_lscp_counts_existing_like_spopt():
    m = LSCP.from_cost_matrix(HAND, service_min=5, existing=[2]).solve()
    assert m.selected.tolist() == [0, 2] and m.objective == 2 and m.new_sites.tolist() == [0]


def test_mclp_hand_solved():
    w = [5.0, 1.0, 4.0]
    one = MCLP.from_cost_matrix(HAND, service_min=5, p=1, weights=w).solve()
    assert one.selected.tolist() == [0] and one.objective == 6
    two = MCLP.from_cost_matrix(HAND, service_min=5, p=2, weights=w).solve()
    assert two.objective == 10 and 0 in two.selected
    # a tighter service time: c0 reaches row 0 only (1 min), c2 row 2
    tight = MCLP.from_cost_matrix(HAND, service_min=1.5, p=2, weights=w).solve()
    assert tight.selected.tolist() == [0, 2] and tight.objective == 9


def test_mclp_opens_no_useless_site():
    m = MCLP.from_cost_matrix(HAND, service_min=5, p=3, weights=[5, 1, 4]).solve()
    assert m.objective == 10 and len(m.selected) == 2  # a third site would cover nothing more


def test_pmedian_hand_solved():
    m = PMedian.from_cost_matrix(HAND, p=2, weights=[1, 1, 1]).solve()
    # {c0, c2}: 1 + 2 + 1 = 4 beats {c0, c1}: 1 + 2 + 4 = 7 and {c1, c2}: row 0 unreachable
    assert m.selected.tolist() == [0, 2] and m.objective == pytest.approx(4.0)
    assert m.allocation is not None and m.allocation[1, 0] == pytest.approx(1.0)


def test_sparse_cost_keeps_explicit_zeros():
    dense = np.array([[0.0, INF], [INF, 0.0]])
    sparse = sp.csr_matrix((np.array([0.0, 0.0]), ([0, 1], [0, 1])), shape=(2, 2))
    for cost in (dense, sparse):
        m = LSCP.from_cost_matrix(cost, service_min=0).solve()
        assert m.objective == 2


def test_capacitated_mclp_hand_solved():
    # both rows hold 10; c0 reaches both but serves at most 12, c1 reaches row 1 only, unlimited
    cost = np.array([[1.0, INF], [1.0, 1.0]])
    free = MCLP.from_cost_matrix(cost, service_min=5, p=1, weights=[10, 10]).solve()
    assert free.selected.tolist() == [0] and free.objective == 20
    capped = MCLP.from_cost_matrix(cost, service_min=5, p=1, weights=[10, 10], capacity=[12, 1e9]).solve()
    assert capped.selected.tolist() == [0] and capped.objective == pytest.approx(12)
    both = MCLP.from_cost_matrix(cost, service_min=5, p=2, weights=[10, 10], capacity=[12, 1e9]).solve()
    assert both.objective == pytest.approx(20)
    served = both.allocation.toarray() * np.array([[10], [10]])
    assert served[:, 0].sum() <= 12 + 1e-6 and np.allclose(served.sum(axis=1), [10, 10])


def test_capacitated_lscp_needs_more_sites():
    cost = np.array([[1.0, 1.0, 1.0]] * 3)
    assert LSCP.from_cost_matrix(cost, service_min=5).solve().objective == 1
    m = LSCP.from_cost_matrix(cost, service_min=5, weights=[4, 4, 4], capacity=5).solve()
    assert m.objective == 3  # 12 to serve, 5 per site
    with pytest.raises(InfeasibleError, match="capacity"):
        LSCP.from_cost_matrix(cost, service_min=5, weights=[4, 4, 4], capacity=3).solve()


def test_quota_per_street():
    # c0 and c1 (street A) each cover a big row, c2 (street B) a small one
    cost = np.array([[1.0, INF, INF], [INF, 1.0, INF], [INF, INF, 1.0]])
    w = [10, 9, 1]
    free = MCLP.from_cost_matrix(cost, service_min=5, p=2, weights=w).solve()
    assert free.selected.tolist() == [0, 1]
    quota = MCLP.from_cost_matrix(cost, service_min=5, p=2, weights=w, groups=["A", "A", "B"], min_per_group=1).solve()
    assert quota.selected.tolist() == [0, 2] and quota.objective == 11
    # an existing site in B already meets B's quota
    done = MCLP.from_cost_matrix(
        cost, service_min=5, p=2, weights=w, groups=["A", "A", "B"], min_per_group=1, existing=[2]
    ).solve()
    assert done.selected.tolist() == [0, 1, 2] and done.objective == 20


def test_quota_infeasible_names_the_unit():
    cost = np.ones((2, 2))
    with pytest.raises(InfeasibleError, match="东城街道"):
        MCLP.from_cost_matrix(
            cost, service_min=5, p=1, groups=["西城街道", "西城街道"], min_per_group={"东城街道": 1}
        ).solve()
    with pytest.raises(InfeasibleError, match="p = 1"):
        MCLP.from_cost_matrix(cost, service_min=5, p=1, groups=["A", "B"], min_per_group=1).solve()


def test_budget_and_closed():
    cost = np.array([[1.0, 1.0, INF], [INF, 1.0, 1.0]])
    both = LSCP.from_cost_matrix(cost, service_min=5).solve()
    assert both.selected.tolist() == [1]
    shut = LSCP.from_cost_matrix(cost, service_min=5, closed=[1]).solve()
    assert shut.selected.tolist() == [0, 2]
    cheap = MCLP.from_cost_matrix(cost, service_min=5, p=2, site_cost=[1, 10, 1], budget=5).solve()
    assert cheap.selected.tolist() == [0, 2] and cheap.objective == 2
    with pytest.raises(InfeasibleError, match="budget"):
        LSCP.from_cost_matrix(cost, service_min=5, closed=[0], site_cost=[1, 10, 1], budget=5).solve()


def test_lscp_names_rows_nothing_reaches():
    cost = np.array([[1.0, INF], [INF, INF], [INF, 2.0]])
    with pytest.raises(InfeasibleError, match="小区-B"):
        LSCP.from_cost_matrix(cost, service_min=5, demand_labels=["小区-A", "小区-B", "小区-C"]).solve()
    # MCLP covers what it can instead
    assert MCLP.from_cost_matrix(cost, service_min=5, p=2).solve().objective == 2


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (dict(cost=np.array([[np.nan, 1.0]])), "NaN"),
        (dict(cost=np.array([[-1.0, 1.0]])), "≥ 0"),
        (dict(cost=np.ones((2, 2)), existing=[0], closed=[0]), "both existing"),
        (dict(cost=np.ones((2, 2)), existing=[5]), "outside"),
        (dict(cost=np.ones((2, 2)), weights=[1.0]), "weights"),
        (dict(cost=np.ones((2, 2)), budget=3), "site_cost"),
        (dict(cost=np.ones((2, 2)), min_per_group=1), "groups"),
    ],
)
def test_bad_inputs_say_what(bad, words):
    with pytest.raises(ValidationError, match=words):
        MCLP.from_cost_matrix(service_min=5, p=1, **bad)


def test_time_limit_reports_its_gap():
    # random non-metric costs: a p-median HiGHS cannot prove in a few seconds
    rng = np.random.default_rng(3)
    cost = rng.random((300, 80)) * 10
    m = PMedian.from_cost_matrix(cost, p=8, weights=rng.integers(1, 9, 300)).solve(time_limit=2)
    assert m.status == "time_limit" and m.mip_gap > 0 and m.bound < m.objective
    assert len(m.new_sites) == 8 and m.solve_s < 10


def test_swap_start_is_a_local_optimum_no_worse_than_greedy():
    from dz_gis.allocate.greedy import greedy_max_cover, swap_max_cover

    rng = np.random.default_rng(5)
    cover = sp.csr_matrix(rng.random((60, 15)) < 0.15)
    w = rng.integers(1, 9, 60).astype(float)

    def value(cols):
        return float(w[np.asarray(cover[:, cols].sum(axis=1)).ravel() > 0].sum())

    greedy = greedy_max_cover(cover, w, 4)
    best = swap_max_cover(cover, w, greedy)
    assert len(best) == len(greedy) and value(best) >= value(greedy)
    for j in best:  # no single swap does better (brute force)
        for k in set(range(15)) - set(best):
            trial = np.sort(np.r_[best[best != j], k])
            assert value(trial) <= value(best) + 1e-9
