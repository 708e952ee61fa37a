"""Provisional community units and streets built from street blocks, for places without boundaries.

Where no official community (社区) boundaries exist, blocks enclosed by streets are
grouped into contiguous units whose households fall in the plan's range for a
traditional urban community (1,500-4,000 households, ch.3 §1), and the units into
contiguous provisional streets (街道). The result says so: ``provisional`` is True and
``unit_method`` / ``street_method`` describe how each was made.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .._errors import ValidationError
from ..network import WALKABLE_HIGHWAYS

__all__ = ["street_blocks", "communities_from_blocks", "streets_from_units", "assign_units"]

logger = logging.getLogger(__name__)

# Streets that bound blocks: the walkable ways minus paths, lanes and steps inside blocks.
_BLOCK_STREETS = WALKABLE_HIGHWAYS - {
    "footway",
    "path",
    "trail",
    "steps",
    "corridor",
    "elevator",
    "cycleway",
    "service",
    "track",
    "road",
}


def street_blocks(graph: nx.MultiDiGraph, *, min_area_m2: float = 500.0) -> gpd.GeoDataFrame:
    """Polygons enclosed by the graph's streets (footpaths and service lanes ignored).

    Returns
    -------
    geopandas.GeoDataFrame
        ``block_id`` and polygon geometry in the graph CRS.
    """
    lines = [d["geometry"] for _, _, d in graph.edges(data=True) if d.get("highway") in _BLOCK_STREETS]
    if not lines:
        raise ValidationError("The network has no streets to form blocks from.")
    merged = shapely.union_all(lines)
    hull = shapely.convex_hull(merged)
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all([merged, hull.boundary]))))
    polys = polys[shapely.area(polys) >= min_area_m2]
    return gpd.GeoDataFrame({"block_id": np.arange(len(polys))}, geometry=polys, crs=graph.graph["crs"])


def communities_from_blocks(
    blocks: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    *,
    min_households: float = 1500,
    max_households: float = 4000,
    persons_per_household: float | None = None,
) -> gpd.GeoDataFrame:
    """Group contiguous street blocks into provisional community units.

    As many units as the size rule allows, each of ``min_households`` to ``max_households``
    households: the construction step of max-p regionalisation (Duque, Anselin & Rey 2012),
    written by hand because regionalisation libraries (e.g. spopt's max-p) enforce the
    minimum but not the plan's maximum. A unit grows from a seed block, taking the
    adjacent block nearest the seed until it holds ``min_households``; blocks and units left
    below the minimum join their smallest neighbour that has room. Four seed orders are
    tried (from the west, east, south and north edge) and the one with most units in range
    is kept, so the result depends on the data only.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id, name, households, population, provisional, unit_method,
        size_ok`` with polygon geometry, in the blocks' CRS.
    """
    households = _households_per_block(blocks, compounds)
    if households.sum() <= 0:
        raise ValidationError("No compound lies inside a street block; cannot form community units.")
    geoms = blocks.geometry.array
    adj = _adjacency(geoms)
    unit = _best_partition(adj, households, geoms, low=min_households, high=max_households)
    keep = unit >= 0
    frame = gpd.GeoDataFrame({"unit": unit[keep], "households": households[keep]}, geometry=geoms[keep], crs=blocks.crs)
    units = frame.dissolve(by="unit", aggfunc="sum").reset_index(drop=True)
    units = units.sort_values("households", ascending=False, kind="stable").reset_index(drop=True)
    units.insert(0, "community_id", [f"U{i + 1:02d}" for i in range(len(units))])
    units.insert(1, "name", [f"Provisional unit {i + 1}" for i in range(len(units))])
    if persons_per_household is not None:
        units["population"] = np.round(units["households"] * persons_per_household)
    else:
        units["population"] = np.nan
    units["provisional"] = True
    units["unit_method"] = (
        f"street blocks grouped into contiguous units of {min_households:,.0f}-{max_households:,.0f} households, "
        "as many as that range allows (not an official boundary)"
    )
    units["size_ok"] = units["households"].between(min_households, max_households)
    if not units["size_ok"].all():
        logger.info("%d provisional unit(s) outside the size range", int((~units["size_ok"]).sum()))
    cols = ["community_id", "name", "households", "population", "provisional", "unit_method", "size_ok", "geometry"]
    return units[cols]


def streets_from_units(units: gpd.GeoDataFrame, *, communities_per_street: float = 5) -> gpd.GeoDataFrame:
    """Group contiguous community units into provisional streets (街道).

    ``round(n / communities_per_street)`` streets (at least one) of about equal numbers of
    units, grown over the units' adjacency as :func:`communities_from_blocks` grows units;
    a street left with fewer than half that number joins its smallest neighbour. The
    street column is what the gap engine dissolves street units from
    (:func:`dz_gis.scopes.build_units`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``units`` with ``street`` (``Provisional street 1`` …, numbered from the
        west) and ``street_method``.
    """
    if communities_per_street <= 0:
        raise ValidationError(f"communities_per_street={communities_per_street!r}: must be positive.")
    out = units.copy()
    if len(units) == 0:
        return out.assign(street=pd.Series(dtype=object), street_method=pd.Series(dtype=object))
    geoms = units.geometry.array
    n_streets = max(1, round(len(units) / communities_per_street))
    target = len(units) / n_streets
    ones = np.ones(len(units))
    street = _best_partition(
        _adjacency(geoms), ones, geoms, low=max(1.0, np.floor(target / 2)), high=np.inf, target=target, orders=1
    )
    out["street"] = [f"Provisional street {k + 1}" for k in street]
    out["street_method"] = (
        f"contiguous community units grouped into {n_streets} street(s) of about {communities_per_street:g} units "
        f"({len(units)} units / {communities_per_street:g}, rounded; not an official boundary)"
    )
    return out


def _households_per_block(blocks: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame) -> np.ndarray:
    comp = compounds.to_crs(blocks.crs)
    pts = gpd.GeoDataFrame(geometry=comp.geometry.representative_point(), crs=blocks.crs)
    joined = gpd.sjoin(pts, blocks[["geometry"]].reset_index(drop=True), predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    block_of = joined["index_right"].reindex(pts.index).to_numpy()
    hh = comp["households"].groupby(block_of).sum()
    return hh.reindex(range(len(blocks)), fill_value=0.0).to_numpy(dtype=float)


def _adjacency(geoms: Any) -> nx.Graph:
    """Polygons that touch (within 1 m) are neighbours."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, 1.0), predicate="intersects")
    adj = nx.Graph()
    adj.add_nodes_from(range(len(geoms)))
    adj.add_edges_from((int(a), int(b)) for a, b in zip(left, right, strict=True) if a != b)
    return adj


def _best_partition(
    adj: nx.Graph,
    weight: np.ndarray,
    geoms: Any,
    *,
    low: float,
    high: float,
    target: float | None = None,
    orders: int = 4,
) -> np.ndarray:
    """The partition with most regions in [low, high] over up to four seed orders (-1: left out)."""
    centre = shapely.centroid(geoms)
    cx, cy = shapely.get_x(centre), shapely.get_y(centre)
    seeds = [np.lexsort((cy, cx)), np.lexsort((cy, -cx)), np.lexsort((cx, cy)), np.lexsort((cx, -cy))][:orders]
    best, best_score = None, None
    for order in seeds:
        label = _grow(adj, weight, cx, cy, order, target=low if target is None else target, high=high)
        label = _merge_small(adj, weight, label, low=low, high=high)
        label = _renumber(label, order)
        sums = np.bincount(label[label >= 0], weights=weight[label >= 0]) if (label >= 0).any() else np.zeros(0)
        sums = sums[sums > 0]
        score = (int(((sums >= low) & (sums <= high)).sum()), -int(((sums < low) | (sums > high)).sum()))
        if best_score is None or score > best_score:
            best, best_score = label, score
    assert best is not None  # at least one order
    return best


def _grow(
    adj: nx.Graph, weight: np.ndarray, cx: np.ndarray, cy: np.ndarray, order: np.ndarray, *, target: float, high: float
) -> np.ndarray:
    """Regions grown from seeds in ``order``, each taking the adjacent item nearest its seed until ``target``."""
    label = np.full(len(weight), -1)
    k = 0
    for seed in order:
        if label[seed] >= 0 or weight[seed] <= 0:
            continue
        label[seed] = k
        size = weight[seed]
        members = [int(seed)]
        while size < target:
            around = {n for b in members for n in adj[b] if label[n] < 0}
            frontier = [n for n in around if size + weight[n] <= high]
            if not frontier:
                break
            nxt = min(frontier, key=lambda n: ((cx[n] - cx[seed]) ** 2 + (cy[n] - cy[seed]) ** 2, n))
            label[nxt] = k
            members.append(nxt)
            size += weight[nxt]
        k += 1
    return label


def _merge_small(adj: nx.Graph, weight: np.ndarray, label: np.ndarray, *, low: float, high: float) -> np.ndarray:
    """Items left out and regions below ``low`` join their smallest neighbouring region with room."""
    label = label.copy()
    sums = np.bincount(label[label >= 0], weights=weight[label >= 0], minlength=int(label.max()) + 1)
    changed = True
    while changed:
        changed = False
        for b in range(len(weight)):
            own = label[b]
            if own >= 0 and sums[own] >= low:
                continue
            moving = weight[b] if own < 0 else sums[own]
            neigh = sorted({int(label[n]) for n in adj[b] if label[n] >= 0 and label[n] != own})
            room = [u for u in neigh if sums[u] + moving <= high]
            if not room:
                continue
            dest = min(room, key=lambda u: (sums[u], u))
            sums[dest] += moving
            if own >= 0:
                sums[own] = 0
                label[label == own] = dest
            else:
                label[b] = dest
            changed = True
    return label


def _renumber(label: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Regions numbered 0, 1, … in the order their first item comes in ``order``."""
    out = np.full(len(label), -1)
    seen: dict[int, int] = {}
    for i in order:
        if label[i] >= 0 and label[i] not in seen:
            seen[int(label[i])] = len(seen)
    for old, new in seen.items():
        out[label == old] = new
    return out


def assign_units(compounds: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.Series:
    """The ``community_id`` of the unit containing each compound's representative point."""
    pts = gpd.GeoDataFrame(geometry=compounds.geometry.representative_point(), crs=compounds.crs).to_crs(units.crs)
    joined = gpd.sjoin(pts, units[["community_id", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    result = joined["community_id"].reindex(pts.index)
    missing = result.isna().to_numpy()
    if missing.any():
        # a compound across a street from every block: take the nearest unit
        near = gpd.sjoin_nearest(pts[missing], units[["community_id", "geometry"]].to_crs(pts.crs))
        near = near[~near.index.duplicated()]
        result[missing] = near["community_id"].reindex(pts.index[missing]).to_numpy()
    result.index = compounds.index
    return result
