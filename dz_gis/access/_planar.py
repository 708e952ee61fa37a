"""Faces of a noded, connected line arrangement by walking its half-edges, in NumPy.

Written by hand because GEOS ``polygonize`` (the library way) costs ~2 s on a
200,000-node street graph, holds the GIL all that time, and does not say which lines
bound which face (a spatial query afterwards costs another second). Walking half-edges
gives both at once: each line is two half-edges; around every vertex they are sorted by
angle; the half-edge after ``h`` is the one clockwise next to ``h``'s twin at ``h``'s end,
which keeps the face on the left. The cycles of that permutation are the faces' boundary
walks. Simple walks become polygons directly; the few that are not simple rings once
dead ends are dropped (a loop hanging on a path inside a block, a block touching itself
at a corner, and the outer boundary) go to GEOS ``polygonize`` one by one.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .._arrays import unique_ints


def planar_faces(lines: np.ndarray, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces of ``lines`` inside the rectangle ``frame`` (xmin, ymin, xmax, ymax).

    ``lines`` must meet only at their end points and form one connected arrangement.

    Returns
    -------
    faces
        Polygons; together they tile the frame.
    pair_line, pair_face
        Which lines bound (or lie inside) which face: one pair per side, one pair for a
        line with the same face on both sides (a dead end).
    """
    # long: one half-edge walk, read top to bottom; split up, each piece would pass a dozen
    # parallel arrays (vertices, half-edges, successors, cycles) to the next.
    lines = shapely.remove_repeated_points(lines, 0.0)
    n = len(lines)
    if n == 0:
        return np.array([shapely.box(*frame)], dtype=object), np.zeros(0, np.int64), np.zeros(0, np.int64)
    raw, owner = shapely.get_coordinates(lines, return_index=True)
    raw = raw + 0.0  # -0.0 and 0.0 are one vertex
    coords = raw - raw.mean(axis=0)  # the shoelace sums below keep their precision
    first = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    last = np.r_[first[1:] - 1, len(owner) - 1]

    # half-edge 2i runs along line i, 2i+1 against it; twin(h) = h ^ 1
    start = np.empty(2 * n, dtype=np.int64)
    start[0::2], start[1::2] = first, last
    step = np.tile(np.array([1, -1]), n)
    count = np.repeat(last - first, 2)  # segments per half-edge
    direction = coords[start + step] - coords[start]
    angle = np.arctan2(direction[:, 1], direction[:, 0])
    vertex = vertex_ids(np.vstack([raw[first], raw[last]]))
    origin = np.empty(2 * n, dtype=np.int64)
    origin[0::2], origin[1::2] = vertex[:n], vertex[n:]

    # around each vertex, counter-clockwise; the successor of h is the half-edge just
    # clockwise of twin(h) around h's end vertex
    order = np.lexsort((angle, origin))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    group_start = np.r_[0, np.flatnonzero(np.diff(origin[order])) + 1]
    group_size = np.diff(np.r_[group_start, len(order)])
    group_of = np.repeat(np.arange(len(group_start)), group_size)
    twin_pos = position[np.arange(2 * n) ^ 1]
    g = group_of[twin_pos]
    successor = order[group_start[g] + (twin_pos - group_start[g] - 1) % group_size[g]]

    n_cycles, labels = connected_components(
        sparse.csr_matrix((np.ones(2 * n, dtype=np.int8), (np.arange(2 * n), successor)), shape=(2 * n, 2 * n)),
        directed=True,
        connection="weak",
    )
    cycle = labels.astype(np.int64)
    # signed area of each walk: every half-edge adds the shoelace sum of its own segments
    x, y = coords[:, 0], coords[:, 1]
    seg = np.r_[x[:-1] * y[1:] - x[1:] * y[:-1], 0.0]
    seg[last] = 0.0  # no segment joins one line to the next
    cum = np.r_[0.0, np.cumsum(seg)]
    line_area = 0.5 * (cum[last] - cum[first])
    half_area = np.empty(2 * n)
    half_area[0::2], half_area[1::2] = line_area, -line_area
    area = np.bincount(cycle, weights=half_area, minlength=n_cycles)

    dead = cycle == cycle[np.arange(2 * n) ^ 1]  # both sides in one walk: a dead end (or a bridge)
    rank = _rank_in_cycles(successor, cycle, n_cycles)
    keep = np.flatnonzero(~dead)
    keep = keep[np.lexsort((rank[keep], cycle[keep]))]
    walk = cycle[keep]
    # a walk is a simple ring when, without its dead ends, each half-edge starts where
    # the previous one ended and no vertex comes twice
    end_vertex = origin[np.arange(2 * n) ^ 1]
    walk_first = np.r_[0, np.flatnonzero(np.diff(walk)) + 1] if len(walk) else np.zeros(0, dtype=np.int64)
    prev = np.arange(len(keep)) - 1
    prev[walk_first] = np.r_[walk_first[1:], len(keep)] - 1  # cyclic within each walk
    broken = end_vertex[keep[prev]] != origin[keep]
    complex_cycle = np.zeros(n_cycles, dtype=bool)
    complex_cycle[walk[broken]] = True
    span = int(origin.max(initial=0)) + 1
    visits = unique_ints(walk * span + origin[keep])  # (walk, vertex) pairs, once each
    repeated = np.bincount(visits // span, minlength=n_cycles) < np.bincount(walk, minlength=n_cycles)
    complex_cycle |= repeated
    outer = int(np.argmin(area)) if n_cycles else -1
    complex_cycle[outer] = True
    complex_cycle |= area <= 0  # defensive: only the outer walk should be
    has_edges = np.bincount(walk, minlength=n_cycles) > 0

    # simple walks: rings straight from the coordinates, in walk order
    simple = has_edges & ~complex_cycle
    take = keep[simple[walk]]
    k = ranges(np.zeros(len(take), dtype=np.int64), count[take])
    pts = np.repeat(start[take], count[take]) + np.repeat(step[take], count[take]) * k
    ring_of = np.repeat(cycle[take], count[take])
    face_ids = np.full(n_cycles, -1, dtype=np.int64)
    simple_ids = np.flatnonzero(simple)
    face_ids[simple_ids] = np.arange(len(simple_ids))
    rings = shapely.linearrings(raw[pts], indices=np.searchsorted(simple_ids, ring_of))
    faces = list(shapely.polygons(rings))

    # the others, one by one
    for c in np.flatnonzero(complex_cycle):
        own = unique_ints(keep[walk == c] // 2)
        if c != outer and not len(own):
            continue
        if c == outer:
            box = shapely.box(*frame)
            parts = shapely.get_parts(shapely.polygonize(np.r_[lines[own], [box.exterior]]))
            hit = parts[(shapely.bounds(parts) == frame).all(axis=1)]  # the box's own numbers
            face = hit[0] if len(hit) else box
        else:
            parts = shapely.get_parts(shapely.polygonize(lines[own]))
            face = _pick(parts, keep[walk == c], raw, start, step, area[c])
        face_ids[c] = len(faces)
        faces.append(face)

    face_of_half = face_ids[cycle]
    pair_line = np.r_[np.arange(n), np.flatnonzero(~dead[0::2])]
    pair_face = np.r_[face_of_half[0::2], face_of_half[1::2][~dead[0::2]]]
    return np.asarray(faces, dtype=object), pair_line, pair_face


def ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``np.r_[starts[0]:stops[0], ...]`` without a Python loop."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.cumsum(np.concatenate(([0], lengths[:-1]))), lengths) + np.arange(total)


def vertex_ids(points: np.ndarray) -> np.ndarray:
    """The same id for exactly equal points."""
    view = np.ascontiguousarray(points).view(np.dtype((np.void, 16))).ravel()
    _, ids = np.unique(view, return_inverse=True)
    return ids.ravel()


def _rank_in_cycles(successor: np.ndarray, cycle: np.ndarray, n_cycles: int) -> np.ndarray:
    """Position of each half-edge along its walk (list ranking by pointer jumping)."""
    m = len(successor)
    head = np.full(n_cycles, m, dtype=np.int64)
    np.minimum.at(head, cycle, np.arange(m))
    nxt = successor.copy()
    nxt[successor == head[cycle]] = -1  # cut each walk before its head
    to_end = (nxt >= 0).astype(np.int64)
    while True:
        live = nxt >= 0
        if not live.any():
            break
        safe = np.where(live, nxt, 0)
        to_end = np.where(live, to_end + to_end[safe], to_end)
        nxt = np.where(live, nxt[safe], -1)
    return -to_end  # the head is farthest from the end


def _pick(parts, halves, coords, start, step, area) -> shapely.Geometry:
    """Of the polygons GEOS made from a walk's lines, the one on the walk's left."""
    if len(parts) == 1:
        return parts[0]
    h = halves[0]
    a, b = coords[start[h]], coords[start[h] + step[h]]
    d = b - a
    length = float(np.hypot(*d))
    probe = shapely.Point(*(a + d / 2 + np.array([-d[1], d[0]]) / length * min(1e-3, length * 1e-3)))
    inside = [p for p in parts if p.contains(probe)]
    if inside:
        return inside[0]
    return parts[int(np.argmin(np.abs(shapely.area(parts) - area)))]
