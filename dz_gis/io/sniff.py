"""What a file really is, from its first bytes, so a lying extension gets a clear error.

Planners rename files (a CSV saved as ``.xlsx``, a GeoJSON called ``.shp``, a web system's
"Excel" export that is an HTML or tab-separated text named ``.xls``); the readers then fail
with messages about encodings or corrupt zips. The signatures checked here are the published
magic numbers of each format (SQLite header, shapefile file code 9994, ZIP local header,
OLE2 compound file, FlatGeobuf); the few lines are hand-written because the general sniffing
libraries do not know GIS formats.
"""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

from .._errors import DataFileError

__all__ = ["VECTOR_SUFFIXES", "TABLE_SUFFIXES", "file_kind", "geopackage_layer_count"]

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".kmz", ".zip", ".gdb"}
TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls"}

#: What each kind is called in messages, and the extension it should have.
_NAMES = {
    "sqlite": ("a GeoPackage/SQLite database", ".gpkg"),
    "shp": ("a shapefile .shp", ".shp"),
    "xlsx": ("an Excel workbook (.xlsx)", ".xlsx"),
    "docx": ("a Word document", ".docx"),
    "kmz": ("a KMZ (zipped KML)", ".kmz"),
    "zip": ("a zip archive", ".zip"),
    "ole2": ("an old Office 97-2003 file (.xls/.doc)", ".xls"),
    "fgb": ("a FlatGeobuf file", ".fgb"),
    "json": ("a JSON/GeoJSON text", ".geojson"),
    "kml": ("a KML text", ".kml"),
    "html": ("an HTML page (a web system's 'Excel' export)", ".html"),
    "xml": ("an XML text", ".xml"),
    "pdf": ("a PDF document", ".pdf"),
    "dwg": ("an AutoCAD drawing", ".dwg"),
    "text": ("a plain-text (CSV) table", ".csv"),
}
#: The contents each extension may hold.
_ALLOWED = {
    ".gpkg": {"sqlite"}, ".shp": {"shp"}, ".geojson": {"json"}, ".json": {"json"}, ".fgb": {"fgb"},
    ".kml": {"kml", "xml"}, ".gml": {"xml"}, ".kmz": {"kmz", "zip"}, ".zip": {"zip", "kmz"},
    ".xlsx": {"xlsx"}, ".xls": {"ole2", "xlsx"}, ".csv": {"text"}, ".txt": {"text"}, ".tsv": {"text"},
}  # fmt: skip


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return "zip"
    if "[Content_Types].xml" in names:
        return "xlsx" if any(n.startswith("xl/") for n in names) else "docx"
    if any(n.lower().endswith(".kml") for n in names) and not any(n.lower().endswith(".shp") for n in names):
        return "kmz"
    return "zip"


def _text_kind(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 "Unicode text" export; the table reader names the fix
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"{", b"[")):
        return "json"
    if text.startswith(b"<"):
        if b"<kml" in text:
            return "kml"
        return "html" if b"<html" in text or b"<table" in text or b"<!doctype html" in text else "xml"
    if b"\0" in head:
        return None  # some binary format we do not know
    return "text"


def content_kind(path: Path) -> str | None:
    """The kind of file the first bytes show (a key of the names above), or None when unknown."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        return None  # empty: each reader says so in its own words
    if head.startswith(b"SQLite format 3\0"):
        return "sqlite"
    if head[:4] == b"\x00\x00\x27\x0a":
        return "shp"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    if head.startswith(bytes.fromhex("D0CF11E0A1B11AE1")):
        return "ole2"
    if head.startswith(b"fgb\x03"):
        return "fgb"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"AC10"):
        return "dwg"
    return _text_kind(head)


def file_kind(path: Path) -> str:
    """The lower-case extension of ``path`` after checking it exists, is a file, and holds what it says.

    Raises
    ------
    DataFileError
        A missing path, a folder, an unsupported extension, or contents of another kind.
    """
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataFileError(f"{path}: file not found (文件不存在). Check the path and the working folder.")
    if path.is_dir():
        if suffix == ".gdb":
            return suffix  # an Esri file geodatabase is a folder
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in VECTOR_SUFFIXES | TABLE_SUFFIXES)
        shown = f" It holds {inside[:8]}{' …' if len(inside) > 8 else ''}." if inside else ""
        raise DataFileError(f"{path}: this is a folder (文件夹), not a file.{shown} Pass the path of one data file.")
    if suffix not in VECTOR_SUFFIXES | TABLE_SUFFIXES:
        raise DataFileError(
            f"{path}: unsupported file type {suffix!r}. Use GeoPackage (.gpkg), GeoJSON, "
            "Shapefile (.shp, or a .zip of one), KML/KMZ, CSV or Excel with lon/lat columns."
        )
    kind = content_kind(path)
    if kind is None or suffix not in _ALLOWED or kind in _ALLOWED[suffix]:
        return suffix
    what, right = _NAMES[kind]
    fix = (
        f"Rename it to {path.stem}{right}"
        if right in VECTOR_SUFFIXES | TABLE_SUFFIXES
        else "Export the data again from its source as GeoPackage, Shapefile, CSV or Excel"
    )
    if kind == "html":
        fix = "Open it in Excel/WPS and save it as .xlsx (Excel 工作簿) or CSV UTF-8"
    raise DataFileError(
        f"{path}: the name ends in {suffix} but the file is really {what} (扩展名与内容不符). {fix}, and read it again."
    )


def geopackage_layer_count(path: Path) -> int | None:
    """Rows of ``gpkg_contents`` (the layers of a GeoPackage); None when it is not a readable GeoPackage.

    GDAL refuses to open a GeoPackage without layers ("not recognized as being in a supported
    file format"), which reads like a corrupt file; this tells the two apart.
    """
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM gpkg_contents").fetchone()[0])
    except sqlite3.Error:
        return None
