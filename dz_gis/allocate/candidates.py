"""Candidate sites where the user has none: street corners inside allowed land, thinned by clustering.

Every junction of the main walking network (nodes with three or more streets, ends of
streets too when ``dead_ends=True``) inside ``allowed`` (e.g. the communities, or land the
land-use plan allows) is a place a facility could open. A city has far more of them than an
exact solver needs, so they are grouped with k-means (scikit-learn) into about one group
per ``spacing_m`` × ``spacing_m`` of land, and each group is represented by its junction
nearest the group's centre. Junctions are often on the line between two units (units are
made of street blocks), where a site would belong to neither: such a candidate is moved 2 m
into the first unit it touches. ``moved_m`` on every candidate says how far the farthest
junction of its group lies: a proposal may stand anywhere within that distance of its
candidate, and this is the error the thinning allows.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops

from .._errors import ValidationError
from ..network.prepared import Network, prepare

__all__ = ["network_candidates"]


def network_candidates(
    graph: Network,
    allowed: gpd.GeoDataFrame | None = None,
    *,
    spacing_m: float = 150.0,
    max_candidates: int = 2000,
    dead_ends: bool = False,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Candidate sites from the walking network (see the module text).

    Parameters
    ----------
    allowed
        Polygons the sites must lie in (any CRS); default: everywhere the network goes.
    spacing_m
        About one candidate per square of this side.
    max_candidates
        At most this many candidates (the spacing grows when the area would give more).

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``N1``, ``N2``…), ``node`` (the graph node), ``members`` (junctions in
        its group), ``moved_m``, ``generated`` (True) and point geometry, in the graph's CRS.
    """
    from sklearn.cluster import KMeans

    if not spacing_m > 0:
        raise ValidationError(f"spacing_m must be positive, got {spacing_m}.")
    net = prepare(graph)
    main = net.component == net.main_component
    degree = np.bincount(np.r_[net.edge_u, net.edge_v], minlength=net.n)
    junction = main & ((degree >= 6) | (dead_ends & (degree >= 1)))  # directed degree: 3 two-way streets
    xy = net.xy[junction]
    nodes = net.node_ids[junction]
    order = np.lexsort((xy[:, 1], xy[:, 0]))  # by place, not by the graph's node order (a cached graph differs)
    xy, nodes = xy[order], nodes[order]
    if allowed is not None:
        area = allowed.to_crs(net.crs).union_all()
        inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
        xy, nodes = xy[inside], nodes[inside]
        land = area.area
    else:
        land = shapely.MultiPoint(xy).convex_hull.area if len(xy) > 2 else 0.0
    if len(xy) == 0:
        raise ValidationError("no street junction lies inside the allowed land; give candidates yourself or widen it.")
    k = int(np.clip(round(land / spacing_m**2), 1, min(max_candidates, len(xy))))
    labels = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(xy).labels_ if k < len(xy) else np.arange(len(xy))
    rows = []
    for g in range(k):
        members = np.flatnonzero(labels == g)
        if len(members) == 0:
            continue
        centre = xy[members].mean(axis=0)
        pick = members[np.argmin(np.hypot(*(xy[members] - centre).T))]
        moved = float(np.hypot(*(xy[members] - xy[pick]).T).max())
        rows.append((nodes[pick], len(members), round(moved, 1), xy[pick]))
    rows.sort(key=lambda r: (r[3][0], r[3][1]))
    points = shapely.points(np.array([r[3] for r in rows]))
    if allowed is not None:
        points = _off_boundaries(points, allowed.to_crs(net.crs))
    return gpd.GeoDataFrame(
        {
            "candidate_id": [f"N{i + 1}" for i in range(len(rows))],
            "node": [r[0] for r in rows],
            "members": [r[1] for r in rows],
            "moved_m": [r[2] for r in rows],
            "generated": True,
        },
        geometry=points,
        crs=net.crs,
    )


def _off_boundaries(points: np.ndarray, allowed: gpd.GeoDataFrame, inward_m: float = 2.0) -> np.ndarray:
    """Points on (or within 1 m of) a polygon's edge moved ``inward_m`` inside the first polygon they touch."""
    polys = allowed.geometry.to_numpy()
    tree = shapely.STRtree(polys)
    out = np.asarray(points, dtype=object).copy()
    for i, pt in enumerate(out):
        hits = np.sort(tree.query(pt, predicate="dwithin", distance=1.0))
        if len(hits) == 0:
            continue
        poly = polys[hits[0]]
        if shapely.distance(poly.boundary, pt) >= 1.0 and shapely.contains(poly, pt):
            continue
        inner = poly.buffer(-inward_m)
        if not inner.is_empty:
            out[i] = shapely.ops.nearest_points(inner, pt)[0]
    return out
