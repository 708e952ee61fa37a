"""Every bad input in tests/data/bad raises a DzGisError that says where and how to fix it,
or is read correctly (with a warning saying what was assumed, where something was).

The corpus and cases.csv are written by tests/data/bad/make_corpus.py; each case is one
mistake a planner makes (see the ``mistake`` column of cases.csv). ``expect`` is the error
class, ``UserWarning`` (read, with exactly one warning) or ``read`` (read, no warning); a read
result is compared with the truth the ``check`` column names.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import dz_gis
from dz_gis import _errors
from dz_gis._errors import DzGisError

BAD = Path(__file__).parent / "data" / "bad"
READERS = {
    "read_communities": dz_gis.read_communities,
    "read_compounds": dz_gis.read_compounds,
    "read_facilities": dz_gis.read_facilities,
}
#: Files of the folder that are not corpus files.
NOT_CASES = {"make_corpus.py", "cases.csv"}
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
#: A message "contains a fix hint" when it tells the planner to do something.
FIX_HINT = re.compile(
    r"\b(add|check|copy|correct|delete|draw|drop|exchange|export|fill|fix|give|open|pass|"
    r"raise|redraw|rename|reproject|save|split|use)\b",
    re.IGNORECASE,
)


def _load_cases() -> list[dict[str, str]]:
    with (BAD / "cases.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


CASES = _load_cases()
ERROR_CASES = [c for c in CASES if c["expect"] not in {"UserWarning", "read"}]
WARNING_CASES = [c for c in CASES if c["expect"] == "UserWarning"]
READ_CASES = [c for c in CASES if c["expect"] == "read"]

#: What the corpus files hold (make_corpus.py COMMUNITIES and FACILITIES).
COMMUNITY_IDS = ["511702001001", "511702001002", "511702001003", "511702001004"]
COMMUNITY_NAMES = ["朝阳社区", "西外社区", "凤凰山社区", "塔沱社区"]
COMMUNITY_HOUSEHOLDS = [2150.0, 3120.0, 1890.0, 2600.0]
COMMUNITY_SQUARES = [
    shapely.box(107.47, 31.20, 107.48, 31.21),
    shapely.box(107.48, 31.20, 107.49, 31.21),
    shapely.box(107.47, 31.21, 107.48, 31.22),
    shapely.box(107.48, 31.21, 107.49, 31.22),
]
FACILITY_NAMES = ["朝阳幼儿园", "西外社区卫生服务站", "凤凰山党群服务中心", "塔沱超市", "达州市第一托育中心"]
FACILITY_LONLAT = [
    (107.4752, 31.2043),
    (107.4861, 31.2077),
    (107.4733, 31.2155),
    (107.4870, 31.2166),
    (107.4810, 31.2120),
]
FACILITY_AREAS = [1200.0, 300.0, 800.0, 2500.0, 650.0]


def _case_id(case: dict[str, str]) -> str:
    kwargs = json.loads(case["kwargs"])
    return case["file"] + (f"[{','.join(kwargs)}]" if kwargs else "")


def _call(case: dict[str, str]):
    kwargs = json.loads(case["kwargs"])
    if Path(case["file"]).suffix in {".csv", ".xlsx", ".xls", ".tsv", ".txt"} and "which system" not in case["match"]:
        kwargs.setdefault("coords", "wgs84")  # say the system, so each case reaches its own mistake
    return READERS[case["reader"]](BAD / case["file"], **kwargs)


@pytest.mark.parametrize("case", ERROR_CASES, ids=_case_id)
def test_bad_input_raises_helpful_dzgis_error(case: dict[str, str]) -> None:
    expected = getattr(_errors, case["expect"])
    try:
        # A warning on the way to the error (e.g. a repaired geometry) is not the point here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            _call(case)
    except DzGisError as exc:
        err = exc
    except Exception as exc:  # noqa: BLE001 - the point is that nothing else escapes
        pytest.fail(f"{case['file']}: a raw {type(exc).__module__}.{type(exc).__name__} escaped: {exc}")
    else:
        pytest.fail(f"{case['file']}: no error for: {case['mistake']}")

    msg = str(err)
    assert type(err) is expected, f"{type(err).__name__}: {msg}"
    assert isinstance(err, ValueError)  # DzGisError input errors are ValueErrors too
    assert re.search(case["match"], msg, re.DOTALL), msg
    assert Path(case["file"]).stem in msg, "the message must name the file"
    assert FIX_HINT.search(msg), f"no fix hint in: {msg}"
    # No GDAL/pandas traceback chained under the message the planner sees.
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


def _assert_truth(gdf: gpd.GeoDataFrame, check: str) -> None:
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.crs.to_epsg() == 4326
    assert shapely.is_valid(gdf.geometry.array).all()
    if check == "communities":
        assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
        assert (shapely.area(gdf.geometry.array) > 0).all()
        assert gdf["community_id"].tolist() == COMMUNITY_IDS
        assert gdf["name"].tolist() == COMMUNITY_NAMES
        assert gdf["households"].astype(float).tolist() == COMMUNITY_HOUSEHOLDS
        inside = shapely.point_on_surface(gdf.geometry.array)
        assert shapely.contains(COMMUNITY_SQUARES, inside).all(), "boundaries moved"
    elif check == "facilities":
        assert gdf["name"].tolist() == FACILITY_NAMES
        assert gdf["area_m2"].astype(float).tolist() == FACILITY_AREAS
        xy = shapely.get_coordinates(gdf.geometry.array)
        assert abs(xy - FACILITY_LONLAT).max() < 1e-6, "points moved"
        assert gdf["category"].notna().all()
    elif check == "compounds":  # the two compounds of make_corpus.py's compound lists
        assert gdf["name"].tolist() == ["金龙小区", "滨江花园"]
        assert gdf["households"].astype(float).tolist() == [420.0, 860.0]
    else:
        raise AssertionError(f"a read case must name its truth in the check column, not {check!r}")


@pytest.mark.parametrize("case", WARNING_CASES, ids=_case_id)
def test_repairable_input_warns_and_reads(case: dict[str, str]) -> None:
    with pytest.warns(UserWarning, match=case["match"]) as record:
        gdf = _call(case)
    assert len(record) == 1, [str(r.message) for r in record]
    assert Path(case["file"]).stem in str(record[0].message)
    _assert_truth(gdf, case["check"])


@pytest.mark.parametrize("case", READ_CASES, ids=_case_id)
def test_awkward_input_reads_correctly(case: dict[str, str]) -> None:
    # No warning may be raised (the suite turns warnings into errors) and the values are the truth.
    _assert_truth(_call(case), case["check"])


def test_control_file_for_argument_mistakes_is_good() -> None:
    # Cases that pass a wrong argument use this file; it must read cleanly on its own.
    gdf = dz_gis.read_communities(BAD / "communities_good.gpkg")
    assert list(gdf["community_id"]) == ["511702001001", "511702001002", "511702001003", "511702001004"]
    assert gdf["households"].tolist() == [2150.0, 3120.0, 1890.0, 2600.0]


def test_enough_distinct_cases() -> None:
    assert len(CASES) >= 80
    keys = [(c["file"], c["kwargs"]) for c in CASES]
    assert len(keys) == len(set(keys)), "two cases test the same call"
    assert len({c["mistake"] for c in CASES}) == len(CASES)
    files_on_disk = {p.name for p in BAD.iterdir() if p.name not in NOT_CASES}
    assert len({p.split(".")[0] for p in files_on_disk}) >= 18


def test_every_case_reader_and_error_class_exists() -> None:
    for case in CASES:
        assert case["reader"] in READERS, case
        if case["expect"] not in {"UserWarning", "read"}:
            assert issubclass(getattr(_errors, case["expect"]), DzGisError), case
        re.compile(case["match"])


def test_no_orphan_files() -> None:
    used: set[str] = set()
    for case in CASES:
        path = BAD / case["file"]
        if path.suffix == ".shp":
            used |= {path.with_suffix(s).name for s in SHAPEFILE_PARTS}
        used.add(path.name)
    orphans = sorted(p.name for p in BAD.iterdir() if p.name not in used | NOT_CASES)
    assert not orphans, f"corpus files no case uses: {orphans}"
    missing = sorted(
        c["file"] for c in CASES if not (BAD / c["file"]).exists() and not c["file"].startswith("missing_")
    )
    assert not missing, f"cases whose file was not generated: {missing}"
