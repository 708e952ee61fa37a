"""`make demo` end to end (through the CLI entry point)."""

import re
import warnings

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from dz_gis.cli import main


def test_demo_writes_geopackage_map_and_summary(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "OpenStreetMap" in printed and "Unreachable (more than 250 m" in printed
    counts = re.search(r"(\d+) provisional community units in (\d+) provisional streets", printed)
    assert counts and int(counts[1]) >= 8 and int(counts[2]) >= 2
    names = sorted(p.name for p in tmp_path.iterdir())
    assert (tmp_path / ".dz_gis_outputs").read_text().split() == names[1:]  # the list of the run's files
    assert names == [
        ".dz_gis_outputs",
        "coverage.gpkg",
        "coverage_map.html",
        "coverage_summary.csv",
        "folio.pdf",
        "gaps.csv",
        "indicators.csv",
        "proposals.csv",
        "proposals_coverage.csv",
        "proposals_gaps.csv",
        "register_by_district.csv",
        "register_unknown.csv",
        "tables.xlsx",
    ]
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "coverage.gpkg")}
    assert layers == {
        "communities",
        "compounds",
        "facilities",
        "isochrones",
        "gaps",
        "gap_table",
        "proposals",
        "layer_styles",
    }
    assert "Proposed sites" in printed and "proven optimal" in printed
    sites = pyogrio.read_dataframe(tmp_path / "coverage.gpkg", layer="proposals")
    assert set(sites["category"]) == {"elderly_care_complex", "public_toilet"}
    # one elderly-care complex per provisional street (the sample has none): the street quota at work
    elderly = sites[sites["category"] == "elderly_care_complex"]
    assert elderly["street"].nunique() == int(counts[2]) and sites.crs.to_epsg() == 4326
    assert "Plan check" in printed and "Worst gaps" in printed and "Register check" in printed
    for layer in ("communities", "isochrones", "gaps"):  # valid (OGC) after reprojection to WGS84
        written = pyogrio.read_dataframe(tmp_path / "coverage.gpkg", layer=layer)
        geoms = written.geometry.array
        assert shapely.is_valid(geoms).all(), layer  # and none missing: rows without a place are in gap_table
    iso = pyogrio.read_dataframe(tmp_path / "coverage.gpkg", layer="isochrones")
    assert np.isin(shapely.get_type_id(iso.geometry.array), [3, 6]).all()  # areas stay areas
    gaps = pyogrio.read_dataframe(tmp_path / "coverage.gpkg", layer="gaps")
    assert set(gaps["status"]) <= {"met", "gap", "no data"} and (gaps["status"] == "gap").any()
    assert (tmp_path / "gaps.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(tmp_path / "gaps.csv", encoding="utf-8-sig")
    streets = table[table["scope"] == "street"]  # one row per provisional street and street rule
    assert streets["unit_id"].nunique() == int(counts[2]) and len(streets) == 2 * int(counts[2])
    comm = pyogrio.read_dataframe(tmp_path / "coverage.gpkg", layer="communities")
    cov = comm[[c for c in comm.columns if c.startswith("cov_")]]
    assert cov.shape[1] >= 3 * 10
    assert ((cov >= 0) & (cov <= 1)).all().all()
    # a wider band never covers fewer households
    assert (comm["cov_park_15min"] >= comm["cov_park_5min"]).all()
    html = (tmp_path / "coverage_map.html").read_text(encoding="utf-8")
    assert "leaflet" in html.lower() and "社区" in html
    summary = (tmp_path / "coverage_summary.csv").read_bytes()
    assert summary.startswith(b"\xef\xbb\xbf")  # BOM for Excel


def test_cli_turns_dzgis_errors_into_a_message(tmp_path, capsys, monkeypatch):
    # a truncated sample file, as left by an interrupted copy
    broken = tmp_path / "data"
    (broken / "boundaries").mkdir(parents=True)
    (broken / "boundaries" / "helsinki_sample.gpkg").write_bytes(b"SQLite format 3\x00 truncated")
    monkeypatch.setenv("DZ_GIS_DATA", str(broken))
    assert main(["demo", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dz-gis: error:") and "helsinki_sample.gpkg" in err and "build_sample_data.py" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_check_plan_warns_when_the_rules_assume_another_walking_speed(sample):
    import dataclasses

    from dz_gis.pipeline import check_plan, run_coverage
    from dz_gis.plan import load_rules

    run = run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False)
    rules = dataclasses.replace(load_rules("gb50180_2018"), walk_m_per_min=60.0)
    with pytest.warns(UserWarning, match="assumes walking at 60 m/min"):
        check_plan(run, rules)


def test_run_snaps_once_and_its_circles_follow_its_snapping_limit(sample):
    import dz_gis

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        run = dz_gis.run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities, max_snap_m=20)
    said = [str(w.message) for w in caught]
    assert any(
        re.match(r"facilities: \d+ of 98 features \(\d+%\) lie more than 20 m from the walking", m) for m in said
    )
    dropped = run.facilities[~run.facilities["reachable"]]
    assert len(dropped) and (dropped["snap_m"] > 20).all()
    # a facility the table calls unreachable draws no circle either
    alone = dz_gis.isochrones(
        sample.graph, sample.facilities, minutes=run.minutes, dissolve=True, max_snap_m=20
    ).set_index(["category", "minutes"])
    mine = run.isochrones.set_index(["category", "minutes"])
    assert mine.index.equals(alone.index)
    assert all(shapely.equals(a, b) for a, b in zip(mine.geometry, alone.geometry, strict=True))
    default = dz_gis.isochrones(sample.graph, sample.facilities, minutes=run.minutes, dissolve=True)
    assert default.area.sum() > mine.area.sum()


def test_overlapping_communities_and_facilities_listed_twice_are_reported(sample):
    import dz_gis

    comm = sample.communities.copy()
    metric = comm.to_crs(comm.estimate_utm_crs())
    grown = metric.geometry.iloc[0].buffer(60).difference(metric.geometry.iloc[1].buffer(-200))
    comm.loc[comm.index[0], "geometry"] = gpd_from(grown, metric.crs).to_crs(comm.crs).iloc[0]
    fac = pd.concat([sample.facilities, sample.facilities.iloc[[3]].assign(facility_id="copy")], ignore_index=True)
    with pytest.warns(UserWarning) as caught:
        dz_gis.run_coverage(sample.graph, comm, sample.compounds, fac, with_isochrones=False)
    text = " ".join(str(w.message) for w in caught)
    assert "communities: 1 pair(s) of polygons overlap" in text or "pair(s) of polygons overlap" in text
    assert f"{sample.facilities['facility_id'].iloc[3]} = copy" in text


def gpd_from(geom, crs):
    import geopandas as gpd

    return gpd.GeoSeries([geom], crs=crs)


def test_an_unwritable_output_folder_stops_before_the_analysis(tmp_path, capsys, monkeypatch):
    import dz_gis.datasets

    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder")
    called = []
    monkeypatch.setattr(dz_gis.datasets, "load_sample", lambda: called.append(1))
    assert main(["demo", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot write the results there" in err and str(blocker) in err and "--out" in err
    assert not called  # nothing was computed
