"""An independent computation of walking times for the tests: split edges at the snapped
points, then ask networkx for shortest paths. Shares no code with dz_gis.access."""

from collections import defaultdict

import networkx as nx
import numpy as np
import shapely


def edge_fraction(geom, pos, *, graph):
    """Share of the edge's time spent before ``pos`` metres (flat: by length; sloped: Tobler)."""
    xyz = shapely.get_coordinates(geom, include_z=shapely.has_z(geom))
    dx = np.hypot(np.diff(xyz[:, 0]), np.diff(xyz[:, 1]))
    if graph.graph.get("slope_model", "flat") == "flat" or xyz.shape[1] == 2:
        w = dx
    else:
        slope = np.diff(xyz[:, 2]) / np.where(dx > 0, dx, 1)
        w = dx / np.exp(-3.5 * (np.abs(slope + 0.05) - 0.05))
    cum = np.r_[0, np.cumsum(w)]
    return float(np.interp(pos, np.r_[0, np.cumsum(dx)], cum) / cum[-1]) if cum[-1] > 0 else 0.0


def reference_times(graph, fac_snaps, dem_snaps, speed_mps):
    """Seconds from each demand snap to the nearest facility snap (networkx on a split graph).

    Snaps are lists of (u, v, key, pos_m, snap_m) with u, v graph node ids of the edge the
    point lies on (direction u→v as stored in the graph).
    """
    g = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        w = data["walk_s"]
        if not g.has_edge(u, v) or g[u][v]["w"] > w:
            g.add_edge(u, v, w=w)
    by_edge = defaultdict(list)
    for kind, snaps in (("f", fac_snaps), ("d", dem_snaps)):
        for i, (u, v, k, pos, off) in enumerate(snaps):
            by_edge[(u, v, k)].append((pos, (kind, i), off))
    for (u, v, k), pts in by_edge.items():
        data = graph.edges[u, v, k]
        rev = next(
            (
                kk
                for kk, dd in graph.get_edge_data(v, u, default={}).items()
                if abs(dd["geometry"].length - data["geometry"].length) < 1e-3
            ),
            None,
        )
        pts.sort()
        chain = [(0.0, u)] + [(p, name) for p, name, _ in pts] + [(data["geometry"].length, v)]
        fr = [edge_fraction(data["geometry"], p, graph=graph) for p, _ in chain]
        for (_, na), (_, nb), fa, fb in zip(chain, chain[1:], fr, fr[1:], strict=False):
            g.add_edge(na, nb, w=data["walk_s"] * (fb - fa))
        if rev is not None:
            rdata = graph.edges[v, u, rev]
            L = rdata["geometry"].length
            rchain = list(reversed(chain))
            rfr = [edge_fraction(rdata["geometry"], L - p, graph=graph) for p, _ in rchain]
            for (_, na), (_, nb), fa, fb in zip(rchain, rchain[1:], rfr, rfr[1:], strict=False):
                g.add_edge(na, nb, w=rdata["walk_s"] * (fb - fa))
    for i, (*_, off) in enumerate(fac_snaps):
        g.add_edge(("f", i), "SINK", w=off / speed_mps)
    dist = nx.single_source_dijkstra_path_length(g.reverse(copy=True), "SINK", weight="w")
    out = []
    for i, (*_, off) in enumerate(dem_snaps):
        t = dist.get(("d", i), np.inf)
        out.append(t + off / speed_mps)
    return np.array(out), dist
