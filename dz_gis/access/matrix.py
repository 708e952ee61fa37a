"""Walking minutes between every origin and destination within a cutoff: the siting matrix.

Same access model as the coverage table and the circles (:mod:`dz_gis.network.snap`): origins
and destinations join every street they can step onto, the best time wins. Destinations are
searched in batches of neighbours, each destination's search on the reversed graph limited to
the nodes that could be within the cutoff (:func:`dz_gis.access.times.local_times`), and every
origin joined near a batch is read off all its searches at once.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import ValidationError
from .._validate import require_nonempty
from ..network.prepared import Network, PreparedNetwork, prepare
from ..network.snap import DEFAULT_MAX_SNAP_M, DEFAULT_REACH_M, Snapped, snap
from .times import along_street, check_snapped, local_times

__all__ = ["od_times", "od_matrix"]


def od_times(
    graph: Network,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    cutoff_min: float = 15.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    reach_m: float = DEFAULT_REACH_M,
    origin_snap: Snapped | None = None,
    destination_snap: Snapped | None = None,
    batch: int = 64,
) -> pd.DataFrame:
    """Walking minutes from each origin to each destination, for the pairs within ``cutoff_min``.

    Parameters
    ----------
    graph
        Walking graph with ``walk_s`` on every edge.
    origins, destinations
        Points (polygons: a point inside them) in any CRS, e.g. homes and candidate sites.
    cutoff_min
        Pairs farther apart than this are left out (the searches stop there).
    max_snap_m, reach_m
        How points join the network (:func:`dz_gis.network.snap`).
    origin_snap, destination_snap
        The points already joined (:func:`dz_gis.access.snap_points`), to join them once.
    batch
        Destinations searched together.

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``destination`` (the index labels of the two inputs) and ``minutes``, one
        row per pair within the cutoff, sorted by origin then destination. Points too far from
        the network are in no pair.

    Examples
    --------
    >>> import dz_gis
    >>> s = dz_gis.load_sample()
    >>> parks = s.facilities[s.facilities["category"] == "park"]
    >>> od = dz_gis.od_times(s.graph, s.compounds, parks, cutoff_min=10)
    >>> bool((od["minutes"] <= 10).all()) and set(od["destination"]) <= set(parks.index)
    True
    """
    require_nonempty(origins, "origins")
    require_nonempty(destinations, "destinations")
    if not cutoff_min > 0:
        raise ValidationError(f"cutoff_min must be positive, got {cutoff_min}.")
    net = prepare(graph)
    osnap = origin_snap if origin_snap is not None else snap(net, origins, max_snap_m=max_snap_m, reach_m=reach_m)
    dsnap = destination_snap
    if dsnap is None:
        dsnap = snap(net, destinations, max_snap_m=max_snap_m, reach_m=reach_m)
    check_snapped(osnap, origins, "origin_snap")
    check_snapped(dsnap, destinations, "destination_snap")
    pairs = _pairs(net, osnap.attachments, dsnap, float(cutoff_min) * 60.0, batch)
    out = pd.DataFrame(
        {
            "origin": origins.index.to_numpy()[pairs[:, 0].astype(np.int64)],
            "destination": destinations.index.to_numpy()[pairs[:, 1].astype(np.int64)],
            "minutes": pairs[:, 2] / 60.0,
        }
    )
    return out


def od_matrix(
    od: pd.DataFrame, origins: pd.Index | pd.DataFrame, destinations: pd.Index | pd.DataFrame
) -> sp.csr_matrix:
    """The pairs of :func:`od_times` as an origins × destinations sparse matrix of minutes.

    Rows and columns follow the order of ``origins`` and ``destinations`` (frames or their
    indexes); the stored entries are exactly the pairs within the cutoff (a pair 0 minutes
    apart is stored as an explicit 0), every other pair is unreachable within it.
    """
    rows_index = origins.index if isinstance(origins, pd.DataFrame) else pd.Index(origins)
    cols_index = destinations.index if isinstance(destinations, pd.DataFrame) else pd.Index(destinations)
    rows = rows_index.get_indexer(od["origin"])
    cols = cols_index.get_indexer(od["destination"])
    if (rows < 0).any() or (cols < 0).any():
        raise ValidationError("od has origins or destinations that are not in the frames given; pass the same frames.")
    matrix = sp.coo_matrix(
        (od["minutes"].to_numpy(dtype=float), (rows, cols)), shape=(len(rows_index), len(cols_index))
    )
    return matrix.tocsr()


def _pairs(net: PreparedNetwork, o: pd.DataFrame, dsnap: Snapped, limit: float, batch: int) -> np.ndarray:
    """(origin position, destination position, seconds) for every pair within ``limit``."""
    speed = net.walk_m_per_min / 60.0
    o = o.sort_values("point", kind="stable")
    o_point = o["point"].to_numpy()
    o_u, o_v = o["u"].to_numpy(), o["v"].to_numpy()
    o_to_u, o_to_v = o["to_u_s"].to_numpy(), o["to_v_s"].to_numpy()
    o_walk = o["snap_m"].to_numpy() / speed
    by_dest = dict(tuple(dsnap.attachments.groupby("point", sort=False)))
    cell = max(limit * net.fastest_mps, 1.0)
    gx, gy = (net.xy[dsnap.points["u"].to_numpy()] // cell).T
    order = [int(p) for p in np.lexsort((gy, gx)) if int(p) in by_dest]
    found = [np.empty((0, 3))]
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        local, dist, position = local_times(net, [by_dest[p] for p in chunk], limit)
        pu, pv = position[o_u], position[o_v]
        near = np.flatnonzero((pu >= 0) | (pv >= 0))
        if len(near) == 0:
            continue
        # seconds from each nearby origin join to each destination of the chunk, via either end
        du = np.where(pu[near] >= 0, dist[:, np.maximum(pu[near], 0)], np.inf)
        dv = np.where(pv[near] >= 0, dist[:, np.maximum(pv[near], 0)], np.inf)
        t = np.minimum(o_to_u[near] + du, o_to_v[near] + dv) + o_walk[near]
        points, first = np.unique(o_point[near], return_index=True)  # joins sorted by origin
        best = np.minimum.reduceat(t, first, axis=1)  # the best join of each origin
        best = _same_street(best, o.iloc[near], points, [by_dest[p] for p in chunk], speed)
        k, j = np.nonzero(best <= limit)
        found.append(np.column_stack([points[j], np.asarray(chunk)[k], best[k, j]]))
    pairs = np.concatenate(found)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _same_street(
    best: np.ndarray, o: pd.DataFrame, points: np.ndarray, dest_joins: list[pd.DataFrame], speed: float
) -> np.ndarray:
    """``best`` improved by walking straight along a street both an origin and a destination join."""
    d = pd.concat([j.assign(k=i) for i, j in enumerate(dest_joins)], ignore_index=True)
    same = o[["point", "edge", "pos_m", "from_u_s", "from_v_s", "snap_m"]].merge(
        d[["k", "edge", "pos_m", "from_u_s", "from_v_s", "snap_m"]], on="edge", suffixes=("", "_d")
    )
    if len(same) == 0:
        return best
    t = along_street(same, "_d") + (same["snap_m"].to_numpy() + same["snap_m_d"].to_numpy()) / speed
    col = np.searchsorted(points, same["point"].to_numpy())
    np.minimum.at(best, (same["k"].to_numpy(), col), t)
    return best
