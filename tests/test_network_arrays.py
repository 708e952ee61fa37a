"""The networkx-free path: OSM file → arrays → times, equal to the networkx path; the array cache."""

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from dz_gis import DataFileError, settings
from dz_gis.access import isochrones, nearest_times, od_times
from dz_gis.datasets import sample_osm_path
from dz_gis.datasets.synthetic import synthetic_osm_file
from dz_gis.network import PreparedNetwork, prepare, walk_graph_from_file, walk_network_from_file

DATA = Path(__file__).parent / "data" / "osm"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory):
    return synthetic_osm_file(tmp_path_factory.mktemp("osm") / "grid.osm.pbf", 2500, seed=3)


def facilities_near_nodes(net, k=60, seed=0):
    rng = np.random.default_rng(seed)
    rows = rng.choice(net.n, size=k, replace=False)
    xy = net.xy[rows] + rng.uniform(-8, 8, (k, 2))
    cats = np.array(["school", "clinic", "park"])[np.arange(k) % 3]
    return gpd.GeoDataFrame({"category": cats}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=net.crs)


def assert_same_times(graph, net, facilities, demand=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stray paths: the same warnings on both paths
        a = nearest_times(graph, facilities, cutoff_min=15, demand=demand)
        b = nearest_times(net, facilities, cutoff_min=15, demand=demand)
    x, y = a.nodes.sort_index(), b.nodes.sort_index()
    assert x.index.equals(y.index)
    assert (x.isna() == y.isna()).all().all()
    assert x.notna().to_numpy().sum() > 100
    np.testing.assert_allclose(x.to_numpy(), y.to_numpy(), rtol=0, atol=1e-9)
    if demand is not None:
        np.testing.assert_allclose(a.demand.to_numpy(), b.demand.to_numpy(), rtol=0, atol=1e-9)
        assert a.demand.notna().to_numpy().sum() > 10
    pd.testing.assert_frame_equal(a.snapped[["snap_m", "too_far"]], b.snapped[["snap_m", "too_far"]])


def test_sample_file_gives_the_networkx_paths_times(sample):
    graph = walk_graph_from_file(sample_osm_path(), cache=False)
    net = walk_network_from_file(sample_osm_path(), cache=False)
    assert isinstance(net, PreparedNetwork)
    assert prepare(net) is net
    ref = prepare(graph)
    assert (net.n, len(net.edge_u)) == (ref.n, len(ref.edge_u))
    assert str(net.crs) == str(ref.crs)
    assert net.given_geom is None  # every segment is straight: no LineStrings kept
    assert_same_times(graph, net, sample.facilities, demand=sample.compounds)


def test_sample_od_times_and_circles_are_the_same(sample):
    graph = walk_graph_from_file(sample_osm_path())
    net = walk_network_from_file(sample_osm_path())
    origins, dest = sample.compounds.iloc[:40], sample.facilities.iloc[:15]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = od_times(graph, origins, dest, cutoff_min=15)
        b = od_times(net, origins, dest, cutoff_min=15)
    assert len(a) > 50
    cols = list(a.columns)
    pd.testing.assert_frame_equal(
        a.sort_values(cols[:2]).reset_index(drop=True), b[cols].sort_values(cols[:2]).reset_index(drop=True)
    )
    fac = sample.facilities.iloc[:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ca = isochrones(graph, fac, minutes=(5, 10))
        cb = isochrones(net, fac, minutes=(5, 10))
    sym = shapely.area(shapely.symmetric_difference(ca.geometry.array, cb.geometry.array))
    assert (sym <= 1e-6 * shapely.area(ca.geometry.array)).all()


def test_run_coverage_takes_the_network(sample):
    from dz_gis import run_coverage

    graph = walk_graph_from_file(sample_osm_path())
    net = walk_network_from_file(sample_osm_path())
    args = (sample.communities, sample.compounds, sample.facilities)
    a = run_coverage(graph, *args, with_isochrones=False)
    b = run_coverage(net, *args, with_isochrones=False)
    assert b.walk_m_per_min == a.walk_m_per_min == 67.0
    pd.testing.assert_frame_equal(a.times, b.times, check_exact=False, atol=1e-9, rtol=0)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.times.notna().to_numpy().sum() > 100


def test_siting_takes_the_network(sample):
    from dz_gis.allocate import MCLP, network_candidates

    graph = walk_graph_from_file(sample_osm_path())
    net = walk_network_from_file(sample_osm_path())
    a = network_candidates(graph, sample.communities, spacing_m=200)
    b = network_candidates(net, sample.communities, spacing_m=200)
    assert len(a) > 10
    assert sorted(a["node"].tolist()) == sorted(b["node"].tolist())
    comp = sample.compounds
    fa = MCLP.from_layers(graph, comp, a, service_min=10, p=3).solve()
    fb = MCLP.from_layers(net, comp, a, service_min=10, p=3).solve()
    assert fb.objective == pytest.approx(fa.objective) and fa.objective > 0


def test_synthetic_file_gives_the_networkx_paths_times(grid_file):
    graph = walk_graph_from_file(grid_file, cache=False)
    net = walk_network_from_file(grid_file, cache=False)
    ref = prepare(graph)
    assert (net.n, len(net.edge_u)) == (ref.n, len(ref.edge_u))
    # the file's bridges (not enterable), steps (slower) and private ways (not walked) arrive alike
    assert 0 < (~net.edge_enterable).sum() == (~ref.edge_enterable).sum()
    assert 0 < net.edge_steps.sum() == ref.edge_steps.sum()
    np.testing.assert_allclose(np.sort(net.edge_s), np.sort(ref.edge_s), rtol=1e-12)
    assert_same_times(graph, net, facilities_near_nodes(net))


def test_slopes_from_a_dem_are_the_networkx_paths(grid_file, tmp_path):
    import rasterio
    from rasterio.transform import Affine

    cell, size = 25.0, 200  # 5 km square over the grid (EPSG:32648, from 500 km E, 3450 km N)
    x = (np.arange(size) + 0.5) * cell
    z = 40.0 * np.sin(x / 700.0)[None, :] + 0.08 * x[::-1][:, None]  # hills, and a slope to the north
    dem = tmp_path / "hills.tif"
    profile = dict(driver="GTiff", height=size, width=size, count=1, dtype="float32", crs="EPSG:32648")
    with rasterio.open(dem, "w", transform=Affine(cell, 0, 499_500.0, 0, -cell, 3_454_500.0), **profile) as dst:
        dst.write(z.astype("float32"), 1)
    graph = walk_graph_from_file(grid_file, dem=dem, cache=False)
    net = walk_network_from_file(grid_file, dem=dem, cache=False)
    assert net.slope_model == "tobler" and shapely.has_z(net.given_geom).all()
    ref = prepare(graph)
    assert np.abs(ref.edge_s[ref.edge_rev] - ref.edge_s).max() > 1.0  # up and down differ
    assert_same_times(graph, net, facilities_near_nodes(net, seed=2))


def test_to_networkx_round_trip(grid_file):
    net = walk_network_from_file(grid_file, cache=False)
    graph = net.to_networkx()
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_nodes() == net.number_of_nodes()
    assert graph.number_of_edges() == net.number_of_edges()
    assert graph.graph["crs"] == net.crs and graph.graph["walk_m_per_min"] == net.walk_m_per_min
    back = prepare(graph)
    np.testing.assert_array_equal(back.node_ids, net.node_ids)
    assert back.edge_steps.sum() == net.edge_steps.sum()
    assert (~back.edge_enterable).sum() == (~net.edge_enterable).sum()
    np.testing.assert_array_equal(np.bincount(back.component), np.bincount(net.component))
    # every edge of the graph is one of the network's, with its time (networkx looked up independently)
    u, v = net.node_ids[net.edge_u], net.node_ids[net.edge_v]
    for k in np.random.default_rng(0).choice(len(u), 200, replace=False):
        times = [d["walk_s"] for d in graph[u[k]][v[k]].values()]
        assert min(abs(t - net.edge_s[k]) for t in times) < 1e-9
    assert_same_times(graph, net, facilities_near_nodes(net, seed=1))


def test_straight_geometries_are_made_only_when_asked(grid_file):
    net = walk_network_from_file(grid_file, cache=False)
    assert "edge_geom" not in net.__dict__
    some = np.array([0, 5, 7])
    lines = net.geoms(some)
    expect = shapely.linestrings(np.stack([net.xy[net.edge_u[some]], net.xy[net.edge_v[some]]], axis=1))
    assert shapely.equals_exact(lines, expect, 0).all()
    assert "edge_geom" not in net.__dict__
    np.testing.assert_allclose(shapely.length(net.edge_geom), net.edge_length)


def test_array_cache_reloads_an_equal_network_and_ignores_other_entries(grid_file, monkeypatch):
    import dz_gis.network.osm_arrays as osm_arrays

    first = walk_network_from_file(grid_file)
    (npz,) = (settings.cache_folder / "networks").glob("*.npz")
    with np.load(npz, allow_pickle=False) as data:  # plain arrays, no pickled objects
        assert "edge_s" in data.files

    def no_read(*args, **kwargs):
        raise AssertionError("read the file again instead of the cache")

    with monkeypatch.context() as patch:
        patch.setattr(osm_arrays, "read_osm_ways", no_read)
        again = walk_network_from_file(grid_file)
    for name in ("node_ids", "xy", "edge_u", "edge_v", "edge_s", "edge_rev", "edge_enterable", "edge_steps"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert CRS.from_user_input(again.crs) == CRS.from_user_input(first.crs)
    # an entry of an older layout is not misread: it is built again, with a warning
    manifest = npz.with_suffix(".json")
    manifest.write_text(manifest.read_text().replace('"format": 1', '"format": 0'))
    with pytest.warns(UserWarning, match="is damaged"):
        rebuilt = walk_network_from_file(grid_file)
    np.testing.assert_array_equal(rebuilt.edge_s, first.edge_s)


def test_a_damaged_array_cache_is_built_again(grid_file):
    first = walk_network_from_file(grid_file)
    (npz,) = (settings.cache_folder / "networks").glob("*.npz")
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="is damaged"):
        again = walk_network_from_file(grid_file)
    np.testing.assert_array_equal(again.edge_s, first.edge_s)


def test_walk_rules_file_as_xml_matches_the_graph():
    path = DATA / "walk_rules.osm"
    graph = walk_graph_from_file(path, cache=False)
    net = walk_network_from_file(path, cache=False)
    ref = prepare(graph)
    key = lambda p: sorted(zip(p.node_ids[p.edge_u].tolist(), p.node_ids[p.edge_v].tolist(), strict=True))  # noqa: E731
    assert key(net) == key(ref)
    assert (~net.edge_enterable).sum() == (~ref.edge_enterable).sum()


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.osm.pbf", None, "not found"),
        ("roads.dwg", b"AC1027", "expected an OpenStreetMap"),
        ("broken.osm.pbf", b"\x00\x00\x00\x0dnot a pbf at all", "cannot read it as an OpenStreetMap|no ways"),
        ("empty.osm", b"<?xml version='1.0'?><osm version='0.6'></osm>", "no ways"),
    ],
)
def test_bad_osm_files(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataFileError, match=match):
        walk_network_from_file(path, cache=False)


def test_network_from_arrays_checks_its_input():
    from dz_gis import ValidationError
    from dz_gis.network import network_from_arrays

    xy = np.array([[0.0, 0.0], [60.0, 0.0], [60.0, 80.0]])
    ids = np.array([10, 11, 12])
    net = network_from_arrays(ids, xy, [0, 1, 1, 2], [1, 0, 2, 1], [60.0, 60.0, 80.0, 80.0], crs="EPSG:32648")
    assert net.edge_rev.tolist() == [1, 0, 3, 2]
    assert net.edge_length.tolist() == [60.0, 60.0, 80.0, 80.0]
    dist = nx.single_source_dijkstra_path_length(net.to_networkx().reverse(copy=False), 12, weight="walk_s")
    assert dist == {12: 0.0, 11: 80.0, 10: 140.0}  # checked against networkx on the round trip
    with pytest.raises(ValidationError, match="node rows 0..2"):
        network_from_arrays(ids, xy, [0, 3], [1, 0], [1.0, 1.0], crs="EPSG:32648")
    with pytest.raises(ValidationError, match="do not match"):
        network_from_arrays(ids, xy, [0, 1], [1], [1.0, 1.0], crs="EPSG:32648")
    with pytest.raises(ValidationError, match="lack 'walk_s'"):
        network_from_arrays(ids, xy, [0, 1], [1, 0], [1.0, np.nan], crs="EPSG:32648")
    with pytest.raises(Exception, match="degrees"):
        network_from_arrays(ids, xy, [0, 1], [1, 0], [1.0, 1.0], crs="EPSG:4326")


def test_reading_a_graph_in_bulk_equals_reading_it_edge_by_edge():
    """Flags as bools, text and absent; tags deciding where absent; lists; steps; parallel edges; loops."""
    from dz_gis.network.from_graph import arrays_from_graph
    from dz_gis.network.ways import enterable

    rng = np.random.default_rng(5)
    graph = nx.MultiDiGraph(crs="EPSG:32648")
    for i in range(40):
        graph.add_node(f"n{i}", x=float(rng.uniform(0, 500)), y=float(rng.uniform(0, 500)))
    flags = [True, False, None, "False", "1", "maybe"]
    kinds = ["footway", "steps", "primary", ["footway", "corridor"], "corridor", "residential"]
    for k in range(300):
        a, b = (f"n{j}" for j in rng.integers(0, 40, 2))
        data = {"walk_s": float(rng.uniform(1, 90)), "highway": kinds[k % len(kinds)]}
        if (flag := flags[k % len(flags)]) is not None:
            data["enterable"] = flag
        if k % 7 == 0:
            data.update(bridge="yes", layer="1")
        if k % 3 == 0:
            xa, ya, xb, yb = graph.nodes[a]["x"], graph.nodes[a]["y"], graph.nodes[b]["x"], graph.nodes[b]["y"]
            data["geometry"] = shapely.LineString([(xa, ya), ((xa + xb) / 2 + 5, (ya + yb) / 2), (xb, yb)])
        graph.add_edge(a, b, **data)
    got = arrays_from_graph(graph)
    # edge by edge, plainly
    edges = list(graph.edges(data=True))
    rows = {node: i for i, node in enumerate(graph.nodes)}
    assert got.u.tolist() == [rows[u] for u, _, _ in edges] and got.v.tolist() == [rows[v] for _, v, _ in edges]
    assert got.walk_s.tolist() == [d["walk_s"] for *_, d in edges]
    assert got.steps.tolist() == [d["highway"] == "steps" for *_, d in edges]
    text = {"true": True, "1": True, "false": False, "0": False}
    expect = []
    for *_, d in edges:
        f = d.get("enterable")
        f = f if isinstance(f, bool) else text.get(f.strip().lower()) if isinstance(f, str) else None
        if f is None:
            tags = pd.DataFrame([{t: d.get(t) for t in ("highway", "bridge", "tunnel", "layer")}])
            f = bool(enterable(tags)[0])
        expect.append(f)
    assert got.enterable.tolist() == expect
    assert [g is None for g in got.geometry] == [d.get("geometry") is None for *_, d in edges]
    net = prepare(graph)
    assert np.array_equal(net.node_ids, np.array(list(graph.nodes), dtype=object))
    assert shapely.equals_exact(net.geoms(np.arange(6)), net.edge_geom[:6], 0).all()


def test_reverse_pairs_equal_a_table_join():
    """The sort that pairs each edge with its way back equals the plain join by (ends, length, rank)."""
    from dz_gis.network import network_from_arrays

    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 300, (30, 2))
    a, b = rng.integers(0, 30, 400), rng.integers(0, 30, 400)
    a, b = a[a != b], b[a != b]
    both = rng.random(len(a)) < 0.7  # most ways two-way; some duplicated (parallel ways)
    u = np.r_[a, b[both], a[:50]]
    v = np.r_[b, a[both], b[:50]]
    u, v = u[order := rng.permutation(len(u))], v[order]
    net = network_from_arrays(np.arange(30), xy, u, v, np.full(len(u), 10.0), crs="EPSG:32648")
    frame = pd.DataFrame({"i": np.arange(len(u)), "a": u, "b": v, "L": np.round(net.edge_length, 3)})
    frame["k"] = frame.groupby(["a", "b", "L"]).cumcount()
    pairs = frame.merge(frame, left_on=["a", "b", "L", "k"], right_on=["b", "a", "L", "k"], suffixes=("", "_r"))
    expect = np.full(len(u), -1)
    expect[pairs["i"].to_numpy()] = pairs["i_r"].to_numpy()
    np.testing.assert_array_equal(net.edge_rev, expect)
    assert (net.edge_rev >= 0).sum() > 300 and (net.edge_rev < 0).sum() > 30


@pytest.mark.parametrize("buffer_m", [1.0, 400.0])
def test_study_area_clips_the_same_segments(buffer_m):
    centre = shapely.Point(24.9440, 60.1700)
    area = gpd.GeoSeries([centre], crs=4326).to_crs(32635).buffer(150).to_crs(4326)
    ref = prepare(walk_graph_from_file(sample_osm_path(), polygon=area, buffer_m=buffer_m, cache=False))
    net = walk_network_from_file(sample_osm_path(), polygon=area, buffer_m=buffer_m, cache=False)
    key = lambda p: sorted(zip(p.node_ids[p.edge_u].tolist(), p.node_ids[p.edge_v].tolist(), strict=True))  # noqa: E731
    assert len(key(net)) > 500
    assert key(net) == key(ref)
