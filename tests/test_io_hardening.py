"""Bad planner tables as a probe of real files found them: each is read right or stopped with the fix.

Every test writes a real file (xlsx with openpyxl, CSV as text) into ``tmp_path`` and reads it
with the public readers.
"""

from __future__ import annotations

import re
import warnings
import zipfile

import geopandas as gpd
import openpyxl
import pytest
from shapely import box

from dz_gis import (
    ColumnError,
    DataFileError,
    StudyAreaError,
    read_communities,
    read_compounds,
    read_facilities,
)
from dz_gis.demand import link_compounds

#: Three compounds in 达州 (WGS84), as a planner's list has them.
COMPOUNDS = [
    ("R1", "凤凰小区", "511702001001", 320, 910, 107.4752, 31.2043),
    ("R2", "西外花园", "511702001002", 540, 1520, 107.4861, 31.2077),
    ("R3", "塔沱新村", "511702001003", 210, 600, 107.4733, 31.2155),
]
HEADER = ["小区编号", "小区名称", "社区编码", "户数", "人口", "经度", "纬度"]


def _xlsx(path, sheets: dict[str, list[list[object]]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _facility_rows(names: list[str]) -> list[list[object]]:
    return [["名称", "类型", "经度", "纬度"]] + [[n, "幼儿园", 107.475 + i / 1000, 31.204] for i, n in enumerate(names)]


# ----------------------------------------------------------------------------- several sheets


def test_several_sheets_message_comes_through_once(tmp_path) -> None:
    path = _xlsx(
        tmp_path / "设施.xlsx", {"一季度": _facility_rows(["甲幼儿园"]), "二季度": _facility_rows(["乙幼儿园"])}
    )
    with pytest.raises(DataFileError) as err:
        read_facilities(path, coords="wgs84")
    msg = str(err.value)
    assert "2 sheets hold tables ['一季度', '二季度']" in msg
    assert "layer='一季度'" in msg
    assert msg.count(str(path)) == 1  # not wrapped in a second "cannot read the table (...)"
    assert "cannot read the table" not in msg
    # and the sheet named by layer= is read
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_facilities(path, coords="wgs84", layer="二季度")["name"].tolist() == ["乙幼儿园"]


# ----------------------------------------------------------------------------- units in column names


def _write_csv(path, header: list[str], rows: list[list[object]]):
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


@pytest.mark.parametrize(
    ("households", "population"),
    [("户数（户）", "人口(人)"), ("户数(户)", "人口（人）"), ("户数【户】", "常住人口[人]")],
)
def test_compound_columns_with_a_unit_in_brackets(tmp_path, households: str, population: str) -> None:
    header = ["小区编号", "小区名称", "社区编码", households, population, "经度", "纬度"]
    path = _write_csv(tmp_path / "小区.csv", header, [list(r) for r in COMPOUNDS])
    got = read_compounds(path, coords="wgs84")
    assert got["households"].tolist() == [320.0, 540.0, 210.0]
    assert got["population"].tolist() == [910.0, 1520.0, 600.0]
    assert households not in got.columns and population not in got.columns


@pytest.mark.parametrize("area", ["建筑面积（平方米）", "面积(m²)", "面积(m2)"])
def test_facility_area_with_a_unit_in_brackets(tmp_path, area: str) -> None:
    rows = [["甲幼儿园", "幼儿园", 1200, 107.4752, 31.2043], ["乙幼儿园", "幼儿园", 650, 107.4861, 31.2077]]
    path = _write_csv(tmp_path / "设施.csv", ["名称", "类型", area, "经度", "纬度"], rows)
    assert read_facilities(path, coords="wgs84")["area_m2"].tolist() == [1200.0, 650.0]


def test_header_with_units_is_found_below_a_title(tmp_path) -> None:
    rows = [["达州市通川区小区统计表"], ["小区名称", "户数（户）", "人口（人）", "经度", "纬度"]]
    rows += [[r[1], r[3], r[4], r[5], r[6]] for r in COMPOUNDS]
    path = _xlsx(tmp_path / "小区.xlsx", {"小区": rows})
    with pytest.warns(UserWarning, match="row 2"):
        got = read_compounds(path, coords="wgs84")
    assert got["households"].tolist() == [320.0, 540.0, 210.0]


def test_two_columns_with_units_for_one_standard_are_ambiguous(tmp_path) -> None:
    header = ["小区名称", "户数（户）", "总户数(户)", "经度", "纬度"]
    path = _write_csv(tmp_path / "小区.csv", header, [[r[1], r[3], r[3], r[5], r[6]] for r in COMPOUNDS])
    with pytest.raises(ColumnError, match=r"小区.csv: several columns could be 'households'.*户数（户）"):
        read_compounds(path, coords="wgs84")


def test_exact_alias_wins_over_a_name_with_a_unit(tmp_path) -> None:
    header = ["小区名称", "户数", "户数（2019年）", "经度", "纬度"]
    path = _write_csv(tmp_path / "小区.csv", header, [[r[1], r[3], 1, r[5], r[6]] for r in COMPOUNDS])
    got = read_compounds(path, coords="wgs84")
    assert got["households"].tolist() == [320.0, 540.0, 210.0]
    assert got["户数（2019年）"].tolist() == ["1", "1", "1"]


# ----------------------------------------------------------------------------- the community of a compound


def _compounds_naming(tmp_path, column: str, values: list[str], code: bool = False):
    header = ["小区编号", "小区名称"] + (["社区编码"] if code else []) + ["户数", column, "经度", "纬度"]
    rows = [
        [r[0], r[1]] + ([r[2]] if code else []) + [r[3], v, r[5], r[6]] for r, v in zip(COMPOUNDS, values, strict=True)
    ]
    return _write_csv(tmp_path / "小区.csv", header, rows)


COMMUNITY_NAMES = ["朝阳社区", "西外社区", "凤凰山社区"]


@pytest.mark.parametrize("column", ["所属社区", "所属社区名称", "所属居委会", "社区名称", "社区"])
def test_compound_list_names_its_community(tmp_path, column: str) -> None:
    got = read_compounds(_compounds_naming(tmp_path, column, COMMUNITY_NAMES), coords="wgs84")
    assert got["community_id"].tolist() == COMMUNITY_NAMES
    assert got["name"].tolist() == ["凤凰小区", "西外花园", "塔沱新村"]
    assert column not in got.columns


def test_compound_names_link_to_their_communities_by_name(tmp_path) -> None:
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2", "C3"], "name": COMMUNITY_NAMES},
        geometry=[box(107.0, 30.0, 107.1, 30.1), box(107.1, 30.0, 107.2, 30.1), box(107.2, 30.0, 107.3, 30.1)],
        crs="EPSG:4326",
    )  # far from the compounds: a link by location would find none
    compounds = read_compounds(_compounds_naming(tmp_path, "所属社区", COMMUNITY_NAMES), coords="wgs84")
    with pytest.warns(UserWarning, match="linked by name"):
        linked = link_compounds(compounds, communities)
    assert linked["community_id"].tolist() == ["C1", "C2", "C3"]
    assert linked["community_link"].tolist() == ["name", "name", "name"]


@pytest.mark.parametrize("column", ["所属社区", "社区名称"])
def test_community_code_beside_the_name_is_the_one_used(tmp_path, column: str) -> None:
    path = _compounds_naming(tmp_path, column, COMMUNITY_NAMES, code=True)
    got = read_compounds(path, coords="wgs84")
    assert got["community_id"].tolist() == ["511702001001", "511702001002", "511702001003"]
    assert got["name"].tolist() == ["凤凰小区", "西外花园", "塔沱新村"]
    assert got[column].tolist() == COMMUNITY_NAMES  # kept, unrenamed


def test_suoshu_shequ_code_column(tmp_path) -> None:
    path = _compounds_naming(tmp_path, "所属社区编码", ["511702001001", "511702001002", "511702001003"])
    assert read_compounds(path, coords="wgs84")["community_id"].tolist() == [r[2] for r in COMPOUNDS]


def test_community_layer_keeps_its_code_beside_suoshu(tmp_path) -> None:
    grid = gpd.GeoDataFrame(
        {"网格名称": ["一网格", "二网格"], "社区编码": ["G1", "G2"], "所属社区": ["朝阳社区", "朝阳社区"]},
        geometry=[box(107.47, 31.20, 107.48, 31.21), box(107.48, 31.20, 107.49, 31.21)],
        crs="EPSG:4326",
    )
    grid.to_file(tmp_path / "网格.gpkg")
    got = read_communities(tmp_path / "网格.gpkg")
    assert got["community_id"].tolist() == ["G1", "G2"]
    assert got["所属社区"].tolist() == ["朝阳社区", "朝阳社区"]
    # without a code column, 所属社区 (shared by both) is not taken for the communities' own id
    grid.drop(columns="社区编码").to_file(tmp_path / "网格2.gpkg")
    assert read_communities(tmp_path / "网格2.gpkg")["community_id"].tolist() == ["C1", "C2"]


def test_facility_list_with_suoshu_shequ_reads(tmp_path) -> None:
    rows = [
        ["甲幼儿园", "幼儿园", "朝阳社区", 107.4752, 31.2043],
        ["乙幼儿园", "幼儿园", "西外社区", 107.4861, 31.2077],
    ]
    path = _write_csv(tmp_path / "设施.csv", ["名称", "类型", "所属社区", "经度", "纬度"], rows)
    got = read_facilities(path, coords="wgs84")
    assert got["category"].tolist() == ["kindergarten", "kindergarten"]
    assert got["所属社区"].tolist() == ["朝阳社区", "西外社区"]


# ----------------------------------------------------------------------------- row numbers as Excel shows them


def test_bad_value_names_the_excel_row_below_a_title_and_a_blank_row(tmp_path) -> None:
    rows: list[list[object]] = [["达州市通川区小区统计表"], [], HEADER]  # title on row 1, blank row 2, header row 3
    rows += [list(COMPOUNDS[0]), [], list(COMPOUNDS[1]), [*COMPOUNDS[2][:5], "107.47.33", COMPOUNDS[2][6]]]
    path = _xlsx(tmp_path / "小区.xlsx", {"小区": rows})
    with pytest.warns(UserWarning, match="row 3"), pytest.raises(ColumnError) as err:
        read_compounds(path, coords="wgs84")
    # the third compound is the 3rd data row, but row 7 in Excel (title, blank, header and a blank row above it)
    assert re.search(r"小区.xlsx: column '经度' \(lon\) has 1 .*\(Excel row 7: '107.47.33'\)", str(err.value))


def test_far_feature_names_the_excel_row_of_a_csv(tmp_path) -> None:
    rows = [[r[1], r[3], r[5], r[6]] for r in COMPOUNDS] + [["远方小区", 100, 10.7481, 31.2043]]
    text = "小区名称,户数,经度,纬度\n" + "\n".join(",".join(map(str, r)) for r in rows[:2]) + "\n,,,\n\n"
    text += "\n".join(",".join(map(str, r)) for r in rows[2:]) + "\n"
    path = tmp_path / "小区.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudyAreaError, match=r"1 feature\(s\) are more than .*Excel row 7 compound_id='R4'"):
        read_compounds(path, coords="wgs84")


# ----------------------------------------------------------------------------- total rows


def test_total_row_with_filled_down_coordinates_is_left_out_of_an_xlsx(tmp_path) -> None:
    total = ["合计", "合计", None, sum(r[3] for r in COMPOUNDS), sum(r[4] for r in COMPOUNDS), *COMPOUNDS[-1][5:]]
    rows = [["达州市通川区小区统计表"], [], HEADER, *map(list, COMPOUNDS), total]
    path = _xlsx(tmp_path / "小区.xlsx", {"小区": rows})
    with pytest.warns(UserWarning) as record:
        got = read_compounds(path, coords="wgs84")
    messages = [str(w.message) for w in record]
    total_warning = r"小区.xlsx: left out 1 total row\(s\) \(合计行\): Excel row 7 \('合计'\)"
    assert any(re.search(total_warning, m) for m in messages)
    assert got["households"].tolist() == [320.0, 540.0, 210.0]  # not one more compound of 1,070 households
    assert got["name"].tolist() == ["凤凰小区", "西外花园", "塔沱新村"]


def test_total_and_subtotal_rows_are_left_out_of_a_csv(tmp_path) -> None:
    lines = ["名称,类型,经度,纬度", "甲幼儿园,幼儿园,107.4752,31.2043", "", ",,,"]
    lines += ["小 计：,1,,", "乙幼儿园,幼儿园,107.4861,31.2077", "Total:,2,107.4861,31.2077", "", "合 计,2,,"]
    path = tmp_path / "设施.csv"
    path.write_text("\n".join(lines) + "\n", encoding="gb18030")
    with pytest.warns(UserWarning, match=r"设施.csv: left out 3 total row\(s\)") as record:
        got = read_facilities(path, coords="wgs84")
    assert len(record) == 1
    assert "Excel row 5 ('小 计：'), Excel row 7 ('Total:'), Excel row 9 ('合 计')" in str(record[0].message)
    assert got["name"].tolist() == ["甲幼儿园", "乙幼儿园"]


def test_total_in_a_name_column_that_is_not_the_first(tmp_path) -> None:
    rows = [["序号", "小区名称", "户数", "经度", "纬度"]]
    rows += [[k + 1, r[1], r[3], r[5], r[6]] for k, r in enumerate(COMPOUNDS)] + [[None, "SUM", 1070, None, None]]
    path = _xlsx(tmp_path / "小区.xlsx", {"Sheet1": rows})
    with pytest.warns(UserWarning, match=r"Excel row 5 \('SUM'\)"):
        got = read_compounds(path, coords="wgs84")
    assert got["households"].sum() == 1070.0


def test_a_compound_whose_name_only_starts_like_a_total_is_kept(tmp_path) -> None:
    rows = [["小区名称", "户数", "经度", "纬度"], ["合计小区", 10, 107.4752, 31.2043]]
    rows.append(["Summit", 20, 107.4861, 31.2077])
    got = read_compounds(_xlsx(tmp_path / "小区.xlsx", {"Sheet1": rows}), coords="wgs84")
    assert got["name"].tolist() == ["合计小区", "Summit"]


# ----------------------------------------------------------------------------- no households


@pytest.mark.parametrize(
    ("header", "households", "what"),
    [
        (["小区名称", "楼栋数", "经度", "纬度"], [12, 30, 8], r"no households \(户数\) or population \(人口\)"),
        (["小区名称", "户数", "经度", "纬度"], [None, None, None], r"households column\(s\) are empty"),
        (["小区名称", "人口", "经度", "纬度"], [910, 1520, 600], r"no households .* only population"),
    ],
)
def test_compounds_without_households_warn(tmp_path, header: list[str], households: list, what: str) -> None:
    rows = [[r[1], hh, r[5], r[6]] for r, hh in zip(COMPOUNDS, households, strict=True)]
    path = _write_csv(tmp_path / "小区.csv", header, rows)
    with pytest.warns(UserWarning) as record:
        got = read_compounds(path, coords="wgs84")
    assert len(record) == 1
    msg = str(record[0].message)
    assert msg.startswith(f"{path}: ")
    assert re.search(what, msg), msg
    assert f"Columns present: {header[:2]}" in msg  # 经度/纬度 became the points
    assert 'columns={"households": "<your column>"}' in msg
    assert "in the project file compounds: {file: ..., columns: {households: <your column>}}" in msg
    assert got["households"].isna().all()  # still read: the caller decides


def test_compounds_with_households_do_not_warn(tmp_path) -> None:
    path = _write_csv(tmp_path / "小区.csv", HEADER, [list(r) for r in COMPOUNDS])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_compounds(path, coords="wgs84")["households"].tolist() == [320.0, 540.0, 210.0]


# ----------------------------------------------------------------------------- formulas without saved values


def _formula_compounds(path):
    """Compounds whose 经度/纬度 are formulas, as a script writes them: openpyxl saves no values for them."""
    rows: list[list[object]] = [HEADER]
    rows += [[*r[:5], f"={r[5]}", f"=ROUND({r[6]},4)"] for r in COMPOUNDS]
    return _xlsx(path, {"小区": rows})


def test_formulas_without_saved_values_say_open_and_save(tmp_path) -> None:
    path = _formula_compounds(tmp_path / "小区.xlsx")
    with pytest.raises(DataFileError) as err:
        read_compounds(path, coords="wgs84")
    msg = str(err.value)
    assert msg.startswith(f"{path}: 6 cell(s) hold formulas without a saved value (F2, G2, F3, G3, F4, G4)")
    assert "Open the file in Excel or WPS, save it" in msg
    assert "empty or non-numeric" not in msg


def test_formulas_with_saved_values_are_read(tmp_path) -> None:
    # What Excel/WPS write on saving: the formula and its value (<v>…</v>) side by side.
    path = _formula_compounds(tmp_path / "小区.xlsx")
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for r in COMPOUNDS:
        xml = xml.replace(f"<f>{r[5]}</f><v />", f"<f>{r[5]}</f><v>{r[5]}</v>")
        xml = xml.replace(f"<f>ROUND({r[6]},4)</f><v />", f"<f>ROUND({r[6]},4)</f><v>{r[6]}</v>")
    assert "<v />" not in xml
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    got = read_compounds(path, coords="wgs84")
    assert got.geometry.x.round(4).tolist() == [r[5] for r in COMPOUNDS]


def test_a_formula_outside_the_table_does_not_stop_the_read(tmp_path) -> None:
    rows: list[list[object]] = [["=TODAY()"], HEADER, *map(list, COMPOUNDS)]  # a date formula in the title row
    path = _xlsx(tmp_path / "小区.xlsx", {"小区": rows})
    assert read_compounds(path, coords="wgs84")["households"].tolist() == [320.0, 540.0, 210.0]


def test_a_text_household_count_names_the_excel_row(tmp_path) -> None:
    """The numeric checks (in _validate) name the Excel row too, not the data row."""
    rows: list[list[object]] = [["达州市通川区小区统计表"], [], HEADER]
    rows += [list(COMPOUNDS[0]), list(COMPOUNDS[1]), [*COMPOUNDS[2][:3], "约两百", *COMPOUNDS[2][4:]]]
    path = _xlsx(tmp_path / "小区.xlsx", {"小区": rows})
    with pytest.warns(UserWarning, match="row 3"), pytest.raises(ColumnError, match="must hold numbers") as err:
        read_compounds(path, coords="wgs84")
    assert "Excel row 6: '约两百'" in str(err.value)


def test_layers_read_from_two_tables_concatenate(tmp_path) -> None:
    """pandas compares and copies attrs when frames are combined: the Excel row numbers must survive that."""
    import pandas as pd

    from dz_gis._validate import feature_labels

    one = _xlsx(tmp_path / "a.xlsx", {"小区": [HEADER, list(COMPOUNDS[0]), list(COMPOUNDS[1])]})
    two = _xlsx(tmp_path / "b.xlsx", {"小区": [["标题"], HEADER, list(COMPOUNDS[2])]})
    with pytest.warns(UserWarning, match="row 2"):
        parts = [read_compounds(one, coords="wgs84"), read_compounds(two, coords="wgs84")]
    assert feature_labels(parts[1], [0]).startswith("Excel row 3")
    both = pd.concat(parts, ignore_index=True)
    assert len(both) == 3 and feature_labels(both, [2]).startswith("row 3")  # no Excel rows for a mix of files


def test_a_geojson_in_metres_without_a_crs_member_takes_the_crs_given(tmp_path) -> None:
    """GDAL reads a GeoJSON without a crs member as WGS84; exported in metres that way, crs= names its CRS."""
    import json

    comm = gpd.GeoDataFrame(
        {"社区编码": ["511702001001"], "社区名称": ["凤凰社区"]},
        geometry=[box(36_540_000, 3_456_000, 36_540_500, 3_456_400)],
        crs="EPSG:4524",  # CGCS2000 3-degree zone 36, with the zone prefix
    )
    path = tmp_path / "社区.geojson"
    path.write_text(json.dumps(comm.__geo_interface__), encoding="utf-8")
    assert '"crs"' not in path.read_text(encoding="utf-8")
    read = read_communities(path, crs="EPSG:4524")
    assert read.crs.to_epsg() == 4326
    assert abs(read.geometry.iloc[0].centroid.x - 108.0) < 1.0 and 25 < read.geometry.iloc[0].centroid.y < 35


def test_full_width_household_counts_are_numbers(tmp_path) -> None:
    rows = [HEADER] + [list(r) for r in COMPOUNDS]
    rows[1][3], rows[2][3] = "３２０", "１，５４０"  # typed with a Chinese input method
    path = _xlsx(tmp_path / "小区.xlsx", {"小区": rows})
    read = read_compounds(path, coords="wgs84")
    assert read["households"].tolist() == [320.0, 1540.0, 210.0]
