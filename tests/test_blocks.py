"""Provisional community units and streets from street blocks, on a grid checkable by hand."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from dz_gis._errors import ValidationError
from dz_gis.datasets import assign_units, communities_from_blocks, streets_from_units

CRS = "EPSG:32648"


def grid(nx, ny, households):
    """nx × ny blocks of 100 m, each with one compound of ``households`` at its centre."""
    cells = [(i, j) for j in range(ny) for i in range(nx)]
    blocks = gpd.GeoDataFrame(
        {"block_id": range(len(cells))},
        geometry=[shapely.box(i * 100, j * 100, i * 100 + 100, j * 100 + 100) for i, j in cells],
        crs=CRS,
    )
    hh = np.broadcast_to(households, len(cells)).astype(float)
    compounds = gpd.GeoDataFrame(
        {"compound_id": [f"c{k}" for k in range(len(cells))], "households": hh},
        geometry=[shapely.Point(i * 100 + 50, j * 100 + 50) for i, j in cells],
        crs=CRS,
    )
    return blocks, compounds


def test_as_many_units_as_the_size_rule_allows():
    blocks, compounds = grid(6, 4, 500)  # 12,000 households: at most 8 units of >= 1,500
    units = communities_from_blocks(blocks, compounds, min_households=1500, max_households=4000)
    assert len(units) == 8
    assert units["households"].between(1500, 4000).all() and units["size_ok"].all()
    assert units["households"].sum() == 12_000
    assert units["provisional"].all() and units["unit_method"].str.contains("not an official boundary").all()
    assert all(shapely.buffer(g, 1.0).geom_type == "Polygon" for g in units.geometry)  # each unit in one piece
    assert (assign_units(compounds, units).value_counts() == 3).all()


def test_a_wider_range_or_fewer_households_gives_fewer_units():
    blocks, compounds = grid(6, 4, 500)
    assert len(communities_from_blocks(blocks, compounds, min_households=3000, max_households=4000)) == 4
    blocks, compounds = grid(6, 4, 250)
    assert len(communities_from_blocks(blocks, compounds, min_households=1500, max_households=4000)) == 4


def test_an_oversized_block_is_kept_and_flagged():
    blocks, compounds = grid(3, 1, [5000, 800, 800])
    units = communities_from_blocks(blocks, compounds, min_households=1500, max_households=4000)
    assert units["households"].tolist() == [5000, 1600]
    assert units["size_ok"].tolist() == [False, True]


def test_streets_group_contiguous_units():
    blocks, compounds = grid(6, 4, 500)
    units = communities_from_blocks(blocks, compounds)
    streets = streets_from_units(units, communities_per_street=4)
    assert streets["street"].value_counts().tolist() == [4, 4]
    assert streets["street_method"].str.contains("not an official boundary").all()
    for _, members in streets.groupby("street"):
        assert shapely.union_all(shapely.buffer(members.geometry.array, 1.0)).geom_type == "Polygon"
    assert streets.drop(columns=["street", "street_method"]).equals(units)  # the units themselves unchanged
    assert streets_from_units(units, communities_per_street=10)["street"].nunique() == 1


def test_streets_need_a_positive_size():
    blocks, compounds = grid(2, 1, 1500)
    with pytest.raises(ValidationError, match="communities_per_street=0: must be positive"):
        streets_from_units(communities_from_blocks(blocks, compounds), communities_per_street=0)


def test_no_units_no_streets():
    blocks, compounds = grid(2, 1, 1500)
    none = communities_from_blocks(blocks, compounds).iloc[:0]
    assert list(streets_from_units(none).columns[-2:]) == ["street", "street_method"]
