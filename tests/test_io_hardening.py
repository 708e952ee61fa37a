"""Bad planner tables found by the probe of /work/scratch/badinput: each is read right or stopped with the fix.

Every test writes a real file (xlsx with openpyxl, CSV as text) into ``tmp_path`` and reads it
with the public readers.
"""

from __future__ import annotations

import warnings

import openpyxl
import pytest

from dz_gis import DataFileError, read_facilities

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
