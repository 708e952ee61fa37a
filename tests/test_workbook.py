"""tables.xlsx: the demo's tables for Excel, with Chinese headers and shares as percentages."""

import openpyxl
import pandas as pd
import pytest

from dz_gis import ValidationError
from dz_gis.outputs.workbook import write_workbook


def test_workbook_has_the_csv_numbers_in_percent_and_words_in_both_languages(demo_outputs):
    _, out = demo_outputs
    book = openpyxl.load_workbook(out / "tables.xlsx")
    assert book.sheetnames[:4] == ["覆盖汇总 coverage", "社区覆盖 communities", "缺口 gaps", "指标 indicators"]
    summary = book["覆盖汇总 coverage"]
    head = [c.value for c in summary[1]]
    assert head[0].startswith("设施类别") and "5分钟内户数比例\nhh_share_5min" in head
    col = head.index("5分钟内户数比例\nhh_share_5min") + 1
    csv = pd.read_csv(out / "coverage_summary.csv", encoding="utf-8-sig", index_col=0)
    cells = {
        summary.cell(row=r, column=1).value: summary.cell(row=r, column=col) for r in range(2, summary.max_row + 1)
    }
    for cat, share in csv["hh_share_5min"].dropna().items():
        assert cells[cat].value == pytest.approx(share) and cells[cat].number_format == "0.0%"  # a number, shown as %
    gaps = book["缺口 gaps"]
    status_col = [c.value for c in gaps[1]].index("状态\nstatus") + 1
    words = {gaps.cell(row=r, column=status_col).value for r in range(2, gaps.max_row + 1)}
    assert words <= {"缺口 gap", "达标 met", "无数据 no data"} and "缺口 gap" in words


def test_english_headers_and_a_wrong_choice(tmp_path):
    table = pd.DataFrame({"status": ["gap"], "share_after": [0.5]})
    path = write_workbook(tmp_path / "t.xlsx", {"x": table}, headers="en")
    sheet = openpyxl.load_workbook(path)["x"]
    assert [c.value for c in sheet[1]] == ["status", "share_after"] and sheet["A2"].value == "缺口 gap"
    assert sheet["B2"].number_format == "0.0%" and sheet["B2"].value == 0.5
    with pytest.raises(ValidationError, match="headers"):
        write_workbook(tmp_path / "u.xlsx", {"x": table}, headers="fr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]  # nothing half-written
