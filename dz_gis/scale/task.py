"""One partition's work, as it runs on a Dask worker: its own network from the file, its coverage.

The task receives file paths and the partition's layers (GeoDataFrames) and returns plain tables:
how each of its compounds and facilities joined the network, the walking times of its compounds
(times beyond the halo left empty: beyond), the walking circles, and what it cost. The walking
graph is built, used and dropped on the worker; it never crosses a process boundary.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .._errors import DataFileError, ValidationError
from ..network import Network, walk_graph_from_file, walk_network_from_file
from ..network.prepared import prepare
from ..network.snap import DEFAULT_REACH_M, snap
from ..pipeline import SNAP_COLUMNS, run_coverage

__all__ = ["build_network", "cut_off", "peak_rss_mb", "reset_peak_rss", "run_partition"]


def reset_peak_rss() -> bool:
    """Start counting this process's peak memory afresh (Linux ≥ 4.0: ``/proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB, since :func:`reset_peak_rss` (else since it started).

    Linux's ``VmHWM`` belongs to the process's own memory; ``getrusage``'s ``ru_maxrss``, the
    fallback elsewhere, is carried over from the parent across ``exec``, so a worker started by a
    big process would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def build_network(sources: list[str], clip: shapely.Geometry, net_opts: dict[str, Any], cache: bool) -> Network:
    """The walking network of the clip area (WGS84) from one OSM file or several tiles of a folder.

    One file: as arrays (:func:`dz_gis.walk_network_from_file`: no networkx graph, a fraction
    of its memory). Tiles: networkx graphs joined where the tiles meet (they share OSM node
    ids); tiles holding no way inside the area are skipped; any other error stops the task.
    """
    if len(sources) == 1:
        return walk_network_from_file(sources[0], polygon=clip, buffer_m=0.0, cache=cache, **net_opts)
    graphs, empty = [], []
    for src in sources:
        try:
            graphs.append(walk_graph_from_file(src, polygon=clip, buffer_m=0.0, cache=cache, **net_opts))
        except DataFileError as exc:
            if not any(s in str(exc) for s in ("no ways found", "no walkable ways")):
                raise
            empty.append(Path(src).name)
    if not graphs:
        raise DataFileError(
            f"no walkable way of {', '.join(empty)} lies inside this partition's area (with its halo): "
            "is the folder the right region, are the layers' coordinates right?"
        )
    return graphs[0] if len(graphs) == 1 else nx.compose_all(graphs)


def run_partition(
    name: str,
    sources: list[str],
    clip: shapely.Geometry,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    clip_m: shapely.Geometry | None = None,
    net_opts: dict[str, Any],
    run_opts: dict[str, Any],
    halo_min: float,
    halo_m: float,
    cache: bool = True,
) -> dict[str, Any]:
    """Coverage of one partition on its own network (the Dask task; see :func:`dz_gis.scale.run_partitioned`).

    ``clip`` is the partition's area with its halo (WGS84; ``clip_m`` the same in the network's
    CRS); ``layers`` its communities, own compounds and the facilities within the clip. Warnings
    are recorded and returned, so the caller repeats them once, named by partition.
    """
    start = time.perf_counter()
    reset_peak_rss()  # the peak of this task, not of the worker's earlier ones
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph = build_network(sources, clip, net_opts, cache)
        net = prepare(graph)
        max_snap_m = float(run_opts.get("max_snap_m", 250.0))
        # a walk of t minutes stays within t x the fastest speed: the halo holds walks this long
        reach_min = (halo_m - max_snap_m) / (net.fastest_mps * 60.0)
        if reach_min < halo_min - 1e-9:
            raise ValidationError(
                f"partition {name!r}: the network has a way walked at {net.fastest_mps * 60:.1f} m/min, faster "
                f"than the halo assumed; give halo_min= and walk_m_per_min= that cover it."
            )
        comp, fac = layers["compounds"], layers["facilities"]
        times, comp_snap, fac_snap, iso = _coverage(graph, layers, run_opts)
        cut = [] if clip_m is None else cut_off(graph, clip_m, layers, comp_snap, fac_snap, max_snap_m)
        if cut:
            warnings.warn(
                f"{len(cut)} compound(s)/facility(ies) lie by streets the halo cuts off from the rest of the "
                f"network ({', '.join(cut[:5])}): the clipped network joins them to its nearest main street as "
                "well, which the whole network may not; their times may be too short. Give a larger halo_min.",
                UserWarning,
                stacklevel=2,
            )
    censored = times.where(times <= halo_min)  # beyond the halo: not known here, reported as beyond
    return {
        "name": name,
        "compounds": comp_snap.reset_index(drop=True),
        "facilities": fac_snap.reset_index(drop=True),
        "times": censored.reset_index(drop=True),
        "isochrones": iso,
        "walk_m_per_min": float(graph.graph.get("walk_m_per_min", np.nan)),
        "stats": {
            "communities": len(layers["communities"]),
            "compounds": len(comp),
            "facilities": len(fac),
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "seconds": round(time.perf_counter() - start, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "worker": _worker_name(),
            "cut_off": len(cut),
        },
        "warnings": list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)),
    }


def cut_off(
    graph: Network,
    clip_m: shapely.Geometry,
    layers: dict[str, gpd.GeoDataFrame],
    comp_snap: pd.DataFrame,
    fac_snap: pd.DataFrame,
    max_snap_m: float,
) -> list[str]:
    """Ids of the points whose nearest street is on a fragment the clip cut off (it reaches the clip's edge).

    On the whole network such a street may join the main network beyond the halo; on the
    clipped one it is a fragment, and the access model joins a point by it to the nearest main
    street as well (``near_island``), a shortcut the whole network would not offer.
    """
    net = prepare(graph)
    inner = clip_m.buffer(-DEFAULT_REACH_M)
    edge_zone = ~shapely.contains_xy(inner, net.xy[:, 0], net.xy[:, 1])
    cut = set(np.unique(net.component[edge_zone]).tolist()) - {net.main_component}
    if not cut:
        return []
    ids = []
    for key, id_col, joined in (("compounds", "compound_id", comp_snap), ("facilities", "facility_id", fac_snap)):
        island = np.flatnonzero(joined["near_island"].to_numpy(dtype=bool)) if len(joined) else np.array([], int)
        if len(island) == 0:
            continue
        frame = layers[key].iloc[island]
        nearest = snap(net, frame, max_snap_m=max_snap_m).points["edge"].to_numpy(dtype=int)
        on_cut = np.isin(net.component[net.edge_u[nearest]], list(cut))
        ids += frame[id_col].astype(str).to_numpy()[on_cut].tolist()
    return ids


def _coverage(
    graph: Network, layers: dict[str, gpd.GeoDataFrame], run_opts: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame | None]:
    """Walking times of the compounds, how compounds and facilities joined, the circles."""
    comm, comp, fac = layers["communities"], layers["compounds"], layers["facilities"]
    if len(fac) == 0:  # no facility within reach of this partition: every time is beyond
        joined = snap(prepare(graph), comp, max_snap_m=run_opts.get("max_snap_m", 250.0)).points
        comp_snap = pd.DataFrame(
            {
                "snap_m": joined["snap_m"].round(1).to_numpy(),
                "streets": joined["streets"].to_numpy(),
                "reachable": ~joined["too_far"].to_numpy(),
                "near_island": joined["near_island"].to_numpy(),
            }
        )
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in SNAP_COLUMNS})
        return pd.DataFrame(index=range(len(comp))), comp_snap, empty, None
    run = run_coverage(graph, comm, comp, fac, **run_opts)
    assert run.times is not None
    times = run.times.reset_index(drop=True)
    return times, run.compounds[list(SNAP_COLUMNS)], run.facilities[list(SNAP_COLUMNS)], run.isochrones
