"""The tables as one Excel workbook for planners: Chinese headers, shares as percentages, words in both languages.

The CSV files stay as they are (English identifiers, fractions) for scripts and GIS; this
workbook (``tables.xlsx``) is the same numbers laid out for reading in Excel or WPS: each
table a sheet, headers in Chinese with the English beneath (``headers="en"`` for English
only), shares as real numbers in a percent format (Excel still computes with them), and the
status and severity words in Chinese and English. Written with openpyxl through pandas,
atomically.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .._atomic import atomic_path
from .._errors import ValidationError

__all__ = ["HEADERS", "write_workbook"]

#: Chinese names of the tables' columns (those not listed keep their identifier).
HEADERS = {
    "category": "设施类别",
    "name_zh": "名称",
    "name": "名称",
    "facilities": "设施数量",
    "scope": "层级",
    "unit_id": "单元编号",
    "unit_name": "单元名称",
    "rule_id": "规则编号",
    "title_zh": "规则",
    "title_en": "规则（英文）",
    "kind": "规则类型",
    "status": "状态",
    "severity": "严重程度",
    "required": "要求",
    "actual": "现状",
    "required_value": "要求值",
    "actual_value": "现状值",
    "shortfall": "缺口量",
    "shortfall_unit": "缺口单位",
    "detail": "说明",
    "clause": "规划条款",
    "verified": "已核实",
    "indicator_zh": "指标",
    "indicator_en": "指标（英文）",
    "target": "目标",
    "basis": "依据",
    "proposal_id": "建议编号",
    "community_id": "社区编号",
    "street": "街道",
    "serves": "服务户数",
    "public_spaces": "服务公共空间数",
    "moved_m": "可偏移距离（米）",
    "model": "模型",
    "minutes": "步行分钟",
    "mip_gap": "最优性差距",
    "weight": "需求量",
    "before": "现状覆盖",
    "after": "建设后覆盖",
    "share_before": "现状覆盖比例",
    "share_after": "建设后覆盖比例",
    "status_before": "建设前状态",
    "status_after": "建设后状态",
    "actual_before": "建设前现状",
    "actual_after": "建设后现状",
    "closed_by": "所需拟建设施",
}

_WORDS = {
    "gap": "缺口 gap",
    "met": "达标 met",
    "no data": "无数据 no data",
    "high": "高 high",
    "medium": "中 medium",
    "low": "低 low",
    "optimal": "已证最优 optimal",
    "time_limit": "限时最优解 time limit",
}
_SHARE = re.compile(r"^(hh_share_(\d+)min|share_before|share_after|mip_gap)$")
_COV = re.compile(r"^(cov|covpop)_(.+)_(\d+)min$")


def write_workbook(path: str | Path, sheets: Mapping[str, pd.DataFrame], *, headers: str = "zh") -> Path:
    """Write ``{sheet name: table}`` into one workbook (see the module text); returns the path."""
    if headers not in {"zh", "en"}:
        raise ValidationError(f"headers must be 'zh' (中文, with the English beneath) or 'en', got {headers!r}.")
    path = Path(path)
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, table in sheets.items():
            frame = table.reset_index() if not isinstance(table.index, pd.RangeIndex) else table.copy()
            shares = [c for c in frame.columns if _SHARE.match(str(c)) or _COV.match(str(c))]
            for col in ("status", "severity", "status_before", "status_after"):
                if col in frame:
                    frame[col] = frame[col].map(lambda v: _WORDS.get(v, v) if isinstance(v, str) else v)
            labels = [_header(str(c), headers) for c in frame.columns]
            frame.to_excel(writer, sheet_name=name[:31], index=False, header=labels)
            sheet = writer.sheets[name[:31]]
            for j, col in enumerate(frame.columns, start=1):
                width = min(max(len(labels[j - 1]), 8) + 2, 48)
                sheet.column_dimensions[sheet.cell(row=1, column=j).column_letter].width = width
                if col in shares:
                    for row in range(2, len(frame) + 2):
                        sheet.cell(row=row, column=j).number_format = "0.0%"
            sheet.freeze_panes = "B2"
    return path


def _header(col: str, headers: str) -> str:
    if headers == "en":
        return col
    share = re.match(r"^hh_share_(\d+)min$", col)
    if share:
        return f"{share[1]}分钟内户数比例\n{col}"
    cov = _COV.match(col)
    if cov:
        what = "户数" if cov[1] == "cov" else "人口"
        return f"{cov[2]} {cov[3]}分钟内{what}比例\n{col}"
    zh = HEADERS.get(col)
    return f"{zh}\n{col}" if zh else col
