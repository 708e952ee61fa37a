"""Where the data files shipped with dz_gis live, and reading their layers.

In a source checkout they are the repository's top-level ``data/`` folder; a wheel carries
the same files as package data in ``dz_gis/datasets/data/``. ``DZ_GIS_DATA`` overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pyogrio

from .._errors import DataFileError

__all__ = ["data_dir", "read_layer"]

_PACKAGED = Path(__file__).resolve().with_name("data")
_CHECKOUT = Path(__file__).resolve().parents[2] / "data"


def data_dir() -> Path:
    """The folder holding ``boundaries/`` and ``facilities/`` (``DZ_GIS_DATA`` overrides it)."""
    env = os.environ.get("DZ_GIS_DATA")
    if env:
        return Path(env)
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


def read_layer(path: Path, layer: str, *, rebuild: str) -> gpd.GeoDataFrame:
    """One layer of a shipped GeoPackage; a missing or broken file says how to rebuild it.

    ``rebuild`` names the script that makes the file (``build_sample_data.py``).
    """
    how = (
        f"In a source checkout, rebuild it with `python scripts/{rebuild}` (or the Makefile's target); "
        "an installed dz_gis carries this file itself, so reinstall it."
    )
    if not path.exists():
        raise DataFileError(f"{path} is missing (找不到数据文件). {how}")
    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DataFileError(f"{path}: cannot read layer {layer!r} ({exc}). {how}") from None
