"""Walking times checked by hand and against networkx shortest paths on split graphs."""

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import points
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import reference_joins, reference_times

from dz_gis.access import coverage_by_unit, nearest_times, snap_points
from dz_gis.network.prepared import prepare


def test_times_follow_the_direction_of_travel(line_graph):
    # a facility at node 3: walking 0→3 is "uphill" (90 s per edge), 3→0 would be 60 s
    fac = points([(180.0, 0.0)], category=["park"])
    nodes = nearest_times(line_graph, fac).nodes
    assert nodes.loc[0, "park"] == pytest.approx(270 / 60)
    assert nodes.loc[2, "park"] == pytest.approx(90 / 60)
    assert nodes.loc[3, "park"] == pytest.approx(0, abs=1e-9)


def test_facility_in_the_middle_of_an_edge(line_graph):
    fac = points([(90.0, 0.0)], category=["shop"])  # half-way along 1—2
    nodes = nearest_times(line_graph, fac).nodes["shop"] * 60
    assert nodes.loc[0] == pytest.approx(90 + 45)  # uphill: 0→1 then half of 1→2
    assert nodes.loc[3] == pytest.approx(60 + 30)  # downhill: 3→2 then half of 2→1


def test_home_and_facility_on_the_same_edge(line_graph):
    fac = points([(110.0, 0.0)], category=["shop"])
    homes = points([(70.0, 0.0), (119.0, 0.0)])
    t = nearest_times(line_graph, fac, demand=homes).demand["shop"] * 60
    assert t.iloc[0] == pytest.approx(40 / 60 * 90)  # 40 m uphill, straight along the edge
    assert t.iloc[1] == pytest.approx(9 / 60 * 60)  # 9 m downhill


def test_nearest_of_several_facilities_and_cutoff(line_graph):
    fac = points([(0.0, 0.0), (180.0, 0.0)], category=["park", "park"])
    nodes = nearest_times(line_graph, fac).nodes
    assert nodes["park"].round(6).tolist() == [0.0, 1.0, 1.5, 0.0]
    cut = nearest_times(line_graph, fac, cutoff_min=1.2).nodes
    assert np.isnan(cut.loc[2, "park"]) and cut.loc[1, "park"] == pytest.approx(1.0)


def test_demand_points_add_their_snap_walk(line_graph):
    fac = points([(0.0, 0.0)], category=["school"])
    home = points([(120.0, 30.0)])  # 30 m off node 2, at 60 m/min = 0.5 min
    t = nearest_times(line_graph, fac, demand=home).demand
    assert t.iloc[0]["school"] == pytest.approx(2.0 + 0.5)


def test_facility_far_from_network_is_reported_not_timed(line_graph):
    fac = points([(0.0, 5000.0)], category=["park"])
    with pytest.warns(UserWarning, match="more than 250 m"):
        result = nearest_times(line_graph, fac)
    assert result.nodes["park"].isna().all()
    assert result.snapped["too_far"].all()


def test_prepared_network_is_reused_until_the_graph_changes(line_graph):
    first = prepare(line_graph)
    assert prepare(line_graph) is first
    line_graph.add_node(99, x=0.0, y=999.0)
    assert prepare(line_graph) is not first


ISLAND_WARNING = "ignore:.*not connected to the main walking network:UserWarning"


@pytest.mark.filterwarnings(ISLAND_WARNING)
@pytest.mark.parametrize("category", ["supermarket", "public_toilet", "elderly_day_care", "park"])
def test_times_equal_networkx_on_the_sample(sample, category):
    graph = sample.graph
    fac = sample.facilities[sample.facilities["category"] == category]
    homes = sample.compounds
    result = nearest_times(graph, fac, demand=homes)
    speed = prepare(graph).walk_m_per_min / 60
    expected, node_dist = reference_times(graph, reference_joins(graph, fac), reference_joins(graph, homes), speed)
    got = result.demand[category].to_numpy() * 60
    assert np.isfinite(expected).sum() > 10
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    nodes = result.nodes[category] * 60
    ref_nodes = pd.Series({n: node_dist.get(n, np.nan) for n in nodes.index})
    both = nodes.notna()
    assert (both == ref_nodes.notna()).all()
    np.testing.assert_allclose(nodes[both], ref_nodes[both], rtol=0, atol=1e-6)


def test_coverage_shares_weight_by_households():
    demand = pd.DataFrame({"community_id": ["A", "A", "B"], "households": [100.0, 300.0, 50.0]})
    times = pd.DataFrame({"park": [4.0, 12.0, np.nan]})
    cov = coverage_by_unit(demand, times)
    assert cov.loc["A", "cov_park_5min"] == pytest.approx(0.25)
    assert cov.loc["A", "cov_park_15min"] == pytest.approx(1.0)
    assert cov.loc["B", "cov_park_15min"] == 0.0
    empty = coverage_by_unit(pd.DataFrame({"community_id": ["C"], "households": [0.0]}), pd.DataFrame({"park": [1.0]}))
    assert np.isnan(empty.loc["C", "cov_park_5min"])  # no households: no data, not 0 %


@pytest.mark.filterwarnings(ISLAND_WARNING)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
    extra=st.integers(0, 10_000),
    cut_a=st.floats(1, 20),
    cut_b=st.floats(0, 20),
)
def test_properties_cutoff_and_added_facility(sample, picks, extra, cut_a, cut_b):
    fac = sample.facilities.iloc[[p % len(sample.facilities) for p in picks]].assign(category="x")
    small = nearest_times(sample.graph, fac, cutoff_min=cut_a).nodes["x"]
    large = nearest_times(sample.graph, fac, cutoff_min=cut_a + cut_b).nodes["x"]
    # a larger cutoff never shrinks a circle, and keeps every time it had
    assert (large.notna() | small.isna()).all()
    np.testing.assert_allclose(large[small.notna()], small[small.notna()], atol=1e-9)
    more = pd.concat([fac, sample.facilities.iloc[[extra % len(sample.facilities)]].assign(category="x")])
    base = nearest_times(sample.graph, fac).nodes["x"].fillna(np.inf)
    added = nearest_times(sample.graph, more).nodes["x"].fillna(np.inf)
    assert (added <= base + 1e-9).all()  # an added facility never makes a time longer


def test_demand_far_from_network_warns_and_gets_no_time(line_graph):
    fac = points([(0.0, 0.0)], category=["park"])
    homes = points([(60.0, 5.0), (60.0, 900.0)])
    with pytest.warns(UserWarning, match="1 demand point"):
        t = nearest_times(line_graph, fac, demand=homes).demand["park"]
    assert np.isfinite(t.iloc[0]) and np.isnan(t.iloc[1])


def test_coverage_percentiles_and_population_shares():
    demand = pd.DataFrame(
        {
            "community_id": ["A"] * 4,
            "households": [10.0, 10.0, 10.0, 70.0],
            "population": [100.0, 0.0, 0.0, 0.0],
        }
    )
    times = pd.DataFrame({"park": [2.0, 4.0, 6.0, 30.0]})
    cov = coverage_by_unit(demand, times)
    assert cov.loc["A", "p50_park_min"] == 30.0  # 70 % of households live 30 minutes away
    assert cov.loc["A", "covpop_park_5min"] == 1.0  # but every resident counted lives within 5
    times2 = pd.DataFrame({"park": [2.0, 4.0, 6.0, np.nan]})
    cov2 = coverage_by_unit(demand, times2)
    assert np.isnan(cov2.loc["A", "p50_park_min"])  # most households reach no park at all
    assert cov2.loc["A", "cov_park_5min"] == pytest.approx(0.2)


def test_changed_walk_times_are_seen_after_invalidate(line_graph):
    from dz_gis.network import add_walk_times
    from dz_gis.network.prepared import invalidate

    fac = points([(0.0, 0.0)], category=["park"])
    before = nearest_times(line_graph, fac).nodes.loc[3, "park"]
    add_walk_times(line_graph, walk_m_per_min=30.0)  # invalidates by itself
    slower = nearest_times(line_graph, fac).nodes.loc[3, "park"]
    assert slower == pytest.approx(6.0) and slower != before
    for _, _, d in line_graph.edges(data=True):
        d["walk_s"] = 1.0
    invalidate(line_graph)
    assert nearest_times(line_graph, fac).nodes.loc[3, "park"] == pytest.approx(3 / 60)


def test_points_nearest_to_an_island_are_reported(line_graph):
    # a separate footpath 10 m north of node 1, not connected to the line
    line_graph.add_node("i1", x=50.0, y=10.0)
    line_graph.add_node("i2", x=70.0, y=10.0)
    geom = shapely.LineString([(50.0, 10.0), (70.0, 10.0)])
    line_graph.add_edge("i1", "i2", length=20.0, walk_s=20.0, geometry=geom)
    line_graph.add_edge("i2", "i1", length=20.0, walk_s=20.0, geometry=shapely.reverse(geom))
    fac = points([(0.0, 0.0)], category=["park"])
    homes = points([(60.0, 12.0), (120.0, 1.0)])
    with pytest.warns(UserWarning, match="1 demand points lie nearest to a street not connected"):
        t = nearest_times(line_graph, fac, demand=homes).demand["park"]
    assert np.isfinite(t).all()  # still timed, from the main network 12 m away
    snaps = snap_points(line_graph, homes).points
    assert snaps["near_island"].tolist() == [True, False]


@pytest.mark.parametrize("first", ["clockwise", "anticlockwise"])
def test_a_two_way_loop_way_is_walked_the_short_way(first):
    """A loop way (u→u both ways, as OSMnx stores it): a facility 110 m one way round and
    290 m the other is 110 m from the loop's node, whichever direction is stored first."""
    import networkx as nx

    ring = shapely.LineString([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)])
    ways = [ring, ring.reverse()] if first == "clockwise" else [ring.reverse(), ring]
    g = nx.MultiDiGraph(crs="EPSG:32635", walk_m_per_min=60.0)
    g.add_node(0, x=0.0, y=0.0)
    g.add_node(1, x=-50.0, y=0.0)
    for geom in ways:
        g.add_edge(0, 0, length=400.0, walk_s=400.0, geometry=geom)
    for u, v in ((0, 1), (1, 0)):
        geom = shapely.LineString([(g.nodes[u]["x"], 0.0), (g.nodes[v]["x"], 0.0)])
        g.add_edge(u, v, length=50.0, walk_s=50.0, geometry=geom)
    net = prepare(g)
    loops = np.flatnonzero(net.edge_u == net.edge_v)
    assert sorted(net.edge_rev[loops]) == sorted(loops)  # the two directions are each other's reverse
    fac = points([(100.0, 10.0)], crs="EPSG:32635", category=["school"], facility_id=["s"])
    t = nearest_times(g, fac).nodes["school"]
    assert t.loc[0] == pytest.approx(110 / 60)
    assert t.loc[1] == pytest.approx(160 / 60)
