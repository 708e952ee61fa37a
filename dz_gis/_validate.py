"""Checks run at every public entry point; each raises a DzGisError that a planner can act on."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import ColumnError, CRSError, GeometryError, ValidationError

__all__ = [
    "require_crs",
    "require_projected",
    "require_columns",
    "require_nonempty",
    "require_valid_geometry",
    "require_geometry_types",
    "require_unique",
    "require_nonnegative_numbers",
    "feature_labels",
    "row_label",
    "SOURCE_ROWS",
    "SourceRows",
]


#: ``DataFrame.attrs`` key: the row numbers a table's rows have in Excel/WPS (header, title and
#: blank rows counted), a :class:`SourceRows` set by :mod:`dz_gis.io` when it reads a CSV or Excel table.
SOURCE_ROWS = "dz_gis_source_rows"


class SourceRows:
    """The Excel row numbers of a table's rows, as kept in ``DataFrame.attrs``.

    Compared by identity and never copied: pandas compares the attrs of frames it concatenates
    (``==``, which an array answers element-wise) and deep-copies them, so a bare array breaks
    ``pd.concat`` and a copy would cost a table's size per operation. Frames combined from
    several tables get no row numbers, and their messages count rows from 1.
    """

    __slots__ = ("numbers",)

    def __init__(self, numbers: Sequence[int] | np.ndarray) -> None:
        self.numbers = np.asarray(numbers, dtype=np.int64)

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __deepcopy__(self, memo: dict) -> SourceRows:
        return self


def row_label(df: pd.DataFrame, pos: int | np.integer) -> str:
    """``row 3`` (the 3rd feature), or ``Excel row 5`` for a layer read from a table.

    >>> df = pd.DataFrame({"name": ["甲", "乙"]})
    >>> row_label(df, 1)
    'row 2'
    >>> df.attrs[SOURCE_ROWS] = SourceRows([3, 5])
    >>> row_label(df, 1)
    'Excel row 5'
    """
    rows = df.attrs.get(SOURCE_ROWS)
    if isinstance(rows, SourceRows) and len(rows.numbers) == len(df):  # no row dropped since it was read
        return f"Excel row {rows.numbers[pos]}"
    return f"row {pos + 1}"


def feature_labels(gdf: pd.DataFrame, rows: Iterable[int | np.integer], id_column: str | None = None) -> str:
    """Describe up to 8 features by row number (as Excel shows it, for a table) and id or name where present."""
    rows = list(rows)
    parts = []
    for pos in rows[:8]:
        label = row_label(gdf, pos)
        for col in (id_column, "name"):
            if col and col in gdf.columns:
                val = gdf[col].iloc[pos]
                if pd.notna(val):
                    label += f" {col}={val!r}"
                    break
        parts.append(label)
    more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
    return "; ".join(parts) + more


def require_crs(gdf: gpd.GeoDataFrame, where: str) -> None:
    """Raise CRSError if the layer has no CRS."""
    if gdf.crs is None:
        raise CRSError(
            f"{where}: the data has no coordinate reference system (缺少坐标系). "
            "Add a .prj file / define the CRS in your GIS, or pass crs=... "
            "(e.g. crs='EPSG:4490' for CGCS2000 lon/lat, 'EPSG:4545' for CGCS2000 GK CM 108E)."
        )


def require_projected(gdf: gpd.GeoDataFrame, where: str) -> None:
    """Raise CRSError unless the layer is in a projected (metric) CRS."""
    require_crs(gdf, where)
    if not gdf.crs.is_projected:
        raise CRSError(
            f"{where}: distances need a projected CRS in metres, but the data is in "
            f"{gdf.crs.name} (degrees). Reproject first, e.g. gdf.to_crs(dz_gis.metric_crs_for(lon, lat))."
        )


def require_columns(df: pd.DataFrame, columns: Sequence[str], where: str, hint: str = "") -> None:
    """Raise ColumnError naming missing and present columns."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        present = [str(c) for c in df.columns if c != "geometry"]
        raise ColumnError(
            f"{where}: missing column(s) {missing} (缺少字段). Columns present: {present}. "
            + (hint or "Rename the column in the file or pass columns={'standard_name': 'your column'}.")
        )


def require_nonempty(df: pd.DataFrame, where: str) -> None:
    """Raise ValidationError if the table has no rows."""
    if len(df) == 0:
        raise ValidationError(f"{where}: the layer has no features (空图层). Check the file and the layer name.")


def require_unique(df: pd.DataFrame, column: str, where: str) -> None:
    """Raise ValidationError listing duplicate values of ``column``."""
    dup = df[column][df[column].duplicated(keep=False) & df[column].notna()]
    if len(dup):
        values = sorted({str(v) for v in dup})[:8]
        raise ValidationError(
            f"{where}: column {column!r} must identify each feature, but {len(dup)} rows share "
            f"values {values} (编号重复). Give each feature its own id, or delete the id "
            "column to have ids assigned automatically."
        )


def require_nonnegative_numbers(df: pd.DataFrame, columns: Iterable[str], where: str) -> pd.DataFrame:
    """Return ``df`` with ``columns`` as floats; raise ColumnError on text or negative values.

    Empty cells become NaN ("no data"), never 0.
    """
    df = df.copy()
    for col in columns:
        if col not in df.columns:
            continue
        raw = df[col]
        if raw.dtype == object or pd.api.types.is_string_dtype(raw):
            # NFKC: full-width digits and commas (１，２００) as typed with a Chinese input method
            raw = raw.astype("string").str.normalize("NFKC").str.strip().str.replace(",", "", regex=False)
            raw = raw.replace("", pd.NA)
            raw = _excel_errors_as_missing(raw, col, where, df)
        num = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() & df[col].notna().to_numpy() & (raw.notna().to_numpy()))
        if len(bad):
            shown = ", ".join(f"{row_label(df, i)}: {df[col].iloc[i]!r}" for i in bad[:5])
            raise ColumnError(
                f"{where}: column {col!r} must hold numbers, but {len(bad)} value(s) are not "
                f"numeric ({shown}) (非数字). Fix those cells or leave them empty for 'no data'."
            )
        neg = np.flatnonzero((num < 0).fillna(False).to_numpy(dtype=bool))  # NA (nullable dtypes) is not < 0
        if len(neg):
            shown = ", ".join(f"{row_label(df, i)}: {num.iloc[i]}" for i in neg[:5])
            raise ColumnError(f"{where}: column {col!r} cannot be negative ({shown}) (不能为负数). Correct the values.")
        df[col] = num.astype(float)
    return df


#: Excel's error values; a cell holding one is "no data", and said so.
_EXCEL_ERRORS = r"#(?:N/A|VALUE!|REF!|DIV/0!|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)"


def _excel_errors_as_missing(raw: pd.Series, col: str, where: str, df: pd.DataFrame) -> pd.Series:
    errors = raw.str.fullmatch(_EXCEL_ERRORS, case=False).fillna(False).to_numpy(dtype=bool)
    if not errors.any():
        return raw
    rows = np.flatnonzero(errors)
    shown = ", ".join(f"{row_label(df, i)}: {raw.iloc[i]}" for i in rows[:5])
    warnings.warn(
        f"{where}: column {col!r} holds Excel error values in {len(rows)} row(s) ({shown}); they count as "
        "no data (无数据). Fix the formulas in Excel if these rows have values.",
        UserWarning,
        stacklevel=4,
    )
    return raw.mask(errors, pd.NA)


def require_geometry_types(
    gdf: gpd.GeoDataFrame, allowed: Sequence[str], where: str, id_column: str | None = None
) -> None:
    """Raise GeometryError if any geometry type is not in ``allowed``."""
    types = gdf.geom_type
    bad = np.flatnonzero(~types.isin(list(allowed)).to_numpy())
    if len(bad):
        found = sorted(set(types.iloc[bad].astype(str)))
        raise GeometryError(
            f"{where}: expected {'/'.join(allowed)} geometries but found {found} at "
            f"{feature_labels(gdf, bad, id_column)} (几何类型错误). "
            "Check that you passed the right layer (e.g. boundaries to read_communities, "
            "points to read_facilities)."
        )


def require_valid_geometry(gdf: gpd.GeoDataFrame, where: str, id_column: str | None = None) -> gpd.GeoDataFrame:
    """Reject null/empty geometries; repair invalid ones with make_valid and report each repair."""
    geoms = gdf.geometry.array
    null = np.flatnonzero(shapely.is_missing(geoms))
    if len(null):
        raise GeometryError(
            f"{where}: {len(null)} feature(s) have no geometry ({feature_labels(gdf, null, id_column)}) "
            "(缺少几何). Draw them or delete those rows."
        )
    empty = np.flatnonzero(shapely.is_empty(geoms))
    if len(empty):
        raise GeometryError(
            f"{where}: {len(empty)} feature(s) have an empty geometry "
            f"({feature_labels(gdf, empty, id_column)}) (空几何). Draw them or delete those rows."
        )
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if not len(invalid):
        return gdf
    gdf = gdf.copy()
    reasons = shapely.is_valid_reason(geoms[invalid])
    fixed = shapely.make_valid(geoms[invalid])
    polygonal = gdf.geom_type.iloc[invalid].isin(["Polygon", "MultiPolygon"]).to_numpy()
    for k, pos in enumerate(invalid):
        if polygonal[k]:
            # make_valid may return a collection with stray lines/points; keep the areas.
            parts = shapely.get_parts(fixed[k])
            parts = parts[shapely.get_type_id(parts) == 3]
            if len(parts) == 0 or shapely.area(shapely.union_all(parts)) == 0:
                raise GeometryError(
                    f"{where}: {feature_labels(gdf, [pos], id_column)} has an invalid polygon "
                    f"({reasons[k]}) that cannot be repaired into an area (无法修复的几何). "
                    "Redraw it in your GIS."
                )
            fixed[k] = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
    gdf.loc[gdf.index[invalid], gdf.geometry.name] = fixed
    detail = "; ".join(f"{feature_labels(gdf, [pos], id_column)}: {reasons[k]}" for k, pos in enumerate(invalid))
    warnings.warn(
        f"{where}: repaired {len(invalid)} invalid geometr{'y' if len(invalid) == 1 else 'ies'} "
        f"with make_valid (几何已修复): {detail}",
        UserWarning,
        stacklevel=3,
    )
    return gdf


def warn_duplicate_points(gdf: gpd.GeoDataFrame, id_column: str, where: str, *, tolerance_m: float = 1.0) -> None:
    """Warn about features listed twice: the same category and name (those the layer has) within ``tolerance_m``.

    A facility listed twice counts twice (floor area per 100 households doubles), a compound
    twice its households, so the planner is told which ids to check; nothing is dropped.
    """
    if len(gdf) < 2 or gdf.crs is None:
        return
    metric = gdf.to_crs(gdf.estimate_utm_crs()) if gdf.crs.is_geographic else gdf
    pts = shapely.point_on_surface(metric.geometry.array)
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=tolerance_m)
    keep = a < b
    for col in ("category", "name"):
        if col in gdf:
            values = gdf[col].astype(object).where(gdf[col].notna(), "").astype(str).to_numpy(dtype=object)
            keep &= values[a] == values[b]
    if not keep.any():
        return
    ids = gdf[id_column].astype(str).to_numpy() if id_column in gdf else gdf.index.astype(str).to_numpy()
    pairs = ", ".join(f"{ids[i]} = {ids[j]}" for i, j in zip(a[keep][:5], b[keep][:5], strict=True))
    same = " and ".join(c for c in ("category", "name") if c in gdf) or "place"
    warnings.warn(
        f"{where}: {int(keep.sum())} pair(s) of features look listed twice (same {same}, within "
        f"{tolerance_m:g} m): {pairs}. Each counts (households and floor areas add up); delete the copies if "
        "they are one place.",
        UserWarning,
        stacklevel=3,
    )


def warn_overlaps(gdf: gpd.GeoDataFrame, id_column: str, where: str, *, min_area_m2: float = 100.0) -> None:
    """Warn about polygons that overlap by more than ``min_area_m2`` (a facility there counts for one only)."""
    if len(gdf) < 2 or gdf.crs is None:
        return
    metric = gdf.to_crs(gdf.estimate_utm_crs()) if gdf.crs.is_geographic else gdf
    geoms = metric.geometry.array
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    area = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    big = area > min_area_m2
    if not big.any():
        return
    ids = gdf[id_column].astype(str).to_numpy() if id_column in gdf else gdf.index.astype(str).to_numpy()
    shown = ", ".join(
        f"{ids[i]} & {ids[j]}: {m / 1e4:,.2f} ha" for i, j, m in zip(a[big][:5], b[big][:5], area[big][:5], strict=True)
    )
    warnings.warn(
        f"{where}: {int(big.sum())} pair(s) of polygons overlap ({shown}); homes and facilities in an overlap "
        "count for one of them only. Fix the boundaries (拓扑重叠) in your GIS.",
        UserWarning,
        stacklevel=3,
    )
