"""Walking networks from OpenStreetMap, with walking times on every edge direction.

Graphs follow the OSMnx convention: a ``networkx.MultiDiGraph`` whose nodes carry
``x``/``y`` in the CRS named by ``graph.graph["crs"]`` (always projected, in metres)
and whose edges carry ``length`` (m), ``walk_s`` (seconds) and a LineString
``geometry``. Every way is walkable in both directions (one-way streets bind cars,
not pedestrians), so each OSM segment becomes two directed edges.

Which ways are walked, and which a home or facility beside them can join the network
through, is decided by their tags in :mod:`dz_gis.network.ways`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import DataFileError, ValidationError
from ..coords import metric_crs_for
from .prepared import PreparedNetwork, invalidate, network_from_arrays
from .terrain import SLOPE_MODELS, sample_dem, segment_seconds
from .ways import WAY_TAGS, enterable, walkable

__all__ = [
    "STEPS_FACTOR",
    "walk_graph_from_edges",
    "walk_network_from_ways",
    "add_walk_times",
    "nodes_edges_from_osmnx",
    "study_area_wgs84",
]

logger = logging.getLogger(__name__)

#: Walking on steps takes this many times as long as the same length on flat ground
#: (a common planning assumption: about 0.4-0.5 m/s on stairs vs 1.1 m/s on the flat).
STEPS_FACTOR = 2.0

#: Tags kept on the graph's edges (the others only decide what is walkable and enterable).
_KEPT_TAGS = ("osmid", "highway", "name", "foot", "access", "bridge", "tunnel", "layer")


def study_area_wgs84(polygon: Any, buffer_m: float) -> shapely.Geometry | None:
    """The study area in WGS84, buffered by ``buffer_m`` metres (None when there is none)."""
    if polygon is None:
        return None
    if isinstance(polygon, gpd.GeoDataFrame | gpd.GeoSeries):
        if polygon.crs is None:
            raise ValidationError("polygon has no CRS; set one with .set_crs(...).")
        geom = shapely.union_all(polygon.to_crs(4326).geometry.array)
    else:
        geom = polygon
    c = geom.centroid
    metric = metric_crs_for(c.x, c.y)
    buffered = gpd.GeoSeries([geom], crs=4326).to_crs(metric).buffer(buffer_m).to_crs(4326)
    return buffered.iloc[0]


def nodes_edges_from_osmnx(
    graph: nx.MultiDiGraph, area: shapely.Geometry | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """OSM node points and way segments (one row per segment) from an unsimplified OSMnx graph.

    The input :func:`dz_gis.network.walk_graph_from_edges` takes, as
    :func:`dz_gis.network.walk_graph_from_file` makes it for OSM XML files. OSMnx adds a copy
    with ``reversed=True`` for each segment of a two-way way; those copies are
    dropped, so each OSM segment appears once whatever its ``oneway`` tag.
    """
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(graph)
    edges = edges.reset_index()
    for col in WAY_TAGS:
        if col in edges:
            edges[col] = edges[col].map(lambda v: v[0] if isinstance(v, list) else v)
    if "reversed" in edges:
        edges = edges[~edges["reversed"].eq(True).to_numpy()]
    else:  # not an OSMnx >= 2 graph: keep one of each pair of opposite segments
        keep = edges["u"] < edges["v"]
        edges = edges[keep | ~edges.set_index(["v", "u"]).index.isin(edges.set_index(["u", "v"]).index)]
    if area is not None:
        edges = edges[shapely.intersects(edges.geometry.array, area)]
    columns = ["u", "v", *[c for c in ("osmid", *WAY_TAGS) if c in edges], "geometry"]
    edges = gpd.GeoDataFrame(pd.DataFrame(edges[columns]), geometry="geometry", crs=nodes.crs)
    return nodes[["geometry"]], edges


def walk_graph_from_edges(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    crs: Any = None,
    walk_m_per_min: float | None = None,
    where: str = "network",
) -> nx.MultiDiGraph:
    """Build the walking graph from OSM node points and way segments (u, v, highway, geometry).

    Each walkable segment becomes two directed edges (geometry reversed for v→u), with
    ``enterable`` (:func:`dz_gis.network.ways.enterable`) and the tags in ``_KEPT_TAGS``.
    Nodes not touched by a walkable segment are dropped.
    """
    edges = edges[walkable(edges)]
    if len(edges) == 0:
        raise DataFileError(f"{where}: no walkable ways (步行道路) found; check the file and the study area.")
    if crs is None:
        c = shapely.union_all(shapely.points(shapely.get_coordinates(edges.geometry.array)[::50])).centroid
        crs = metric_crs_for(c.x, c.y)
    keep = [c for c in ("u", "v", *_KEPT_TAGS) if c in edges.columns]
    edges = edges[keep].assign(enterable=enterable(edges), geometry=edges.geometry.array).set_geometry("geometry")
    edges = edges.to_crs(crs)
    used = pd.unique(np.r_[edges["u"].to_numpy(), edges["v"].to_numpy()])
    nodes = nodes.loc[nodes.index.isin(used)].to_crs(crs)
    nodes = gpd.GeoDataFrame({"x": nodes.geometry.x, "y": nodes.geometry.y}, geometry=nodes.geometry, crs=crs)
    nodes.index.name = "osmid"
    attrs = edges.drop(columns=["u", "v"]).reset_index(drop=True)
    forward = attrs.assign(u=edges["u"].to_numpy(), v=edges["v"].to_numpy())
    backward = attrs.assign(u=edges["v"].to_numpy(), v=edges["u"].to_numpy())
    backward["geometry"] = shapely.reverse(backward.geometry.array)
    both = gpd.GeoDataFrame(pd.concat([forward, backward], ignore_index=True), geometry="geometry", crs=crs)
    both["length"] = both.length.to_numpy()
    both["key"] = both.groupby(["u", "v"]).cumcount()
    both = both.set_index(["u", "v", "key"])
    import osmnx as ox

    graph = ox.graph_from_gdfs(nodes, both, graph_attrs={"crs": crs, "source": where})
    return add_walk_times(graph, walk_m_per_min=walk_m_per_min)


def walk_network_from_ways(
    ways: Any,
    *,
    area: shapely.Geometry | None = None,
    crs: Any = None,
    walk_m_per_min: float | None = None,
    where: str = "network",
) -> PreparedNetwork:
    """The walking network of OSM ways (:func:`dz_gis.network.osm_arrays.read_osm_ways`), as arrays.

    The same network as :func:`walk_graph_from_edges` builds from the same ways - the same
    walkable segments, both directions, the same CRS choice, lengths and times - without
    a networkx graph or a LineString per segment (each segment is straight between its nodes).
    """
    tags = ways.tags  # one row per distinct combination: each rule is decided once per combination
    keep = walkable(tags)[ways.kind]
    if not keep.any():
        raise DataFileError(f"{where}: no walkable ways (步行道路) found; check the file and the study area.")
    # segments: consecutive node references of one kept way
    owner = np.repeat(np.arange(len(ways.kind)), np.diff(ways.start))
    seg = np.flatnonzero((owner[1:] == owner[:-1]) & keep[owner[:-1]])
    if area is not None:
        lines = shapely.linestrings(
            np.stack([np.c_[ways.lon[seg], ways.lat[seg]], np.c_[ways.lon[seg + 1], ways.lat[seg + 1]]], axis=1)
        )
        seg = seg[shapely.intersects(lines, area)]
        del lines
    if len(seg) == 0:
        raise DataFileError(f"{where}: no walkable ways (步行道路) found; check the file and the study area.")
    if crs is None:  # as walk_graph_from_edges: the centre of every 50th segment end
        ends = np.stack([seg, seg + 1], axis=1).ravel()[::50]
        c = shapely.union_all(shapely.points(ways.lon[ends], ways.lat[ends])).centroid
        crs = metric_crs_for(c.x, c.y)
    node_ids, first, rows = np.unique(np.r_[ways.ref[seg], ways.ref[seg + 1]], return_index=True, return_inverse=True)
    at = np.r_[seg, seg + 1][first]
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(ways.lon[at], ways.lat[at])
    xy = np.column_stack([x, y])
    a, b = rows[: len(seg)], rows[len(seg) :]
    way = owner[seg]
    speed = float(settings.walk_m_per_min if walk_m_per_min is None else walk_m_per_min)
    if not speed > 0:
        raise ValidationError(f"walk_m_per_min must be positive, got {walk_m_per_min}.")
    kind = ways.kind[way]
    steps = (tags["highway"].to_numpy() == "steps")[kind]
    length = np.hypot(*(xy[b] - xy[a]).T)
    seconds = length / (speed / 60.0) * np.where(steps, STEPS_FACTOR, 1.0)
    enter = enterable(tags)[kind]
    two = np.r_[steps, steps]
    del way, kind, owner, seg
    half = np.arange(len(a), dtype=np.int64)
    return network_from_arrays(
        node_ids,
        xy,
        np.r_[a, b],
        np.r_[b, a],
        np.r_[seconds, seconds],
        crs=crs,
        walk_m_per_min=speed,
        slope_model="flat",
        steps=two,
        enterable=np.r_[enter, enter],
        reverse=np.r_[half + len(a), half],  # segment i and its way back, i + number of segments
        attrs={"source": where, "steps_factor": STEPS_FACTOR},
    )


def add_walk_times(
    graph: nx.MultiDiGraph,
    *,
    walk_m_per_min: float | None = None,
    dem: str | Path | None = None,
    slope_model: str = "tobler",
) -> nx.MultiDiGraph:
    """Set ``walk_s`` (seconds) on every edge direction; with a DEM, following the slope.

    Without ``dem`` the time is ``length`` at the flat speed. With ``dem``, each edge
    geometry is densified to the DEM's cell size, given elevations (its vertices become
    3-D) and timed segment by segment with ``slope_model`` (see :mod:`dz_gis.network.terrain`),
    so a long edge over a hill is judged by its own profile, and the two directions of
    a street differ. Nodes get ``elevation``. Steps take :data:`STEPS_FACTOR` times the
    flat time in both directions. Modifies and returns ``graph``.

    Raises
    ------
    ValidationError
        If the speed is not positive or the slope model is unknown.
    DataFileError
        If the DEM cannot be read or does not cover the network.
    """
    given = walk_m_per_min if walk_m_per_min is not None else graph.graph.get("walk_m_per_min")
    speed = float(settings.walk_m_per_min if given is None else given)
    if not speed > 0:
        raise ValidationError(f"walk_m_per_min must be positive, got {walk_m_per_min}.")
    if slope_model not in SLOPE_MODELS:
        raise ValidationError(f"slope_model must be one of {SLOPE_MODELS}, not {slope_model!r}.")
    edges = list(graph.edges(keys=True, data=True))
    steps = np.array([d.get("highway") == "steps" for *_, d in edges])
    factor = np.where(steps, STEPS_FACTOR, 1.0)
    if dem is None:
        lengths = np.array([float(d["length"]) for *_, d in edges])
        seconds = lengths / (speed / 60.0) * factor
    else:
        geoms = np.array([_edge_geometry(graph, u, v, d) for u, v, _, d in edges], dtype=object)
        seconds, lines = sloped_seconds(geoms, steps, graph.graph["crs"], speed, dem, slope_model)
        for (_, _, _, d), line in zip(edges, lines, strict=True):
            d["geometry"] = line
        nodes = list(graph.nodes)
        nz = sample_dem(
            dem,
            np.array([graph.nodes[n]["x"] for n in nodes]),
            np.array([graph.nodes[n]["y"] for n in nodes]),
            graph.graph["crs"],
        )
        for n, value in zip(nodes, nz, strict=True):
            graph.nodes[n]["elevation"] = float(value)
        graph.graph["dem"] = str(dem)
    for (_, _, _, d), value in zip(edges, seconds, strict=True):
        d["walk_s"] = float(value)
    graph.graph["walk_m_per_min"] = speed
    graph.graph["slope_model"] = slope_model if dem is not None else "flat"
    graph.graph["steps_factor"] = STEPS_FACTOR
    invalidate(graph)
    return graph


def sloped_seconds(
    geoms: np.ndarray, steps: np.ndarray, crs: Any, speed: float, dem: str | Path, slope_model: str
) -> tuple[np.ndarray, np.ndarray]:
    """Walking seconds of each edge geometry on the DEM's slopes, and the geometries made 3-D.

    Each geometry is densified to the DEM's cell size and timed segment by segment with
    ``slope_model``; steps take :data:`STEPS_FACTOR` times the flat time.
    """
    cell = _dem_cell_size(dem, crs)
    dense = shapely.segmentize(geoms, max_segment_length=cell)
    xy, index = shapely.get_coordinates(dense, return_index=True)
    z = sample_dem(dem, xy[:, 0], xy[:, 1], crs)
    lines = shapely.linestrings(np.column_stack([xy, z]), indices=index)
    same = index[1:] == index[:-1]
    seg_edge = index[:-1][same]
    dx = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))[same]
    dz = np.diff(z)[same]
    seg_s = segment_seconds(dx, dz, walk_m_per_min=speed, model=slope_model)
    flat_s = segment_seconds(dx, None, walk_m_per_min=speed)
    seg_s = np.where(steps[seg_edge], flat_s * STEPS_FACTOR, seg_s)
    return np.bincount(seg_edge, weights=seg_s, minlength=len(geoms)).astype(float), lines


def _edge_geometry(graph: nx.MultiDiGraph, u: Any, v: Any, data: dict) -> shapely.LineString:
    geom = data.get("geometry")
    if geom is not None:
        return shapely.force_2d(geom)
    a, b = graph.nodes[u], graph.nodes[v]
    return shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])


def _dem_cell_size(dem: str | Path, crs: Any) -> float:
    """The DEM's cell size in metres (approximate for geographic DEMs), at least 5 m."""
    from .._raster import open_raster

    with open_raster(dem, "DEM") as src:
        res = min(abs(src.res[0]), abs(src.res[1]))
        geographic = src.crs.is_geographic
    return max(res * 111_000.0 if geographic else res, 5.0)
