"""The planar faces behind the isochrones: crossing test, noding, and the land near streets,
each checked against GEOS doing the same job the slow, obvious way."""

import numpy as np
import pytest
import shapely
from conftest import make_graph
from shapely import LineString as L

from dz_gis.access._faces import crossing_edges, street_faces
from dz_gis.access._planar import planar_faces, ranges
from dz_gis.network.prepared import prepare

CASES = {
    "proper crossing": ([L([(0, 0), (2, 2)]), L([(0, 2), (2, 0)])], [True, True]),
    "shared end": ([L([(0, 0), (1, 1)]), L([(1, 1), (2, 0)])], [False, False]),
    "end on the other's interior (T, no shared node)": ([L([(0, 0), (2, 0)]), L([(1, 0), (1, 1)])], [True, True]),
    "collinear overlap": ([L([(0, 0), (2, 0)]), L([(1, 0), (3, 0)])], [True, True]),
    "duplicate, reversed": ([L([(0, 0), (2, 0)]), L([(2, 0), (0, 0)])], [True, True]),
    "disjoint": ([L([(0, 0), (1, 0)]), L([(0, 1), (1, 1)])], [False, False]),
    "doubling back from a shared end": ([L([(0, 0), (2, 0)]), L([(2, 0), (1, 0)])], [True, True]),
    "self-crossing": ([L([(0, 0), (2, 0), (2, 1), (1, -1)])], [True]),
    "bent lines closing a ring": ([L([(0, 0), (1, 0), (1, 1)]), L([(1, 1), (0, 1), (0, 0)])], [False, False]),
    "T at the other's interior vertex": ([L([(0, 0), (1, 0), (2, 0)]), L([(1, 0), (1, 1)])], [True, True]),
    "crossing at interior vertices of both": (
        [L([(0, 0), (1, 0), (2, 0)]), L([(1, -1), (1, 0), (1, 1)])],
        [True, True],
    ),
    "touching itself at a vertex": ([L([(0, 0), (1, 0), (2, 0), (2, 1), (1, 0), (1, -1)])], [True]),
    "closed ring": ([L([(0, 0), (1, 0), (1, 1), (0, 0)])], [False]),
    "crossing a third line's bend": (
        [L([(0, 0), (4, 0)]), L([(1, -1), (2, 1), (3, -1)]), L([(9, 9), (10, 10)])],
        [True, True, False],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_crossing_edges_by_hand(name):
    lines, expected = CASES[name]
    assert crossing_edges(np.array(lines, dtype=object)).tolist() == expected


def test_crossing_edges_agree_with_geos_noding(sample):
    """Noding only the flagged edges gives exactly the pieces GEOS makes of all edges."""
    net = prepare(sample.graph)
    geoms = shapely.force_2d(net.edge_geom[net.canonical])
    bad = crossing_edges(geoms)
    assert 0 < bad.sum() < len(geoms)  # the sample has bridges and unjoined crossings

    def noded(lines):
        parts = shapely.get_parts(shapely.node(shapely.multilinestrings(lines)))
        return parts[shapely.length(parts) > 1e-9]

    everything = noded(geoms)
    assert len(everything) == (~bad).sum() + len(noded(geoms[bad]))
    # and every edge left whole is one of GEOS's pieces, unchanged
    pieces = set(shapely.to_wkb(shapely.normalize(everything)))
    assert all(w in pieces for w in shapely.to_wkb(shapely.normalize(geoms[~bad])))


def test_ranges():
    assert ranges(np.array([3, 0, 5]), np.array([5, 0, 8])).tolist() == [3, 4, 0 + 5, 6, 7]
    assert ranges(np.array([], dtype=int), np.array([], dtype=int)).tolist() == []


def test_faces_tile_the_frame_and_near_land_is_what_the_buffer_gives(sample):
    net = prepare(sample.graph)
    faces = street_faces(net, 25.0, 4)
    frame = shapely.buffer(
        shapely.envelope(shapely.multilinestrings(faces.piece_geom)), 4 * 25.0 + 10, join_style="mitre"
    )
    assert shapely.area(faces.face_geom).sum() == pytest.approx(shapely.area(frame), rel=1e-9)
    # near land of each face, the obvious way: the face ∩ the buffer of its own streets
    pf = faces.piece_faces.tocsc()
    for f in range(len(faces.face_geom)):  # the outer face included: its outer ring is no street
        streets = faces.piece_geom[pf.indices[pf.indptr[f] : pf.indptr[f + 1]]]
        exact = shapely.buffer(shapely.union_all(streets), 25.0, quad_segs=64)  # arcs to within 8 mm
        expected = shapely.intersection(faces.face_geom[f], exact)
        got = faces.near_land(np.array([f]))[0]
        assert shapely.is_valid(got)
        # never more land than within 25 m; less only where arcs are cut by 4 chords per
        # quarter circle (at most 2.5 % of a disc's area, 49 m², per corner or street end)
        assert shapely.area(shapely.difference(got, expected)) < 0.05
        lost = shapely.area(shapely.difference(expected, got))
        ends = len(streets) + 1
        assert lost <= 49.0 * ends * 0.25 + 1.0
        # the face's rings are kept vertex for vertex along its streets (so that
        # neighbours form a coverage); the outer face's frame is no street
        ring = shapely.get_coordinates(shapely.boundary(faces.face_geom[f]))
        on_street = shapely.dwithin(shapely.points(ring), shapely.multilinestrings(streets), 1e-9)
        assert set(map(tuple, ring[on_street])) <= set(map(tuple, shapely.get_coordinates(got)))


def test_a_bridge_over_a_street_is_noded_and_splits_no_block():
    """A footbridge crossing a street without a shared node: faces stay a partition and
    the street under it still bounds the blocks on both sides."""
    coords = {0: (0, 0), 1: (200, 0), 2: (200, 200), 3: (0, 200), 4: (100, -50), 5: (100, 250)}
    ring = [(0, 1), (1, 2), (2, 3), (3, 0)]
    edges = [(u, v, 100.0) for a, b in ring for u, v in ((a, b), (b, a))]
    edges += [(4, 5, 300.0), (5, 4, 300.0)]  # the bridge: crosses edges 0-1 and 2-3 without a node
    edges += [(4, 0, 100.0), (0, 4, 100.0)]
    graph = make_graph(edges, coords)
    net = prepare(graph)
    faces = street_faces(net, 25.0, 4)
    areas = np.sort(shapely.area(faces.face_geom))
    # the bridge cuts the square into two 100 x 200 halves (plus the small triangle at 4)
    assert len(areas) >= 3
    assert np.sum(np.isclose(areas, 100 * 200)) == 2
    total = shapely.area(faces.face_geom).sum()
    frame = shapely.buffer(shapely.envelope(shapely.multilinestrings(faces.piece_geom)), 110, join_style="mitre")
    assert total == pytest.approx(shapely.area(frame))
    # the bridge's pieces keep their positions along it: split where it crosses y=0 and y=200
    ids = list(net.node_ids)
    bridge = np.flatnonzero((net.edge_u == ids.index(4)) & (net.edge_v == ids.index(5)))
    bridge = np.r_[bridge, np.flatnonzero((net.edge_u == ids.index(5)) & (net.edge_v == ids.index(4)))]
    on = np.isin(faces.piece_edge, bridge)
    cuts = sorted(zip(faces.piece_a[on].round(6), faces.piece_b[on].round(6), strict=True))
    assert cuts == [(0.0, 50.0), (50.0, 250.0), (250.0, 300.0)]
    lengths = shapely.length(faces.piece_geom[on])
    assert sorted(lengths.round(6)) == [50.0, 50.0, 200.0]
    # every piece runs the way of its edge, from position a to b
    start = shapely.line_interpolate_point(net.edge_geom[faces.piece_edge], faces.piece_a)
    end = shapely.line_interpolate_point(net.edge_geom[faces.piece_edge], faces.piece_b)
    assert (shapely.distance(start, shapely.get_point(faces.piece_geom, 0)) < 1e-9).all()
    assert (shapely.distance(end, shapely.get_point(faces.piece_geom, -1)) < 1e-9).all()


def tricky_lines():
    """A noded, connected street arrangement with every awkward case of a real city."""
    lines = []
    for i in range(4):  # a 3 x 3 grid of 100 m blocks
        lines += [L([(0, 100 * i), (100, 100 * i)]), L([(100, 100 * i), (200, 100 * i)])]
        lines += [L([(200, 100 * i), (300, 100 * i)])]
        lines += [L([(100 * i, 0), (100 * i, 100)]), L([(100 * i, 100), (100 * i, 200)])]
        lines += [L([(100 * i, 200), (100 * i, 300)])]
    lines += [L([(0, 0), (20, 30), (40, 10)])]  # a dead end bending inside block (0, 0)
    lines += [L([(40, 10), (50, 20)])]  # ... and branching
    lines += [L([(100, 100), (130, 130)])]  # block (1, 1): a path to a hanging loop
    lines += [L([(130, 130), (170, 130), (170, 170), (130, 170), (130, 130)])]
    lines += [L([(200, 0), (220, 40), (250, 40), (200, 0)])]  # block (2, 0): a loop on its own corner
    lines += [L([(300, 100), (400, 100)])]  # a bridge street to a block outside the grid
    lines += [L([(400, 100), (500, 100), (500, 200), (400, 200), (400, 100)])]
    lines += [L([(100, 200), (120, 260), (150, 280), (200, 300)])]  # a curved street across block (1, 2)
    lines += [L([(0, 300), (-30, 330), (0, 360), (30, 330), (0, 300)])]  # a closed loop on a corner
    return np.array(lines, dtype=object)


def geos_faces(lines, frame):
    parts = shapely.get_parts(shapely.polygonize(np.r_[lines, [shapely.box(*frame).exterior]]))
    return parts


def test_planar_faces_equal_geos_polygonize():
    lines = tricky_lines()
    assert not crossing_edges(lines).any()
    frame = np.array([-200.0, -200.0, 700.0, 500.0])
    faces, pair_line, pair_face = planar_faces(lines, frame)
    expected = geos_faces(lines, frame)
    assert len(faces) == len(expected)
    assert shapely.is_valid(faces).all()
    for face in faces:
        twin = expected[shapely.contains(expected, shapely.point_on_surface(face))]
        assert len(twin) == 1 and shapely.equals(face, twin[0]), face.wkt
    # which lines bound which faces: as a spatial query finds them
    mid = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    f, p = shapely.STRtree(mid).query(faces, predicate="dwithin", distance=1e-6)
    assert sorted(zip(pair_line, pair_face, strict=True)) == sorted(zip(p, f, strict=True))


def test_planar_faces_equal_geos_on_a_real_network(sample):
    net = prepare(sample.graph)
    pieces = street_faces(net, 25.0, 4).piece_geom
    frame = np.asarray(shapely.total_bounds(pieces)) + np.array([-110.0, -110.0, 110.0, 110.0])
    got, _, _ = planar_faces(pieces, frame)
    expected = geos_faces(pieces, frame)
    assert len(got) == len(expected)
    assert shapely.is_valid(got).all()
    order = np.argsort(shapely.area(got))
    assert np.allclose(shapely.area(got)[order], np.sort(shapely.area(expected)), rtol=1e-9, atol=1e-6)
    hit = shapely.STRtree(expected).query(shapely.point_on_surface(got), predicate="within")
    assert len(np.unique(hit[0])) == len(got)
    assert shapely.equals(got[hit[0]], expected[hit[1]]).all()


def test_faces_are_joined_across_streets_that_give_no_land(sample):
    net = prepare(sample.graph)
    faces = street_faces(net, 25.0, 4)
    blocked = ~net.edge_enterable[faces.piece_edge]
    assert blocked.any()  # the sample's tunnels
    assert shapely.is_valid(faces.face_geom).all()
    # the joined faces still tile the frame: no land lost or counted twice
    frame = shapely.box(*shapely.total_bounds(faces.face_geom))
    assert shapely.area(faces.face_geom).sum() == pytest.approx(frame.area, rel=1e-9)
    # a blocked piece bounds two different faces (a block and the outer face) or none
    sides = np.diff(faces.piece_faces.indptr)
    assert set(sides[blocked].tolist()) <= {0, 2}
    assert (sides[~blocked] >= 1).all()


def test_planar_faces_of_a_tree_is_the_frame():
    lines = np.array([L([(0, 0), (10, 0)]), L([(10, 0), (10, 10)]), L([(10, 0), (20, 0)])], dtype=object)
    faces, pair_line, pair_face = planar_faces(lines, np.array([-5.0, -5.0, 25.0, 15.0]))
    assert len(faces) == 1 and faces[0].equals(shapely.box(-5, -5, 25, 15))
    assert pair_line.tolist() == [0, 1, 2] and pair_face.tolist() == [0, 0, 0]


def test_planar_faces_edge_cases():
    frame = np.array([-5.0, -5.0, 15.0, 15.0])
    faces, pair_line, pair_face = planar_faces(np.array([], dtype=object), frame)
    assert len(faces) == 1 and faces[0].equals(shapely.box(*frame)) and len(pair_line) == 0
    # -0.0 and 0.0 are one vertex: a square split down the middle at x = ±0
    lines = [L([(-1, -1), (0.0, -1)]), L([(-0.0, -1), (1, -1)]), L([(1, -1), (1, 1)]), L([(1, 1), (-0.0, 1)])]
    lines += [L([(0.0, 1), (-1, 1)]), L([(-1, 1), (-1, -1)]), L([(0.0, -1), (-0.0, 1)])]
    faces, _, _ = planar_faces(np.array(lines, dtype=object), frame)
    assert sorted(shapely.area(faces).round(9))[:2] == [2.0, 2.0]
    # vertices come back exactly, also far from the coordinates' mean
    ring = np.array([L([(0, 0), (10, 0), (0.1, 7.3), (0, 0)])], dtype=object)
    faces, _, _ = planar_faces(ring, frame)
    assert {tuple(c) for c in shapely.get_coordinates(ring[0])} <= {tuple(c) for c in shapely.get_coordinates(faces)}


def test_zero_length_edges_and_loop_ways_in_street_faces():
    """A node joined to its twin by a zero-length edge, and a loop way crossed by a path."""
    x0, y0 = 500000.0, 3400000.0
    coords = {0: (x0, y0), 1: (x0 + 100, y0), 2: (x0 + 100, y0 + 100), 3: (x0, y0 + 100), 9: (x0, y0)}
    coords |= {5: (x0 + 50, y0 - 50), 6: (x0 + 50, y0 + 150)}
    graph = make_graph([], coords)
    loop = shapely.LineString([coords[0], coords[1], coords[2], coords[3], coords[0]])
    for u, v, geom in ((0, 0, loop), (0, 0, loop.reverse())):
        graph.add_edge(u, v, length=400.0, walk_s=400.0, geometry=geom)
    for u, v in ((0, 9), (9, 0), (5, 6), (6, 5)):
        geom = shapely.LineString([coords[u], coords[v]])
        graph.add_edge(u, v, length=geom.length, walk_s=geom.length, geometry=geom)
    graph.add_edge(5, 0, length=70.7, walk_s=70.7, geometry=shapely.LineString([coords[5], coords[0]]))
    graph.add_edge(0, 5, length=70.7, walk_s=70.7, geometry=shapely.LineString([coords[0], coords[5]]))
    net = prepare(graph)
    faces = street_faces(net, 25.0, 4)
    # the path halves the loop; with the spur to its corner it closes a triangle below
    assert np.isclose(np.sort(shapely.area(faces.face_geom))[:3], [1250.0, 5000.0, 5000.0]).all()
    # every piece runs the way of its edge, from position a to b (the loop's closing
    # side lies at 300..400 m, not at 0)
    start = shapely.line_interpolate_point(net.edge_geom[faces.piece_edge], faces.piece_a)
    end = shapely.line_interpolate_point(net.edge_geom[faces.piece_edge], faces.piece_b)
    assert (shapely.distance(start, shapely.get_point(faces.piece_geom, 0)) < 1e-6).all()
    assert (shapely.distance(end, shapely.get_point(faces.piece_geom, -1)) < 1e-6).all()
    assert np.isclose(faces.piece_b - faces.piece_a, shapely.length(faces.piece_geom)).all()
