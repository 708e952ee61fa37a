"""Walking time from every place to the nearest facility of each category, and coverage.

Each category costs one Dijkstra (scipy.sparse.csgraph) on the *reversed* graph,
started from a virtual node linked to every facility of that category - not one search
per facility. Reversed, because the time that matters is from home *to* the facility,
and with slopes the two directions differ. The graph's compressed form is built once
(:func:`dz_gis.network.prepare`) and reused by every query.

Facilities and demand points join the network at their projected point on the nearest
edge (:mod:`dz_gis.network.snap`). Points farther than ``max_snap_m`` from the network are
reported in the ``snapped`` table and a warning - never silently dropped, never
silently given a time.
"""

from __future__ import annotations

import logging
import warnings
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .._arrays import unique_ints
from .._errors import ValidationError
from .._validate import require_columns, require_nonempty
from ..network.prepared import Network, PreparedNetwork, prepare
from ..network.snap import DEFAULT_MAX_SNAP_M, DEFAULT_REACH_M, Snapped, snap

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "DEFAULT_REACH_M",
    "NearestTimes",
    "along_street",
    "category_times",
    "local_times",
    "check_snapped",
    "nearest_times",
    "point_times",
    "snap_points",
]

logger = logging.getLogger(__name__)


class NearestTimes(NamedTuple):
    """Result of :func:`nearest_times`."""

    nodes: pd.DataFrame  #: minutes, indexed by graph node id, one column per category
    demand: pd.DataFrame | None  #: minutes, indexed like the demand points
    snapped: pd.DataFrame  #: how each facility joined the network (nearest ``snap_m``, ``too_far``, ``streets``)


def snap_points(
    graph: Network,
    points: gpd.GeoDataFrame,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    reach_m: float = DEFAULT_REACH_M,
) -> Snapped:
    """How points join the walking network (see :func:`dz_gis.network.snap`).

    Pass the result to :func:`nearest_times` (``facility_snap=``, ``demand_snap=``) or
    :func:`dz_gis.isochrones` to join the same points once for several computations.
    """
    return snap(prepare(graph), points, max_snap_m=max_snap_m, reach_m=reach_m)


def check_snapped(snapped: Snapped, points: pd.DataFrame, name: str) -> None:
    """Joins passed in must belong to ``points``: same length, same index."""
    if len(snapped.points) != len(points) or not snapped.points.index.equals(points.index):
        raise ValidationError(
            f"{name} has {len(snapped.points)} rows for {len(points)} points (or another index); pass "
            "snap_points(graph, points) of these very points, or leave it out to snap them here."
        )


def _sources(joins: pd.DataFrame, speed_mps: float) -> tuple[np.ndarray, np.ndarray]:
    """Graph nodes and seconds to them from the points of ``joins`` (both ends of each join)."""
    off = joins["snap_m"].to_numpy() / speed_mps
    cols = np.r_[joins["u"].to_numpy(), joins["v"].to_numpy()]
    secs = np.r_[joins["from_u_s"].to_numpy() + off, joins["from_v_s"].to_numpy() + off]
    ok = np.isfinite(secs)
    return cols[ok], secs[ok]


def category_times(net: PreparedNetwork, joins: pd.DataFrame, speed_mps: float, limit: float) -> np.ndarray:
    """Seconds from every node to the nearest of the facilities joined by ``joins``: one search."""
    cols, secs = _sources(joins, speed_mps)
    graph = net.with_source(cols, secs)
    dist = dijkstra(graph, directed=True, indices=net.n, limit=limit)
    return dist[: net.n]


def along_street(same: pd.DataFrame, to: str) -> np.ndarray:
    """Seconds walking along a street from one join to another on the same edge, row by row.

    ``same`` pairs joins on one edge: ``pos_m``, ``from_u_s``, ``from_v_s`` of the start and
    the same columns with the suffix ``to`` of the end; inf where a one-way edge forbids it.
    """
    ahead = same[f"pos_m{to}"].to_numpy() >= same["pos_m"].to_numpy()
    with np.errstate(invalid="ignore"):  # inf - inf on a one-way edge: no way along it
        along = np.where(
            ahead,
            same[f"from_u_s{to}"].to_numpy() - same["from_u_s"].to_numpy(),
            same[f"from_v_s{to}"].to_numpy() - same["from_v_s"].to_numpy(),
        )
    return np.where(np.isnan(along), np.inf, along)


def point_times(node_s: np.ndarray, d: pd.DataFrame, f: pd.DataFrame, speed_mps: float, n_points: int) -> np.ndarray:
    """Seconds from each point (joined by ``d``) to the nearest facility (joined by ``f``); inf: none.

    Through every street a point joins: via either end of it, or straight along it when a
    facility joins the same street; the best join wins.
    """
    u, v = d["u"].to_numpy(), d["v"].to_numpy()
    via = np.minimum(d["to_u_s"].to_numpy() + node_s[u], d["to_v_s"].to_numpy() + node_s[v])
    same = (
        d[["edge", "pos_m", "from_u_s", "from_v_s"]]
        .reset_index(drop=True)
        .reset_index(names="row")
        .merge(
            f[["edge", "pos_m", "from_u_s", "from_v_s", "snap_m"]].add_suffix("_f").rename(columns={"edge_f": "edge"}),
            on="edge",
        )
    )
    if len(same):
        along = along_street(same, "_f")
        direct = pd.Series(along + same["snap_m_f"].to_numpy() / speed_mps).groupby(same["row"].to_numpy()).min()
        idx = direct.index.to_numpy()
        via[idx] = np.minimum(via[idx], direct.to_numpy())
    out = np.full(n_points, np.inf)
    np.minimum.at(out, d["point"].to_numpy(), via + d["snap_m"].to_numpy() / speed_mps)
    return out


def nearest_times(
    graph: Network,
    facilities: gpd.GeoDataFrame,
    *,
    by: str = "category",
    cutoff_min: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    reach_m: float = DEFAULT_REACH_M,
    facility_snap: Snapped | None = None,
    demand_snap: Snapped | None = None,
) -> NearestTimes:
    """Walking minutes from every node (and demand point) to the nearest facility of each category.

    Parameters
    ----------
    graph
        Walking graph in the OSMnx convention with ``walk_s`` on every edge (any
        source: :mod:`dz_gis.network`, OSMnx, or a planner's own survey network).
    facilities
        Points (or polygons) with a ``by`` column, in any CRS.
    by
        Column that groups facilities; one Dijkstra per group.
    cutoff_min
        Times beyond this are NaN, and the searches stop there.
    demand
        Optional demand points or polygons (e.g. compounds); their times include the
        partial edge and their own snap walk.
    max_snap_m
        Facilities and demand points farther than this from the network get no time.
    reach_m
        Points join every enterable street within this distance (and their nearest one).
    facility_snap, demand_snap
        The points already snapped (:func:`snap_points` with the same ``max_snap_m``), so a
        run that needs them elsewhere snaps once.

    Returns
    -------
    NearestTimes
        ``nodes`` (minutes, graph node index), ``demand`` (minutes, or None) and
        ``snapped`` (the facilities' snapping table).

    Examples
    --------
    >>> import warnings
    >>> import dz_gis
    >>> s = dz_gis.load_sample()
    >>> with warnings.catch_warnings(record=True) as caught:  # the sample has facilities by stray paths
    ...     warnings.simplefilter("always")
    ...     times = dz_gis.nearest_times(s.graph, s.facilities, cutoff_min=15, demand=s.compounds)
    >>> any("not connected to the main walking network" in str(w.message) for w in caught)
    True
    >>> bool((times.nodes["park"].dropna() <= 15).all())
    True
    >>> list(times.demand.columns) == list(s.facilities["category"].unique())
    True
    """
    require_nonempty(facilities, "facilities")
    require_columns(facilities, [by], "facilities")
    net = prepare(graph)
    speed_mps = net.walk_m_per_min / 60.0
    fsnap = (
        facility_snap if facility_snap is not None else snap(net, facilities, max_snap_m=max_snap_m, reach_m=reach_m)
    )
    check_snapped(fsnap, facilities, "facility_snap")
    dsnap = None
    if demand is not None:
        dsnap = demand_snap if demand_snap is not None else snap(net, demand, max_snap_m=max_snap_m, reach_m=reach_m)
        check_snapped(dsnap, demand, "demand_snap")
    _warn_unjoined(fsnap, dsnap, max_snap_m)
    limit = np.inf if cutoff_min is None else float(cutoff_min) * 60.0
    groups = facilities[by].to_numpy()
    node_cols, demand_cols = {}, {}
    for cat in pd.unique(groups):
        joins = fsnap.of(np.flatnonzero(groups == cat))
        if len(joins) == 0:  # every facility of the category too far from the network
            node_cols[cat] = np.full(net.n, np.inf)
            if dsnap is not None:
                demand_cols[cat] = np.full(len(dsnap.points), np.inf)
            continue
        node_cols[cat] = category_times(net, joins, speed_mps, limit)
        if dsnap is not None:
            demand_cols[cat] = point_times(node_cols[cat], dsnap.attachments, joins, speed_mps, len(dsnap.points))

    def minutes(cols: dict, index: pd.Index) -> pd.DataFrame:
        values = np.column_stack([cols[c] for c in cols]) / 60.0 if cols else np.empty((len(index), 0))
        values[~np.isfinite(values) | (values > limit / 60.0)] = np.nan
        return pd.DataFrame(values, index=index, columns=list(cols))

    nodes = minutes(node_cols, pd.Index(net.node_ids, name="node"))
    dem = minutes(demand_cols, demand.index) if demand is not None else None
    return NearestTimes(nodes, dem, fsnap.points.assign(**{by: groups}))


def _warn_unjoined(fsnap: Snapped, dsnap: Snapped | None, max_snap_m: float) -> None:
    """Warn about facilities and demand points too far from the network, or nearest to a fragment."""
    for label, snapped in (("facilities", fsnap), ("demand points", dsnap)):
        if snapped is None:
            continue
        table = snapped.points
        far = table["too_far"].to_numpy()
        if far.any():
            warnings.warn(
                f"{int(far.sum())} {label} are more than {max_snap_m:g} m from the walking network and got no "
                f"time (index {', '.join(str(i) for i in table.index[far][:5])}); see the 'snapped' table.",
                UserWarning,
                stacklevel=3,
            )
        isl = table["near_island"].to_numpy() & ~far
        if isl.any():
            warnings.warn(
                f"{int(isl.sum())} {label} lie nearest to a street not connected to the main walking "
                f"network (index {', '.join(str(i) for i in table.index[isl][:5])}); they are joined to that "
                "fragment and to the main network (column near_island). Check the network there.",
                UserWarning,
                stacklevel=3,
            )


def local_times(
    net: PreparedNetwork, facility_joins: list[pd.DataFrame], limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node times (s) to each facility (given by its joins): one search per facility, run together.

    Returns the node rows searched, a (facility × those nodes) array of seconds and each
    graph node's position among them (-1 when not searched).

    Only nodes that could be reached at all take part: no walk is faster than the
    network's fastest edge, so nothing farther (in a straight line) than
    ``limit × fastest speed`` from a facility can be within ``limit``. On a city-sized
    graph this shrinks each search from every node to a few thousand.
    """
    n, k = net.n, len(facility_joins)
    joins = pd.concat(facility_joins, ignore_index=True)
    owner = np.repeat(np.arange(k), [len(j) for j in facility_joins])
    radius = limit * net.fastest_mps + 1.0
    ends = np.r_[joins["u"].to_numpy(), joins["v"].to_numpy()]
    near = net.node_tree.query_ball_point(net.xy[ends], radius)
    local = unique_ints(np.concatenate([np.asarray(x, dtype=np.int64) for x in near] + [np.zeros(0, np.int64)]))
    position = np.full(n, -1, dtype=np.int64)
    position[local] = np.arange(len(local))
    sub = net.reverse_csr[local][:, local]
    m = len(local)
    rows = np.r_[owner, owner]
    cols = position[ends]
    off = joins["snap_m"].to_numpy() / (net.walk_m_per_min / 60.0)
    secs = np.r_[joins["from_u_s"].to_numpy() + off, joins["from_v_s"].to_numpy() + off]
    ok = np.isfinite(secs) & (cols >= 0)
    # duplicate (facility, node) entries are summed by scipy: keep the fastest of each
    key = rows[ok] * m + cols[ok]
    best = pd.Series(secs[ok]).groupby(key).min()
    src = sp.csr_matrix(
        (np.maximum(best.to_numpy(), 1e-9), (best.index.to_numpy() // m, best.index.to_numpy() % m)), shape=(k, m)
    )
    graph = sp.vstack([sp.hstack([sub, sp.csr_matrix((m, k))]), sp.hstack([src, sp.csr_matrix((k, k))])]).tocsr()
    dist = dijkstra(graph, directed=True, indices=np.arange(m, m + k), limit=limit)[:, :m]
    return local, dist, position
