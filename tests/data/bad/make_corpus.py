"""Write the corpus of bad input files in this folder, and cases.csv describing them.

Each file is one mistake a planner really makes with the readers of :mod:`dz_gis.io`
(wrong file, missing CRS, swapped lon/lat, Amap offsets declared on the wrong data...).
``cases.csv`` says for each case which reader to call with which arguments, the error
class expected and a regular expression its message must match; tests/test_bad_inputs.py
runs them. Some cases use a good file with a wrong argument (``communities_good.gpkg``).

Run from anywhere with the project's Python; the generated files are committed::

    python tests/data/bad/make_corpus.py
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import tempfile
import warnings
import zipfile
from pathlib import Path

# GeoPackages record the time they were written; fix it so re-running changes nothing.
os.environ.setdefault("OGR_CURRENT_DATE", "2024-01-01T00:00:00Z")

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import openpyxl  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely import MultiPoint, Point, Polygon, box  # noqa: E402

from dz_gis.coords import wgs84_to_gcj02  # noqa: E402

HERE = Path(__file__).resolve().parent
WGS84 = "EPSG:4326"

# Four neighbouring communities of 通川区 (codes of the 511702 district), 0.01 deg squares.
COMMUNITIES = pd.DataFrame(
    {
        "社区编码": ["511702001001", "511702001002", "511702001003", "511702001004"],
        "社区名称": ["朝阳社区", "西外社区", "凤凰山社区", "塔沱社区"],
        "街道": ["朝阳街道", "西城街道", "东城街道", "塔沱街道"],
        "户数": [2150, 3120, 1890, 2600],
        "人口": [6300, 9050, 5480, 7710],
    }
)
SQUARES = [
    box(107.47, 31.20, 107.48, 31.21),
    box(107.48, 31.20, 107.49, 31.21),
    box(107.47, 31.21, 107.48, 31.22),
    box(107.48, 31.21, 107.49, 31.22),
]

FACILITIES = [  # 名称, 类型, 经度, 纬度, 建筑面积
    ("朝阳幼儿园", "幼儿园", 107.4752, 31.2043, "1,200"),
    ("西外社区卫生服务站", "卫生服务站", 107.4861, 31.2077, "300"),
    ("凤凰山党群服务中心", "党群服务中心", 107.4733, 31.2155, "800"),
    ("塔沱超市", "超市", 107.4870, 31.2166, "2,500"),
    ("达州市第一托育中心", "托育中心", 107.4810, 31.2120, "650"),
]
FACILITY_HEADER = ["名称", "类型", "经度", "纬度", "建筑面积"]


#: The date written into DBF headers and workbook properties, so that re-running changes nothing.
FIXED_DATE = (2024, 1, 1, 0, 0, 0)


def dbf_dated(data: bytes) -> bytes:
    """A DBF with the fixed date in its header (bytes 1-3: year - 1900, month, day of the last update)."""
    return data[:1] + bytes([FIXED_DATE[0] - 1900, *FIXED_DATE[1:3]]) + data[4:]


def freeze_timestamps() -> None:
    """Put the fixed date into every DBF and Office workbook of the folder (they record the day written)."""
    for path in sorted(HERE.rglob("*")):
        if path.suffix.lower() == ".dbf":
            path.write_bytes(dbf_dated(path.read_bytes()))
        elif path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                if "docProps/core.xml" not in zf.namelist():
                    continue
                members = [(info, zf.read(info)) for info in zf.infolist()]
            stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*FIXED_DATE)
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for info, data in members:
                    if info.filename == "docProps/core.xml":
                        text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rf"\g<1>{stamp}", data.decode())
                        data = text.encode()
                    zf.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED_DATE), data, zipfile.ZIP_DEFLATED)


def communities(geoms=None, **changes) -> gpd.GeoDataFrame:
    df = COMMUNITIES.copy()
    for col, values in changes.items():
        df[col] = values
    return gpd.GeoDataFrame(df, geometry=list(geoms or SQUARES), crs=WGS84)


def write_vector(gdf: gpd.GeoDataFrame, name: str, **kwargs) -> Path:
    path = HERE / name
    sidecars = (".shp", ".shx", ".dbf", ".prj", ".cpg") if path.suffix == ".shp" else (path.suffix,)
    for suffix in sidecars:
        path.with_suffix(suffix).unlink(missing_ok=True)
    with warnings.catch_warnings():
        # "'crs' was not provided": that is the mistake being recorded.
        warnings.simplefilter("ignore", UserWarning)
        gdf.to_file(path, **kwargs)
    return path


def write_csv(name: str, header, rows, encoding: str = "utf-8-sig", sep: str = ",") -> Path:
    path = HERE / name
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=sep, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def facility_rows(replace=None):
    rows = [list(r) for r in FACILITIES]
    for (i, col), value in (replace or {}).items():
        rows[i][FACILITY_HEADER.index(col)] = value
    return rows


def make_files() -> None:
    # --- files that are not (readable) GIS data -------------------------------------
    # AutoCAD drawing from the design institute, sent instead of a GIS export.
    (HERE / "communities.dwg").write_bytes(b"AC1032" + bytes(250))
    (HERE / "facilities_empty.csv").write_bytes(b"")
    write_csv("compounds_header_only.csv", ["小区名称", "户数", "经度", "纬度"], [])
    write_vector(communities(), "communities_good.gpkg", layer="社区")
    geojson = communities().to_json(ensure_ascii=False)
    (HERE / "communities_truncated.geojson").write_text(geojson[: len(geojson) // 2], encoding="utf-8")
    # Excel "Unicode 文本 (*.txt)" export: UTF-16 with BOM, tab separated.
    write_csv("facilities_unicode_text.txt", FACILITY_HEADER, facility_rows(), encoding="utf-16", sep="\t")
    # Excel 97-2003 workbook; only the OLE2 signature of a real .xls is kept here, which is
    # enough for pandas to pick the .xls engine.
    (HERE / "facilities_old_excel.xls").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504))
    with pd.ExcelWriter(HERE / "facilities_two_sheets.xlsx") as xl:
        for sheet, kind in (("幼儿园", "幼儿园"), ("超市", "超市")):
            rows = [r for r in FACILITIES if r[1] == kind]
            pd.DataFrame(rows, columns=FACILITY_HEADER).to_excel(xl, sheet_name=sheet, index=False)
    pd.DataFrame(
        [("朝阳幼儿园", "幼儿园", "通川区朝阳东路12号"), ("塔沱超市", "超市", "通川区塔沱路88号")],
        columns=["名称", "类型", "地址"],
    ).to_excel(HERE / "facilities_no_lonlat.xlsx", index=False)

    # --- shapefile sets and encodings -----------------------------------------------------
    write_vector(communities(), "communities_no_prj.shp", encoding="gbk")
    (HERE / "communities_no_prj.prj").unlink()
    write_vector(communities(), "communities_missing_shx.shp", encoding="gbk")
    (HERE / "communities_missing_shx.shx").unlink()
    helsinki = gpd.GeoDataFrame(
        {"NAME": ["Töölö", "Kallio", "Käpylä"]},
        geometry=[
            box(24.91, 60.17, 24.93, 60.19),
            box(24.94, 60.18, 24.96, 60.19),
            box(24.94, 60.21, 24.97, 60.22),
        ],
        crs=WGS84,
    )
    write_vector(helsinki, "communities_latin1_no_cpg.shp", encoding="latin1")
    (HERE / "communities_latin1_no_cpg.cpg").unlink()

    # --- CRS ------------------------------------------------------------------------
    write_vector(communities().set_crs(None, allow_override=True), "communities_no_crs.gpkg")
    write_vector(communities().to_crs("EPSG:4545"), "communities_cgcs2000_gk108.gpkg")
    path = write_vector(communities(), "communities_two_layers.gpkg", layer="社区")
    compounds = gpd.GeoDataFrame(
        {"小区名称": ["金龙小区", "滨江花园"], "户数": [420, 860]},
        geometry=[Point(107.4745, 31.2051), Point(107.4856, 31.2062)],
        crs=WGS84,
    )
    compounds.to_file(path, layer="小区", mode="a")

    # --- geometry ---------------------------------------------------------------------
    null = communities()
    null.loc[1, "geometry"] = None
    write_vector(null, "communities_null_geometry.geojson")
    write_vector(communities([*SQUARES[:2], Polygon(), SQUARES[3]]), "communities_empty_geometry.gpkg")
    # Corners clicked in the wrong order: a bow-tie that make_valid splits into two triangles.
    bowtie = Polygon([(107.47, 31.21), (107.48, 31.22), (107.48, 31.21), (107.47, 31.22)])
    write_vector(communities([*SQUARES[:2], bowtie, SQUARES[3]]), "communities_bowtie.geojson")
    # Boundary digitised along a street centre line: three points on one line, no area.
    line = Polygon([(107.47, 31.21), (107.48, 31.21), (107.49, 31.21), (107.47, 31.21)])
    write_vector(communities([*SQUARES[:2], line, SQUARES[3]]), "communities_zero_area.geojson")
    points = communities([shape.centroid for shape in SQUARES])
    write_vector(points, "communities_as_points.gpkg")
    facilities = gpd.GeoDataFrame(
        pd.DataFrame([r[:2] for r in FACILITIES[:3]], columns=["名称", "类型"]),
        geometry=[
            Point(FACILITIES[0][2:4]),
            MultiPoint([FACILITIES[1][2:4], FACILITIES[2][2:4]]),  # two sites merged
            Point(FACILITIES[2][2:4]),
        ],
        crs=WGS84,
    )
    write_vector(facilities, "facilities_multipoint.geojson")

    # --- attribute columns ---------------------------------------------------------------
    dup = COMMUNITIES["社区编码"].tolist()
    dup[3] = dup[2]  # row copied and renamed, code left unchanged
    write_vector(communities(社区编码=dup), "communities_duplicate_ids.geojson")
    write_vector(communities(户数=[2150, 3120, -350, 2600]), "communities_negative_households.gpkg")
    write_vector(communities(总户数=[2300, 3200, 1950, 2700]), "communities_two_household_columns.geojson")
    write_csv(
        "compounds_households_text.csv",
        ["小区名称", "户数", "经度", "纬度"],
        [["金龙小区", "420", 107.4745, 31.2051], ["滨江花园", "约2000户", 107.4856, 31.2062]],
    )
    write_csv(
        "compounds_partial_ids.csv",
        ["小区编号", "小区名称", "户数", "经度", "纬度"],
        [["R001", "金龙小区", "420", 107.4745, 31.2051], ["", "滨江花园", "860", 107.4856, 31.2062]],
    )
    write_csv("facilities_no_category.csv", ["名称", "经度", "纬度"], [r[:1] + r[2:4] for r in FACILITIES])
    write_csv("facilities_empty_category.csv", FACILITY_HEADER, facility_rows({(1, "类型"): ""}))
    write_csv("facilities_unknown_category.csv", FACILITY_HEADER, facility_rows({(3, "类型"): "网吧"}))

    # --- coordinates ----------------------------------------------------------------------
    write_csv("facilities_missing_lon.csv", FACILITY_HEADER, facility_rows({(2, "经度"): ""}))
    swapped = facility_rows({(2, "经度"): FACILITIES[2][3], (2, "纬度"): FACILITIES[2][2]})
    write_csv("facilities_swapped_lonlat.csv", FACILITY_HEADER, swapped)
    # Decimal point typed one place early: 10.7481 instead of 107.481, about 9,000 km away.
    write_csv("facilities_one_far_away.csv", FACILITY_HEADER, facility_rows({(3, "经度"): "10.7481"}))
    to_gk = Transformer.from_crs(WGS84, "EPSG:4545", always_xy=True)
    xy = [to_gk.transform(r[2], r[3]) for r in FACILITIES]
    write_csv(
        "facilities_projected_xy.csv",
        ["名称", "类型", "X", "Y"],
        [[r[0], r[1], f"{x:.2f}", f"{y:.2f}"] for r, (x, y) in zip(FACILITIES, xy, strict=True)],
    )
    write_csv(
        "facilities_zone_prefixed_xy.csv",
        ["名称", "类型", "X", "Y"],
        [[r[0], r[1], f"{36_000_000 + x:.2f}", f"{y:.2f}"] for r, (x, y) in zip(FACILITIES, xy, strict=True)],
    )
    write_csv(
        "facilities_helsinki.csv",
        FACILITY_HEADER,
        [
            ["Töölön päiväkoti", "幼儿园", 24.9235, 60.1801, ""],
            ["Kallion terveysasema", "卫生服务站", 24.9497, 60.1841, ""],
        ],
    )


def _zip(name: str, files: dict[str, bytes]) -> None:
    path = HERE / name
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in files.items():
            # fixed timestamps so that re-running changes nothing
            zf.writestr(zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0)), data)


def _shapefile_bytes(gdf: gpd.GeoDataFrame, encoding: str) -> dict[str, bytes]:
    """The files of a shapefile written with ``encoding``, by suffix."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer.shp"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # field names cut at 10 bytes: the point
            gdf.to_file(path, encoding=encoding)
        parts = {p.suffix: p.read_bytes() for p in Path(tmp).iterdir()}
        return {s: dbf_dated(d) if s == ".dbf" else d for s, d in parts.items()}


def _write_shapefile_parts(name: str, parts: dict[str, bytes]) -> None:
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        (HERE / name).with_suffix(suffix).unlink(missing_ok=True)
    for suffix, data in parts.items():
        (HERE / name).with_suffix(suffix).write_bytes(data)


def kml_document(folders: dict[str, list[tuple[str, str, int, str]]]) -> str:
    """A KML with one <Folder> per street, placemarks carrying ExtendedData 社区编码/户数."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>']
    for folder, marks in folders.items():
        out.append(f"<Folder><name>{folder}</name>")
        for name, code, households, geometry in marks:
            out.append(
                f"<Placemark><name>{name}</name><ExtendedData>"
                f'<Data name="社区编码"><value>{code}</value></Data>'
                f'<Data name="户数"><value>{households}</value></Data>'
                f"</ExtendedData>{geometry}</Placemark>"
            )
        out.append("</Folder>")
    out.append("</Document></kml>")
    return "\n".join(out)


def kml_polygon(shape: Polygon) -> str:
    ring = " ".join(f"{x:g},{y:g}" for x, y in shape.exterior.coords)
    inner = f"<LinearRing><coordinates>{ring}</coordinates></LinearRing>"
    return f"<Polygon><outerBoundaryIs>{inner}</outerBoundaryIs></Polygon>"


def make_planner_files() -> None:
    """Files as planners have them: zipped GBK shapefiles, KML folders, old datums, title rows, lying names."""
    # --- shapefiles: zipped, lying .cpg, missing .dbf, names cut mid-character -------------
    gbk = _shapefile_bytes(communities(), "gbk")
    _zip("communities_gbk.zip", {f"社区边界/社区边界{s}": d for s, d in gbk.items()})
    _zip("communities_gbk_no_cpg.zip", {f"社区边界{s}": d for s, d in gbk.items() if s != ".cpg"})
    lying = {**gbk, ".cpg": b"UTF-8"}
    _write_shapefile_parts("communities_cpg_lies.shp", lying)
    _zip("communities_cpg_lies_zipped.zip", {f"社区{s}": d for s, d in lying.items()})
    _write_shapefile_parts("communities_missing_dbf.shp", {s: d for s, d in gbk.items() if s != ".dbf"})
    _zip("communities_missing_dbf_zipped.zip", {f"社区{s}": d for s, d in gbk.items() if s != ".dbf"})
    # GDAL itself cuts 社区编码 (12 bytes in UTF-8) to 10 bytes, inside the character 码.
    _write_shapefile_parts("communities_cut_names.shp", _shapefile_bytes(communities(), "utf-8"))
    compounds = gpd.GeoDataFrame(
        {"小区名称": ["金龙小区", "滨江花园"], "户数": [420, 860]},
        geometry=[Point(107.4745, 31.2051), Point(107.4856, 31.2062)],
        crs=WGS84,
    )
    both = {f"社区{s}": d for s, d in gbk.items()}
    both.update({f"小区{s}": d for s, d in _shapefile_bytes(compounds, "gbk").items()})
    _zip("communities_two_shapefiles.zip", both)

    # --- KML folders ------------------------------------------------------------------------
    rows = list(COMMUNITIES.itertuples(index=False))
    marks = [(r.社区名称, r.社区编码, r.户数, kml_polygon(sq)) for r, sq in zip(rows, SQUARES, strict=True)]
    doc = kml_document({"朝阳街道": marks[:2], "东城街道": marks[2:]})
    (HERE / "communities_folders.kml").write_text(doc, encoding="utf-8")
    _zip("communities_folders.kmz", {"doc.kml": doc.encode("utf-8")})
    centre = f"<Point><coordinates>{SQUARES[2].centroid.x:g},{SQUARES[2].centroid.y:g}</coordinates></Point>"
    mixed = kml_document(
        {"社区边界": marks[:2], "社区中心点": [(rows[2].社区名称, rows[2].社区编码, rows[2].户数, centre)]}
    )
    (HERE / "communities_mixed_folders.kml").write_text(mixed, encoding="utf-8")

    # --- old datums and Gauss-Krüger zones -----------------------------------------------------
    write_vector(communities().to_crs("EPSG:2381"), "communities_xian80_gk108.gpkg")  # Xian 1980 CM 108E
    # A shapefile's .prj is ESRI WKT, with the datum's name but no EPSG code.
    write_vector(communities().to_crs("EPSG:2433"), "communities_beijing54_esri_prj.shp", encoding="gbk")
    write_csv("facilities_beijing54.csv", FACILITY_HEADER, facility_rows())
    to_gk = Transformer.from_crs(WGS84, "EPSG:4545", always_xy=True)
    xy = [to_gk.transform(r[2], r[3]) for r in FACILITIES]
    write_csv(
        "facilities_zone_35_declared_36.csv",
        ["名称", "类型", "X", "Y"],
        [[r[0], r[1], f"{35_000_000 + x:.2f}", f"{y:.2f}"] for r, (x, y) in zip(FACILITIES, xy, strict=True)],
    )
    # Chinese surveying: X is the northing, Y the easting.
    write_csv(
        "facilities_survey_xy.csv",
        ["名称", "类型", "X", "Y"],
        [[r[0], r[1], f"{y:.2f}", f"{x:.2f}"] for r, (x, y) in zip(FACILITIES, xy, strict=True)],
    )

    # --- title rows and headers --------------------------------------------------------------------
    title = "达州市通川区公共服务设施统计表（2023年）"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([title])
    ws.merge_cells("A1:E1")
    ws.append(FACILITY_HEADER)
    for row in facility_rows():
        ws.append(row)
    wb.save(HERE / "facilities_title_row.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([title])
    ws.merge_cells("A1:E1")
    ws.append(["名称", "类型", "坐标", None, "建筑面积"])
    ws.append([None, None, "经度", "纬度", None])
    for cells in ("A2:A3", "B2:B3", "C2:D2", "E2:E3"):
        ws.merge_cells(cells)
    for row in facility_rows():
        ws.append(row)
    wb.save(HERE / "facilities_two_row_header.xlsx")
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["数据来源：通川区住建局，2023年12月"])
    wb.active.append(["坐标系：WGS84"])
    ws = wb.create_sheet("设施")
    ws.append(FACILITY_HEADER)
    for row in facility_rows():
        ws.append(row)
    wb.save(HERE / "facilities_notes_sheet_first.xlsx")
    path = HERE / "facilities_title_row.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        fh.write(title + "\r\n")
        csv.writer(fh, lineterminator="\r\n").writerows([FACILITY_HEADER, *facility_rows()])
    (HERE / "facilities_unquoted_thousands.csv").write_text(
        "\r\n".join(",".join(map(str, r)) for r in [FACILITY_HEADER, *facility_rows()]) + "\r\n", encoding="utf-8-sig"
    )
    (HERE / "facilities_fullwidth_comma.csv").write_text(
        "\n".join("，".join(str(c).replace(",", "") for c in r) for r in [FACILITY_HEADER, *facility_rows()]) + "\n",
        encoding="utf-8",
    )

    # --- files whose name lies, empty containers, folders ---------------------------------------
    (HERE / "facilities_csv_named.xlsx").write_bytes((HERE / "facilities_fullwidth_comma.csv").read_bytes())
    (HERE / "communities_geojson_named.shp").write_text(communities().to_json(ensure_ascii=False), encoding="utf-8")
    pd.DataFrame(facility_rows(), columns=FACILITY_HEADER).to_excel(HERE / "facilities_xlsx_named.csv", index=False)
    html = "<html><body><table><tr>" + "".join(f"<td>{h}</td>" for h in FACILITY_HEADER) + "</tr></table></body></html>"
    (HERE / "facilities_html_named.xls").write_text(html, encoding="utf-8")
    # A GeoPackage whose only layer was deleted (in QGIS/ArcGIS): the container, no layers.
    empty = write_vector(communities(), "communities_empty.gpkg", layer="社区")
    with sqlite3.connect(empty) as db:
        db.execute("DELETE FROM gpkg_geometry_columns")
        db.execute("DELETE FROM gpkg_contents")
        db.execute('DROP TABLE "社区"')
        for (table,) in db.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'rtree_%' AND type = 'table'"
        ).fetchall():
            db.execute(f'DROP TABLE IF EXISTS "{table}"')
    with sqlite3.connect(empty) as db:
        db.execute("VACUUM")
    folder = HERE / "communities_folder"
    folder.mkdir(exist_ok=True)
    (folder / "社区边界.geojson").write_text(communities().to_json(ensure_ascii=False), encoding="utf-8")


def _fullwidth(value) -> str:
    return str(value).translate(str.maketrans("0123456789.-", "０１２３４５６７８９．－"))


def _dms(value: float, hemisphere: str = "") -> str:
    """107.4752 → 107°28'30.72"E; without a hemisphere in the Chinese form 107度28分30.72秒."""
    total = round(value * 3600, 4)
    degrees = int(total // 3600)
    minutes = int((total - degrees * 3600) // 60)
    seconds = round(total - degrees * 3600 - minutes * 60, 4)
    return f"{degrees}°{minutes}'{seconds:g}\"{hemisphere}" if hemisphere else f"{degrees}度{minutes}分{seconds:g}秒"


def make_more_files() -> None:
    """Encodings, CRS declarations and coordinate spellings from Taiwan/HK data, web maps and typing."""
    # --- encodings and CRS declarations ----------------------------------------------------
    # A Big5 (繁體) DBF from Taiwan/Hong Kong software, no .cpg: GB18030 decodes it too, into nonsense.
    traditional = communities(
        社区名称=["朝陽社區", "西外社區", "鳳凰山社區", "塔沱社區"],
        街道=["朝陽街道", "西城街道", "東城街道", "塔沱街道"],
    ).rename(columns={"社区编码": "社區編碼", "社区名称": "社區名稱", "户数": "戶數"})
    big5 = _shapefile_bytes(traditional, "CP950")
    _write_shapefile_parts("communities_big5_no_cpg.shp", {s: d for s, d in big5.items() if s != ".cpg"})
    doc = json.loads(communities().to_json(ensure_ascii=False))
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
    (HERE / "communities_crs_4490.geojson").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    # Exported from a web-map tool in 高德 coordinates, saying so only in the crs member.
    gcj = communities([shapely.transform(sq, lambda xy: np.column_stack(wgs84_to_gcj02(*xy.T))) for sq in SQUARES])
    doc = json.loads(gcj.to_json(ensure_ascii=False))
    doc["crs"] = {"type": "name", "properties": {"name": "GCJ02"}}
    (HERE / "communities_gcj02_crs_member.geojson").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    swapped = communities([shapely.transform(sq, lambda xy: xy[:, ::-1]) for sq in SQUARES])
    (HERE / "communities_latlon_order.geojson").write_text(swapped.to_json(ensure_ascii=False), encoding="utf-8")
    write_vector(communities().to_crs("EPSG:4545"), "communities_gk_no_prj.shp", encoding="gbk")
    (HERE / "communities_gk_no_prj.prj").unlink()
    # "Define Projection" set to WGS 84 over GK metres.
    metres = communities().to_crs("EPSG:4545").set_crs(WGS84, allow_override=True)
    write_vector(metres, "communities_prj_says_wgs84.shp", encoding="gbk")
    # Xian 1980 / 3-degree GK zone 36, X with the zone prefix, as ArcGIS writes the .prj.
    write_vector(communities().to_crs("EPSG:2360"), "communities_xian80_zone36.shp", encoding="gbk")

    # --- coordinates as typed ----------------------------------------------------------------
    rows = facility_rows()
    write_csv(
        "facilities_fullwidth_digits.csv",
        FACILITY_HEADER,
        [[*r[:2], _fullwidth(r[2]), _fullwidth(r[3]), r[4]] for r in rows],
    )
    write_csv("facilities_dms.csv", FACILITY_HEADER, [[*r[:2], _dms(r[2], "E"), _dms(r[3]), r[4]] for r in rows])
    write_csv("facilities_dongjing_beiwei.csv", ["名称", "类型", "东经", "北纬", "建筑面积"], rows)
    write_csv(
        "facilities_xy_swapped.csv", ["名称", "类型", "X", "Y", "建筑面积"], [[*r[:2], r[3], r[2], r[4]] for r in rows]
    )
    # 坐标拾取器 output pasted into one column: "107.4752,31.2043".
    write_csv(
        "facilities_lnglat_one_column.csv",
        ["名称", "类型", "经纬度", "建筑面积"],
        [[*r[:2], f"{r[2]},{r[3]}", r[4]] for r in rows],
    )
    # Every cell quoted and a trailing separator on each line (an empty last column).
    lines = [",".join(f'"{c}"' for c in r) + "," for r in [FACILITY_HEADER, *rows]]
    (HERE / "facilities_trailing_comma.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")

    # --- attribute values ----------------------------------------------------------------------
    write_csv(
        "compounds_code_scientific.csv",
        ["小区名称", "社区编码", "户数", "经度", "纬度"],
        [["金龙小区", "5.11702E+11", "420", 107.4745, 31.2051], ["滨江花园", "5.11702E+11", "860", 107.4856, 31.2062]],
    )
    write_csv(
        "compounds_households_unit.csv",
        ["小区名称", "户数", "经度", "纬度"],
        [["金龙小区", "420", 107.4745, 31.2051], ["滨江花园", "2,150户", 107.4856, 31.2062]],
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (
        ["小区名称", "户数", "经度", "纬度"],
        ["金龙小区", 420, 107.4745, 31.2051],
        ["滨江花园", 860, 107.4856, 31.2062],
    ):
        ws.append(row)
    ws.append(["合计", 1280, None, None])  # the total row of a statistics sheet
    wb.save(HERE / "compounds_total_row.xlsx")


# file, reader, keyword arguments, expected error class (or "UserWarning"), message regex, the mistake
CASES = [
    (
        "missing_communities.gpkg",
        "read_communities",
        {},
        "DataFileError",
        r"file not found",
        "path typed wrong / file not copied (the file does not exist)",
    ),
    (
        "communities.dwg",
        "read_communities",
        {},
        "DataFileError",
        r"unsupported file type '\.dwg'",
        "AutoCAD drawing sent instead of a GIS export",
    ),
    (
        "facilities_empty.csv",
        "read_facilities",
        {},
        "DataFileError",
        r"empty \(空文件\)",
        "0-byte CSV (export interrupted)",
    ),
    (
        "compounds_header_only.csv",
        "read_compounds",
        {},
        "ValidationError",
        r"no features \(空图层\)",
        "CSV with the header row only",
    ),
    (
        "communities_no_crs.gpkg",
        "read_communities",
        {},
        "CRSError",
        r"no coordinate reference system",
        "GeoPackage written without a CRS",
    ),
    (
        "communities_no_prj.shp",
        "read_communities",
        {},
        "CRSError",
        r"Add a \.prj file",
        "shapefile sent without its .prj",
    ),
    (
        "communities_missing_shx.shp",
        "read_communities",
        {},
        "DataFileError",
        r"\.shx",
        "shapefile sent without its .shx",
    ),
    (
        "communities_two_layers.gpkg",
        "read_communities",
        {},
        "DataFileError",
        r"2 layers .*社区.*小区.*pass layer=",
        "GeoPackage with several layers and no layer= given",
    ),
    (
        "communities_truncated.geojson",
        "read_communities",
        {},
        "DataFileError",
        r"cannot read it as GIS data",
        "GeoJSON cut off half way (incomplete download / copy)",
    ),
    (
        "communities_null_geometry.geojson",
        "read_communities",
        {},
        "GeometryError",
        r"no geometry \(row 2 community_id='511702001002'\)",
        "one community row without a drawn boundary",
    ),
    (
        "communities_empty_geometry.gpkg",
        "read_communities",
        {},
        "GeometryError",
        r"empty geometry \(row 3 community_id='511702001003'\)",
        "one community with an empty polygon",
    ),
    (
        "communities_bowtie.geojson",
        "read_communities",
        {},
        "UserWarning",
        r"repaired 1 invalid geometry .*row 3 community_id='511702001003'.*Self-intersection",
        "corners clicked in the wrong order: bow-tie polygon, repaired with a warning",
    ),
    (
        "communities_zero_area.geojson",
        "read_communities",
        {},
        "GeometryError",
        r"row 3 community_id='511702001003' has an invalid polygon .*cannot be repaired into an area",
        "boundary digitised along a street line (no area)",
    ),
    (
        "communities_as_points.gpkg",
        "read_communities",
        {},
        "GeometryError",
        r"expected Polygon/MultiPolygon geometries but found \['Point'\]",
        "community centre points passed where boundaries are needed",
    ),
    (
        "communities_duplicate_ids.geojson",
        "read_communities",
        {},
        "ValidationError",
        r"'community_id'.*\['511702001003'\] \(编号重复\)",
        "row copied and renamed, 社区编码 left unchanged",
    ),
    (
        "communities_negative_households.gpkg",
        "read_communities",
        {},
        "ColumnError",
        r"'households' cannot be negative \(row 3: -350",
        "negative 户数 (typing slip)",
    ),
    (
        "compounds_households_text.csv",
        "read_compounds",
        {},
        "ColumnError",
        r"'households' must hold numbers.*Excel row 3: '约2000户'",
        "户数 written as text: 约2000户",
    ),
    (
        "compounds_partial_ids.csv",
        "read_compounds",
        {},
        "ColumnError",
        r"'compound_id' is empty for Excel row 3 name='滨江花园'",
        "小区编号 filled in for some rows only",
    ),
    (
        "communities_two_household_columns.geojson",
        "read_communities",
        {},
        "ColumnError",
        r"several columns could be 'households': \['户数', '总户数'\]",
        "both 户数 and 总户数 in the layer",
    ),
    (
        "communities_good.gpkg",
        "read_communities",
        {"columns": {"households": "nope"}},
        "ColumnError",
        r"columns=\{'households': 'nope'\} names a column that is not in the file",
        "columns= naming a column that does not exist",
    ),
    (
        "communities_good.gpkg",
        "read_communities",
        {"coords": "google"},
        "CRSError",
        r"coords='google' is not a coordinate system",
        "coords='google' instead of coords='gcj02'",
    ),
    (
        "communities_good.gpkg",
        "read_communities",
        {"study_area": [31.19, 107.46, 31.24, 107.52]},
        "StudyAreaError",
        r"4 feature\(s\) lie outside the study area",
        "study_area bbox given as (lat, lon, lat, lon)",
    ),
    (
        "communities_cgcs2000_gk108.gpkg",
        "read_communities",
        {"coords": "gcj02"},
        "CRSError",
        r"coords='gcj02' applies to longitude/latitude.*projected CRS",
        "coords='gcj02' on a projected EPSG:4545 layer",
    ),
    (
        "communities_latin1_no_cpg.shp",
        "read_communities",
        {},
        "DataFileError",
        r"neither UTF-8 nor GBK.*Pass encoding=",
        "DBF in Latin-1 without a .cpg",
    ),
    (
        "facilities_unicode_text.txt",
        "read_facilities",
        {},
        "DataFileError",
        r"neither UTF-8 nor GBK.*Save it as UTF-8 CSV",
        "Excel 'Unicode 文本' export (UTF-16)",
    ),
    (
        "facilities_old_excel.xls",
        "read_facilities",
        {},
        "DataFileError",
        r"save it as \.xlsx",
        "Excel 97-2003 .xls workbook",
    ),
    (
        "facilities_two_sheets.xlsx",
        "read_facilities",
        {"layer": "学校"},
        "DataFileError",
        r"Worksheet named '学校' not found.*layer=",
        "layer= naming a sheet that does not exist",
    ),
    (
        "facilities_no_lonlat.xlsx",
        "read_facilities",
        {},
        "ColumnError",
        r"needs longitude and latitude columns \(经度/纬度",
        "facility list with addresses but no 经度/纬度",
    ),
    (
        "facilities_no_category.csv",
        "read_facilities",
        {},
        "ColumnError",
        r"no facility category column",
        "facility list without a 类型 column",
    ),
    (
        "facilities_empty_category.csv",
        "read_facilities",
        {},
        "ColumnError",
        r"category is empty for Excel row 3 name='西外社区卫生服务站'",
        "类型 left blank in one row",
    ),
    (
        "facilities_unknown_category.csv",
        "read_facilities",
        {},
        "CategoryError",
        r"not in the catalog: '网吧'",
        "a category the plan does not have (网吧)",
    ),
    (
        "facilities_multipoint.geojson",
        "read_facilities",
        {},
        "GeometryError",
        r"row 2 facility_id='F2' hold several points",
        "two sites merged into one multipoint feature",
    ),
    (
        "facilities_missing_lon.csv",
        "read_facilities",
        {},
        "ColumnError",
        r"'经度' \(lon\) has 1 empty or non-numeric value\(s\) \(Excel row 4: ",
        "经度 missing in one row",
    ),
    (
        "facilities_swapped_lonlat.csv",
        "read_facilities",
        {},
        "StudyAreaError",
        r"\(Excel row 4\)\. Longitude and latitude look swapped",
        "经度 and 纬度 swapped in one row (纬度 > 90)",
    ),
    (
        "facilities_one_far_away.csv",
        "read_facilities",
        {},
        "StudyAreaError",
        r"1 feature\(s\) are more than 100 km from the rest .*Excel row 5",
        "经度 typed 10.7481 for 107.481",
    ),
    (
        "facilities_projected_xy.csv",
        "read_facilities",
        {},
        "StudyAreaError",
        r"look like projected metres.*pass crs=",
        "CGCS2000 GK metres read as lon/lat",
    ),
    (
        "facilities_zone_prefixed_xy.csv",
        "read_facilities",
        {"crs": "EPSG:4545"},
        "CRSError",
        r"start with 36: the numbers say zone 36 .*no zone prefix.*crs='EPSG:4524'",
        "X with the zone prefix 36 (EPSG:4524) declared as EPSG:4545",
    ),
    (
        "facilities_helsinki.csv",
        "read_facilities",
        {"coords": "gcj02"},
        "StudyAreaError",
        r"2 feature\(s\) lie outside China .*drop coords='gcj02'",
        "coords='gcj02' on points outside China",
    ),
    (
        "facilities_one_far_away.csv",
        "read_facilities",
        {"unknown_categories": "error"},
        "CRSError",
        r"which system.*coords='gcj02' for 高德",
        "a lon/lat table from China read without saying whether it is GPS/WGS84 or 高德/百度 offset",
    ),
]


# Files as planners have them (make_planner_files); the last field names the truth a read result
# must equal ("communities": the four 社区 with their codes and 户数; "facilities": the five 设施).
PLANNER_CASES = [
    (
        "communities_gbk.zip",
        "read_communities",
        {},
        "read",
        "",
        "zipped GBK shapefile (in a folder inside the zip) with its .cpg and .prj",
        "communities",
    ),
    (
        "communities_gbk_no_cpg.zip",
        "read_communities",
        {},
        "read",
        "",
        "zipped GBK shapefile without a .cpg (GDAL alone reads it as Latin-1)",
        "communities",
    ),
    (
        "communities_cpg_lies.shp",
        "read_communities",
        {},
        "UserWarning",
        r"the \.cpg says the text is 'UTF-8'.*read as gb18030",
        "a .cpg that says UTF-8 over a GBK attribute table",
        "communities",
    ),
    (
        "communities_cpg_lies_zipped.zip",
        "read_communities",
        {},
        "UserWarning",
        r"the \.cpg says the text is 'UTF-8'.*read as gb18030",
        "a lying .cpg inside a zipped shapefile",
        "communities",
    ),
    (
        "communities_missing_dbf.shp",
        "read_communities",
        {},
        "DataFileError",
        r"communities_missing_dbf\.dbf is missing",
        "shapefile sent without its .dbf (every attribute would be lost)",
        "",
    ),
    (
        "communities_missing_dbf_zipped.zip",
        "read_communities",
        {},
        "DataFileError",
        r"社区\.dbf is missing",
        "zipped shapefile without its .dbf",
        "",
    ),
    (
        "communities_cut_names.shp",
        "read_communities",
        {},
        "UserWarning",
        r"cut inside a character .*'社区编' → '社区编码'",
        "UTF-8 DBF whose 10-byte field names end inside a character (社区编码 → 社区编 + 1 byte)",
        "communities",
    ),
    (
        "communities_two_shapefiles.zip",
        "read_communities",
        {},
        "DataFileError",
        r"2 shapefiles \['社区', '小区'\]; pass layer=",
        "a zip holding the community and the compound shapefiles",
        "",
    ),
    (
        "communities_two_shapefiles.zip",
        "read_communities",
        {"layer": "社区"},
        "read",
        "",
        "a zip of two shapefiles with layer= naming one",
        "communities",
    ),
    (
        "communities_folders.kml",
        "read_communities",
        {},
        "read",
        "",
        "KML with one folder per 街道 and ExtendedData 社区编码/户数 (only the first folder used to be read)",
        "communities",
    ),
    (
        "communities_folders.kmz",
        "read_communities",
        {},
        "read",
        "",
        "the same KML zipped as KMZ",
        "communities",
    ),
    (
        "communities_folders.kml",
        "read_communities",
        {"layer": "西城街道"},
        "DataFileError",
        r"layer='西城街道' is not a folder of the KML; pass one of \['朝阳街道', '东城街道'\]",
        "layer= naming a KML folder that does not exist",
        "",
    ),
    (
        "communities_mixed_folders.kml",
        "read_communities",
        {},
        "DataFileError",
        r"hold different kinds of features .*pass layer=",
        "KML with a folder of boundaries and a folder of centre points",
        "",
    ),
    (
        "communities_xian80_gk108.gpkg",
        "read_communities",
        {},
        "UserWarning",
        r"Xian 1980 .*no datum shift.*tens of metres to more than 100 m",
        "boundaries in Xian 1980 / 3-degree GK CM 108E (EPSG:2381), converted without a datum shift",
        "communities",
    ),
    (
        "communities_beijing54_esri_prj.shp",
        "read_communities",
        {},
        "UserWarning",
        r"Beijing 1954 .*no datum shift.*more than 100 m",
        "ArcGIS shapefile in Beijing 1954 / 3-degree GK CM 108E: an ESRI .prj without an EPSG code",
        "communities",
    ),
    (
        "facilities_beijing54.csv",
        "read_facilities",
        {"crs": "EPSG:4214"},
        "UserWarning",
        r"Beijing 1954 .*no datum shift.*more than 100 m",
        "facility lon/lat on Beijing 1954 (EPSG:4214)",
        "facilities",
    ),
    (
        "facilities_zone_35_declared_36.csv",
        "read_facilities",
        {"crs": "EPSG:4524"},
        "CRSError",
        r"numbers say zone 35 .*105°E.*EPSG:4524\) is zone 36 .*crs='EPSG:4523'",
        "X values of zone 35 (prefix 35) declared as zone 36 (EPSG:4524): 285 km off",
        "",
    ),
    (
        "facilities_survey_xy.csv",
        "read_facilities",
        {"crs": "EPSG:4545"},
        "CRSError",
        r"X values .* look like northings.*columns=\{'lon': 'Y', 'lat': 'X'\}",
        "surveyor's X (northing) / Y (easting) read as x/y",
        "",
    ),
    (
        "facilities_title_row.xlsx",
        "read_facilities",
        {},
        "UserWarning",
        r"column names are on row 2 .*below the title '达州市通川区公共服务设施统计表",
        "Excel sheet with a merged title row above the header",
        "facilities",
    ),
    (
        "facilities_two_row_header.xlsx",
        "read_facilities",
        {},
        "UserWarning",
        r"column names are on rows 2-3 \(two header rows\).*below the title '达州市",
        "title row and a two-row header (坐标 merged over 经度 | 纬度)",
        "facilities",
    ),
    (
        "facilities_two_sheets.xlsx",
        "read_facilities",
        {},
        "DataFileError",
        r"2 sheets hold tables \['幼儿园', '超市'\].*only one would be read.*layer='幼儿园'",
        "facilities split over two sheets (幼儿园, 超市), no layer= (only the first sheet used to be read)",
        "",
    ),
    (
        "facilities_notes_sheet_first.xlsx",
        "read_facilities",
        {},
        "UserWarning",
        r"read sheet '设施', the only one with column names \(not the first sheet '说明'\)",
        "workbook whose first sheet holds notes (说明), the table on the second",
        "facilities",
    ),
    (
        "facilities_title_row.csv",
        "read_facilities",
        {},
        "UserWarning",
        r"column names are on row 2 ",
        "GBK CSV with a title line above the header",
        "facilities",
    ),
    (
        "facilities_title_row.xlsx",
        "read_facilities",
        {"header_row": 1},
        "ColumnError",
        r"does not look like the column names .*pass header_row=",
        "header_row= pointing at the title row",
        "",
    ),
    (
        "facilities_unquoted_thousands.csv",
        "read_facilities",
        {},
        "DataFileError",
        r"row 2 has more values than the header has columns .*quotes",
        "建筑面积 1,200 written without quotes: one value too many in the row",
        "",
    ),
    (
        "facilities_fullwidth_comma.csv",
        "read_facilities",
        {},
        "read",
        "",
        "CSV typed with full-width commas ， as separators",
        "facilities",
    ),
    (
        "facilities_csv_named.xlsx",
        "read_facilities",
        {},
        "DataFileError",
        r"ends in \.xlsx but the file is really a plain-text \(CSV\) table.*Rename it to facilities_csv_named\.csv",
        "a CSV renamed to .xlsx",
        "",
    ),
    (
        "communities_geojson_named.shp",
        "read_communities",
        {},
        "DataFileError",
        r"ends in \.shp but the file is really a JSON/GeoJSON text.*Rename it to communities_geojson_named\.geojson",
        "a GeoJSON renamed to .shp",
        "",
    ),
    (
        "facilities_xlsx_named.csv",
        "read_facilities",
        {},
        "DataFileError",
        r"ends in \.csv but the file is really an Excel workbook \(\.xlsx\).*Rename",
        "an Excel workbook renamed to .csv (used to be called an encoding problem)",
        "",
    ),
    (
        "facilities_html_named.xls",
        "read_facilities",
        {},
        "DataFileError",
        r"really an HTML page.*save it as \.xlsx",
        "a web system's 'Excel' export that is an HTML table named .xls",
        "",
    ),
    (
        "communities_empty.gpkg",
        "read_communities",
        {},
        "DataFileError",
        r"holds no layers",
        "an empty GeoPackage (created, never filled)",
        "",
    ),
    (
        "communities_folder",
        "read_communities",
        {},
        "DataFileError",
        r"this is a folder .*社区边界\.geojson.*Pass the path of one data file",
        "the folder of the data passed instead of the file in it",
        "",
    ),
]


# Encodings, CRS declarations, coordinate spellings and attribute values (make_more_files).
MORE_CASES = [
    (
        "communities_big5_no_cpg.shp",
        "read_communities",
        {},
        "DataFileError",
        r"looks like Big5 text \(繁體中文.*Pass encoding='big5'",
        "Big5 (Taiwan/HK) DBF without a .cpg (GB18030 decodes it too, into garbled names and no 户数)",
        "",
    ),
    (
        "communities_crs_4490.geojson",
        "read_communities",
        {},
        "read",
        "",
        "GeoJSON with a crs member naming CGCS2000 lon/lat (EPSG:4490)",
        "communities",
    ),
    (
        "communities_gcj02_crs_member.geojson",
        "read_communities",
        {},
        "CRSError",
        r"crs member says 'GCJ02'.*Pass coords='gcj02'",
        "GeoJSON in 高德 coordinates saying so only in its crs member (GDAL reads it as WGS84, ~500 m off)",
        "",
    ),
    (
        "communities_gcj02_crs_member.geojson",
        "read_communities",
        {"coords": "gcj02"},
        "read",
        "",
        "the same GeoJSON read with coords='gcj02'",
        "communities",
    ),
    (
        "communities_latlon_order.geojson",
        "read_communities",
        {},
        "StudyAreaError",
        r"4 feature\(s\) have coordinates outside .*written latitude first.*Swap X and Y in your GIS",
        "GeoJSON written [lat, lon] (latitude first)",
        "",
    ),
    (
        "communities_gk_no_prj.shp",
        "read_communities",
        {},
        "CRSError",
        r"no coordinate reference system.*Add a \.prj.*'EPSG:4545' for CGCS2000 GK CM 108E",
        "Gauss-Krüger metres in a shapefile sent without its .prj",
        "",
    ),
    (
        "communities_prj_says_wgs84.shp",
        "read_communities",
        {},
        "StudyAreaError",
        r"look like projected metres.*declares WGS 84 \(a wrong \.prj.*定义投影.*does not override",
        "'Define Projection' set to WGS 84 over GK metres (used to suggest crs=, which cannot override a .prj)",
        "",
    ),
    (
        "communities_xian80_zone36.shp",
        "read_communities",
        {},
        "UserWarning",
        r"Xian 1980 / 3-degree Gauss-Kruger zone 36, on the old Xian 1980 \(西安80\) datum.*no datum shift",
        "shapefile in Xian 1980 / 3-degree GK zone 36 (X with zone prefix), converted without a datum shift",
        "communities",
    ),
    (
        "facilities_fullwidth_digits.csv",
        "read_facilities",
        {},
        "read",
        "",
        "经度/纬度 typed with full-width digits １０７．４７５２ (Chinese input method)",
        "facilities",
    ),
    (
        "facilities_dms.csv",
        "read_facilities",
        {},
        "read",
        "",
        "经度/纬度 in 度分秒 (107°28'30.72\"E, 31度12分15.48秒)",
        "facilities",
    ),
    (
        "facilities_dongjing_beiwei.csv",
        "read_facilities",
        {},
        "read",
        "",
        "coordinate columns named 东经/北纬",
        "facilities",
    ),
    (
        "facilities_xy_swapped.csv",
        "read_facilities",
        {},
        "StudyAreaError",
        r"5 feature\(s\) have coordinates outside .*look swapped \(纬度 > 90\): exchange the two columns",
        "column X holding the latitudes and Y the longitudes (every row swapped)",
        "",
    ),
    (
        "facilities_lnglat_one_column.csv",
        "read_facilities",
        {},
        "read",
        "",
        "one 经纬度 column holding '107.4752,31.2043' (pasted from a coordinate picker)",
        "facilities",
    ),
    (
        "facilities_trailing_comma.csv",
        "read_facilities",
        {},
        "read",
        "",
        "CSV with a BOM, every cell quoted and a trailing comma on each line (an empty last column)",
        "facilities",
    ),
    (
        "compounds_code_scientific.csv",
        "read_compounds",
        {},
        "ColumnError",
        r"'community_id' holds codes in scientific notation \(Excel row 2: '5\.11702E\+11'.*format to 文本",
        "社区编码 saved by Excel as 5.11702E+11 (the last digits lost; used to be read silently)",
        "",
    ),
    (
        "compounds_households_unit.csv",
        "read_compounds",
        {},
        "ColumnError",
        r"'households' must hold numbers.*Excel row 3: '2,150户'",
        "户数 typed with a thousands comma and the unit: 2,150户",
        "",
    ),
    (
        "compounds_total_row.xlsx",
        "read_compounds",
        {"coords": "wgs84"},
        "UserWarning",
        r"left out 1 total row\(s\) \(合计行\): Excel row 4 \('合计'\)\. A total is not a feature",
        "a 合计 (total) row at the bottom of the compound list (used to stop on its empty 经度)",
        "compounds",
    ),
]


def write_cases() -> None:
    with (HERE / "cases.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "reader", "kwargs", "expect", "match", "mistake", "check"])
        for case in [*CASES, *PLANNER_CASES, *MORE_CASES]:
            file, reader, kwargs, expect, match, mistake, *check = case
            check = check or (["communities"] if expect == "UserWarning" else [""])
            writer.writerow([file, reader, json.dumps(kwargs, ensure_ascii=False), expect, match, mistake, *check])


if __name__ == "__main__":
    make_files()
    make_planner_files()
    make_more_files()
    freeze_timestamps()
    write_cases()
    print(f"{len(CASES) + len(PLANNER_CASES) + len(MORE_CASES)} cases written to {HERE.name}/cases.csv")
