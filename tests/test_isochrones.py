"""Isochrones are built from reached streets: checked by sampling points inside them
against independently computed network times (networkx on a split graph)."""

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from conftest import make_graph, points
from reference import reference_joins

from dz_gis.access._faces import street_faces
from dz_gis.access._polygons import BUFFER_QUAD_SEGS
from dz_gis.access.isochrones import DEFAULT_OFFSET_M, isochrones
from dz_gis.network.prepared import prepare


def node_seconds(graph, joins, speed):
    """Seconds from every node to one facility joined to the streets ``joins`` (networkx, reversed graph)."""
    g = nx.DiGraph()
    for u, v, d in graph.edges(data=True):
        if not g.has_edge(u, v) or g[u][v]["w"] > d["walk_s"]:
            g.add_edge(u, v, w=d["walk_s"])
    for u, v, k, pos, snap_m in joins:
        d = graph.edges[u, v, k]
        frac = pos / d["geometry"].length if d["geometry"].length else 0.0
        w_u = d["walk_s"] * frac + snap_m / speed  # u → along the edge → the join → the facility
        if not g.has_edge(u, "F") or g[u]["F"]["w"] > w_u:
            g.add_edge(u, "F", w=w_u)
        back = [
            kk
            for kk, dd in graph.get_edge_data(v, u, default={}).items()
            if abs(dd["geometry"].length - d["geometry"].length) < 1e-3
        ]
        if back:
            w_v = graph.edges[v, u, back[0]]["walk_s"] * (1 - frac) + snap_m / speed
            if not g.has_edge(v, "F") or g[v]["F"]["w"] > w_v:
                g.add_edge(v, "F", w=w_v)
    return nx.single_source_dijkstra_path_length(g.reverse(copy=True), "F", weight="w")


def positions_within(geom, point, r):
    """Positions (m along ``geom``) of the ends of each stretch lying within ``r`` of ``point``."""
    xy = np.asarray(geom.coords)[:, :2]
    p = np.array([point.x, point.y])
    out, start = [], 0.0
    for a, b in zip(xy[:-1], xy[1:], strict=True):
        d = b - a
        seg = float(np.hypot(*d))
        if seg > 0:
            t = float(np.dot(p - a, d) / seg)  # unclamped projection on the segment's line
            h2 = float(np.sum((p - a) ** 2) - t * t)
            if h2 <= r * r:
                half = np.sqrt(r * r - max(h2, 0.0))
                lo, hi = max(t - half, 0.0), min(t + half, seg)
                if lo <= hi:
                    out += [start + lo, start + hi]
        start += seg
    return out


def best_time_near(point, graph, times, joins, offset, speed):
    """Fastest network time (s) at any street position within ``offset`` of ``point``.

    Along an edge, the time to the facility through the edge's far end falls as one
    walks on, so the best position of each stretch within reach is one of its ends.
    """
    best = np.inf
    for _, v, d in graph.edges(data=True):
        geom = d["geometry"]
        if geom.distance(point) > offset + 1e-6:
            continue
        for s in positions_within(geom, point, offset + 1e-6):
            frac = s / geom.length if geom.length else 0.0
            best = min(best, d["walk_s"] * (1 - frac) + times.get(v, np.inf))
    # walking straight along one of the facility's own streets to it
    for u, v, k, pos, snap_m in joins:
        geom = graph.edges[u, v, k]["geometry"]
        for s in positions_within(geom, point, offset + 1e-6):
            best = min(best, abs(s - pos) / speed + snap_m / speed)
    return best


@pytest.mark.parametrize("band", [5, 10])
def test_no_point_inside_is_farther_than_band_plus_offset(sample, band):
    graph = sample.graph
    speed = prepare(graph).walk_m_per_min / 60
    fac = sample.facilities.iloc[[3, 40, 77]]
    iso = isochrones(graph, fac, minutes=(band,))
    rng = np.random.default_rng(band)
    checked = 0
    for f, (_, row) in zip(reference_joins(graph, fac), iso.iterrows(), strict=True):
        poly = row.geometry
        times = node_seconds(graph, f, speed)
        minx, miny, maxx, maxy = poly.bounds
        pts = shapely.points(rng.uniform(minx, maxx, 400), rng.uniform(miny, maxy, 400))
        inside = pts[shapely.contains(poly, pts)][:25]
        for p in inside:
            t = best_time_near(p, graph, times, f, DEFAULT_OFFSET_M, speed)
            assert t <= band * 60 + 1e-6, f"point {p} inside the {band}-min isochrone needs {t / 60:.2f} min"
            checked += 1
    assert checked >= 50


def test_reached_places_are_inside(sample):
    fac = sample.facilities.iloc[[10]]
    iso = isochrones(sample.graph, fac, minutes=(5, 10, 15))
    polys = iso.geometry.to_numpy()
    assert shapely.contains(polys[0], fac.to_crs(iso.crs).geometry.iloc[0].buffer(1))
    a = shapely.area(polys)
    assert a[0] < a[1] < a[2]
    # nested, up to the arcs' approximation: 4 segments per quarter circle lie up to 0.5 m inside
    # the true 25 m offset where a block's land is a buffer of its reached streets, and up to 0.5 m
    # outside it where a whole block's land is the block minus its inward buffer; a block bounded by
    # a street that gives no land (a tunnel) is always the first kind, its neighbour may be the second
    arc = 2 * DEFAULT_OFFSET_M * (1 - np.cos(np.pi / 16))
    assert shapely.covers(polys[2].buffer(arc), polys[1]) and shapely.covers(polys[1].buffer(arc), polys[0])


def test_river_is_not_crossed():
    # two streets 100 m apart with a bridge only 1 km away: a 5-minute walk (335 m)
    # from one never reaches the other, though a convex hull or a buffer of nodes would
    coords = {}
    edges = []
    for side, y in (("s", 0.0), ("n", 100.0)):
        for i in range(12):
            coords[(side, i)] = (i * 100.0, y)
            if i:
                edges += [((side, i - 1), (side, i), 100 / 1.1167), ((side, i), (side, i - 1), 100 / 1.1167)]
    edges += [(("s", 11), ("n", 11), 100 / 1.1167), (("n", 11), ("s", 11), 100 / 1.1167)]
    g = make_graph(edges, coords)
    g.graph["walk_m_per_min"] = 67.0
    fac = points([(50.0, 0.0)], facility_id=["f"], category=["school"])
    poly = isochrones(g, fac, minutes=(5,)).geometry.iloc[0]
    assert poly.contains(shapely.Point(300, 10))
    assert not poly.intersects(shapely.Point(50, 90))  # across the river, 90 m away
    assert poly.bounds[3] <= DEFAULT_OFFSET_M + 1e-6


def test_dissolved_equals_union_of_facilities(sample):
    fac = sample.facilities[sample.facilities["category"] == "supermarket"]
    per = isochrones(sample.graph, fac, minutes=(10,))
    dis = isochrones(sample.graph, fac, minutes=(10,), dissolve=True)
    assert list(dis["category"]) == ["supermarket"]
    union = shapely.union_all(per.geometry.to_numpy())
    diff = shapely.symmetric_difference(union, dis.geometry.iloc[0]).area
    assert diff < 1e-3 * union.area


def test_polygons_are_valid_and_equal_to_merging_the_near_land(sample, monkeypatch):
    """Full faces are merged whole and their far land cut out as holes afterwards: the
    same land as merging each face's near land, and valid polygons."""
    fac = sample.facilities.iloc[::4]
    fast = isochrones(sample.graph, fac)
    assert shapely.is_valid(fast.geometry.to_numpy()).all()
    faces = street_faces(prepare(sample.graph), DEFAULT_OFFSET_M, BUFFER_QUAD_SEGS)
    assert faces.far_holes.mean() > 0.9  # the fast way is the usual one
    monkeypatch.setattr(faces, "far_holes", np.zeros_like(faces.far_holes))
    slow = isochrones(sample.graph, fac)
    diff = shapely.area(shapely.symmetric_difference(fast.geometry.to_numpy(), slow.geometry.to_numpy()))
    assert (diff <= 1e-6 * shapely.area(slow.geometry.to_numpy()) + 1e-3).all()
    dissolved = isochrones(sample.graph, fac, dissolve=True)
    assert shapely.is_valid(dissolved.geometry.to_numpy()).all()


def test_partial_edge_is_cut_at_the_exact_position(line_graph):
    # facility at node 0; uphill 90 s per 60 m edge. After 120 s: all of 0—1 (90 s back
    # downhill is what matters: time from the place TO the facility, walking 1→0 = 60 s)
    fac = points([(0.0, 0.0)], facility_id=["f"], category=["x"])
    poly = isochrones(line_graph, fac, minutes=(2,), offset_m=5.0).geometry.iloc[0]
    # walking towards the facility is downhill: 60 s per edge, so 120 s reach 120 m
    assert poly.bounds[2] == pytest.approx(120 + 5.0, abs=0.05)
    assert poly.bounds[0] == pytest.approx(-5.0, abs=0.05)


def test_isochrones_validate_input(sample):
    with pytest.raises(ValueError, match="offset_m must be positive"):
        isochrones(sample.graph, sample.facilities.head(1), offset_m=0)
    no_id = gpd.GeoDataFrame({"category": ["x"]}, geometry=[shapely.Point(24.94, 60.17)], crs=4326)
    with pytest.raises(ValueError, match="facility_id"):
        isochrones(sample.graph, no_id)
