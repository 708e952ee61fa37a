from pathlib import Path

import pytest

from dz_gis import CategoryError, ValidationError
from dz_gis.catalog import default_catalog, load_catalog

PLAN_CATEGORIES = [
    "社区综合服务设施",
    "党群服务中心",
    "社区养老服务综合体",
    "日间照料中心",
    "社区卫生服务中心",
    "社区卫生服务站",
    "幼儿园",
    "托儿所",
    "综合超市",
    "便利店",
    "菜市场",
    "公共活动场地",
    "健身场地",
    "公园",
    "公共绿地",
    "公共厕所",
    "生活垃圾收集站",
    "综合性文化服务中心",
    "公共法律服务工作室",
    "志愿服务站",
    "户外劳动者驿站",
    "社会工作室",
    "应急避难场所",
    "未成年人关爱保护阵地",
    "小学",
    "初中",
]


@pytest.mark.parametrize("name", PLAN_CATEGORIES)
def test_every_plan_category_resolves(name):
    assert default_catalog().resolve(name) is not None


def test_categories_without_osm_tags_say_why():
    cat = default_catalog()
    no_tags = [c for c in cat if not c.has_osm_tags]
    assert {c.id for c in no_tags} >= {"legal_service", "volunteer_station", "minor_protection"}
    assert all("no OSM tag" in c.osm_note for c in no_tags)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"amenity": "kindergarten"}, "kindergarten"),
        ({"amenity": "social_facility", "social_facility": "nursing_home"}, "elderly_care_complex"),
        ({"amenity": "social_facility", "social_facility": "day_care"}, "elderly_day_care"),
        ({"amenity": "school", "school": "primary"}, "primary_school"),
        ({"amenity": "school"}, None),
        ({"leisure": "park", "access": "private"}, None),
        ({"shop": "convenience"}, "convenience_store"),
    ],
)
def test_osm_tags_match_categories(tags, expected):
    assert default_catalog().osm_category(tags) == expected


def test_unknown_category_names_the_value_and_the_fix():
    with pytest.raises(CategoryError, match="网吧.*catalog id"):
        default_catalog().resolve_all(["幼儿园", "网吧"], where="设施.csv")


def test_bad_catalog_file(tmp_path: Path):
    bad = tmp_path / "cat.yaml"
    bad.write_text("categories:\n  - {id: x, name_zh: 甲, name_en: X, circle_min: 7, clause: c, osm: []}\n")
    with pytest.raises(ValidationError, match="circle_min must be 5, 10 or 15"):
        load_catalog(bad)
    bad.write_text(
        "categories:\n  - {id: x, name_zh: 甲, name_en: X, circle_min: 5, clause: c, osm: [], colour: red}\n"
    )
    with pytest.raises(ValidationError, match="unknown key"):
        load_catalog(bad)
