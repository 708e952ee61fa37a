"""The siting models give spopt's optimum on the same cost matrices (spopt + PuLP + CBC as the reference).

Generated instances, seeded: demand rows and candidates scattered over a 3 km square, walking
minutes at 80 m/min, about one pair in ten made unreachable (a river, a wall), whole-number
weights. spopt takes the dense matrix with a big finite number for the unreachable pairs (above
every service time, and above any weighted total here), as its models expect. Two differences
of convention are bridged, not hidden: spopt's ``p_facilities`` counts the existing
(predefined) sites, ours counts new sites only; spopt's LSCP needs every row coverable, so rows
no candidate reaches are left out of the LSCP instances for both.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from dz_gis.allocate import LSCP, MCLP, PMedian

pulp = pytest.importorskip("pulp")
spopt_locate = pytest.importorskip("spopt.locate")

# PuLP 3.x deprecates two things spopt 0.7 and this reference set-up use (constructing
# LpVariable directly; PULP_CBC_CMD, the bundled CBC): both are about the reference solver,
# not about dz_gis, so only those two third-party warnings are let through here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Constructing LpVariable:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:PULP_CBC_CMD is deprecated:DeprecationWarning"),
]

UNREACHABLE = 1e6  # what spopt gets for a pair that cannot be reached: beyond any service time or total
SIZES = [(30, 8), (80, 20), (150, 40)]
SERVICE_MIN = 12.0


def instance(seed: int, n_demand: int, n_cand: int) -> tuple[np.ndarray, np.ndarray]:
    """(minutes with np.inf for unreachable pairs, integer weights); every row reaches some candidate."""
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 3000, (n_demand, 2))
    sites = rng.uniform(0, 3000, (n_cand, 2))
    minutes = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) / 80.0
    cut = rng.random(minutes.shape) < 0.1
    cut[np.arange(n_demand), minutes.argmin(axis=1)] = False  # keep each row's nearest site reachable
    minutes[cut] = np.inf
    weights = rng.integers(1, 10, n_demand)
    return minutes, weights


def for_spopt(minutes: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(minutes), minutes, UNREACHABLE)


def spopt_objective(model) -> float:
    model.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
    assert pulp.LpStatus[model.problem.status] == "Optimal"
    return float(model.problem.objective.value())


def existing_sites(seed: int, n_cand: int, with_existing: bool) -> np.ndarray:
    if not with_existing:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.random.default_rng(seed + 100).choice(n_cand, 3, replace=False))


def predefined(existing: np.ndarray, n_cand: int) -> np.ndarray | None:
    if len(existing) == 0:
        return None
    mask = np.zeros(n_cand, dtype=int)
    mask[existing] = 1
    return mask


CASES = [(seed, size, ex) for seed, size in enumerate(SIZES) for ex in (False, True)]
IDS = [f"{n}x{m}-{'existing' if ex else 'none'}" for _, (n, m), ex in CASES]


def assert_solved(m) -> None:
    assert m.status == "optimal" and m.mip_gap == 0


@pytest.mark.parametrize(("seed", "size", "with_existing"), CASES, ids=IDS)
def test_lscp_matches_spopt(seed, size, with_existing):
    minutes, _ = instance(seed, *size)
    minutes = minutes[(minutes <= SERVICE_MIN).any(axis=1)]  # spopt's LSCP needs every row coverable
    existing = existing_sites(seed, size[1], with_existing)
    ours = LSCP.from_cost_matrix(minutes, service_min=SERVICE_MIN, existing=existing).solve()
    ref = spopt_locate.LSCP.from_cost_matrix(
        for_spopt(minutes), SERVICE_MIN, predefined_facilities_arr=predefined(existing, size[1])
    )
    assert_solved(ours)
    assert ours.objective == pytest.approx(spopt_objective(ref), abs=1e-9)
    assert set(existing) <= set(ours.selected)
    # the sites returned are the solution the objective counts (not, e.g., a warm start the solver bettered)
    assert len(ours.selected) == ours.objective, f"{len(ours.selected)} sites selected, objective {ours.objective}"
    assert ours.covered_share().min() == 1.0


@pytest.mark.parametrize(("seed", "size", "with_existing"), CASES, ids=IDS)
@pytest.mark.parametrize("p", [2, 5])
def test_mclp_matches_spopt(seed, size, with_existing, p):
    minutes, weights = instance(seed, *size)
    existing = existing_sites(seed, size[1], with_existing)
    ours = MCLP.from_cost_matrix(minutes, service_min=SERVICE_MIN, p=p, weights=weights, existing=existing).solve()
    ref = spopt_locate.MCLP.from_cost_matrix(
        for_spopt(minutes),
        weights,
        SERVICE_MIN,
        p + len(existing),
        predefined_facilities_arr=predefined(existing, size[1]),
    )
    assert_solved(ours)
    assert ours.objective == pytest.approx(spopt_objective(ref), rel=1e-9)
    # the objective is what the sites chosen really cover
    assert ours.objective == pytest.approx(float(weights @ (minutes[:, ours.selected] <= SERVICE_MIN).any(axis=1)))
    assert len(ours.new_sites) <= p and set(existing) <= set(ours.selected)

    # the same matrix as sparse (stored entries = reachable pairs) gives the same answer
    sparse = sp.csr_matrix(np.where(np.isfinite(minutes), minutes, 0.0))
    again = MCLP.from_cost_matrix(sparse, service_min=SERVICE_MIN, p=p, weights=weights, existing=existing).solve()
    assert again.objective == ours.objective and again.selected.tolist() == ours.selected.tolist()


@pytest.mark.parametrize(("seed", "size", "with_existing"), CASES, ids=IDS)
def test_pmedian_matches_spopt(seed, size, with_existing):
    minutes, weights = instance(seed, *size)
    existing = existing_sites(seed, size[1], with_existing)
    p = 3
    ours = PMedian.from_cost_matrix(minutes, p=p, weights=weights, existing=existing).solve()
    ref = spopt_locate.PMedian.from_cost_matrix(
        for_spopt(minutes), weights, p + len(existing), predefined_facilities_arr=predefined(existing, size[1])
    )
    assert_solved(ours)
    expected = spopt_objective(ref)
    assert expected < UNREACHABLE  # spopt served every row by a reachable site too
    assert ours.objective == pytest.approx(expected, rel=1e-9)
    # the objective is each row's weight times the minutes to its nearest open site
    nearest = minutes[:, ours.selected].min(axis=1)
    assert ours.objective == pytest.approx(float(weights @ nearest), rel=1e-9)
    assert len(ours.new_sites) == p and set(existing) <= set(ours.selected)
