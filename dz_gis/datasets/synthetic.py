"""Synthetic street graphs for benchmarks and tests at sizes no bundled OSM file reaches."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

__all__ = ["synthetic_osm_file", "synthetic_street_graph"]


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
    xy, links, length = _grid(n_nodes, spacing_m, seed)
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


def _grid(n_nodes: int, spacing_m: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node coordinates (UTM 48N, near Dazhou), street links (node pairs) and their lengths."""
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
    return xy, links, length


#: Way classes of :func:`synthetic_osm_file` and their shares.
_CLASSES = (
    ("residential", 0.55),
    ("footway", 0.2),
    ("service", 0.1),
    ("tertiary", 0.08),
    ("primary", 0.05),
    ("steps", 0.02),
)


def synthetic_osm_file(path: str | Path, n_nodes: int, *, seed: int = 0, spacing_m: float = 80.0) -> Path:
    """Write the street grid of :func:`synthetic_street_graph` as an OpenStreetMap file (.osm.pbf).

    For benchmarks and tests of reading big areas: streets run as ways of up to 8 segments
    (split where a link is missing), classed residential, footway, service, tertiary,
    primary and steps; 1 in 4 primary ways is a bridge (``layer=1``, not enterable) and
    1 in 50 ways ``access=private`` (not walked). Nodes lie near Dazhou (UTM 48N). Needs
    pyosmium (``osmium``, installed with the test extra).
    """
    import osmium
    from pyproj import Transformer

    path = Path(path)
    xy, links, _ = _grid(n_nodes, spacing_m, seed)
    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    rng = np.random.default_rng(seed + 1)
    ways = _chains(links, np.int64(np.ceil(np.sqrt(n_nodes))))
    names, shares = zip(*_CLASSES, strict=True)
    cls = rng.choice(len(names), size=len(ways), p=np.array(shares) / sum(shares))
    bridge = (np.asarray(names)[cls] == "primary") & (rng.random(len(ways)) < 0.25)
    private = rng.random(len(ways)) < 0.02
    path.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(path)) as writer:
        for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
            writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(x, y)))
        for k, nodes in enumerate(ways):
            tags = {"highway": names[cls[k]]}
            if bridge[k]:
                tags.update(bridge="yes", layer="1")
            if private[k]:
                tags["access"] = "private"
            writer.add_way(osmium.osm.mutable.Way(id=k + 1, nodes=[int(v) + 1 for v in nodes], tags=tags))
    return path


def _chains(links: np.ndarray, side: np.int64, most: int = 8) -> list[np.ndarray]:
    """Grid links joined into ways: runs along a row or column, at most ``most`` segments each."""
    a, b = links[:, 0], links[:, 1]
    out: list[np.ndarray] = []
    for step in (1, side):  # along rows, then along columns
        sel = b - a == step
        starts = a[sel][np.lexsort((a[sel] // side, a[sel] % side))] if step == side else np.sort(a[sel])
        if len(starts) == 0:
            continue
        # a new way where the previous link does not end here, or every ``most`` links
        brk = np.r_[True, starts[1:] != starts[:-1] + step]
        run = np.cumsum(brk) - 1
        pos = np.arange(len(starts)) - np.flatnonzero(brk)[run]
        piece = np.cumsum(brk | (pos % most == 0)) - 1
        bounds = np.flatnonzero(np.r_[True, piece[1:] != piece[:-1], True])
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            first = starts[lo:hi]
            out.append(np.r_[first, first[-1] + step])
    diag = links[(links[:, 1] - links[:, 0] != 1) & (links[:, 1] - links[:, 0] != side)]
    out.extend(diag)
    return out
