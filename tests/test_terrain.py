"""Slope-aware walking times on small synthetic DEMs whose answers can be worked out by hand."""

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from conftest import make_graph, points
from reference import reference_joins, reference_times

from dz_gis import DataFileError
from dz_gis.access import nearest_times
from dz_gis.network import add_walk_times
from dz_gis.network.prepared import prepare
from dz_gis.network.terrain import segment_seconds, speed_factor

X0, Y0 = 500_000.0, 3_450_000.0  # EPSG:32648, near 105 E 31 N


def write_dem(path, z, *, x0=X0 - 100, y_top=Y0 + 100, cell=10.0, crs="EPSG:32648", nodata=-9999.0):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=z.shape[0],
        width=z.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=Affine(cell, 0, x0, 0, -cell, y_top),
        nodata=nodata,
    ) as dst:
        dst.write(z.astype("float32"), 1)
    return path


def ramp(path, slope=0.1, shape=(21, 61)):
    """z = slope * (x - (X0 - 100)), a plane rising eastwards."""
    cols = (np.arange(shape[1]) + 0.5) * 10.0
    return write_dem(path, np.tile(slope * cols, (shape[0], 1)))


def two_node_graph(x_a, x_b):
    coords = {"a": (X0 + x_a, Y0), "b": (X0 + x_b, Y0)}
    g = make_graph([("a", "b", 0), ("b", "a", 0)], coords)
    for _, _, d in g.edges(data=True):
        d["length"] = d["geometry"].length
    return g


def test_tobler_is_one_sided():
    assert speed_factor(np.array([0.0]))[0] == pytest.approx(1.0)
    up, down = speed_factor(np.array([0.1, -0.1]))
    assert up == pytest.approx(math.exp(-0.35)) and down == pytest.approx(1.0)
    # Naismith: 10 m of ascent costs 75 s at 5 km/h
    assert segment_seconds(np.array([0.0]), np.array([10.0]), walk_m_per_min=83.33, model="naismith")[
        0
    ] == pytest.approx(75)


def test_uphill_and_downhill_times_by_hand(tmp_path):
    dem = ramp(tmp_path / "ramp.tif")
    g = add_walk_times(two_node_graph(100, 200), walk_m_per_min=60.0, dem=dem)
    up = g.edges["a", "b", 0]["walk_s"]
    down = g.edges["b", "a", 0]["walk_s"]
    assert up == pytest.approx(100 / math.exp(-3.5 * 0.1), rel=1e-6)  # 10 % up: 141.9 s
    assert down == pytest.approx(100.0, rel=1e-6)  # 10 % down is Tobler's near-best pace
    assert g.nodes["b"]["elevation"] - g.nodes["a"]["elevation"] == pytest.approx(10.0)


def test_long_edge_is_judged_by_its_own_profile(tmp_path):
    # a ridge between two points at the same height: end nodes alone would say "flat"
    x = (np.arange(61) + 0.5) * 10.0 + X0 - 100
    z = np.tile(np.clip(30 - np.abs(x - (X0 + 150)) * 0.3, 0, None), (21, 1))
    dem = write_dem(tmp_path / "ridge.tif", z)
    g = add_walk_times(two_node_graph(0, 300), walk_m_per_min=60.0, dem=dem)
    assert g.nodes["a"]["elevation"] == pytest.approx(g.nodes["b"]["elevation"])
    assert g.edges["a", "b", 0]["walk_s"] > 300 * 1.2


def test_dem_in_another_crs_gives_the_same_answer(tmp_path):
    import geopandas as gpd
    import shapely

    dem_utm = ramp(tmp_path / "ramp.tif")
    # the same plane written in Web Mercator (EPSG:3857), finer cells
    corner = gpd.GeoSeries([shapely.Point(X0 - 150, Y0 + 150), shapely.Point(X0 + 550, Y0 - 150)], crs=32648).to_crs(
        3857
    )
    (x0, y0), (x1, y1) = [(p.x, p.y) for p in corner]
    cell = 5.0
    nx_, ny_ = int((x1 - x0) / cell), int((y0 - y1) / cell)
    xs = x0 + (np.arange(nx_) + 0.5) * cell
    ys = y0 - (np.arange(ny_) + 0.5) * cell
    mx, my = np.meshgrid(xs, ys)
    ux, _ = (
        gpd.GeoSeries(gpd.points_from_xy(mx.ravel(), my.ravel()), crs=3857).to_crs(32648).get_coordinates().to_numpy().T
    )
    z = 0.1 * (ux - (X0 - 100))
    dem_merc = write_dem(tmp_path / "ramp3857.tif", z.reshape(mx.shape), x0=x0, y_top=y0, cell=cell, crs="EPSG:3857")
    a = add_walk_times(two_node_graph(100, 200), walk_m_per_min=60.0, dem=dem_utm).edges["a", "b", 0]["walk_s"]
    b = add_walk_times(two_node_graph(100, 200), walk_m_per_min=60.0, dem=dem_merc).edges["a", "b", 0]["walk_s"]
    assert b == pytest.approx(a, rel=2e-3)


def test_dem_that_does_not_cover_the_network_is_an_error(tmp_path):
    dem = ramp(tmp_path / "ramp.tif")
    with pytest.raises(DataFileError, match="outside the DEM"):
        add_walk_times(two_node_graph(100, 900), dem=dem)


def test_nodata_under_the_network_is_an_error_not_zero(tmp_path):
    z = np.full((21, 61), 100.0)
    z[8:13, 20:30] = -9999.0
    dem = write_dem(tmp_path / "holes.tif", z)
    with pytest.raises(DataFileError, match="nodata"):
        add_walk_times(two_node_graph(0, 300), dem=dem)


def test_partial_edges_on_slopes_match_networkx(tmp_path):
    dem = ramp(tmp_path / "ramp.tif", slope=0.08)
    coords = {i: (X0 + 60.0 * i, Y0 + (15.0 if i % 2 else 0.0)) for i in range(7)}
    edges = [(i, i + 1, 0) for i in range(6)] + [(i + 1, i, 0) for i in range(6)]
    g = make_graph(edges, coords)
    for _, _, d in g.edges(data=True):
        d["length"] = d["geometry"].length
    add_walk_times(g, walk_m_per_min=60.0, dem=dem)
    fac = points([(X0 + 95.0, Y0 + 5.0), (X0 + 330.0, Y0 + 10.0)], category=["shop", "shop"])
    homes = points([(X0 + 20.0, Y0 - 3.0), (X0 + 150.0, Y0 + 4.0), (X0 + 340.0, Y0 + 12.0), (X0 + 250.0, Y0)])
    got = nearest_times(g, fac, demand=homes).demand["shop"].to_numpy() * 60
    expected, _ = reference_times(g, reference_joins(g, fac), reference_joins(g, homes), 1.0)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert prepare(g).slope_model == "tobler"


def test_dem_without_crs_or_unreadable_is_an_error(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(
        path, "w", driver="GTiff", height=2, width=2, count=1, dtype="float32", transform=Affine(10, 0, X0, 0, -10, Y0)
    ) as dst:
        dst.write(np.zeros((2, 2), dtype="float32"), 1)
    with pytest.raises(DataFileError, match="has no CRS"):
        add_walk_times(two_node_graph(0, 10), dem=path)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff")
    with pytest.raises(DataFileError, match="cannot read it as a raster"):
        add_walk_times(two_node_graph(0, 10), dem=junk)
    with pytest.raises(DataFileError, match="DEM file not found"):
        add_walk_times(two_node_graph(0, 10), dem=tmp_path / "missing.tif")


SHARED_DEM = Path(__file__).resolve().parents[2] / "shared" / "data" / "dem-n31e107-hygnic" / "N31E107.tif"


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED_DEM.exists(), reason="reference data folder ../shared is absent")
def test_real_dazhou_dem_slows_hill_walks():
    """A street grid over the Dazhou urban core (EPSG:4545) timed on the real 100 m DEM (EPSG:3857)."""
    import geopandas as gpd
    import shapely

    from dz_gis.datasets import synthetic_street_graph

    g = synthetic_street_graph(900, spacing_m=120, crs="EPSG:4545")
    centre = gpd.GeoSeries([shapely.Point(107.49, 31.22)], crs=4326).to_crs(4545).iloc[0]
    xs = np.array([d["x"] for _, d in g.nodes(data=True)])
    ys = np.array([d["y"] for _, d in g.nodes(data=True)])
    dx, dy = centre.x - xs.mean(), centre.y - ys.mean()
    for _, d in g.nodes(data=True):
        d["x"] += dx
        d["y"] += dy
    for u, v, d in g.edges(data=True):
        d["geometry"] = shapely.LineString([(g.nodes[u]["x"], g.nodes[u]["y"]), (g.nodes[v]["x"], g.nodes[v]["y"])])
    flat = np.array([d["walk_s"] for *_, d in g.edges(data=True)])
    add_walk_times(g, dem=SHARED_DEM)
    hilly = np.array([d["walk_s"] for *_, d in g.edges(data=True)])
    elev = np.array([d["elevation"] for _, d in g.nodes(data=True)])
    assert 250 < elev.min() and elev.max() < 1000  # the 州河 valley and its hills
    assert np.median(hilly / flat) > 1.02  # hills cost time
    up_down = [(g.edges[u, v, 0]["walk_s"], g.edges[v, u, 0]["walk_s"]) for u, v in list(g.edges())[:200]]
    assert any(abs(a - b) > 1.0 for a, b in up_down)  # and the two directions differ
