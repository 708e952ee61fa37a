"""Street pieces joined into chains cover the same lines, in fewer parts."""

import numpy as np
import shapely

from dz_gis.access._chains import chains


def grid_lines(n: int = 6, step: float = 100.0) -> np.ndarray:
    """Every block side of an n × n grid as its own 2-point line (4 meet at each crossing)."""
    lines = []
    for i in range(n):
        for j in range(n - 1):
            lines.append(shapely.LineString([(i * step, j * step), (i * step, (j + 1) * step)]))
            lines.append(shapely.LineString([(j * step, i * step), ((j + 1) * step, i * step)]))
    return np.array(lines, dtype=object)


def same_lines(a: shapely.Geometry, b: np.ndarray) -> bool:
    union = shapely.union_all(b)
    return shapely.symmetric_difference(a, union).length < 1e-6


def test_a_grid_becomes_its_straight_streets():
    lines = grid_lines()
    joined = chains(lines)
    assert same_lines(joined, lines)
    parts = shapely.get_parts(joined)
    assert len(parts) <= 12  # 60 block sides; at most the 12 straight streets
    for part in parts:  # at a crossing of four, a chain goes straight through
        xy = shapely.get_coordinates(part)
        inner = (xy[1:-1] > 0).all(axis=1) & (xy[1:-1] < 500).all(axis=1)
        d0, d1 = xy[1:-1] - xy[:-2], xy[2:] - xy[1:-1]
        turn = d0[:, 0] * d1[:, 1] - d0[:, 1] * d1[:, 0]
        assert (turn[inner] == 0).all()


def test_reversed_pieces_dead_ends_odd_vertices_and_loops():
    rng = np.random.default_rng(1)
    lines = list(grid_lines(4))
    lines = [shapely.reverse(g) if rng.random() < 0.5 else g for g in lines]
    lines += [
        shapely.LineString([(0, 0), (-50, -30), (-80, 10)]),  # a bent dead end at a corner (odd degree)
        shapely.LineString([(100, 100), (130, 140), (160, 100), (100, 100)]),  # a loop back to its own node
        shapely.LineString([(-0.0, 300.0), (-40.0, 340.0)]),  # -0.0 is the grid's 0.0
        shapely.LineString([(500, 500), (600, 500)]),  # alone
    ]
    lines = np.array(lines, dtype=object)
    joined = chains(lines)
    assert same_lines(joined, lines)
    assert len(shapely.get_parts(joined)) < len(lines) / 2
    # the buffer is the same land (round joins and caps are the same arcs, cut into chords)
    a = shapely.buffer(joined, 25.0, quad_segs=4)
    b = shapely.union_all(shapely.buffer(lines, 25.0, quad_segs=4))
    assert shapely.symmetric_difference(a, b).area < 1e-3 * b.area


def test_closed_chain_of_pieces():
    square = [(0, 0), (10, 0), (10, 10), (0, 10)]
    sides = zip(square, square[1:] + square[:1], strict=True)
    lines = np.array([shapely.LineString([p, q]) for p, q in sides], dtype=object)
    joined = chains(lines)
    parts = shapely.get_parts(joined)
    assert len(parts) == 1 and shapely.get_num_coordinates(parts[0]) == 5
    assert same_lines(joined, lines)
