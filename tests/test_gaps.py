"""Each rule kind on small hand-made cases whose right answer is obvious."""

import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_graph

from dz_gis.plan import flag_gaps, load_rules

X0, Y0 = 500_000.0, 3_450_000.0
CRS = "EPSG:32648"


def box(x0, x1):
    return shapely.box(X0 + x0, Y0, X0 + x1, Y0 + 400)


@pytest.fixture
def world():
    """Two communities side by side on one street; a straight street along y = 200."""
    communities = gpd.GeoDataFrame(
        {
            "community_id": ["A", "B"],
            "name": ["甲社区", "乙社区"],
            "street": ["东城街道", "东城街道"],
            "district": ["通川区", "通川区"],
            "households": [2000.0, 1000.0],
            "population": [5000.0, 2500.0],
            "community_type": ["urban", "fringe"],
        },
        geometry=[box(0, 400), box(400, 800)],
        crs=CRS,
    )
    compounds = gpd.GeoDataFrame(
        {
            "compound_id": ["a1", "a2", "b1"],
            "community_id": ["A", "A", "B"],
            "households": [1500.0, 500.0, 1000.0],
        },
        geometry=shapely.points([(X0, Y0 + 200), (X0 + 300, Y0 + 200), (X0 + 700, Y0 + 200)]),
        crs=CRS,
    )
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["k1", "s1", "s2", "h1", "e1", "c1"],
            "category": [
                "kindergarten",
                "community_service",
                "community_service",
                "health_centre",
                "elderly_care_complex",
                "supermarket",
            ],
            "area_m2": [np.nan, 320.0, 250.0, np.nan, np.nan, np.nan],
        },
        geometry=shapely.points(
            [
                (X0 + 399, Y0 + 200),
                (X0 + 100, Y0 + 100),
                (X0 + 600, Y0 + 100),
                (X0 + 150, Y0 + 300),
                (X0 + 500, Y0 + 300),
                (X0 + 650, Y0 + 250),
            ]
        ),
        crs=CRS,
    )
    coords = {i: (X0 + 100.0 * i, Y0 + 200.0) for i in range(9)}
    edges = [(i, i + 1, 100 / (67 / 60)) for i in range(8)] + [(i + 1, i, 100 / (67 / 60)) for i in range(8)]
    graph = make_graph(edges, coords)
    graph.graph["walk_m_per_min"] = 67.0
    return communities, compounds, facilities, graph


def rules_file(tmp_path, body):
    path = tmp_path / "rules.yaml"
    path.write_text("name: test\nrules:\n" + textwrap.indent(textwrap.dedent(body), "  "), encoding="utf-8")
    return load_rules(path)


def rule(rid, scope, kind, params, extra=""):
    return (
        f"- {{id: {rid}, title_zh: 测试, title_en: test, scope: {scope}, kind: {kind}, "
        f"params: {params}, clause: test{extra}}}\n"
    )


def status(table, rule_id, unit):
    row = table[(table["rule_id"] == rule_id) & (table["unit_id"] == unit)]
    assert len(row) == 1, (rule_id, unit, table[["rule_id", "unit_id"]])
    return row.iloc[0]


def run(tmp_path, world, body):
    communities, compounds, facilities, graph = world
    return flag_gaps(rules_file(tmp_path, body), communities, facilities, compounds=compounds, graph=graph)


def test_reach_kindergarten_400m_fails_5_and_passes_10_minutes(tmp_path, world):
    # compound a1 (1,500 hh) is 399 m from the kindergarten, a2 (500 hh) 99 m away
    t = run(
        tmp_path,
        world,
        rule("k5", "community", "reach", "{category: kindergarten, minutes: 5, min_share: 0.9}")
        + rule("k10", "community", "reach", "{category: kindergarten, minutes: 10, min_share: 0.9}"),
    )
    five, ten = status(t, "k5", "A"), status(t, "k10", "A")
    assert five["status"] == "gap" and five["actual_value"] == pytest.approx(0.25)
    assert five["shortfall"] == 1300 and five["shortfall_unit"] == "households"  # 90 % of 2,000 - 500
    assert ten["status"] == "met" and ten["actual_value"] == 1.0
    assert "median" in ten["detail"]


def test_changing_a_parameter_changes_exactly_the_expected_flags(tmp_path, world):
    strict = run(
        tmp_path,
        world,
        rule("k", "community", "reach", "{category: kindergarten, minutes: 5, min_share: 0.9}"),
    )
    loose = run(
        tmp_path,
        world,
        rule("k", "community", "reach", "{category: kindergarten, minutes: 5, min_share: 0.2}"),
    )
    changed = strict.set_index("unit_id")["status"] != loose.set_index("unit_id")["status"]
    assert list(changed[changed].index) == ["A"]


def test_presence_and_count(tmp_path, world):
    t = run(
        tmp_path,
        world,
        rule("kg", "community", "presence", "{category: kindergarten}")
        + rule("two", "community", "count", "{category: community_service, min_count: 2}")
        + rule("st", "street", "count", "{category: elderly_care_complex, min_count: 1}"),
    )
    assert status(t, "kg", "A")["status"] == "met" and status(t, "kg", "B")["status"] == "gap"
    assert status(t, "two", "A")["shortfall"] == 1
    assert status(t, "st", "东城街道")["status"] == "met"


def test_unmapped_category_is_no_data_never_met(tmp_path, world):
    t = run(tmp_path, world, rule("law", "community", "presence", "{category: legal_service}"))
    assert set(t["status"]) == {"no data"}
    assert "supply a list" in t["detail"].iloc[0]


def test_area_per_households_and_min_area(tmp_path, world):
    t = run(
        tmp_path,
        world,
        rule(
            "per100",
            "community",
            "area_per_households",
            "{category: community_service, m2_per_100_households: 30}",
        )
        + rule("min", "community", "min_area", "{category: community_service, min_m2: 300}"),
    )
    a, b = status(t, "per100", "A"), status(t, "per100", "B")
    assert a["status"] == "gap" and a["actual_value"] == pytest.approx(16.0) and a["shortfall"] == pytest.approx(280)
    assert b["status"] == "gap" and b["actual_value"] == pytest.approx(25.0) and b["shortfall"] == pytest.approx(50)
    assert status(t, "min", "A")["status"] == "met" and status(t, "min", "B")["status"] == "gap"
    assert status(t, "min", "B")["shortfall"] == pytest.approx(50)


def test_missing_floor_area_is_no_data(tmp_path, world):
    t = run(
        tmp_path,
        world,
        rule("h", "community", "area_per_households", "{category: health_centre, m2_per_100_households: 10}"),
    )
    assert status(t, "h", "A")["status"] == "no data"
    assert status(t, "h", "B")["status"] == "gap"  # none there: 0 m², known


def test_size_range_by_community_type(tmp_path, world):
    t = run(
        tmp_path,
        world,
        rule(
            "urban",
            "community",
            "size_range",
            "{households: [1500, 4000], population: [4500, 12000]}",
            ", applies_to: {community_type: urban}",
        )
        + rule(
            "fringe",
            "community",
            "size_range",
            "{households: [1500, 2000]}",
            ", applies_to: {community_type: fringe}",
        ),
    )
    assert status(t, "urban", "A")["status"] == "met"
    assert not ((t["rule_id"] == "urban") & (t["unit_id"] == "B")).any()
    fringe = status(t, "fringe", "B")
    assert fringe["status"] == "gap" and fringe["shortfall"] == 500


def test_adjacency(tmp_path, world):
    t = run(
        tmp_path,
        world,
        rule(
            "near",
            "community",
            "adjacency",
            "{category: health_centre, near_category: elderly_care_complex, max_m: 400}",
        )
        + rule(
            "tight",
            "community",
            "adjacency",
            "{category: health_centre, near_category: elderly_care_complex, max_m: 300}",
        ),
    )
    assert status(t, "near", "A")["status"] == "met"  # 350 m apart
    assert status(t, "tight", "A")["status"] == "gap"
    assert status(t, "near", "B")["status"] == "no data"  # no health centre in B to check


def test_share_target_counts_units_meeting_another_rule(tmp_path, world):
    body = (
        rule("kg", "community", "presence", "{category: kindergarten}")
        + rule("kg_share", "city", "share_target", "{of_rule: kg, target: 0.9}")
        + rule("kg_half", "city", "share_target", "{of_rule: kg, target: 0.5}")
    )
    t = run(tmp_path, world, body)
    assert status(t, "kg_share", "city")["status"] == "gap"
    assert status(t, "kg_share", "city")["actual_value"] == 0.5
    assert status(t, "kg_half", "city")["status"] == "met"


def test_street_rule_without_street_column_is_no_data(tmp_path, world):
    communities, compounds, facilities, graph = world
    rules = rules_file(tmp_path, rule("st", "street", "count", "{category: elderly_care_complex, min_count: 1}"))
    t = flag_gaps(rules, communities.drop(columns=["street"]), facilities, compounds=compounds, graph=graph)
    assert list(t["status"]) == ["no data"] and "street" in t["detail"].iloc[0]


def test_gap_table_sorted_worst_first(tmp_path, world):
    t = run(
        tmp_path,
        world,
        rule("kg", "community", "presence", "{category: kindergarten}", ", severity: low")
        + rule("law", "community", "presence", "{category: legal_service}", ", severity: high")
        + rule("cs", "community", "presence", "{category: community_service}", ", severity: high"),
    )
    assert list(t["status"]) == ["gap", "no data", "no data", "met", "met", "met"]
    assert isinstance(t, pd.DataFrame)


def test_a_rule_that_applies_to_no_unit_says_so(tmp_path, world):
    # the layer has urban and fringe communities only: a town rule is "no data", with the values present
    t = run(
        tmp_path,
        world,
        rule("k", "community", "presence", "{category: kindergarten}", ", applies_to: {community_type: town}"),
    )
    assert len(t) == 1
    row = t.iloc[0]
    assert (
        row["status"] == "no data" and "community_type = 'town'" in row["detail"] and "fringe, urban" in row["detail"]
    )


def test_a_surveyed_category_with_none_listed_is_a_gap_not_no_data(sample):
    """A complete list (the civil-affairs register) that holds no 养老服务综合体 means none is built."""
    import dz_gis

    run = dz_gis.run_coverage(
        sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False
    )
    rules = dz_gis.load_rules("dazhou_2021_2025")
    assert "elderly_care_complex" not in set(run.facilities["category"])
    plain = dz_gis.check_plan(run, rules).gaps.set_index(["rule_id", "unit_id"])
    told = dz_gis.check_plan(run, rules, surveyed=["社区养老服务综合体"])
    surveyed = told.gaps.set_index(["rule_id", "unit_id"])
    assert told.surveyed == {"elderly_care_complex"}
    for rule in ("street_has_elderly_complex", "elderly_complex_reach_15min"):
        assert set(plain.loc[rule, "status"]) == {"no data"}
        assert set(surveyed.loc[rule, "status"]) == {"gap"}  # none within reach, none in the street
    assert (surveyed.loc["street_has_elderly_complex", "shortfall"] == 1).all()
    # the other categories' rows are judged as before
    other = [r for r in plain.index.get_level_values(0).unique() if "elderly" not in r]
    assert plain.loc[other, "status"].sort_index().equals(surveyed.loc[other, "status"].sort_index())
    with pytest.raises(dz_gis.CategoryError, match="surveyed"):
        dz_gis.check_plan(run, rules, surveyed=["养老院子"])
