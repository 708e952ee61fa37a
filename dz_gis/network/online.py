"""Walking networks downloaded from OpenStreetMap (Overpass API, through OSMnx).

:func:`walk_graph_from_place` is the online counterpart of
:func:`dz_gis.network.walk_graph_from_file`: it geocodes a place name with Nominatim
(or takes a study-area polygon), downloads every ``highway`` way around it from the
Overpass API with OSMnx, and builds the same projected walking graph (``length``,
``walk_s`` on both directions of every walkable segment) with
:func:`dz_gis.network.walk_graph_from_edges`.

Downloads are cached twice in :data:`dz_gis.settings.cache_folder`: OSMnx's own HTTP
cache (``<cache_folder>/osmnx``, one JSON file per request) and the finished graph
(``<cache_folder>/graphs``). Delete those folders to fetch fresh OpenStreetMap data.

Without internet access, download an OpenStreetMap extract (``.osm.pbf``, e.g. from
https://download.geofabrik.de) and use :func:`dz_gis.network.walk_graph_from_file`.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import shapely

from .. import settings
from .._errors import CRSError, DownloadError, GeometryError, ValidationError
from ._cache import file_stamp, graph_cache_key, load_graph, save_graph
from .build import add_walk_times, nodes_edges_from_osmnx, study_area_wgs84, walk_graph_from_edges
from .terrain import SLOPE_MODELS
from .ways import WAY_TAGS

__all__ = ["walk_graph_from_place"]

logger = logging.getLogger(__name__)


_OFFLINE_HINT = (
    "To work offline, download an OpenStreetMap extract (.osm.pbf, e.g. from "
    "https://download.geofabrik.de) and build the graph with "
    "dz_gis.walk_graph_from_file(path, polygon=study_area)."
)


def walk_graph_from_place(
    query: Any,
    *,
    buffer_m: float = 1000.0,
    crs: Any = None,
    walk_m_per_min: float | None = None,
    dem: str | Path | None = None,
    slope_model: str = "tobler",
    cache: bool = True,
) -> nx.MultiDiGraph:
    """Download the walking network of a place from OpenStreetMap and build a projected graph.

    Parameters
    ----------
    query
        A place name, geocoded with Nominatim to its boundary polygon (e.g.
        ``"Tongchuan District, Dazhou, Sichuan, China"``), or the study area itself: a
        shapely geometry in WGS84 longitude/latitude, or a GeoDataFrame/GeoSeries in
        any CRS (all its geometries together).
    buffer_m
        Buffer around the study area in metres, so that walking circles near its
        edge are not cut short. A point or line query needs ``buffer_m > 0``.
    crs
        Metric CRS of the result; chosen from the data's centre when omitted
        (:func:`dz_gis.coords.metric_crs_for`).
    walk_m_per_min
        Flat walking speed (default :data:`dz_gis.settings.walk_m_per_min`).
    dem
        Optional DEM (any raster rasterio reads, any CRS) for slope-aware times
        (:func:`dz_gis.network.add_walk_times`).
    slope_model
        ``"tobler"`` (default), ``"naismith"`` or ``"flat"`` (see :mod:`dz_gis.network.terrain`).
    cache
        Use OSMnx's HTTP cache in ``<cache_folder>/osmnx`` and keep the built graph
        in ``<cache_folder>/graphs``, reloading it when the study area, the server,
        the DEM and every argument are unchanged. ``False`` downloads and builds
        afresh and caches nothing.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes with ``x``/``y`` in the metric CRS ``graph.graph["crs"]``; each
        walkable OSM segment as two directed edges with ``length`` (m), ``walk_s``
        (s) and ``geometry``.

    Raises
    ------
    DownloadError
        (a :class:`~dz_gis.DataFileError`) If Nominatim or the Overpass API cannot be
        reached or answer with an error, the place is not found or has no boundary
        polygon, or there are no ways in the study area. The message suggests the
        offline alternative, :func:`dz_gis.network.walk_graph_from_file`.
    DataFileError
        If the downloaded ways hold no walkable way, or the DEM cannot be read.
    ValidationError
        If ``query`` or another argument is unusable.

    Notes
    -----
    The download goes through ``osmnx.graph_from_polygon(..., network_type="all",
    simplify=False, retain_all=True, truncate_by_edge=True)`` and uses the servers
    in ``osmnx.settings.overpass_url`` and ``osmnx.settings.nominatim_url``. While it
    runs, OSMnx's ``use_cache``, ``cache_folder`` and ``useful_tags_way`` settings
    are changed and then restored, so do not run it from several threads at once.
    OSMnx waits for a free Overpass slot (``osmnx.settings.overpass_rate_limit``) and
    pauses 1 s before every uncached Nominatim request, as the servers' usage
    policies ask.

    Examples
    --------
    >>> import dz_gis
    >>> area = dz_gis.load_sample().boundary  # doctest: +SKIP
    >>> graph = walk_graph_from_place(area, buffer_m=1000)  # doctest: +SKIP
    """
    buffer_m = _check_arguments(buffer_m, walk_m_per_min, slope_model)
    with _osmnx_settings(use_cache=cache) as ox:
        if isinstance(query, str):
            name = query.strip()
            if not name:
                raise ValidationError("query is an empty place name; give a place name or a polygon.")
            place: Any = _geocode(ox, name)
            where = f"OpenStreetMap around {name!r}"
        else:
            place = _check_polygon_query(query)
            where = "OpenStreetMap download"
        area = study_area_wgs84(place, buffer_m)
        if area is None or area.is_empty or area.geom_type not in {"Polygon", "MultiPolygon"}:
            raise GeometryError(
                f"{where}: the study area is empty or not a polygon; a point or line query needs buffer_m > 0."
            )
        key = None
        if cache:
            key = _cache_key(ox.settings.overpass_url, area, crs, walk_m_per_min, dem, slope_model)
            graph = load_graph(key)
            if graph is not None:
                return graph
        osm_graph = _download(ox, area, where)
    nodes, edges = nodes_edges_from_osmnx(osm_graph, area)
    graph = walk_graph_from_edges(nodes, edges, crs=crs, walk_m_per_min=walk_m_per_min, where=where)
    if dem is not None:
        add_walk_times(graph, walk_m_per_min=walk_m_per_min, dem=dem, slope_model=slope_model)
    if key is not None:
        save_graph(key, graph)
    return graph


def _check_arguments(buffer_m: Any, walk_m_per_min: Any, slope_model: str) -> float:
    """Fail fast, before any download, on arguments that cannot work."""
    try:
        buffer = float(buffer_m)
    except (TypeError, ValueError):
        raise ValidationError(f"buffer_m must be a number of metres, not {buffer_m!r}.") from None
    if not buffer >= 0:  # also rejects NaN
        raise ValidationError(f"buffer_m must be zero or positive, got {buffer_m!r}.")
    if walk_m_per_min is not None and not float(walk_m_per_min) > 0:
        raise ValidationError(f"walk_m_per_min must be positive, got {walk_m_per_min!r}.")
    if slope_model not in SLOPE_MODELS:
        raise ValidationError(f"slope_model must be one of {SLOPE_MODELS}, not {slope_model!r}.")
    return buffer


def _check_polygon_query(query: Any) -> Any:
    """The study area given as a geometry: non-empty, and in degrees when it is bare shapely."""
    if isinstance(query, gpd.GeoDataFrame | gpd.GeoSeries):
        if len(query) == 0 or query.geometry.is_empty.all():
            raise GeometryError("query: the GeoDataFrame/GeoSeries has no geometry.")
        return query
    if not isinstance(query, shapely.Geometry):
        raise ValidationError(
            "query must be a place name, a shapely geometry in WGS84 longitude/latitude, "
            f"or a GeoDataFrame/GeoSeries, not {type(query).__name__}."
        )
    if query.is_empty:
        raise GeometryError("query: the geometry is empty.")
    west, south, east, north = query.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise CRSError(
            f"query: bounds {query.bounds} are not longitude/latitude degrees; a shapely geometry "
            "must be in WGS84 (EPSG:4326). Pass a GeoDataFrame/GeoSeries with its CRS set instead."
        )
    return query


@contextmanager
def _osmnx_settings(*, use_cache: bool) -> Iterator[Any]:
    """OSMnx with dz_gis's cache folder and the way tags we need; everything restored after."""
    import osmnx as ox

    names = ("use_cache", "cache_folder", "useful_tags_way")
    saved = {name: getattr(ox.settings, name) for name in names}
    # osmnx._http._config_dns replaces socket.getaddrinfo to pin the Overpass host's IP
    getaddrinfo = socket.getaddrinfo
    ox.settings.use_cache = bool(use_cache)
    ox.settings.cache_folder = Path(settings.cache_folder) / "osmnx"
    ox.settings.useful_tags_way = list(dict.fromkeys([*saved["useful_tags_way"], *WAY_TAGS]))
    try:
        yield ox
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)
        socket.getaddrinfo = getaddrinfo


def _geocode(ox: Any, name: str) -> gpd.GeoDataFrame:
    """The boundary polygon of a place name, from Nominatim."""
    import requests
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    url = ox.settings.nominatim_url
    logger.info("geocoding %r with Nominatim (%s)", name, url)
    try:
        return ox.geocode_to_gdf(name)
    except requests.RequestException as exc:
        raise DownloadError(
            f"could not geocode {name!r}: the Nominatim server {url} {_reason(exc)}. "
            f"Check the internet connection, or pass the study area as a polygon. {_OFFLINE_HINT}"
        ) from None
    except ResponseStatusCodeError as exc:
        raise DownloadError(
            f"could not geocode {name!r}: the Nominatim server {url} answered with an error ({exc}). "
            f"Try again later, or pass the study area as a polygon. {_OFFLINE_HINT}"
        ) from None
    except InsufficientResponseError as exc:
        raise DownloadError(
            f"Nominatim ({url}) found no place called {name!r} ({exc}). Check the spelling, add the "
            "city and country, or pass the study area as a polygon (GeoDataFrame)."
        ) from None
    except TypeError:  # osmnx: no (Multi)Polygon among the results
        raise DownloadError(
            f"Nominatim ({url}) has no boundary polygon for {name!r}, only a point or line. Pass the "
            "study area as a polygon (GeoDataFrame), or a more specific place name."
        ) from None


def _download(ox: Any, area: shapely.Geometry, where: str) -> nx.MultiDiGraph:
    """Every ``highway`` way in ``area`` from the Overpass API, unsimplified."""
    import requests
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    url = ox.settings.overpass_url
    logger.info("downloading the street network from the Overpass API (%s)", url)
    try:
        graph = ox.graph_from_polygon(area, network_type="all", simplify=False, retain_all=True, truncate_by_edge=True)
    except requests.RequestException as exc:
        raise DownloadError(
            f"{where}: could not download the street network: the Overpass API server {url} "
            f"{_reason(exc)}. Check the internet connection (and proxy), or try again later. {_OFFLINE_HINT}"
        ) from None
    except ResponseStatusCodeError as exc:
        raise DownloadError(
            f"{where}: the Overpass API server {url} answered with an error ({exc}). "
            f"Try again later or another Overpass server (osmnx.settings.overpass_url). {_OFFLINE_HINT}"
        ) from None
    except (InsufficientResponseError, ValueError, KeyError) as exc:
        # InsufficientResponseError: no elements at all; ValueError: "Found no graph nodes
        # within the requested polygon" (truncation); KeyError: JSON without "elements"
        raise DownloadError(
            f"{where}: the Overpass API server {url} returned no usable street network for the "
            f"study area ({type(exc).__name__}: {exc}). Check the place or polygon. {_OFFLINE_HINT}"
        ) from None
    if graph.number_of_edges() == 0:
        raise DownloadError(f"{where}: the Overpass API returned no ways inside the study area. {_OFFLINE_HINT}")
    logger.info("downloaded %d OSM nodes and %d directed segments", len(graph), graph.number_of_edges())
    return graph


def _reason(exc: Exception) -> str:
    """A short, readable reason for a requests exception (its text nests urllib3 reprs)."""
    import requests

    if isinstance(exc, requests.Timeout):
        return "did not answer in time"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"answered HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.ConnectionError):
        found = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
        return f"cannot be reached ({found[-1].strip() if found else type(exc).__name__})"
    return f"failed ({type(exc).__name__})"


def _cache_key(server: str, area: shapely.Geometry, crs: Any, speed: Any, dem: Any, model: str) -> str:
    dem_stamp = file_stamp(dem) if dem is None or Path(dem).exists() else str(dem)
    return graph_cache_key(
        "walk-graph-online-v1",
        server.rstrip("/"),
        area=area,
        crs=crs,
        speed=speed,
        dem_stamp=dem_stamp,
        model=model if dem is not None else "flat",
    )
