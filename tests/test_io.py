"""Good-path tests of dz_gis.io: the files planners have come back as standard WGS84 layers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely import Point, Polygon, box

from dz_gis import (
    CategoryError,
    ColumnError,
    DataFileError,
    StudyAreaError,
    default_catalog,
    read_communities,
    read_compounds,
    read_facilities,
)
from dz_gis.io import detect_dbf_encoding, read_table

WGS84 = "EPSG:4326"
NAMES = ["朝阳社区", "西外社区", "凤凰山社区", "塔沱社区"]
HOUSEHOLDS = [2150, 3120, 1890, 2600]
SQUARES = [
    box(107.47, 31.20, 107.48, 31.21),
    box(107.48, 31.20, 107.49, 31.21),
    box(107.47, 31.21, 107.48, 31.22),
    box(107.48, 31.21, 107.49, 31.22),
]
COMMUNITY_COLUMNS = [
    "community_id",
    "name",
    "street",
    "district",
    "households",
    "population",
    "area_m2",
    "community_type",
    "provisional",
]


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(h))


def chinese_communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"社区名称": NAMES, "户数": HOUSEHOLDS}, geometry=SQUARES, crs=WGS84)


# ----------------------------------------------------------------------------- encodings


def _write_shapefile(gdf: gpd.GeoDataFrame, path, encoding: str, keep_cpg: bool) -> None:
    gdf.to_file(path, encoding=encoding)
    cpg = path.with_suffix(".cpg")
    assert cpg.exists()  # GDAL writes one; planners' ArcGIS/SuperMap files often lack it
    if not keep_cpg:
        cpg.unlink()


def test_gbk_shapefile_without_cpg_round_trips(tmp_path) -> None:
    path = tmp_path / "社区边界.shp"
    _write_shapefile(chinese_communities(), path, "gbk", keep_cpg=False)
    # Without detection GDAL reads the GBK bytes as Latin-1: the test would catch a regression.
    raw = pyogrio.read_dataframe(path)
    assert "社区名称" not in raw.columns
    assert detect_dbf_encoding(path) == "gb18030"

    gdf = read_communities(path)
    assert gdf["name"].tolist() == NAMES
    assert gdf["households"].tolist() == [float(h) for h in HOUSEHOLDS]
    assert "社区名称" not in gdf.columns and "户数" not in gdf.columns


def test_gbk_shapefile_with_cpg_round_trips(tmp_path) -> None:
    path = tmp_path / "社区边界.shp"
    _write_shapefile(chinese_communities(), path, "gbk", keep_cpg=True)
    assert detect_dbf_encoding(path) is None  # GDAL honours the .cpg itself
    gdf = read_communities(path)
    assert gdf["name"].tolist() == NAMES
    assert gdf["households"].tolist() == [float(h) for h in HOUSEHOLDS]


def test_explicit_encoding_overrides_detection(tmp_path) -> None:
    # Big5 bytes (a file from Taiwan / Hong Kong) also decode as GB18030, into nonsense: the
    # reader stops and names encoding='big5' rather than read them so; encoding= wins.
    names = ["達州社區", "鳳凰山社區"]
    gdf = gpd.GeoDataFrame({"MC": names}, geometry=SQUARES[:2], crs=WGS84)
    path = tmp_path / "big5.shp"
    _write_shapefile(gdf, path, "big5", keep_cpg=False)
    with pytest.raises(DataFileError, match=r"big5\.shp: the attribute table looks like Big5.*encoding='big5'"):
        read_communities(path)
    assert read_communities(path, encoding="big5")["name"].tolist() == names


FACILITY_CSV = (
    '名称,类型,经度,纬度,建筑面积\n朝阳幼儿园,幼儿园,107.4752,31.2043,"1,200"\n塔沱超市,超市,107.4870,31.2166,2500\n'
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_csv_in_utf8_bom_and_gbk(tmp_path, encoding: str) -> None:
    path = tmp_path / "设施.csv"
    path.write_bytes(FACILITY_CSV.encode(encoding))
    gdf = read_facilities(path, coords="wgs84")
    assert gdf["name"].tolist() == ["朝阳幼儿园", "塔沱超市"]
    assert gdf["category"].tolist() == ["kindergarten", "supermarket"]
    assert gdf["area_m2"].tolist() == [1200.0, 2500.0]
    assert shapely.get_x(gdf.geometry.array).tolist() == [107.4752, 107.4870]
    assert shapely.get_y(gdf.geometry.array).tolist() == [31.2043, 31.2166]


def test_csv_explicit_encoding(tmp_path) -> None:
    # A Big5 table decodes as GB18030 without error, but into the wrong characters.
    path = tmp_path / "設施.csv"
    path.write_bytes("名稱,類型,經度,緯度\n達州幼兒園,幼兒園,107.4752,31.2043\n".encode("big5"))
    gdf = read_table(path, coords="wgs84", encoding="big5", columns={"lon": "經度", "lat": "緯度"})
    assert gdf["名稱"].tolist() == ["達州幼兒園"]
    with pytest.raises(ColumnError, match="經度"):  # the header itself decodes wrongly without it
        read_table(path, coords="wgs84", columns={"lon": "經度", "lat": "緯度"})


# ----------------------------------------------------------------------------- formats


def test_excel_with_chinese_lonlat(tmp_path) -> None:
    path = tmp_path / "小区.xlsx"
    pd.DataFrame(
        {
            "小区名称": ["金龙小区", "滨江花园"],
            "户数": [420, "3,000"],
            "经度": [107.4745, 107.4856],
            "纬度": [31.2051, 31.2062],
        }
    ).to_excel(path, index=False)
    gdf = read_compounds(path, coords="wgs84")
    assert gdf.crs == WGS84
    assert gdf["name"].tolist() == ["金龙小区", "滨江花园"]
    assert gdf["households"].tolist() == [420.0, 3000.0]
    assert shapely.get_x(gdf.geometry.array).tolist() == [107.4745, 107.4856]
    assert shapely.get_y(gdf.geometry.array).tolist() == [31.2051, 31.2062]


def test_geojson_communities(tmp_path) -> None:
    path = tmp_path / "社区.geojson"
    src = chinese_communities()
    src["社区编码"] = ["511702001001", "511702001002", "511702001003", "511702001004"]
    src["街道"] = "朝阳街道"
    src.to_file(path)
    gdf = read_communities(path)
    assert gdf["community_id"].tolist() == src["社区编码"].tolist()
    assert gdf["street"].tolist() == ["朝阳街道"] * 4
    assert gdf.geometry.geom_equals_exact(src.geometry, tolerance=1e-12).all()


@pytest.mark.parametrize("epsg", [4545, 4490])
def test_cgcs2000_geopackage_comes_back_in_wgs84(tmp_path, epsg: int) -> None:
    lon = np.array([107.4745, 107.4856, 107.5012, 107.4633])
    lat = np.array([31.2051, 31.2062, 31.2304, 31.1938])
    src = gpd.GeoDataFrame(
        {"小区名称": ["金龙小区", "滨江花园", "翠屏小区", "南外小区"], "户数": [420, 860, 310, 540]},
        geometry=gpd.points_from_xy(lon, lat),
        crs=WGS84,
    ).to_crs(epsg=epsg)
    path = tmp_path / f"小区_{epsg}.gpkg"
    src.to_file(path)
    assert pyogrio.read_info(path)["crs"] == f"EPSG:{epsg}"

    gdf = read_compounds(path, coords="wgs84")
    assert gdf.crs.to_epsg() == 4326
    dist = haversine_m(lon, lat, shapely.get_x(gdf.geometry.array), shapely.get_y(gdf.geometry.array))
    assert dist.max() < 0.5


# ----------------------------------------------------------------------------- columns


def test_standard_columns_present_and_in_order(tmp_path) -> None:
    path = tmp_path / "社区.gpkg"
    src = chinese_communities()
    src["备注"] = "示例"  # extra columns are kept after the standard ones
    src.to_file(path)
    gdf = read_communities(path)
    assert list(gdf.columns) == COMMUNITY_COLUMNS + ["备注", "geometry"]
    assert gdf["provisional"].tolist() == [False] * 4
    assert gdf[["street", "district"]].isna().all().all()
    assert gdf["population"].isna().all()  # absent means "no data", never 0

    compounds = read_compounds(path, coords="wgs84")
    assert list(compounds.columns)[:5] == ["compound_id", "name", "community_id", "households", "population"]
    facilities = read_facilities(path, coords="wgs84", category="幼儿园")
    assert list(facilities.columns)[:4] == ["facility_id", "name", "category", "area_m2"]
    assert list(facilities.columns)[-1] == "geometry"


def test_ids_assigned_when_absent(tmp_path) -> None:
    path = tmp_path / "社区.geojson"
    squares = [box(107.47 + 0.005 * i, 31.20, 107.475 + 0.005 * i, 31.205) for i in range(12)]
    gpd.GeoDataFrame({"社区名称": [f"社区{i}" for i in range(12)]}, geometry=squares, crs=WGS84).to_file(path)
    gdf = read_communities(path)
    assert gdf["community_id"].tolist() == [f"C{i:02d}" for i in range(1, 13)]


def test_numeric_ids_become_text(tmp_path) -> None:
    path = tmp_path / "社区.gpkg"
    src = chinese_communities()
    src["社区编码"] = [511702001001, 511702001002, 511702001003, 511702001004]
    src.to_file(path)
    assert read_communities(path)["community_id"].tolist() == [str(v) for v in src["社区编码"]]


def test_thousands_separators_parse(tmp_path) -> None:
    path = tmp_path / "社区.geojson"
    src = chinese_communities()
    src["户数"] = ["3,000", "12,450", " 980 ", ""]
    src.to_file(path)
    gdf = read_communities(path)
    assert gdf["households"].tolist()[:3] == [3000.0, 12450.0, 980.0]
    assert math.isnan(gdf["households"].iloc[3])  # empty cell = no data


def test_facility_polygons_become_points_inside_them(tmp_path) -> None:
    # An L-shaped school building: its centroid lies outside the footprint.
    ell = Polygon(
        [
            (107.470, 31.200),
            (107.473, 31.200),
            (107.473, 31.2005),
            (107.4705, 31.2005),
            (107.4705, 31.203),
            (107.470, 31.203),
        ]
    )
    assert not ell.contains(ell.centroid)
    src = gpd.GeoDataFrame(
        {"名称": ["达州市第一托育中心", "塔沱超市"], "类型": ["托育中心", "超市"]},
        geometry=[ell, Point(107.4870, 31.2166)],
        crs=WGS84,
    )
    path = tmp_path / "设施.gpkg"
    src.to_file(path)
    gdf = read_facilities(path, coords="wgs84")
    assert gdf.geom_type.tolist() == ["Point", "Point"]
    assert ell.contains(gdf.geometry.iloc[0])
    assert gdf.geometry.iloc[1].equals(Point(107.4870, 31.2166))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("幼儿园", "kindergarten"),
        ("Kindergarten", "kindergarten"),
        ("kindergarten", "kindergarten"),
        ("幼稚园", "kindergarten"),
        ("超市", "supermarket"),
        ("Supermarket", "supermarket"),
        ("托育中心", "nursery"),
        ("childcare", "nursery"),
        ("nursing home", "elderly_care_complex"),
        ("卫生室", "health_station"),
        ("Community health service station", "health_station"),
        ("党群服务中心", "community_service"),
    ],
)
def test_category_names_resolve_to_catalog_ids(tmp_path, value: str, expected: str) -> None:
    path = tmp_path / "设施.csv"
    path.write_text(f"名称,类型,经度,纬度\n设施,{value},107.4752,31.2043\n", encoding="utf-8")
    gdf = read_facilities(path, coords="wgs84")
    assert gdf["category"].tolist() == [expected]
    assert expected in default_catalog().ids


def test_category_argument_for_single_category_file(tmp_path) -> None:
    path = tmp_path / "幼儿园.csv"
    path.write_text("名称,经度,纬度\n朝阳幼儿园,107.4752,31.2043\n", encoding="utf-8")
    assert read_facilities(path, coords="wgs84", category="幼儿园")["category"].tolist() == ["kindergarten"]


# ----------------------------------------------------------------------------- study area


def test_study_area_accepts_inside_and_rejects_outside(tmp_path) -> None:
    path = tmp_path / "社区.gpkg"
    chinese_communities().to_file(path)
    # The 通川区 centre, given in the projected CRS of the planning bureau.
    area = gpd.GeoDataFrame(geometry=[box(107.45, 31.18, 107.53, 31.25)], crs=WGS84).to_crs("EPSG:4545")
    assert len(read_communities(path, study_area=area)) == 4
    assert len(read_communities(path, study_area=(107.46, 31.19, 107.52, 31.24))) == 4

    chengdu = gpd.GeoDataFrame(geometry=[box(103.9, 30.5, 104.2, 30.8)], crs=WGS84)
    with pytest.raises(StudyAreaError, match=r"4 feature\(s\) lie outside the study area"):
        read_communities(path, study_area=chengdu)


def test_study_area_rejects_one_misplaced_feature(tmp_path) -> None:
    path = tmp_path / "设施.csv"
    path.write_text(
        "名称,类型,经度,纬度\n朝阳幼儿园,幼儿园,107.4752,31.2043\n"
        "南外幼儿园,幼儿园,107.4100,31.1500\n",  # 8 km south-west, beyond the 2 km margin
        encoding="utf-8",
    )
    with pytest.raises(StudyAreaError, match=r"1 feature\(s\).*Excel row 3 facility_id='F2'"):
        read_facilities(path, coords="wgs84", study_area=(107.46, 31.19, 107.52, 31.24))


def test_read_table_keeps_unknown_columns(tmp_path) -> None:
    path = tmp_path / "表.csv"
    path.write_text("名称,经度,纬度,备注\nA,107.4752,31.2043,x\n", encoding="utf-8")
    gdf = read_table(path, coords="wgs84")
    assert list(gdf.columns) == ["名称", "备注", "geometry"]
    assert gdf.crs == WGS84


def test_poi_export_with_other_categories_can_drop_them(tmp_path):
    import pandas as pd

    path = tmp_path / "poi.csv"
    pd.DataFrame(
        {
            "名称": ["甲幼儿园", "工商银行", "乙超市", "建设银行"],
            "类型": ["幼儿园", "银行", "超市", "银行"],
            "经度": [107.50, 107.501, 107.502, 107.503],
            "纬度": [31.21, 31.211, 31.212, 31.213],
        }
    ).to_csv(path, index=False)
    with pytest.raises(CategoryError, match="银行"):
        read_facilities(path, coords="wgs84")
    with pytest.warns(UserWarning, match="left out 2 row.*银行 ×2"):
        fac = read_facilities(path, coords="wgs84", unknown_categories="drop")
    assert fac["category"].tolist() == ["kindergarten", "supermarket"]


@pytest.mark.parametrize("error", ["#N/A", "#VALUE!", "#div/0!"])
def test_excel_error_values_are_no_data_with_a_warning(tmp_path, error) -> None:
    path = tmp_path / "小区.csv"
    path.write_text(
        f"名称,经度,纬度,户数\nNA小区,107.50,31.21,{error}\n乙小区,107.51,31.22,300\n", encoding="utf-8-sig"
    )
    with pytest.warns(
        UserWarning, match=r"小区.csv: column 'households' holds Excel error values in 1 row\(s\) \(Excel row 2"
    ):
        got = read_compounds(path, coords="wgs84")
    assert math.isnan(got.loc[0, "households"]) and got.loc[1, "households"] == 300
    assert got.loc[0, "name"] == "NA小区"  # text that looks like NA stays text
