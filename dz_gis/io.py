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

import csv
import logging
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from . import settings
from ._errors import ColumnError, CRSError, DataFileError, GeometryError, StudyAreaError
from ._validate import (
    feature_labels,
    require_crs,
    require_geometry_types,
    require_nonempty,
    require_nonnegative_numbers,
    require_unique,
    require_valid_geometry,
)
from .catalog import Catalog, default_catalog
from .coords import in_china, to_wgs84

__all__ = [
    "COLUMN_ALIASES",
    "read_communities",
    "read_compounds",
    "read_facilities",
    "read_table",
    "detect_dbf_encoding",
]

logger = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)

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
    "lon": ("lon", "lng", "long", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
}

_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".zip"}
_TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls"}


def _norm(name: object) -> str:
    return re.sub(r"[\s_\-()（）²]+", "", str(name)).lower()


# ----------------------------------------------------------------------------- files


def detect_dbf_encoding(shp_path: str | Path) -> str | None:
    """Guess the text encoding of a shapefile's DBF when there is no ``.cpg`` file.

    Chinese shapefiles written by ArcGIS/SuperMap are usually GBK without a .cpg,
    and GDAL then reads them as Latin-1, turning 社区 into mojibake. UTF-8 is tried
    first (strict), then GB18030 (a superset of GBK and GB2312).

    Returns
    -------
    str or None
        ``None`` when a ``.cpg`` exists (GDAL honours it) or the text is plain ASCII.
    """
    shp_path = Path(shp_path)
    if any(shp_path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next((p for p in (shp_path.with_suffix(".dbf"), shp_path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    body = raw[header_len:]
    if body.isascii():
        return None
    for enc in ("utf-8", "gb18030"):
        try:
            body.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    raise DataFileError(
        f"{dbf}: the attribute table is neither UTF-8 nor GBK/GB18030 text. Pass encoding=... "
        "(e.g. encoding='big5') or add a .cpg file naming the code page."
    )


def _read_vector(path: Path, layer: str | int | None, encoding: str | None) -> gpd.GeoDataFrame:
    if layer is None and path.suffix.lower() == ".gpkg":
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        if len(layers) > 1:
            raise DataFileError(
                f"{path}: the GeoPackage holds {len(layers)} layers {layers}; pass layer=... to choose one."
            )
    if encoding is None and path.suffix.lower() == ".shp":
        encoding = detect_dbf_encoding(path)
        if encoding:
            logger.info("%s: no .cpg file, attribute text detected as %s", path, encoding)
    try:
        return pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        hint = (
            "Copy the .shp together with its .shx, .dbf and .prj files (same name, same folder)."
            if path.suffix.lower() == ".shp"
            else "Is the file complete and not empty? Export it again from your GIS."
        )
        raise DataFileError(f"{path}: cannot read it as GIS data ({exc}). {hint}") from None
    except LookupError:
        raise DataFileError(f"{path}: unknown text encoding {encoding!r}. Try encoding='gb18030' or 'utf-8'.") from None


def _read_plain_table(path: Path, layer: str | int | None, encoding: str | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in {".xlsx", ".xls"}:
            return pd.read_excel(path, sheet_name=0 if layer is None else layer, dtype=object)
        sep = "\t" if suffix == ".tsv" else None
        encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
        for i, enc in enumerate(encodings):
            try:
                return pd.read_csv(path, sep=sep, engine="python", encoding=enc, dtype=str)
            except UnicodeDecodeError:
                if i == len(encodings) - 1:
                    raise
    except UnicodeDecodeError:
        raise DataFileError(
            f"{path}: the text is neither UTF-8 nor GBK/GB18030. Save it as UTF-8 CSV, or pass encoding=...."
        ) from None
    except ImportError as exc:  # e.g. old binary .xls needs python-calamine or xlrd
        raise DataFileError(
            f"{path}: cannot read this Excel format ({exc}). Open it in Excel/WPS and save it as "
            ".xlsx (Excel 工作簿) or CSV UTF-8."
        ) from None
    except (pd.errors.EmptyDataError, csv.Error, pd.errors.ParserError, ValueError, KeyError, OSError) as exc:
        if suffix not in {".xlsx", ".xls"} and not path.read_bytes().strip():
            raise DataFileError(
                f"{path}: the file is empty (空文件). Export the table again with a header row "
                "(e.g. 名称,经度,纬度) and one row per feature."
            ) from None
        raise DataFileError(
            f"{path}: cannot read the table ({exc}). Check that it opens in Excel/WPS, and that "
            "layer=... names an existing sheet."
        ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _points_from_lonlat(df: pd.DataFrame, where: str, columns: Mapping[str, str]) -> gpd.GeoDataFrame:
    lon_col = _find_column(df, "lon", where, columns)
    lat_col = _find_column(df, "lat", where, columns)
    if lon_col is None or lat_col is None:
        raise ColumnError(
            f"{where}: a table without geometry needs longitude and latitude columns "
            f"(经度/纬度, lon/lat). Columns present: {[str(c) for c in df.columns]}. "
            "Rename them or pass columns={'lon': '...', 'lat': '...'}."
        )
    coords = {}
    for key, col in (("lon", lon_col), ("lat", lat_col)):
        raw = df[col]
        num = pd.to_numeric(raw.astype("string").str.strip(), errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy())
        if len(bad):
            shown = ", ".join(f"row {i + 1}: {raw.iloc[i]!r}" for i in bad[:5])
            raise ColumnError(
                f"{where}: column {col!r} ({key}) has {len(bad)} empty or non-numeric value(s) "
                f"({shown}). Every point needs decimal-degree coordinates (e.g. 107.4987); fill "
                "them in or delete those rows."
            )
        coords[key] = num.to_numpy(dtype=float)
    rest = df.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(rest, geometry=gpd.points_from_xy(coords["lon"], coords["lat"]), crs=WGS84)


def read_table(
    path: str | Path,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: Any = None,
    coords: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read any supported file into a WGS84 GeoDataFrame, with CRS and offset handling.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, CSV/TSV or Excel file.
    layer
        Layer (GeoPackage) or sheet (Excel) to read.
    encoding
        Text encoding of a Shapefile DBF or CSV; detected when omitted.
    crs
        CRS to assume when the file has none (CSV/Excel default to lon/lat, EPSG:4326).
        Overrides nothing: a file that declares a CRS keeps it.
    coords
        ``"gcj02"`` (Amap) or ``"bd09"`` (Baidu) when lon/lat are in a Chinese web offset.
    columns
        Explicit mapping ``{standard_name: column_in_file}`` (used for lon/lat here).

    Raises
    ------
    DataFileError, CRSError, ColumnError, StudyAreaError
    """
    path = Path(path)
    where = str(path)
    columns = dict(columns or {})
    if not path.exists():
        raise DataFileError(f"{path}: file not found (文件不存在). Check the path and the working folder.")
    suffix = path.suffix.lower()
    if suffix in _VECTOR_SUFFIXES:
        gdf = _read_vector(path, layer, encoding)
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
            gdf = _points_from_lonlat(pd.DataFrame(gdf), where, columns)
    elif suffix in _TABLE_SUFFIXES:
        df = _read_plain_table(path, layer, encoding)
        require_nonempty(df, where)
        gdf = _points_from_lonlat(df, where, columns)
        gdf = gdf.set_crs(crs, allow_override=True) if crs is not None else gdf
    else:
        raise DataFileError(
            f"{path}: unsupported file type {suffix!r}. Use GeoPackage (.gpkg), GeoJSON, "
            "Shapefile (.shp), CSV or Excel with lon/lat columns."
        )
    require_nonempty(gdf, where)
    if gdf.crs is None and crs is not None:
        gdf = gdf.set_crs(crs)
    require_crs(gdf, where)
    return _to_wgs84_frame(gdf, where, coords)


def _to_wgs84_frame(gdf: gpd.GeoDataFrame, where: str, coords: str | None) -> gpd.GeoDataFrame:
    crs = CRS.from_user_input(gdf.crs)
    if coords and str(coords).lower().replace("-", "") not in {"wgs84"}:
        if not crs.is_geographic:
            raise CRSError(
                f"{where}: coords={coords!r} applies to longitude/latitude from Amap or Baidu, but "
                f"the data is in the projected CRS {crs.name}. Drop coords=..., or export lon/lat."
            )
    if crs.is_geographic:
        _check_lonlat_ranges(gdf, where)
    if coords and str(coords).lower().replace("-", "").replace("_", "") in {"gcj02", "bd09"}:
        _check_in_china(gdf, where, coords)
    if coords:

        def convert(xy: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(xy[:, 0], xy[:, 1], source=coords, where=where)
            return np.column_stack([lon, lat])

        gdf = gdf.copy()
        gdf[gdf.geometry.name] = shapely.transform(gdf.geometry.array, convert)
        return gdf.set_crs(WGS84, allow_override=True)
    if crs.equals(WGS84):
        return gdf
    out = gdf.to_crs(WGS84)
    _check_finite(out, where, crs)
    return out


def _check_in_china(gdf: gpd.GeoDataFrame, where: str, coords: str) -> None:
    # Checked per feature here so that the error names features, not vertices.
    valid = ~(shapely.is_missing(gdf.geometry.array) | shapely.is_empty(gdf.geometry.array))
    xmin, ymin, xmax, ymax = shapely.bounds(gdf.geometry.array).T
    bad = np.flatnonzero(valid & ~(in_china(xmin, ymin) & in_china(xmax, ymax)))
    if len(bad):
        raise StudyAreaError(
            f"{where}: {len(bad)} feature(s) lie outside China ({feature_labels(gdf, bad)}), where "
            f"the coords={coords!r} offset is undefined. Check that longitude and latitude are not "
            f"swapped, or drop coords={coords!r} if these are plain WGS84 coordinates."
        )


def _check_finite(gdf: gpd.GeoDataFrame, where: str, crs: CRS) -> None:
    valid = ~(shapely.is_missing(gdf.geometry.array) | shapely.is_empty(gdf.geometry.array))
    bounds = shapely.bounds(gdf.geometry.array)
    bad = np.flatnonzero(valid & ~np.isfinite(bounds).all(axis=1))
    if len(bad):
        raise CRSError(
            f"{where}: {len(bad)} feature(s) cannot be converted from {crs.name} to longitude/latitude "
            f"({feature_labels(gdf, bad)}); the coordinates do not fit that CRS. Check crs=...: "
            "8-digit X values that start with the zone number (e.g. 36540000) need the 'with zone "
            "prefix' CRS (EPSG:4513-4533, e.g. 'EPSG:4524' for zone 36), 6-digit X values the "
            "'CM' CRS (EPSG:4534-4554, e.g. 'EPSG:4545' for CM 108E)."
        )


def _check_lonlat_ranges(gdf: gpd.GeoDataFrame, where: str) -> None:
    valid = ~(shapely.is_missing(gdf.geometry.array) | shapely.is_empty(gdf.geometry.array))
    if not valid.any():
        return
    xmin, ymin, xmax, ymax = shapely.bounds(gdf.geometry.array[valid]).T
    bad = np.flatnonzero(valid)[(np.abs(xmin) > 180) | (np.abs(xmax) > 180) | (np.abs(ymin) > 90) | (np.abs(ymax) > 90)]
    if len(bad):
        hint = (
            "These look like projected metres, not degrees: pass crs=... with the projected CRS (e.g. 'EPSG:4545')."
            if np.nanmax(np.abs(np.r_[xmax, ymax])) > 1000
            else "Longitude and latitude look swapped (纬度 > 90): exchange the two columns."
        )
        raise StudyAreaError(
            f"{where}: {len(bad)} feature(s) have coordinates outside longitude ±180 / latitude ±90 "
            f"({feature_labels(gdf, bad)}). {hint}"
        )


# ----------------------------------------------------------------------------- columns


def _find_column(df: pd.DataFrame, standard: str, where: str, columns: Mapping[str, str]) -> str | None:
    if standard in columns:
        col = columns[standard]
        if col not in df.columns:
            raise ColumnError(
                f"{where}: columns={{'{standard}': '{col}'}} names a column that is not in the file. "
                f"Columns present: {[str(c) for c in df.columns if c != 'geometry']}. Use one of "
                "these names exactly as written."
            )
        return col
    wanted = {_norm(a) for a in COLUMN_ALIASES[standard]}
    hits = [c for c in df.columns if c != "geometry" and _norm(c) in wanted]
    if len(hits) > 1:
        raise ColumnError(
            f"{where}: several columns could be {standard!r}: {hits} (字段不明确). "
            f"Pass columns={{'{standard}': '{hits[0]}'}} to say which one to use."
        )
    return hits[0] if hits else None


def _standardise(
    gdf: gpd.GeoDataFrame, standards: list[str], where: str, columns: Mapping[str, str]
) -> gpd.GeoDataFrame:
    unknown = set(columns) - set(COLUMN_ALIASES)
    if unknown:
        raise ColumnError(
            f"{where}: columns= has unknown standard name(s) {sorted(unknown)}; known: {sorted(COLUMN_ALIASES)}."
        )
    rename = {}
    for std in standards:
        col = _find_column(gdf, std, where, columns)
        if col is not None and col != std:
            if std in gdf.columns:
                raise ColumnError(
                    f"{where}: both {std!r} and {col!r} are present; pass columns={{'{std}': ...}} "
                    "to say which one to use."
                )
            rename[col] = std
    return gdf.rename(columns=rename)


def _ids(gdf: gpd.GeoDataFrame, id_column: str, prefix: str, where: str) -> gpd.GeoDataFrame:
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
        GeoPackage, GeoJSON, Shapefile, CSV or Excel file.
    layer
        Layer of a GeoPackage, or sheet of an Excel file.
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
) -> gpd.GeoDataFrame:
    """Read community (社区) boundaries into the standard columns.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id, name, street, district, households, population, area_m2,
        provisional`` and polygon geometry, in EPSG:4326.
    """
    where = str(path)
    gdf = read_table(path, layer=layer, encoding=encoding, crs=crs, coords=coords, columns=columns)
    std = ["community_id", "name", "street", "district", "households", "population", "area_m2", "community_type"]
    gdf = _standardise(gdf, std, where, columns or {})
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
) -> gpd.GeoDataFrame:
    """Read residential compounds (小区/院落) as points or polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        ``compound_id, name, community_id, households, population`` in EPSG:4326.
    """
    where = str(path)
    gdf = read_table(path, layer=layer, encoding=encoding, crs=crs, coords=coords, columns=columns)
    std = ["compound_id", "name", "community_id", "households", "population"]
    gdf = _standardise(gdf, std, where, columns or {})
    gdf = _ids(gdf, "compound_id", "R", where)
    gdf = require_valid_geometry(gdf, where, "compound_id")
    require_geometry_types(gdf, ["Point", "Polygon", "MultiPolygon"], where, "compound_id")
    gdf = require_nonnegative_numbers(gdf, ["households", "population"], where)
    _check_spread(gdf, where, study_area, "compound_id")
    return _ordered(gdf, std)


def read_facilities(
    path: str | Path,
    *,
    layer: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    crs: Any = None,
    coords: str | None = None,
    study_area: Any = None,
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
    gdf = read_table(path, layer=layer, encoding=encoding, crs=crs, coords=coords, columns=columns)
    std = ["facility_id", "name", "category", "area_m2"]
    gdf = _standardise(gdf, std, where, columns or {})
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
            gdf = gdf[known].reset_index(drop=True)
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
