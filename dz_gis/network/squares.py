"""Pedestrian squares (广场): walked across, not only around their edge.

OSM draws a square as an area (``highway=pedestrian`` or ``footway`` with ``area=yes``, or
a multipolygon relation) whose ring shares nodes with the streets and paths that lead
into it. Routers that read ways only either walk its edge (OSMnx keeps the ring) or lose it
(pyrosm drops every ``area=yes``), so a walk across a 100 m square takes up to twice as long
as it does on foot, or the square is a hole in the network.

:func:`square_edges` turns each square into ways a pedestrian walks:

- its **entrances**: the ring vertices shared with a walkable way (OSM's rule for a routable
  square: the paths that lead into it share a node with its outline);
- its **edge**, split at the entrances (the pieces of ring between them);
- **straight crossings** between entrances: of the lines that stay inside the square (its holes,
  e.g. a fountain or a building, block them), the shortest first, each kept only if the walk
  between its ends is otherwise more than :data:`STRETCH` times as long (a greedy spanner).
  So every walk between two entrances that see each other is within 10 % of the straight
  line, with a few lines per entrance: all pairs crossed each other thousands of times, which
  cut the square's land into slivers and made the sample's walking circles 40x slower.

Written by hand: no routing library in Python builds walking links over areas.
"""

from __future__ import annotations

import logging
from itertools import combinations
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .osm_arrays import OsmWays
from .ways import walkable

__all__ = ["STRETCH", "read_squares", "square_edges", "square_segments", "square_ways"]

logger = logging.getLogger(__name__)

#: A walk across a square between two entrances that see each other is at most this many
#: times the straight line.
STRETCH = 1.1

#: ``highway`` values whose areas are walked as squares.
SQUARE_HIGHWAYS = ("pedestrian", "footway")

#: Tags a square passes on to its walking lines (they decide walkable / enterable).
_TAGS = ("highway", "name", "foot", "access", "bridge", "tunnel", "layer")

#: Ring vertices and network nodes within this many degrees (about 1 cm) are one point.
_SAME_DEG = 1e-7


def read_squares(path: Path, area: shapely.Geometry | None) -> gpd.GeoDataFrame:
    """The pedestrian squares of an OSM file (WGS84 polygons with their tags and ``square_id``).

    A ``.pbf`` is read with pyrosm, OSM XML with OSMnx; only polygons count (a closed
    ``highway=pedestrian`` way without ``area=yes`` is a loop street, as OSM says).
    """
    import warnings

    with warnings.catch_warnings():  # both readers warn about their own internals
        warnings.simplefilter("ignore")
        found = _read_pbf(path, area) if path.name.lower().endswith(".pbf") else _read_xml(path, area)
    if found is None or len(found) == 0:
        return gpd.GeoDataFrame({"square_id": []}, geometry=[], crs=4326)
    found = found[found.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    found = found[found["highway"].isin(SQUARE_HIGHWAYS).to_numpy()]
    if area is not None:
        found = found[shapely.intersects(found.geometry.array, area)]
    columns = [c for c in _TAGS if c in found.columns]
    out = gpd.GeoDataFrame(found[columns].reset_index(drop=True), geometry=found.geometry.array, crs=4326)
    out.insert(0, "square_id", found["square_id"].to_numpy())
    return out


def _read_pbf(path: Path, area: shapely.Geometry | None) -> gpd.GeoDataFrame | None:
    import pyrosm

    osm = pyrosm.OSM(str(path), bounding_box=area)
    found = osm.get_data_by_custom_criteria(
        custom_filter={"highway": list(SQUARE_HIGHWAYS)},
        osm_keys_to_keep="highway",
        filter_type="keep",
        keep_nodes=False,
        keep_ways=True,
        keep_relations=True,
    )
    if found is None or len(found) == 0:
        return None
    return found.assign(square_id=found["osm_type"].astype(str) + "/" + found["id"].astype(str))


def _read_xml(path: Path, area: shapely.Geometry | None) -> gpd.GeoDataFrame | None:
    import osmnx as ox

    try:
        found = ox.features_from_xml(path, tags={"highway": list(SQUARE_HIGHWAYS)})
    except ox._errors.InsufficientResponseError:  # no such feature in the file
        return None
    ids = [f"{kind}/{osm_id}" for kind, osm_id in found.index]
    return found.reset_index(drop=True).assign(square_id=ids)


def square_edges(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, squares: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``nodes`` and ``edges`` with each square's outline and crossings added (WGS84).

    ``nodes`` (OSM id index, point geometry) and ``edges`` (``u``, ``v``, tags, geometry) are
    the input of :func:`dz_gis.network.walk_graph_from_edges`; rows of ``edges`` that are a
    square's own outline (``osmid`` equal to the square's way id) are replaced by the square's
    edge and crossings. Every added edge is one straight segment, as OSM's are (a point joins
    an edge at its one nearest position); the outline's corners that no way shares become
    nodes with negative ids. Squares a pedestrian may not enter, and squares no walkable way
    leads into, add nothing.
    """
    squares = _walkable_squares(squares)
    if len(squares) == 0:
        return nodes, edges
    if "osmid" in edges.columns:  # OSM XML: the outline is already a way; it is replaced
        outline = {int(s.split("/")[1]) for s in squares["square_id"] if s.startswith("way/")}
        edges = edges[~edges["osmid"].isin(outline).to_numpy()]
    ok = walkable(edges)
    used = pd.unique(np.r_[edges.loc[ok, "u"].to_numpy(), edges.loc[ok, "v"].to_numpy()])
    pts = nodes.loc[nodes.index.isin(used)]
    lon, lat = shapely.get_coordinates(pts.geometry.array).T
    ring = _on_rings(lon, lat, squares)
    found = square_segments(squares, _entrance_index(pts.index.to_numpy()[ring], lon[ring], lat[ring]))
    if found is None:
        return nodes, edges
    extra, corners = found
    extra = gpd.GeoDataFrame(extra, geometry="geometry", crs=edges.crs)
    at = pd.Index(list(corners), name=nodes.index.name)
    corner_nodes = gpd.GeoDataFrame(geometry=shapely.points(list(corners.values())), index=at, crs=nodes.crs)
    nodes = gpd.GeoDataFrame(pd.concat([nodes, corner_nodes]), geometry="geometry", crs=nodes.crs)
    return nodes, gpd.GeoDataFrame(pd.concat([edges, extra], ignore_index=True), geometry="geometry", crs=edges.crs)


def square_ways(ways: OsmWays, squares: gpd.GeoDataFrame, area: shapely.Geometry | None = None) -> OsmWays:
    """The ways of :func:`dz_gis.network.osm_arrays.read_osm_ways` with the squares walked across.

    The array path's counterpart of :func:`square_edges`: the same segments, added as two-node
    ways; a square's own outline way (kept from OSM XML) is replaced. With ``area``, a square
    is entered only from way segments that reach into it (the segments the network keeps).
    """
    squares = _walkable_squares(squares)
    if len(squares) == 0:
        return ways
    tags = ways.tags
    tagged_area = tags["area"].astype("string").str.lower().eq("yes").fillna(False) if "area" in tags else False
    outline = (tagged_area & tags["highway"].isin(SQUARE_HIGHWAYS)).to_numpy(dtype=bool)
    keep = ~outline[ways.kind]
    owner = np.repeat(np.arange(len(ways.kind)), np.diff(ways.start))
    at = np.flatnonzero((walkable(tags)[ways.kind] & keep)[owner])
    at = at[_on_rings(ways.lon[at], ways.lat[at], squares)]
    if area is not None:
        at = at[_in_kept_segment(ways, owner, at, area)]
    found = square_segments(squares, _entrance_index(ways.ref[at], ways.lon[at], ways.lat[at]))
    if not keep.all():  # drop the outline ways
        kept_ref = keep[owner]
        ways = OsmWays(
            tags,
            ways.kind[keep],
            np.r_[0, np.cumsum(np.diff(ways.start)[keep])],
            ways.ref[kept_ref],
            ways.lon[kept_ref],
            ways.lat[kept_ref],
        )
    if found is None:
        return ways
    rows, _ = found
    columns = [c for c in tags.columns] + [t for t in _TAGS if t in rows and t not in tags.columns]
    combos = rows[[c for c in columns if c in rows]].astype(object).where(lambda f: f.notna(), None)
    new_tags = pd.concat([tags.reindex(columns=columns), combos.reindex(columns=columns)], ignore_index=True)
    coords = shapely.get_coordinates(rows["geometry"].to_numpy()).reshape(-1, 2, 2)
    return OsmWays(
        new_tags,
        np.r_[ways.kind, len(tags) + np.arange(len(rows))],
        np.r_[ways.start, ways.start[-1] + 2 * np.arange(1, len(rows) + 1)],
        np.r_[ways.ref, np.column_stack([rows["u"], rows["v"]]).astype(np.int64).ravel()],
        np.r_[ways.lon, coords[:, :, 0].ravel()],
        np.r_[ways.lat, coords[:, :, 1].ravel()],
    )


def square_segments(squares: gpd.GeoDataFrame, entry_index: dict) -> tuple[pd.DataFrame, dict] | None:
    """The straight segments (u, v, tags, geometry) of every square, and the new corner nodes."""
    added = [_one_square(square, entry_index) for square in squares.itertuples(index=False)]
    rows = [r for r in added if r is not None]
    if not rows:
        return None
    extra, corners = _segments(pd.concat(rows, ignore_index=True), entry_index)
    logger.info("walked across %d pedestrian squares (%d segments added)", len(rows), len(extra))
    return extra, corners


def _walkable_squares(squares: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(squares) == 0:
        return squares
    return squares[walkable(squares.assign(area=None))]


def _pack(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """One integer per point rounded to :data:`_SAME_DEG` (lon and lat in 32 and 31 bits)."""
    kx = np.round(np.asarray(lon, dtype=float) / _SAME_DEG).astype(np.int64) + 2**31
    ky = np.round(np.asarray(lat, dtype=float) / _SAME_DEG).astype(np.int64) + 2**30
    return (kx.astype(np.uint64) << np.uint64(31)) | ky.astype(np.uint64)


def _on_rings(lon: np.ndarray, lat: np.ndarray, squares: gpd.GeoDataFrame) -> np.ndarray:
    """Which points lie on a square's ring (a vertex of it, to :data:`_SAME_DEG`)."""
    rings = np.concatenate([r for polygon in squares.geometry for r in _rings(polygon)])
    return np.isin(_pack(lon, lat), _pack(rings[:, 0], rings[:, 1]))


def _in_kept_segment(ways: OsmWays, owner: np.ndarray, at: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """Which node references ``at`` end a segment of their way that meets ``area``."""
    ok = np.zeros(len(at), dtype=bool)
    for step in (-1, 1):
        other = at + step
        inside = (other >= 0) & (other < len(owner))
        same = np.zeros(len(at), dtype=bool)
        same[inside] = owner[other[inside]] == owner[at[inside]]
        lines = shapely.linestrings(
            np.stack(
                [np.c_[ways.lon[at], ways.lat[at]], np.c_[ways.lon[other % len(owner)], ways.lat[other % len(owner)]]],
                axis=1,
            )
        )
        ok |= same & shapely.intersects(lines, area)
    return ok


def _entrance_index(ids: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> dict:
    """Network nodes by rounded coordinates; given only those on a ring (:func:`_on_rings`: a city has millions)."""
    keys = np.round(np.c_[lon, lat] / _SAME_DEG).astype(np.int64)
    return {(int(x), int(y)): node for (x, y), node in zip(keys, ids, strict=True)}


def _segments(rows: pd.DataFrame, entry_index: dict) -> tuple[pd.DataFrame, dict[int, tuple[float, float]]]:
    """Rows cut into straight segments; new nodes (negative ids) at the vertices no way shares."""
    corners: dict[tuple[int, int], int] = {}
    points: dict[int, tuple[float, float]] = {}
    out = []
    for row in rows.to_dict("records"):
        coords = shapely.get_coordinates(row["geometry"])
        if len(coords) == 2:
            out.append(row)
            continue
        ids = [row["u"]]
        for x, y in coords[1:-1]:
            key = (round(x / _SAME_DEG), round(y / _SAME_DEG))
            node = entry_index.get(key)
            if node is None:  # an id from the position: the same whatever order squares come in
                node = corners.setdefault(key, -int(_pack(np.array([x]), np.array([y]))[0]))
                points[node] = (x, y)
            ids.append(node)
        ids.append(row["v"])
        for k in range(len(coords) - 1):
            out.append(row | {"u": ids[k], "v": ids[k + 1], "geometry": shapely.LineString(coords[k : k + 2])})
    return pd.DataFrame(out), points


def _one_square(square: Any, entry_index: dict) -> pd.DataFrame | None:
    """The outline pieces and crossings of one square, or None when nothing leads into it."""
    polygon = square.geometry
    tags = {t: getattr(square, t) for t in _TAGS if hasattr(square, t)}
    rows: list[dict] = []
    for ring in _rings(polygon):
        rows.extend(_outline(ring, entry_index))
    entries = {r["u"]: r["u_xy"] for r in rows} | {r["v"]: r["v_xy"] for r in rows}
    if not entries:
        return None
    rows.extend(_crossings(polygon, entries, rows))
    frame = pd.DataFrame(rows).drop(columns=["u_xy", "v_xy"])
    return frame.assign(**tags, square_id=square.square_id)


def _rings(polygon: shapely.Geometry) -> list[np.ndarray]:
    parts = polygon.geoms if isinstance(polygon, shapely.MultiPolygon) else [polygon]
    rings = [p.exterior for p in parts] + [r for p in parts for r in p.interiors]
    return [shapely.get_coordinates(r) for r in rings]


def _outline(ring: np.ndarray, entry_index: dict) -> list[dict]:
    """The ring cut at its entrances: one row from each entrance to the next one along it."""
    coords = ring[:-1]  # a closed ring repeats its first vertex
    keys = np.round(coords / _SAME_DEG).astype(np.int64)
    hits = [i for i, (x, y) in enumerate(keys) if (int(x), int(y)) in entry_index]
    if not hits:
        return []
    rows = []
    for a, b in zip(hits, hits[1:] + [hits[0] + len(coords)], strict=True):
        idx = np.arange(a, b + 1) % len(coords)
        end = b % len(coords)
        u, v = (entry_index[(int(keys[i][0]), int(keys[i][1]))] for i in (a, end))
        piece = shapely.LineString(coords[idx])
        rows.append({"u": u, "v": v, "geometry": piece, "u_xy": coords[a], "v_xy": coords[end]})
    return rows


def _crossings(polygon: shapely.Geometry, entries: dict, outline: list[dict]) -> list[dict]:
    """Straight lines between entrances, inside the square, as few as keep walks near straight."""
    ids = list(entries)
    if len(ids) < 2:
        return []
    xy = np.array([entries[i] for i in ids], dtype=float)
    a, b = np.array(list(combinations(range(len(ids)), 2))).T
    lines = shapely.linestrings(np.stack([xy[a], xy[b]], axis=1))
    inside = shapely.covered_by(lines, shapely.buffer(polygon, _SAME_DEG))
    # a line that runs along the outline would lie on top of it: the outline is walked already
    edge_zone = shapely.buffer(shapely.boundary(polygon), _SAME_DEG)
    inside &= shapely.length(shapely.intersection(lines, edge_zone)) < 0.5 * shapely.length(lines)
    a, b, lines = a[inside], b[inside], lines[inside]
    at = {node: k for k, node in enumerate(ids)}
    ends = np.array([(at[r["u"]], at[r["v"]]) for r in outline], dtype=np.int64).reshape(-1, 2)
    # lengths in local metres: a degree of longitude is cos(latitude) of one of latitude
    scale = np.array([np.cos(np.radians(xy[:, 1].mean())), 1.0])
    metres = [
        shapely.length(shapely.transform(g, lambda c: c * scale)) for g in (lines, [r["geometry"] for r in outline])
    ]
    kept = _greedy_spanner(len(ids), ends, metres[1], a, b, metres[0])
    return [
        {"u": ids[i], "v": ids[j], "geometry": line, "u_xy": xy[i], "v_xy": xy[j]}
        for i, j, line in zip(a[kept], b[kept], lines[kept], strict=True)
    ]


def _greedy_spanner(
    n: int, ends: np.ndarray, lengths: np.ndarray, a: np.ndarray, b: np.ndarray, length: np.ndarray
) -> np.ndarray:
    """Which lines to keep: shortest first, each only if the walk so far is over STRETCH x it.

    The greedy spanner (Althöfer et al. 1993): every walk between two entrances that see each
    other is at most :data:`STRETCH` times the straight line, with few lines (all pairs would
    cross each other n⁴/24 times, and every crossing cuts the square's land into more pieces
    for the walking circles). Distances between the n entrances are kept in an n x n matrix
    updated per added line.
    """
    dist = np.full((n, n), np.inf)
    np.fill_diagonal(dist, 0.0)
    for (i, j), piece in zip(ends, lengths, strict=True):
        dist[i, j] = dist[j, i] = min(dist[i, j], piece)
    from scipy.sparse.csgraph import floyd_warshall

    dist = floyd_warshall(dist, directed=False)
    kept = []
    for k in np.argsort(length, kind="stable"):
        i, j, w = a[k], b[k], length[k]
        if dist[i, j] <= STRETCH * w:
            continue
        kept.append(k)
        via = np.minimum(dist[:, [i]] + w + dist[[j], :], dist[:, [j]] + w + dist[[i], :])
        dist = np.minimum(dist, via)
    return np.array(sorted(kept), dtype=np.int64)
