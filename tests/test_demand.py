"""Demand from attributes, compounds, buildings and a population raster."""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from dz_gis import ColumnError, DataFileError
from dz_gis.demand import assign_demand, demand_from_raster, households_from_buildings, link_compounds

X0, Y0 = 500_000.0, 3_450_000.0


def communities(hh=(np.nan, 1200.0)):
    return gpd.GeoDataFrame(
        {"community_id": ["A", "B"], "households": list(hh)},
        geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100), shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
        crs="EPSG:32648",
    )


def test_buildings_footprint_times_levels():
    b = gpd.GeoDataFrame(
        {"levels": [6, None]},
        geometry=[shapely.box(X0, Y0, X0 + 20, Y0 + 25), shapely.box(X0 + 50, Y0, X0 + 60, Y0 + 15)],
        crs="EPSG:32648",
    )
    pts = households_from_buildings(b, m2_per_household=100)
    assert pts["households"].tolist() == pytest.approx([500 * 6 / 100, 150 * 5 / 100])
    assert pts["demand_source"].str.contains("footprint").all()
    comm, located = assign_demand(communities(), pts)
    assert comm.loc[0, "households"] == pytest.approx(37.5) and comm.loc[0, "demand_source"].startswith("buildings")
    assert comm.loc[1, "households"] == 1200 and comm.loc[1, "demand_source"] == "attributes"
    assert set(located["community_id"]) == {"A"}


def test_population_raster_in_another_crs(tmp_path):
    # 4 x 2 cells of 50 m in EPSG:32648, written in that CRS; 10 residents each, one nodata
    z = np.full((2, 4), 10.0, dtype="float32")
    z[0, 0] = -1
    path = tmp_path / "pop.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=2,
        count=1,
        dtype="float32",
        crs="EPSG:32648",
        transform=Affine(50, 0, X0, 0, -50, Y0 + 100),
        nodata=-1,
    ) as dst:
        dst.write(z, 1)
    pts = demand_from_raster(path, communities().to_crs(4326), persons_per_household=2.0)
    per = pts.groupby("community_id")["population"].sum()
    assert per["A"] == 30 and per["B"] == 40
    assert pts["households"].sum() == pytest.approx(35)


def test_raster_outside_communities_is_an_error(tmp_path):
    path = tmp_path / "far.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=1,
        height=1,
        count=1,
        dtype="float32",
        crs="EPSG:32648",
        transform=Affine(50, 0, X0 + 10_000, 0, -50, Y0),
        nodata=-1,
    ) as dst:
        dst.write(np.ones((1, 1), dtype="float32"), 1)
    with pytest.raises(DataFileError, match="no populated cell lies inside"):
        demand_from_raster(path, communities())


def compounds(ids):
    return gpd.GeoDataFrame(
        {"compound_id": [f"R{i}" for i in range(len(ids))], "community_id": ids, "households": 100.0},
        geometry=shapely.points([(X0 + 50, Y0 + 50), (X0 + 150, Y0 + 50), (X0 + 150, Y0 + 60), (X0 + 500, Y0)]),
        crs="EPSG:32648",
    )


def named():
    return communities().assign(name=["甲社区", "乙社区"])


def test_compounds_link_by_code_name_location_or_not_at_all():
    with pytest.warns(UserWarning) as caught:
        out = link_compounds(compounds(["A", "乙社区", "X9", None]), named())
    assert out["community_id"].tolist()[:3] == ["A", "B", "B"] and out["community_id"].isna().tolist()[3]
    assert out["community_link"].tolist() == ["code", "name", "location", "none"]
    messages = " ".join(str(w.message) for w in caught)
    assert "R1 (乙社区)" in messages and "R2 (X9)" in messages and "R3" in messages


def test_codes_rounded_by_excel_stop_with_the_fix():
    with pytest.raises(ColumnError, match=r"Excel rounded \(5.11702E\+11\).*Format the column as text"):
        link_compounds(compounds(["5.11702E+11"] * 4), named())


def test_run_coverage_counts_compounds_that_name_their_community(sample):
    import warnings

    import dz_gis

    by_name = sample.compounds.assign(
        community_id=sample.compounds["community_id"].map(sample.communities.set_index("community_id")["name"])
    )
    base = dz_gis.run_coverage(
        sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        named_run = dz_gis.run_coverage(
            sample.graph, sample.communities, by_name, sample.facilities, with_isochrones=False
        )
    assert any("linked by name" in str(w.message) for w in caught)
    cols = [c for c in base.communities.columns if c.startswith("cov_")]
    assert base.communities[cols].notna().any().any()
    np.testing.assert_allclose(named_run.communities[cols].to_numpy(float), base.communities[cols].to_numpy(float))
