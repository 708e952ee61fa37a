"""Walking networks from OpenStreetMap, with walking times on every edge direction.

Graphs follow the OSMnx convention: a ``networkx.MultiDiGraph`` whose nodes carry
``x``/``y`` in the CRS named by ``graph.graph["crs"]`` (always projected, in metres)
and whose edges carry ``length`` (m), ``walk_s`` (seconds) and a LineString
``geometry``. Every way is walkable in both directions (one-way streets bind cars,
not pedestrians), so each OSM segment becomes two directed edges.

Walkable ways (:data:`WALKABLE_HIGHWAYS`): footway, path, pedestrian, steps,
living_street, residential, service, unclassified, track, and tertiary/secondary/
primary/trunk with their links. Never motorways, and never ways tagged
``access=private`` or ``foot=no`` (unless ``foot=yes/designated/permissive``).
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

from . import settings
from ._errors import DataFileError, ValidationError
from .coords import metric_crs_for

__all__ = [
    "WALKABLE_HIGHWAYS",
    "STEPS_FACTOR",
    "walk_graph_from_file",
    "walk_graph_from_edges",
    "add_walk_times",
]

logger = logging.getLogger(__name__)

#: OSM ``highway`` values a pedestrian may use.
WALKABLE_HIGHWAYS = frozenset(
    {
        "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
        "unclassified", "track", "road",
        "tertiary", "tertiary_link", "secondary", "secondary_link",
        "primary", "primary_link", "trunk", "trunk_link",
    }
)

#: Walking on steps takes this many times as long as the same length on flat ground
#: (a common planning assumption: about 0.4-0.5 m/s on stairs vs 1.1 m/s on the flat).
STEPS_FACTOR = 2.0

_FOOT_ALLOWED = {"yes", "designated", "permissive"}


def _walkable(edges: pd.DataFrame) -> np.ndarray:
    def col(name: str) -> pd.Series:
        if name in edges.columns:
            return edges[name].astype("string").str.lower().fillna("")
        return pd.Series("", index=edges.index, dtype="string")

    highway = col("highway")
    foot = col("foot")
    access = col("access")
    ok = highway.isin(WALKABLE_HIGHWAYS)
    ok &= ~((foot == "no") | (access.isin({"private", "no"}) & ~foot.isin(_FOOT_ALLOWED)))
    return ok.to_numpy()


def walk_graph_from_file(
    path: str | Path,
    *,
    polygon: Any = None,
    buffer_m: float = 1000.0,
    crs: Any = None,
    walk_m_per_min: float | None = None,
) -> nx.MultiDiGraph:
    """Build a projected walking graph from a local OpenStreetMap file.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm) or OSM XML ``.osm`` / ``.osm.bz2`` / ``.xml``.
    polygon
        Optional study area (GeoDataFrame/GeoSeries in any CRS, or a WGS84 shapely
        geometry). It is buffered by ``buffer_m`` before clipping, so that walking
        circles near the edge are not cut short.
    buffer_m
        Buffer around ``polygon`` in metres.
    crs
        Metric CRS of the result; chosen from the data's centre when omitted
        (:func:`dz_gis.coords.metric_crs_for`).
    walk_m_per_min
        Flat walking speed (default :data:`dz_gis.settings.walk_m_per_min`).

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    DataFileError
        If the file is missing, not OSM, or holds no walkable ways.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: OSM file not found.")
    area = _study_area_wgs84(polygon, buffer_m)
    name = path.name.lower()
    if name.endswith(".pbf"):
        nodes, edges = _pbf_network(path, area)
    elif name.endswith((".osm", ".osm.bz2", ".xml", ".osm.xml")):
        nodes, edges = _xml_network(path, area)
    else:
        raise DataFileError(f"{path}: expected an OpenStreetMap .osm.pbf, .osm or .osm.bz2 file.")
    return walk_graph_from_edges(nodes, edges, crs=crs, walk_m_per_min=walk_m_per_min, where=str(path))


def _study_area_wgs84(polygon: Any, buffer_m: float) -> shapely.Geometry | None:
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


def _pbf_network(path: Path, area: shapely.Geometry | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path), bounding_box=area)
        result = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:  # pyrosm raises bare Exceptions/ValueErrors on bad files
        raise DataFileError(f"{path}: cannot read it as OSM PBF ({exc}).") from None
    if result is None or len(result[1]) == 0:
        raise DataFileError(f"{path}: no ways found inside the study area.")
    nodes, edges = result
    nodes = nodes.set_index("id")[["geometry"]]
    edges = edges[["u", "v", "highway", "name", "geometry"] + [c for c in ("foot", "access") if c in edges]]
    if area is not None:
        edges = edges[shapely.intersects(edges.geometry.array, area)]
    return nodes, edges


def _xml_network(path: Path, area: shapely.Geometry | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import osmnx as ox

    try:
        graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx surfaces XML and parsing errors of many types
        raise DataFileError(f"{path}: cannot read it as OSM XML ({exc}).") from None
    if graph.number_of_edges() == 0:
        raise DataFileError(f"{path}: no ways found in the file.")
    nodes, edges = ox.graph_to_gdfs(graph)
    edges = edges.reset_index()
    for col in ("highway", "name", "foot", "access"):
        if col in edges:
            edges[col] = edges[col].map(lambda v: v[0] if isinstance(v, list) else v)
    keep = edges["u"] < edges["v"]  # osmnx adds reverse copies of two-way ways; keep one
    edges = edges[keep | ~edges.set_index(["v", "u"]).index.isin(edges.set_index(["u", "v"]).index)]
    if area is not None:
        edges = edges[shapely.intersects(edges.geometry.array, area)]
    nodes = nodes[["geometry"]]
    return nodes, edges


def walk_graph_from_edges(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    crs: Any = None,
    walk_m_per_min: float | None = None,
    where: str = "network",
) -> nx.MultiDiGraph:
    """Build the walking graph from OSM node points and way segments (u, v, highway, geometry).

    Each walkable segment becomes two directed edges (geometry reversed for v→u).
    Nodes not touched by a walkable segment are dropped.
    """
    edges = edges[_walkable(edges)]
    if len(edges) == 0:
        raise DataFileError(f"{where}: no walkable ways (步行道路) found; check the file and the study area.")
    if crs is None:
        c = shapely.union_all(shapely.points(shapely.get_coordinates(edges.geometry.array)[::50])).centroid
        crs = metric_crs_for(c.x, c.y)
    edges = edges.to_crs(crs)
    used = pd.unique(np.r_[edges["u"].to_numpy(), edges["v"].to_numpy()])
    nodes = nodes.loc[nodes.index.isin(used)].to_crs(crs)
    nodes = gpd.GeoDataFrame(
        {"x": nodes.geometry.x, "y": nodes.geometry.y}, geometry=nodes.geometry, crs=crs
    )
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


def add_walk_times(graph: nx.MultiDiGraph, *, walk_m_per_min: float | None = None) -> nx.MultiDiGraph:
    """Set ``walk_s`` on every edge from its ``length`` at a flat walking speed.

    Steps take :data:`STEPS_FACTOR` times as long. Modifies and returns ``graph``.
    """
    speed = (walk_m_per_min or settings.walk_m_per_min) / 60.0
    if speed <= 0:
        raise ValidationError(f"walk_m_per_min must be positive, got {walk_m_per_min}.")
    for _, _, data in graph.edges(data=True):
        factor = STEPS_FACTOR if data.get("highway") == "steps" else 1.0
        data["walk_s"] = float(data["length"]) / speed * factor
    graph.graph["walk_m_per_min"] = speed * 60.0
    return graph
