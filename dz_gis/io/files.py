"""Read any GIS or table file planners have into a WGS84 GeoDataFrame.

GeoPackage, GeoJSON, Shapefile (GBK/GB18030 DBF detected when there is no .cpg), CSV and
Excel with lon/lat columns (经度/纬度), in any CRS the file declares. ``coords="gcj02"`` or
``"bd09"`` converts Amap/Baidu coordinates to WGS84.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from .._errors import ColumnError, CRSError, DataFileError, StudyAreaError
from .._validate import feature_labels, require_crs, require_nonempty
from ..coords import in_china, to_wgs84
from .columns import find_column

__all__ = ["WGS84", "read_table", "detect_dbf_encoding"]

logger = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)

_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".zip"}
_TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls"}


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
            # only empty cells are missing: Excel's #N/A, #VALUE! ... stay visible and are reported
            return pd.read_excel(
                path, sheet_name=0 if layer is None else layer, dtype=object, keep_default_na=False, na_values=[""]
            )
        sep = "\t" if suffix == ".tsv" else None
        encodings = [encoding] if encoding else ["utf-8-sig", "gb18030"]
        for i, enc in enumerate(encodings):
            try:
                return pd.read_csv(
                    path, sep=sep, engine="python", encoding=enc, dtype=str, keep_default_na=False, na_values=[""]
                )
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
    lon_col = find_column(df, "lon", where, columns)
    lat_col = find_column(df, "lat", where, columns)
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
        if crs is None and coords is None:
            _ask_coordinate_system(gdf, where)  # never guessed: GCJ-02 read as WGS84 is ~500 m off
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
    system = coordinate_system(coords, where)
    return _to_wgs84_frame(gdf, where, None if system == "wgs84" else system)


#: The words planners use for the lon/lat systems in China, and the system each means.
COORDINATE_WORDS = {
    "wgs84": "wgs84", "gps": "wgs84", "osm": "wgs84", "openstreetmap": "wgs84", "天地图": "wgs84", "cgcs2000": "wgs84",
    "gcj02": "gcj02", "高德": "gcj02", "腾讯": "gcj02", "amap": "gcj02", "gaode": "gcj02", "tencent": "gcj02",
    "火星坐标": "gcj02", "bd09": "bd09", "百度": "bd09", "baidu": "bd09",
}  # fmt: skip


def coordinate_system(coords: str | None, where: str = "input") -> str | None:
    """``wgs84``, ``gcj02`` or ``bd09`` for what a planner calls it (高德, 百度, GPS ...); None stays None."""
    if coords is None:
        return None
    key = str(coords).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in COORDINATE_WORDS:
        raise CRSError(
            f"{where}: coords={coords!r} is not a coordinate system dz_gis knows. Use 'wgs84' (GPS, OpenStreetMap, "
            "天地图), 'gcj02' (高德, 腾讯) or 'bd09' (百度)."
        )
    return COORDINATE_WORDS[key]


def _ask_coordinate_system(gdf: gpd.GeoDataFrame, where: str) -> None:
    xy = shapely.get_coordinates(gdf.geometry.array)
    if len(xy) and in_china(xy[:, 0], xy[:, 1]).any():
        raise CRSError(
            f"{where}: longitude/latitude in China, but which system? (坐标系?) Pass coords='wgs84' for GPS or "
            "OpenStreetMap (天地图 too), coords='gcj02' for 高德/腾讯 (Amap, Tencent), coords='bd09' for 百度 "
            "(Baidu). Read in the wrong one, points are 300-700 m off."
        )


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
