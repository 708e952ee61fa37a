"""Provisional community units built from street blocks, for places without boundaries.

Where no official community (社区) boundaries exist, blocks enclosed by streets are
grouped into contiguous units whose households fall in the plan's range for a
traditional urban community (1,500-4,000 households, ch.3 §1). The result says so:
``provisional`` is True and ``unit_method`` describes how the unit was made.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .._errors import ValidationError
from ..network import WALKABLE_HIGHWAYS

__all__ = ["street_blocks", "communities_from_blocks", "assign_units"]

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

    Written by hand: regionalisation libraries (e.g. spopt's max-p) enforce a minimum
    size but not the plan's maximum, and a greedy growth over block adjacency is short
    and predictable. Units grow from the westernmost unassigned block, taking the
    nearest adjacent block until they reach the target size; blocks left over join
    their smallest neighbour unit.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id, name, households, population, provisional, unit_method,
        size_ok`` with polygon geometry, in the blocks' CRS.
    """
    # long: grow, then merge the undersized units; both loops share the adjacency and running sums.
    comp = compounds.to_crs(blocks.crs)
    pts = gpd.GeoDataFrame(geometry=comp.geometry.representative_point(), crs=blocks.crs)
    joined = gpd.sjoin(pts, blocks[["geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    block_of = joined["index_right"]
    hh = comp["households"].groupby(block_of.to_numpy()).sum()
    households = hh.reindex(blocks.index, fill_value=0.0).to_numpy(dtype=float)
    total = households.sum()
    if total <= 0:
        raise ValidationError("No compound lies inside a street block; cannot form community units.")
    n_units = max(1, int(round(total / ((min_households + max_households) / 2))))
    target = min(max(total / n_units, min_households), max_households)

    geoms = blocks.geometry.array
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, 1.0), predicate="intersects")
    adj = nx.Graph()
    adj.add_nodes_from(range(len(geoms)))
    adj.add_edges_from((int(a), int(b)) for a, b in zip(left, right, strict=True) if a != b)
    cx = shapely.get_x(shapely.centroid(geoms))
    cy = shapely.get_y(shapely.centroid(geoms))

    unit = np.full(len(geoms), -1)
    order = np.lexsort((cy, cx))
    sums: list[float] = []
    for seed in order:
        if unit[seed] >= 0 or households[seed] <= 0:
            continue
        k = len(sums)
        unit[seed] = k
        size = households[seed]
        while size < target:
            around = {n for b in np.flatnonzero(unit == k) for n in adj[b] if unit[n] < 0}
            frontier = [n for n in around if size + households[n] <= max_households]
            if not frontier:
                break
            nxt = min(frontier, key=lambda n: (cx[n] - cx[seed]) ** 2 + (cy[n] - cy[seed]) ** 2)
            unit[nxt] = k
            size += households[nxt]
        sums.append(size)
    sums_arr = np.array(sums)
    # Undersized units and empty blocks join the smallest neighbouring unit that has room.
    changed = True
    while changed:
        changed = False
        for b in range(len(geoms)):
            own = unit[b]
            if own >= 0 and sums_arr[own] >= min_households:
                continue
            neigh = {unit[n] for n in adj[b] if unit[n] >= 0 and unit[n] != own}
            room = [u for u in neigh if sums_arr[u] + (households[b] if own < 0 else sums_arr[own]) <= max_households]
            if not room:
                continue
            dest = min(room, key=lambda u: sums_arr[u])
            if own >= 0:
                sums_arr[dest] += sums_arr[own]
                sums_arr[own] = 0
                unit[unit == own] = dest
            else:
                unit[b] = dest
            changed = True
    keep = unit >= 0
    frame = gpd.GeoDataFrame({"unit": unit[keep], "households": households[keep]}, geometry=geoms[keep], crs=blocks.crs)
    units = frame.dissolve(by="unit", aggfunc="sum").reset_index(drop=True)
    units = units.sort_values("households", ascending=False).reset_index(drop=True)
    units.insert(0, "community_id", [f"U{i + 1:02d}" for i in range(len(units))])
    units.insert(1, "name", [f"Provisional unit {i + 1}" for i in range(len(units))])
    if persons_per_household is not None:
        units["population"] = np.round(units["households"] * persons_per_household)
    else:
        units["population"] = np.nan
    units["provisional"] = True
    units["unit_method"] = (
        f"street blocks grouped to {min_households:g}-{max_households:g} households (not an official boundary)"
    )
    units["size_ok"] = units["households"].between(min_households, max_households)
    if not units["size_ok"].all():
        logger.info("%d provisional unit(s) outside the size range", int((~units["size_ok"]).sum()))
    return units[
        [
            "community_id",
            "name",
            "households",
            "population",
            "provisional",
            "unit_method",
            "size_ok",
            "geometry",
        ]
    ]


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
