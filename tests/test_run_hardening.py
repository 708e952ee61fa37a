"""A coverage run on layers that are wrong in the ways planners' layers are: a clear error or warning, never a crash."""

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from dz_gis import ValidationError
from dz_gis.access import snap_points
from dz_gis.demand import codes_as_text, link_compounds
from dz_gis.network import prepare
from dz_gis.pipeline import check_on_network

CRS = "EPSG:32648"


def _communities(names):
    boxes = [shapely.box(i * 100.0, 0.0, i * 100.0 + 100.0, 100.0) for i in range(len(names))]
    return gpd.GeoDataFrame(
        {"community_id": [f"C{i}" for i in range(len(names))], "name": names}, geometry=boxes, crs=CRS
    )


def _compounds(xs, codes):
    return gpd.GeoDataFrame(
        {"compound_id": [f"R{i}" for i in range(len(xs))], "community_id": codes, "households": 10.0},
        geometry=[shapely.Point(x, 50.0) for x in xs],
        crs=CRS,
    )


@pytest.mark.parametrize("names", [["新华", "新华", "东城"], [None, None, "东城"], ["", "", "东城"]])
def test_twice_used_or_empty_community_names_link_nothing_by_name(names):
    comps = _compounds([50.0, 150.0, 250.0], ["新华", "", "东城"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the links are reported; checked below
        out = link_compounds(comps, _communities(names))
    assert out["community_id"].tolist() == ["C0", "C1", "C2"]
    assert out["community_link"].tolist() == ["location", "location", "name"]


def test_codes_stored_as_floats_link_by_code():
    comms = _communities(["甲", "乙"]).assign(community_id=["511702001005", "511702001006"])
    comps = _compounds([150.0, 50.0], [511702001005.0, "511702001006.0"])
    out = link_compounds(comps, comms)  # no warning: both linked by their code
    assert out["community_id"].tolist() == ["511702001005", "511702001006"]
    assert out["community_link"].tolist() == ["code", "code"]
    assert codes_as_text(gpd.pd.Series([7, 7.0, " 0701 ", None])).tolist()[:3] == ["7", "7", "0701"]


def test_integer_community_codes_meet_text_codes(sample):
    comms = sample.communities.assign(community_id=np.arange(len(sample.communities)) + 1)
    comps = sample.compounds.assign(
        community_id=sample.compounds["community_id"].map(
            dict(zip(sample.communities["community_id"], (np.arange(len(comms)) + 1).astype(str), strict=True))
        )
    )
    from dz_gis.pipeline import run_coverage

    run = run_coverage(sample.graph, comms, comps, sample.facilities, with_isochrones=False)
    assert (run.compounds["community_link"] == "code").all()
    assert run.communities["cov_park_15min"].notna().any()


def test_swapped_longitude_and_latitude_are_named(sample):
    # (31.2, 107.5): a point of Dazhou with longitude and latitude swapped, latitude past 90°
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(24.94, 60.17), shapely.Point(31.2, 107.5)], crs=4326)
    with pytest.raises(ValidationError, match=r"1 of 2 points have no finite coordinates.*swapped"):
        snap_points(sample.graph, pts)


def test_a_layer_off_the_network_stops_the_run_and_a_part_of_it_warns(sample):
    net = prepare(sample.graph)
    comps = sample.compounds.to_crs(net.crs)
    away = comps.translate(xoff=50_000.0)
    gone = comps.set_geometry(away)
    with pytest.raises(ValidationError, match=r"compounds: none of the \d+ features lies within 250 m.*covers"):
        check_on_network(gone, snap_points(net, gone), "compounds", "compound_id", 250.0)
    half = comps.copy()
    moved = np.arange(len(half)) % 2 == 0
    half.loc[moved, "geometry"] = away[moved]
    with pytest.warns(UserWarning, match=r"compounds: \d+ of \d+ features \(\d+% of the households\) lie more than"):
        check_on_network(half, snap_points(net, half), "compounds", "compound_id", 250.0)


def test_facility_names_become_ids_and_unknown_categories_stop_the_run(sample):
    from dz_gis import CategoryError
    from dz_gis.pipeline import run_coverage

    fac = sample.facilities.copy()
    fac.loc[fac["category"] == "park", "category"] = "公园"
    run = run_coverage(sample.graph, sample.communities, sample.compounds, fac, with_isochrones=False)
    assert run.summary.loc["park", "facilities"] == (sample.facilities["category"] == "park").sum() > 0
    fac.loc[fac["category"] == "公园", "category"] = "prak"
    with pytest.raises(
        CategoryError, match=r"facilities: 1 facility category value\(s\) are not in the catalog: 'prak'"
    ):
        run_coverage(sample.graph, sample.communities, sample.compounds, fac, with_isochrones=False)


def test_compounds_without_households_are_named(sample):
    from dz_gis.pipeline import warn_missing_households

    comps = sample.compounds.copy()
    comps.loc[comps.index[:3], "households"] = np.nan
    with pytest.warns(UserWarning, match=r"compounds: 3 of \d+ compounds have no households \(.*\): they count in no"):
        warn_missing_households(comps)
    with pytest.warns(UserWarning, match=r"households is empty for every compound.*columns: \{households:"):
        warn_missing_households(comps.assign(households=np.nan))
    bad = comps.assign(households=-comps["households"].fillna(1))
    from dz_gis.pipeline import run_coverage

    with pytest.raises(Exception, match=r"compounds: column 'households' cannot be negative"):
        run_coverage(sample.graph, sample.communities, bad, sample.facilities, with_isochrones=False)
