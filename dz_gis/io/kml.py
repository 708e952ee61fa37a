"""KML and KMZ files (Google Earth, 奥维互动地图, 91卫图 exports): every folder, with its attributes.

GDAL's LIBKML driver gives each KML folder its own layer, and reading "the file" reads only
the first folder (a KML with 街道 folders silently loses the others). Here every folder that
holds features is read and the rows concatenated with a ``folder`` column; ``layer=`` reads
one folder. ExtendedData names in Chinese (户数, 社区编码) are kept as written: LIBKML turns
them into ``______`` unless ``LIBKML_LAUNDER_FIELD_NAMES`` is off.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from .._errors import DataFileError

__all__ = ["read_kml"]

logger = logging.getLogger(__name__)

#: Columns LIBKML adds to every placemark; dropped when they hold nothing.
_KML_STYLE_COLUMNS = (
    "id", "description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
    "visibility", "drawOrder", "icon",
)  # fmt: skip


def _read_one(path: Path, layer: str | int) -> gpd.GeoDataFrame:
    pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    finally:
        pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": None})
    empty = [c for c in _KML_STYLE_COLUMNS if c in gdf.columns and c not in {"description"}]
    # tessellate/extrude/visibility default to -1/0 when absent; the others to empty
    return gdf.drop(columns=[c for c in empty if gdf[c].isna().all() or c in {"tessellate", "extrude", "visibility"}])


def read_kml(path: Path, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """All folders of a KML/KMZ concatenated with a ``folder`` column, or the one ``layer=`` names."""
    folders = [str(name) for name, _ in pyogrio.list_layers(path)]
    if not folders:
        raise DataFileError(f"{path}: the KML holds no placemarks (空文件). Export the features again.")
    if layer is not None:
        if (isinstance(layer, str) and layer not in folders) or (
            isinstance(layer, int) and not -len(folders) <= layer < len(folders)
        ):
            raise DataFileError(f"{path}: layer={layer!r} is not a folder of the KML; pass one of {folders}.")
        return _read_one(path, layer)
    parts = []
    for name in folders:
        part = _read_one(path, name)
        if len(part):
            parts.append(part.assign(folder=name))
    if not parts:
        return _read_one(path, folders[0])
    if len(parts) == 1:
        return parts[0].drop(columns="folder") if len(folders) == 1 else parts[0]
    families = {_family(t) for p in parts for t in p.geom_type.dropna().unique()}
    if len(families) > 1:
        raise DataFileError(
            f"{path}: the KML folders {folders} hold different kinds of features ({sorted(families)}); "
            "pass layer=... to read one folder."
        )
    logger.info("%s: %d KML folders read together: %s", path, len(parts), [p["folder"].iloc[0] for p in parts])
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=parts[0].geometry.name, crs=parts[0].crs)


def _family(geom_type: str) -> str:
    return geom_type.replace("Multi", "")
