"""The planar faces (blocks) of a walking network, and the land of each face near its streets.

Built once per graph and offset for :mod:`dz_gis.access.isochrones`, which explains why. Written
by hand on top of GEOS because no library returns faces together with the street pieces
around each of them. Steps, each the cheapest found on a 200,000-node graph:

1. Street lines must meet only at their ends for ``polygonize``. GEOS ``node`` makes them
   so but costs seconds on a city; most edges of a routable graph already meet only at
   graph nodes, so a vectorised segment test (:func:`crossing_edges`) finds the few that
   cross (bridges over streets, ways joined without a shared node) and only those are
   noded.
2. Faces by walking half-edges (:mod:`dz_gis.access._planar`), which also says which pieces
   bound which face: ~3 s faster than GEOS ``polygonize`` and a spatial query.
3. The land of a face within ``offset_m`` of its streets is the face minus its inward
   buffer (minus what dead ends inside the face reach): a negative buffer of one polygon
   instead of the buffer of its street lines and an intersection, ~4x cheaper. The result
   keeps the face's ring vertex for vertex, so neighbouring pieces form a coverage.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from .._arrays import unique_ints
from .._gc import gc_paused
from ..network.prepared import PreparedNetwork
from ._planar import planar_faces, ranges

logger = logging.getLogger(__name__)

#: Segment ends closer than this (m) to another segment count as touching it.
_ON_LINE_M = 1e-6

#: Segments tested per step of :func:`crossing_edges` (bounds its memory).
_CHUNK = 200_000


@dataclass
class StreetFaces:
    """The planar faces of the main network and the street pieces around each."""

    offset_m: float
    quad_segs: int
    piece_edge: np.ndarray  #: canonical directed edge each piece lies on
    piece_a: np.ndarray  #: start position (m along that edge)
    piece_b: np.ndarray  #: end position
    piece_geom: np.ndarray  #: 2D, running the way of its edge
    face_pieces: np.ndarray  #: number of pieces around (or inside) each face
    face_geom: np.ndarray
    #: land of each face within offset_m of its streets, kept only where the far land has holes
    #: (None elsewhere: :meth:`near_land` makes it from the face and its far rings)
    near_kept: np.ndarray
    far_rings: np.ndarray  #: outer rings of the parts of each face's far land (the rest of it)
    far_ptr: np.ndarray  #: face f's far rings are far_rings[far_ptr[f]:far_ptr[f + 1]]
    far_holes: np.ndarray  #: True where the far parts have no holes (the face minus them is near)
    node_pieces: sp.csr_matrix  #: node row × piece incidence (via the piece's edge)
    edge_pieces: sp.csr_matrix  #: directed edge × piece incidence
    piece_faces: sp.csr_matrix  #: piece × face incidence

    def near_land(self, ids: np.ndarray) -> np.ndarray:
        """Land of faces ``ids`` within ``offset_m`` of their streets."""
        ids = np.asarray(ids, dtype=np.int64)
        out = self.near_kept[ids]
        make = np.flatnonzero(shapely.is_missing(out))
        if len(make):
            # the face with its far parts (hole-free, inside it) as holes
            face = ids[make]
            counts = self.far_ptr[face + 1] - self.far_ptr[face]
            holes = self.far_rings[ranges(self.far_ptr[face], self.far_ptr[face + 1])]
            out[make] = with_holes(self.face_geom[face], holes, np.repeat(np.arange(len(face)), counts))
        return out

    def pieces_at_nodes(self, rows: np.ndarray) -> np.ndarray:
        """Pieces on the edges at node ``rows`` (with repeats)."""
        return _gather(self.node_pieces, rows)

    def pieces_on_edges(self, edges: np.ndarray) -> np.ndarray:
        """Pieces of directed ``edges`` (with repeats)."""
        return _gather(self.edge_pieces, edges)

    def faces_of_pieces(self, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``pieces``, face) pairs for the faces around each piece."""
        ptr = self.piece_faces.indptr
        counts = ptr[pieces + 1] - ptr[pieces]
        return np.repeat(np.arange(len(pieces)), counts), _gather(self.piece_faces, pieces)


def with_holes(polygons: np.ndarray, holes: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """``polygons`` with the rings ``holes`` added as holes, hole k to ``polygons[owner[k]]``.

    The rings must lie inside their polygon, apart from its other rings: all is built in one
    ``shapely.polygons`` call, no overlay.
    """
    rings, of = shapely.get_rings(polygons, return_index=True)  # each shell first, then its holes
    index = np.concatenate((of, owner))
    order = np.argsort(index, kind="stable")
    return shapely.polygons(np.concatenate((rings, holes))[order], indices=index[order])


def _gather(matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Column indices of CSR ``rows``: SciPy's row indexing costs ~0.1 ms of checks per call."""
    rows = np.asarray(rows, dtype=np.int64)
    return matrix.indices[ranges(matrix.indptr[rows], matrix.indptr[rows + 1])]


def street_faces(net: PreparedNetwork, offset_m: float, quad_segs: int) -> StreetFaces:
    """Faces of ``net``'s main network, cached on it per offset."""

    def build() -> StreetFaces:
        with gc_paused():
            return _build(net, float(offset_m), int(quad_segs))

    return net.derived(("faces", float(offset_m), int(quad_segs)), build)


def _build(net: PreparedNetwork, offset_m: float, quad_segs: int) -> StreetFaces:
    canon = net.canonical
    geoms = net.geoms(canon)  # not net.edge_geom: that keeps every edge's line
    raised = shapely.has_z(geoms)
    if raised.any():  # 3-D lines on a DEM; the others are not copied
        geoms[raised] = shapely.force_2d(geoms[raised])
    real = shapely.length(geoms) > 0  # a zero-length edge (a node joined to its twin) bounds no land
    canon, geoms = canon[real], geoms[real]
    order = np.argsort(gpd.GeoSeries(geoms).hilbert_distance().to_numpy(), kind="stable")
    canon, geoms = canon[order], geoms[order]
    bad = crossing_edges(geoms)
    if bad.any():
        edge, a, b, pieces = _noded_pieces(geoms, canon, bad)
    else:
        edge, a, b, pieces = canon, np.zeros(len(geoms)), shapely.length(geoms), geoms
    frame = _frame_bounds(pieces, offset_m)
    faces, pf_piece, pf_face = planar_faces(pieces, frame)
    faces, pf_piece, pf_face = _merge_across(faces, pf_piece, pf_face, ~net.edge_enterable[edge], frame)
    by_face = np.argsort(pf_face, kind="stable")
    pf_piece, pf_face = pf_piece[by_face], pf_face[by_face]

    near, (far_rings, far_ptr), far_holes = _near_and_far(faces, frame, pieces, pf_piece, pf_face, offset_m, quad_segs)
    n_pieces = len(pieces)
    piece_nodes = np.r_[net.edge_u[edge], net.edge_v[edge]]
    piece_ids = np.r_[np.arange(n_pieces), np.arange(n_pieces)]
    node_pieces = sp.csr_matrix(
        (np.ones(len(piece_ids), dtype=np.int8), (piece_nodes, piece_ids)), shape=(net.n, n_pieces)
    )
    ones = np.ones(n_pieces, dtype=np.int8)
    edge_pieces = sp.csr_matrix((ones, (edge, np.arange(n_pieces))), shape=(len(net.edge_u), n_pieces))
    piece_faces = sp.csr_matrix(
        (np.ones(len(pf_piece), dtype=np.int8), (pf_piece, pf_face)), shape=(n_pieces, len(faces))
    )
    logger.info("isochrone faces: %d faces, %d street pieces", len(faces), n_pieces)
    return StreetFaces(
        offset_m=offset_m,
        quad_segs=quad_segs,
        piece_edge=edge,
        piece_a=a,
        piece_b=b,
        piece_geom=pieces,
        face_pieces=np.bincount(pf_face, minlength=len(faces)),
        face_geom=faces,
        near_kept=near,
        far_rings=far_rings,
        far_ptr=far_ptr,
        far_holes=far_holes,
        node_pieces=node_pieces,
        edge_pieces=edge_pieces,
        piece_faces=piece_faces,
    )


def _merge_across(
    faces: np.ndarray, pf_piece: np.ndarray, pf_face: np.ndarray, blocked: np.ndarray, frame: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces joined across streets that give no land (tunnels, raised carriageways).

    Such a street bounds no block for a pedestrian beside it: the land on both sides is one
    block, near whichever streets a pedestrian can enter, and a block whose streets are all
    reached again holds exactly the land near them. The outer face is not joined (it would
    swallow every block behind a tunnel at the network's edge): a street that gives no land
    between it and a block keeps bounding both, so neither is ever whole.
    """
    side = blocked[pf_piece]
    if not side.any():
        return faces, pf_piece, pf_face
    outer = np.flatnonzero((shapely.bounds(faces) == frame).all(axis=1))
    order = np.argsort(pf_piece[side], kind="stable")
    piece, face = pf_piece[side][order], pf_face[side][order]
    two = np.flatnonzero(piece[1:] == piece[:-1])  # a blocked piece between two faces links them
    two = two[~np.isin(face[two], outer) & ~np.isin(face[two + 1], outer)]
    n = len(faces)
    link = sp.csr_matrix((np.ones(len(two)), (face[two], face[two + 1])), shape=(n, n))
    n_new, label = connected_components(link, directed=False)
    counts = np.bincount(label, minlength=n_new)
    merged = np.empty(n_new, dtype=object)
    single = counts[label] == 1
    merged[label[single]] = faces[single]
    by_label = np.argsort(label, kind="stable")
    first = np.r_[0, np.cumsum(counts)]
    for group in np.flatnonzero(counts > 1):  # each group's faces by slicing, not a pass over all
        members = faces[by_label[first[group] : first[group + 1]]]
        union = shapely.coverage_union_all(members)  # faces share their rings vertex for vertex
        merged[group] = union if shapely.is_valid(union) else shapely.union_all(members)
    new_face = label[pf_face]
    # (piece, face) pairs once each, as one integer key: a 1-D unique, not a row-wise one
    key = unique_ints(pf_piece.astype(np.int64) * n_new + new_face)
    piece, face = key // n_new, key % n_new
    # a blocked piece inside a joined face bounds nothing; between two faces it still bounds both
    n_faces = np.bincount(piece, minlength=len(blocked))
    keep = ~(blocked[piece] & (n_faces[piece] == 1))
    logger.info("isochrone faces: %d faces joined across %d streets that give no land", n - n_new, blocked.sum())
    return merged, piece[keep], face[keep]


def _frame_bounds(lines: np.ndarray, offset_m: float) -> np.ndarray:
    """Bounds of the frame: the lines' bounds, widened well beyond ``offset_m``."""
    x0, y0, x1, y1 = shapely.total_bounds(lines)
    pad = 4 * offset_m + 10
    return np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad])


def _near_and_far(faces, frame, pieces, pf_piece, pf_face, offset_m: float, quad_segs: int):
    """Land of each face near its streets, the outer rings of the rest of it, and whether that rest is hole-free.

    Near: within ``offset_m`` of the face's streets; None where the rest is hole-free (then
    it is the face with those rings as holes, :meth:`StreetFaces.near_land`). A hole-free
    rest can be cut out of a merged polygon as plain holes (those rings).
    """

    def far(part: slice) -> np.ndarray:
        return shapely.buffer(faces[part], -offset_m, quad_segs=quad_segs)

    half = len(faces) // 2
    # GEOS releases the GIL: the inward buffers share two threads
    with ThreadPoolExecutor(max_workers=2) as pool:
        inner = np.concatenate(list(pool.map(far, [slice(0, half), slice(half, len(faces))])))
    sides = np.bincount(pf_piece, minlength=len(pieces))
    inside = np.flatnonzero(sides[pf_piece] == 1)  # dead ends and cut edges: one face on both sides
    if len(inside):
        owner, idx = np.unique(pf_face[inside], return_inverse=True)
        lines = shapely.multilinestrings(pieces[pf_piece[inside]], indices=idx)
        reach = shapely.buffer(shapely.line_merge(lines), offset_m, quad_segs=quad_segs)
        inner[owner] = shapely.difference(inner[owner], reach)
    near = np.full(len(faces), None, dtype=object)
    # the outer face's ring is the frame, not a street: its land is found the slow way
    outer = np.flatnonzero((shapely.bounds(faces) == frame).all(axis=1))  # the frame's own numbers
    for f in outer:
        streets = shapely.line_merge(shapely.multilinestrings(pieces[pf_piece[pf_face == f]]))
        near[f] = shapely.intersection(faces[f], shapely.buffer(streets, offset_m, quad_segs=quad_segs))
    inner[outer] = shapely.difference(faces[outer], near[outer])
    parts, part_of = shapely.get_parts(inner, return_index=True)
    has_holes = np.bincount(part_of, weights=shapely.get_num_interior_rings(parts) > 0, minlength=len(faces))
    far_holes = has_holes == 0
    # near land is kept only where the far land has holes; elsewhere it is the face with the far
    # parts' rings as holes (the far part lies at least offset_m inside the face), made on demand
    cut = np.flatnonzero(~far_holes & ~shapely.is_empty(inner) & ~shapely.is_missing(inner))
    cut = cut[~np.isin(cut, outer)]
    if len(cut):
        with ThreadPoolExecutor(max_workers=2) as pool:
            halves = np.array_split(cut, 2)
            near[cut] = np.concatenate(list(pool.map(lambda c: shapely.difference(faces[c], inner[c]), halves)))
    near[far_holes] = None
    solid = ~shapely.is_empty(parts)
    rings = shapely.get_exterior_ring(parts[solid])
    ptr = np.r_[0, np.cumsum(np.bincount(part_of[solid], minlength=len(faces)))]
    return near, (rings, ptr), far_holes


def _noded_pieces(
    geoms: np.ndarray, canon: np.ndarray, bad: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Street pieces that meet only at their ends: edges as they are, ``bad`` ones noded.

    Returns each piece's canonical edge, start and end position along it (m) and
    geometry, in the order of ``geoms`` (the noded pieces of a bad edge where it was).
    """
    crossing = geoms[bad]
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(crossing)))
    noded = noded[shapely.length(noded) > 1e-9]
    # map every noded piece back to the edge it came from and its position along it
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    hit_mid, hit_edge = shapely.STRtree(crossing).query_nearest(mid, all_matches=False)
    local = hit_edge[np.argsort(hit_mid)]
    g = crossing[local]
    # positions from the piece's middle, not its ends: a loop edge passes its end point
    # twice, and line_locate_point finds only the first
    half = shapely.length(noded) / 2
    at = shapely.line_locate_point(g, mid)
    ahead = shapely.line_locate_point(g, shapely.line_interpolate_point(noded, half + np.minimum(half / 2, 0.01)))
    backwards = ahead < at
    noded = np.where(backwards, shapely.reverse(noded), noded)  # each piece runs the way of its edge
    start, end = np.maximum(at - half, 0.0), np.minimum(at + half, shapely.length(g))
    source = np.r_[np.flatnonzero(~bad), np.flatnonzero(bad)[local]]
    order = np.argsort(source, kind="stable")  # keep the spatial order
    edge = canon[source][order]
    a = np.r_[np.zeros((~bad).sum()), np.minimum(start, end)][order]
    b = np.r_[shapely.length(geoms[~bad]), np.maximum(start, end)][order]
    pieces = np.r_[geoms[~bad], noded][order]
    logger.info("isochrone faces: %d of %d edges cross another and were noded", bad.sum(), len(geoms))
    return edge, a, b, pieces


def crossing_edges(geoms: np.ndarray) -> np.ndarray:
    """True for lines that meet another line (or themselves) anywhere but at shared ends.

    That is: proper crossings, an end touching another line's interior, collinear
    overlaps and duplicates. Written by hand with a vectorised orientation test per
    pair of segments whose boxes meet, because GEOS offers only ``node`` (which rebuilds
    every line, ~2 s for 200,000 nodes) or per-pair predicates (~4 s). Near-misses within
    ``_ON_LINE_M`` count as touching, so errors only ever send a line to be noded.
    """
    coords, idx = shapely.get_coordinates(shapely.remove_repeated_points(geoms, 0.0), return_index=True)
    same = idx[1:] == idx[:-1]
    p, q, owner = coords[:-1][same], coords[1:][same], idx[:-1][same]
    # each segment's place in its line: a shared point is fine only where both lines
    # end, or between consecutive segments of one line
    step = np.r_[0, np.flatnonzero(np.diff(owner)) + 1] if len(owner) else np.zeros(0, dtype=np.int64)
    count = np.diff(np.r_[step, len(owner)])
    place = np.arange(len(owner)) - np.repeat(step, count)
    first, last = place == 0, place == np.repeat(count, count) - 1
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    segs = shapely.linestrings(np.column_stack([p, q]).reshape(-1, 2), indices=np.repeat(np.arange(len(p)), 2))
    tree = shapely.STRtree(segs)
    bad = np.zeros(len(geoms), dtype=bool)
    for start in range(0, len(segs), _CHUNK):
        i, j = tree.query(segs[start : start + _CHUNK])
        i = i + start
        keep = i < j
        i, j = i[keep], j[keep]
        hit = _segments_meet(p[i], q[i], d[i], length[i], p[j], q[j], d[j], length[j])
        # shared points that are no joint: an end on another line's vertex, a crossing
        # at vertices of both, a line touching itself
        one_line = owner[i] == owner[j]
        pr, ps, qr, qs = _same(p[i], p[j]), _same(p[i], q[j]), _same(q[i], p[j]), _same(q[i], q[j])
        hit |= pr & ~(first[i] & first[j])
        hit |= ps & ~((first[i] & last[j]) | (one_line & (place[j] == place[i] - 1)))
        hit |= qr & ~((last[i] & first[j]) | (one_line & (place[j] == place[i] + 1)))
        hit |= qs & ~(last[i] & last[j])
        bad[owner[i[hit]]] = True
        bad[owner[j[hit]]] = True
    return bad


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1])


def _segments_meet(P, Q, dPQ, lPQ, R, S, dRS, lRS) -> np.ndarray:
    """Segment pairs PQ, RS that meet anywhere except at a shared end point of both segments."""

    def side(a, dvec, L, c):  # signed distance of c from the line through a along dvec
        return (dvec[:, 0] * (c[:, 1] - a[:, 1]) - dvec[:, 1] * (c[:, 0] - a[:, 0])) / L

    def on(x, a, dvec, L, x_side, is_end):  # x on segment (a, a + dvec) but not one of its ends
        t = ((x[:, 0] - a[:, 0]) * dvec[:, 0] + (x[:, 1] - a[:, 1]) * dvec[:, 1]) / L
        return (np.abs(x_side) <= _ON_LINE_M) & (t > -_ON_LINE_M) & (t < L + _ON_LINE_M) & ~is_end

    r_side, s_side = side(P, dPQ, lPQ, R), side(P, dPQ, lPQ, S)
    p_side, q_side = side(R, dRS, lRS, P), side(R, dRS, lRS, Q)
    proper = (r_side * s_side < 0) & (p_side * q_side < 0)
    pr, ps, qr, qs = _same(P, R), _same(P, S), _same(Q, R), _same(Q, S)
    touch = (
        on(R, P, dPQ, lPQ, r_side, pr | qr)
        | on(S, P, dPQ, lPQ, s_side, ps | qs)
        | on(P, R, dRS, lRS, p_side, pr | ps)
        | on(Q, R, dRS, lRS, q_side, qr | qs)
    )
    duplicate = (pr & qs) | (ps & qr)
    return proper | touch | duplicate
