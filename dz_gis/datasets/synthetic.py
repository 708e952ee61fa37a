"""Synthetic street graphs for benchmarks and tests at sizes no bundled OSM file reaches."""

from __future__ import annotations

import networkx as nx
import numpy as np

__all__ = ["synthetic_street_graph"]


def synthetic_street_graph(
    n_nodes: int, *, spacing_m: float = 80.0, seed: int = 0, crs: str = "EPSG:32648", geometry: bool = True
) -> nx.MultiDiGraph:
    """A street-like test graph: a jittered grid with missing links and diagonal paths.

    For benchmarks and tests at sizes no bundled OSM file reaches. About 2 streets per
    node (each walkable both ways, so ~4 directed edges per node); 8 % of grid links are
    removed (dead ends, superblocks) and 5 % of blocks get a diagonal footpath.
    ``walk_s`` is length at 67 m/min. ``geometry=False`` leaves edge geometries out
    (straight lines are implied), as a planner's own network often does.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    ids = np.arange(side * side).reshape(side, side)
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side)), axis=-1).reshape(-1, 2) * spacing_m
    xy = xy + rng.normal(0.0, spacing_m * 0.12, xy.shape) + (500_000.0, 3_450_000.0)
    pairs = [
        np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], 1),
        np.stack([ids[:-1, :].ravel(), ids[1:, :].ravel()], 1),
    ]
    links = np.concatenate(pairs)
    links = links[rng.random(len(links)) > 0.08]
    diag = np.stack([ids[:-1, :-1].ravel(), ids[1:, 1:].ravel()], 1)
    links = np.concatenate([links, diag[rng.random(len(diag)) < 0.05]])
    length = np.hypot(*(xy[links[:, 0]] - xy[links[:, 1]]).T)
    speed = 67.0 / 60.0
    graph = nx.MultiDiGraph(crs=crs, walk_m_per_min=67.0, slope_model="flat", source="synthetic")
    graph.add_nodes_from((int(i), {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(xy))
    if geometry:
        import shapely

        geoms = shapely.linestrings(np.stack([xy[links[:, 0]], xy[links[:, 1]]], axis=1))
        rgeoms = shapely.reverse(geoms)
    for k, ((a, b), L) in enumerate(zip(links.tolist(), length.tolist(), strict=True)):
        fwd = {"length": L, "walk_s": L / speed, "highway": "footway"}
        bwd = dict(fwd)
        if geometry:
            fwd["geometry"] = geoms[k]
            bwd["geometry"] = rgeoms[k]
        graph.add_edge(a, b, **fwd)
        graph.add_edge(b, a, **bwd)
    return graph
