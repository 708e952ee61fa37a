"""Attach points (facilities, homes) to the nearest walkable edge.

A point is projected onto the nearest edge of the main connected network and joins it
*at the projected point*: both partial lengths of the edge count, in each direction
with that direction's own walking time (so slopes stay one-sided). The straight walk
from the point to the edge (``snap_m``) is added at the flat walking speed. Points
farther than ``max_snap_m`` are flagged ``too_far`` and get no time. Points whose
nearest street is on a network island (a fragment not connected to the main network)
are flagged ``near_island``: they are timed from the main network, and reported.

On slope-aware graphs (3-D edge geometries, see :mod:`dz_gis.network.terrain`) the part of an
edge's time spent before a position is taken from the edge's own elevation profile;
otherwise it is proportional to length.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import CRSError, ValidationError
from .prepared import PreparedNetwork
from .terrain import segment_seconds

__all__ = ["DEFAULT_MAX_SNAP_M", "snap", "time_fraction"]

#: Points farther than this from the network are reported as unreachable.
DEFAULT_MAX_SNAP_M = 250.0


def time_fraction(net: PreparedNetwork, edges: np.ndarray, pos_m: np.ndarray) -> np.ndarray:
    """Share of each edge's walking time spent before ``pos_m`` metres along its geometry."""
    geoms = net.edge_geom[edges]
    length = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(length > 0, np.clip(pos_m / length, 0.0, 1.0), 0.0)
    if net.slope_model == "flat":
        return frac
    sloped = np.flatnonzero(shapely.has_z(geoms) & ~net.edge_steps[edges])
    for k in sloped:
        xyz = shapely.get_coordinates(geoms[k], include_z=True)
        dx = np.hypot(np.diff(xyz[:, 0]), np.diff(xyz[:, 1]))
        secs = segment_seconds(dx, np.diff(xyz[:, 2]), walk_m_per_min=net.walk_m_per_min, model=net.slope_model)
        total = secs.sum()
        if total > 0:
            frac[k] = np.interp(pos_m[k], np.r_[0.0, np.cumsum(dx)], np.r_[0.0, np.cumsum(secs)]) / total
    return frac


def snap(
    net: PreparedNetwork, points: gpd.GeoDataFrame | gpd.GeoSeries, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> pd.DataFrame:
    """Snap points (polygons: a point inside them) to the nearest main-network edge.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``edge`` (directed edge index), ``u``/``v`` (matrix rows),
        ``pos_m`` (metres along the edge), ``snap_m``, ``too_far``, ``near_island``
        (the nearest street is on a fragment not connected to the main network, so the
        point was attached to the main network farther away), and the partial
        walking seconds ``from_u_s`` (u → point), ``to_v_s`` (point → v), ``from_v_s``
        (v → point) and ``to_u_s`` (point → u); infinite where a one-way edge forbids it.
    """
    if points.crs is None:
        raise CRSError("points have no CRS; set one with .set_crs(...).")
    if len(points) == 0:
        raise ValidationError("no points to snap.")
    geoms = points.to_crs(net.crs).geometry.array if hasattr(points, "geometry") else points.to_crs(net.crs).array
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        raise ValidationError("some points have no geometry; drop or fix them before computing walking times.")
    pts = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(pts)
    key = (hashlib.sha1(xy.tobytes()).hexdigest(), float(max_snap_m))
    cache: dict = net.derived("snaps", dict)  # repeated queries with the same points
    if key in cache:
        out = cache[key].copy()
        out.index = points.index
        return out

    hit_pts, hit_edges = net.tree.query_nearest(pts, all_matches=False)
    order = np.argsort(hit_pts)
    edge = net.canonical[hit_edges[order]]
    if len(edge) != len(pts):  # pragma: no cover - STRtree answers every point
        raise ValidationError("could not find a nearest edge for every point.")
    geom = net.edge_geom[edge]
    pos = shapely.line_locate_point(geom, pts)
    dist = shapely.distance(pts, geom)
    length = shapely.length(geom)
    w = net.edge_s[edge]
    f = time_fraction(net, edge, pos)
    rev = net.edge_rev[edge]
    has_rev = rev >= 0
    fr = np.zeros(len(edge))
    if has_rev.any():
        fr[has_rev] = time_fraction(net, rev[has_rev], length[has_rev] - pos[has_rev])
    wr = np.where(has_rev, net.edge_s[np.where(has_rev, rev, 0)], np.inf)
    near_island = np.zeros(len(edge), dtype=bool)
    if net.island_tree is not None:
        (qi, _), island_d = net.island_tree.query_nearest(pts, all_matches=False, return_distance=True)
        near_island[qi] = island_d < dist[qi]
    out = pd.DataFrame(
        {
            "edge": edge,
            "u": net.edge_u[edge],
            "v": net.edge_v[edge],
            "pos_m": pos,
            "snap_m": dist,
            "too_far": dist > max_snap_m,
            "near_island": near_island,
            "from_u_s": w * f,
            "to_v_s": w * (1.0 - f),
            "from_v_s": np.where(has_rev, wr * fr, np.inf),
            "to_u_s": np.where(has_rev, wr * (1.0 - fr), np.inf),
        }
    )
    if len(cache) > 16:
        cache.clear()
    cache[key] = out.copy()
    out.index = points.index
    return out
