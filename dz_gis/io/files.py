"""Read any GIS or table file planners have into a WGS84 GeoDataFrame.

GeoPackage, GeoJSON, Shapefile (GBK/GB18030 DBF detected when there is no .cpg), CSV and
Excel with lon/lat columns (经度/纬度), in any CRS the file declares. ``coords="gcj02"`` or
``"bd09"`` converts Amap/Baidu coordinates to WGS84.
"""

from __future__ import annotations

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

from .._errors import ColumnError, CRSError, DataFileError, StudyAreaError
from .._validate import feature_labels, require_crs, require_nonempty, row_label
from ..coords import check_zone_prefix, in_china, old_datum_warning, to_wgs84
from .columns import find_column
from .kml import read_kml
from .shapefiles import choose_encoding, read_shapefile, shown_name, zip_members
from .sheets import read_sheet
from .sniff import VECTOR_SUFFIXES, file_kind, geopackage_layer_count

__all__ = ["WGS84", "read_table", "detect_dbf_encoding"]

logger = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)


def detect_dbf_encoding(shp_path: str | Path) -> str | None:
    """The text encoding to read a shapefile's DBF with, when GDAL's own choice would be wrong.

    Chinese shapefiles written by ArcGIS/SuperMap are usually GBK without a ``.cpg``, and GDAL
    then reads them as Latin-1, turning 社区 into mojibake; some carry a ``.cpg`` that says UTF-8
    over GBK bytes. UTF-8 is tried (strict), then GB18030 (a superset of GBK and GB2312).

    Returns
    -------
    str or None
        ``None`` when a truthful ``.cpg`` exists (GDAL honours it) or the text is plain ASCII.
    """
    shp_path = Path(shp_path)
    dbf = next((p for p in (shp_path.with_suffix(".dbf"), shp_path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    cpg_path = next((p for p in (shp_path.with_suffix(".cpg"), shp_path.with_suffix(".CPG")) if p.exists()), None)
    cpg = cpg_path.read_bytes().decode("ascii", "replace") if cpg_path else None
    choice = choose_encoding(dbf.read_bytes(), cpg, str(dbf))
    return choice.encoding if cpg is None or choice.contradicts_cpg else None


_READ_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    UnicodeDecodeError,
)


def _cannot_read(path: Path, exc: Exception) -> DataFileError:
    hint = (
        "Copy the .shp together with its .shx, .dbf and .prj files (same name, same folder)."
        if path.suffix.lower() in {".shp", ".zip"}
        else "Is the file complete and not empty? Export it again from your GIS."
    )
    return DataFileError(f"{path}: cannot read it as GIS data ({exc}). {hint}")


def _read_vector(path: Path, suffix: str, layer: str | int | None, encoding: str | None) -> gpd.GeoDataFrame:
    try:
        if suffix == ".shp":
            return read_shapefile(path, encoding=encoding)
        if suffix == ".zip":
            return _read_zip(path, layer, encoding)
        if suffix in {".kml", ".kmz"}:
            return read_kml(path, layer)
        layers = [] if suffix == ".gpkg" and geopackage_layer_count(path) == 0 else _layer_names(path)
        if not layers:
            raise DataFileError(
                f"{path}: the file holds no layers (空数据, no tables). Export the data into it again from your GIS."
            )
        if layer is None and len(layers) > 1:
            raise DataFileError(f"{path}: the file holds {len(layers)} layers {layers}; pass layer=... to choose one.")
        return pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except _READ_ERRORS as exc:
        raise _cannot_read(path, exc) from None
    except LookupError:
        raise DataFileError(f"{path}: unknown text encoding {encoding!r}. Try encoding='gb18030' or 'utf-8'.") from None


def _layer_names(path: Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def _read_zip(path: Path, layer: str | int | None, encoding: str | None) -> gpd.GeoDataFrame:
    members = zip_members(path)
    shps = [m for m in members if m.lower().endswith(".shp")]
    others = [m for m in members if Path(m).suffix.lower() in {".gpkg", ".geojson", ".json", ".kml", ".fgb"}]
    if not shps and len(others) == 1:
        return pyogrio.read_dataframe(f"/vsizip/{path}/{others[0]}", layer=layer, encoding=encoding)
    if not shps:
        raise DataFileError(
            f"{path}: the zip holds no shapefile or single GIS file ({members[:8]}). Zip the .shp, .shx, .dbf, .prj "
            "(and .cpg) files of one layer, or pass the unzipped file."
        )
    stems = [Path(shown_name(m)).stem for m in shps]
    if layer is None and len(shps) > 1:
        raise DataFileError(f"{path}: the zip holds {len(shps)} shapefiles {stems}; pass layer=... to choose one.")
    if layer is None:
        member = shps[0]
    elif isinstance(layer, int):
        member = shps[layer] if -len(shps) <= layer < len(shps) else ""
    else:
        member = next((m for m, stem in zip(shps, stems, strict=True) if stem == layer), "")
    if not member:
        raise DataFileError(f"{path}: layer={layer!r} is not in the zip; pass one of {stems}.")
    return read_shapefile(path, member=member, encoding=encoding)


def _points_from_lonlat(df: pd.DataFrame, where: str, columns: Mapping[str, str]) -> gpd.GeoDataFrame:
    lon_col = find_column(df, "lon", where, columns)
    lat_col = find_column(df, "lat", where, columns)
    if lon_col is None and lat_col is None:
        df, lon_col, lat_col = _split_pairs(df, where)
    if lon_col is None or lat_col is None:
        raise ColumnError(
            f"{where}: a table without geometry needs longitude and latitude columns "
            f"(经度/纬度, lon/lat). Columns present: {[str(c) for c in df.columns]}. "
            + (
                "The first row does not look like the column names (a title row?): pass header_row=... with "
                "the row number of 经度/纬度, or delete the rows above them."
                if sum(str(c).startswith("Unnamed") for c in df.columns) >= len(df.columns) / 2
                else "Rename them or pass columns={'lon': '...', 'lat': '...'}."
            )
        )
    coords = {}
    for key, col in (("lon", lon_col), ("lat", lat_col)):
        raw = df[col]
        num = _degrees(raw)
        bad = np.flatnonzero(num.isna().to_numpy())
        if len(bad):
            shown = ", ".join(f"{row_label(df, i)}: {raw.iloc[i]!r}" for i in bad[:5])
            raise ColumnError(
                f"{where}: column {col!r} ({key}) has {len(bad)} empty or non-numeric value(s) "
                f"({shown}). Every point needs decimal-degree coordinates (e.g. 107.4987); fill "
                "them in or delete those rows."
            )
        coords[key] = num.to_numpy(dtype=float)
    rest = df.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(rest, geometry=gpd.points_from_xy(coords["lon"], coords["lat"]), crs=WGS84)


#: 度分秒: 107°28'30.72"E, 107度28分30.72秒, 31°12.258'N (seconds and hemisphere optional).
_DMS = re.compile(
    r"^(?P<d>\d+(?:\.\d+)?)\s*[°度]\s*(?:(?P<m>\d+(?:\.\d+)?)\s*['′’分]\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:[\"″”秒]|''|′′)\s*)?(?P<h>[NSEW东西南北]?)$",
    re.IGNORECASE,
)


def _degrees(raw: pd.Series) -> pd.Series:
    """Decimal degrees from cells as typed: full-width digits (１０７．４７) and 度分秒 are read too.

    >>> _degrees(pd.Series(["107.4752", "１０７．４７５２", "107°28′30.72″E", "31度12分15.48秒"])).round(6).tolist()
    [107.4752, 107.4752, 107.4752, 31.2043]
    """
    text = raw.astype("string").str.normalize("NFKC").str.strip()  # NFKC: １０７．４７ → 107.47, － → -
    num = pd.to_numeric(text, errors="coerce")
    for i in np.flatnonzero(num.isna().to_numpy() & text.notna().to_numpy()):
        m = _DMS.match(str(text.iloc[i]))
        if m and float(m["m"] or 0) < 60 and float(m["s"] or 0) < 60:
            value = float(m["d"]) + float(m["m"] or 0) / 60 + float(m["s"] or 0) / 3600
            num.iloc[i] = -value if m["h"].upper() in {"S", "W", "西", "南"} else value
    return num


#: Names of one column holding "lon,lat" (坐标拾取器 output, e.g. 107.4752,31.2043).
_PAIR_COLUMNS = {"经纬度", "经纬度坐标", "坐标", "lnglat", "lonlat", "location"}
_PAIR = r"^\s*-?\d+(?:\.\d+)?\s*[,，]\s*-?\d+(?:\.\d+)?\s*$"


def _split_pairs(df: pd.DataFrame, where: str) -> tuple[pd.DataFrame, str | None, str | None]:
    """A "lon,lat" column split into lon and lat columns, when there is exactly one such column."""
    found = [c for c in df.columns if str(c).strip().lower() in _PAIR_COLUMNS]
    if len(found) != 1:
        return df, None, None
    text = df[found[0]].astype("string").str.normalize("NFKC")
    if not text.str.fullmatch(_PAIR).fillna(False).all():
        return df, None, None
    parts = text.str.replace("，", ",").str.split(",", expand=True)
    logger.info("%s: column %r split into longitude and latitude", where, found[0])
    out = df.drop(columns=found[0]).assign(lon=parts[0].str.strip(), lat=parts[1].str.strip())
    return out, "lon", "lat"


def read_table(
    path: str | Path,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: Any = None,
    coords: str | None = None,
    columns: Mapping[str, str] | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read any supported file into a WGS84 GeoDataFrame, with CRS and offset handling.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile (or a .zip of one), KML/KMZ, CSV/TSV or Excel file.
    layer
        Layer (GeoPackage, shapefile in a zip, KML folder) or sheet (Excel) to read.
    encoding
        Text encoding of a Shapefile DBF or CSV; detected when omitted.
    crs
        CRS to assume when the file has none (CSV/Excel default to lon/lat, EPSG:4326).
        Overrides nothing: a file that declares a CRS keeps it.
    coords
        ``"gcj02"`` (Amap) or ``"bd09"`` (Baidu) when lon/lat are in a Chinese web offset.
    columns
        Explicit mapping ``{standard_name: column_in_file}`` (used for lon/lat here).
    header_row
        Row number (as Excel shows it) of the column names in a CSV/Excel table; found
        below title rows when omitted.

    Raises
    ------
    DataFileError, CRSError, ColumnError, StudyAreaError
    """
    path = Path(path)
    where = str(path)
    columns = dict(columns or {})
    suffix = file_kind(path)
    if suffix in VECTOR_SUFFIXES:
        gdf = _read_vector(path, suffix, layer, encoding)
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
            gdf = _points_from_lonlat(pd.DataFrame(gdf), where, columns)
        if suffix in {".geojson", ".json"} and coords is None:
            _refuse_offset_crs_member(path)
        if suffix in {".geojson", ".json"} and crs is not None and not _has_crs_member(path):
            # a GeoJSON without a crs member says nothing of its CRS (GDAL assumes WGS84, as RFC 7946
            # wants); one exported in metres that way is in the CRS its user names
            gdf = gdf.set_crs(crs, allow_override=True)
        source = "file" if gdf.crs is not None else "crs="
    else:
        df = read_sheet(path, suffix, layer=layer, encoding=encoding, header_row=header_row)
        require_nonempty(df, where)
        gdf = _points_from_lonlat(df, where, columns)
        if crs is None and coords is None:
            _ask_coordinate_system(gdf, where)  # never guessed: GCJ-02 read as WGS84 is ~500 m off
        gdf = gdf.set_crs(crs, allow_override=True) if crs is not None else gdf
        source = "table"
    require_nonempty(gdf, where)
    if gdf.crs is None and crs is not None:
        gdf = gdf.set_crs(crs)
    require_crs(gdf, where)
    system = coordinate_system(coords, where)
    return _to_wgs84_frame(gdf, where, None if system == "wgs84" else system, source)


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


#: A GeoJSON ``crs`` member naming a Chinese web offset (GDAL does not know it, and reads WGS84).
_OFFSET_CRS = re.compile(rb'"crs"\s*:\s*\{[^{}]*\{[^{}]*?"name"\s*:\s*"([^"]{1,200})"')
_OFFSET_WORDS = re.compile(r"gcj|bd-?09|baidu|amap|gaode|火星|高德|百度|腾讯", re.IGNORECASE)


def _head_and_tail(path: Path, size: int = 65536) -> tuple[bytes, bytes]:
    """The first and last ``size`` bytes of a file: where a GeoJSON's top-level members stand."""
    total = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(size)
        fh.seek(max(0, total - size))
        return head, fh.read()


def _has_crs_member(path: Path) -> bool:
    """Whether a GeoJSON file names its CRS (a ``"crs"`` member, near its start or end)."""
    head, tail = _head_and_tail(path)
    return bool(re.search(rb'"crs"\s*:', head) or re.search(rb'"crs"\s*:', tail))


def _refuse_offset_crs_member(path: Path) -> None:
    head, tail = _head_and_tail(path)
    found = _OFFSET_CRS.search(head) or _OFFSET_CRS.search(tail)
    name = found[1].decode("utf-8", "replace") if found else ""
    if not _OFFSET_WORDS.search(name):
        return
    system = "bd09" if re.search(r"bd|baidu|百度", name, re.IGNORECASE) else "gcj02"
    raise CRSError(
        f"{path}: the GeoJSON's crs member says {name!r}, a Chinese web-map offset (高德/百度 坐标), which GDAL "
        "does not know: it would read the coordinates as WGS84, 300-700 m off. Pass "
        f"coords='{system}' to convert them (coords='wgs84' if they are plain GPS coordinates)."
    )


def _to_wgs84_frame(gdf: gpd.GeoDataFrame, where: str, coords: str | None, source: str) -> gpd.GeoDataFrame:
    crs = CRS.from_user_input(gdf.crs)
    if coords and str(coords).lower().replace("-", "") not in {"wgs84"}:
        if not crs.is_geographic:
            raise CRSError(
                f"{where}: coords={coords!r} applies to longitude/latitude from Amap or Baidu, but "
                f"the data is in the projected CRS {crs.name}. Drop coords=..., or export lon/lat."
            )
    if crs.is_geographic:
        _check_lonlat_ranges(gdf, where, source)
    else:
        xy = shapely.get_coordinates(gdf.geometry.array)
        check_zone_prefix(xy[:, 0], xy[:, 1], crs, where)
    note = old_datum_warning(crs, where)
    if note:
        warnings.warn(note, UserWarning, stacklevel=4)
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


def _check_lonlat_ranges(gdf: gpd.GeoDataFrame, where: str, source: str) -> None:
    valid = ~(shapely.is_missing(gdf.geometry.array) | shapely.is_empty(gdf.geometry.array))
    if not valid.any():
        return
    xmin, ymin, xmax, ymax = shapely.bounds(gdf.geometry.array[valid]).T
    bad = np.flatnonzero(valid)[(np.abs(xmin) > 180) | (np.abs(xmax) > 180) | (np.abs(ymin) > 90) | (np.abs(ymax) > 90)]
    if len(bad):
        if np.nanmax(np.abs(np.r_[xmax, ymax])) > 1000:
            hint = (
                f"These look like projected metres, not degrees, but the file itself declares {gdf.crs.name} (a "
                "wrong .prj / CRS). Define the right projection in your GIS (定义投影, e.g. CGCS2000 GK CM 108E, "
                "EPSG:4545) and export again: crs=... does not override a CRS the file declares."
                if source == "file"
                else "These look like projected metres, not degrees: pass crs=... with the projected CRS "
                "(e.g. 'EPSG:4545')."
            )
        elif source == "table":
            hint = "Longitude and latitude look swapped (纬度 > 90): exchange the two columns."
        else:
            hint = (
                "Longitude and latitude look swapped (纬度 > 90): the coordinates are written latitude first. "
                "Swap X and Y in your GIS (QGIS: 'Swap X and Y coordinates') and export again."
            )
        raise StudyAreaError(
            f"{where}: {len(bad)} feature(s) have coordinates outside longitude ±180 / latitude ±90 "
            f"({feature_labels(gdf, bad)}). {hint}"
        )
