"""Isochrone polygons from node times: the reached street pieces, faces and their union.

Private to :mod:`dz_gis.access.isochrones` (whose docstring explains the method). The faces
and the land of each face near its streets come from :mod:`dz_gis.access._faces`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from .._arrays import unique_ints
from ..network.prepared import PreparedNetwork
from ..network.snap import time_fraction
from ._chains import chains
from ._faces import StreetFaces, with_holes
from ._planar import ranges

BUFFER_QUAD_SEGS = 4


@dataclass(frozen=True)
class NodeTimes:
    """Seconds from some graph nodes to a facility; nodes not listed were not reached.

    Keeps a search local: a city graph has hundreds of thousands of nodes, a 15-minute
    search reaches a few thousand.
    """

    nodes: np.ndarray  #: node rows
    secs: np.ndarray  #: seconds, aligned with ``nodes``
    position: np.ndarray | None = None  #: node row -> index in ``nodes`` (-1: absent); None: all nodes in order

    def within(self, band_s: float) -> np.ndarray:
        """Node rows reached within ``band_s`` seconds."""
        return self.nodes[self.secs <= band_s]

    def at(self, rows: np.ndarray) -> np.ndarray:
        """Seconds at node ``rows`` (inf where not reached)."""
        if self.position is None:
            return self.secs[rows]
        where = self.position[rows]
        out = np.full(len(rows), np.inf)
        ok = where >= 0
        out[ok] = self.secs[where[ok]]
        return out


def _reach(net: PreparedNetwork, edges: np.ndarray, length: np.ndarray, budget_u: np.ndarray, budget_v: np.ndarray):
    """Furthest position reached from u (``su``) and nearest position reached from v (``sv``)."""
    w = net.edge_s[edges]
    rev = net.edge_rev[edges]
    wr = np.where(rev >= 0, net.edge_s[np.maximum(rev, 0)], np.inf)
    if net.slope_model == "flat":
        with np.errstate(divide="ignore", invalid="ignore"):
            su = np.where(wr > 0, budget_u / wr, np.inf) * length
            sv = length * (1.0 - np.where(w > 0, budget_v / w, np.inf))
        su = np.where(budget_u < 0, -np.inf, su)
        sv = np.where(budget_v < 0, np.inf, sv)
        return su, sv
    su = np.full(len(edges), -np.inf)
    sv = np.full(len(edges), np.inf)
    for k in range(len(edges)):
        L = length[k]
        grid = np.linspace(0.0, L, 65)
        if budget_u[k] >= 0 and rev[k] >= 0:
            to_u = wr[k] * (1.0 - time_fraction(net, np.full(65, rev[k]), L - grid))
            su[k] = np.interp(budget_u[k], to_u, grid) if budget_u[k] < to_u[-1] else np.inf
        if budget_v[k] >= 0:
            to_v = w[k] * (1.0 - time_fraction(net, np.full(65, edges[k]), grid))
            sv[k] = np.interp(-budget_v[k], -to_v, grid) if budget_v[k] < to_v[0] else -np.inf
    return su, sv


def _substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised ``shapely.ops.substring`` for start < end (shapely has no array version)."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    seg = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    # np.concatenate, not np.r_, on this per-polygon path: np.r_ costs ~15 us a call
    same = idx[1:] == idx[:-1]
    cum = np.concatenate(([0.0], np.cumsum(np.where(same, seg, 0.0))))
    first = np.concatenate(([0], np.flatnonzero(~same) + 1))
    cum = cum - np.repeat(cum[first], np.diff(np.concatenate((first, [len(idx)]))))
    inner = (cum > start[idx]) & (cum < end[idx])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    n = len(geoms)
    all_xy = np.vstack([p0, coords[inner], p1])
    all_idx = np.concatenate((np.arange(n), idx[inner], np.arange(n)))
    all_key = np.concatenate((np.full(n, -1.0), cum[inner], np.full(n, np.inf)))
    order = np.lexsort((all_key, all_idx))
    return shapely.linestrings(all_xy[order], indices=all_idx[order])


def band_polygons(
    net: PreparedNetwork,
    faces: StreetFaces,
    times: NodeTimes,
    bands_s: Sequence[float],
    own: list[tuple[int, float, float]],
) -> list[shapely.Geometry]:
    """Isochrone polygons for node ``times``, one per band (seconds, ascending).

    ``own`` lists the facilities' own edges as (edge, position m, snap walk s). All work
    is on the pieces around reached nodes, never on arrays of the whole graph; what does
    not depend on the band (pieces, their end times, own-edge profiles) is done once.
    """
    top = bands_s[-1]
    own = [o for o in own if o[2] <= top]
    pieces = faces.pieces_at_nodes(times.within(top))
    if own:
        pieces = np.r_[pieces, faces.pieces_on_edges(np.array([o[0] for o in own]))]
    pieces = unique_ints(pieces)
    fragments = _fragment_land(net, times, own, bands_s, faces.offset_m)
    if len(pieces) == 0:
        return fragments
    edge = faces.piece_edge[pieces]
    a, b = faces.piece_a[pieces], faces.piece_b[pieces]
    t_u, t_v = times.at(net.edge_u[edge]), times.at(net.edge_v[edge])
    length = net.edge_length[edge]
    own_reach = [(np.flatnonzero(edge == e), _OwnEdge(net, e, pos, off)) for e, pos, off in own]
    # streets that cannot be entered from the side (tunnels, raised carriageways) are walked
    # along but give no land: no one beside them joins the network there
    blocked = ~net.edge_enterable[edge]
    around = _Around(faces, pieces)
    out = []
    for band_s in bands_s:
        su, sv = _reach(net, edge, length, band_s - t_u, band_s - t_v)
        su, sv = np.where(blocked, -np.inf, su), np.where(blocked, np.inf, sv)
        own_band = [(on, *profile.reach(band_s)) for on, profile in own_reach]
        out.append(_band_polygon(faces, around, a, b, su, sv, own_band))
    return [p if f.is_empty else shapely.union(p, f) for p, f in zip(out, fragments, strict=True)]


def _fragment_land(
    net: PreparedNetwork,
    times: NodeTimes,
    own: list[tuple[int, float, float]],
    bands_s: Sequence[float],
    offset_m: float,
) -> list[shapely.Geometry]:
    """Land within the offset of the reached streets of fragments off the main network.

    The faces cover the main network only; a fragment (a campus whose gates are not mapped)
    is small, so its reached streets are simply buffered.
    """
    frag = net.fragment_access_edges
    empty = [shapely.Polygon() for _ in bands_s]
    if len(frag) == 0:
        return empty
    t_u, t_v = times.at(net.edge_u[frag]), times.at(net.edge_v[frag])
    own_edges = np.array([o[0] for o in own], dtype=np.int64)
    near = (np.minimum(t_u, t_v) <= bands_s[-1]) | np.isin(frag, own_edges)
    if not near.any():
        return empty
    edge, t_u, t_v = frag[near], t_u[near], t_v[near]
    length = net.edge_length[edge]
    own_reach = [(e, _OwnEdge(net, e, pos, off)) for e, pos, off in own if e in set(edge.tolist())]
    out = []
    for band_s in bands_s:
        su, sv = _reach(net, edge, length, band_s - t_u, band_s - t_v)
        lo = [np.zeros(len(edge)), np.clip(sv, 0.0, length)]
        hi = [np.clip(su, 0.0, length), length]
        loc = [np.arange(len(edge)), np.arange(len(edge))]
        for e, profile in own_reach:
            at = np.flatnonzero(edge == e)
            first, last = profile.reach(band_s)
            loc.append(at)
            lo.append(np.full(len(at), max(first, 0.0)))
            hi.append(np.minimum(np.full(len(at), last), length[at]))
        at, lo_all, hi_all = np.concatenate(loc), np.concatenate(lo), np.concatenate(hi)
        keep = hi_all > lo_all + 1e-9
        if not keep.any():
            out.append(shapely.Polygon())
            continue
        lines = _substrings(shapely.force_2d(net.geoms(edge[at[keep]])), lo_all[keep], hi_all[keep])
        out.append(shapely.buffer(shapely.union_all(lines), offset_m, quad_segs=BUFFER_QUAD_SEGS))
    return out


class _Around:
    """The faces around a search's pieces, found once for all its bands."""

    def __init__(self, faces: StreetFaces, pieces: np.ndarray) -> None:
        self.pieces = pieces
        self.pair_at, pair_face = faces.faces_of_pieces(pieces)  # (position in pieces, face)
        self.face, self.pair_face = np.unique(pair_face, return_inverse=True)  # local face numbers
        self.face_pieces = faces.face_pieces[self.face]

    def full_faces(self, full: np.ndarray) -> np.ndarray:
        """Local numbers of the faces whose pieces are all ``full`` (a mask over the pieces)."""
        n_full = np.bincount(self.pair_face, weights=full[self.pair_at], minlength=len(self.face))
        return n_full == self.face_pieces


def _band_polygon(faces: StreetFaces, around: _Around, a, b, su, sv, own_band) -> shapely.Geometry:
    """One band's polygon from the reached positions on ``around.pieces``."""
    pieces = around.pieces
    # reached intervals on each piece: [a, min(b, su)] from u and [max(a, sv), b] from v
    loc = np.arange(len(pieces))
    parts_loc, parts_lo, parts_hi = [loc, loc], [a, np.maximum(a, sv)], [np.minimum(b, su), b]
    for on, lo, hi in own_band:  # a facility's own edge: reached straight along it
        if len(on):
            parts_loc.append(on)
            parts_lo.append(np.maximum(a[on], lo))
            parts_hi.append(np.minimum(b[on], hi))
    pl, plo, phi = np.concatenate(parts_loc), np.concatenate(parts_lo), np.concatenate(parts_hi)
    keep = phi > plo + 1e-9
    pl, plo, phi = pl[keep], plo[keep], phi[keep]
    if len(pl) == 0:
        return shapely.Polygon()
    # a piece is full when one interval covers it, or the intervals from its two ends meet
    full = np.zeros(len(pieces), dtype=bool)
    full[pl[(plo <= a[pl] + 1e-9) & (phi >= b[pl] - 1e-9)]] = True
    full |= (su >= sv) & (su > a) & (sv < b)
    full_face = around.full_faces(full)
    full_ids = around.face[full_face]
    part = ~full[pl]
    cut = _substrings(faces.piece_geom[pieces[pl[part]]], plo[part] - a[pl[part]], phi[part] - a[pl[part]])
    # a whole street between whole faces gives no land anywhere else: any point across it
    # that it could reach is nearer a reached street of the face in between
    beside = np.zeros(len(pieces), dtype=bool)
    beside[around.pair_at[~full_face[around.pair_face]]] = True
    whole = np.flatnonzero(full & beside)
    lines = np.concatenate([faces.piece_geom[pieces[whole]], cut])
    far = None
    if faces.far_holes[full_ids].all():
        # whole faces merge faster than their near land (half the vertices, no holes);
        # their far land is cut out of the result afterwards as plain holes
        full_land = faces.face_geom[full_ids]
        far = faces.far_rings[ranges(faces.far_ptr[full_ids], faces.far_ptr[full_ids + 1])]
    else:
        full_land = faces.near_land(full_ids)
    core = _coverage_union(full_land)
    if not len(lines):
        return _punch(core, far)
    # The frontier: land within the offset of the other reached streets, wherever it lies.
    # In a whole face that land is near the face's own streets (the straight way from a
    # point of the face to a street outside it crosses the face's ring), so it adds
    # nothing there and never enters the far land cut out below.
    reach = shapely.buffer(chains(lines), faces.offset_m, quad_segs=BUFFER_QUAD_SEGS)
    return _punch(shapely.union(core, reach) if len(full_land) else reach, far)


def _coverage_union(land: np.ndarray) -> shapely.Geometry:
    """Union of the whole faces' land (GEOS's coverage union, a plain one should GEOS refuse it).

    The faces share their rings vertex for vertex, so the coverage union applies: ~5x a plain one.
    """
    if not len(land):
        return shapely.Polygon()
    try:
        return shapely.coverage_union_all(land)
    except shapely.errors.GEOSException:  # pragma: no cover - faces are built as a coverage
        return shapely.union_all(land)


def _punch(polygon: shapely.Geometry, holes: np.ndarray | None) -> shapely.Geometry:
    """``polygon`` with the far land of its full faces (``holes``, rings) cut out as holes.

    Each far part lies inside its face, at least the offset away from the face's
    streets, so it is a valid hole of whichever part of ``polygon`` holds the face.
    """
    if holes is None or not len(holes):
        return polygon
    parts = shapely.get_parts(polygon)
    if len(parts) == 1:
        owner = np.zeros(len(holes), dtype=np.int64)
    else:
        # the tree over the points and the parts as queries: GEOS prepares each part once (a
        # point-in-polygon index), where the other way round tests every point against a raw part
        owner_part, where = shapely.STRtree(shapely.get_point(holes, 0)).query(parts, predicate="contains")
        owner = np.full(len(holes), -1, dtype=np.int64)
        owner[where] = owner_part
        if (owner < 0).any():  # a vertex on a part's boundary: should not happen, but be safe
            return shapely.difference(polygon, shapely.union_all(shapely.polygons(holes)))
    out = with_holes(parts, holes, owner)
    return out[0] if len(out) == 1 else shapely.multipolygons(out)


class _OwnEdge:
    """Walking times along a facility's own edge, straight to the facility."""

    def __init__(self, net: PreparedNetwork, e: int, pos_m: float, off_s: float) -> None:
        L = float(net.edge_length[e])
        self.grid = np.linspace(0.0, L, 129)
        fe = time_fraction(net, np.full(len(self.grid), e), self.grid) * net.edge_s[e]
        here = np.interp(pos_m, self.grid, fe)
        self.pos_m = pos_m
        # seconds from each grid position to the facility: forward along the edge before it ...
        self.before = np.where(self.grid <= pos_m, off_s + here - fe, np.inf)
        # ... and against the edge's direction after it (when the way is two-way)
        self.after = np.full(len(self.grid), np.inf)
        rev = int(net.edge_rev[e])
        if rev >= 0:
            fr = time_fraction(net, np.full(len(self.grid), rev), L - self.grid) * net.edge_s[rev]
            here_r = np.interp(L - pos_m, L - self.grid[::-1], fr[::-1])
            self.after = np.where(self.grid >= pos_m, off_s + here_r - fr, np.inf)
        self.off_s = off_s

    def reach(self, band_s: float) -> tuple[float, float]:
        """Positions on the edge within ``band_s`` of the facility (empty: inf, -inf)."""
        if band_s < self.off_s:
            return np.inf, -np.inf
        ok_before = self.before <= band_s
        ok_after = self.after <= band_s
        lo = self.grid[ok_before].min() if ok_before.any() else self.pos_m
        hi = self.grid[ok_after].max() if ok_after.any() else self.pos_m
        return float(lo), float(hi)
