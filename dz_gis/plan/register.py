"""Check a community layer against the 2023 statistical register and the plan's Table 1.

A planner's community layer (社区 polygons or points from a survey, a CAD drawing or a
street office) rarely uses the official names and codes. :func:`reconcile_register` matches
it to the 国家统计局 2023 register shipped in ``data/boundaries/dazhou_register_2023.csv``
(rebuilt by ``scripts/build_dazhou_data.py``) and reports what matched, what is missing,
what the register does not know, and how the counts compare with the plan's Table 1 (2020).

Communities are the register's 居民委员会 (level ``社区``, 620 in 2023). Names such as
"…农村社区村民委员会" are village committees (level ``村``) and are not matched.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import pandas as pd

from .._errors import DataFileError, ValidationError
from .._validate import require_columns, require_nonempty
from ..datasets.files import data_dir

__all__ = [
    "default_register_path",
    "PLAN_TABLE1",
    "Table1Row",
    "RegisterReport",
    "normalise_name",
    "plan_table1",
    "read_register",
    "reconcile_register",
]

logger = logging.getLogger(__name__)


def default_register_path() -> Path:
    """The Dazhou 2023 register shipped in ``data/boundaries``."""
    return data_dir() / "boundaries" / "dazhou_register_2023.csv"


REGISTER_COLUMNS = (
    "code",
    "name",
    "level",
    "district_code",
    "district_name",
    "street_code",
    "street_name",
)


class Table1Row(NamedTuple):
    """Communities at the end of 2020: total, urban (城市社区) and town (城镇社区)."""

    total: int
    urban: int
    town: int


#: The plan's Table 1 (end of 2020) per district; 621 = 226 urban + 395 town.
PLAN_TABLE1 = MappingProxyType(
    {
        "通川区": Table1Row(104, 72, 32),
        "达川区": Table1Row(106, 31, 75),
        "万源市": Table1Row(49, 20, 29),
        "宣汉县": Table1Row(81, 13, 68),
        "大竹县": Table1Row(89, 34, 55),
        "渠县": Table1Row(149, 35, 114),
        "开江县": Table1Row(37, 18, 19),
        "高新区": Table1Row(6, 3, 3),
    }
)
_DISTRICT_CODES = MappingProxyType(
    {
        "通川区": "511702",
        "达川区": "511703",
        "宣汉县": "511722",
        "开江县": "511723",
        "大竹县": "511724",
        "渠县": "511725",
        "万源市": "511781",
    }
)
_NOTES = {
    "达川区": "2023 count = Table 1 达川 106 + 高新区 6 = 112 (高新区 has no own code in 2023)",
    "高新区": "高新区 2023 名册无单独代码 has no separate code in the 2023 register: its "
    "communities are counted under their county (达川区 +6 fits)",
}
# Longest first, applied repeatedly: "岩门村社区村民委员会" -> "岩门村社区" -> "岩门村".
_SUFFIXES = ("社区居民委员会", "村民委员会", "居民委员会", "居委会", "村委会", "社区")
_CODE12 = re.compile(r"\d{12}")


def plan_table1() -> pd.DataFrame:
    """Return the plan's Table 1 as a DataFrame.

    Returns
    -------
    pandas.DataFrame
        Columns ``district_name``, ``district_code`` (empty for 高新区), ``total``,
        ``urban``, ``town``; one row per district in the plan's order.

    Examples
    --------
    >>> t = plan_table1()
    >>> int(t["total"].sum()), int(t["urban"].sum()), int(t["town"].sum())
    (621, 226, 395)
    """
    rows = [
        {"district_name": name, "district_code": _DISTRICT_CODES.get(name, ""), **row._asdict()}
        for name, row in PLAN_TABLE1.items()
    ]
    return pd.DataFrame(rows)


def normalise_name(name: object) -> str:
    """Reduce a community name to the part that identifies it.

    Full-width characters become half-width, whitespace goes, and the suffixes
    社区居民委员会 / 居民委员会 / 居委会 / 村民委员会 / 村委会 / 社区 are removed.

    Examples
    --------
    >>> normalise_name("二马路社区居民委员会"), normalise_name(" 二马路　社区 ")
    ('二马路', '二马路')
    """
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name)))
    stripped = True
    while stripped:
        stripped = False
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, stripped = text[: -len(suffix)], True
                break
    return text


def read_register(path: str | Path | None = None) -> pd.DataFrame:
    """Read the Dazhou 2023 statistical register (counties, streets, villages).

    Parameters
    ----------
    path
        The CSV written by ``scripts/build_dazhou_data.py``; defaults to the copy shipped
        in ``data/boundaries/dazhou_register_2023.csv``.

    Returns
    -------
    pandas.DataFrame
        All columns as text: ``code``, ``name``, ``level`` (区县 / 街道 / 镇 / 乡 / 社区 / 村),
        ``district_code``, ``district_name``, ``street_code``, ``street_name``.

    Raises
    ------
    DataFileError
        If the file is missing or lacks the register columns.

    Examples
    --------
    >>> reg = read_register()
    >>> int((reg["level"] == "社区").sum())
    620
    """
    path = Path(path) if path is not None else default_register_path()
    shipped = path.resolve() == default_register_path().resolve()
    fix = (
        "In a source checkout rebuild it with `python scripts/build_dazhou_data.py`; an installed dz_gis "
        "carries it, so reinstall it (or unset DZ_GIS_DATA)."
        if shipped
        else f"Check the path (a rules file's register: is read next to the rules file), or make the CSV "
        f"with the columns {', '.join(REGISTER_COLUMNS)}."
    )
    if not path.is_file():
        raise DataFileError(f"Register file not found: {path} (找不到区划名册). {fix}")
    reg = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in REGISTER_COLUMNS if c not in reg.columns]
    if missing:
        raise DataFileError(f"{path}: not a register file, missing column(s) {missing}. {fix}")
    return reg


@dataclass(frozen=True, eq=False)
class RegisterReport:
    """Result of :func:`reconcile_register`.

    Attributes
    ----------
    matched
        One row per matched layer row: ``row`` (layer index), ``layer_name``, the register
        ``code``, ``name``, ``district_code``, ``district_name``, ``street_code``,
        ``street_name`` and ``match_by`` (``code``, ``name`` or ``name+district``).
    missing
        Register communities that no layer row matched.
    unknown
        Layer rows not in the register, with the closest register name as a hint
        (``hint_name``, ``hint_code``, ``hint_level``, ``hint_district``, ``hint_score``).
    ambiguous
        Layer rows whose name fits communities in several districts, with the candidates.
    by_district
        Per district: ``register_2023``, ``layer_matched``, Table 1 ``plan_2020_total`` /
        ``plan_2020_urban`` / ``plan_2020_town``, ``register_minus_2020`` and a ``note``;
        the last row is the total.
    """

    matched: pd.DataFrame
    missing: pd.DataFrame
    unknown: pd.DataFrame
    ambiguous: pd.DataFrame
    by_district: pd.DataFrame

    def summary(self) -> str:
        """Return a short bilingual text summary (no printing)."""
        by = self.matched["match_by"].value_counts() if len(self.matched) else pd.Series()
        total = self.by_district.iloc[-1]
        layer_rows = len(self.matched) + len(self.unknown) + len(self.ambiguous)
        return "\n".join(
            [
                f"社区名册核对 Register check (NBS 2023, {int(total['register_2023'])} 社区)",
                f"  图层社区 Layer rows: {layer_rows}",
                f"  已匹配 Matched: {len(self.matched)} (by code {int(by.get('code', 0))}, "
                f"by name {int(by.get('name', 0)) + int(by.get('name+district', 0))})",
                f"  图层缺失 Missing from layer: {len(self.missing)}",
                f"  名册无此社区 Unknown to register: {len(self.unknown)}",
                f"  重名待定 Ambiguous names: {len(self.ambiguous)}",
                f"  规划表1 Plan Table 1 (2020): {int(total['plan_2020_total'])} "
                f"(urban {int(total['plan_2020_urban'])}, town {int(total['plan_2020_town'])})",
            ]
        )


def _code_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _district_lookup(register: pd.DataFrame) -> dict[str, str]:
    # From the district columns, so that a register cut down to 社区 rows still works.
    counties = register[["district_code", "district_name"]].drop_duplicates()
    lookup: dict[str, str] = {}
    for code, name in zip(counties["district_code"], counties["district_name"], strict=True):
        lookup[code] = code
        lookup[name] = code
        if len(name) > 2:  # 通川区 -> 通川; 渠县 stays 渠县
            lookup[name[:-1]] = code
    return lookup


def _hint(key: str, villages: pd.DataFrame, keys: list[str], district: str) -> dict[str, object]:
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.5)
    if not key or not close:
        return {
            "hint_code": "",
            "hint_name": "",
            "hint_level": "",
            "hint_district": "",
            "hint_score": float("nan"),
        }
    rows = villages[villages["key"] == close[0]]
    # Prefer a candidate in the layer row's own district, then a 社区 over a 村.
    order = (rows["district_code"] != district).astype(int) * 2 + (rows["level"] != "社区")
    best = rows.loc[order.sort_values(kind="stable").index[0]]
    return {
        "hint_code": best["code"],
        "hint_name": best["name"],
        "hint_level": best["level"],
        "hint_district": best["district_name"],
        "hint_score": round(difflib.SequenceMatcher(None, key, close[0]).ratio(), 2),
    }


def _by_district(register: pd.DataFrame, matched: pd.DataFrame) -> pd.DataFrame:
    comm = register[register["level"] == "社区"]
    reg_n = comm.groupby("district_code").size()
    layer_n = matched.drop_duplicates("code").groupby("district_code").size()
    rows = []
    for name, plan in PLAN_TABLE1.items():
        code = _DISTRICT_CODES.get(name)
        rows.append(
            {
                "district_code": code or "",
                "district_name": name,
                "register_2023": int(reg_n.get(code, 0)) if code else pd.NA,
                "layer_matched": int(layer_n.get(code, 0)) if code else pd.NA,
                "plan_2020_total": plan.total,
                "plan_2020_urban": plan.urban,
                "plan_2020_town": plan.town,
                "note": _NOTES.get(name, ""),
            }
        )
    out = pd.DataFrame(rows)
    total = {
        "district_code": "5117",
        "district_name": "合计 Total",
        "register_2023": len(comm),
        "layer_matched": matched["code"].nunique(),
        "note": "",
    }
    for col in ("plan_2020_total", "plan_2020_urban", "plan_2020_town"):
        total[col] = int(out[col].sum())
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    for col in ("register_2023", "layer_matched", "plan_2020_total", "plan_2020_urban", "plan_2020_town"):
        out[col] = out[col].astype("Int64")
    out["register_minus_2020"] = out["register_2023"] - out["plan_2020_total"]
    return out[
        [
            "district_code",
            "district_name",
            "register_2023",
            "layer_matched",
            "plan_2020_total",
            "plan_2020_urban",
            "plan_2020_town",
            "register_minus_2020",
            "note",
        ]
    ]


_REG_COLS = ("code", "name", "district_code", "district_name", "street_code", "street_name")


class _Matcher:
    """Finds a layer row's community in the register: by code, then by name (and district)."""

    def __init__(self, register: pd.DataFrame) -> None:
        villages = register[register["level"].isin(["社区", "村"])].copy()
        villages["key"] = villages["name"].map(normalise_name)
        self.villages = villages
        self.comm = villages[villages["level"] == "社区"]
        if self.comm.empty:
            raise ValidationError(
                "register (名册): no rows with level '社区'. Use dz_gis.plan.read_register() to load it."
            )
        self.codes = set(self.comm["code"])
        self.keys = villages["key"].unique().tolist()
        self.by_key = self.comm.groupby("key")
        self.districts = _district_lookup(register)

    def match(self, layer_name: object, code: str, district_text: str) -> tuple[str, dict]:
        """``("matched" | "ambiguous" | "unknown", the columns of that table)``."""
        cols = list(_REG_COLS)
        if _CODE12.fullmatch(code) and code in self.codes:
            return "matched", {**self.comm.loc[self.comm["code"] == code, cols].iloc[0], "match_by": "code"}
        key = normalise_name(layer_name)
        text = unicodedata.normalize("NFKC", district_text)
        district = self.districts.get(re.sub(r"\s+", "", text), "") if district_text else ""
        cands = self.by_key.get_group(key) if key in self.by_key.groups else self.comm.iloc[0:0]
        how = "name" if len(cands) == 1 else "name+district"
        if district:  # a given district is a constraint, also for a unique name
            cands = cands[cands["district_code"] == district]
        if len(cands) == 1:
            return "matched", {**cands[cols].iloc[0], "match_by": how}
        if len(cands) > 1:
            return "ambiguous", {
                "n_candidates": len(cands),
                "candidate_codes": ";".join(cands["code"]),
                "candidates": "; ".join(
                    cands["name"] + " (" + cands["district_name"] + " " + cands["street_name"] + ")"
                ),
            }
        return "unknown", {"layer_code": code, **_hint(key, self.villages, self.keys, district)}


def reconcile_register(
    communities: pd.DataFrame,
    register: pd.DataFrame | None = None,
    *,
    name_column: str = "name",
    code_column: str | None = "community_id",
    district_column: str | None = None,
) -> RegisterReport:
    """Match a community layer to the 2023 register's 社区 (居民委员会) rows.

    A row is matched by its 12-digit statistical code when ``code_column`` holds one that
    the register lists as a community, otherwise by normalised name (see
    :func:`normalise_name`). A name shared by communities in several districts is
    resolved with ``district_column`` when given, else reported as ambiguous. A given
    district is a constraint: a name found only in another district is reported unknown.

    Parameters
    ----------
    communities
        The community layer, a DataFrame or GeoDataFrame (geometry is not used).
    register
        The register from :func:`read_register`; read from the shipped file when None.
    name_column
        Column with community names (e.g. "二马路社区").
    code_column
        Column with 12-digit codes (e.g. "511702001001"); ignored when absent.
    district_column
        Column with the district name ("通川区" or "通川") or 6-digit code.

    Returns
    -------
    RegisterReport
        ``matched``, ``missing``, ``unknown``, ``ambiguous`` and ``by_district`` tables.

    Raises
    ------
    ColumnError
        If ``name_column`` or ``district_column`` is not in the layer.
    ValidationError
        If the layer is empty or the register has no 社区 rows.

    Examples
    --------
    >>> layer = pd.DataFrame({"name": ["二马路社区", "不存在社区"]})
    >>> report = reconcile_register(layer)
    >>> len(report.matched), len(report.unknown), len(report.missing)
    (1, 1, 619)
    """
    where = "community layer (社区图层)"
    require_nonempty(communities, where)
    require_columns(
        communities,
        [name_column],
        where,
        hint=f"Pass name_column='<your name column>' instead of {name_column!r}.",
    )
    if district_column is not None:
        require_columns(
            communities,
            [district_column],
            where,
            hint="Pass district_column=None to match without districts.",
        )
    if register is None:
        register = read_register()
    require_columns(
        register,
        list(REGISTER_COLUMNS),
        "register (名册)",
        hint="Use dz_gis.plan.read_register() to load it.",
    )
    register = register.astype({c: str for c in REGISTER_COLUMNS})

    matcher = _Matcher(register)
    has_codes = code_column is not None and code_column in communities.columns
    found: dict[str, list[dict]] = {"matched": [], "unknown": [], "ambiguous": []}
    for label, row in communities.iterrows():
        code = _code_text(row[code_column]) if has_codes else ""
        district = _code_text(row[district_column]) if district_column is not None else ""
        outcome, record = matcher.match(row[name_column], code, district)
        found[outcome].append({"row": label, "layer_name": row[name_column], **record})
    matched, unknown, ambiguous = found["matched"], found["unknown"], found["ambiguous"]
    reg_cols = list(_REG_COLS)

    matched_df = pd.DataFrame(matched, columns=["row", "layer_name", *reg_cols, "match_by"])
    dup = matched_df["code"].duplicated(keep=False)
    if dup.any():
        logger.warning(
            "%d layer rows share a register community: %s",
            int(dup.sum()),
            sorted(set(matched_df.loc[dup, "code"]))[:8],
        )
    comm = matcher.comm
    missing = comm.loc[~comm["code"].isin(matched_df["code"]), reg_cols].reset_index(drop=True)
    report = RegisterReport(
        matched=matched_df,
        missing=missing,
        unknown=pd.DataFrame(
            unknown,
            columns=[
                "row",
                "layer_name",
                "layer_code",
                "hint_code",
                "hint_name",
                "hint_level",
                "hint_district",
                "hint_score",
            ],
        ),
        ambiguous=pd.DataFrame(
            ambiguous, columns=["row", "layer_name", "n_candidates", "candidate_codes", "candidates"]
        ),
        by_district=_by_district(register, matched_df),
    )
    logger.info(
        "register check: %d matched, %d missing, %d unknown, %d ambiguous",
        len(report.matched),
        len(report.missing),
        len(report.unknown),
        len(report.ambiguous),
    )
    return report
