"""Walking isochrones made from the street segments actually reached.

A circle is the land within ``offset_m`` of the reached parts of the network - edges
cut at the exact position where the remaining time runs out - never a convex hull of
reached nodes, which claims land across rivers, rail lines and walls that no one can
walk to (a known complaint about QNEAT3 and the OSMnx notebook recipe).

``offset_m`` (default 25 m) is the walking-side offset: the depth of frontage a
pedestrian reaches from the street. A point inside an isochrone of ``m`` minutes is
therefore at most ``m`` minutes of network walk plus ``offset_m`` metres off the
network from the facility.

How it is fast (written by hand: no library builds network-buffer polygons quickly).
Buffering thousands of reached segments and unioning them costs ~40 ms per polygon in
GEOS. Instead, the faces of the planar street network (blocks) are found once per
graph; for each face, the land within ``offset_m`` of its own streets is precomputed.
The nearest street to any point of a face lies on that face's boundary (or on a dead
end inside it), so a face whose streets are all reached contributes exactly its
precomputed piece; pieces of neighbouring faces share their street lines vertex for
vertex and merge with GEOS's fast coverage union. Only faces at the frontier, with
streets partly reached, are buffered on the fly.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from ._errors import ValidationError
from ._faces import StreetFaces, ranges, street_faces
from ._gc import gc_paused
from ._validate import require_columns, require_nonempty
from .prepared import PreparedNetwork, prepare
from .snap import DEFAULT_MAX_SNAP_M, snap, time_fraction

__all__ = ["DEFAULT_OFFSET_M", "isochrones"]

logger = logging.getLogger(__name__)

#: Land within this distance of a reached street belongs to the isochrone.
DEFAULT_OFFSET_M = 25.0

_BUFFER_QUAD_SEGS = 4

#: How often frontier pieces needed merging first, and a plain union was needed (for the benchmark).
_STATS = {"fallback": 0, "plain": 0}


@dataclass(frozen=True)
class _NodeTimes:
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
    same = np.r_[idx[1:] == idx[:-1]]
    cum = np.r_[0.0, np.cumsum(np.where(same, seg, 0.0))]
    first = np.r_[0, np.flatnonzero(~same) + 1]
    cum = cum - np.repeat(cum[first], np.diff(np.r_[first, len(idx)]))
    inner = (cum > start[idx]) & (cum < end[idx])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    n = len(geoms)
    all_xy = np.vstack([p0, coords[inner], p1])
    all_idx = np.r_[np.arange(n), idx[inner], np.arange(n)]
    all_key = np.r_[np.full(n, -1.0), cum[inner], np.full(n, np.inf)]
    order = np.lexsort((all_key, all_idx))
    return shapely.linestrings(all_xy[order], indices=all_idx[order])


def _polygons(
    net: PreparedNetwork,
    faces: StreetFaces,
    times: _NodeTimes,
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
    pieces = np.unique(pieces)
    if len(pieces) == 0:
        return [shapely.Polygon() for _ in bands_s]
    edge = faces.piece_edge[pieces]
    a, b = faces.piece_a[pieces], faces.piece_b[pieces]
    t_u, t_v = times.at(net.edge_u[edge]), times.at(net.edge_v[edge])
    length = shapely.length(net.edge_geom[edge])
    own_reach = [(e, _OwnEdge(net, e, pos, off)) for e, pos, off in own]
    out = []
    for band_s in bands_s:
        su, sv = _reach(net, edge, length, band_s - t_u, band_s - t_v)
        own_band = [(np.flatnonzero(edge == e), *profile.reach(band_s)) for e, profile in own_reach]
        out.append(_band_polygon(faces, pieces, edge, a, b, su, sv, own_band))
    return out


def _band_polygon(faces, pieces, edge, a, b, su, sv, own_band) -> shapely.Geometry:
    """One band's polygon from the reached positions on ``pieces``."""
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
    touched = np.unique(pl)
    pair_at, pair_face = faces.faces_of_pieces(pieces[touched])
    pair_loc = touched[pair_at]
    face_ids, inv = np.unique(pair_face, return_inverse=True)
    n_full = np.bincount(inv, weights=full[pair_loc], minlength=len(face_ids))
    is_full = n_full == faces.face_pieces[face_ids]
    full_ids = face_ids[is_full]
    near = np.empty(0, dtype=object)
    if not is_full.all():
        sel = ~is_full[inv]
        near = _frontier_land(
            faces, pieces, a, full, pl[~full[pl]], plo[~full[pl]], phi[~full[pl]], pair_loc[sel], face_ids[inv[sel]]
        )
    far = None
    if faces.far_holes[full_ids].all():
        # whole faces merge faster than their near land (half the vertices, no holes);
        # their far land is cut out of the result afterwards as plain holes
        full_land, far = faces.face_geom[full_ids], faces.face_far[full_ids]
    else:
        full_land = faces.face_near[full_ids]
    return _punch(_merge(full_land, near), far)


def _frontier_land(faces, pieces, a, full, cut_loc, cut_lo, cut_hi, pair_loc, pair_face) -> np.ndarray:
    """Land of each frontier face (one with streets partly reached) near its reached streets.

    ``cut_*``: the partly reached intervals (piece position, from, to); ``pair_*``: the
    reached pieces around each frontier face.
    """
    # reached lines around each frontier face: full pieces whole, partial pieces cut
    whole = full[pair_loc]
    lines = [faces.piece_geom[pieces[pair_loc[whole]]]]
    owner = [pair_face[whole]]
    if len(cut_loc):
        # pieces run the way of their edge, from position a on it
        cut = _substrings(faces.piece_geom[pieces[cut_loc]], cut_lo - a[cut_loc], cut_hi - a[cut_loc])
        # each cut goes to every frontier face its piece borders
        order = np.argsort(cut_loc, kind="stable")
        starts = np.searchsorted(cut_loc[order], pair_loc[~whole], side="left")
        stops = np.searchsorted(cut_loc[order], pair_loc[~whole], side="right")
        lines.append(cut[order[ranges(starts, stops)]])
        owner.append(np.repeat(pair_face[~whole], stops - starts))
    lines_all, owner_all = np.concatenate(lines), np.concatenate(owner)
    if not len(lines_all):
        return np.empty(0, dtype=object)
    order = np.argsort(owner_all, kind="stable")
    uniq, idx = np.unique(owner_all[order], return_inverse=True)
    ml = shapely.multilinestrings(lines_all[order], indices=idx)
    # merged lines buffer ~20x faster than their separate segments (GEOS unions less)
    reach = shapely.buffer(shapely.line_merge(ml), faces.offset_m, quad_segs=_BUFFER_QUAD_SEGS)
    near = shapely.get_parts(shapely.intersection(faces.face_geom[uniq], reach))
    return near[shapely.get_type_id(near) == 3]  # keep areas, drop touching lines/points


def _merge(full: np.ndarray, near: np.ndarray) -> shapely.Geometry:
    """Union of the full faces' land and the frontier land."""
    if len(near) == 0:
        return shapely.coverage_union_all(full) if len(full) else shapely.Polygon()
    # Pieces of different faces meet along street lines with the same vertices (faces
    # keep their rings), so GEOS's coverage union applies: ~5x a plain union. Except
    # where two frontier faces reach along their common street to different points (one
    # side's other streets pass within offset_m of it), or compute where a cut crosses
    # their street a hair apart: then one side has a vertex the other lacks, or the two
    # overlap by a sliver. That happens in most large polygons, and GEOS's coverage
    # union does not check its input (it may fail, or return an invalid polygon), so
    # the pieces GEOS names invalid are merged first with a plain union, and the result
    # is checked: twice as fast as merging the whole frontier with a plain union.
    bad = ~shapely.is_empty(shapely.coverage_invalid_edges(near))
    if bad.any():
        _STATS["fallback"] += 1
        near = np.concatenate([near[~bad], shapely.get_parts(shapely.union_all(near[bad]))])
    merged = _coverage_union(np.concatenate([full, near]))
    if merged is not None:
        return merged
    _STATS["plain"] = _STATS.get("plain", 0) + 1
    core = shapely.coverage_union_all(full) if len(full) else shapely.Polygon()
    return shapely.union(core, shapely.union_all(near))


def _coverage_union(pieces: np.ndarray) -> shapely.Geometry | None:
    """GEOS's coverage union of ``pieces``, or None when it fails or is not valid."""
    try:
        merged = shapely.coverage_union_all(pieces)
    except shapely.errors.GEOSException:
        return None
    return merged if shapely.is_valid(merged) else None


def _punch(polygon: shapely.Geometry, far: np.ndarray | None) -> shapely.Geometry:
    """``polygon`` with the far land of its full faces cut out as holes.

    Each far part lies inside its face, at least the offset away from the face's
    streets, so it is a valid hole of whichever part of ``polygon`` holds the face.
    """
    if far is None:
        return polygon
    holes = shapely.get_exterior_ring(shapely.get_parts(far[~shapely.is_empty(far)]))
    if not len(holes):
        return polygon
    parts = shapely.get_parts(polygon)
    if len(parts) == 1:
        owner = np.zeros(len(holes), dtype=np.int64)
    else:
        where, owner_part = shapely.STRtree(parts).query(shapely.get_point(holes, 0), predicate="within")
        owner = np.full(len(holes), -1, dtype=np.int64)
        owner[where] = owner_part
        if (owner < 0).any():  # a vertex on a part's boundary: should not happen, but be safe
            return shapely.difference(polygon, shapely.union_all(far))
    rings = [[*shapely.get_interior_ring(p, np.arange(shapely.get_num_interior_rings(p)))] for p in parts]
    for ring, k in zip(holes, owner, strict=True):
        rings[k].append(ring)
    shells = shapely.get_exterior_ring(parts)
    out = [shapely.Polygon(shell, r) for shell, r in zip(shells, rings, strict=True)]
    return out[0] if len(out) == 1 else shapely.MultiPolygon(out)


class _OwnEdge:
    """Walking times along a facility's own edge, straight to the facility."""

    def __init__(self, net: PreparedNetwork, e: int, pos_m: float, off_s: float) -> None:
        L = float(shapely.length(net.edge_geom[e]))
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


def isochrones(
    graph: nx.MultiDiGraph,
    facilities: gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = (5, 10, 15),
    dissolve: bool = False,
    by: str = "category",
    id_column: str = "facility_id",
    offset_m: float = DEFAULT_OFFSET_M,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    batch: int = 64,
    n_jobs: int | None = None,
) -> gpd.GeoDataFrame:
    """Walking isochrones: per facility, or dissolved per category (``dissolve=True``).

    Parameters
    ----------
    graph
        Walking graph with ``walk_s`` on every edge.
    facilities
        Facility points with ``by`` (and ``id_column``) columns, any CRS.
    minutes
        Walking bands.
    dissolve
        One polygon per category and band (from one multi-source search per category)
        instead of one per facility and band.
    offset_m
        Walking-side offset: land within this distance of a reached street belongs to
        the isochrone.
    batch
        Facilities searched together (memory grows with batch × number of nodes).
    n_jobs
        Threads building polygons (default: one per CPU).

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id`` (absent when dissolved), ``category``, ``minutes`` and polygon
        geometry, in the graph CRS. Facilities more than ``max_snap_m`` from the
        network get empty polygons.
    """
    require_nonempty(facilities, "facilities")
    require_columns(facilities, [by] if dissolve else [by, id_column], "facilities")
    if offset_m <= 0:
        raise ValidationError(f"offset_m must be positive, got {offset_m}.")
    bands = sorted(float(m) for m in minutes)
    with gc_paused():
        return _isochrones(graph, facilities, bands, dissolve, by, id_column, offset_m, max_snap_m, batch, n_jobs)


def _isochrones(graph, facilities, bands, dissolve, by, id_column, offset_m, max_snap_m, batch, n_jobs):
    net = prepare(graph)
    faces = street_faces(net, offset_m, _BUFFER_QUAD_SEGS)
    speed = net.walk_m_per_min / 60.0
    s = snap(net, facilities, max_snap_m=max_snap_m).reset_index(drop=True)
    s["off_s"] = s["snap_m"] / speed
    s[by] = facilities[by].to_numpy()
    limit = max(bands) * 60.0
    rows = []
    workers = n_jobs or os.cpu_count() or 1
    # GEOS and NumPy release the GIL, so threads share the polygon work without
    # copying the graph into other processes
    with ThreadPoolExecutor(max_workers=workers) as pool:
        if dissolve:
            tasks = []
            for cat, grp in s[~s["too_far"]].groupby(by, sort=False):
                cols = np.r_[grp["u"].to_numpy(), grp["v"].to_numpy()]
                secs = np.r_[grp["from_u_s"].to_numpy(), grp["from_v_s"].to_numpy()] + np.r_[grp["off_s"], grp["off_s"]]
                ok = np.isfinite(secs)
                graph_s = net.with_source(cols[ok], secs[ok])
                dist = _NodeTimes(
                    np.arange(net.n), dijkstra(graph_s, directed=True, indices=net.n, limit=limit)[: net.n]
                )
                own = list(zip(grp["edge"], grp["pos_m"], grp["off_s"], strict=True))
                tasks += [(cat, m, dist, own) for m in bands]
            polys = pool.map(lambda t: _polygons(net, faces, t[2], [t[1] * 60.0], t[3])[0], tasks)
            rows = [{by: cat, "minutes": m, "geometry": g} for (cat, m, _, _), g in zip(tasks, polys, strict=True)]
            return gpd.GeoDataFrame(rows, columns=[by, "minutes", "geometry"], geometry="geometry", crs=net.crs)

        ids = facilities[id_column].to_numpy()
        # batches of neighbouring facilities share most of their search area
        cell = max(limit * _fastest_mps(net), 1.0)
        gx, gy = (net.xy[s["u"].to_numpy()] // cell).T
        spatial = s.iloc[np.lexsort((gy, gx))]
        pending: deque = deque()
        for start in range(0, len(spatial), batch):
            chunk = spatial.iloc[start : start + batch]
            local, dist, position = _batch_times(net, chunk, limit)

            def one(k: int, row, local=local, dist=dist, position=position) -> list:
                times = _NodeTimes(local, dist[k], position)
                own = [(row.edge, row.pos_m, row.off_s)]
                return _polygons(net, faces, times, [m * 60.0 for m in bands], own)

            todo = [(k, row) for k, row in enumerate(chunk.itertuples(index=True))]
            far = [row for _, row in todo if row.too_far]
            rows += [_row(row, m, shapely.Polygon(), ids, id_column, by) for row in far for m in bands]
            todo = [(k, row) for k, row in todo if not row.too_far]
            pending.append(([row for _, row in todo], [pool.submit(one, k, row) for k, row in todo]))
            # the next batch's search runs while the threads work on this one
            if len(pending) > 1:
                rows += _collect(*pending.popleft(), bands, ids, id_column, by)
        while pending:
            rows += _collect(*pending.popleft(), bands, ids, id_column, by)
    rows.sort(key=lambda r: (r["_pos"], r["minutes"]))  # back to the facilities' order
    out = gpd.GeoDataFrame(
        rows, columns=["_pos", id_column, by, "minutes", "geometry"], geometry="geometry", crs=net.crs
    )
    return out.drop(columns="_pos")


def _row(row, minutes: float, geom, ids, id_column: str, by: str) -> dict:
    return {"_pos": row.Index, id_column: ids[row.Index], by: getattr(row, by), "minutes": minutes, "geometry": geom}


def _collect(todo, futures, bands, ids, id_column: str, by: str) -> list[dict]:
    return [
        _row(row, m, geom, ids, id_column, by)
        for row, future in zip(todo, futures, strict=True)
        for m, geom in zip(bands, future.result(), strict=True)
    ]


def _batch_times(net: PreparedNetwork, chunk: pd.DataFrame, limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node times (s) to each facility of ``chunk``: one search per facility, run together.

    Returns the node rows searched, a (facility × those nodes) array of seconds and each
    graph node's position among them (-1 when not searched).

    Only nodes that could be reached at all take part: no walk is faster than the
    network's fastest edge, so nothing farther (in a straight line) than
    ``limit × fastest speed`` from a facility can be within ``limit``. On a city-sized
    graph this shrinks each search from every node to a few thousand.
    """
    n, k = net.n, len(chunk)
    radius = limit * _fastest_mps(net) + 1.0
    xy = np.column_stack([net.xy[chunk["u"].to_numpy()], net.xy[chunk["v"].to_numpy()]]).reshape(-1, 2)
    near = _node_tree(net).query_ball_point(xy, radius)
    local = np.unique(np.concatenate([np.asarray(x, dtype=np.int64) for x in near] + [np.zeros(0, np.int64)]))
    position = np.full(n, -1, dtype=np.int64)
    position[local] = np.arange(len(local))
    sub = net.reverse_csr[local][:, local]
    m = len(local)
    rows = np.r_[np.arange(k), np.arange(k)]
    cols = position[np.r_[chunk["u"].to_numpy(), chunk["v"].to_numpy()]]
    secs = np.r_[chunk["from_u_s"].to_numpy(), chunk["from_v_s"].to_numpy()] + np.r_[chunk["off_s"], chunk["off_s"]]
    ok = np.isfinite(secs) & np.r_[~chunk["too_far"].to_numpy(), ~chunk["too_far"].to_numpy()] & (cols >= 0)
    src = sp.csr_matrix((np.maximum(secs[ok], 1e-9), (rows[ok], cols[ok])), shape=(k, m))
    graph = sp.vstack([sp.hstack([sub, sp.csr_matrix((m, k))]), sp.hstack([src, sp.csr_matrix((k, k))])]).tocsr()
    dist = dijkstra(graph, directed=True, indices=np.arange(m, m + k), limit=limit)[:, :m]
    return local, dist, position


def _fastest_mps(net: PreparedNetwork) -> float:
    """The highest speed (m/s) on any edge: straight length over walking time."""
    if "fastest_mps" not in net._lazy:
        length = shapely.length(net.edge_geom)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(net.edge_s > 0, length / net.edge_s, 0.0)
        net._lazy["fastest_mps"] = float(max(np.nanmax(speed, initial=0.0), 1e-6))
    return net._lazy["fastest_mps"]


def _node_tree(net: PreparedNetwork):
    if "node_tree" not in net._lazy:
        from scipy.spatial import cKDTree

        net._lazy["node_tree"] = cKDTree(net.xy)
    return net._lazy["node_tree"]
