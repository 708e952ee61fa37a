"""walk_graph_from_place against a real HTTP server on 127.0.0.1 standing in for Overpass and Nominatim.

The server answers every Overpass query with tests/data/overpass/helsinki_small.json and
every Nominatim search with nominatim_helsinki.json (see the README there). Only
127.0.0.1 may be reached (pytest-socket ``allow_hosts``): any other connection fails.

Note: pytest-socket's ``enable_socket`` marker lifts *all* restrictions and ignores
``allow_hosts``, so these tests use ``allow_hosts`` alone (the project's
``--disable-socket`` is then not applied to them, and connect() is limited to 127.0.0.1).
"""

import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import groupby, pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox  # imported at collection, while socket.getaddrinfo is still the real one
import pandas as pd
import pytest
import shapely
from pytest_socket import SocketConnectBlockedError

import dz_gis.settings
from dz_gis import CRSError, DataFileError, DownloadError, GeometryError, ValidationError
from dz_gis.network import walk_graph_from_edges, walk_graph_from_place

DATA = Path(__file__).parent / "data" / "overpass"
OVERPASS_JSON = DATA / "helsinki_small.json"
NOMINATIM_JSON = DATA / "nominatim_helsinki.json"
PLACE = "dz_gis test area, Helsinki"

local_only = pytest.mark.allow_hosts(["127.0.0.1"])
pytestmark = local_only

# what a real Overpass server's /api/status says when slots are free (osmnx reads line 5)
STATUS = (
    "Connected as: 2130706433\nCurrent time: 2024-01-01T00:00:00Z\nAnnounced endpoint: none\n"
    "Rate limit: 2\n2 slots available now.\n"
    "Currently running queries (pid, space limit, time limit, start time):\n"
)


class StandIn(ThreadingHTTPServer):
    """Overpass + Nominatim on 127.0.0.1: records every request, answers from the fixtures."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests = []  # (method, path, params)
        self.lock = threading.Lock()
        self.mode = "ok"  # "ok" | "empty" | "http500"
        self.overpass = OVERPASS_JSON.read_bytes()
        self.nominatim = NOMINATIM_JSON.read_bytes()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count(self, path=None):
        with self.lock:
            return sum(1 for _, p, _ in self.requests if path is None or p == path)


class Handler(BaseHTTPRequestHandler):
    def _answer(self, method):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        if method == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            params.update(urllib.parse.parse_qsl(body))
        server = self.server
        with server.lock:
            server.requests.append((method, url.path, params))
        if server.mode == "http500" and url.path != "/api/status":
            return self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        if url.path == "/api/status":
            return self._send(200, STATUS.encode(), "text/plain")
        if url.path == "/api/interpreter":
            if server.mode == "empty":
                return self._send(200, b'{"version":0.6,"elements":[]}', "application/json")
            return self._send(200, server.overpass, "application/json")
        if url.path == "/search":
            return self._send(200, server.nominatim, "application/json")
        return self._send(404, b"not found", "text/plain")

    def _send(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server():
    srv = StandIn()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def online(server, monkeypatch, tmp_path):
    """osmnx pointed at the stand-in server, dz_gis caching into tmp_path (all restored after)."""
    monkeypatch.setattr(ox.settings, "overpass_url", server.url + "/api")
    monkeypatch.setattr(ox.settings, "nominatim_url", server.url + "/")
    monkeypatch.setattr(dz_gis.settings, "cache_folder", tmp_path / "cache")
    return server


def fixture_box():
    """The 400 m box the fixtures were made for (the Nominatim polygon result)."""
    results = json.loads(NOMINATIM_JSON.read_text(encoding="utf-8"))
    return shapely.geometry.shape(next(r for r in results if r["geojson"]["type"] == "Polygon")["geojson"])


def overpass_polygon(query):
    """The polygon in an osmnx Overpass query: (poly:'lat lon lat lon ...')."""
    coords = query.split("(poly:'")[1].split("'")[0].split()
    lat, lon = np.array(coords[0::2], float), np.array(coords[1::2], float)
    return shapely.Polygon(np.column_stack([lon, lat]))


def check_walk_graph(graph):
    assert graph.number_of_nodes() > 100 and graph.number_of_edges() > 200
    crs = graph.graph["crs"]
    assert crs is not None and gpd.GeoSeries([], crs=crs).crs.is_projected
    for _, data in graph.nodes(data=True):
        assert np.isfinite(data["x"]) and np.isfinite(data["y"])
        assert abs(data["x"]) > 1000  # metres, not degrees
    for _, _, data in graph.edges(data=True):
        assert data["walk_s"] > 0 and data["length"] > 0
        # a cycleway is walked only as a shared path (foot=yes/designated/permissive)
        assert data["highway"] != "cycleway" or data.get("foot") in {"yes", "designated", "permissive"}
    # every walkable segment is there in both directions
    assert graph.number_of_edges() % 2 == 0
    assert sorted((u, v) for u, v, _ in graph.edges) == sorted((v, u) for u, v, _ in graph.edges)


SETTINGS_RESTORED = ("use_cache", "cache_folder", "useful_tags_way", "overpass_rate_limit")


@pytest.mark.parametrize("kind", ["shapely", "geodataframe"])
def test_polygon_query_downloads_and_builds_a_projected_graph(online, kind):
    box = fixture_box()
    query = box if kind == "shapely" else gpd.GeoDataFrame(geometry=[box], crs=4326).to_crs(3067)
    before = {name: getattr(ox.settings, name) for name in SETTINGS_RESTORED}
    getaddrinfo = socket.getaddrinfo

    graph = walk_graph_from_place(query, buffer_m=100)

    check_walk_graph(graph)
    assert graph.graph["crs"].to_epsg() == 32635  # UTM 35N for Helsinki
    # the server really was asked: the rate-limit status check, then one Overpass query
    methods = [(m, p) for m, p, _ in online.requests]
    assert methods == [("GET", "/api/status"), ("POST", "/api/interpreter")]
    query_ql = online.requests[-1][2]["data"]
    assert query_ql.startswith("[out:json]") and 'way["highway"]' in query_ql and query_ql.endswith("out;")
    # osmnx asked for the study area buffered by buffer_m (and its own 500 m more)
    assert overpass_polygon(query_ql).contains(box.buffer(0.001))
    # osmnx settings and the patched getaddrinfo are put back
    assert {name: getattr(ox.settings, name) for name in SETTINGS_RESTORED} == before
    assert socket.getaddrinfo is getaddrinfo


def test_place_name_is_geocoded_by_nominatim_then_downloaded(online):
    graph = walk_graph_from_place(PLACE, buffer_m=0)

    check_walk_graph(graph)
    paths = [p for _, p, _ in online.requests]
    assert paths == ["/search", "/api/status", "/api/interpreter"]
    search = online.requests[0][2]
    assert search["q"] == PLACE
    assert search["format"] == "json" and search["polygon_geojson"] == "1"
    # the Polygon result (not the more important Point) was used: buffer_m=0 keeps
    # only the segments touching the 400 m box
    box = gpd.GeoSeries([fixture_box()], crs=4326).to_crs(graph.graph["crs"]).iloc[0]
    edges = ox.graph_to_gdfs(graph, nodes=False)
    assert shapely.intersects(edges.geometry.array, box.buffer(0.5)).all()
    assert "OpenStreetMap around" in graph.graph["source"]


def test_second_identical_call_is_answered_from_the_cache(online, tmp_path):
    first = walk_graph_from_place(PLACE, buffer_m=200)
    asked = online.count()
    assert asked == 3
    assert list((tmp_path / "cache" / "osmnx").glob("*.json"))  # osmnx's HTTP cache
    assert list((tmp_path / "cache" / "graphs").glob("*.gpkg"))  # the built graph

    again = walk_graph_from_place(PLACE, buffer_m=200)
    assert online.count() == asked  # no new request
    assert set(again.nodes) == set(first.nodes)
    assert again.number_of_edges() == first.number_of_edges()

    # another speed misses the graph cache but the download is still cached
    slower = walk_graph_from_place(PLACE, buffer_m=200, walk_m_per_min=40.0)
    assert online.count() == asked
    u, v, k = next(iter(first.edges))
    expected = first.edges[u, v, k]["walk_s"] * dz_gis.settings.walk_m_per_min / 40.0
    assert slower.edges[u, v, k]["walk_s"] == pytest.approx(expected)

    # cache=False really goes online again
    walk_graph_from_place(PLACE, buffer_m=200, cache=False)
    assert online.count() > asked


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


def test_server_down_gives_a_helpful_data_file_error(monkeypatch, tmp_path):
    port = closed_port()
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    monkeypatch.setattr(ox.settings, "nominatim_url", f"http://127.0.0.1:{port}/")
    # with the rate limit on, osmnx sleeps its default 60 s when /status is unreachable
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(dz_gis.settings, "cache_folder", tmp_path / "cache")

    with pytest.raises(DataFileError) as info:
        walk_graph_from_place(fixture_box(), buffer_m=100)
    err = info.value
    assert type(err) is DownloadError
    message = str(err)
    assert "Overpass" in message and f"127.0.0.1:{port}" in message and "Connection refused" in message
    assert "walk_graph_from_file" in message and ".osm.pbf" in message
    assert "HTTPConnectionPool" not in message  # no raw requests/urllib3 text
    assert err.__cause__ is None and err.__suppress_context__

    with pytest.raises(DownloadError, match=r"(?s)could not geocode.*Nominatim.*walk_graph_from_file"):
        walk_graph_from_place(PLACE)
    assert not list((tmp_path / "cache").rglob("*.json"))  # failures are not cached


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("empty", "returned no usable street network"), ("http500", "answered with an error")],
)
def test_server_errors_and_empty_answers_become_download_errors(online, mode, expected):
    online.mode = mode
    with pytest.raises(DownloadError, match=expected) as info:
        walk_graph_from_place(fixture_box(), buffer_m=100, cache=False)
    assert "walk_graph_from_file" in str(info.value)
    assert online.count("/api/interpreter") == 1


def offline_graph(path, **kwargs):
    """The walking graph from the same Overpass JSON, without osmnx: one row per way segment."""
    elements = json.loads(path.read_text(encoding="utf-8"))["elements"]
    points = {e["id"]: (e["lon"], e["lat"]) for e in elements if e["type"] == "node"}
    rows = []
    for way in (e for e in elements if e["type"] == "way"):
        tags = way["tags"]
        for u, v in pairwise(n for n, _ in groupby(way["nodes"])):
            rows.append(
                {
                    "u": u,
                    "v": v,
                    **{k: tags.get(k) for k in ("highway", "name", "foot", "access")},
                    "geometry": shapely.LineString([points[u], points[v]]),
                }
            )
    nodes = gpd.GeoDataFrame(
        geometry=[shapely.Point(p) for p in points.values()], index=pd.Index(list(points)), crs=4326
    )
    edges = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return walk_graph_from_edges(nodes, edges, **kwargs)


def test_online_graph_equals_offline_graph_from_the_same_ways(online):
    elements = json.loads(OVERPASS_JSON.read_text(encoding="utf-8"))["elements"]
    hull = shapely.MultiPoint([(e["lon"], e["lat"]) for e in elements if e["type"] == "node"]).convex_hull

    online_graph = walk_graph_from_place(hull, buffer_m=50)  # the whole fixture: nothing truncated
    offline = offline_graph(OVERPASS_JSON)

    assert online_graph.graph["crs"] == offline.graph["crs"]
    assert set(online_graph.nodes) == set(offline.nodes)
    assert online_graph.number_of_edges() == offline.number_of_edges()
    # same directed node pairs, with multiplicity
    assert sorted((u, v) for u, v, _ in online_graph.edges) == sorted((u, v) for u, v, _ in offline.edges)
    total = sum(d["length"] for *_, d in online_graph.edges(data=True))
    assert total == pytest.approx(sum(d["length"] for *_, d in offline.edges(data=True)), rel=1e-9)
    # foot=no is honoured online too (osmnx drops the tag unless asked for it)
    foot_no = {
        e["id"]
        for e in elements
        if e["type"] == "way" and e["tags"].get("foot") == "no" and e["tags"]["highway"] == "service"
    }
    assert foot_no and not foot_no & {d.get("osmid") for *_, d in online_graph.edges(data=True)}


def test_dem_gives_slope_aware_times(online, tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine  # not rasterio's from_origin: it warns (affine's `*` deprecation)

    elements = json.loads(OVERPASS_JSON.read_text(encoding="utf-8"))["elements"]
    lonlat = [(e["lon"], e["lat"]) for e in elements if e["type"] == "node"]
    west, south, east, north = gpd.GeoSeries(shapely.points(lonlat), crs=4326).to_crs(3067).total_bounds
    west, north, cell = west - 200, north + 200, 10.0
    width, height = int((east + 200 - west) / cell) + 1, int((north - (south - 200)) / cell) + 1
    z = np.tile(np.arange(width, dtype="float32") * cell * 0.05, (height, 1))  # 5 % uphill to the east
    dem = tmp_path / "dem.tif"
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        height=height,
        width=width,
        count=1,
        dtype="float32",
        crs="EPSG:3067",
        transform=Affine(cell, 0, west, 0, -cell, north),
    ) as dst:
        dst.write(z, 1)

    graph = walk_graph_from_place(fixture_box(), buffer_m=100, dem=dem)

    assert graph.graph["slope_model"] == "tobler"
    assert all("elevation" in d for _, d in graph.nodes(data=True))
    times = {(u, v, k): d["walk_s"] for u, v, k, d in graph.edges(keys=True, data=True)}
    assert any(abs(times[u, v, k] - times[v, u, k]) > 0.5 for u, v, k in times if (v, u, k) in times)
    flat = walk_graph_from_place(fixture_box(), buffer_m=100)  # other cache entry, same download
    assert flat.graph["slope_model"] == "flat"
    assert online.count("/api/interpreter") == 1


@pytest.mark.parametrize(
    ("query", "kwargs", "error", "match"),
    [
        ("  ", {}, ValidationError, "empty place name"),
        (42, {}, ValidationError, "place name, a shapely geometry"),
        (shapely.box(385000, 6672000, 385400, 6672400), {}, CRSError, "not longitude/latitude"),
        (shapely.Point(24.944, 60.17), {"buffer_m": 0}, GeometryError, "buffer_m > 0"),
        (gpd.GeoDataFrame(geometry=[], crs=4326), {}, GeometryError, "no geometry"),
        (gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]), {}, ValidationError, "no CRS"),
        (shapely.Point(24.944, 60.17), {"buffer_m": -1}, ValidationError, "buffer_m"),
        (shapely.Point(24.944, 60.17), {"slope_model": "steep"}, ValidationError, "slope_model"),
        (shapely.Point(24.944, 60.17), {"walk_m_per_min": 0}, ValidationError, "walk_m_per_min"),
    ],
)
def test_bad_queries_fail_before_any_request(online, query, kwargs, error, match):
    with pytest.raises(error, match=match):
        walk_graph_from_place(query, **kwargs)
    assert online.count() == 0


def test_only_localhost_is_reachable():
    # pytest-socket also warns when it blocks; expect the warning (warnings are errors here)
    with pytest.raises(SocketConnectBlockedError), pytest.warns(UserWarning, match="192.0.2.1"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1, never routed
