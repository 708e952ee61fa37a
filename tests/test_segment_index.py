"""The snapping index (arrays and a k-d tree) against GEOS distances to every line."""

import numpy as np
import pytest
import shapely

from dz_gis.network.segments import segment_index


def _lines(seed: int, m: int = 300):
    """Straight edges between random nodes, some given shapes (bends, long runs, 3-D, zero length)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2000, size=(400, 2))
    u, v = rng.integers(0, len(xy), m), rng.integers(0, len(xy), m)
    u[:5] = v[:5]  # zero-length edges
    given = np.full(m, None, dtype=object)
    for i in rng.choice(m, m // 3, replace=False):
        k = int(rng.integers(1, 6))
        inner = xy[u[i]] + rng.normal(0, 150, size=(k, 2))
        coords = np.vstack([xy[u[i]], inner, xy[v[i]]])
        if i % 2:
            coords = np.column_stack([coords, rng.uniform(200, 400, len(coords))])
        given[i] = shapely.linestrings(coords)
    return xy, u, v, given


def _geos(xy, u, v, given):
    lines = given.copy()
    straight = shapely.is_missing(lines)
    lines[straight] = shapely.linestrings(np.stack([xy[u[straight]], xy[v[straight]]], axis=1))
    return shapely.force_2d(lines)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_and_within_match_geos_on_every_line(seed):
    xy, u, v, given = _lines(seed)
    index = segment_index(xy, u, v, given, piece_m=25.0)
    lines = _geos(xy, u, v, given)
    rng = np.random.default_rng(seed + 10)
    pts = np.vstack([rng.uniform(-300, 2300, size=(500, 2)), xy[:50]])  # some exactly on nodes
    dist = shapely.distance(shapely.points(pts)[:, None], lines[None, :])  # (points, lines)

    line, d = index.nearest(pts)
    np.testing.assert_allclose(d, dist.min(axis=1), atol=1e-7)
    np.testing.assert_allclose(dist[np.arange(len(pts)), line], d, atol=1e-7)  # the line named is that near

    radius = rng.uniform(0, 120, len(pts))
    p, hit, dd = index.within(pts, radius)
    want_p, want_l = np.nonzero(dist <= radius[:, None] + 1e-9)
    close = np.abs(dist[want_p, want_l] - radius[want_p]) < 1e-6  # a hair's breadth: either answer
    got = set(zip(p.tolist(), hit.tolist(), strict=True))
    assert set(zip(want_p[~close].tolist(), want_l[~close].tolist(), strict=True)) <= got
    assert got <= set(zip(want_p.tolist(), want_l.tolist(), strict=True))
    np.testing.assert_allclose(dd, dist[p, hit], atol=1e-7)
    assert (np.diff(p) >= 0).all() and len(got) == len(p)  # one row per pair, by point


def test_nearest_of_the_allowed_lines_only():
    xy, u, v, given = _lines(5)
    index = segment_index(xy, u, v, given)
    lines = _geos(xy, u, v, given)
    allowed = np.zeros(len(u), dtype=bool)
    allowed[::17] = True  # a few, far apart: the search must widen
    pts = np.random.default_rng(3).uniform(0, 2000, size=(200, 2))
    dist = shapely.distance(shapely.points(pts)[:, None], lines[None, allowed])
    line, d = index.nearest(pts, allowed=allowed)
    assert allowed[line].all()
    np.testing.assert_allclose(d, dist.min(axis=1), atol=1e-7)
    none = index.nearest(pts[:3], allowed=np.zeros(len(u), dtype=bool))
    assert (none[0] == -1).all() and np.isinf(none[1]).all()


def test_a_long_straight_street_is_found_from_its_middle():
    """A 5 km edge without vertices: the point beside its middle is 900 m from its ends."""
    xy = np.array([[0.0, 0.0], [5000.0, 0.0], [2500.0, 900.0], [2600.0, 950.0]])
    index = segment_index(xy, np.array([0, 2]), np.array([1, 3]), None)
    line, d = index.nearest(np.array([[2500.0, 10.0]]))
    assert line.tolist() == [0] and d[0] == pytest.approx(10.0)
    p, hit, _ = index.within(np.array([[2500.0, 10.0]]), 20.0)
    assert hit.tolist() == [0]


def test_no_points_no_pairs():
    xy, u, v, given = _lines(7, m=20)
    index = segment_index(xy, u, v, given)
    p, hit, d = index.within(np.zeros((0, 2)), 10.0)
    assert len(p) == len(hit) == len(d) == 0
    line, dist = index.nearest(np.zeros((0, 2)))
    assert len(line) == len(dist) == 0
