"""The shipped rules files (the Dazhou plan, GB 50180-2018) and the loader's errors on bad files."""

import re
from pathlib import Path

import pytest

from dz_gis import RulesError
from dz_gis.catalog import default_catalog
from dz_gis.plan import builtin_rules_path, load_rules

#: Rules the plan asks for that spatial data cannot check; mirrors the README table
#: ("Plan rules the data cannot check"). id -> what data would make it checkable.
NOT_CHECKABLE = {
    "service_min_area_new": "build year or status (new / existing) of each community service facility",
    "service_share_new_residential": "approved floor areas of new residential projects (计容住宅建筑面积)",
    "commercial_service_share": "total and commercial/service floor area of each new community",
    "garbage_station_new_residential": "site area of waste stations and a list of new residential areas",
    "public_toilet_new_residential": "floor area of public toilets and a list of new residential communities",
    "public_toilet_large_project": "project list with total floor area and the toilet each provides",
    "garbage_room_ratio": "project floor areas and garbage-room floor areas",
    "parking_ratio": "project floor areas, households and parking spaces with chargers",
    "party_org_compounds": "compound column has_party_org (the compound_share indicator computes it when present)",
    "property_management_share": "compound column has_property_management (computed by the compound_share indicator)",
    "owners_committees": "compound column has_owners_committee",
    "smart_security_compounds": "compound column smart_security (computed by the compound_share indicator)",
    "volunteers_per_10000": "volunteer register with home community",
    "community_workers_per_10000": "staff register per community",
    "minor_staff": "staff register (未成年人工作专人专岗)",
    "legal_culture_position": "a facility category and a list of 法治文化阵地",
    "legal_advisors": "register of community legal advisers and 法律明白人",
    "shared_space": "a facility category and a list of 综合性共享空间",
    "employment_platform": "a facility category and a list of employment service points",
    "party_centre_renovation": "renovation project list with acceptance dates",
    "communities_per_township_seat": "a rule kind counting communities per township, and a seat flag",
    "social_workers_per_community": "staff register with qualifications",
    "social_organisations_per_community": "civil-affairs registration records",
}

#: Every suggested id of RULES.md (per-community table, new residential projects, per-street rules,
#: Table 2 city indicators). Each must be in the Dazhou rules file or in NOT_CHECKABLE.
RULES_MD_COMMUNITY = [
    "service_area_per_100hh",
    "service_min_area_existing",
    "service_min_area_new",
    "service_share_new_residential",
    "commercial_service_share",
    "each_has_service_station",
    "each_has_kindergarten",
    "each_has_nursery",
    "each_has_supermarket",
    "each_has_activity_ground",
    "each_has_green",
    "health_next_to_elderly",
    "worker_rest_station",
    "volunteer_station",
    "minor_protection",
    "legal_service",
    "community_size_urban",
    "community_size_fringe",
]
RULES_MD_NEW_RESIDENTIAL = [
    "garbage_station_new_residential",
    "public_toilet_new_residential",
    "public_toilet_large_project",
    "garbage_room_ratio",
    "parking_ratio",
]
RULES_MD_STREET = [
    "street_has_elderly_complex",
    "street_elderly_institution_coverage",
    "street_social_work_station",
]
RULES_MD_CITY = [
    "service_coverage",
    "service_area_per_100hh_city",
    "elderly_care_coverage",
    "culture_centre_coverage",
    "legal_service_coverage",
    "volunteer_station_coverage",
    "party_org_compounds",
    "property_management_share",
    "owners_committees",
    "smart_security_compounds",
    "volunteers_per_10000",
]

#: Rules the Dazhou file must have.
REQUIRED_IDS = [
    "service_area_per_100hh",
    "service_min_area_existing",
    "each_has_service_station",
    "each_has_kindergarten",
    "each_has_nursery",
    "kindergarten_reach_5min",
    "nursery_reach_5min",
    "each_has_supermarket",
    "supermarket_reach_10min",
    "each_has_activity_ground",
    "each_has_green",
    "health_next_to_elderly",
    "worker_rest_station",
    "minor_protection",
    "legal_service",
    "volunteer_station",
    "community_size_urban",
    "community_size_fringe",
    "street_has_elderly_complex",
    "street_social_work_station",
    "service_coverage",
    "elderly_care_coverage",
    "culture_centre_coverage",
    "legal_service_coverage",
    "volunteer_station_coverage",
]

BAD = Path(__file__).parent / "data" / "rules"
PLAN_DIR = Path(__file__).resolve().parents[2] / "shared" / "plan"
needs_plan = pytest.mark.skipif(not PLAN_DIR.is_dir(), reason="plan folder ../shared/plan is absent")
CJK = re.compile(r"[\u4e00-\u9fff]")
COMMUNITY_TYPES = {"urban", "town", "fringe"}


@pytest.fixture(scope="module")
def dazhou():
    return load_rules(builtin_rules_path("dazhou_2021_2025"))


@pytest.fixture(scope="module")
def gb():
    return load_rules(builtin_rules_path("gb50180_2018"))


# ---------------------------------------------------------------------------------------- bad files

# file -> (line named in the message, rule id named in it or None, words the message must contain)
BAD_FILES = {
    "unknown_key.yaml": (12, "nursery_reach_5min", "unknown key(s) ['severty']"),
    "wrong_type.yaml": (5, "kindergarten_reach_5min", "'minutes' must be a number, not 'five'"),
    "missing_param.yaml": (12, "nursery_reach_5min", "needs parameter 'min_share'"),
    "unknown_param.yaml": (12, "each_has_nursery", "unknown parameter(s) ['radius_m']"),
    "unknown_category.yaml": (5, "each_has_kindergarten", "did you mean 'kindergarten'?"),
    "unknown_near_category.yaml": (12, "health_next_to_elderly", "did you mean 'elderly_care_complex'?"),
    "bad_scope.yaml": (12, "each_has_nursery", "scope 'neighbourhood' is not one of"),
    "bad_kind.yaml": (12, "each_has_nursery", "kind 'within' is not one of"),
    "duplicate_id.yaml": (12, "each_has_kindergarten", "duplicate id (first used on line 5)"),
    "share_out_of_range.yaml": (12, "kindergarten_reach_5min", "'min_share' is a share between 0 and 1"),
    "target_out_of_range.yaml": (12, "kindergarten_coverage", "'target' is a share between 0 and 1"),
    "tab_indented.yaml": (9, None, "not valid YAML"),
    "size_range_reversed.yaml": (12, "community_size_urban", "[min, max] with min <= max, not [4000, 1500]"),
    "size_range_empty.yaml": (12, "community_size_urban", "needs households: [min, max]"),
    "share_target_missing_rule.yaml": (12, "school_coverage", "of_rule 'each_has_school' is not a rule"),
    "top_level_list.yaml": (2, None, "expected a mapping with a 'rules:' list"),
    "missing_clause.yaml": (12, "each_has_nursery", "missing key(s) ['clause']"),
    "bad_severity.yaml": (12, "each_has_nursery", "severity 'critical'"),
    "verified_not_bool.yaml": (12, "nursery_reach_5min", "verified must be true or false"),
    "min_count_zero.yaml": (12, "worker_rest_station", "'min_count' must be at least 1"),
    "min_count_float.yaml": (12, "worker_rest_station", "'min_count' must be a whole number, not 1.5"),
    "bad_weight.yaml": (12, "nursery_reach_5min", "'weight' must be households or population"),
    "minutes_nan.yaml": (12, "nursery_reach_5min", "'minutes' must be positive"),
    "applies_to_not_mapping.yaml": (12, "community_size_urban", "applies_to must be a mapping"),
    "params_not_mapping.yaml": (12, "each_has_nursery", "params must be a mapping"),
    "empty_title.yaml": (12, "each_has_nursery", "title_en must be a non-empty text"),
    "rule_not_mapping.yaml": (12, None, "rule #2 is not a mapping"),
    "unknown_top_key.yaml": (4, None, "unknown top-level key(s) ['version']"),
    "bad_walk_speed.yaml": (4, None, "walk_m_per_min must be a positive number"),
    "duplicate_key.yaml": (11, None, "key 'scope' given twice"),
    "alias_bomb.yaml": (1, None, "aliases (*name) expand to more than"),
    "empty_rules.yaml": (3, None, "'rules:' is empty"),
    "applies_to_unknown_type.yaml": (
        4,
        "each_has_nursery",
        "community_type 'urbn' is not one of urban, town, fringe (did you mean 'urban'?)",
    ),
}


def test_every_bad_file_is_listed():
    assert {p.name for p in BAD.glob("*.yaml")} == set(BAD_FILES)
    assert len(BAD_FILES) >= 10


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_names_file_line_and_rule(name):
    line, rule_id, words = BAD_FILES[name]
    path = BAD / name
    with pytest.raises(RulesError) as info:
        load_rules(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}, "), msg
    assert [int(n) for n in re.findall(r", line (\d+)[,:]", msg)] == [line], msg
    if rule_id is not None:
        assert f"rule {rule_id!r}:" in msg, msg
    assert words in msg, msg


def test_bad_file_first_line_comment_says_what_is_wrong():
    for path in BAD.glob("*.yaml"):
        assert path.read_text(encoding="utf-8").startswith("# "), path.name


def test_missing_file_is_a_rules_error(tmp_path):
    with pytest.raises(RulesError, match="not found"):
        load_rules(tmp_path / "nope.yaml")


# ----------------------------------------------------------------------------------- shipped files


def test_both_shipped_files_load(dazhou, gb):
    assert len(dazhou) >= 40 and len(gb) >= 15
    assert load_rules().ids == dazhou.ids  # the default
    assert load_rules("gb50180_2018").ids == gb.ids  # by name
    assert gb.walk_m_per_min == 67.0


def test_dazhou_has_the_required_rules(dazhou):
    missing = sorted(set(REQUIRED_IDS) - set(dazhou.ids))
    assert not missing, missing


def test_rules_md_leaves_nothing_out(dazhou):
    suggested = RULES_MD_COMMUNITY + RULES_MD_NEW_RESIDENTIAL + RULES_MD_STREET + RULES_MD_CITY
    fell_through = [i for i in suggested if i not in dazhou.ids and i not in NOT_CHECKABLE]
    assert not fell_through, fell_through
    assert not set(NOT_CHECKABLE) & set(dazhou.ids), "a rule is both in the file and listed as not checkable"


@needs_plan
def test_rules_md_table_ids_are_all_listed():
    """Every id in RULES.md's per-community table is in the hard-coded list above."""
    text = (PLAN_DIR / "RULES.md").read_text(encoding="utf-8")
    table = text.split("## Per-community rules")[1].split("\n## ")[0]
    ids = set()
    for row in re.findall(r"^\| ([a-z_ /]+) \|", table, re.M):
        ids |= {part.strip() for part in row.split("/")}
    ids.discard("id (suggested)")
    assert ids and ids <= set(RULES_MD_COMMUNITY), sorted(ids - set(RULES_MD_COMMUNITY))


def test_every_dazhou_rule_has_clause_and_both_titles(dazhou):
    for r in dazhou:
        assert r.clause.strip(), r.id
        assert re.search(r"ch\.\d|Table \d|专栏\d", r.clause), (r.id, r.clause)
        assert CJK.search(r.title_zh), r.id
        assert not CJK.search(r.title_en) and re.search(r"[A-Za-z]{3}", r.title_en), r.id


@pytest.mark.parametrize("name", ["dazhou_2021_2025", "gb50180_2018"])
def test_unverified_rules_say_why(name):
    for r in load_rules(name):
        if not r.verified:
            assert len(r.note) > 30, r.id


def test_gb_rules_are_all_unverified_and_cite_the_standard(gb):
    for r in gb:
        assert not r.verified, r.id
        assert "GB 50180-2018" in r.clause, r.id
        assert "memory" in r.note, r.id
    assert {r.scope for r in gb} >= {"community", "street", "compound"}


def test_gb_distances_of_the_dazhou_reach_rules_are_unverified(dazhou):
    for r in dazhou:
        if r.kind == "reach":
            assert not r.verified and "GB 50180-2018" in r.clause, r.id


@pytest.mark.parametrize("name", ["dazhou_2021_2025", "gb50180_2018"])
def test_every_category_is_in_the_catalog(name):
    ids = set(default_catalog().ids)
    for r in load_rules(name):
        for key in ("category", "near_category"):
            if key in r.params:
                assert r.params[key] in ids, (r.id, r.params[key])


@pytest.mark.parametrize("name", ["dazhou_2021_2025", "gb50180_2018"])
def test_reach_minutes_follow_the_catalog_circles(name):
    catalog = default_catalog()
    for r in load_rules(name):
        if r.kind == "reach":
            assert r.param("minutes") == catalog[r.param("category")].circle_min, r.id
            assert 0 < r.param("min_share") <= 1


def test_share_targets_count_finer_units(dazhou):
    scopes = ("compound", "community", "street", "district", "city")
    for r in dazhou:
        if r.kind == "share_target":
            base = dazhou[r.param("of_rule")]
            assert scopes.index(base.scope) < scopes.index(r.scope), r.id


def test_community_types_are_the_documented_ones(dazhou):
    header = builtin_rules_path("dazhou_2021_2025").read_text(encoding="utf-8").split("\nrules:")[0]
    used = {r.applies_to["community_type"] for r in dazhou if "community_type" in r.applies_to}
    assert used == {"urban", "fringe"}
    assert used <= COMMUNITY_TYPES
    for value in COMMUNITY_TYPES:
        assert re.search(rf"^#\s+{value}\s", header, re.M), value


def test_plan_figures(dazhou):
    area = {"category": "community_service", "m2_per_100_households": 30}
    assert dazhou["service_area_per_100hh"].params == area
    assert dazhou["service_min_area_existing"].param("min_m2") == 300
    assert dazhou["community_size_urban"].params == {"households": [1500, 4000], "population": [4500, 12000]}
    assert dazhou["community_size_fringe"].params == {"households": [1000, 2000], "population": [3000, 6000]}
    assert dazhou["community_size_fringe"].applies_to == {"community_type": "fringe"}
    assert dazhou["worker_rest_station"].applies_to == {"community_type": "urban"}
    assert dazhou["street_has_elderly_complex"].scope == "street"
    targets = {r.id: (r.param("of_rule"), r.param("target")) for r in dazhou if r.kind == "share_target"}
    assert targets["service_coverage"] == ("each_has_service_station", 1.0)
    assert targets["elderly_care_coverage"][1] == 0.9
    assert targets["culture_centre_coverage"] == ("each_has_culture_centre", 0.9)
    assert targets["legal_service_coverage"] == ("legal_service", 1.0)
    assert targets["volunteer_station_coverage"] == ("volunteer_station", 1.0)
    assert targets["street_elderly_institution_coverage"] == ("street_has_elderly_complex", 0.6)


@needs_plan
def test_quoted_plan_words_are_in_the_plan(dazhou):
    """Chinese words quoted in a clause occur in the plan, in the chapter and section it names."""
    plan = (PLAN_DIR / "dazhou-community-plan-2021-2025.txt").read_text(encoding="utf-8")
    numerals = "一二三四五六七八九十"
    sections: dict[tuple[int, int], list[str]] = {}
    chapter = section = 0
    for line in plan.splitlines():
        if m := re.match(r"\s*第([一二三四五六七八九十])章", line):
            chapter, section = numerals.index(m.group(1)) + 1, 0
        elif m := re.match(r"\s*第([一二三四五六七八九十])节", line):
            section = numerals.index(m.group(1)) + 1
        sections.setdefault((chapter, section), []).append(line)
    flat = {k: re.sub(r"\s+", "", "".join(v)) for k, v in sections.items()}
    whole = re.sub(r"\s+", "", plan)
    checked = 0
    for r in dazhou:
        for part in r.clause.split(";"):
            where = re.match(r"\s*ch\.(\d) §(\d)", part)
            part = part.split("GB 50180")[0].split("完整居住社区建设标准")[0]  # other documents' words
            for quote in re.findall(r"[\u4e00-\u9fff（）、，“”—0-9]{6,}", part):
                assert quote in whole, (r.id, quote)
                if where:
                    here = flat[(int(where.group(1)), int(where.group(2)))]
                    assert quote in here, (r.id, where.group(0), quote)
                checked += 1
    assert checked >= 40


# ------------------------------------------------------------------------ editing the file edits the rule


def test_changing_a_parameter_in_a_copy_changes_the_rule(tmp_path, dazhou):
    text = builtin_rules_path("dazhou_2021_2025").read_text(encoding="utf-8")
    old = "params: {category: kindergarten, minutes: 5, min_share: 0.9}"
    assert text.count(old) == 1
    text = text.replace(old, "params: {category: kindergarten, minutes: 4.5, min_share: 0.75}")
    old = "params: {category: community_service, m2_per_100_households: 30}"
    text = text.replace(old, "params: {category: community_service, m2_per_100_households: 35}", 1)
    copy = tmp_path / "my_rules.yaml"
    copy.write_text(text, encoding="utf-8")
    mine = load_rules(copy)
    assert mine["kindergarten_reach_5min"].param("min_share") == 0.75
    assert mine["kindergarten_reach_5min"].param("minutes") == 4.5
    assert mine["service_area_per_100hh"].param("m2_per_100_households") == 35
    assert mine["service_area_per_100hh_city"].param("m2_per_100_households") == 30
    assert dazhou["kindergarten_reach_5min"].param("min_share") == 0.9
    assert mine.ids == dazhou.ids
    assert mine.path == str(copy)
