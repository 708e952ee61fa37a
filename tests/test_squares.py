"""Pedestrian squares are walked across, from OSM XML and PBF alike."""

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from dz_gis import settings
from dz_gis.datasets import sample_osm_path
from dz_gis.network import walk_graph_from_file
from dz_gis.network.squares import read_squares

# A 0.002° x 0.002° square (about 190 m x 222 m at 31.21 N) with a street into the middle of
# its west side (node 10) and one into the middle of its east side (node 11). Node ids:
# 1-4 corners, 10/11 the entrances on the outline, 20/21 the far ends of the two streets.
X0, Y0, D = 107.470, 31.210, 0.002
NODES = {
    1: (X0, Y0),
    2: (X0 + D, Y0),
    3: (X0 + D, Y0 + D),
    4: (X0, Y0 + D),
    10: (X0, Y0 + D / 2),
    11: (X0 + D, Y0 + D / 2),
    20: (X0 - D / 2, Y0 + D / 2),
    21: (X0 + 1.5 * D, Y0 + D / 2),
    # a building in the square, blocking the straight walk (used as a hole)
    30: (X0 + 0.4 * D, Y0 + 0.4 * D),
    31: (X0 + 0.6 * D, Y0 + 0.4 * D),
    32: (X0 + 0.6 * D, Y0 + 0.6 * D),
    33: (X0 + 0.4 * D, Y0 + 0.6 * D),
}
OUTLINE = [1, 2, 11, 3, 4, 10, 1]
HOLE = [30, 31, 32, 33, 30]
STREETS = [(100, [20, 10], "residential"), (101, [11, 21], "residential")]


def write_osm(path: Path, *, square: str = "way", foot: str | None = None) -> Path:
    """OSM XML with the square as a closed way (``area=yes``) or as a multipolygon with a hole."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='test'>"]
    for i, (lon, lat) in NODES.items():
        lines.append(f"<node id='{i}' version='1' lat='{lat:.7f}' lon='{lon:.7f}'/>")
    for way_id, refs, highway in STREETS:
        nds = "".join(f"<nd ref='{r}'/>" for r in refs)
        lines.append(f"<way id='{way_id}' version='1'>{nds}<tag k='highway' v='{highway}'/></way>")
    tags = "<tag k='highway' v='pedestrian'/>" + (f"<tag k='foot' v='{foot}'/>" if foot else "")
    outline = "".join(f"<nd ref='{r}'/>" for r in OUTLINE)
    if square == "way":
        lines.append(f"<way id='200' version='1'>{outline}{tags}<tag k='area' v='yes'/></way>")
    else:
        hole = "".join(f"<nd ref='{r}'/>" for r in HOLE)
        lines.append(f"<way id='200' version='1'>{outline}</way>")
        lines.append(f"<way id='201' version='1'>{hole}</way>")
        lines.append(
            "<relation id='300' version='1'><member type='way' ref='200' role='outer'/>"
            f"<member type='way' ref='201' role='inner'/>{tags}<tag k='type' v='multipolygon'/></relation>"
        )
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def to_pbf(xml: Path) -> Path:
    osmium = pytest.importorskip("osmium")
    target = xml.with_suffix(".osm.pbf")
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    return target


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")


def metres(graph, a, b):
    """Independent check: networkx's shortest walk by length."""
    return nx.shortest_path_length(graph, a, b, weight="length")


def street_m(graph):
    return graph.edges[20, 10, 0]["length"] + graph.edges[11, 21, 0]["length"]


@pytest.mark.parametrize("fmt", ["xml", "pbf"])
def test_a_square_is_walked_straight_across(tmp_path, fmt):
    path = write_osm(tmp_path / "square.osm")
    if fmt == "pbf":
        path = to_pbf(path)
    g = walk_graph_from_file(path, cache=False)
    x10, x11 = (np.array([g.nodes[n]["x"], g.nodes[n]["y"]]) for n in (10, 11))
    across = float(np.hypot(*(x11 - x10)))
    assert metres(g, 20, 21) == pytest.approx(street_m(g) + across, rel=1e-9)
    # the outline is still walked: from the entrance to a corner along the edge
    assert g.has_edge(10, 11) and g.has_edge(11, 10)
    # the outline, one straight segment per side: the corners no way shares are nodes of their own
    corners = sorted(n for n in g.nodes if n < 0)
    assert len(corners) == 4 and all(len(d["geometry"].coords) == 2 for *_, d in g.edges(data=True))
    assert nx.shortest_path(g, 10, 11, weight="length") == [10, 11]


@pytest.mark.parametrize("fmt", ["xml", "pbf"])
def test_a_hole_blocks_the_straight_walk(tmp_path, fmt):
    path = write_osm(tmp_path / "square.osm", square="relation")
    if fmt == "pbf":
        path = to_pbf(path)
    g = walk_graph_from_file(path, cache=False)
    straight = [d for _, v, d in g.edges(10, data=True) if v == 11 and len(d["geometry"].coords) == 2]
    assert not straight  # the straight line would cross the building
    # around the outline instead, by the shorter side (the north one, nearer the pole)
    to_metres = Transformer.from_crs(4326, g.graph["crs"], always_xy=True)
    sides = ([10, 1, 2, 11], [10, 4, 3, 11])
    south, north = (shapely.LineString([to_metres.transform(*NODES[n]) for n in side]) for side in sides)
    assert metres(g, 20, 21) - street_m(g) == pytest.approx(min(south.length, north.length), rel=1e-9)


def test_a_square_closed_to_pedestrians_adds_nothing(tmp_path):
    g = walk_graph_from_file(write_osm(tmp_path / "square.osm", foot="no"), cache=False)
    assert 10 in g and not nx.has_path(g, 20, 21)


def test_xml_and_pbf_give_the_same_square(tmp_path):
    xml = write_osm(tmp_path / "square.osm", square="relation")
    a, b = (walk_graph_from_file(p, cache=False) for p in (xml, to_pbf(xml)))
    lengths = [sorted(round(d["length"], 6) for *_, d in g.edges(data=True)) for g in (a, b)]
    assert lengths[0] == lengths[1]


def test_the_sample_squares_are_crossed():
    squares = read_squares(sample_osm_path(), None)
    assert {"way/4369051", "relation/2919121"} <= set(squares["square_id"])  # Narinkkatori, Senaatintori
    g = walk_graph_from_file(sample_osm_path(), cache=False)
    senate = squares.loc[squares["square_id"] == "relation/2919121", "geometry"].to_crs(g.graph["crs"]).iloc[0]
    area, outline = senate.buffer(0.05), senate.exterior.buffer(0.05)
    inside = [
        (u, v)
        for u, v, d in g.edges(data=True)
        if d.get("highway") == "pedestrian" and area.covers(d["geometry"]) and not outline.covers(d["geometry"])
    ]
    assert len(inside) >= 10  # straight crossings of Senate Square


def test_walks_across_the_sample_squares_are_near_straight():
    """Between two entrances that see each other, the walk is at most STRETCH x the straight line."""
    from itertools import combinations

    from dz_gis.network.from_file import _pbf_network
    from dz_gis.network.squares import STRETCH, square_edges

    path = sample_osm_path()
    squares = read_squares(path, None)
    nodes, edges = _pbf_network(path, None)
    added = square_edges(nodes, edges, squares)[1].iloc[len(edges) :].to_crs(3067)  # ETRS-TM35FIN, metres
    shapes = squares.set_index("square_id").to_crs(3067).geometry
    ratios = []
    for sid, rows in added.groupby("square_id"):
        walk = nx.Graph()
        ends = {}
        for r in rows.itertuples():
            w = r.geometry.length
            if not walk.has_edge(r.u, r.v) or walk.edges[r.u, r.v]["weight"] > w:
                walk.add_edge(r.u, r.v, weight=w)
            ends[r.u], ends[r.v] = r.geometry.coords[0], r.geometry.coords[-1]
        dist = dict(nx.all_pairs_dijkstra_path_length(walk))
        area = shapes[sid].buffer(0.01)
        entrances = [n for n in ends if n >= 0]  # corners of the outline have negative ids
        for a, b in combinations(entrances, 2):
            line = shapely.LineString([ends[a], ends[b]])
            if line.length > 1.0 and area.covers(line):
                ratios.append(dist[a][b] / line.length)
    assert len(ratios) > 500
    assert max(ratios) <= STRETCH + 1e-3  # lengths are taken in local metres, here in a national CRS
    assert np.mean(ratios) < 1.05


def test_circles_and_times_agree_across_a_square(tmp_path):
    """The access model's promise on a square: inside a circle means timed within it, and back."""
    import geopandas as gpd

    import dz_gis
    from dz_gis.network.prepared import prepare
    from dz_gis.network.snap import snap

    g = walk_graph_from_file(write_osm(tmp_path / "square.osm", square="relation"), cache=False)
    net = prepare(g)
    east = np.array([g.nodes[21]["x"], g.nodes[21]["y"]])
    fac = gpd.GeoDataFrame({"category": ["park"]}, geometry=[shapely.Point(*(east + [0, 5]))], crs=net.crs)
    bands = (1, 2, 3, 4)
    circles = dz_gis.isochrones(g, fac, minutes=bands, dissolve=True)
    rng = np.random.default_rng(3)
    xmin, ymin, xmax, ymax = circles.total_bounds
    where = shapely.points(rng.uniform(xmin, xmax, 3000), rng.uniform(ymin, ymax, 3000))
    homes = gpd.GeoDataFrame(geometry=where, crs=net.crs)
    t = dz_gis.nearest_times(g, fac, demand=homes).demand["park"].to_numpy()
    joined = snap(net, homes).points
    offset_walk = np.sqrt(2) * dz_gis.access.DEFAULT_OFFSET_M / net.walk_m_per_min
    arc = 2 * dz_gis.access.DEFAULT_OFFSET_M * (1 - np.cos(np.pi / 16))
    for minutes, circle in zip(circles["minutes"], circles.geometry, strict=True):
        inside = shapely.contains(circle, where)
        assert inside.sum() > 50
        assert (t[inside] <= minutes + offset_walk + 1e-9).all(), np.nanmax(t[inside]) - minutes
        timed = (t <= minutes - 0.25) & (joined["snap_m"].to_numpy() <= 10) & ~joined["near_island"].to_numpy()
        assert timed.sum() > 20
        assert shapely.covers(circle.buffer(arc), where[timed]).all()
