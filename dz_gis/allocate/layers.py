"""Siting on map layers: homes and candidate sites joined to the walking network, minutes by :func:`od_times`.

The cost matrix comes from the same access model as the coverage table and the circles, so a
home a proposal is said to cover is inside that proposal's walking circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._validate import require_nonempty
from ..access.matrix import od_matrix, od_times
from ..network.prepared import Network

__all__ = ["SiteLayers", "site_layers"]


@dataclass
class SiteLayers:
    """Demand and sites on the map, with the demand × sites minutes the model is built from."""

    demand: gpd.GeoDataFrame  #: the demand points, in row order
    sites: gpd.GeoDataFrame  #: candidates then existing facilities, in column order; ``existing`` says which
    cost: Any  #: scipy sparse demand × sites minutes (stored entries: pairs within the cutoff)
    weights: np.ndarray  #: demand weight of each row
    minutes_scale: float  #: factor applied to the graph's minutes (a slower walking speed)


def site_layers(
    graph: Network,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    existing: gpd.GeoDataFrame | None = None,
    weights: str | np.ndarray | None = None,
    cutoff_min: float,
    walk_m_per_min: float | None = None,
) -> SiteLayers:
    """Join demand, candidates and existing facilities to the network and compute the minutes between them.

    Parameters
    ----------
    weights
        A column of ``demand`` (e.g. ``"households"``), an array, or None (each row weighs 1).
    cutoff_min
        Pairs farther than this (at ``walk_m_per_min``) are left out.
    walk_m_per_min
        Walking speed of the people served (e.g. older residents); the graph's minutes are
        scaled by graph speed ÷ this. Default: the graph's own speed.
    """
    require_nonempty(demand, "demand")
    require_nonempty(candidates, "candidates")
    if not demand.index.is_unique:
        raise ValidationError(
            "demand has repeated index labels; give each row its own (demand.reset_index(drop=True))."
        )
    graph_speed = float(graph.graph.get("walk_m_per_min") or np.nan)
    scale = 1.0
    if walk_m_per_min is not None:
        if not walk_m_per_min > 0:
            raise ValidationError(f"walk_m_per_min must be positive, got {walk_m_per_min}.")
        if not np.isfinite(graph_speed):
            raise ValidationError("the graph does not say its walking speed (graph.graph['walk_m_per_min']).")
        scale = graph_speed / float(walk_m_per_min)
    sites = _sites(candidates, existing, demand.crs)
    w = _weights(demand, weights)
    od = od_times(graph, demand, sites, cutoff_min=cutoff_min / scale)
    od["minutes"] *= scale
    cost = od_matrix(od, demand, sites)
    return SiteLayers(demand=demand, sites=sites, cost=cost, weights=w, minutes_scale=scale)


def _sites(candidates: gpd.GeoDataFrame, existing: gpd.GeoDataFrame | None, crs: Any) -> gpd.GeoDataFrame:
    cand = candidates.to_crs(crs).assign(existing=False)
    parts = [cand]
    if existing is not None and len(existing):
        parts.append(existing.to_crs(crs).assign(existing=True))
    sites = pd.concat(parts, ignore_index=True)
    sites = gpd.GeoDataFrame(sites, geometry=sites.geometry.name, crs=crs)
    sites["geometry"] = sites.geometry.representative_point()
    return sites


def _weights(demand: pd.DataFrame, weights: str | np.ndarray | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(demand))
    if isinstance(weights, str):
        if weights not in demand:
            raise ValidationError(f"demand has no column {weights!r} for the weights; columns: {list(demand.columns)}.")
        values = pd.to_numeric(demand[weights], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if len(bad):
            raise ValidationError(
                f"demand column {weights!r} has {len(bad)} missing or negative values (rows {bad[:8].tolist()}); "
                "fill them in or drop those rows."
            )
        return values
    return np.asarray(weights, dtype=float)
