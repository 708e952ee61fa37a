"""Tests for dz_gis.plan.register on the shipped 2023 register (data/boundaries)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point

from dz_gis._errors import ColumnError, DataFileError, ValidationError
from dz_gis.plan.register import (
    PLAN_TABLE1,
    default_register_path,
    normalise_name,
    plan_table1,
    read_register,
    reconcile_register,
)

SHARED_REGISTER = Path(__file__).resolve().parents[2] / "shared" / "data" / "china-division-nbs2023-dazhou"
needs_shared = pytest.mark.skipif(not SHARED_REGISTER.is_dir(), reason="reference data folder ../shared is absent")


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    return read_register()


@pytest.fixture(scope="module")
def communities(register: pd.DataFrame) -> pd.DataFrame:
    return register[register["level"] == "社区"].reset_index(drop=True)


def test_register_counts(register: pd.DataFrame) -> None:
    levels = register["level"].value_counts()
    assert levels["区县"] == 7
    assert levels["街道"] + levels["镇"] + levels["乡"] == 200
    assert (levels["街道"], levels["镇"], levels["乡"]) == (21, 149, 30)
    assert levels["社区"] + levels["村"] == 2283
    assert levels["社区"] == 620
    assert register["code"].str.startswith("5117").all()
    assert register["code"].is_unique


def test_community_level_rule(register: pd.DataFrame) -> None:
    villages = register[register["level"].isin(["社区", "村"])]
    by_name = villages["name"].str.endswith(("居民委员会", "居委会"))
    by_code = villages["code"].str[9:12].astype(int) < 200
    assert ((villages["level"] == "社区") == by_name).all()
    assert (by_name == by_code).all()
    # The "691 社区" quoted in the reference notes counts every name containing 社区,
    # which includes 71 "…农村社区村民委员会" village committees.
    assert villages["name"].str.contains("社区").sum() == 691
    rural = villages[villages["name"].str.endswith("农村社区村民委员会")]
    assert len(rural) > 0 and (rural["level"] == "村").all()


def test_register_file_has_bom_and_parents(register: pd.DataFrame) -> None:
    assert default_register_path().read_bytes()[:3] == b"\xef\xbb\xbf"
    assert register.columns[0] == "code"
    villages = register[register["level"].isin(["社区", "村"])]
    assert (villages["street_code"] == villages["code"].str[:9]).all()
    assert (villages["district_code"] == villages["code"].str[:6]).all()
    assert villages["street_name"].ne("").all() and villages["district_name"].ne("").all()


def test_read_register_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataFileError, match="nope.csv.*Check the path"):
        read_register(tmp_path / "nope.csv")
    monkeypatch.setenv("DZ_GIS_DATA", str(tmp_path))  # the shipped register missing: how to get it back
    with pytest.raises(DataFileError, match="build_dazhou_data.py"):
        read_register()


def test_read_register_wrong_file(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="missing column"):
        read_register(path)


def test_normalise_name() -> None:
    assert normalise_name("二马路社区居民委员会") == "二马路"
    assert normalise_name("二马路社区居委会") == "二马路"
    assert normalise_name(" 二马路\u3000社区") == "二马路"
    assert normalise_name("ＡＢ社区") == "AB"
    assert normalise_name("岩门村社区村民委员会") == "岩门村"
    assert normalise_name(None) == ""
    assert normalise_name("社区") == "社区"


def _unique_sample(communities: pd.DataFrame, n: int) -> pd.DataFrame:
    keys = communities["name"].map(normalise_name)
    unique = communities[~keys.duplicated(keep=False)]
    return unique.sample(n, random_state=7).reset_index(drop=True)


def test_reconcile_sample(communities: pd.DataFrame) -> None:
    sample = _unique_sample(communities, 40)
    names = sample["name"].map(normalise_name) + "社区"
    names[1] = "\u3000" + names[1].replace("社区", "  社区居委会")  # spacing + suffix variant
    renamed_code = sample.loc[2, "code"]
    names[2] = names[2][:-2] + "新城社区"  # renamed: no longer the register name
    dropped_code = sample.loc[3, "code"]
    layer = pd.DataFrame({"name": names}).drop(index=3)
    layer.loc[99] = "测试虚构小区"  # bogus row

    report = reconcile_register(layer, communities)

    expected = set(sample["code"]) - {renamed_code, dropped_code}
    assert set(report.matched["code"]) == expected
    assert len(report.matched) == 38
    assert (report.matched["match_by"] == "name").all()
    assert set(report.missing["code"]) == set(communities["code"]) - expected
    assert {renamed_code, dropped_code} <= set(report.missing["code"])
    assert len(report.missing) == 620 - 38
    assert sorted(report.unknown["row"]) == [2, 99]
    assert report.unknown.set_index("row").loc[2, "hint_code"] == renamed_code
    assert report.ambiguous.empty
    # Matched rows keep the layer's index labels and the register's street/district.
    first = report.matched.set_index("row").loc[0]
    assert first["code"] == sample.loc[0, "code"]
    assert first["street_name"] == sample.loc[0, "street_name"]


def test_reconcile_does_not_mutate(communities: pd.DataFrame) -> None:
    layer = pd.DataFrame({"name": ["二马路社区"], "community_id": ["x"]})
    before = layer.copy()
    reconcile_register(layer, communities)
    pd.testing.assert_frame_equal(layer, before)


def test_match_by_code(communities: pd.DataFrame) -> None:
    codes = communities["code"].iloc[:3].tolist()
    layer = pd.DataFrame(
        {
            "name": ["随便写的名字", "另一个", "二马路社区", "凉水井社区"],
            "community_id": [codes[0], int(codes[1]), "5117", None],
        }
    )
    report = reconcile_register(layer, communities)
    by_row = report.matched.set_index("row")
    assert by_row.loc[0, "code"] == codes[0] and by_row.loc[0, "match_by"] == "code"
    assert by_row.loc[1, "code"] == codes[1] and by_row.loc[1, "match_by"] == "code"
    assert by_row.loc[2, "match_by"] == "name"  # a short code falls back to the name
    assert report.ambiguous["row"].tolist() == [3]


def test_village_code_is_not_a_community(register: pd.DataFrame) -> None:
    village = register[register["name"] == "岩门村社区村民委员会"].iloc[0]
    layer = pd.DataFrame({"name": ["岩门村社区"], "community_id": [village["code"]]})
    report = reconcile_register(layer, register)
    assert report.matched.empty
    hint = report.unknown.iloc[0]
    assert (hint["hint_code"], hint["hint_level"]) == (village["code"], "村")


def test_ambiguous_names(communities: pd.DataFrame) -> None:
    layer = pd.DataFrame(
        {
            "name": ["凉水井社区", "凉水井社区", "凉水井", "凉水井社区", "二马路社区"],
            "district": [None, "通川区", "宣汉", "511702", "宣汉县"],
        }
    )
    plain = reconcile_register(layer, communities)
    assert len(plain.ambiguous) == 4
    row = plain.ambiguous.iloc[0]
    assert row["n_candidates"] == 2
    assert set(row["candidate_codes"].split(";")) == {"511702001002", "511722120001"}

    report = reconcile_register(layer, communities, district_column="district")
    by_row = report.matched.set_index("row")
    assert report.ambiguous["row"].tolist() == [0]
    assert by_row.loc[1, "code"] == "511702001002"
    assert by_row.loc[2, "code"] == "511722120001"
    assert by_row.loc[3, "code"] == "511702001002"
    assert set(by_row["match_by"]) == {"name+district"}
    # 二马路 exists only in 通川区: a layer that puts it in 宣汉县 gets a hint, not a match.
    assert report.unknown["row"].tolist() == [4]
    assert report.unknown.iloc[0]["hint_district"] == "通川区"


def test_geodataframe_input(communities: pd.DataFrame) -> None:
    layer = gpd.GeoDataFrame({"name": ["二马路社区"]}, geometry=[Point(107.5, 31.2)], crs="EPSG:4326")
    assert len(reconcile_register(layer, communities).matched) == 1


def test_plan_table1() -> None:
    table = plan_table1()
    assert table[["total", "urban", "town"]].sum().tolist() == [621, 226, 395]
    assert (table["urban"] + table["town"] == table["total"]).all()
    assert PLAN_TABLE1["通川区"] == (104, 72, 32)
    assert PLAN_TABLE1["高新区"].total == 6
    with pytest.raises(TypeError):
        PLAN_TABLE1["通川区"] = (0, 0, 0)  # type: ignore[index]


def test_by_district(communities: pd.DataFrame) -> None:
    layer = pd.DataFrame({"name": ["二马路社区", "凉水井社区"], "d": ["通川区", "宣汉县"]})
    report = reconcile_register(layer, communities, district_column="d")
    by = report.by_district.set_index("district_name")
    assert by.loc["合计 Total", "plan_2020_total"] == 621
    assert by.loc["合计 Total", "register_2023"] == 620
    assert by.loc["合计 Total", "layer_matched"] == 2
    expected_2023 = {
        "通川区": 103,
        "达川区": 112,
        "万源市": 49,
        "宣汉县": 81,
        "大竹县": 89,
        "渠县": 149,
        "开江县": 37,
    }
    for name, count in expected_2023.items():
        assert by.loc[name, "register_2023"] == count
        assert by.loc[name, "plan_2020_total"] == PLAN_TABLE1[name].total
    assert by.loc["通川区", "layer_matched"] == 1 and by.loc["宣汉县", "layer_matched"] == 1
    assert by.loc["达川区", "register_minus_2020"] == 6
    assert pd.isna(by.loc["高新区", "register_2023"])
    assert "高新区" in by.loc["高新区", "note"]


def test_summary(communities: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    report = reconcile_register(pd.DataFrame({"name": ["二马路社区", "虚构"]}), communities)
    text = report.summary()
    assert "已匹配 Matched: 1" in text and "Unknown to register: 1" in text
    assert "621" in text and len(text.splitlines()) <= 10
    assert capsys.readouterr().out == ""


def test_bad_input(communities: pd.DataFrame) -> None:
    with pytest.raises(ColumnError, match="名称|name_column"):
        reconcile_register(pd.DataFrame({"社区名称": ["x"]}), communities)
    with pytest.raises(ColumnError, match="district_column"):
        reconcile_register(pd.DataFrame({"name": ["x"]}), communities, district_column="区县")
    with pytest.raises(ValidationError, match="no features"):
        reconcile_register(pd.DataFrame({"name": []}), communities)
    with pytest.raises(ValidationError, match="社区"):
        reconcile_register(pd.DataFrame({"name": ["x"]}), communities.assign(level="村"))


@needs_shared
def test_register_matches_shared_copy(register: pd.DataFrame) -> None:
    def shared(name: str) -> pd.DataFrame:
        return pd.read_csv(SHARED_REGISTER / f"dazhou_{name}_2023.csv", dtype=str, keep_default_na=False)

    villages = shared("villages")
    ours = register[register["level"].isin(["社区", "村"])].reset_index(drop=True)
    assert ours["code"].tolist() == villages["code"].tolist()
    assert ours["name"].tolist() == villages["name"].tolist()
    assert ours["street_code"].tolist() == villages["streetCode"].tolist()
    assert ours["district_code"].tolist() == villages["areaCode"].tolist()
    streets = shared("streets")
    ours_streets = register[register["level"].isin(["街道", "镇", "乡"])]
    assert ours_streets["code"].tolist() == streets["code"].tolist()
    assert ours_streets["name"].tolist() == streets["name"].tolist()
    areas = shared("areas")
    assert register.loc[register["level"] == "区县", "name"].tolist() == areas["name"].tolist()
