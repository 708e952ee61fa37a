"""Join points (facilities, homes, candidate sites) to the walking network.

The access model, one for times, circles and the matrix: a point joins the network through
every street it can step onto within ``reach_m`` (default 25 m, the circles' offset), and
always through its nearest one; the best total time wins. (So a home beside a dual
carriageway joins both carriageways, and one beside a dead-end lane also the street behind.) Each join is at the point's
projection onto the street: both partial lengths count, in each direction with that
direction's own walking time (so slopes stay one-sided), and the straight walk to the
street (``snap_m``) is added at the flat walking speed. Streets that cannot be entered
from the side (:func:`dz_gis.network.ways.enterable`: tunnels, raised trunk and primary
carriageways, indoor ways) are walked along but never joined.

A point whose nearest street lies on a fragment not connected to the main network (a
gated campus, a clipped estate) joins that fragment and also the main network through
its nearest main street (``near_island``): it serves and is served by both. Points
farther than ``max_snap_m`` from every street are ``too_far`` and get no time.

On slope-aware graphs (3-D edge geometries, see :mod:`dz_gis.network.terrain`) the part
of an edge's time spent before a position is taken from the edge's own elevation
profile; otherwise it is proportional to length.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import CRSError, ValidationError
from .prepared import PreparedNetwork
from .terrain import segment_seconds

__all__ = ["DEFAULT_MAX_SNAP_M", "DEFAULT_REACH_M", "Snapped", "snap", "time_fraction"]

#: Points farther than this from the network are reported as unreachable.
DEFAULT_MAX_SNAP_M = 250.0

#: A point joins every enterable street within this distance (the circles' offset).
DEFAULT_REACH_M = 25.0


def time_fraction(net: PreparedNetwork, edges: np.ndarray, pos_m: np.ndarray) -> np.ndarray:
    """Share of each edge's walking time spent before ``pos_m`` metres along its geometry."""
    geoms = net.geoms(edges)
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


@dataclass(frozen=True)
class Snapped:
    """How points join the network (:func:`snap`)."""

    #: one row per point, indexed like the points: its nearest join (``edge``, ``u``, ``v``,
    #: ``pos_m``, ``snap_m`` and the partial seconds), ``too_far``, ``near_island``, ``streets``
    points: pd.DataFrame
    #: one row per (point, street it joins): ``point`` (position 0..n-1), ``edge``, ``u``, ``v``,
    #: ``pos_m``, ``snap_m``, ``from_u_s``, ``to_v_s``, ``from_v_s``, ``to_u_s``
    attachments: pd.DataFrame

    def of(self, positions: np.ndarray) -> pd.DataFrame:
        """The attachments of the points at ``positions`` (0..n-1)."""
        return self.attachments[np.isin(self.attachments["point"].to_numpy(), positions)]


def snap(
    net: PreparedNetwork,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    reach_m: float = DEFAULT_REACH_M,
) -> Snapped:
    """Join points (polygons: a point inside them) to the network; see the module's model.

    Returns
    -------
    Snapped
        ``points`` (one row per point) and ``attachments`` (one row per street joined). The
        partial walking seconds are ``from_u_s`` (u → point), ``to_v_s`` (point → v),
        ``from_v_s`` (v → point) and ``to_u_s`` (point → u); infinite where a one-way edge
        forbids it.
    """
    if points.crs is None:
        raise CRSError("points have no CRS; set one with .set_crs(...).")
    if len(points) == 0:
        raise ValidationError("no points to snap.")
    if not reach_m >= 0:
        raise ValidationError(f"reach_m must be zero or positive, got {reach_m}.")
    geoms = points.to_crs(net.crs).geometry.array if hasattr(points, "geometry") else points.to_crs(net.crs).array
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        raise ValidationError("some points have no geometry; drop or fix them before computing walking times.")
    if len(net.main_access_edges) == 0:
        raise ValidationError("the walking network has no street a point can join (all are tunnels or raised).")
    bad = ~np.isfinite(shapely.bounds(geoms)).all(axis=1)
    if bad.any():  # e.g. lon/lat swapped: latitudes past 90° project to infinity
        raise ValidationError(
            f"{int(bad.sum())} of {len(bad)} points have no finite coordinates in the network's CRS "
            f"(positions {', '.join(map(str, np.flatnonzero(bad)[:5]))}): their coordinates are not in the "
            "system their layer declares (longitude and latitude swapped, or metres declared as degrees?)."
        )
    pts = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(pts)
    key = (hashlib.sha1(xy.tobytes()).hexdigest(), float(max_snap_m), float(reach_m))
    cache: dict = net.derived("snaps", dict)  # repeated queries with the same points
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = _snap(net, pts, float(max_snap_m), float(reach_m))
    table, attachments = cache[key]
    return Snapped(table.set_axis(points.index), attachments)


def _snap(
    net: PreparedNetwork, pts: np.ndarray, max_snap_m: float, reach_m: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    index, access = net.access_index, net.access_edges
    xy = shapely.get_coordinates(pts)
    near, d_any = index.nearest(xy)
    near_any = access[near]
    # every enterable street within reach (any component), and for a point whose nearest
    # street is on a fragment, the main network's nearest and those within reach of it
    p, line, _ = index.within(xy, np.maximum(d_any, reach_m))
    d_main = d_any
    if len(net.fragment_access_edges):
        main = net.component[net.edge_u[access]] == net.main_component
        off = np.flatnonzero(~main[near])
        if len(off):
            d_main = d_any.copy()
            _, d_main[off] = index.nearest(xy[off], allowed=main)
            p2, line2, _ = index.within(xy[off], np.maximum(d_main[off], reach_m))
            keep = main[line2]
            p, line = np.r_[p, off[p2[keep]]], np.r_[line, line2[keep]]
    pair = np.unique(np.column_stack([p, access[line]]), axis=0)
    joins = _joins(net, pts, pair[:, 0], pair[:, 1])
    joins = joins[joins["snap_m"].to_numpy() <= max_snap_m]
    joins = joins.sort_values(["point", "snap_m"], kind="stable")
    joins = joins.reset_index(drop=True)
    nearest = _joins(net, pts, np.arange(len(pts)), near_any)
    streets = np.bincount(joins["point"].to_numpy(), minlength=len(pts))
    table = nearest.drop(columns="point").assign(
        too_far=streets == 0,
        near_island=d_any < d_main,
        streets=streets,
    )
    return table, joins


def _joins(net: PreparedNetwork, pts: np.ndarray, point: np.ndarray, edge: np.ndarray) -> pd.DataFrame:
    """Where points join edges: position, straight walk and the four partial times."""
    geom = net.geoms(edge)
    p = pts[point]
    pos = shapely.line_locate_point(geom, p)
    dist = shapely.distance(p, geom)
    length = shapely.length(geom)
    w = net.edge_s[edge]
    f = time_fraction(net, edge, pos)
    rev = net.edge_rev[edge]
    has_rev = rev >= 0
    fr = np.zeros(len(edge))
    if has_rev.any():
        fr[has_rev] = time_fraction(net, rev[has_rev], length[has_rev] - pos[has_rev])
    wr = np.where(has_rev, net.edge_s[np.where(has_rev, rev, 0)], 0.0)  # no way back: inf below
    return pd.DataFrame(
        {
            "point": point,
            "edge": edge,
            "u": net.edge_u[edge],
            "v": net.edge_v[edge],
            "pos_m": pos,
            "snap_m": dist,
            "from_u_s": w * f,
            "to_v_s": w * (1.0 - f),
            "from_v_s": np.where(has_rev, wr * fr, np.inf),
            "to_u_s": np.where(has_rev, wr * (1.0 - fr), np.inf),
        }
    )
