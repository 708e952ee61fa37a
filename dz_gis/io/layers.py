"""Read communities, residential compounds and facilities from the files planners have.

Every reader returns a GeoDataFrame in WGS84 lon/lat (EPSG:4326) with the standard
columns below, whatever the file called them; analysis functions project to a metric
CRS themselves (:func:`dz_gis.coords.metric_crs_for`).

Standard columns
----------------
communities (社区): ``community_id`` (str), ``name``, ``street`` (街道/乡镇), ``district``
    (区县), ``households`` (户数), ``population`` (人口), ``area_m2`` (service-facility floor
    area, 面积), ``provisional`` (bool, True when the units are derived, not official);
    Polygon/MultiPolygon geometry.
compounds (小区): ``compound_id``, ``name``, ``community_id``, ``households``,
    ``population``; Point or Polygon geometry.
facilities (设施): ``facility_id``, ``name``, ``category`` (a catalog id, see
    :mod:`dz_gis.catalog`), ``area_m2`` (floor area); Point geometry (polygons become
    their representative point).

Formats: GeoPackage, GeoJSON, Shapefile (GBK/GB18030 DBF detected when there is no .cpg),
CSV and Excel with lon/lat columns (经度/纬度). ``coords="gcj02"`` or ``"bd09"`` converts
Amap/Baidu coordinates to WGS84.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import ColumnError, CRSError, GeometryError, StudyAreaError
from .._validate import (
    SOURCE_ROWS,
    SourceRows,
    feature_labels,
    require_geometry_types,
    require_nonempty,
    require_nonnegative_numbers,
    require_unique,
    require_valid_geometry,
    row_label,
)
from ..catalog import Catalog, default_catalog
from .columns import BELONGING_ALIASES, compound_columns, standardise
from .files import WGS84, read_table

__all__ = ["read_communities", "read_compounds", "read_facilities"]

logger = logging.getLogger(__name__)


#: A code Excel turned into scientific notation (511702001001 → 5.11702E+11): its digits are lost.
_SCIENTIFIC = r"\d(?:\.\d+)?[eE]\+\d+"


def _no_scientific_codes(gdf: gpd.GeoDataFrame, column: str, where: str) -> None:
    if column not in gdf.columns or not (gdf[column].dtype == object or pd.api.types.is_string_dtype(gdf[column])):
        return
    hit = np.flatnonzero(gdf[column].astype("string").str.strip().str.fullmatch(_SCIENTIFIC).fillna(False).to_numpy())
    if len(hit):
        shown = ", ".join(f"{row_label(gdf, i)}: {gdf[column].iloc[i]!r}" for i in hit[:5])
        raise ColumnError(
            f"{where}: column {column!r} holds codes in scientific notation ({shown}) (科学计数法): Excel shortened "
            "the long codes and their last digits are lost. Set the column's format to 文本 (Text) in Excel, type "
            "or paste the codes again, and save."
        )


def _ids(gdf: gpd.GeoDataFrame, id_column: str, prefix: str, where: str) -> gpd.GeoDataFrame:
    _no_scientific_codes(gdf, id_column, where)
    gdf = gdf.copy()
    if id_column in gdf.columns and gdf[id_column].notna().all():
        ids = gdf[id_column]
        if pd.api.types.is_float_dtype(ids) and (ids == ids.round()).all():
            ids = ids.astype("int64")
        gdf[id_column] = ids.astype(str).str.strip()
        require_unique(gdf, id_column, where)
    else:
        if id_column in gdf.columns:
            missing = np.flatnonzero(gdf[id_column].isna().to_numpy())
            raise ColumnError(
                f"{where}: column {id_column!r} is empty for {feature_labels(gdf, missing)}. "
                f"Fill in every id, or delete the column to have ids assigned."
            )
        width = len(str(len(gdf)))
        gdf[id_column] = [f"{prefix}{i + 1:0{width}d}" for i in range(len(gdf))]
    return gdf


def _check_spread(gdf: gpd.GeoDataFrame, where: str, study_area: Any, id_column: str) -> None:
    pts = shapely.point_on_surface(gdf.geometry.array)
    if study_area is not None:
        area = _study_area_wgs84(study_area)
        # 2 km margin (in degrees, ~0.02) so features just across the boundary pass.
        outside = np.flatnonzero(~shapely.intersects(pts, shapely.buffer(area, 0.02)))
        if len(outside):
            raise StudyAreaError(
                f"{where}: {len(outside)} feature(s) lie outside the study area "
                f"({feature_labels(gdf, outside, id_column)}). Typical causes: swapped lon/lat, "
                "Amap/Baidu coordinates read as WGS84 (pass coords='gcj02' or 'bd09'), or the wrong CRS."
            )
        return
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    lon0, lat0 = np.median(lon), np.median(lat)
    dist_km = 6371.0 * np.hypot(np.radians(lon - lon0) * np.cos(np.radians(lat0)), np.radians(lat - lat0))
    far = np.flatnonzero(dist_km > settings.max_spread_km)
    if len(far):
        raise StudyAreaError(
            f"{where}: {len(far)} feature(s) are more than {settings.max_spread_km:g} km from the "
            f"rest (median centre {lon0:.4f}E {lat0:.4f}N): {feature_labels(gdf, far, id_column)}. "
            "This is usually swapped lon/lat or a wrong CRS; fix those rows, or raise "
            "dz_gis.settings.max_spread_km for a province-wide layer."
        )


def _study_area_wgs84(study_area: Any) -> shapely.Geometry:
    if isinstance(study_area, gpd.GeoDataFrame | gpd.GeoSeries):
        if study_area.crs is None:
            raise CRSError("study_area has no CRS; set one with .set_crs(...).")
        return shapely.union_all(study_area.to_crs(WGS84).geometry.array)
    if isinstance(study_area, shapely.Geometry):
        return study_area
    if isinstance(study_area, tuple | list) and len(study_area) == 4:
        return shapely.box(*study_area)
    raise CRSError(
        "study_area must be a GeoDataFrame/GeoSeries, a WGS84 shapely geometry or a (minx, miny, maxx, maxy) tuple."
    )


# ----------------------------------------------------------------------------- readers

_COMMON_DOC = """
    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile (or a .zip of one), KML/KMZ, CSV or Excel file.
    layer
        Layer of a GeoPackage, shapefile in a zip, folder of a KML, or sheet of an Excel file.
        A KML's folders are all read when omitted, with a ``folder`` column.
    columns
        ``{standard_name: column_in_file}`` for columns the aliases do not find.
    encoding
        Text encoding (detected for Shapefiles without .cpg and for CSV).
    crs
        CRS to assume when the file declares none.
    coords
        ``"gcj02"`` or ``"bd09"`` for Amap/Baidu lon/lat.
    study_area
        Optional GeoDataFrame, geometry (WGS84) or bbox; features outside it are an error.
    header_row
        Row number (as Excel shows it) of the column names of a CSV/Excel table; found below
        title rows when omitted (with a warning naming the row).
"""


def read_communities(
    path: str | Path,
    *,
    layer: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    crs: Any = None,
    coords: str | None = None,
    study_area: Any = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read community (社区) boundaries into the standard columns.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id, name, street, district, households, population, area_m2,
        provisional`` and polygon geometry, in EPSG:4326.
    """
    where = str(path)
    gdf = read_table(
        path, layer=layer, encoding=encoding, crs=crs, coords=coords, columns=columns, header_row=header_row
    )
    std = ["community_id", "name", "street", "district", "households", "population", "area_m2", "community_type"]
    # 所属社区 in a community layer is not its own id (a 网格 layer names its community there).
    gdf = standardise(gdf, std, where, columns or {}, ignore=BELONGING_ALIASES)
    gdf = _ids(gdf, "community_id", "C", where)
    gdf = require_valid_geometry(gdf, where, "community_id")
    require_geometry_types(gdf, ["Polygon", "MultiPolygon"], where, "community_id")
    gdf = require_nonnegative_numbers(gdf, ["households", "population", "area_m2"], where)
    _check_spread(gdf, where, study_area, "community_id")
    if "provisional" not in gdf.columns:
        gdf["provisional"] = False
    return _ordered(gdf, std + ["provisional"])


def read_compounds(
    path: str | Path,
    *,
    layer: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    crs: Any = None,
    coords: str | None = None,
    study_area: Any = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read residential compounds (小区/院落) as points or polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        ``compound_id, name, community_id, households, population`` in EPSG:4326.
    """
    where = str(path)
    gdf = read_table(
        path, layer=layer, encoding=encoding, crs=crs, coords=coords, columns=columns, header_row=header_row
    )
    std = ["compound_id", "name", "community_id", "households", "population"]
    present = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    gdf = standardise(gdf, std, where, compound_columns(gdf, where, columns or {}))
    _no_scientific_codes(gdf, "community_id", where)
    gdf = _ids(gdf, "compound_id", "R", where)
    gdf = require_valid_geometry(gdf, where, "compound_id")
    require_geometry_types(gdf, ["Point", "Polygon", "MultiPolygon"], where, "compound_id")
    gdf = require_nonnegative_numbers(gdf, ["households", "population"], where)
    _warn_no_households(gdf, where, present)
    _check_spread(gdf, where, study_area, "compound_id")
    return _ordered(gdf, std)


def _warn_no_households(gdf: gpd.GeoDataFrame, where: str, present: list[str]) -> None:
    """Warn when a compound list has no household numbers: every household share would be nan%."""
    has = {col: col in gdf.columns and bool(gdf[col].notna().any()) for col in ("households", "population")}
    if has["households"]:
        return
    found = [col for col in ("households", "population") if col in gdf.columns]
    if has["population"]:
        what = "no households (户数) column with values, only population (人口)"
    elif found:
        what = f"the {' and '.join(found)} column(s) are empty in every row"
    else:
        what = "no households (户数) or population (人口) column"
    warnings.warn(
        f"{where}: {what}, so the share of households within reach will be empty (nan%) for every community "
        f"(缺少户数). Columns present: {present}. If one of them holds the households, name it: "
        'columns={"households": "<your column>"} in Python, or in the project file '
        "compounds: {file: ..., columns: {households: <your column>}}; else fill in 户数.",
        UserWarning,
        stacklevel=3,
    )


def read_facilities(
    path: str | Path,
    *,
    layer: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    crs: Any = None,
    coords: str | None = None,
    study_area: Any = None,
    header_row: int | None = None,
    category: str | None = None,
    catalog: Catalog | None = None,
    unknown_categories: str = "error",
) -> gpd.GeoDataFrame:
    """Read facility points, mapping their categories onto the facility catalog.

    ``category`` gives one category to a file that holds only one kind of facility
    (e.g. ``category="幼儿园"``); otherwise a category column (类型/类别/category) is required.
    ``unknown_categories="drop"`` leaves out rows whose category the catalog does not know
    (a POI export with banks and restaurants) and warns with the values and counts dropped;
    the default ``"error"`` stops and names them.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id, name, category, area_m2`` with Point geometry, in EPSG:4326.
    """
    where = str(path)
    catalog = catalog or default_catalog()
    gdf = read_table(
        path, layer=layer, encoding=encoding, crs=crs, coords=coords, columns=columns, header_row=header_row
    )
    std = ["facility_id", "name", "category", "area_m2"]
    gdf = standardise(gdf, std, where, columns or {})
    if category is not None:
        gdf["category"] = category
    if "category" not in gdf.columns:
        raise ColumnError(
            f"{where}: no facility category column (类型/类别/category). Columns present: "
            f"{[str(c) for c in gdf.columns if c != 'geometry']}. Add one, pass "
            "columns={'category': '...'}, or category='幼儿园' if the file holds one category."
        )
    empty = np.flatnonzero(gdf["category"].isna().to_numpy())
    if len(empty):
        raise ColumnError(f"{where}: the category is empty for {feature_labels(gdf, empty)}. Fill it in.")
    if unknown_categories not in {"error", "drop"}:
        raise ColumnError(f"unknown_categories must be 'error' or 'drop', not {unknown_categories!r}.")
    if unknown_categories == "drop":
        known = gdf["category"].map(catalog.resolve).notna().to_numpy()
        if not known.all():
            counts = gdf.loc[~known, "category"].astype(str).value_counts()
            shown = ", ".join(f"{name} ×{n}" for name, n in counts.head(10).items())
            warnings.warn(
                f"{where}: left out {int((~known).sum())} row(s) whose category is not in the catalog: {shown}.",
                UserWarning,
                stacklevel=2,
            )
            rows = gdf.attrs.get(SOURCE_ROWS)
            gdf = gdf[known].reset_index(drop=True)
            if isinstance(rows, SourceRows) and len(rows.numbers) == len(known):
                gdf.attrs[SOURCE_ROWS] = SourceRows(rows.numbers[known])  # the rows left keep their Excel rows
            require_nonempty(gdf, where)
    gdf["category"] = catalog.resolve_all(gdf["category"], where=where)
    gdf = _ids(gdf, "facility_id", "F", where)
    gdf = require_valid_geometry(gdf, where, "facility_id")
    require_geometry_types(gdf, ["Point", "MultiPoint", "Polygon", "MultiPolygon"], where, "facility_id")
    gdf = _as_points(gdf, where)
    gdf = require_nonnegative_numbers(gdf, ["area_m2"], where)
    _check_spread(gdf, where, study_area, "facility_id")
    return _ordered(gdf, std)


for _fn in (read_communities, read_compounds, read_facilities):
    _fn.__doc__ = (
        (_fn.__doc__ or "")
        + _COMMON_DOC
        + """
    Raises
    ------
    DzGisError
        With a message naming the file, the column or feature, and the fix.
    """
    )


def _as_points(gdf: gpd.GeoDataFrame, where: str) -> gpd.GeoDataFrame:
    types = gdf.geom_type
    multi = np.flatnonzero((types == "MultiPoint").to_numpy())
    several = [i for i in multi if shapely.get_num_geometries(gdf.geometry.iloc[i]) > 1]
    if several:
        raise GeometryError(
            f"{where}: {feature_labels(gdf, several, 'facility_id')} hold several points each; "
            "a facility must be one point. Split them into one row per facility."
        )
    if (types != "Point").any():
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = shapely.point_on_surface(gdf.geometry.array)
        logger.info("%s: %d facility polygon(s) replaced by a point inside them", where, int((types != "Point").sum()))
    return gdf


def _ordered(gdf: gpd.GeoDataFrame, standard: list[str]) -> gpd.GeoDataFrame:
    for col in standard:
        if col not in gdf.columns:
            gdf[col] = np.nan if col in {"households", "population", "area_m2"} else None
    geom = gdf.geometry.name
    rest = [c for c in gdf.columns if c not in standard and c != geom]
    out = gdf[standard + rest + [geom]]
    if geom != "geometry":
        out = out.rename_geometry("geometry")
    return out.reset_index(drop=True)
