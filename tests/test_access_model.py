"""One access model for the table and the map: where a point joins the network decides both.

Hand-made cases of the streets that broke the old nearest-edge model (an elevated road drawn
over a surface street, a carriageway that dead-ends, a campus not linked to the streets),
and the sample: a point inside a circle is timed within its band (plus the walk the offset
allows), a point timed within the band lies inside.
"""

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from reference import reference_joins, reference_times

import dz_gis
from dz_gis.network import enterable, prepare, snap

CRS = "EPSG:32650"
SPEED = 67.0 / 60.0  # m/s


def graph_of(ways, nodes):
    """A walking graph from ways: (u, v, tags); both directions, straight geometry, flat times."""
    g = nx.MultiDiGraph(crs=CRS, walk_m_per_min=67.0)
    for n, (x, y) in nodes.items():
        g.add_node(n, x=float(x), y=float(y))
    for u, v, tags in ways:
        line = shapely.LineString([nodes[u], nodes[v]])
        for a, b, geom in ((u, v, line), (v, u, line.reverse())):
            g.add_edge(a, b, length=geom.length, walk_s=geom.length / SPEED, geometry=geom, **tags)
    return g


def pts(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=[shapely.Point(p) for p in xy], crs=CRS)


def test_elevated_road_over_a_surface_street_is_walked_but_not_joined():
    # 重庆南路 at y=0; the elevated 南北高架路 drawn 1.2 m beside it, joined to it only 2 km away
    nodes = {"s0": (0, 0), "s1": (400, 0), "e0": (0, 1.2), "e1": (400, 1.2), "far": (2000, 0)}
    ways = [
        ("s0", "s1", {"highway": "secondary"}),
        ("e0", "e1", {"highway": "trunk", "bridge": "yes", "layer": "1"}),
        ("s1", "far", {"highway": "secondary"}),
        ("e1", "far", {"highway": "trunk", "bridge": "yes", "layer": "1"}),
    ]
    g = graph_of(ways, nodes)
    assert not prepare(g).edge_enterable[[i for i, (_, _, d) in enumerate(g.edges(data=True)) if "bridge" in d]].any()
    fac = pts([(200, -5)], category=["park"], facility_id=["p"])
    home = pts([(210, 2.0)])  # 0.8 m from the elevated road, 2 m from the street
    t = dz_gis.nearest_times(g, fac, demand=home).demand["park"].iloc[0]
    assert t == pytest.approx((5 + 10 + 2) / SPEED / 60, abs=1e-9)  # along the street, not 2 km round
    circle = dz_gis.isochrones(g, fac, minutes=(1,)).geometry.iloc[0]
    assert circle.contains(home.geometry.iloc[0])
    # the elevated road gives no land: a point beside it but 30 m from the street is outside
    assert not circle.contains(shapely.Point(200, 31))


def test_a_dead_end_carriageway_does_not_strand_the_homes_beside_it():
    # one carriageway of 东大路 dead-ends at the extract's edge; the other, 15 m away, runs on
    nodes = {"a0": (0, 0), "a1": (300, 0), "b0": (0, 15), "b1": (300, 15), "x": (-900, 0), "y": (-900, 15)}
    ways = [
        ("a0", "a1", {"highway": "primary"}),
        ("a0", "x", {"highway": "primary"}),
        ("x", "y", {"highway": "footway"}),
        ("y", "b0", {"highway": "primary"}),
        ("b0", "b1", {"highway": "primary"}),
    ]
    g = graph_of(ways, nodes)
    fac = pts([(250, 20)], category=["school"], facility_id=["s"])
    home = pts([(240, -1)])  # 1 m from the dead end, 16 m from the carriageway that goes on
    got = dz_gis.nearest_times(g, fac, demand=home).demand["school"].iloc[0] * 60
    assert got == pytest.approx((16 + 10 + 5) / SPEED, abs=1e-6)  # across, not 2 km round
    expected, _ = reference_times(g, reference_joins(g, fac), reference_joins(g, home), SPEED)
    assert got == pytest.approx(expected[0], abs=1e-6)
    assert snap(prepare(g), home).points["streets"].iloc[0] == 2


def test_a_campus_fragment_is_served_by_its_own_facility():
    # a campus whose paths are not linked to the streets (gates not mapped), 40 m from them
    nodes = {f"s{i}": (125.0 * i, 0) for i in range(5)} | {"c0": (100, 40), "c1": (300, 40), "c2": (300, 200)}
    ways = [(f"s{i}", f"s{i + 1}", {"highway": "residential"}) for i in range(4)] + [
        ("c0", "c1", {"highway": "footway"}),
        ("c1", "c2", {"highway": "footway"}),
    ]
    g = graph_of(ways, nodes)
    fac = pts([(200, 45)], category=["clinic"], facility_id=["c"])  # on the campus
    with pytest.warns(UserWarning, match="not connected to the main walking network"):
        times = dz_gis.nearest_times(g, fac, demand=pts([(300, 150), (50, -3)]))
    node_t = times.nodes["clinic"]
    assert np.isfinite(node_t.loc["c2"]) and np.isfinite(node_t.loc["s0"])  # both served
    home_campus, home_street = times.demand["clinic"].to_numpy() * 60
    assert home_campus == pytest.approx((5 + 100 + 110) / SPEED, abs=1e-6)  # along the campus paths
    assert home_street == pytest.approx((3 + 150 + 45) / SPEED, abs=1e-6)  # to the street, then straight over


@pytest.mark.filterwarnings("ignore:.*not connected to the main walking network:UserWarning")
@pytest.mark.parametrize("category", ["park", "supermarket", "public_toilet"])
def test_circles_and_times_agree_on_the_sample(sample, category):
    graph = sample.graph
    net = prepare(graph)
    fac = sample.facilities[sample.facilities["category"] == category]
    bands = (5, 10, 15)
    circles = dz_gis.isochrones(graph, fac, minutes=bands, dissolve=True)
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = circles.total_bounds
    where = shapely.points(rng.uniform(xmin, xmax, 3000), rng.uniform(ymin, ymax, 3000))
    homes = gpd.GeoDataFrame(geometry=where, crs=net.crs)
    t = dz_gis.nearest_times(graph, fac, demand=homes).demand[category].to_numpy()
    joined = snap(net, homes).points
    offset_walk = np.sqrt(2) * dz_gis.access.DEFAULT_OFFSET_M / net.walk_m_per_min  # the offset, walked
    arc = 2 * dz_gis.access.DEFAULT_OFFSET_M * (1 - np.cos(np.pi / 16))  # the circles' arcs drawn as chords
    for minutes, circle in zip(circles["minutes"], circles.geometry, strict=True):
        inside = shapely.contains(circle, where)
        assert inside.sum() > 500
        assert (t[inside] <= minutes + offset_walk + 1e-9).all(), np.nanmax(t[inside]) - minutes
        timed = (t <= minutes - 1) & (joined["snap_m"].to_numpy() <= 10) & ~joined["near_island"].to_numpy()
        assert timed.sum() > 300
        assert shapely.covers(circle.buffer(arc), where[timed]).all()


def test_a_one_way_street_shared_by_a_home_and_a_facility():
    # a one-way survey edge a→b (no way back along it), closed by a two-way loop round the block
    nodes = {"a": (0, 0), "b": (200, 0), "c": (200, 200), "d": (0, 200)}
    g = graph_of([("b", "c", {}), ("c", "d", {}), ("d", "a", {})], nodes)
    line = shapely.LineString([nodes["a"], nodes["b"]])
    g.add_edge("a", "b", length=200.0, walk_s=200.0 / SPEED, geometry=line)
    fac = pts([(50, -5)], category=["shop"], facility_id=["s"])
    home = pts([(150, -5)])  # downstream: to the shop is round the block, not back along a→b
    got = dz_gis.nearest_times(g, fac, demand=home).demand["shop"].iloc[0] * 60
    expected, _ = reference_times(g, reference_joins(g, fac), reference_joins(g, home), SPEED)
    assert np.isfinite(got) and got == pytest.approx(expected[0], abs=1e-6)
    assert dz_gis.od_times(g, home, fac, cutoff_min=30)["minutes"].iloc[0] * 60 == pytest.approx(expected[0], abs=1e-6)


def test_enterable_flags_from_files_and_merged_ways():
    nodes = {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (300, 0)}
    g = graph_of(
        [(0, 1, {"enterable": "False"}), (1, 2, {"enterable": "true"}), (2, 3, {"highway": ["footway", "corridor"]})],
        nodes,
    )
    net = prepare(g)
    flags = {
        (net.node_ids[u], net.node_ids[v]): e
        for u, v, e in zip(net.edge_u, net.edge_v, net.edge_enterable, strict=True)
    }
    assert flags[(0, 1)] is np.False_ or not flags[(0, 1)]  # text from GraphML, not truthy
    assert flags[(1, 2)]
    assert not flags[(2, 3)]  # a merged way with an indoor part
    frame = pd.DataFrame({"highway": ["primary", "primary"], "layer": [["0", "1"], ["1", "0"]]})
    assert enterable(frame).tolist() == [False, False]  # the highest layer, whatever the order


def test_an_edge_walked_in_no_time_widens_every_search():
    nodes = {0: (0, 0), 1: (200, 0), 2: (800, 0), 3: (1000, 0)}
    g = graph_of([(0, 1, {}), (2, 3, {})], nodes)
    line = shapely.LineString([nodes[1], nodes[2]])
    for a, b, geom in ((1, 2, line), (2, 1, line.reverse())):
        g.add_edge(a, b, length=600.0, walk_s=0.0, geometry=geom)  # a moving walkway, say
    fac = pts([(0, 2)], category=["x"], facility_id=["f"])
    home = pts([(1000, 2)])
    nearest = dz_gis.nearest_times(g, fac, demand=home).demand["x"].iloc[0]
    od = dz_gis.od_times(g, home, fac, cutoff_min=10)
    assert nearest == pytest.approx((2 + 200 + 200 + 2) / SPEED / 60)
    assert od["minutes"].iloc[0] == pytest.approx(nearest)
    circle = dz_gis.isochrones(g, fac, minutes=(10,)).geometry.iloc[0]
    assert circle.contains(home.geometry.iloc[0])


def test_a_fragment_reached_has_its_circle_land():
    nodes = {f"s{i}": (125.0 * i, 0) for i in range(5)} | {"c0": (100, 40), "c1": (300, 40), "c2": (300, 200)}
    ways = [(f"s{i}", f"s{i + 1}", {"highway": "residential"}) for i in range(4)]
    ways += [("c0", "c1", {"highway": "footway"}), ("c1", "c2", {"highway": "footway"})]
    g = graph_of(ways, nodes)
    fac = pts([(200, 45)], category=["clinic"], facility_id=["c"])
    circle = dz_gis.isochrones(g, fac, minutes=(5,)).geometry.iloc[0]
    assert circle.contains(shapely.Point(300, 150))  # beside the campus path, 3.3 min away
    assert circle.contains(shapely.Point(400, 10))  # beside the street, reached from the campus too
