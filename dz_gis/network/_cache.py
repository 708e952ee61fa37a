"""The walking-graph cache: built graphs pickled in ``<cache_folder>/graphs``, keyed by their inputs.

A key covers everything a graph depends on - the source (file stamp or server), the study
area, the CRS, the speed, the DEM and slope model, the walkable highway set - and a stamp of
the code that builds graphs, so a changed builder never reuses a stale graph.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path
from typing import Any

import networkx as nx
from pyproj import CRS

from .. import settings
from .._atomic import atomic_path
from .build import STEPS_FACTOR
from .ways import WALKABLE_HIGHWAYS

__all__ = ["CODE_STAMP", "file_stamp", "graph_cache_key", "load_graph", "save_graph"]

logger = logging.getLogger(__name__)

#: Graphs cached by an older version of the code that builds them are not reused.
CODE_STAMP = hashlib.sha256(
    b"".join(
        Path(__file__).with_name(n).read_bytes()
        for n in ("build.py", "from_file.py", "online.py", "terrain.py", "ways.py")
    )
).hexdigest()[:16]


def file_stamp(path: str | Path | None) -> str:
    """Path, size and modification time of a file ("-" for None)."""
    if path is None:
        return "-"
    st = Path(path).stat()
    return f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}"


def graph_cache_key(kind: str, source: str, *, area: Any, crs: Any, speed: Any, dem_stamp: str, model: str) -> str:
    """A short hash of everything a built walking graph depends on (``model``: "flat" without a DEM)."""
    parts = [
        kind,
        CODE_STAMP,
        source,
        area.wkt if area is not None else "-",
        str(CRS.from_user_input(crs).to_wkt()) if crs is not None else "-",
        str(speed or settings.walk_m_per_min),
        dem_stamp,
        model,
        ",".join(sorted(WALKABLE_HIGHWAYS)),
        str(STEPS_FACTOR),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def _path(key: str) -> Path:
    return Path(settings.cache_folder) / "graphs" / f"{key}.pickle"


def load_graph(key: str) -> nx.MultiDiGraph | None:
    """The cached graph under ``key``, or None (also for an unreadable cache file)."""
    path = _path(key)
    if not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            graph = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        logger.warning("ignoring unreadable graph cache %s", path)
        return None
    logger.info("walking graph reloaded from cache %s", path)
    return graph


def save_graph(key: str, graph: nx.MultiDiGraph) -> None:
    """Cache ``graph`` under ``key``, atomically; a read-only cache only logs a warning."""
    path = _path(key)
    try:
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            pickle.dump(graph, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:  # a read-only cache must not stop the analysis
        logger.warning("could not cache the walking graph in %s: %s", path, exc)
