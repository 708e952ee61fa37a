"""Bad planner tables found by the probe of /work/scratch/badinput: each is read right or stopped with the fix.

Every test writes a real file (xlsx with openpyxl, CSV as text) into ``tmp_path`` and reads it
with the public readers.
"""

from __future__ import annotations

import warnings

import openpyxl
import pytest

from dz_gis import ColumnError, DataFileError, read_compounds, read_facilities

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
