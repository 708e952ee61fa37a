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
graph (:mod:`dz_gis.access._faces`); for each face, the land within ``offset_m`` of its own
streets is precomputed. The nearest street to any point of a face lies on that face's
boundary (or on a dead end inside it), so a face whose streets are all reached
contributes exactly that land, and faces share their street lines vertex for vertex, so
they merge with GEOS's fast coverage union. Only the other reached streets, those of
faces at the frontier, are buffered on the fly, in one buffer per polygon of the streets
joined into long chains (:mod:`dz_gis.access._chains`), then merged with the whole faces
(:mod:`dz_gis.access._polygons`). That buffer adds nothing inside a whole face (a point of
it within the offset of a street outside is nearer the face's own ring), so the result is
exactly the land within the offset of every reached street.

Per facility, the three bands share one search, one set of street pieces and their
times; batches of neighbouring facilities share one local search; the next batch's
search runs while threads (GEOS releases the GIL) build this batch's polygons.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import ValidationError
from .._gc import gc_paused
from .._progress import bar
from .._validate import require_columns, require_nonempty
from ..network.prepared import Network, PreparedNetwork, prepare
from ..network.snap import DEFAULT_MAX_SNAP_M, DEFAULT_REACH_M, Snapped, snap
from ._faces import StreetFaces, street_faces
from ._polygons import BUFFER_QUAD_SEGS, NodeTimes, band_polygons
from .times import category_times, check_snapped, local_times

__all__ = ["DEFAULT_OFFSET_M", "isochrones"]

logger = logging.getLogger(__name__)

#: Land within this distance of a reached street belongs to the isochrone (as far as points
#: join streets: a home in a circle is then timed within the circle's band).
DEFAULT_OFFSET_M = DEFAULT_REACH_M


def isochrones(
    graph: Network,
    facilities: gpd.GeoDataFrame,
    *,
    minutes: Sequence[float] = (5, 10, 15),
    dissolve: bool = False,
    by: str = "category",
    id_column: str = "facility_id",
    offset_m: float = DEFAULT_OFFSET_M,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    reach_m: float | None = None,
    facility_snap: Snapped | None = None,
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
    reach_m
        Facilities join every enterable street within this distance (and their nearest one);
        default ``offset_m``. The circles agree with :func:`dz_gis.nearest_times` when homes are
        joined with the same distance as the circles' offset.
    facility_snap
        The facilities already snapped (:func:`dz_gis.access.snap_points`), to snap once per run.
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
    # GEOS and NumPy release the GIL, so threads share the polygon work without
    # copying the graph into other processes
    with gc_paused(), ThreadPoolExecutor(max_workers=n_jobs or os.cpu_count() or 1) as pool:
        net = prepare(graph)
        snapped = (
            facility_snap
            if facility_snap is not None
            else snap(net, facilities, max_snap_m=max_snap_m, reach_m=offset_m if reach_m is None else reach_m)
        )
        check_snapped(snapped, facilities, "facility_snap")
        joins = snapped.attachments.assign(off_s=snapped.attachments["snap_m"] / (net.walk_m_per_min / 60.0))
        groups = facilities[by].to_numpy()
        faces = street_faces(net, offset_m, BUFFER_QUAD_SEGS)
        if dissolve:
            return _dissolved(net, faces, joins, groups, bands, by, pool)
        ids = facilities[id_column].to_numpy()
        near_u = snapped.points["u"].to_numpy()
        return _per_facility(net, faces, joins, near_u, groups, ids, bands, (by, id_column), batch, pool)


def _own(joins: pd.DataFrame) -> list[tuple[int, float, float]]:
    """The facilities' own streets: (edge, position m, snap walk s) of each join."""
    return list(zip(joins["edge"].tolist(), joins["pos_m"].tolist(), joins["off_s"].tolist(), strict=True))


def _dissolved(
    net: PreparedNetwork,
    faces: StreetFaces,
    joins: pd.DataFrame,
    groups: np.ndarray,
    bands: list[float],
    by: str,
    pool: ThreadPoolExecutor,
) -> gpd.GeoDataFrame:
    """One polygon per category and band, from one multi-source search per category."""
    speed, limit = net.walk_m_per_min / 60.0, max(bands) * 60.0
    tasks = []
    for cat in pd.unique(groups):
        mine = joins[np.isin(joins["point"].to_numpy(), np.flatnonzero(groups == cat))]
        if len(mine) == 0:  # every facility of the category too far from the network
            continue
        dist = NodeTimes(np.arange(net.n), category_times(net, mine, speed, limit))
        tasks += [(cat, m, dist, _own(mine)) for m in bands]
    polys = pool.map(lambda t: band_polygons(net, faces, t[2], [t[1] * 60.0], t[3])[0], tasks)
    rows = [{by: cat, "minutes": m, "geometry": g} for (cat, m, _, _), g in zip(tasks, polys, strict=True)]
    return gpd.GeoDataFrame(rows, columns=[by, "minutes", "geometry"], geometry="geometry", crs=net.crs)


def _per_facility(
    net: PreparedNetwork,
    faces: StreetFaces,
    joins: pd.DataFrame,
    near_u: np.ndarray,
    groups: np.ndarray,
    ids: np.ndarray,
    bands: list[float],
    columns: tuple[str, str],
    batch: int,
    pool: ThreadPoolExecutor,
) -> gpd.GeoDataFrame:
    """One polygon per facility and band; batches of neighbouring facilities share a search."""
    by, id_column = columns
    limit = max(bands) * 60.0
    bands_s = [m * 60.0 for m in bands]
    by_point = dict(tuple(joins.groupby("point", sort=False)))
    # batches of neighbouring facilities share most of their search area
    cell = max(limit * net.fastest_mps, 1.0)
    gx, gy = (net.xy[near_u] // cell).T
    order = np.lexsort((gy, gx))
    geoms: dict[int, list] = {}
    pending: deque[tuple[list[int], list]] = deque()
    with bar(len(order), "isochrones 等时圈", unit=" facilities") as progress:
        for start in range(0, len(order), batch):
            chunk = [int(p) for p in order[start : start + batch] if int(p) in by_point]
            for p in order[start : start + batch]:
                if int(p) not in by_point:  # too far from the network: no circle
                    geoms[int(p)] = [shapely.Polygon() for _ in bands]
            if not chunk:
                continue
            local, dist, position = local_times(net, [by_point[p] for p in chunk], limit)

            def one(k: int, p: int, local=local, dist=dist, position=position) -> list:
                return band_polygons(net, faces, NodeTimes(local, dist[k], position), bands_s, _own(by_point[p]))

            pending.append((chunk, [pool.submit(one, k, p) for k, p in enumerate(chunk)]))
            # the next batch's search runs while the threads work on this one
            if len(pending) > 1:
                done, futures = pending.popleft()
                geoms.update({p: f.result() for p, f in zip(done, futures, strict=True)})
                progress.update(len(done))
        while pending:
            done, futures = pending.popleft()
            geoms.update({p: f.result() for p, f in zip(done, futures, strict=True)})
            progress.update(len(done))
    rows = [
        {id_column: ids[p], by: groups[p], "minutes": m, "geometry": g}
        for p in range(len(ids))
        for m, g in zip(bands, geoms[p], strict=True)
    ]
    return gpd.GeoDataFrame(rows, columns=[id_column, by, "minutes", "geometry"], geometry="geometry", crs=net.crs)
