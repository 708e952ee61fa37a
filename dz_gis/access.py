"""Walking time from every place to the nearest facility of each category, and coverage.

Each category costs one Dijkstra (scipy.sparse.csgraph) on the *reversed* graph,
started from a virtual node linked to every facility of that category - not one search
per facility. Reversed, because the time that matters is from home *to* the facility,
and with slopes the two directions differ. The graph's compressed form is built once
(:func:`dz_gis.prepared.prepare`) and reused by every query.

Facilities and demand points join the network at their projected point on the nearest
edge (:mod:`dz_gis.snap`). Points farther than ``max_snap_m`` from the network are
reported in the ``snapped`` table and a warning - never silently dropped, never
silently given a time.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from ._validate import require_columns, require_nonempty
from .prepared import PreparedNetwork, prepare
from .snap import DEFAULT_MAX_SNAP_M, snap

__all__ = ["NearestTimes", "nearest_times", "coverage_by_unit", "snap_points", "DEFAULT_MAX_SNAP_M"]

logger = logging.getLogger(__name__)


class NearestTimes(NamedTuple):
    """Result of :func:`nearest_times`."""

    nodes: pd.DataFrame  #: minutes, indexed by graph node id, one column per category
    demand: pd.DataFrame | None  #: minutes, indexed like the demand points
    snapped: pd.DataFrame  #: how each facility joined the network (``snap_m``, ``too_far``)


def snap_points(
    graph: nx.MultiDiGraph, points: gpd.GeoDataFrame, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> pd.DataFrame:
    """Snap points to the nearest edge of ``graph`` (see :func:`dz_gis.snap.snap`)."""
    return snap(prepare(graph), points, max_snap_m=max_snap_m)


def _facility_sources(net: PreparedNetwork, s: pd.DataFrame, speed_mps: float) -> tuple[np.ndarray, np.ndarray]:
    off = s["snap_m"].to_numpy() / speed_mps
    cols = np.r_[s["u"].to_numpy(), s["v"].to_numpy()]
    secs = np.r_[s["from_u_s"].to_numpy() + off, s["from_v_s"].to_numpy() + off]
    ok = np.isfinite(secs)
    return cols[ok], secs[ok]


def _category_times(net: PreparedNetwork, s: pd.DataFrame, speed_mps: float, limit: float) -> np.ndarray:
    cols, secs = _facility_sources(net, s, speed_mps)
    graph = net.with_source(cols, secs)
    dist = dijkstra(graph, directed=True, indices=net.n, limit=limit)
    return dist[: net.n]


def _demand_times(node_s: np.ndarray, d: pd.DataFrame, f: pd.DataFrame, speed_mps: float) -> np.ndarray:
    """Seconds from demand points to the nearest facility.

    Via either end of their edge, or straight along the edge when a facility sits on it.
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
        ahead = same["pos_m_f"].to_numpy() >= same["pos_m"].to_numpy()
        along = np.where(
            ahead,
            same["from_u_s_f"].to_numpy() - same["from_u_s"].to_numpy(),
            same["from_v_s_f"].to_numpy() - same["from_v_s"].to_numpy(),
        )
        direct = pd.Series(along + same["snap_m_f"].to_numpy() / speed_mps).groupby(same["row"].to_numpy()).min()
        idx = direct.index.to_numpy()
        via[idx] = np.minimum(via[idx], direct.to_numpy())
    return via + d["snap_m"].to_numpy() / speed_mps


def nearest_times(
    graph: nx.MultiDiGraph,
    facilities: gpd.GeoDataFrame,
    *,
    by: str = "category",
    cutoff_min: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
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

    Returns
    -------
    NearestTimes
        ``nodes`` (minutes, graph node index), ``demand`` (minutes, or None) and
        ``snapped`` (the facilities' snapping table).

    Examples
    --------
    >>> import dz_gis
    >>> s = dz_gis.load_sample()
    >>> times = dz_gis.nearest_times(s.graph, s.facilities, cutoff_min=15)
    >>> bool((times.nodes["park"].dropna() <= 15).all())
    True
    """
    require_nonempty(facilities, "facilities")
    require_columns(facilities, [by], "facilities")
    net = prepare(graph)
    speed_mps = net.walk_m_per_min / 60.0
    fsnap = snap(net, facilities, max_snap_m=max_snap_m)
    far = fsnap["too_far"].to_numpy()
    if far.any():
        names = ", ".join(str(i) for i in facilities.index[far][:5])
        warnings.warn(
            f"{int(far.sum())} facilit{'y is' if far.sum() == 1 else 'ies are'} more than {max_snap_m:g} m "
            f"from the walking network and got no time (index {names}); see the 'snapped' table.",
            UserWarning,
            stacklevel=2,
        )
    dsnap = snap(net, demand, max_snap_m=max_snap_m) if demand is not None else None
    if dsnap is not None and dsnap["too_far"].any():
        far_d = dsnap["too_far"].to_numpy()
        names = ", ".join(str(i) for i in demand.index[far_d][:5])
        warnings.warn(
            f"{int(far_d.sum())} demand point(s) are more than {max_snap_m:g} m from the walking network "
            f"and got no time (index {names}).",
            UserWarning,
            stacklevel=2,
        )
    for label, frame, table in (("facilities", facilities, fsnap), ("demand points", demand, dsnap)):
        if table is not None and table["near_island"].any():
            isl = table["near_island"].to_numpy()
            warnings.warn(
                f"{int(isl.sum())} {label} lie nearest to a street not connected to the main walking "
                f"network (index {', '.join(str(i) for i in frame.index[isl][:5])}); they are timed from "
                "the main network instead (column near_island). Check the network there.",
                UserWarning,
                stacklevel=2,
            )
    limit = np.inf if cutoff_min is None else float(cutoff_min) * 60.0
    groups = facilities[by].to_numpy()
    node_cols, demand_cols = {}, {}
    for cat in pd.unique(groups):
        usable = (groups == cat) & ~far
        if not usable.any():
            node_cols[cat] = np.full(net.n, np.inf)
            if dsnap is not None:
                demand_cols[cat] = np.full(len(dsnap), np.inf)
            continue
        fs = fsnap[usable]
        node_cols[cat] = _category_times(net, fs, speed_mps, limit)
        if dsnap is not None:
            t = _demand_times(node_cols[cat], dsnap, fs, speed_mps)
            t[dsnap["too_far"].to_numpy()] = np.inf
            demand_cols[cat] = t

    def minutes(cols: dict, index: pd.Index) -> pd.DataFrame:
        values = np.column_stack([cols[c] for c in cols]) / 60.0 if cols else np.empty((len(index), 0))
        values[~np.isfinite(values) | (values > limit / 60.0)] = np.nan
        return pd.DataFrame(values, index=index, columns=list(cols))

    nodes = minutes(node_cols, pd.Index(net.node_ids, name="node"))
    dem = minutes(demand_cols, demand.index) if demand is not None else None
    return NearestTimes(nodes, dem, fsnap.assign(**{by: groups}))


def coverage_by_unit(
    demand: pd.DataFrame,
    demand_times: pd.DataFrame,
    *,
    unit: str = "community_id",
    weight: str = "households",
    minutes: Sequence[int] = (5, 10, 15),
) -> pd.DataFrame:
    """Coverage per unit and category: shares within each band, median and 90th-percentile time.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit: ``<weight>`` (the total), ``cov_<category>_<m>min`` (share of
        ``weight`` within ``m`` minutes, 0-1), ``covpop_<category>_<m>min`` (share of
        ``population`` when the demand has it), and ``p50_<category>_min`` /
        ``p90_<category>_min`` (``weight``-weighted median and 90th-percentile walking
        time; NaN when fewer than half / 90 % of the weight reaches a facility within
        the times computed). Units with no demand get NaN ("no data"), never 0.
    """
    require_columns(demand, [unit, weight], "demand")
    groups = demand[unit].to_numpy()
    weights = {weight: demand[weight].to_numpy(dtype=float)}
    if "population" in demand and weight != "population":
        weights["population"] = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float)
    out: dict[str, pd.Series] = {}
    totals = {}
    for name, w in weights.items():
        w = np.where(np.isfinite(w), w, 0.0)
        weights[name] = w
        totals[name] = pd.Series(w, index=demand.index).groupby(groups).sum()
    out[weight] = totals[weight]
    for cat in demand_times.columns:
        t = demand_times[cat].to_numpy()
        for name, w in weights.items():
            prefix = "cov" if name == weight else "covpop"
            total = totals[name]
            for m in minutes:
                within = pd.Series(np.where(t <= m, w, 0.0), index=demand.index).groupby(groups).sum()
                out[f"{prefix}_{cat}_{m}min"] = (within / total.where(total > 0)).reindex(total.index)
        for q in (50, 90):
            out[f"p{q}_{cat}_min"] = _weighted_quantile(groups, t, weights[weight], q / 100).reindex(out[weight].index)
    return pd.DataFrame(out)


def _weighted_quantile(groups: np.ndarray, t: np.ndarray, w: np.ndarray, q: float) -> pd.Series:
    """Per group, the smallest time by which a share ``q`` of the weight has arrived."""
    frame = pd.DataFrame({"g": groups, "t": np.where(np.isfinite(t), t, np.inf), "w": w})
    frame = frame[frame["w"] > 0].sort_values(["g", "t"])
    cum = frame.groupby("g")["w"].cumsum()
    total = frame.groupby("g")["w"].transform("sum")
    reached = frame[cum >= q * total - 1e-9]
    first = reached.groupby("g")["t"].first()
    return first.where(np.isfinite(first))
