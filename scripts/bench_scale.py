"""A coverage run partitioned on Dask against the same run in one process: wall time, memory, equality.

Run from the repository root (needs the ``scale`` extra)::

    python scripts/bench_scale.py                        # the bundled sample, by street (2 parts)
    python scripts/bench_scale.py --province 200000      # a synthetic 8-district "province" of ~200,000 nodes
    python scripts/bench_scale.py --province 2000000 --no-single   # 2M nodes, partitioned only

The synthetic province is a street grid written as an .osm.pbf (pyosmium), cut into 8 districts
of 4 communities each, with compounds on every block row and facilities of four kinds spread over
it. Both runs build their networks from the file with no cache (the single run the whole file,
each partition its district plus the halo); the partitioned run uses a local cluster of one
worker process per core. Printed: wall times, the peak resident memory of the single process and
of each worker, and the largest difference between the two runs' coverage shares and times.
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

import dz_gis
from dz_gis.scale import run_partitioned

CRS = "EPSG:4545"


def province(nodes: int, folder: Path, spacing: float = 80.0):
    """A grid province of ``nodes`` nodes as a PBF, and its layers (8 districts x 4 communities)."""
    import osmium

    side_y = int(np.sqrt(nodes / 8 * 2))  # 8 districts side by side, each twice as tall as wide
    side_x = max(8, nodes // side_y)
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    xs, ys = np.meshgrid(np.arange(side_x) * spacing, np.arange(side_y) * spacing)
    lon, lat = to_lonlat.transform(xs.ravel(), ys.ravel())
    path = folder / "province.osm.pbf"
    with osmium.SimpleWriter(str(path)) as w:
        for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
            w.add_node(osmium.osm.mutable.Node(id=i + 1, location=(x, y)))
        wid = 1
        for j in range(side_y):
            w.add_way(
                osmium.osm.mutable.Way(
                    id=wid, nodes=list(range(j * side_x + 1, (j + 1) * side_x + 1)), tags={"highway": "residential"}
                )
            )
            wid += 1
        for i in range(side_x):
            w.add_way(
                osmium.osm.mutable.Way(
                    id=wid, nodes=list(range(i + 1, side_x * side_y + 1, side_x)), tags={"highway": "footway"}
                )
            )
            wid += 1
    width, height = (side_x - 1) * spacing, (side_y - 1) * spacing
    comm, comp, fac = [], [], []
    rng = np.random.default_rng(0)
    for d in range(8):
        for q in range(4):
            x0, x1 = d * width / 8, (d + 1) * width / 8
            y0, y1 = q * height / 4, (q + 1) * height / 4
            cid = f"D{d}C{q}"
            comm.append(
                {
                    "community_id": cid,
                    "name": cid,
                    "district": f"区{d}",
                    "street": f"D{d}S{q // 2}",
                    "geometry": shapely.box(x0, y0, x1, y1),
                }
            )
            px = rng.uniform(x0, x1, 40)
            py = rng.uniform(y0, y1, 40)
            comp += [
                {"compound_id": f"{cid}-{k}", "community_id": cid, "households": 300, "geometry": shapely.Point(a, b)}
                for k, (a, b) in enumerate(zip(px, py, strict=True))
            ]
    for k, cat in enumerate(["park", "health_station", "convenience_store", "community_service"]):
        n = 16 * (k + 1)
        fac += [
            {
                "facility_id": f"{cat}-{i}",
                "category": cat,
                "geometry": shapely.Point(rng.uniform(0, width), rng.uniform(0, height)),
            }
            for i in range(n)
        ]
    layers = [gpd.GeoDataFrame(rows, crs=CRS).to_crs(4326) for rows in (comm, comp, fac)]
    return path, *layers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--province", type=int, default=0, help="nodes of a synthetic province (default: the sample)")
    ap.add_argument("--no-single", action="store_true", help="skip the single-process run")
    ap.add_argument("--halo-min", type=float, default=None, help="halo in minutes (default: 4 x the longest band)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("distributed", "pyrosm", "pyogrio", "dz_gis.access", "dz_gis.network", "dz_gis.plan"):
        logging.getLogger(name).setLevel(logging.WARNING)
    dz_gis.settings.cache_folder = Path(tempfile.mkdtemp(prefix="dz_gis_bench_"))
    if args.province:
        path, comm, comp, fac = province(args.province, dz_gis.settings.cache_folder)
        by = "district"
    else:
        s = dz_gis.load_sample()
        path, comm, comp, fac, by = s.osm_path, s.communities, s.compounds, s.facilities, "street"
    single = None
    if not args.no_single:
        t0 = time.perf_counter()
        graph = dz_gis.walk_graph_from_file(path, cache=False)
        single = dz_gis.run_coverage(graph, comm, comp, fac)
        check = dz_gis.check_plan(single, dz_gis.load_rules())
        t_single = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"single process: {graph.number_of_nodes():,} nodes, {t_single:.1f} s, peak {peak:.0f} MB")
        del graph
    t0 = time.perf_counter()
    part = run_partitioned(path, comm, comp, fac, partition_by=by, halo_min=args.halo_min, cache=False)
    t_part = time.perf_counter() - t0
    print(
        f"partitioned by {by}: {len(part.report)} partitions, halo {part.halo_min:g} min = {part.halo_m:.0f} m, "
        f"{t_part:.1f} s"
    )
    print(part.report.drop(columns=["error"]).to_string(index=False))
    print(part.workers.to_string())
    if single is not None:
        shares = [c for c in single.communities if c.startswith(("cov_", "covpop_"))]
        d_cov = np.nanmax(
            np.abs(part.run.communities[shares].to_numpy(float) - single.communities[shares].to_numpy(float))
        )
        h = part.halo_min
        a, b = single.times.where(single.times <= h).to_numpy(float), part.run.times.to_numpy(float)
        d_t = np.nanmax(np.abs(a - b)) if np.isfinite(a).any() else 0.0
        same_nan = bool((np.isnan(a) == np.isnan(b)).all())
        gaps = [c for c in check.gaps.columns if c not in ("geometry", "detail")]
        same_gaps = part.check is not None and part.check.gaps[gaps].equals(check.gaps[gaps])
        same_ind = part.check is not None and part.check.indicators.equals(check.indicators)
        print(
            f"max |share difference| {d_cov:.2e}, max |time difference| {d_t:.2e} min (beyond halo empty: {same_nan}), "
            f"gap table equal: {same_gaps}, indicators equal: {same_ind}"
        )


if __name__ == "__main__":
    main()
