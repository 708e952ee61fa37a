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
contributes exactly that land. Faces share their street lines vertex for vertex, so
they merge with GEOS's fast coverage union; only faces at the frontier, with streets
partly reached, are buffered on the fly (:mod:`dz_gis.access._polygons`). Every
polygon is checked valid: GEOS's coverage union trusts its input, and frontier pieces
of two faces can disagree along their street by a hair, so those are merged first.

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
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from .._errors import ValidationError
from .._gc import gc_paused
from .._validate import require_columns, require_nonempty
from ..network.prepared import PreparedNetwork, prepare
from ..network.snap import DEFAULT_MAX_SNAP_M, snap
from ._faces import StreetFaces, street_faces
from ._polygons import BUFFER_QUAD_SEGS, NodeTimes, band_polygons
from .times import category_times, check_snapped

__all__ = ["DEFAULT_OFFSET_M", "isochrones"]

logger = logging.getLogger(__name__)

#: Land within this distance of a reached street belongs to the isochrone.
DEFAULT_OFFSET_M = 25.0


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
    facility_snap: pd.DataFrame | None = None,
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
        snapped = facility_snap if facility_snap is not None else snap(net, facilities, max_snap_m=max_snap_m)
        check_snapped(snapped, facilities, "facility_snap")
        s = snapped.reset_index(drop=True)
        s["off_s"] = s["snap_m"] / (net.walk_m_per_min / 60.0)
        s[by] = facilities[by].to_numpy()
        faces = street_faces(net, offset_m, BUFFER_QUAD_SEGS)
        if dissolve:
            return _dissolved(net, faces, s, bands, by, pool)
        return _per_facility(net, faces, s, bands, by, facilities[id_column].to_numpy(), id_column, batch, pool)


def _dissolved(
    net: PreparedNetwork, faces: StreetFaces, s: pd.DataFrame, bands: list[float], by: str, pool: ThreadPoolExecutor
) -> gpd.GeoDataFrame:
    """One polygon per category and band, from one multi-source search per category."""
    speed, limit = net.walk_m_per_min / 60.0, max(bands) * 60.0
    tasks = []
    for cat, grp in s[~s["too_far"]].groupby(by, sort=False):
        dist = NodeTimes(np.arange(net.n), category_times(net, grp, speed, limit))
        own = list(zip(grp["edge"], grp["pos_m"], grp["off_s"], strict=True))
        tasks += [(cat, m, dist, own) for m in bands]
    polys = pool.map(lambda t: band_polygons(net, faces, t[2], [t[1] * 60.0], t[3])[0], tasks)
    rows = [{by: cat, "minutes": m, "geometry": g} for (cat, m, _, _), g in zip(tasks, polys, strict=True)]
    return gpd.GeoDataFrame(rows, columns=[by, "minutes", "geometry"], geometry="geometry", crs=net.crs)


def _per_facility(
    net: PreparedNetwork,
    faces: StreetFaces,
    s: pd.DataFrame,
    bands: list[float],
    by: str,
    ids: np.ndarray,
    id_column: str,
    batch: int,
    pool: ThreadPoolExecutor,
) -> gpd.GeoDataFrame:
    """One polygon per facility and band; batches of neighbouring facilities share a search."""
    limit = max(bands) * 60.0
    rows: list[dict] = []
    # batches of neighbouring facilities share most of their search area
    cell = max(limit * net.fastest_mps, 1.0)
    gx, gy = (net.xy[s["u"].to_numpy()] // cell).T
    spatial = s.iloc[np.lexsort((gy, gx))]
    pending: deque[tuple[list, list]] = deque()
    for start in range(0, len(spatial), batch):
        chunk = spatial.iloc[start : start + batch]
        local, dist, position = _batch_times(net, chunk, limit)

        def one(k: int, row, local=local, dist=dist, position=position) -> list:
            times = NodeTimes(local, dist[k], position)
            own = [(row.edge, row.pos_m, row.off_s)]
            return band_polygons(net, faces, times, [m * 60.0 for m in bands], own)

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
    radius = limit * net.fastest_mps + 1.0
    xy = np.column_stack([net.xy[chunk["u"].to_numpy()], net.xy[chunk["v"].to_numpy()]]).reshape(-1, 2)
    near = net.node_tree.query_ball_point(xy, radius)
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
