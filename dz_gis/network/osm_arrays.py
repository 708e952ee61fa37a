"""OpenStreetMap ways as arrays, read with pyosmium: the networkx-free path for big areas.

pyrosm builds a GeoDataFrame with a LineString per way segment (1.7 GB for a
1,000,000-node file before any graph exists); pyosmium streams the file in C++ and hands
each way's tags and node locations over once, which are kept in flat arrays (8 bytes per
node reference). The way selection is pyrosm's ``network_type="all"`` (a ``highway``
tag; not ``area=yes``; not an abandoned, planned or proposed highway) so that
:func:`dz_gis.network.walk_network_from_file` walks the same ways as
:func:`dz_gis.network.walk_graph_from_file`; the walking rules of
:mod:`dz_gis.network.ways` are applied afterwards by the caller.
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import NamedTuple, cast

import numpy as np
import pandas as pd
import shapely

from .._errors import DataFileError
from .._gc import gc_paused
from .ways import WAY_TAGS

__all__ = ["OsmWays", "read_osm_ways"]

#: ``highway`` values pyrosm's "all" network leaves out (as OSMnx's "all").
_EXCLUDED_HIGHWAY = frozenset(
    {
        "abandoned",
        "construction",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "services",
    }
)
_KEPT = frozenset(WAY_TAGS)


class OsmWays(NamedTuple):
    """Ways of an OSM file: tags, and their nodes as one flat list."""

    #: one row per distinct combination of tags (of :data:`dz_gis.network.ways.WAY_TAGS`), a column per tag
    tags: pd.DataFrame
    kind: np.ndarray  #: row of ``tags`` of each way
    start: np.ndarray  #: way ``i``'s nodes are ``ref[start[i]:start[i + 1]]``
    ref: np.ndarray  #: OSM node ids
    lon: np.ndarray  #: node longitude (WGS84) at each reference
    lat: np.ndarray


def read_osm_ways(path: Path, area: shapely.Geometry | None = None, *, pyrosm_rules: bool = True) -> OsmWays:
    """The highway ways of an OSM file (.osm.pbf, .osm, .osm.bz2), with node locations.

    With ``area`` (WGS84) only ways with a node in its bounding box are kept (the caller
    clips segments to the area itself). ``pyrosm_rules``: leave out the ways pyrosm's
    "all" network leaves out (as :func:`dz_gis.network.walk_graph_from_file` reads .pbf
    files); without, every way with a ``highway`` tag (as OSMnx reads OSM XML).

    Raises
    ------
    DataFileError
        If the file cannot be read as OSM or holds no highway ways.
    """
    import osmium

    kinds: dict[tuple, int] = {}  # ways share few tag combinations: each is kept once
    kind, start, ref, lon, lat = array("q"), array("q", [0]), array("q"), array("d"), array("d")
    box = shapely.bounds(area) if area is not None else None
    try:
        with gc_paused():  # a tuple per way: no full collections meanwhile
            processor = (
                osmium.FileProcessor(str(path))
                .with_locations()
                .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                .with_filter(osmium.filter.KeyFilter("highway"))
            )
            for obj in processor:
                way = cast("osmium.osm.Way", obj)  # the filter passes ways only
                tags = tuple(sorted((k, v) for k, v in way.tags if k in _KEPT))
                if pyrosm_rules and not _network_way(dict(tags)):
                    continue
                nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
                if len(nodes) < 2:
                    continue
                ids, xs, ys = zip(*nodes, strict=True)
                if box is not None and not _touches(xs, ys, box):
                    continue
                kind.append(kinds.setdefault(tags, len(kinds)))
                ref.extend(ids)
                lon.extend(xs)
                lat.extend(ys)
                start.append(len(ref))
    except (RuntimeError, ValueError, OSError) as exc:  # libosmium reports bad files as RuntimeError
        raise DataFileError(f"{path}: cannot read it as an OpenStreetMap file ({exc}).") from None
    if not kind:
        raise DataFileError(f"{path}: no ways found inside the study area.")
    rows = [dict(k) for k in kinds]
    tags = pd.DataFrame.from_records(rows, columns=[t for t in WAY_TAGS if any(t in r for r in rows)])
    return OsmWays(
        tags,
        np.frombuffer(kind, dtype=np.int64),
        np.frombuffer(start, dtype=np.int64),
        np.frombuffer(ref, dtype=np.int64),
        np.frombuffer(lon, dtype=np.float64),
        np.frombuffer(lat, dtype=np.float64),
    )


def _network_way(tags: dict) -> bool:
    """The "all" network of pyrosm: no ``area=yes`` (also in a list), no excluded ``highway`` value."""
    if "yes" in _values(tags.get("area")):
        return False
    return _EXCLUDED_HIGHWAY.isdisjoint(_values(tags.get("highway")))


def _values(text: str | None) -> set[str]:
    return {part.strip() for part in text.split(";")} if text else set()


def _touches(xs: tuple, ys: tuple, box: np.ndarray) -> bool:
    """Whether a node of the way lies in the bounding box ``box`` (minx, miny, maxx, maxy)."""
    x, y = np.asarray(xs), np.asarray(ys)
    return bool(((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])).any())
