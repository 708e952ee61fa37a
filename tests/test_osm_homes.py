"""Homes from OSM buildings: which buildings are lived in, their storeys and households, compounds."""

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dz_gis._errors import DataFileError, ValidationError
from dz_gis.io import HouseholdAssumptions, estimate_homes
from dz_gis.io.osm_homes import compounds_from_homes

CRS = "EPSG:32635"


def square(i, side=20.0):
    """A side × side footprint, one every 100 m along x."""
    return shapely.box(i * 100.0, 0.0, i * 100.0 + side, side)


def buildings(rows):
    """Buildings from dicts of OSM tags, one 20 × 20 m footprint (400 m²) each."""
    keys = sorted({k for r in rows for k in r})
    cols = {k: [r.get(k) for r in rows] for k in keys}
    cols["osm_id"] = [f"way/{i}" for i in range(len(rows))]
    return gpd.GeoDataFrame(cols, geometry=[square(i) for i in range(len(rows))], crs=CRS)


def landuse(kind, x0, x1):
    return gpd.GeoDataFrame(
        {"landuse": [kind], "osm_id": [f"way/{kind}"]}, geometry=[shapely.box(x0, -10, x1, 30)], crs=CRS
    )


def test_each_class_and_its_households():
    b = buildings(
        [
            {"building": "apartments", "building:levels": "6"},  # residential, 6 storeys
            {"building": "yes"},  # in landuse=residential below: residential, default 5
            {"building": "yes"},  # elsewhere, no use: mixed, 5 × 0.5
            {"building": "yes", "amenity": "school"},  # its use is tagged: not lived in
            {"building": "yes"},  # in landuse=industrial: not lived in
            {"building": "office", "building:levels": "8"},  # not lived in
            {"building": "yes", "building:flats": "12"},  # a counted number of flats
            {"building": "commercial", "building:use": "residential"},  # building:use wins
            {"building": "yes", "building:use": "retail;residential"},  # residential among others: mixed
        ]
    )
    lu = pd.concat([landuse("residential", 90, 130), landuse("industrial", 390, 430)], ignore_index=True)
    homes = estimate_homes(b, lu)
    assert homes["home_class"].tolist() == [
        "residential",
        "residential",
        "mixed",
        "none",
        "none",
        "none",
        "flats",
        "residential",
        "mixed",
    ]
    a = HouseholdAssumptions()
    per_storey = 400.0 / a.m2_per_household
    expected = [6 * per_storey, 5 * per_storey, 5 * 0.5 * per_storey, 0, 0, 0, 12, 5 * per_storey, 2.5 * per_storey]
    assert np.allclose(homes["households"], expected)
    assert homes.loc[3, "why"] == "amenity=school tagged on the building"
    assert homes.loc[4, "why"] == "building=yes in non-residential land use"
    assert (homes.loc[homes["home_class"] == "none", "demand_source"] == "not lived in").all()
    assert homes.loc[2, "demand_source"].startswith("estimate from OSM buildings")
    assert "mixed use 0.5" in homes.loc[2, "demand_source"]
    assert homes.loc[6, "demand_source"].startswith("OSM building:flats")


def test_storeys_from_levels_height_house_or_default():
    b = buildings(
        [
            {"building": "apartments", "building:levels": "7", "building:min_level": "4"},  # a part over a passage
            {"building": "apartments", "height": "12.5 m"},
            {"building": "house"},
            {"building": "apartments"},
            {"building": "apartments", "building:levels": "many"},  # not a number: default
        ]
    )
    homes = estimate_homes(b, assumptions=HouseholdAssumptions(house_levels=2, default_levels=5))
    assert homes["storeys"].tolist() == [3.0, 4.0, 2.0, 5.0, 5.0]
    assert homes["storeys_source"].tolist() == [
        "building:levels",
        "height / 3 m",
        "assumed (house)",
        "assumed (default)",
        "assumed (default)",
    ]


def test_each_assumption_moves_the_households_it_should():
    b = buildings([{"building": "apartments"}, {"building": "yes"}, {"building": "house"}])
    base = estimate_homes(b)["households"].to_numpy()
    a = HouseholdAssumptions()
    half_mixed = estimate_homes(b, assumptions=dataclasses.replace(a, mixed_use_share=0.25))["households"]
    assert np.allclose(half_mixed, base * [1, 0.5, 1])
    bigger_homes = estimate_homes(b, assumptions=dataclasses.replace(a, m2_per_household=150.0))["households"]
    assert np.allclose(bigger_homes, base / 2)
    taller = estimate_homes(b, assumptions=dataclasses.replace(a, default_levels=10.0))["households"]
    assert np.allclose(taller, base * [2, 2, 1])  # the house keeps house_levels
    taller_houses = estimate_homes(b, assumptions=dataclasses.replace(a, house_levels=3.0))["households"]
    assert np.allclose(taller_houses, base * [1, 1, 1.5])


def test_geographic_input_is_measured_in_metres():
    b = buildings([{"building": "apartments", "building:levels": "1"}])
    b = b.set_geometry(b.translate(385_000, 6_672_000)).to_crs(4326)  # central Helsinki
    homes = estimate_homes(b)
    assert homes.crs.is_projected
    assert homes["footprint_m2"].iloc[0] == pytest.approx(400.0, rel=1e-3)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"m2_per_household": 0}, "m2_per_household=0: must be a positive number"),
        ({"mixed_use_share": 1.5}, "mixed_use_share=1.5: a share, between 0 and 1"),
        ({"default_levels": "5"}, "default_levels='5': must be a positive number"),
        ({"levels": 5}, r"unknown household assumption\(s\) \['levels'\]; known: m2_per_household"),
    ],
)
def test_bad_assumptions_name_themselves(values, match):
    with pytest.raises(ValidationError, match=match):
        HouseholdAssumptions.from_mapping(values)


def test_buildings_without_crs_are_refused():
    b = buildings([{"building": "yes"}]).set_crs(None, allow_override=True)
    with pytest.raises(ValidationError, match="buildings have no CRS"):
        estimate_homes(b)


def test_compounds_by_residential_area_then_street_block_then_building():
    b = buildings(
        [
            {"building": "apartments"},  # x 0-20: inside the residential area
            {"building": "yes"},  # x 100-120: inside the residential area
            {"building": "yes"},  # x 200-220: street block 0
            {"building": "yes"},  # x 300-320: street block 0
            {"building": "office"},  # x 400-420: street block 0, not lived in
            {"building": "yes"},  # x 500-520: in no block
        ]
    )
    lu = landuse("residential", -10, 130)
    blocks = gpd.GeoDataFrame({"block_id": [0]}, geometry=[shapely.box(-50, -50, 450, 70)], crs=CRS)
    homes = estimate_homes(b, lu)
    comp = compounds_from_homes(homes, lu, blocks=blocks, persons_per_household=2.0)
    assert comp["grouped_by"].tolist() == ["landuse=residential", "street block", "building"]
    assert comp["n_buildings"].tolist() == [2, 2, 1]
    assert comp["n_mixed_use"].tolist() == [0, 2, 1]
    assert comp["osm_id"].tolist() == ["way/residential", "way/2;way/3", "way/5"]
    assert comp["households"].sum() == pytest.approx(homes["households"].sum(), abs=len(comp))
    assert (comp["population"] == comp["households"] * 2).all()
    assert comp["provisional"].all() and comp["demand_source"].str.contains("building").all()
    assert comp.crs.to_epsg() == 4326
    # the block compound's land is the block less the residential area, not the whole block
    block_land = comp.to_crs(CRS).geometry.iloc[1]
    assert block_land.area == pytest.approx(500 * 120 - 140 * 40)
    assert not block_land.contains(shapely.Point(10, 10))


def test_no_home_at_all_is_an_error():
    homes = estimate_homes(buildings([{"building": "office"}, {"building": "church"}]))
    with pytest.raises(DataFileError, match="no building people live in"):
        compounds_from_homes(homes)
