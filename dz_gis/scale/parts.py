"""Split a study area into partitions: each one's communities, compounds, facilities and walking halo.

A partition is one value of the community layer's ``partition_by`` column (a county, district or
street). Its *core* is its communities' land and its own compounds; its *clip* is the core
buffered by the walking halo, the area its walking network is built for and the facilities it
sees. Everything here is geometry on GeoDataFrames: no network is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import ColumnError, DataFileError, ValidationError

__all__ = [
    "OSM_SUFFIXES",
    "Partition",
    "fastest_factor",
    "halo_metres",
    "network_sources",
    "require_partition_column",
    "split",
]

#: Files a network folder is read from.
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.xml")


@dataclass
class Partition:
    """One partition's inputs, as positions in the whole layers (so results go back in order)."""

    name: str
    communities: np.ndarray  #: positions in the community layer
    compounds: np.ndarray  #: positions of its own compounds
    facilities: np.ndarray  #: positions of the facilities within its clip
    clip: shapely.Geometry  #: core buffered by the halo, in the metric CRS


def network_sources(network: Any) -> list[Path]:
    """The OSM file, or the OSM files of a folder, a partitioned run builds its networks from."""
    if not isinstance(network, str | Path):
        raise ValidationError(
            "run_partitioned takes the network as an OpenStreetMap file (.osm.pbf) or a folder of them, "
            f"not a {type(network).__name__}: each partition builds its own network from the file on its "
            "worker (a networkx graph is never sent between processes)."
        )
    path = Path(network)
    if not path.exists():
        raise DataFileError(f"{path}: network file or folder not found.")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(OSM_SUFFIXES))
    if not files:
        raise DataFileError(f"{path}: the folder holds no OpenStreetMap file ({', '.join(OSM_SUFFIXES)}).")
    return files


def fastest_factor(slope_model: str, dem: Any) -> float:
    """How much faster than on the flat anyone walks on this network's fastest edge.

    Tobler's hiking function peaks on a 5 % descent at exp(3.5 × 0.05) ≈ 1.19 × the flat speed
    (:mod:`dz_gis.network.terrain`); Naismith's rule and flat ground are never faster than flat;
    steps are slower. Without a DEM every model is flat.
    """
    if dem is None or slope_model != "tobler":
        return 1.0
    return math.exp(3.5 * 0.05)


def halo_metres(halo_min: float, walk_m_per_min: float, factor: float, max_snap_m: float) -> float:
    """The straight distance no walk of ``halo_min`` minutes leaves, plus the snapping distance.

    A walk's every step is timed at most at the fastest speed (the straight walk to the street
    included), so a walk of ``halo_min`` from a home stays within ``halo_min × speed`` of it. The
    facilities at its end join every street within the circles' 25 m and always their nearest
    one (up to ``max_snap_m``): the network is kept that much farther, so each facility that can
    be reached joins exactly the streets it joins on the whole network.
    """
    return float(halo_min) * walk_m_per_min * factor + max_snap_m


def split(
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    partition_by: str,
    metric: Any,
    halo_m: float,
) -> tuple[list[Partition], np.ndarray, np.ndarray]:
    """The partitions, and for each facility the partition it lies in or nearest to (its "home") and how far.

    Compounds belong to their linked community's partition; a compound in no community to the
    partition nearest to it, so every household counts somewhere, as in a single run.
    """
    values = communities[partition_by]
    if values.isna().any():
        ids = communities.loc[values.isna(), "community_id"].astype(str).tolist()
        raise ValidationError(
            f"communities: {len(ids)} community(ies) have no {partition_by!r} ({', '.join(ids[:10])}); "
            f"fill the column (每个社区须填写{partition_by}) or partition by another column."
        )
    names = [str(v) for v in values]
    order = list(dict.fromkeys(sorted(names)))
    comm = communities.to_crs(metric)
    comp = compounds.to_crs(metric)
    part_of_comm = dict(zip(communities["community_id"].astype(str), names, strict=True))
    linked = compounds["community_id"].astype(str).map(part_of_comm)
    land = {n: shapely.union_all(comm.geometry.array[np.asarray(names) == n]) for n in order}
    lost = linked.isna().to_numpy()
    if lost.any():  # compounds in no community: the nearest partition's
        nearest = _nearest(list(land.values()), comp.geometry.array[lost])
        linked.iloc[np.flatnonzero(lost)] = [order[k] for k in nearest]
    parts, cores = [], []
    for name in order:
        own = np.flatnonzero(linked.to_numpy() == name)
        core = shapely.union_all([land[name], *comp.geometry.array[own]])
        cores.append(core)
        parts.append(
            Partition(name, np.flatnonzero(np.asarray(names) == name), own, np.array([], int), core.buffer(halo_m))
        )
    fac = facilities.to_crs(metric).geometry.array
    for part in parts:
        part.facilities = np.flatnonzero(shapely.intersects(fac, part.clip))
    home = _nearest(cores, fac)
    home_m = shapely.distance(fac, np.asarray(cores, dtype=object)[home]) if len(fac) else np.zeros(0)
    return parts, home, np.asarray(home_m, dtype=float)


def _nearest(targets: list[shapely.Geometry], points: Any) -> np.ndarray:
    """For each point, the position of the nearest target (the first of equally near ones)."""
    out = np.zeros(len(points), dtype=int)
    if len(points):
        where, hit = shapely.STRtree(targets).query_nearest(points, all_matches=False)
        out[where] = hit
    return out


def require_partition_column(communities: pd.DataFrame, partition_by: str) -> None:
    """A clear error when the community layer has no ``partition_by`` column."""
    if partition_by not in communities.columns:
        have = [c for c in ("district", "street", "county") if c in communities.columns]
        hint = f" It has {', '.join(have)}: pass partition_by={have[0]!r}." if have else ""
        raise ColumnError(
            f"communities: no column {partition_by!r} to partition by (分区列不存在).{hint} "
            "Add the county/district/street of every community (区县/街道), or name another column."
        )
