"""Walking times checked against networkx's own shortest paths."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import points

from dz_gis.access import coverage_by_unit, nearest_times, prepare, snap_points


def test_times_follow_the_direction_of_travel(line_graph):
    # a facility at node 3: walking 0→3 is "uphill" (90 s per edge), 3→0 would be 60 s
    fac = points([(180.0, 0.0)], category=["park"])
    nodes, _ = nearest_times(line_graph, fac)
    assert nodes.loc[0, "park"] == pytest.approx(270 / 60)
    assert nodes.loc[2, "park"] == pytest.approx(90 / 60)
    assert nodes.loc[3, "park"] == pytest.approx(0, abs=1e-9)


def test_nearest_of_several_facilities_and_cutoff(line_graph):
    fac = points([(0.0, 0.0), (180.0, 0.0)], category=["park", "park"])
    nodes, _ = nearest_times(line_graph, fac)
    assert nodes["park"].round(6).tolist() == [0.0, 1.0, 1.5, 0.0]
    cut, _ = nearest_times(line_graph, fac, cutoff_min=1.2)
    assert np.isnan(cut.loc[2, "park"]) and cut.loc[1, "park"] == pytest.approx(1.0)


def test_demand_points_add_their_snap_walk(line_graph):
    fac = points([(0.0, 0.0)], category=["school"])
    home = points([(120.0, 30.0)])  # 30 m off node 2, at 60 m/min = 0.5 min
    _, demand = nearest_times(line_graph, fac, demand=home)
    assert demand.iloc[0]["school"] == pytest.approx(2.0 + 0.5)


def test_facility_far_from_network_is_reported_not_timed(line_graph):
    fac = points([(0.0, 5000.0)], category=["park"])
    with pytest.warns(UserWarning, match="more than 250 m"):
        nodes, _ = nearest_times(line_graph, fac)
    assert nodes["park"].isna().all()
    assert snap_points(line_graph, fac)["too_far"].all()


def test_prepared_network_is_reused_until_the_graph_changes(line_graph):
    first = prepare(line_graph)
    assert prepare(line_graph) is first
    line_graph.add_node(99, x=0.0, y=999.0)
    assert prepare(line_graph) is not first


def test_times_equal_networkx_on_the_sample(sample):
    graph = sample.graph
    fac = sample.facilities
    nodes, _ = nearest_times(graph, fac)
    net = prepare(graph)
    snap = snap_points(graph, fac)
    speed = net.walk_m_per_min / 60.0
    reverse = graph.reverse(copy=True)
    for cat in ["supermarket", "public_toilet", "elderly_day_care"]:
        rows = np.flatnonzero((fac["category"] == cat).to_numpy())
        best = pd.Series(np.inf, index=pd.Index(net.node_ids))
        for r in rows:
            src = net.node_ids[snap["node"].iloc[r]]
            offset = snap["snap_m"].iloc[r] / speed
            lengths = nx.single_source_dijkstra_path_length(reverse, src, weight="walk_s")
            s = pd.Series(lengths) + offset
            best.loc[s.index] = np.minimum(best.loc[s.index], s)
        expected = best.replace(np.inf, np.nan) / 60.0
        got = nodes[cat]
        assert (got.isna() == expected.isna()).all()
        assert np.nanmax(np.abs(got - expected) * 60.0) < 1e-6  # seconds


def test_coverage_shares_weight_by_households():
    demand = pd.DataFrame({"community_id": ["A", "A", "B"], "households": [100.0, 300.0, 50.0]})
    times = pd.DataFrame({"park": [4.0, 12.0, np.nan]})
    cov = coverage_by_unit(demand, times)
    assert cov.loc["A", "cov_park_5min"] == pytest.approx(0.25)
    assert cov.loc["A", "cov_park_15min"] == pytest.approx(1.0)
    assert cov.loc["B", "cov_park_15min"] == 0.0
    empty = coverage_by_unit(pd.DataFrame({"community_id": ["C"], "households": [0.0]}), pd.DataFrame({"park": [1.0]}))
    assert np.isnan(empty.loc["C", "cov_park_5min"])  # no households: no data, not 0 %
