"""Coverage runs partitioned by district on a real Dask cluster give the numbers of a single run.

The cluster is a local one of two worker processes talking over 127.0.0.1 (the only host the
sockets may reach here); each partition builds its own network from the OSM file on its worker.
"""

import re
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Transformer

from dz_gis import ColumnError, DzGisError, ValidationError, settings
from dz_gis.network import walk_graph_from_file
from dz_gis.pipeline import check_plan, run_coverage
from dz_gis.plan import load_rules
from dz_gis.scale import run_partitioned
from dz_gis.scale.run import connect

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

GRID_M = 100.0  # street spacing of the synthetic town
DISTRICTS = "ABCD"  # 1 km wide each, west to east
CRS = "EPSG:4545"  # CGCS2000 3-degree Gauss-Krueger CM 108E (Dazhou)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("scale_cache")
        mp.setattr(settings, "cache_folder", folder)
        yield folder


def assert_same_tables(single, check, part, *, halo):
    """Partitioned vs single: coverage, times, gaps and indicators equal; times beyond the halo empty."""
    a, b = single.communities, part.run.communities
    assert list(a.columns) == list(b.columns) and a["community_id"].tolist() == b["community_id"].tolist()
    shares = [c for c in a.columns if c.startswith(("cov_", "covpop_"))]
    np.testing.assert_allclose(b[shares].to_numpy(float), a[shares].to_numpy(float), rtol=0, atol=1e-9)
    walks = [c for c in a.columns if c.startswith(("p50_", "p90_"))]
    expected = a[walks].where(a[walks] <= halo).to_numpy(float)  # beyond the halo: reported as beyond
    np.testing.assert_allclose(b[walks].to_numpy(float), expected, rtol=0, atol=1e-9)
    assert list(part.run.times.columns) == list(single.times.columns)
    expected = single.times.where(single.times <= halo).to_numpy(float)
    np.testing.assert_allclose(part.run.times.to_numpy(float), expected, rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(part.run.summary, single.summary, check_exact=False, rtol=0, atol=1e-9)
    ga, gb = check.gaps, part.check.gaps
    cols = [c for c in ga.columns if c not in ("detail", "geometry")]
    pd.testing.assert_frame_equal(pd.DataFrame(gb[cols]), pd.DataFrame(ga[cols]), check_exact=False, atol=1e-9)
    same_place = ga.geometry.geom_equals(gb.geometry) | (ga.geometry.isna() & gb.geometry.isna())
    assert same_place.all()
    beyond = gb["detail"].str.contains(f"(?:over|within) {halo:g} min")
    differ = (gb["detail"] != ga["detail"]) & ~beyond
    assert not differ.any(), pd.concat([ga["detail"], gb["detail"]], axis=1)[differ].to_string()
    pd.testing.assert_frame_equal(part.check.indicators, check.indicators, check_exact=False, atol=1e-9)


# ------------------------------------------------------------------ the bundled sample, by street


@pytest.fixture(scope="module")
def sample_runs(sample, client, cache):
    single = run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False)
    check = check_plan(single, load_rules())
    kw = {"partition_by": "street", "client": client, "with_isochrones": False}
    first = run_partitioned(sample.osm_path, sample.communities, sample.compounds, sample.facilities, **kw)
    again = run_partitioned(sample.osm_path, sample.communities, sample.compounds, sample.facilities, **kw)
    return single, check, first, again


def test_sample_by_street_equals_the_single_run(sample_runs):
    single, check, part, _ = sample_runs
    assert part.complete and len(part.report) == 2 and (part.report["status"] == "done").all()
    assert part.halo_min == 60  # the default: the horizon a single run computes times to
    # with the default halo every table is the single run's, column for column
    assert_geodataframe_equal(part.run.communities, single.communities)
    assert_geodataframe_equal(part.run.compounds, single.compounds)
    assert_geodataframe_equal(part.run.facilities, single.facilities)
    pd.testing.assert_frame_equal(part.run.unreachable, single.unreachable)
    pd.testing.assert_frame_equal(part.run.times, single.times)
    pd.testing.assert_frame_equal(part.run.summary, single.summary)
    assert_geodataframe_equal(part.check.gaps, check.gaps)
    pd.testing.assert_frame_equal(part.check.indicators, check.indicators)
    assert_same_tables(single, check, part, halo=60)


def test_sample_rerun_reuses_every_partition_and_reports_memory(sample_runs):
    single, check, first, again = sample_runs
    assert (again.report["status"] == "cached").all()
    assert_geodataframe_equal(again.run.compounds, single.compounds)  # kept results read back exactly
    assert_geodataframe_equal(again.check.gaps, check.gaps)
    report = first.report
    assert (report["peak_rss_mb"] > 50).all() and (report["nodes"] > 1000).all()
    assert report["worker"].str.startswith("tcp://127.0.0.1").all()
    assert first.workers["peak_rss_mb"].gt(50).all()


# ------------------------------------------------------ a synthetic town of four districts


def _town(d_shift_m=0.0):
    """A street grid 4 km x 1.2 km near Dazhou; districts A-D of two communities each, 15 compounds each."""
    rows = []
    for k, d in enumerate(DISTRICTS):
        for j, (y0, y1) in enumerate(((0, 600), (600, 1200))):
            shift = d_shift_m if d == "D" else 0.0
            box = shapely.box(k * 1000, y0 + shift, (k + 1) * 1000, y1 + shift)
            rows.append(
                {
                    "community_id": f"{d}{j + 1}",
                    "name": f"{d}{j + 1}社区",
                    "district": d,
                    "street": f"{d}-st",
                    "geometry": box,
                }
            )
    comm = gpd.GeoDataFrame(rows, crs=CRS)
    comp = []
    for c in comm.itertuples():
        x0, y0, _, _ = c.geometry.bounds
        for i in range(5):
            for j in range(3):
                comp.append(
                    {
                        "compound_id": f"{c.community_id}-{i}{j}",
                        "community_id": c.community_id,
                        "households": 100 + 10 * i,
                        "geometry": shapely.Point(x0 + 150 + 200 * i, y0 + 150 + 200 * j),
                    }
                )
    fac = [
        ("park", 1200, 350),  # 200 m over the A|B line: serves A's eastern compounds
        ("health_station", 500, 300),
        ("health_station", 2500, 900),
        ("health_station", 3500, 300),
        *[("convenience_store", 500 + 1000 * k, 650) for k in range(4)],
        *[("community_service", 450 + 1000 * k, 250 + 600 * j) for k in range(4) for j in range(2)],
    ]
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"F{i}" for i in range(len(fac))], "category": [f[0] for f in fac]},
        geometry=[shapely.Point(x + 20, y + 20) for _, x, y in fac],  # 20 m off the streets
        crs=CRS,
    )
    return comm.to_crs(4326), gpd.GeoDataFrame(comp, crs=CRS).to_crs(4326), facilities.to_crs(4326)


def _write_grid_osm(path, cols=range(41)):
    """The town's street grid as OSM XML (``cols``: the columns of a tile; tiles share their edge column)."""
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    nx_, ny = 41, 13
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='dz_gis tests'>"]
    for j in range(ny):
        for i in cols:
            lon, lat = to_lonlat.transform(i * GRID_M, j * GRID_M)
            lines.append(f"  <node id='{1 + j * nx_ + i}' lat='{lat:.7f}' lon='{lon:.7f}'/>")
    for j in range(ny):  # east-west streets
        refs = "".join(f"<nd ref='{1 + j * nx_ + i}'/>" for i in cols)
        lines.append(f"  <way id='{10_000 + j}'>{refs}<tag k='highway' v='residential'/></way>")
    for i in cols:  # north-south streets
        refs = "".join(f"<nd ref='{1 + j * nx_ + i}'/>" for j in range(ny))
        lines.append(f"  <way id='{20_000 + i}'>{refs}<tag k='highway' v='residential'/></way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def town(tmp_path_factory, client, cache):
    osm = _write_grid_osm(tmp_path_factory.mktemp("town") / "town.osm")
    comm, comp, fac = _town()
    single = run_coverage(walk_graph_from_file(osm), comm, comp, fac, with_isochrones=False)
    check = check_plan(single, load_rules())
    kw = {"partition_by": "district", "client": client, "halo_min": 15, "with_isochrones": False}
    broken = _town(d_shift_m=20_000)  # district D drawn 20 km off: no street there
    with pytest.warns(UserWarning, match="1 partition.s. failed: D .*DataFileError"):
        failed = run_partitioned(osm, *broken, **kw)
    fixed = run_partitioned(osm, comm, comp, fac, **kw)
    return single, check, failed, fixed, (comm, comp, fac), osm


def town_osm(town):
    return town[-1]


def test_town_partitions_build_clipped_networks_and_equal_the_single_run(town):
    single, check, _, part, *_ = town
    assert part.complete and part.halo_min == 15
    assert part.halo_m == pytest.approx(15 * 67 + 250)
    # each district's network is its land plus the halo, not the whole town
    assert (part.report.set_index("partition")["nodes"] < 41 * 13).all()
    assert_same_tables(single, check, part, halo=15)
    # times beyond the halo are beyond, never a longer or shorter number
    beyond = single.times > 15
    assert beyond.to_numpy().any() and part.run.times.where(beyond).isna().all().all()


def test_a_facility_200_m_over_the_district_line_still_counts(town):
    single, _, _, part, *_ = town
    comp = part.run.compounds.set_index("compound_id")
    near = comp.loc["A1-41", "walk_min_park"]  # 250 m west of the park, across the A|B line
    assert near < 6 and near == pytest.approx(single.compounds.set_index("compound_id").loc["A1-41", "walk_min_park"])
    a1 = part.run.communities.set_index("community_id").loc["A1"]
    assert 0 < a1["cov_park_10min"] <= a1["cov_park_15min"] < 1


def test_failed_partition_is_reported_by_name_and_the_rerun_computes_only_it(town):
    _, _, failed, fixed, *_ = town
    report = failed.report.set_index("partition")
    assert report.loc["D", "status"] == "failed"
    assert re.search("no walkable ways|no ways found inside the study area", report.loc["D", "error"])
    assert (report.loc[["A", "B", "C"], "status"] == "done").all()
    assert set(failed.failed) == {"D"} and not failed.complete and failed.check is None
    assert set(failed.run.communities["district"]) == {"A", "B", "C"}  # the others finished
    assert not failed.run.compounds["community_id"].str.startswith("D").any()
    status = fixed.report.set_index("partition")["status"]
    assert status.to_dict() == {"A": "cached", "B": "cached", "C": "cached", "D": "done"}


def test_a_folder_of_tiles_gives_the_same_numbers(town, client, tmp_path):
    """Two OSM tiles meeting at x = 2 km: the parts across the seam join their pieces by OSM node id."""
    single, check, _, _, layers, _ = town
    _write_grid_osm(tmp_path / "west.osm", cols=range(21))
    _write_grid_osm(tmp_path / "east.osm", cols=range(20, 41))
    (tmp_path / "notes.txt").write_text("not a tile")
    part = run_partitioned(
        tmp_path, *layers, partition_by="district", client=client, halo_min=15, with_isochrones=False
    )
    assert part.complete
    assert_same_tables(single, check, part, halo=15)


def test_a_facility_beyond_every_halo_is_listed_unjoined_and_written(town, client, tmp_path):
    from dz_gis.outputs import write_outputs

    single, _, _, _, (comm, comp, fac), _ = town
    far = gpd.GeoDataFrame(
        {"facility_id": ["FAR"], "category": ["park"]}, geometry=[shapely.Point(30_000, 500)], crs=CRS
    )
    fac = pd.concat([fac, far.to_crs(4326)], ignore_index=True)
    part = run_partitioned(
        town_osm(town), comm, comp, fac, partition_by="district", client=client, halo_min=15, with_isochrones=False
    )
    row = part.run.facilities.set_index("facility_id").loc["FAR"]
    assert np.isnan(row["snap_m"]) and pd.isna(row["reachable"]) and pd.isna(row["near_island"])
    assert "FAR" not in set(part.run.unreachable["id"])  # not joined is not "too far": it was never tried
    assert part.run.facilities["reachable"].iloc[:-1].all()
    shares = single.summary.drop(columns="facilities")
    pd.testing.assert_frame_equal(part.run.summary.drop(columns="facilities"), shares)  # it serves no one
    write_outputs(part.run, part.check, tmp_path / "out", web_map=False, folio=False)
    written = gpd.read_file(tmp_path / "out" / "coverage.gpkg", layer="facilities")
    assert "FAR" in set(written["facility_id"])


def _write_river_town(path):
    """41 x 41 streets 100 m apart; a river between x = 2000 and 2100 m, one bridge at y = 4000 m."""
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    n = 41
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<osm version='0.6' generator='dz_gis tests'>"]
    for j in range(n):
        for i in range(n):
            lon, lat = to_lonlat.transform(i * GRID_M, j * GRID_M)
            lines.append(f"  <node id='{1 + j * n + i}' lat='{lat:.7f}' lon='{lon:.7f}'/>")
    way = 10_000
    for j in range(n):  # east-west streets, cut by the river but on the bridge row
        for cols in [range(n)] if j == n - 1 else [range(21), range(21, n)]:
            refs = "".join(f"<nd ref='{1 + j * n + i}'/>" for i in cols)
            lines.append(f"  <way id='{way}'>{refs}<tag k='highway' v='residential'/></way>")
            way += 1
    for i in range(n):
        refs = "".join(f"<nd ref='{1 + j * n + i}'/>" for j in range(n))
        lines.append(f"  <way id='{way}'>{refs}<tag k='highway' v='residential'/></way>")
        way += 1
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_street_the_halo_cuts_off_is_reported_not_used_silently(client, cache, tmp_path):
    """Across a river whose only bridge lies beyond the halo, the clipped network is in two pieces."""
    osm = _write_river_town(tmp_path / "river.osm")
    boxes = {"W1": (0, 0, 2000, 600), "E1": (2100, 0, 4000, 600)}
    comm = gpd.GeoDataFrame(
        {"community_id": list(boxes), "name": list(boxes), "district": ["W", "E"]},
        geometry=[shapely.box(*b) for b in boxes.values()],
        crs=CRS,
    )
    comp = gpd.GeoDataFrame(
        {"compound_id": ["w", "e"], "community_id": ["W1", "E1"], "households": [100, 100]},
        geometry=[shapely.Point(1950, 350), shapely.Point(2450, 350)],
        crs=CRS,
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["across"], "category": ["park"]}, geometry=[shapely.Point(2120, 320)], crs=CRS
    )
    layers = [f.to_crs(4326) for f in (comm, comp, fac)]
    kw = {"partition_by": "district", "client": client, "with_isochrones": False}
    with pytest.warns(UserWarning, match=r"partition 'W'.*cuts off.*across.*larger halo_min"):
        part = run_partitioned(osm, *layers, halo_min=15, **kw)
    assert part.report.set_index("partition").loc["W", "cut_off"] >= 1
    # the default halo (60 min, 4.3 km) reaches the bridge: the single run's numbers, no warning
    single = run_coverage(walk_graph_from_file(osm), *layers, with_isochrones=False)
    whole = run_partitioned(osm, *layers, **kw)
    assert (whole.report["cut_off"] == 0).all()
    pd.testing.assert_frame_equal(whole.run.times, single.times)
    assert np.isnan(single.times.loc[0, "park"])  # over the bridge 4 km away: beyond the horizon


# ------------------------------------------------------------------------- bad input


def test_bad_inputs_say_what_to_do(sample, tmp_path):
    layers = (sample.communities, sample.compounds, sample.facilities)
    with pytest.raises(ColumnError, match="no column 'district'.*partition_by='street'"):
        run_partitioned(sample.osm_path, *layers)
    with pytest.raises(ValidationError, match="OpenStreetMap file .* or a folder"):
        run_partitioned(sample.graph, *layers, partition_by="street")
    with pytest.raises(ValidationError, match="halo_min=5 is shorter than the longest band"):
        run_partitioned(sample.osm_path, *layers, partition_by="street", halo_min=5)
    with pytest.raises(ValidationError, match="unknown option.*'minute'"):
        run_partitioned(sample.osm_path, *layers, partition_by="street", minute=15)
    with pytest.raises(DzGisError, match="no OpenStreetMap file"):
        run_partitioned(tmp_path, *layers, partition_by="street")


def test_without_dask_the_message_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(DzGisError, match=r"pip install 'dz_gis\[scale\]'"):
        connect(None, 2)


def test_peak_memory_is_the_tasks_own():
    from dz_gis.scale.task import peak_rss_mb, reset_peak_rss

    if not reset_peak_rss():
        pytest.skip("the OS cannot reset the peak memory count (/proc/self/clear_refs)")

    def rss_mb() -> float:  # the resident memory now (the peak is measured against it, not a past peak)
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024.0

    before = rss_mb()
    block = np.ones(40_000_000)  # 320 MB, written: resident
    assert peak_rss_mb() > before + 250
    del block
    reset_peak_rss()  # the peak starts again from what is resident now
    assert peak_rss_mb() < rss_mb() + 100


def test_a_worker_killed_mid_run_the_others_finish_it(sample, client, sample_runs):
    """A worker process killed while it computes a part: Dask sends the part again, nothing is missing."""
    import os
    import signal
    import threading
    import time

    single, check, _, _ = sample_runs
    out = {}

    def run():
        layers = (sample.communities, sample.compounds, sample.facilities)
        kw = {"partition_by": "street", "client": client, "with_isochrones": False, "cache": False}
        out["result"] = run_partitioned(sample.osm_path, *layers, **kw)

    thread = threading.Thread(target=run)
    thread.start()
    busy, deadline = None, time.monotonic() + 60
    while busy is None and time.monotonic() < deadline:  # the parts' tasks start on both workers
        time.sleep(0.5)
        busy = next((addr for addr, tasks in client.processing().items() if tasks), None)
    assert busy is not None, "no worker took a part within a minute"
    os.kill(client.run(os.getpid)[busy], signal.SIGKILL)
    thread.join(timeout=300)
    result = out["result"]
    assert busy not in client.scheduler_info()["workers"]  # it was killed (its nanny started a new one)
    assert busy not in set(result.report["worker"])  # its part was computed again elsewhere
    assert result.complete and (result.report["status"] == "done").all()
    assert_same_tables(single, check, result, halo=60)
