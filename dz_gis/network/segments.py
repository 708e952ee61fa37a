"""A spatial index of street segments in NumPy arrays: which streets lie near a point.

Snapping asks two questions of the streets a point may join: the nearest one, and every
one within a distance. A GEOS ``STRtree`` answers both, but needs a LineString object for
every street (about 300 MB at a million nodes, most of it for straight edges that are only
two node coordinates). This index keeps the streets as arrays instead: each segment is
two rows of a coordinate table (the nodes' own coordinates for straight edges, the
vertices of the others), and a k-d tree (``scipy.spatial.cKDTree``) holds the midpoints
of the segments cut into pieces no longer than :data:`PIECE_M`.

Written here rather than taken from a library: scipy's tree indexes points, not
segments, and shapely's indexes geometry objects. The search is the textbook one: a
segment within ``d`` of a point has a piece whose midpoint lies within ``d + h`` (``h``
the longest half-piece), so the tree's ball of that radius holds every candidate, and the
exact point-to-segment distance (projection clamped to the segment, as GEOS computes it)
decides.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

__all__ = ["MIN_PIECE_M", "PIECE_M", "SegmentIndex", "segment_index"]

#: Long segments are indexed as pieces no longer than this (metres), so a search ball need
#: only be half of it wider than the distance asked about. Shorter where most segments are
#: (twice their median length, at least :data:`MIN_PIECE_M`): dense sidewalk networks keep
#: small balls, and a street grid about one piece per segment.
PIECE_M = 100.0
MIN_PIECE_M = 10.0

#: Points are searched this many at a time (bounds the candidate pairs held at once).
_CHUNK = 1 << 12


@dataclass(frozen=True)
class SegmentIndex:
    """Straight segments of a set of lines, with a tree over the midpoints of their pieces."""

    coords: np.ndarray  #: (k, 2) vertex coordinates
    seg_a: np.ndarray  #: row of ``coords`` where each segment starts
    seg_b: np.ndarray  #: ... and ends
    seg_line: np.ndarray  #: the line (0..m-1) each segment belongs to
    piece_seg: np.ndarray  #: the segment each indexed piece lies on
    tree: cKDTree  #: over the pieces' midpoints
    half: float  #: the longest half-piece: a piece's points lie within this of its midpoint

    def distance(self, point_xy: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Distance from each point to the segment paired with it."""
        a, b = self.coords[self.seg_a[seg]], self.coords[self.seg_b[seg]]
        ab, ap = b - a, point_xy - a
        den = np.einsum("ij,ij->i", ab, ab)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(den > 0, np.einsum("ij,ij->i", ap, ab) / den, 0.0)
        t = np.clip(t, 0.0, 1.0)
        return np.hypot(ap[:, 0] - t * ab[:, 0], ap[:, 1] - t * ab[:, 1])

    def within(self, xy: np.ndarray, dist: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (point, line) pair with the line within ``dist`` of the point, and its distance.

        Sorted by point, then line; one row per pair however many of the line's segments
        are near.
        """
        dist = np.broadcast_to(np.asarray(dist, dtype=float), (len(xy),))
        out_p, out_l, out_d = [np.zeros(0, dtype=np.int64)], [self.seg_line[:0]], [np.zeros(0)]
        for lo in range(0, len(xy), _CHUNK):
            p, piece = self._ball(xy[lo : lo + _CHUNK], dist[lo : lo + _CHUNK] + self.half)
            seg = self.piece_seg[piece]
            d = self.distance(xy[lo + p], seg)
            keep = d <= dist[lo + p]
            p, line, d = p[keep] + lo, self.seg_line[seg[keep]], d[keep]
            p, line, d = _closest_per_pair(p, line, d)
            out_p.append(p)
            out_l.append(line)
            out_d.append(d)
        return np.concatenate(out_p), np.concatenate(out_l), np.concatenate(out_d)

    def nearest(self, xy: np.ndarray, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The nearest line to each point (of the ``allowed`` ones, a mask over lines) and its distance.

        Ties go to the lowest line number. Every point gets an answer while any line is
        allowed; otherwise the lines are -1 and the distances infinite.
        """
        line = np.full(len(xy), -1, dtype=np.int64)
        best = np.full(len(xy), np.inf)
        if len(self.piece_seg) == 0 or (allowed is not None and not allowed.any()):
            return line, best
        # the segment of the nearest midpoint is no farther than the nearest line: every line
        # within that distance is a candidate, and ``within`` finds them all
        _, piece = self.tree.query(xy)
        radius = self.distance(xy, self.piece_seg[piece])
        todo = np.arange(len(xy))
        while len(todo):
            p, near, d = self.within(xy[todo], radius[todo])
            if allowed is not None:  # none allowed in the ball: search a wider one
                keep = allowed[near]
                p, near, d = p[keep], near[keep], d[keep]
            order = np.lexsort((near, d, p))  # by point, nearest first, ties to the lowest line
            p, near, d = p[order], near[order], d[order]
            first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, dtype=bool)
            p, near, d = p[first], near[first], d[first]
            line[todo[p]], best[todo[p]] = near, d
            missing = np.ones(len(todo), dtype=bool)
            missing[p] = False
            todo = todo[missing]
            radius[todo] = np.maximum(2.0 * radius[todo], 2.0 * self.half + 1.0)
        return line, best

    def _ball(self, xy: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, piece) pairs with the piece's midpoint within ``radius`` of the point."""
        hits = self.tree.query_ball_point(xy, radius, return_sorted=False)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        piece = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64, count=int(counts.sum()))
        return np.repeat(np.arange(len(xy)), counts), piece


def _closest_per_pair(p: np.ndarray, line: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per (point, line): the smallest distance; sorted by point, then line."""
    order = np.lexsort((d, line, p))
    p, line, d = p[order], line[order], d[order]
    first = np.r_[True, (p[1:] != p[:-1]) | (line[1:] != line[:-1])] if len(p) else np.zeros(0, dtype=bool)
    return p[first], line[first], d[first]


def segment_index(
    xy: np.ndarray, u: np.ndarray, v: np.ndarray, lines: np.ndarray | None, *, piece_m: float | None = None
) -> SegmentIndex:
    """Index ``m`` lines between nodes (rows of ``xy``), numbered 0..m-1.

    Line ``i`` runs from node ``u[i]`` to ``v[i]``: straight where ``lines`` is None or
    missing there, along ``lines[i]`` otherwise (its own vertices, in 2-D). Pieces are at
    most ``piece_m`` long (default: see :data:`PIECE_M`).
    """
    m = len(u)
    shaped = np.zeros(m, dtype=bool) if lines is None else ~shapely.is_missing(lines)
    straight = np.flatnonzero(~shaped)
    vert = np.zeros((0, 2))
    given = np.flatnonzero(shaped)
    start = owner = np.zeros(0, dtype=np.int64)
    if len(given) and lines is not None:
        vert, owner = shapely.get_coordinates(lines[given], return_index=True)
        start = np.flatnonzero(np.r_[owner[1:] == owner[:-1], False])  # vertex k starts a segment to k + 1
    base = len(xy)
    coords = np.concatenate([np.asarray(xy[:, :2], dtype=float), vert])
    row = np.int32 if len(coords) < 2**31 else np.int64  # half the memory on any city
    seg_a = np.concatenate([u[straight], base + start]).astype(row)
    seg_b = np.concatenate([v[straight], base + start + 1]).astype(row)
    seg_line = np.concatenate([straight, given[owner[start]]]).astype(row)
    a, b = coords[seg_a], coords[seg_b]
    length = np.hypot(*(b - a).T)
    if piece_m is None:
        piece_m = float(np.clip(2.0 * np.median(length), MIN_PIECE_M, PIECE_M)) if len(length) else PIECE_M
    pieces = np.maximum(np.ceil(length / piece_m), 1).astype(np.int64)
    piece_seg = np.repeat(np.arange(len(seg_a), dtype=row), pieces)
    # the j-th of k pieces has its midpoint at (j + 1/2) / k along the segment
    first = np.cumsum(pieces) - pieces
    frac = (np.arange(len(piece_seg)) - first[piece_seg] + 0.5) / pieces[piece_seg]
    mid = a[piece_seg] + frac[:, None] * (b - a)[piece_seg]
    half = float((length / pieces).max(initial=0.0) / 2.0)
    if len(mid) == 0:
        mid = np.zeros((0, 2))
    # the half-piece is widened by a hair so rounding in the midpoints never drops a segment
    return SegmentIndex(
        coords=coords,
        seg_a=seg_a,
        seg_b=seg_b,
        seg_line=seg_line,
        piece_seg=piece_seg,
        tree=cKDTree(mid, balanced_tree=False, compact_nodes=False),
        half=half * (1 + 1e-9) + 1e-9,
    )
