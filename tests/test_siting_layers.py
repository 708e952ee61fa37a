"""Siting on the sample's layers: candidates, the presets, and the model agreeing with the coverage table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely

from dz_gis import ValidationError
from dz_gis.allocate import MCLP, network_candidates
from dz_gis.allocate.presets import OLDER_WALK_M_PER_MIN, propose_elderly_care, propose_toilets
from dz_gis.pipeline import check_plan, run_coverage
from dz_gis.plan import load_rules


@pytest.fixture(scope="module")
def planned(sample):
    run = run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False)
    rules = load_rules("dazhou_2021_2025")
    return run, rules, check_plan(run, rules)


@pytest.fixture(scope="module")
def candidates(sample):
    return network_candidates(sample.graph, sample.communities, spacing_m=150)


def test_candidates_lie_in_allowed_land_on_junctions(sample, candidates):
    area = sample.communities.to_crs(candidates.crs).union_all()
    assert shapely.contains(area, candidates.geometry.array).all()
    assert set(candidates["node"]) <= set(sample.graph.nodes)
    land_per_site = area.area / len(candidates)
    assert 0.5 * 150**2 < land_per_site < 3 * 150**2  # about one per 150 m square
    assert (candidates["moved_m"] >= 0).all() and candidates["generated"].all()
    assert candidates["members"].sum() >= len(candidates)
    # more spacing, fewer candidates, and they may move farther
    wide = network_candidates(sample.graph, sample.communities, spacing_m=300)
    assert len(wide) < len(candidates) and wide["moved_m"].max() > candidates["moved_m"].max()


def test_toilets_covered_by_the_model_are_within_the_minutes_in_the_table(sample, planned, candidates):
    run, rules, check = planned
    prop = propose_toilets(run, rules, candidates, graph=sample.graph, p=3, check=check, public_space_weight=0)
    assert len(prop.sites) == 3 and prop.model.status == "optimal" and prop.minutes == 5
    assert prop.model.inputs.shape[0] == len(run.compounds)  # homes only
    # one computation: what the model counts as covered is what the gap table's times say after
    covered = prop.model.covered_share() > 0.5
    after = prop.after.times["public_toilet"].to_numpy() <= 5 + 1e-9
    assert np.array_equal(covered, after)
    hh = run.compounds["households"].to_numpy()
    assert prop.model.objective == pytest.approx(hh[after].sum())
    before = run.times["public_toilet"].to_numpy() <= 5 + 1e-9
    assert hh[after].sum() > hh[before].sum()
    # rows that changed are the toilet rule's, and only improvements
    assert set(prop.gaps["rule_id"]) == {"public_toilet_reach_5min"}
    assert set(prop.gaps["status_after"]) == {"met"}
    per_comm = prop.coverage.set_index("community_id")
    assert (per_comm["share_after"] >= per_comm["share_before"]).all()
    # "after" is a whole run: the community columns, the summary and the circles show the new sites
    cov_after = prop.after.communities.set_index("community_id")["cov_public_toilet_5min"]
    assert np.allclose(cov_after.reindex(per_comm.index), per_comm["share_after"], atol=1e-3)
    assert prop.after.summary.loc["public_toilet", "hh_share_5min"] > run.summary.loc["public_toilet", "hh_share_5min"]
    assert prop.after.summary.loc["park", "hh_share_5min"] == run.summary.loc["park", "hh_share_5min"]
    assert {"unit_name", "title_zh"} <= set(prop.gaps.columns)


def test_elderly_care_one_per_street_at_older_walking_speed(sample, planned, candidates):
    run, rules, check = planned
    prop = propose_elderly_care(run, rules, candidates, graph=sample.graph, check=check)
    streets = set(run.communities["street"])
    assert set(prop.sites["street"]) == streets and len(prop.sites) == len(streets)  # p = streets lacking one
    assert prop.walk_m_per_min == OLDER_WALK_M_PER_MIN and prop.minutes == 15
    scale = sample.graph.graph["walk_m_per_min"] / OLDER_WALK_M_PER_MIN
    assert prop.model.layers.minutes_scale == pytest.approx(scale)
    changed = prop.gaps.set_index(["rule_id", "unit_id"])
    street_rows = changed.loc["street_has_elderly_complex"]
    assert len(street_rows) == len(streets) and set(street_rows["status_after"]) == {"met"}
    # each street's row needs the one complex proposed in that street (the plan judged without it: a gap)
    site_of_street = prop.sites.set_index("street")["proposal_id"]
    assert street_rows["closed_by"].to_dict() == site_of_street.to_dict()
    reach = changed.loc["elderly_complex_reach_15min", "closed_by"]
    assert set(reach) <= {*site_of_street, "together"} and (reach != "together").any()


def test_elderly_care_quota_needs_enough_sites(sample, planned, candidates):
    from dz_gis import InfeasibleError

    run, rules, _ = planned
    with pytest.raises(InfeasibleError, match="p = 1"):
        propose_elderly_care(run, rules, candidates, graph=sample.graph, p=1)


def test_from_layers_capacity_limits_what_a_site_serves(sample, candidates):
    comp = sample.compounds
    free = MCLP.from_layers(sample.graph, comp, candidates, service_min=10, p=1).solve()
    capped = MCLP.from_layers(sample.graph, comp, candidates, service_min=10, p=1, capacity=2000.0).solve()
    assert capped.objective == pytest.approx(2000.0) and free.objective > 2000
    table = capped.site_table()
    assert table["serves"].max() <= 2000 + 1e-6


def test_close_gaps_meets_every_targeted_row(sample, planned, candidates):
    from dz_gis.allocate import close_gaps

    run, rules, check = planned
    ids = ["kindergarten_reach_5min", "each_has_kindergarten", "street_has_elderly_complex", "public_toilet_reach_5min"]
    closed = close_gaps(check, ids, candidates, run=run, rules=rules, graph=sample.graph)
    assert closed.unfixable.empty and set(closed.solves["status"]) == {"optimal"}
    assert set(closed.rows["rule_id"]) == set(ids)
    assert (closed.rows["status_after"] == "met").all()  # judged again by check_plan, not by the model
    # one kindergarten per community at least, one elderly-care complex per street exactly (the fewest)
    elderly = closed.sites[closed.sites["category"] == "elderly_care_complex"]
    assert sorted(elderly["street"]) == sorted(set(run.communities["street"]))
    kg = closed.sites[closed.sites["category"] == "kindergarten"]
    assert set(kg["community_id"]) == set(run.communities["community_id"])


def test_close_gaps_reports_units_no_candidate_can_fix(sample, planned, candidates):
    from dz_gis import ValidationError
    from dz_gis.allocate import close_gaps

    run, rules, check = planned
    streets = run.communities.dissolve("street")
    first = streets.index[0]
    inside = candidates[candidates.within(streets.to_crs(candidates.crs).geometry[first])]
    closed = close_gaps(check, ["street_has_elderly_complex"], inside, run=run, rules=rules, graph=sample.graph)
    assert len(closed.sites) == 1 and closed.sites["street"].iloc[0] == first
    assert list(closed.unfixable["unit_id"]) == [s for s in streets.index if s != first]
    assert "only 0 candidates" in closed.unfixable["reason"].iloc[0]
    with pytest.raises(ValidationError, match="kind"):
        close_gaps(check, ["service_area_per_100hh"], candidates, run=run, rules=rules, graph=sample.graph)


def test_candidates_do_not_depend_on_the_graphs_node_order(sample, candidates):
    import networkx as nx

    g = sample.graph
    shuffled = nx.MultiDiGraph(**g.graph)
    shuffled.add_nodes_from(reversed(list(g.nodes(data=True))))
    shuffled.add_edges_from(reversed(list(g.edges(keys=True, data=True))))
    again = network_candidates(shuffled, sample.communities, spacing_m=150)
    assert again["geometry"].equals(candidates["geometry"])


def test_toilets_also_serve_public_spaces(sample, planned, candidates):
    run, rules, check = planned
    spaces = run.facilities[run.facilities["category"].isin(["park", "activity_ground", "food_market"])]
    prop = propose_toilets(run, rules, candidates, graph=sample.graph, p=3, check=check, public_space_weight=500)
    n = len(run.compounds)
    assert prop.model.inputs.shape[0] == n + len(spaces)
    assert (prop.model.inputs.weights[n:] == 500).all()
    layers = prop.model.layers.demand
    assert list(layers["demand"].iloc[n:].unique()) == ["public_space"]
    # the per-community table is households only, as the gap table
    covered = prop.model.covered_share()[:n] > 0.5
    hh = run.compounds["households"].to_numpy()
    assert prop.coverage["after"].sum() == pytest.approx(hh[covered].sum())
    # each site: the households it is the nearest open toilet for, and the public spaces, counted apart
    assert "public_spaces" in prop.sites and (prop.sites["public_spaces"] >= 0).all()
    assert prop.sites["serves"].sum() <= hh.sum() and prop.sites["public_spaces"].sum() <= len(spaces)
    with pytest.raises(ValidationError, match="public_space_weight"):
        propose_toilets(run, rules, candidates, graph=sample.graph, p=3, public_space_weight=-1)


def test_toilets_for_new_residential_communities(sample, planned, candidates):
    """The plan's new-residential rule (新建居住社区 … 一个公共厕所): each marked community without a
    toilet inside gets one of the proposals, whatever serves the most households."""
    from dz_gis import InfeasibleError
    from dz_gis.scopes import build_units, units_containing

    run, rules, check = planned
    comm = build_units(run.communities)["community"]
    toilets = run.facilities[run.facilities["category"] == "public_toilet"]
    have = set(units_containing(comm, toilets).dropna().astype(str))
    free = units_containing(comm, candidates.assign(geometry=candidates.geometry.representative_point()))
    plain = propose_toilets(run, rules, candidates, graph=sample.graph, p=1, check=check, public_space_weight=0)
    # mark a community with candidates, no toilet and not where the unconstrained site goes, and
    # one that has a toilet already (it needs none)
    lacking = [c for c in free.dropna().astype(str).unique() if c not in have]
    marked = [c for c in lacking if c not in set(plain.sites["community_id"].astype(str))][:1]
    assert len(marked) == 1 and have
    flag = np.where(run.communities["community_id"].astype(str).isin([*marked, sorted(have)[0]]), "是", "否")
    run_new = dataclasses.replace(run, communities=run.communities.assign(new_residential=flag))
    for p in (1, 2):
        prop = propose_toilets(
            run_new,
            rules,
            candidates,
            graph=sample.graph,
            p=p,
            check=check,
            public_space_weight=0,
            new_residential="new_residential",
        )
        assert len(prop.sites) == p and prop.model.status == "optimal"
        mine = prop.sites["community_id"].astype(str) == marked[0]
        assert mine.sum() == 1 and (prop.sites.loc[mine, "min_floor_m2"] == 30).all()
        assert prop.sites.loc[~mine, "min_floor_m2"].isna().all()
        if p == 1:  # the rule moves the one site away from where it serves the most
            assert prop.model.objective <= plain.model.objective + 1e-9
    # no candidate inside a marked community: the error names it
    outside = candidates[~free.astype(str).isin(marked[:1]).to_numpy()]
    with pytest.raises(InfeasibleError, match=str(marked[0])):
        propose_toilets(
            run_new, rules, outside, graph=sample.graph, p=2, public_space_weight=0, new_residential="new_residential"
        )
    with pytest.raises(ValidationError, match="no column 'is_new'"):
        propose_toilets(run_new, rules, candidates, graph=sample.graph, new_residential="is_new")
    odd = run.communities.assign(new_residential="maybe")
    with pytest.raises(ValidationError, match="neither yes nor no"):
        propose_toilets(
            dataclasses.replace(run, communities=odd),
            rules,
            candidates,
            graph=sample.graph,
            new_residential="new_residential",
        )
