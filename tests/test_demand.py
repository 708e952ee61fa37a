"""Demand from attributes, compounds, buildings and a population raster."""

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from dz_gis import DataFileError
from dz_gis.demand import assign_demand, demand_from_raster, households_from_buildings

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
