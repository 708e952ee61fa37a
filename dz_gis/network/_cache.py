"""The walking-graph cache: built graphs kept in ``<cache_folder>/graphs``, keyed by their inputs.

A key covers everything a graph depends on - the source (file stamp or server), the study
area, the CRS, the speed, the DEM and slope model, the walkable highway set - and a stamp of
the code that builds graphs, so a changed builder never reuses a stale graph.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from .. import settings
from .._atomic import atomic_path
from .build import STEPS_FACTOR
from .prepared import PreparedNetwork, network_from_arrays
from .ways import WALKABLE_HIGHWAYS

__all__ = ["CODE_STAMP", "file_stamp", "graph_cache_key", "load_graph", "load_network", "save_graph", "save_network"]

logger = logging.getLogger(__name__)

#: Version of the cache files' layout.
_FORMAT = 1

#: Graphs cached by an older version of the code that builds them are not reused.
CODE_STAMP = hashlib.sha256(
    b"".join(
        Path(__file__).with_name(n).read_bytes()
        for n in ("build.py", "from_file.py", "online.py", "terrain.py", "ways.py", "osm_arrays.py")
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


def _paths(key: str) -> tuple[Path, Path]:
    base = Path(settings.cache_folder) / "graphs" / key
    return base.with_suffix(".gpkg"), base.with_suffix(".json")


def _digest(data: bytes, attrs: dict) -> str:
    return hashlib.sha256(data + json.dumps(attrs, sort_keys=True).encode()).hexdigest()


def load_graph(key: str) -> nx.MultiDiGraph | None:
    """The cached graph under ``key``, or None (a damaged cache is built again, with a warning).

    The cache holds data only (a GeoPackage of nodes and edges and a JSON manifest with
    the graph's attributes and a SHA-256 of both), never code: unlike a pickle, a file
    planted in the cache folder cannot run anything, and any changed byte is noticed.
    """
    gpkg, manifest = _paths(key)
    if not (gpkg.exists() and manifest.exists()):
        return None
    try:
        info = json.loads(manifest.read_text(encoding="utf-8"))
        attrs = info["attrs"]
        if info.get("format") != _FORMAT or info.get("sha256") != _digest(gpkg.read_bytes(), attrs):
            raise ValueError("checksum does not match")
        nodes = pyogrio.read_dataframe(gpkg, layer="nodes").set_index("osmid")
        edges = pyogrio.read_dataframe(gpkg, layer="edges").set_index(["u", "v", "key"])
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
    ) as exc:
        warnings.warn(
            f"the cached walking graph {gpkg.name} is damaged ({exc}); building it again.", UserWarning, stacklevel=3
        )
        return None
    import osmnx as ox

    graph = ox.graph_from_gdfs(nodes, edges, graph_attrs={**attrs, "crs": CRS.from_wkt(attrs["crs"])})
    logger.info("walking graph reloaded from cache %s", gpkg)
    return graph


def save_graph(key: str, graph: nx.MultiDiGraph) -> None:
    """Cache ``graph`` under ``key``, atomically; a read-only cache only logs a warning."""
    import osmnx as ox

    gpkg, manifest = _paths(key)
    nodes, edges = ox.graph_to_gdfs(graph)
    attrs = {k: v for k, v in graph.graph.items() if isinstance(v, str | int | float | bool) and k != "crs"}
    attrs["crs"] = CRS.from_user_input(graph.graph["crs"]).to_wkt()
    try:
        with atomic_path(gpkg) as tmp:
            pyogrio.write_dataframe(
                nodes.drop(columns="geometry").reset_index().set_geometry(nodes.geometry.array),
                tmp,
                layer="nodes",
                driver="GPKG",
            )
            pyogrio.write_dataframe(edges.reset_index(), tmp, layer="edges", driver="GPKG", append=True)
        info = {"format": _FORMAT, "attrs": attrs, "sha256": _digest(gpkg.read_bytes(), attrs)}
        with atomic_path(manifest) as tmp:  # written last: a half-saved cache does not match
            tmp.write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
    except OSError as exc:  # a read-only cache must not stop the analysis
        logger.warning("could not cache the walking graph in %s: %s", gpkg, exc)


#: Version of the network cache's layout (arrays in an ``.npz``, no pickles).
_NETWORK_FORMAT = 1

#: The arrays a network is cached as; the derived ones (CSR, components) are rebuilt.
_ARRAYS = ("node_ids", "xy", "edge_u", "edge_v", "edge_s", "edge_rev", "edge_steps", "edge_enterable")


def _network_paths(key: str) -> tuple[Path, Path]:
    base = Path(settings.cache_folder) / "networks" / key
    return base.with_suffix(".npz"), base.with_suffix(".json")


def save_network(key: str, net: PreparedNetwork) -> None:
    """Cache ``net`` under ``key`` as plain arrays, atomically; a read-only cache only logs a warning.

    Edge geometries (3-D lines on a DEM) are kept as their coordinates and the index of
    their edge; straight edges need none.
    """
    npz, manifest = _network_paths(key)
    arrays = {name: getattr(net, name) for name in _ARRAYS}
    if arrays["node_ids"].dtype == object:
        logger.info("network not cached: its node ids are not integers")
        return
    if net.given_geom is not None:
        has = np.flatnonzero(~shapely.is_missing(net.given_geom))
        coords, index = shapely.get_coordinates(net.given_geom[has], include_z=True, return_index=True)
        arrays.update(geom_edge=has, geom_coords=coords, geom_index=index)
    attrs = {k: v for k, v in net.graph.items() if isinstance(v, str | int | float | bool) and k != "crs"}
    attrs["crs"] = CRS.from_user_input(net.crs).to_wkt()
    try:
        with atomic_path(npz) as tmp:
            np.savez(tmp, **arrays)
        info = {"format": _NETWORK_FORMAT, "attrs": attrs, "sha256": _digest(npz.read_bytes(), attrs)}
        with atomic_path(manifest) as tmp:  # written last: a half-saved cache does not match
            tmp.write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
    except OSError as exc:  # a read-only cache must not stop the analysis
        logger.warning("could not cache the walking network in %s: %s", npz, exc)


def load_network(key: str) -> PreparedNetwork | None:
    """The cached network under ``key``, or None (a damaged or older cache is built again, with a warning)."""
    npz, manifest = _network_paths(key)
    if not (npz.exists() and manifest.exists()):
        return None
    try:
        info = json.loads(manifest.read_text(encoding="utf-8"))
        attrs = dict(info["attrs"])
        if info.get("format") != _NETWORK_FORMAT or info.get("sha256") != _digest(npz.read_bytes(), attrs):
            raise ValueError("checksum or format does not match")
        with np.load(npz, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        geometry = None
        if "geom_edge" in arrays:
            geometry = np.full(len(arrays["edge_u"]), None, dtype=object)
            coords = arrays["geom_coords"]
            geometry[arrays["geom_edge"]] = shapely.linestrings(
                coords if np.isfinite(coords[:, 2]).any() else coords[:, :2], indices=arrays["geom_index"]
            )
        crs = CRS.from_wkt(attrs.pop("crs"))
        speed, model = float(attrs.pop("walk_m_per_min")), str(attrs.pop("slope_model"))
        net = network_from_arrays(
            arrays["node_ids"],
            arrays["xy"],
            arrays["edge_u"],
            arrays["edge_v"],
            arrays["edge_s"],
            crs=crs,
            walk_m_per_min=speed,
            slope_model=model,
            steps=arrays["edge_steps"],
            enterable=arrays["edge_enterable"],
            geometry=geometry,
            reverse=arrays["edge_rev"],
            attrs=attrs,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        warnings.warn(
            f"the cached walking network {npz.name} is damaged ({exc}); building it again.", UserWarning, stacklevel=3
        )
        return None
    logger.info("walking network reloaded from cache %s", npz)
    return net
