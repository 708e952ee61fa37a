"""Standard column names and the names files use for them (社区编码, 户数, 经度 …)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import geopandas as gpd
import pandas as pd

from .._errors import ColumnError

__all__ = [
    "BELONGING_ALIASES",
    "COLUMN_ALIASES",
    "compound_columns",
    "expand_cut_name",
    "find_column",
    "header_score",
    "names_a_feature",
    "standardise",
]

#: Names a file may use for each standard column (compared ignoring case, spaces, _ and -).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "community_id": (
        "community_id",
        "社区编码",
        "社区代码",
        "社区编号",
        "居委会代码",
        "统计用区划代码",
        "区划代码",
        # The community a compound (or facility) belongs to, by code or by name: link_compounds takes both.
        "所属社区",
        "所属社区名称",
        "所属社区编码",
        "所属居委会",
    ),
    "compound_id": ("compound_id", "小区编码", "小区编号", "小区代码", "院落编号"),
    "facility_id": ("facility_id", "设施编码", "设施编号", "设施代码", "poi_id", "osm_id"),
    "name": ("name", "名称", "社区名称", "社区", "小区名称", "小区名", "设施名称", "单位名称", "mc"),
    "category": ("category", "类型", "类别", "设施类型", "设施类别", "分类", "type", "fclass"),
    "street": ("street", "街道", "乡镇", "街道名称", "乡镇名称", "所属街道", "街道乡镇", "township"),
    "district": ("district", "区县", "县区", "县市区", "所属区县", "行政区", "county"),
    "households": ("households", "户数", "总户数", "住户数", "居民户数", "hh", "dwellings"),
    "population": ("population", "人口", "常住人口", "人口数", "居民人数", "人数", "pop"),
    "area_m2": ("area_m2", "面积", "建筑面积", "面积m2", "面积平方米", "建筑面积m2", "floor_area"),
    "community_type": ("community_type", "社区类型", "社区类别", "type_zh"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "东经", "x"),
    "lat": ("lat", "latitude", "纬度", "北纬", "y"),
}


#: Aliases of community_id that name the community a feature *belongs to*: not the id of a community itself.
BELONGING_ALIASES = ("所属社区", "所属社区名称", "所属社区编码", "所属居委会")
#: Names of a community's name, which in a compound list also holding the compound's name are its community.
_COMMUNITY_NAMES = ("社区名称", "社区")


def _norm(name: object) -> str:
    return re.sub(r"[\s_\-()（）²]+", "", str(name)).lower()


#: A unit or note in brackets at the end of a column name: 户数（户）, 面积(m²), 人口【人】, 面积[平方米].
_TRAILING_BRACKETS = re.compile(r"\s*[(（【\[][^()（）【】\[\]]*[)）】\]]\s*$")


def _unit_stripped(name: object) -> str:
    """``name`` without a bracketed unit at its end (户数（户） → 户数); ``_norm`` alone keeps the unit (户数户).

    >>> _unit_stripped("建筑面积（平方米）"), _unit_stripped("面积(m²)"), _unit_stripped("小区名称")
    ('建筑面积', '面积', '小区名称')
    """
    return _TRAILING_BRACKETS.sub("", str(name))


def _known_names() -> set[str]:
    return {_norm(a) for aliases in COLUMN_ALIASES.values() for a in aliases}


def expand_cut_name(name: str) -> str | None:
    """The alias a field name cut short by the 10-byte DBF limit stands for, when only one standard fits.

    >>> expand_cut_name("社区编")  # 社区编码 / 社区编号, both community_id
    '社区编码'
    >>> expand_cut_name("社区") is None  # an alias itself
    True
    """
    key = _norm(name)
    if not key or any(_norm(a) == key for aliases in COLUMN_ALIASES.values() for a in aliases):
        return None
    fits = {std: a for std, aliases in COLUMN_ALIASES.items() for a in reversed(aliases) if _norm(a).startswith(key)}
    return next(iter(fits.values())) if len(fits) == 1 else None


def names_a_feature(name: object) -> bool:
    """Whether a column name is an id or name column (小区名称, 设施编号, 社区编码 …), where a 合计 row says 合计."""
    wanted = {_norm(a) for std in ("name", "compound_id", "facility_id", "community_id") for a in COLUMN_ALIASES[std]}
    return isinstance(name, str) and (_norm(name) in wanted or _norm(_unit_stripped(name)) in wanted)


def header_score(cells: Sequence[object]) -> int:
    """How many cells of a row are known column names (经度, 户数, name …): a header row scores 2 or more."""
    known = _known_names()
    return sum(1 for c in cells if isinstance(c, str) and (_norm(c) in known or _norm(_unit_stripped(c)) in known))


def find_column(
    df: pd.DataFrame, standard: str, where: str, columns: Mapping[str, str], ignore: Sequence[str] = ()
) -> str | None:
    """The file's column for a standard one: named in ``columns``, else found by its aliases (None: absent).

    ``ignore`` lists aliases that do not count here (e.g. 所属社区 in a community layer).
    """
    if standard in columns:
        col = columns[standard]
        if col not in df.columns:
            raise ColumnError(
                f"{where}: columns={{'{standard}': '{col}'}} names a column that is not in the file. "
                f"Columns present: {[str(c) for c in df.columns if c != 'geometry']}. Use one of "
                "these names exactly as written."
            )
        return col
    wanted = {_norm(a) for a in COLUMN_ALIASES[standard]} - {_norm(a) for a in ignore}
    hits = [c for c in df.columns if c != "geometry" and _norm(c) in wanted]
    if not hits:
        # 户数（户）: tried again without the unit, but only for names that are no alias as written, so
        # 面积(m2) (an alias, area_m2) and a column that is exactly 户数 keep their meaning.
        known = _known_names()
        hits = [
            c for c in df.columns if c != "geometry" and _norm(c) not in known and _norm(_unit_stripped(c)) in wanted
        ]
    if len(hits) > 1:
        raise ColumnError(
            f"{where}: several columns could be {standard!r}: {hits} (字段不明确). "
            f"Pass columns={{'{standard}': '{hits[0]}'}} to say which one to use."
        )
    return hits[0] if hits else None


def standardise(
    gdf: gpd.GeoDataFrame,
    standards: list[str],
    where: str,
    columns: Mapping[str, str],
    ignore: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """``gdf`` with its columns renamed to the standard names; ambiguous or unknown names are a ColumnError.

    ``ignore`` lists aliases that do not count for this layer (see :func:`find_column`).
    """
    unknown = set(columns) - set(COLUMN_ALIASES)
    if unknown:
        raise ColumnError(
            f"{where}: columns= has unknown standard name(s) {sorted(unknown)}; known: {sorted(COLUMN_ALIASES)}."
        )
    rename = {}
    for std in standards:
        col = find_column(gdf, std, where, columns, ignore)
        if col is not None and col != std:
            if std in gdf.columns:
                raise ColumnError(
                    f"{where}: both {std!r} and {col!r} are present; pass columns={{'{std}': ...}} "
                    "to say which one to use."
                )
            rename[col] = std
    return gdf.rename(columns=rename)


def compound_columns(df: pd.DataFrame, where: str, columns: Mapping[str, str]) -> dict[str, str]:
    """``columns`` for a compound list, which names both the compound and its community.

    小区名称 and 社区名称 (or 社区) are both aliases of ``name``, which would be ambiguous: the
    compound's own name is ``name``, and the community's name becomes ``community_id`` when the
    list has no community code column (link_compounds matches it by name). A community code
    column beside 所属社区 is the one used: a code links more surely than a name.
    """
    out = dict(columns)
    if "community_id" not in out:
        code = find_column(df, "community_id", where, out, ignore=BELONGING_ALIASES)
        if code is not None:
            out["community_id"] = code
    has_community = "community_id" in out or find_column(df, "community_id", where, out) is not None
    keys = {_norm(a) for a in _COMMUNITY_NAMES}
    community = [c for c in df.columns if _norm(c) in keys]
    wanted = {_norm(a) for a in COLUMN_ALIASES["name"]}
    own = [c for c in df.columns if c != "geometry" and _norm(c) in wanted and c not in community]
    if "name" not in out and len(community) == 1 and len(own) == 1:
        out["name"] = str(own[0])
        if not has_community:
            out["community_id"] = str(community[0])
    return out
