"""Per-partition results kept on disk, keyed by everything they depend on, so a rerun redoes only what changed.

A result is kept in ``<cache_folder>/partitions/<key>.json.gz``: its tables as JSON (floats
written exactly, as Python's shortest round-trip repr), the circles as WKB: data only, never a
pickle, so a file planted in the cache folder cannot run anything. The key hashes the network
files' stamps (path, size, modification time), the partition's layers, its halo, the options and
the code that computes a result; a failed partition is never kept.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import warnings
import zlib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .. import settings
from .._atomic import atomic_path

__all__ = ["CODE_STAMP", "frame_digest", "load_result", "partition_key", "save_result", "source_stamp"]

logger = logging.getLogger(__name__)

_FORMAT = 1
_ROOT = Path(__file__).resolve().parents[1]
#: Results computed by other code are not reused.
CODE_STAMP = hashlib.sha256(
    b"".join(
        p.read_bytes()
        for pattern in ("network/*.py", "access/*.py", "pipeline.py", "demand.py", "catalog.*", "scale/task.py")
        for p in sorted(_ROOT.glob(pattern))
    )
).hexdigest()[:16]


def source_stamp(path: str | Path | None) -> str:
    """Path, size and modification time of a file ("-" for None)."""
    if path is None:
        return "-"
    st = Path(path).stat()
    return f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}"


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, values (exactly, as text) and geometries (WKB) and CRS."""
    h = hashlib.sha256(repr(list(map(str, frame.columns))).encode())
    for col in frame.columns:
        values = frame[col]
        if isinstance(values, gpd.GeoSeries):
            h.update(b"".join(shapely.to_wkb(values.array, hex=False)))
            h.update(CRS.from_user_input(values.crs).to_wkt().encode() if values.crs is not None else b"-")
        else:
            h.update(pd.util.hash_pandas_object(values.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()


def partition_key(*parts: Any) -> str:
    """A short hash of a partition's inputs (stamps, layer digests, options) and of the code."""
    return hashlib.sha256("|".join([f"v{_FORMAT}", CODE_STAMP, *map(str, parts)]).encode()).hexdigest()[:24]


def _path(key: str) -> Path:
    return Path(settings.cache_folder) / "partitions" / f"{key}.json.gz"


def _frame_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": list(map(str, frame.columns)),
        "dtypes": [str(t) for t in frame.dtypes],
        "data": [[_plain(v) for v in frame[c].tolist()] for c in frame.columns],
        "rows": len(frame),
    }


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _frame_from_json(obj: dict[str, Any]) -> pd.DataFrame:
    data = {c: pd.Series(v, dtype=t) for c, v, t in zip(obj["columns"], obj["data"], obj["dtypes"], strict=True)}
    return pd.DataFrame(data, index=pd.RangeIndex(obj["rows"]))


def save_result(key: str, result: dict[str, Any]) -> None:
    """Keep a partition's result under ``key``, atomically (a read-only cache only warns)."""
    iso = result["isochrones"]
    doc = {
        "format": _FORMAT,
        "name": result["name"],
        "walk_m_per_min": result["walk_m_per_min"],
        "stats": result["stats"],
        "warnings": result["warnings"],
        **{k: _frame_to_json(result[k]) for k in ("compounds", "facilities", "times")},
        "isochrones": None
        if iso is None
        else {
            "crs": CRS.from_user_input(iso.crs).to_wkt(),
            "table": _frame_to_json(pd.DataFrame(iso.drop(columns=iso.geometry.name))),
            "wkb": [g.hex() for g in shapely.to_wkb(iso.geometry.array)],
        },
    }
    try:
        with atomic_path(_path(key)) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, allow_nan=True)
    except OSError as exc:
        warnings.warn(f"could not keep partition {result['name']!r} in the cache ({exc}).", UserWarning, stacklevel=2)


def load_result(key: str) -> dict[str, Any] | None:
    """The kept result under ``key``, or None (a damaged file is computed again, with a warning)."""
    path = _path(key)
    if not path.exists():
        return None
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("format") != _FORMAT:
            return None
        out = {k: doc[k] for k in ("name", "walk_m_per_min", "stats", "warnings")}
        out |= {k: _frame_from_json(doc[k]) for k in ("compounds", "facilities", "times")}
        iso = doc["isochrones"]
        out["isochrones"] = (
            None
            if iso is None
            else gpd.GeoDataFrame(
                _frame_from_json(iso["table"]),
                geometry=shapely.from_wkb([bytes.fromhex(h) for h in iso["wkb"]]),
                crs=CRS.from_wkt(iso["crs"]),
            )
        )
    except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"the kept partition result {path.name} is damaged ({exc}); computing it again.", stacklevel=2)
        return None
    logger.info("partition %r reused from %s", out["name"], path)
    return out
