"""Files as planners have them: zipped and mis-labelled shapefiles, KML folders, old datums,
zone prefixes, title rows and renamed files (the corpus in tests/data/bad covers the public
readers end to end; these tests pin the details)."""

from __future__ import annotations

import logging
import warnings
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from pyproj import CRS

from dz_gis import read_communities, read_facilities
from dz_gis._errors import CRSError, DataFileError
from dz_gis.coords import check_zone_prefix, old_datum
from dz_gis.io import detect_dbf_encoding, read_table
from dz_gis.io.shapefiles import choose_encoding
from dz_gis.io.sniff import content_kind

SQUARES = [shapely.box(107.47 + 0.01 * i, 31.20, 107.48 + 0.01 * i, 31.21) for i in range(3)]
NAMES = ["朝阳社区", "西外社区", "凤凰山社区"]


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"社区编码": ["511702001001", "511702001002", "511702001003"], "社区名称": NAMES, "户数": [2150, 3120, 1890]},
        geometry=SQUARES,
        crs="EPSG:4326",
    )


def _shapefile(tmp_path, gdf: gpd.GeoDataFrame, encoding: str, name: str = "社区边界"):
    path = tmp_path / f"{name}.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's note that it cut a long field name
        gdf.to_file(path, encoding=encoding)
    return path


# ----------------------------------------------------------------------------- shapefile encodings


@pytest.mark.parametrize("with_cpg", [True, False])
def test_zipped_gbk_shapefile_reads_and_logs_the_encoding(tmp_path, caplog, with_cpg: bool) -> None:
    shp = _shapefile(tmp_path, _communities(), "gbk")
    archive = tmp_path / "社区.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.glob("社区边界.*"):
            if part.suffix != ".cpg" or with_cpg:
                zf.write(part, f"数据/{part.name}")
    with caplog.at_level(logging.INFO, logger="dz_gis.io.shapefiles"):
        gdf = read_communities(archive)
    assert gdf["name"].tolist() == NAMES
    assert gdf["households"].tolist() == [2150.0, 3120.0, 1890.0]
    used = "gbk (as its .cpg says ('GBK'))" if with_cpg else "gb18030 (detected)"
    assert f"attribute text read as {used}" in caplog.text


def test_detect_dbf_encoding_sees_through_a_lying_cpg(tmp_path) -> None:
    shp = _shapefile(tmp_path, _communities(), "gbk")
    assert detect_dbf_encoding(shp) is None  # a truthful .cpg: GDAL's own reading is right
    shp.with_suffix(".cpg").write_text("UTF-8")
    assert detect_dbf_encoding(shp) == "gb18030"


def test_a_gbk_cpg_over_utf8_text_is_caught(tmp_path) -> None:
    # UTF-8 bytes also decode as GBK, into nonsense: the .cpg alone would garble every name.
    short = gpd.GeoDataFrame({"名称": NAMES, "户数": [1, 2, 3]}, geometry=SQUARES, crs="EPSG:4326")
    shp = _shapefile(tmp_path, short, "utf-8")
    shp.with_suffix(".cpg").write_text("GBK")
    with pytest.warns(UserWarning, match=r"the \.cpg says the text is 'GBK'.*read as utf-8"):
        assert read_communities(shp)["name"].tolist() == NAMES


def test_truthful_utf8_and_latin1_cpgs_are_believed(tmp_path) -> None:
    # No warning may be raised (warnings are errors in this suite).
    short = gpd.GeoDataFrame({"名称": NAMES, "户数": [1, 2, 3]}, geometry=SQUARES, crs="EPSG:4326")
    utf8 = read_communities(_shapefile(tmp_path, short, "utf-8", "utf8"))
    assert utf8["name"].tolist() == NAMES
    finnish = gpd.GeoDataFrame({"NAME": ["Töölö", "Käpylä"]}, geometry=SQUARES[:2], crs="EPSG:4326")
    shp = _shapefile(tmp_path, finnish, "latin1", "helsinki")
    shp.with_suffix(".cpg").write_text("ISO-8859-1")
    assert read_table(shp)["NAME"].tolist() == ["Töölö", "Käpylä"]


def test_a_cut_name_no_alias_explains_is_still_named_in_the_warning(tmp_path) -> None:
    gdf = _communities().assign(户数统计年份=[2023, 2023, 2023])  # 18 bytes in UTF-8, cut at 10
    shp = _shapefile(tmp_path, gdf, "utf-8")
    with pytest.warns(UserWarning, match=r"cut inside a character .*'户数统'[,.]") as record:
        got = read_communities(shp)
    assert len(record) == 1
    assert "户数统" in got.columns and got["户数统"].tolist() == [2023, 2023, 2023]
    assert got["community_id"].tolist() == ["511702001001", "511702001002", "511702001003"]


def test_choose_encoding_names_the_cpg_when_nothing_decodes() -> None:
    dbf = bytes(8) + (65).to_bytes(2, "little") + bytes(22) + b"NAME" + bytes(28) + b"\r" + b"\xff\xfe\xff"
    with pytest.raises(DataFileError, match=r"neither UTF-8 nor GBK.*its \.cpg says 'UTF-8'.*encoding="):
        choose_encoding(dbf, "UTF-8", "x.dbf")
    assert choose_encoding(dbf, None, "x.dbf", encoding="latin1").encoding == "latin1"


# ----------------------------------------------------------------------------- KML folders


def _kml(tmp_path, folders: dict[str, list[shapely.Polygon]]):
    body = []
    for folder, shapes in folders.items():
        marks = "".join(
            f"<Placemark><name>{folder}{i}</name><ExtendedData><Data name='户数'><value>{100 * (i + 1)}</value>"
            f"</Data></ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>"
            + " ".join(f"{x},{y}" for x, y in s.exterior.coords)
            + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
            for i, s in enumerate(shapes)
        )
        body.append(f"<Folder><name>{folder}</name>{marks}</Folder>")
    path = tmp_path / "社区.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "".join(body)
        + "</Document></kml>",
        encoding="utf-8",
    )
    return path


def test_every_kml_folder_is_read_with_a_folder_column(tmp_path) -> None:
    path = _kml(tmp_path, {"朝阳街道": SQUARES[:2], "东城街道": SQUARES[2:], "空文件夹": []})
    gdf = read_communities(path)
    assert gdf["folder"].tolist() == ["朝阳街道", "朝阳街道", "东城街道"]
    assert gdf["name"].tolist() == ["朝阳街道0", "朝阳街道1", "东城街道0"]
    assert gdf["households"].tolist() == [100.0, 200.0, 100.0]  # ExtendedData 户数, its Chinese name kept
    one = read_communities(path, layer="东城街道")
    assert one["name"].tolist() == ["东城街道0"] and "folder" not in one.columns


# ----------------------------------------------------------------------------- datums and zones


@pytest.mark.parametrize("epsg", [2381, 2433, 4214, 4610])
def test_old_datums_warn_with_the_size_of_the_error(tmp_path, epsg: int) -> None:
    path = tmp_path / "社区.gpkg"
    _communities().to_crs(epsg).to_file(path)
    with pytest.warns(UserWarning, match=r"old .*datum.*no datum shift.*tens of metres to more than 100 m.*七参数"):
        gdf = read_communities(path)
    # Converted without a shift (PROJ's ballpark), so the boundaries come back where they were drawn.
    assert shapely.equals_exact(gdf.geometry.array, _communities().geometry.array, tolerance=1e-7).all()


def test_zip_with_gbk_member_names_reads_and_takes_layer_by_its_chinese_name(tmp_path) -> None:
    # Windows Explorer on a Chinese system writes GBK names without the zip's UTF-8 flag.
    shp = _shapefile(tmp_path, _communities(), "gbk")
    archive = tmp_path / "边界.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for stem in ("社区", "小区"):
            for part in shp.parent.glob("社区边界.*"):
                zf.writestr(zipfile.ZipInfo(f"{stem}{part.suffix}".encode("gbk").decode("cp437")), part.read_bytes())
    with pytest.raises(DataFileError, match=r"2 shapefiles \['社区', '小区'\]; pass layer="):
        read_communities(archive)
    assert read_communities(archive, layer="社区")["name"].tolist() == NAMES


def test_old_datum_names() -> None:
    assert old_datum(CRS.from_epsg(21413)) == "Beijing 1954 (北京54)"
    assert old_datum(CRS.from_epsg(2349)) == "Xian 1980 (西安80)"
    assert old_datum(CRS.from_epsg(4490)) is None and old_datum(CRS.from_epsg(32648)) is None


@pytest.mark.parametrize(
    ("epsg", "x"),
    [
        (4524, 36_540_000.0),
        (4545, 540_000.0),
        (4496, 18_540_000.0),
        (2360, 36_540_000.0),
        (32648, 540_000.0),
        (31468, 4_540_000.0),  # German Gauss-Krüger zone 4: a one-digit prefix
    ],
)
def test_zone_prefix_that_fits_passes(epsg: int, x: float) -> None:
    check_zone_prefix([x, x + 100], [3_450_000.0, 3_450_100.0], CRS.from_epsg(epsg), "t.csv")


@pytest.mark.parametrize(
    ("epsg", "x", "says"),
    [
        (4524, 35_540_000.0, r"numbers say zone 35 \(3° .*105°E\).*is zone 36 .*crs='EPSG:4523'"),
        (4496, 36_540_000.0, r"numbers say zone 36 \(3° .*108°E\).*is zone 18 .*crs='EPSG:4524'"),
        (4524, 18_540_000.0, r"numbers say zone 18 \(6° .*105°E\).*is zone 36 .*crs='EPSG:4496'"),
        (2381, 36_540_000.0, r"numbers say zone 36 .*Xian 1980 .*no zone prefix.*crs='EPSG:2360'"),
        (4524, 540_000.0, r"no zone prefix .*expects X to start with its zone number 36.*crs='EPSG:4545'"),
    ],
)
def test_zone_prefix_that_contradicts_the_crs_names_both_zones(epsg: int, x: float, says: str) -> None:
    with pytest.raises(CRSError, match=says):
        check_zone_prefix([x], [3_450_000.0], CRS.from_epsg(epsg), "t.csv")


# ----------------------------------------------------------------------------- title rows and headers

ROWS = [["朝阳幼儿园", "幼儿园", 107.4752, 31.2043], ["塔沱超市", "超市", 107.4870, 31.2166]]


def test_header_row_given_reads_without_a_warning(tmp_path) -> None:
    path = tmp_path / "设施.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["达州市设施统计表"])
    wb.active.append(["名称", "类型", "经度", "纬度"])
    for row in ROWS:
        wb.active.append(row)
    wb.save(path)
    gdf = read_facilities(path, header_row=2, coords="wgs84")
    assert gdf["name"].tolist() == ["朝阳幼儿园", "塔沱超市"]
    with pytest.raises(DataFileError, match=r"header_row=9 is not a row of the table \(1 to 4\)"):
        read_facilities(path, header_row=9, coords="wgs84")


def test_two_row_header_without_a_title_and_excel_errors_below_it(tmp_path) -> None:
    path = tmp_path / "设施.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "类型", "坐标", None, "建筑面积"])
    ws.append([None, None, "经度", "纬度", None])
    ws.append([*ROWS[0], "#N/A"])
    ws.append([*ROWS[1], 2500])
    wb.save(path)
    with pytest.warns(UserWarning) as record:
        gdf = read_facilities(path, coords="wgs84")
    messages = " | ".join(str(r.message) for r in record)
    assert "rows 1-2 (two header rows)" in messages
    assert "Excel error values" in messages  # #N/A stays visible and is reported, not silently empty
    assert gdf["area_m2"].isna().tolist() == [True, False]


def test_gb18030_byte_order_mark_is_not_part_of_the_first_name(tmp_path) -> None:
    path = tmp_path / "设施.csv"
    path.write_bytes(b"\x841\x953" + "经度,纬度,名称,类型\n107.4752,31.2043,朝阳幼儿园,幼儿园\n".encode("gb18030"))
    assert read_facilities(path, coords="wgs84")["name"].tolist() == ["朝阳幼儿园"]


# ----------------------------------------------------------------------------- what files really are


def test_content_kind_from_first_bytes(tmp_path) -> None:
    samples = {
        "a.bin": (b"SQLite format 3\0" + bytes(100), "sqlite"),
        "b.bin": (b"\x00\x00\x27\x0a" + bytes(96), "shp"),
        "c.bin": (b'\xef\xbb\xbf {"type": "FeatureCollection"}', "json"),
        "d.bin": (b'<?xml version="1.0"?><kml xmlns="x">', "kml"),
        "e.bin": ("名称\t经度\n".encode("utf-16"), "text"),
        "f.bin": ("名称,经度\n".encode("gbk"), "text"),
        "g.bin": (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(8), "ole2"),
    }
    for name, (data, kind) in samples.items():
        (tmp_path / name).write_bytes(data)
        assert content_kind(tmp_path / name) == kind, name
    pd.DataFrame({"a": [1]}).to_excel(tmp_path / "h.bin", index=False)
    assert content_kind(tmp_path / "h.bin") == "xlsx"


def test_tab_text_named_xls_says_what_it_is(tmp_path) -> None:
    path = tmp_path / "设施导出.xls"
    path.write_text("名称\t类型\t经度\t纬度\n朝阳幼儿园\t幼儿园\t107.4752\t31.2043\n", encoding="gbk")
    with pytest.raises(DataFileError, match=r"really a plain-text \(CSV\) table .*Rename it to 设施导出\.csv"):
        read_facilities(path, coords="wgs84")
