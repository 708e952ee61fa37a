"""``dz-gis run project.yaml`` on a planner's own files, end to end, and the project file's checks.

The files are made here from the bundled sample, moved to Dazhou (the GCJ-02 offset is defined
only in China): the OSM extract rewritten with pyosmium, communities as a GeoPackage, compounds as
a GBK shapefile with Chinese field names and no .cpg, facilities as an Amap-style CSV in GCJ-02
plus the health bureau's Excel list (a title row above the header). The run's numbers must equal
the library's on the same data in WGS84, within what the GCJ-02 round trip moves a point.
"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import osmnx as ox  # imported at collection, while socket.getaddrinfo is still the real one
import pandas as pd
import pytest
import shapely
import yaml

from dz_gis import settings
from dz_gis.cli import main
from dz_gis.project import load_project, project_template

osmium = pytest.importorskip("osmium")

# Helsinki's centre and where it is moved to (通川区, Dazhou); longitudes are stretched so that
# distances stay the same (to about 0.05 % over the sample's few kilometres).
FROM = (24.94, 60.17)
TO = (107.50, 31.22)
STRETCH = np.cos(np.radians(FROM[1])) / np.cos(np.radians(TO[1]))


def move(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return TO[0] + (lon - FROM[0]) * STRETCH, lat - FROM[1] + TO[1]


def moved(gdf):
    out = gdf.copy()
    out["geometry"] = shapely.transform(gdf.geometry.array, lambda xy: np.column_stack(move(xy[:, 0], xy[:, 1])))
    return out


def write_moved_pbf(source: Path, target: Path) -> None:
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(source)):
            if obj.is_node() and obj.location.valid():
                lon, lat = move(obj.location.lon, obj.location.lat)
                obj = obj.replace(location=osmium.osm.Location(float(lon), float(lat)))
            writer.add(obj)


def write_own_files(sample, folder: Path) -> dict:
    """The sample as a planner's own files (the names the `dz-gis init` template uses)."""
    from dz_gis.catalog import default_catalog
    from dz_gis.coords import wgs84_to_gcj02

    cat = default_catalog()
    write_moved_pbf(sample.osm_path, folder / "network.osm.pbf")
    comm = moved(sample.communities)[["community_id", "name", "street", "households", "population", "geometry"]]
    comm.columns = ["社区编码", "社区名称", "街道", "户数", "人口", "geometry"]
    comm.to_file(folder / "communities.gpkg", layer="社区", driver="GPKG")
    comp = moved(sample.compounds)[["compound_id", "community_id", "households", "population", "geometry"]]
    comp.insert(1, "小区名称", [f"{i + 1}号小区" for i in range(len(comp))])
    comp.columns = ["小区编码", "小区名称", "社区编码", "户数", "人口", "geometry"]
    comp.to_file(folder / "compounds.shp", encoding="gbk")
    (folder / "compounds.cpg").unlink(missing_ok=True)  # as ArcGIS exports often come: GBK, undeclared
    raw = (folder / "compounds.dbf").read_bytes()
    assert "小区名称".encode("gbk") in raw and "小区名称".encode() not in raw

    fac = moved(sample.facilities)
    lon, lat = wgs84_to_gcj02(fac.geometry.x, fac.geometry.y)
    table = pd.DataFrame(
        {
            "名称": [f"{cat[c].name_zh}{i + 1}" for i, c in enumerate(fac["category"])],
            "类型": [cat[c].name_zh for c in fac["category"]],
            "经度": lon,
            "纬度": lat,
        }
    )
    health = fac["category"] == "health_station"
    table[~health].to_csv(folder / "facilities.csv", index=False, encoding="utf-8-sig")
    with pd.ExcelWriter(folder / "卫生服务站.xlsx") as xl:  # the health bureau's list, a title row first
        table[health].drop(columns="类型").to_excel(xl, sheet_name="卫生服务站", startrow=1, index=False)
        xl.sheets["卫生服务站"]["A1"] = "达州市通川区社区卫生服务站名录（高德坐标）"
    return {"communities": comm, "compounds": comp, "facilities": fac, "n_health": int(health.sum())}


OWN_PROJECT = """\
name: 通川区测试 (own data)
communities: {file: communities.gpkg, layer: 社区}
compounds: compounds.shp            # GBK, detected
facilities:
  - {file: facilities.csv, coords: gcj02}
  - {file: 卫生服务站.xlsx, coords: 高德, header_row: 2, category: 社区卫生服务站}
network: {file: network.osm.pbf}
rules: dazhou_2021_2025
minutes: [5, 10, 15]
siting:
  elderly_care: {}
  toilets: {p: 2}
outputs: {folder: results}
"""


@pytest.fixture(scope="module")
def own(sample, tmp_path_factory):
    """The folder of own files and a project file; the graph cache kept in the module's own folder."""
    folder = tmp_path_factory.mktemp("own")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "cache_folder", folder / "cache")
        made = write_own_files(sample, folder)
        (folder / "own.yaml").write_text(OWN_PROJECT, encoding="utf-8")
        yield folder, made


@pytest.fixture(scope="module")
def own_run(own):
    folder, made = own
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "cache_folder", folder / "cache")
        code = main(["run", str(folder / "own.yaml")])
    return code, folder / "results", made


def test_run_on_own_files_writes_every_output(own_run, capsys):
    code, out, _ = own_run
    assert code == 0
    names = {p.name for p in out.iterdir()}
    expected = {"coverage.gpkg", "coverage_summary.csv", "gaps.csv", "indicators.csv", "coverage_map.html"}
    expected |= {"folio.pdf", "proposals.csv", "proposals_coverage.csv", "proposals_gaps.csv"}
    assert expected <= names
    proposals = pd.read_csv(out / "proposals.csv")
    assert (proposals["category"] == "public_toilet").sum() == 2
    assert pd.read_csv(out / "gaps.csv")["status"].isin(["gap", "met", "no data"]).all()


def test_run_equals_the_library_on_the_same_data(own, own_run, sample):
    """Same shares as run_coverage on the sample moved in WGS84; same gap counts as check_plan."""
    from dz_gis import check_plan, load_rules, run_coverage, walk_graph_from_file

    code, out, made = own_run
    assert code == 0
    folder, _ = own
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "cache_folder", folder / "cache")
        graph = walk_graph_from_file(folder / "network.osm.pbf")
    reference = run_coverage(
        graph, moved(sample.communities), moved(sample.compounds), made["facilities"], with_isochrones=False
    )
    got = pd.read_csv(out / "coverage_summary.csv", index_col=0)
    bands = [f"hh_share_{m}min" for m in (5, 10, 15)]
    want = reference.summary
    assert list(got.index) == list(want.index)
    assert (got["facilities"] == want["facilities"]).all()
    # the GCJ-02 round trip moves a facility by < 1 mm: no household changes band
    np.testing.assert_allclose(got[bands].to_numpy(float), want[bands].to_numpy(float), atol=1e-9)
    assert got.loc["health_station", "facilities"] == made["n_health"] > 0

    gaps = pd.read_csv(out / "gaps.csv")
    ref_gaps = check_plan(reference, load_rules()).gaps
    assert gaps["status"].value_counts().to_dict() == ref_gaps["status"].value_counts().to_dict()

    # and the demo's Helsinki numbers, but for what the move itself changes: distances by up to ~0.05 %
    # (and another metric CRS), enough for compounds at a band's edge to cross it; measured: 69 % of the
    # shares equal, the others off by about 2 points at most, well below the largest compound's share (6.6 %)
    demo = run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False)
    diff = np.abs(got[bands].to_numpy(float) - demo.summary[bands].to_numpy(float))
    diff = diff[~np.isnan(diff)]
    hh = sample.compounds["households"]
    assert diff.max() <= hh.max() / hh.sum() + 1e-9


def test_run_prints_the_report_and_progress(own, own_run, capsys):
    folder, _ = own
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "cache_folder", folder / "cache")
        assert main(["gaps", str(folder / "own.yaml")]) == 0
    captured = capsys.readouterr()
    assert "[network] walking network (步行路网) from network.osm.pbf" in captured.err
    assert "[gaps] plan check" in captured.err
    assert "Plan check (" in captured.out and "gaps.csv" in captured.out
    assert (folder / "results" / "indicators.csv").exists()
    # one step into a folder holding a complete run: the planner is told the files now mix two runs
    assert "also holds the files of an earlier complete run" in captured.err and "coverage.gpkg" in captured.err


def test_network_command_prints_the_size(own, sample, capsys):
    folder, _ = own
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "cache_folder", folder / "cache")
        assert main(["network", str(folder / "own.yaml")]) == 0
    # the sample's network, moved to Dazhou: as many nodes
    assert f"Walking network 步行路网: {sample.graph.number_of_nodes():,} nodes" in capsys.readouterr().out


def _project(folder: Path, text: str) -> Path:
    path = folder / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("rules: dazhou_2021_2025", "rule: dazhou_2021_2025"), r"\['rule'\].*Did you mean rules\?.*compounds:"),
        (("compounds.shp", "compound.shp"), r"compounds\.file: file .*compound\.shp not found"),
        (("coords: gcj02}", "coords: mars}"), r"facilities\[0\]\.coords: 'mars'.*gcj02.*EPSG"),
        (("toilets: {p: 2}", "toilets: {n: 2}"), r"siting\.toilets: unknown key\(s\) \['n'\].*'p'"),
        (("toilets: {p: 2}", "toilets: {new_residential: 5}"), r"siting\.toilets\.new_residential: expected the name"),
        (("minutes: [5, 10, 15]", "minutes: [5, ten]"), r"minutes: expected whole minutes"),
        (("network: {file: network.osm.pbf}", "network: {}"), r"network: missing"),
        (("network: {file: network.osm.pbf}", "network: {place: 通川区}"), r"online: is not true.*internet"),
        (
            ("network: {file: network.osm.pbf}", "network: {file: network.osm.pbf, walk_m_per_min: 0}"),
            r"network\.walk_m_per_min: expected a number of metres per minute, more than zero, not 0",
        ),
        (("{folder: results}", "{folder: results, tiles: 'https://t.example.org/{z}/{x}/{y}.png'}"), "tiles_attr"),
        (("outputs: {folder: results}", "outputs: {folder: results}\nsurveyed: [养老院子]"), r"surveyed.*'养老院子'"),
    ],
)
def test_bad_project_files_exit_2_naming_key_and_fix(own, capsys, change, message):
    folder, _ = own
    old, new = change
    assert old in OWN_PROJECT
    path = _project(folder, OWN_PROJECT.replace(old, new))
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dz-gis: error: ")
    assert re.search(message, err, re.S), err


@pytest.mark.parametrize(
    ("coords", "options"),
    [
        ("gcj02", {"coords": "gcj02"}),
        ("百度", {"coords": "bd09"}),
        ("wgs84", {"coords": "wgs84"}),
        ("cgcs2000", {"crs": "EPSG:4490"}),
        ("EPSG:4547", {"crs": "EPSG:4547"}),
        ("4547", {"crs": "EPSG:4547"}),
    ],
)
def test_coordinate_systems_become_reader_arguments(own, coords, options):
    folder, _ = own
    path = _project(folder, OWN_PROJECT.replace("coords: gcj02}", f"coords: '{coords}'}}"))
    project = load_project(path)
    spec = project.facilities[0]
    assert spec.path == folder / "facilities.csv"
    assert {k: spec.options[k] for k in ("coords", "crs") if k in spec.options} == options
    assert project.facilities[1].options == {"coords": "gcj02", "header_row": 2, "category": "社区卫生服务站"}
    assert project.out == folder / "results" and project.minutes == [5, 10, 15]
    assert project.siting == {"elderly_care": {}, "toilets": {"p": 2}}


def test_a_rules_file_is_relative_to_the_project(own, capsys):
    folder, _ = own
    path = _project(folder, OWN_PROJECT.replace("rules: dazhou_2021_2025", "rules: my_rules.yaml"))
    assert main(["gaps", str(path)]) == 2
    assert f"rules: file {folder / 'my_rules.yaml'} not found" in capsys.readouterr().err


def test_site_without_presets_says_what_to_add(own, capsys):
    folder, _ = own
    text = OWN_PROJECT.replace("  elderly_care: {}\n  toilets: {p: 2}\n", "")
    assert "siting:\noutputs" in text
    path = _project(folder, text)
    assert main(["site", str(path)]) == 2
    assert "siting: no presets" in capsys.readouterr().err


def test_an_unexpected_error_exits_1_with_the_traceback(own, capsys, monkeypatch):
    import dz_gis.runner

    def broken(project, command):
        raise KeyError("a bug")

    monkeypatch.setattr(dz_gis.runner, "run_command", broken)
    folder, _ = own
    assert main(["run", str(folder / "own.yaml")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'a bug'" in err and "unexpected error" in err


def test_the_real_command_exits_2_on_a_missing_project_file(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "dz_gis.cli", "run", str(tmp_path / "none.yaml")], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "none.yaml: project file not found" in done.stderr and "dz-gis init" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_names_the_planners_terms(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for word in (
        "社区",
        "小区",
        "街道",
        "生活圈",
        "run",
        "init",
        "network",
        "coverage",
        "gaps",
        "site",
        "folio",
        "export",
    ):
        assert word in text


def test_init_writes_a_project_that_runs(own, capsys):
    """The template names the files as the planner is asked to name them; it parses and runs."""
    folder, _ = own
    path = folder / "project.yaml"
    assert main(["init", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert "# " in text and "社区" in text and "coords" in text  # commented, in both languages
    project = load_project(path)
    assert project.network.file == folder / "network.osm.pbf" and project.rules == "dazhou_2021_2025"
    assert main(["init", str(path)]) == 2  # never overwritten silently
    assert "--force" in capsys.readouterr().err
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "cache_folder", folder / "cache")
        assert main(["coverage", str(path)]) == 0
    summary = pd.read_csv(folder / "out" / "coverage_summary.csv", index_col=0)
    assert summary.loc["health_station", "facilities"] == 0  # the template reads facilities.csv only
    assert summary.loc["supermarket", "facilities"] == 8


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_init_for_a_district_and_its_online_network(own, tmp_path, capsys, monkeypatch):
    import socket

    path = tmp_path / "tongchuan.yaml"
    assert main(["init", "--district", "通川区", str(path)]) == 0
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["study_area"] == {"district": "通川区"} and data["network"] == {"online": True}
    assert data["rules"] == "dazhou_2021_2025" and "区划名录" in path.read_text(encoding="utf-8")
    folder, _ = own
    for name in ("communities.gpkg", "compounds.shp", "compounds.dbf", "compounds.shx", "compounds.prj"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / "facilities.csv").write_bytes((folder / "facilities.csv").read_bytes())
    project = load_project(path)
    assert project.study_area == "通川区" and project.network.file is None

    # no internet here: the download fails, and says what to do instead
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ox.settings, "overpass_url", f"http://127.0.0.1:{port}/api")
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    assert main(["network", str(path)]) == 2
    err = capsys.readouterr().err
    assert "needs the internet" in err and "network: {file: city.osm.pbf}" in err


def test_init_rejects_an_unknown_district(tmp_path, capsys):
    assert main(["init", "--district", "朝阳区", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert "朝阳区" in err and "通川区" in err and "万源市" in err
    assert not (tmp_path / "p.yaml").exists()
    with pytest.raises(Exception, match="朝阳区"):
        project_template(district="朝阳区")


def test_a_layer_read_in_the_wrong_web_offset_is_named(own):
    """Amap (GCJ-02) points read as WGS84 lie ~500 m off: the streets tell which coords: fixes it.

    Measured here: a median 6 m from the street when read right, 26 m read as WGS84 (the dense core)
    and 139 m converted twice.
    """
    import geopandas as gpd

    from dz_gis import read_facilities, walk_graph_from_file
    from dz_gis.access.offsets import web_offset_hint
    from dz_gis.coords import to_wgs84
    from dz_gis.network import prepare

    folder, _ = own
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "cache_folder", folder / "cache")
        net = prepare(walk_graph_from_file(folder / "network.osm.pbf"))
    right = read_facilities(folder / "facilities.csv", coords="gcj02")
    assert web_offset_hint(net, right, "facilities") is None
    wrong = read_facilities(folder / "facilities.csv", coords="wgs84")
    hint = web_offset_hint(net, wrong, "facilities")
    assert hint is not None and "GCJ-02 coordinates (高德/腾讯) read as WGS84" in hint and "coords: gcj02" in hint
    # WGS84 points read as if from Amap are moved the other way: converted once too often
    lon, lat = to_wgs84(right.geometry.x, right.geometry.y, source="gcj02")
    twice = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    hint = web_offset_hint(net, twice, "facilities")
    assert hint is not None and "WGS84 coordinates read as GCJ-02" in hint


def test_a_reader_hint_is_given_in_project_file_terms(own, capsys):
    """The readers say crs=... (Python); a project file says coords: under the layer, and the CLI adds that."""
    folder, _ = own
    pd.DataFrame(
        {"小区名称": ["甲", "乙"], "户数": [10, 20], "X": [36_540_000.0, 36_540_100.0], "Y": [3_450_000.0, 3_450_100.0]}
    ).to_csv(folder / "metres.csv", index=False)
    path = _project(folder, OWN_PROJECT.replace("compounds: compounds.shp", "compounds: metres.csv"))
    assert main(["gaps", str(path)]) == 2
    err = capsys.readouterr().err
    assert "pass crs=... with the projected CRS" in err
    assert "dz-gis: In the project file: coords: EPSG:4545" in err and "under the layer" in err
