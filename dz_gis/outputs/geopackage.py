"""GeoPackage output: several layers in one file, written atomically, valid (OGC), styled for QGIS.

The file is GeoPackage 1.2, the newest version GDAL 3.6 (QGIS 3.22 LTR) reads without
warning that it "may only be partially supported". Spatial layers hold only features with
a geometry; a table without one is written as an attribute table (``data_type``
``attributes`` in ``gpkg_contents``), which QGIS opens as a table. QGIS styles go into the
``layer_styles`` table QGIS itself reads and writes (see :mod:`~dz_gis.outputs.qgis_styles`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from .._atomic import atomic_path
from .._errors import ValidationError
from .qgis_styles import LayerStyle

__all__ = ["GEOPACKAGE_VERSION", "TEXT_COLUMNS", "gap_layers", "write_geopackage"]

logger = logging.getLogger(__name__)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z")
#: GeoPackage version written (GDAL's ``VERSION`` dataset creation option).
GEOPACKAGE_VERSION = "1.2"
_GEOMETRY_COLUMN = "geom"  # GDAL's default, named here because layer_styles rows refer to it
#: Columns that hold text whatever their values: all empty, they are written as text
#: (an all-NaN column read from a spreadsheet is float, and would otherwise become a REAL field).
TEXT_COLUMNS = frozenset(
    {"community_id", "compound_id", "facility_id", "name", "category", "street", "district", "community_type"}
    | {"unit_id", "unit_name", "scope", "status", "severity", "detail", "clause"}
)


def write_geopackage(
    path: str | Path,
    layers: Mapping[str, pd.DataFrame],
    *,
    fixed_date: str | None = None,
    styles: Iterable[LayerStyle] = (),
) -> Path:
    """Write several layers into one GeoPackage; the file appears only when all succeeded.

    Geometries are written valid (OGC): reprojecting a valid polygon can make it invalid
    where two of its vertices lie a hair apart (they may round to one point in degrees),
    so invalid ones are repaired with GEOS ``make_valid`` (keeping polygons polygons).

    Parameters
    ----------
    path
        The GeoPackage to write (replaced if it exists).
    layers
        ``{layer name: frame}``, written in this order. A GeoDataFrame is a spatial layer and
        every row needs a geometry; a plain DataFrame (or one whose geometry column was
        dropped) is an attribute table. Columns in :data:`TEXT_COLUMNS` are text fields even
        when empty.
    fixed_date
        GDAL stamps every layer with the time of writing (``last_change`` in
        ``gpkg_contents``), so two writes of the same data differ. A date here
        (``"2000-01-01T00:00:00.000Z"``: ISO 8601, UTC, milliseconds optional) is written instead,
        through GDAL's ``OGR_CURRENT_DATE`` option, and as the styles' ``update_time``: the
        same layers give the same bytes.
    styles
        QGIS styles (:func:`~dz_gis.outputs.qgis_styles.coverage_styles`), written as rows of
        the ``layer_styles`` table; none: no such table.

    Raises
    ------
    ValidationError
        A spatial layer with rows without geometry, a style for a layer not written, or a bad date.
    """
    path = Path(path)
    if fixed_date is not None and not _ISO_DATE.fullmatch(fixed_date):
        raise ValidationError(
            f"fixed_date={fixed_date!r}: write it as YYYY-MM-DDTHH:MM:SS[.sss]Z, e.g. '2000-01-01T00:00:00.000Z'."
        )
    table = _styles_table(list(styles), layers, fixed_date)
    frames = {name: _typed(_valid(gdf, name)) for name, gdf in layers.items()}
    with atomic_path(path) as tmp, _gdal_date(fixed_date):
        for i, (name, frame) in enumerate(frames.items()):
            _write(frame, tmp, name, first=i == 0)
        if table is not None:
            _write(table, tmp, "layer_styles", first=not frames)
    return path


def gap_layers(gaps: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The gap table as a QGIS user reads it: ``gaps`` on the map and ``gap_table`` in full.

    ``gaps`` (polygons) holds the rows about a place - a compound, community, street,
    district or the whole area - with its outline, to see where the gaps are. Rows about no
    place (a rule that applied to no unit, e.g. a district rule on layers without districts:
    always ``no data``) have no geometry and are left out of it, since a feature without a
    geometry cannot be drawn or selected on the map. ``gap_table`` has no geometry and every
    row, in the order of ``gaps.csv``: the complete list to sort, filter and count, as the CSV.
    """
    table = pd.DataFrame(gaps.drop(columns="geometry", errors="ignore"))
    if "geometry" not in gaps.columns:
        return {"gap_table": table}
    located = gaps[~shapely.is_missing(gaps.geometry.array)]
    return {"gaps": located.reset_index(drop=True), "gap_table": table}


def _write(frame: pd.DataFrame, path: Path, name: str, *, first: bool) -> None:
    spatial = isinstance(frame, gpd.GeoDataFrame)
    pyogrio.write_dataframe(
        frame,
        path,
        layer=name,
        driver="GPKG",
        append=not first,
        dataset_options={"VERSION": GEOPACKAGE_VERSION} if first else None,
        layer_options={"GEOMETRY_NAME": _GEOMETRY_COLUMN} if spatial else None,
    )


def _styles_table(
    styles: list[LayerStyle], layers: Mapping[str, pd.DataFrame], fixed_date: str | None
) -> pd.DataFrame | None:
    """The ``layer_styles`` table as QGIS writes it (catalog and schema empty, as QGIS looks them up)."""
    if not styles:
        return None
    unknown = sorted({s.layer for s in styles} - set(layers))
    if unknown:
        raise ValidationError(f"styles for layers that are not written: {unknown}; layers: {list(layers)}.")
    stamp = pd.Timestamp(fixed_date) if fixed_date else pd.Timestamp.now(tz="UTC").floor("ms")
    return pd.DataFrame(
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": [s.layer for s in styles],
            "f_geometry_column": [_GEOMETRY_COLUMN if _is_spatial(layers[s.layer]) else "" for s in styles],
            "styleName": [s.name for s in styles],
            "styleQML": [s.qml for s in styles],
            "styleSLD": "",
            "useAsDefault": [s.default for s in styles],
            "description": [s.description for s in styles],
            "owner": "",
            "ui": "",
            "update_time": pd.Series([stamp] * len(styles), dtype="datetime64[ms, UTC]"),
        }
    )


def _is_spatial(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns


@contextmanager
def _gdal_date(date: str | None) -> Iterator[None]:
    """GDAL's ``OGR_CURRENT_DATE`` set to ``date`` for the block, then restored."""
    if date is None:
        yield
        return
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    if before == os.environ.get("OGR_CURRENT_DATE"):
        before = None  # it came from the environment (or nowhere): unset the option, GDAL reads the variable again
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": date})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty text columns as text: all-missing values of another dtype become ``None`` of object dtype."""
    empty = [
        col for col in frame.columns if col in TEXT_COLUMNS and frame[col].dtype != object and frame[col].isna().all()
    ]
    if not empty:
        return frame
    return frame.assign(**{col: pd.Series([None] * len(frame), index=frame.index, dtype=object) for col in empty})


def _valid(gdf: pd.DataFrame, name: str) -> pd.DataFrame:
    if not _is_spatial(gdf):
        return pd.DataFrame(gdf)
    geoms = gdf.geometry.array
    missing = shapely.is_missing(geoms)
    if missing.any():
        raise ValidationError(
            f"layer {name!r}: {int(missing.sum())} of {len(gdf)} rows have no geometry; a map layer cannot show "
            "them (QGIS lists them as features without a place). Write them as a table without geometry "
            "(frame.drop(columns='geometry')), or leave them out (for the gap table: gap_layers(gaps))."
        )
    bad = ~shapely.is_valid(geoms)
    if not bad.any():
        return gdf
    fixed = np.asarray(geoms, dtype=object).copy()
    fixed[bad] = shapely.make_valid(fixed[bad], method="structure", keep_collapsed=False)
    logger.info("layer %s: %d invalid geometries repaired before writing", name, bad.sum())
    return gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))
