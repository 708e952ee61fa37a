"""Walking networks from a local OpenStreetMap file (.osm.pbf through pyrosm, .osm XML through OSMnx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import shapely

from .._errors import DataFileError, ValidationError
from ._cache import file_stamp, graph_cache_key, load_graph, load_network, save_graph, save_network
from .build import (
    add_walk_times,
    nodes_edges_from_osmnx,
    sloped_seconds,
    study_area_wgs84,
    walk_graph_from_edges,
    walk_network_from_ways,
)
from .prepared import PreparedNetwork, network_from_arrays
from .squares import read_squares, square_edges, square_ways
from .terrain import SLOPE_MODELS
from .ways import WAY_TAGS, tags_from_json

__all__ = ["walk_graph_from_file", "walk_network_from_file"]


def walk_graph_from_file(
    path: str | Path,
    *,
    polygon: Any = None,
    buffer_m: float = 1000.0,
    crs: Any = None,
    walk_m_per_min: float | None = None,
    dem: str | Path | None = None,
    slope_model: str = "tobler",
    cache: bool = True,
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
    dem
        Optional DEM (any raster rasterio reads, any CRS) for slope-aware times.
    slope_model
        ``"tobler"`` (default), ``"naismith"`` or ``"flat"`` (see :mod:`dz_gis.network.terrain`).
    cache
        Keep the built graph in :data:`dz_gis.settings.cache_folder` and reload it when
        the file, the DEM and every argument are unchanged.

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    DataFileError
        If the file is missing, not OSM, or holds no walkable ways.
    """
    path = _osm_path(path)
    name = path.name.lower()
    area = study_area_wgs84(polygon, buffer_m)
    key = None
    if cache:
        key = _cache_key("walk-graph-v5", path, area, crs, walk_m_per_min, dem, slope_model)
        graph = load_graph(key)
        if graph is not None:
            return graph
    nodes, edges = _pbf_network(path, area) if name.endswith(".pbf") else _xml_network(path)
    if area is not None:
        edges = edges[shapely.intersects(edges.geometry.array, area)]
    # squares walked across, entered from the clipped ways; their own segments clipped alike
    nodes, edges = square_edges(nodes, edges, read_squares(path, area))
    if area is not None:
        edges = edges[shapely.intersects(edges.geometry.array, area)]
    graph = walk_graph_from_edges(nodes, edges, crs=crs, walk_m_per_min=walk_m_per_min, where=str(path))
    if dem is not None:
        add_walk_times(graph, walk_m_per_min=walk_m_per_min, dem=dem, slope_model=slope_model)
    if key is not None:
        save_graph(key, graph)
    return graph


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
    edges = tags_from_json(edges)  # pyrosm keeps the less common tags (layer, motorroad ...) as JSON
    return nodes, edges[["u", "v", "geometry", *[c for c in WAY_TAGS if c in edges]]]


def _xml_network(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import osmnx as ox

    saved = ox.settings.useful_tags_way
    # OSMnx keeps only its default way tags; the walkable filter also needs foot/access
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved, *WAY_TAGS]))
    try:
        graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx surfaces XML and parsing errors of many types
        raise DataFileError(f"{path}: cannot read it as OSM XML ({exc}).") from None
    finally:
        ox.settings.useful_tags_way = saved
    if graph.number_of_edges() == 0:
        raise DataFileError(f"{path}: no ways found in the file.")
    return nodes_edges_from_osmnx(graph)


def _cache_key(
    kind: str, path: Path, area: Any, crs: Any, walk_m_per_min: float | None, dem: Any, slope_model: str
) -> str:
    """The cache key of a network built from ``path`` with these arguments."""
    return graph_cache_key(
        kind,
        file_stamp(path),
        area=area,
        crs=crs,
        speed=walk_m_per_min,
        dem_stamp=file_stamp(dem),
        model=slope_model if dem is not None else "flat",
    )


def _osm_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: OSM file not found.")
    if not path.name.lower().endswith((".pbf", ".osm", ".osm.bz2", ".xml", ".osm.xml")):
        raise DataFileError(f"{path}: expected an OpenStreetMap .osm.pbf, .osm or .osm.bz2 file.")
    return path


def walk_network_from_file(
    path: str | Path,
    *,
    polygon: Any = None,
    buffer_m: float = 1000.0,
    crs: Any = None,
    walk_m_per_min: float | None = None,
    dem: str | Path | None = None,
    slope_model: str = "tobler",
    cache: bool = True,
) -> PreparedNetwork:
    """The walking network of a local OpenStreetMap file as arrays, never as a networkx graph.

    For big areas: the same ways, segments, CRS and walking times as
    :func:`walk_graph_from_file` (same arguments), read with pyosmium straight into a
    :class:`dz_gis.network.PreparedNetwork`, which every access function takes in place of a
    graph. A 1,000,000-node network takes a fraction of the memory of its networkx graph;
    call ``.to_networkx()`` when a graph is wanted after all. Cached as arrays (NumPy ``.npz``).

    Raises
    ------
    DataFileError
        If the file is missing, not OSM, or holds no walkable ways.
    """
    from .osm_arrays import read_osm_ways

    path = _osm_path(path)
    if slope_model not in SLOPE_MODELS:
        raise ValidationError(f"slope_model must be one of {SLOPE_MODELS}, not {slope_model!r}.")
    area = study_area_wgs84(polygon, buffer_m)
    key = None
    if cache:
        key = _cache_key("walk-network-v2", path, area, crs, walk_m_per_min, dem, slope_model)
        net = load_network(key)
        if net is not None:
            return net
    ways = read_osm_ways(path, area, pyrosm_rules=path.name.lower().endswith(".pbf"))
    ways = square_ways(ways, read_squares(path, area), area)  # squares walked across, as walk_graph_from_file
    net = walk_network_from_ways(ways, area=area, crs=crs, walk_m_per_min=walk_m_per_min, where=str(path))
    del ways
    if dem is not None:
        net = _with_slopes(net, dem, slope_model)
    if key is not None:
        save_network(key, net)
    return net


def _with_slopes(net: PreparedNetwork, dem: str | Path, slope_model: str) -> PreparedNetwork:
    """``net`` timed on the DEM's slopes, as :func:`dz_gis.network.add_walk_times` times a graph."""
    seconds, lines = sloped_seconds(net.edge_geom, net.edge_steps, net.crs, net.walk_m_per_min, dem, slope_model)
    return network_from_arrays(
        net.node_ids,
        net.xy,
        net.edge_u,
        net.edge_v,
        seconds,
        crs=net.crs,
        walk_m_per_min=net.walk_m_per_min,
        slope_model=slope_model,
        steps=net.edge_steps,
        enterable=net.edge_enterable,
        geometry=lines,
        reverse=net.edge_rev,
        attrs={**net.attrs, "dem": str(dem)},
    )
