"""CSV and Excel tables as planners have them: a title row or a two-row header above the data.

Chinese statistical sheets often start with a title (``达州市通川区公共服务设施统计表``, one
merged cell) and sometimes a two-row header (``坐标`` merged over ``经度 | 纬度``). Read with
the first row as header, every column is then ``Unnamed: n`` and the planner is told to pass
``columns=``, which cannot help. Here the header row is the first of the top rows holding at
least two known column names (经度, 纬度, 名称, 户数 …); a filled row just above it is a first
header row whose labels fill the gaps of the second. The row used is reported in a warning,
and ``header_row=`` (the row number as Excel shows it) chooses it by hand.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils import column_index_from_string, get_column_letter

from .._errors import DataFileError
from .._validate import SOURCE_ROWS, SourceRows
from .columns import header_score, names_a_feature

__all__ = ["read_sheet"]


#: Rows searched for the header.
_SEARCH_ROWS = 30
_ENCODINGS = ("utf-8-sig", "gb18030")


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    for enc in [encoding] if encoding else _ENCODINGS:
        try:
            return raw.decode(enc).lstrip("\ufeff")  # the GB18030 byte-order mark decodes to U+FEFF
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise DataFileError(
                f"{path}: unknown text encoding {encoding!r}. Pass encoding='gb18030' or 'utf-8'."
            ) from None
    raise DataFileError(
        f"{path}: the text is neither UTF-8 nor GBK/GB18030"
        + (f" (encoding={encoding!r} does not fit either)" if encoding else "")
        + ". Save it as UTF-8 CSV, or pass encoding=...."
    )


def _delimiter(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    sample = [line for line in text.splitlines()[:_SEARCH_ROWS] if line.strip()]
    counts = {d: sum(line.count(d) for line in sample) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best]:
        return best
    # A full-width comma typed in a Chinese input method, and no ASCII separator at all.
    return "，" if any("，" in line for line in sample) else ","


def _text_rows(path: Path, encoding: str | None, suffix: str) -> list[list[object]]:
    raw = path.read_bytes()
    text = _decode(path, raw, encoding)
    if not text.strip():
        raise DataFileError(
            f"{path}: the file is empty (空文件). Export the table again with a header row "
            "(e.g. 名称,经度,纬度) and one row per feature."
        )
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text, suffix)))
    except csv.Error as exc:
        raise DataFileError(f"{path}: cannot read the table ({exc}). Check that it opens in Excel/WPS.") from None
    return [[c if c != "" else None for c in row] for row in rows]


def _sheet_rows(ws) -> list[list[object]]:
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # WPS and others write a wrong sheet size; read every cell there is
    return [[None if c is None or c == "" else c for c in row] for row in ws.iter_rows(values_only=True)]


def _table_sheet(path: Path, tables: dict[str, list[list[object]]]) -> str:
    """The one sheet holding a table (a row of >= 2 known column names); several are an error."""
    found = [name for name, rows in tables.items() if max(map(header_score, rows[:_SEARCH_ROWS]), default=0) >= 2]
    if len(found) > 1:
        raise DataFileError(
            f"{path}: {len(found)} sheets hold tables {found} (多个工作表); only one would be read. Pass "
            f"layer='{found[0]}' to choose one, or put all rows on one sheet."
        )
    first = next(iter(tables))
    if found and found[0] != first:
        warnings.warn(
            f"{path}: read sheet {found[0]!r}, the only one with column names (not the first sheet {first!r}). "
            "Pass layer=... to choose another.",
            UserWarning,
            stacklevel=5,
        )
    return found[0] if found else first


#: Rows of an Excel table, and its formula cells without a saved value (Excel row → column numbers).
_Rows = tuple[list[list[object]], dict[int, list[int]]]

#: A formula cell with no saved value (``<f>…</f><v/>``): written by a program, never calculated in Excel/WPS.
_UNCACHED = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>\s*<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)'
    rb"\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)


def _uncached_formulas(path: Path, ws) -> dict[int, list[int]]:
    """The sheet's formula cells that have no saved value, read from its XML.

    openpyxl's ``data_only`` gives such a cell as empty, which would be reported as a value to
    fill in; the XML tells a formula apart at no cost of a second pass over the cells.
    """
    member = getattr(ws, "_worksheet_path", None)
    if not member:
        return {}
    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read(member.lstrip("/"))
    except KeyError:  # a workbook whose parts are named unusually: no check rather than no table
        return {}
    found: dict[int, list[int]] = {}
    for col, row in _UNCACHED.findall(xml):
        found.setdefault(int(row), []).append(column_index_from_string(col.decode()))
    return found


def _xlsx_rows(path: Path, layer: str | int | None) -> _Rows:
    # openpyxl directly, not pandas: pandas turns Excel's error cells (#N/A, #VALUE! ...) into
    # empty cells without a word; here they stay visible and are reported with their rows.
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        sheets = wb.sheetnames
        if isinstance(layer, str) and layer not in sheets:
            raise DataFileError(f"{path}: Worksheet named {layer!r} not found; pass layer=... with one of {sheets}.")
        if isinstance(layer, int) and not -len(sheets) <= layer < len(sheets):
            raise DataFileError(
                f"{path}: layer={layer} but the workbook has {len(sheets)} sheet(s) {sheets}; pass layer=...."
            )
        if layer is not None:
            ws = wb[layer] if isinstance(layer, str) else wb.worksheets[layer]
            return _sheet_rows(ws), _uncached_formulas(path, ws)
        tables = {ws.title: _sheet_rows(ws) for ws in wb.worksheets}
        title = _table_sheet(path, tables)
        return tables[title], _uncached_formulas(path, wb[title])
    finally:
        wb.close()


def _excel_rows(path: Path, layer: str | int | None) -> _Rows:
    try:
        if path.suffix.lower() == ".xlsx":
            return _xlsx_rows(path, layer)
        raw = pd.read_excel(
            path,
            sheet_name=0 if layer is None else layer,
            header=None,
            dtype=object,
            keep_default_na=False,
            na_values=[""],
        )
    except DataFileError:
        raise  # already says what is wrong (e.g. several sheets); it is a ValueError, not to be wrapped again
    except ImportError as exc:  # e.g. old binary .xls needs python-calamine or xlrd
        raise DataFileError(
            f"{path}: cannot read this Excel format ({exc}). Open it in Excel/WPS and save it as "
            ".xlsx (Excel 工作簿) or CSV UTF-8."
        ) from None
    except (ValueError, KeyError, OSError, IndexError, zipfile.BadZipFile) as exc:
        raise DataFileError(
            f"{path}: cannot read the table ({exc}). Check that it opens in Excel/WPS, and that "
            "layer=... names an existing sheet."
        ) from None
    return [[None if pd.isna(c) or c == "" else c for c in row] for row in raw.itertuples(index=False)], {}


def _filled(row: list[object]) -> list[object]:
    return [c for c in row if c is not None and str(c).strip()]


def _header_at(rows: list[list[object]], header_row: int | None, where: str) -> int:
    if header_row is not None:
        if not (isinstance(header_row, int) and 1 <= header_row <= len(rows)):
            raise DataFileError(
                f"{where}: header_row={header_row!r} is not a row of the table (1 to {len(rows)}). "
                "Pass the row number Excel shows."
            )
        return header_row - 1
    scores = [header_score([str(c).strip() if c is not None else None for c in row]) for row in rows[:_SEARCH_ROWS]]
    first = next(i for i, row in enumerate(rows) if _filled(row))
    best = max(scores, default=0)
    if best < 2 or scores[first] >= best:
        return first
    return scores.index(best)


def _is_header(row: list[object]) -> bool:
    """A row whose filled cells are all known column names (the lower row of a two-row header)."""
    cells = [str(c).strip() for c in _filled(row)]
    return bool(cells) and header_score(cells) == len(cells)


def _header_names(rows: list[list[object]], at: int, detect: bool) -> tuple[list[object], int, tuple[int, int]]:
    """Column names, first data row and the header rows (first, last), merging a two-row header.

    Merged cells keep their text in their first cell only: ``坐标`` over ``经度 | 纬度`` leaves
    the gaps of one row to be filled from the other.
    """
    width = max(len(r) for r in rows)
    names = [rows[at][j] if j < len(rows[at]) else None for j in range(width)]
    lower = rows[at + 1] if at + 1 < len(rows) else []
    upper = rows[at - 1] if at > 0 else []
    if detect and _is_header(lower):
        merged = [lower[j] if j < len(lower) and lower[j] is not None else n for j, n in enumerate(names)]
        return merged, at + 2, (at, at + 1)
    if detect and len(_filled(upper)) >= 2:
        merged = [n if n is not None else (upper[j] if j < len(upper) else None) for j, n in enumerate(names)]
        return merged, at + 1, (at - 1, at)
    return names, at + 1, (at, at)


def read_sheet(
    path: Path, suffix: str, *, layer: str | int | None, encoding: str | None, header_row: int | None = None
) -> pd.DataFrame:
    """The table in a CSV/TSV/text or Excel file, its header row found below any title rows."""
    where = str(path)
    text = suffix not in {".xlsx", ".xls"}
    rows, formulas = (_text_rows(path, encoding, suffix), {}) if text else _excel_rows(path, layer)
    if not any(_filled(r) for r in rows):
        raise DataFileError(
            f"{where}: the file is empty (空文件). Export the table again with a header row "
            "(e.g. 名称,经度,纬度) and one row per feature."
        )
    at = _header_at(rows, header_row, where)
    names, start, span = _header_names(rows, at, header_row is None)
    above = [r for r in rows[: span[0]] if _filled(r)]
    if header_row is None and (above or span[1] > span[0]):
        rows_txt = f"row {span[0] + 1}" if span[0] == span[1] else f"rows {span[0] + 1}-{span[1] + 1} (two header rows)"
        below = f", below the title {str(_filled(above[0])[0])[:40]!r}" if above else ""
        warnings.warn(
            f"{where}: the column names are on {rows_txt} (表头在第{span[0] + 1}行){below}; read the table from "
            "there. Pass header_row=... with the row number to use another row.",
            UserWarning,
            stacklevel=4,
        )
    width = len(names)
    last = max((j for j, n in enumerate(names) if n is not None), default=-1) if text else width - 1
    body, numbers = [], []
    for i, r in enumerate(rows[start:], start=start + 1):
        if not _filled(r):
            continue
        if text and any(c is not None for c in r[last + 1 :]):
            raise DataFileError(
                f"{where}: row {i} has more values than the header has columns ({len(r)} > {last + 1}); a "
                "separator inside a value (e.g. 1,200 without quotes?). Put such values in quotes, or fix the row."
            )
        body.append(r[: last + 1] + [None] * (last + 1 - len(r)))
        numbers.append(i)
    names = names[: last + 1]
    body, numbers = _without_totals(where, names, body, numbers)
    _no_uncached_formulas(where, formulas, numbers, last + 1)
    columns = _unique([str(n).strip() if n is not None else f"Unnamed: {j}" for j, n in enumerate(names)])
    df = pd.DataFrame(body, columns=columns, dtype=object)
    empty = [c for c, n in zip(columns, names, strict=True) if n is None and df[c].isna().all()]
    df = df.drop(columns=empty)
    # Blank and title rows are skipped, so "row 99" of the data can be line 104 in Excel: messages name that.
    df.attrs[SOURCE_ROWS] = SourceRows(numbers)
    return df


def _no_uncached_formulas(where: str, formulas: dict[int, list[int]], numbers: list[int], width: int) -> None:
    """Stop on table cells holding formulas without a saved value: their values are not in the file."""
    cells = [(r, c) for r in numbers for c in formulas.get(r, ()) if c <= width]
    if not cells:
        return
    shown = ", ".join(f"{get_column_letter(c)}{r}" for r, c in cells[:8])
    raise DataFileError(
        f"{where}: {len(cells)} cell(s) hold formulas without a saved value ({shown}"
        f"{' …' if len(cells) > 8 else ''}) (公式没有计算结果): the file was written by a program and never "
        "saved in Excel/WPS, so the values are not in it. Open the file in Excel or WPS, save it, and read it again."
    )


#: What a total or subtotal row says in its first or name column (compared without spaces, case or a colon).
_TOTAL_WORDS = {"合计", "总计", "小计", "total", "sum", "subtotal"}


def _is_total(cell: object) -> bool:
    """Whether a cell says this row is a total: ``合计``, ``总 计``, ``Total:``, ``小计：``.

    >>> [_is_total(c) for c in ("合 计", "Total：", "SUBTOTAL", "合计小区", 5)]
    [True, True, True, False, False]
    """
    if not isinstance(cell, str):
        return False
    return "".join(cell.split()).rstrip(":：").lower() in _TOTAL_WORDS


def _without_totals(
    where: str, names: list[object], body: list[list[object]], numbers: list[int]
) -> tuple[list[list[object]], list[int]]:
    """The data rows without total and subtotal rows (合计, 小计, Total), with a warning naming them.

    A 合计 row read as data is one more compound or facility holding the sum of all the others
    (its coordinates often filled down from the row above): it would silently double a
    community's households.
    """
    where_named = [j for j, n in enumerate(names) if j == 0 or names_a_feature(n)]
    totals = [k for k, r in enumerate(body) if any(_is_total(r[j]) for j in where_named) or _is_total(_filled(r)[0])]
    if not totals:
        return body, numbers
    shown = ", ".join(f"Excel row {numbers[k]} ({next(c for c in body[k] if _is_total(c))!r})" for k in totals[:5])
    more = f" and {len(totals) - 5} more" if len(totals) > 5 else ""
    warnings.warn(
        f"{where}: left out {len(totals)} total row(s) (合计行): {shown}{more}. A total is not a feature; "
        "delete such rows from the file to silence this warning.",
        UserWarning,
        stacklevel=4,
    )
    keep = set(range(len(body))) - set(totals)
    return [body[k] for k in sorted(keep)], [numbers[k] for k in sorted(keep)]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        out.append(n if k == 0 else f"{n}.{k}")
        seen[n] = k + 1
    return out
