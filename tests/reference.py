"""An independent computation of walking times for the tests: the access model written plainly.

Points join streets by brute force (every edge measured), the edges are split at the joins,
and networkx finds the shortest paths. Shares no code with dz_gis.access or dz_gis.network.snap.
"""

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


def _geom(graph, u, v, data):
    geom = data.get("geometry")
    if geom is None:
        a, b = graph.nodes[u], graph.nodes[v]
        geom = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
    return geom


def reference_joins(graph, points, *, reach_m=25.0, max_snap_m=250.0):
    """Per point, the streets it joins: [(u, v, key, pos_m, snap_m), ...].

    Every enterable edge within max(nearest distance, reach) joins; so does every main-network
    edge within max(nearest main distance, reach), so a point by a fragment joins both.
    """
    main = max(nx.weakly_connected_components(graph), key=len)
    rows = [
        (u, v, k, _geom(graph, u, v, d)) for u, v, k, d in graph.edges(keys=True, data=True) if d.get("enterable", True)
    ]
    geoms = np.array([r[3] for r in rows], dtype=object)
    on_main = np.array([r[0] in main for r in rows])
    pts = shapely.point_on_surface(points.to_crs(graph.graph["crs"]).geometry.to_numpy())
    out = []
    for p in pts:
        d = shapely.distance(p, geoms)
        d_main = d[on_main].min()
        ok = (d <= max(d.min(), reach_m)) | (on_main & (d <= max(d_main, reach_m)))
        ok &= d <= max_snap_m
        out.append([(*rows[i][:3], float(geoms[i].project(p)), float(d[i])) for i in np.flatnonzero(ok)])
    return out


def reference_times(graph, fac_joins, dem_joins, speed_mps):
    """Seconds from each demand point to the nearest facility (networkx on a split graph).

    Joins are per point lists of (u, v, key, pos_m, snap_m) with u, v graph node ids of the
    edge joined (direction u→v as stored in the graph); a bare tuple is one join.
    """
    fac_joins = [[j] if isinstance(j, tuple) else j for j in fac_joins]
    dem_joins = [[j] if isinstance(j, tuple) else j for j in dem_joins]
    g = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        w = data["walk_s"]
        if not g.has_edge(u, v) or g[u][v]["w"] > w:
            g.add_edge(u, v, w=w)
    by_edge = defaultdict(list)
    for kind, joins in (("f", fac_joins), ("d", dem_joins)):
        for i, point_joins in enumerate(joins):
            for j, (u, v, k, pos, off) in enumerate(point_joins):
                by_edge[(u, v, k)].append((pos, (kind, i, j), off))
    for (u, v, k), pts in by_edge.items():
        data = graph.edges[u, v, k]
        geom = _geom(graph, u, v, data)
        rev = next(
            (
                kk
                for kk, dd in graph.get_edge_data(v, u, default={}).items()
                if abs(_geom(graph, v, u, dd).length - geom.length) < 1e-3
            ),
            None,
        )
        pts.sort()
        chain = [(0.0, u)] + [(p, name) for p, name, _ in pts] + [(geom.length, v)]
        fr = [edge_fraction(geom, p, graph=graph) for p, _ in chain]
        for (_, na), (_, nb), fa, fb in zip(chain, chain[1:], fr, fr[1:], strict=False):
            g.add_edge(na, nb, w=data["walk_s"] * (fb - fa))
        if rev is not None:
            rdata = graph.edges[v, u, rev]
            rgeom = _geom(graph, v, u, rdata)
            L = rgeom.length
            rchain = list(reversed(chain))
            rfr = [edge_fraction(rgeom, L - p, graph=graph) for p, _ in rchain]
            for (_, na), (_, nb), fa, fb in zip(rchain, rchain[1:], rfr, rfr[1:], strict=False):
                g.add_edge(na, nb, w=rdata["walk_s"] * (fb - fa))
    for i, point_joins in enumerate(fac_joins):
        for j, (*_, off) in enumerate(point_joins):
            g.add_edge(("f", i, j), "SINK", w=off / speed_mps)
    dist = nx.single_source_dijkstra_path_length(g.reverse(copy=True), "SINK", weight="w")
    out = []
    for i, point_joins in enumerate(dem_joins):
        best = min(
            (dist.get(("d", i, j), np.inf) + off / speed_mps for j, (*_, off) in enumerate(point_joins)), default=np.inf
        )
        out.append(best)
    return np.array(out), dist
