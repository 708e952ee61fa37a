"""Walking graphs from local OSM files: formats, the walkable-way filter, clipping, cache."""

import bz2
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from dz_gis import DataFileError, settings
from dz_gis.datasets import sample_osm_path
from dz_gis.network import STEPS_FACTOR, walk_graph_from_file

DATA = Path(__file__).parent / "data" / "osm"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")


def ways(graph):
    return {frozenset((u, v)) for u, v in graph.edges()}


def test_walkable_way_filter_from_osm_xml():
    g = walk_graph_from_file(DATA / "walk_rules.osm")
    kept = ways(g)
    assert frozenset((1, 2)) in kept  # footway
    assert frozenset((2, 3)) in kept and g.has_edge(3, 2)  # one-way for cars, both ways on foot
    assert frozenset((3, 4)) not in kept  # motorway
    assert frozenset((4, 5)) not in kept  # access=private
    assert frozenset((5, 6)) not in kept  # foot=no
    assert frozenset((6, 7)) in kept  # access=private but foot=yes
    assert frozenset((8, 9)) not in kept  # cycleway is not in the walkable list
    steps = g.edges[7, 8, 0]
    flat = g.edges[1, 2, 0]
    assert steps["walk_s"] / steps["length"] == pytest.approx(STEPS_FACTOR * flat["walk_s"] / flat["length"])
    assert g.graph["crs"].to_epsg() == 4545  # CGCS2000 GK CM 108E for Dazhou
    assert flat["length"] == pytest.approx(95.3, abs=1.0)  # 0.001 deg of longitude at 31.21 N


def test_bz2_and_plain_xml_give_the_same_graph(tmp_path):
    packed = tmp_path / "walk_rules.osm.bz2"
    packed.write_bytes(bz2.compress((DATA / "walk_rules.osm").read_bytes()))
    a = walk_graph_from_file(DATA / "walk_rules.osm", cache=False)
    b = walk_graph_from_file(packed, cache=False)
    assert set(a.nodes) == set(b.nodes) and ways(a) == ways(b)


def test_pbf_every_edge_has_both_directions_and_times():
    g = walk_graph_from_file(sample_osm_path())
    assert g.graph["crs"].is_projected
    for u, v, d in g.edges(data=True):
        assert d["walk_s"] > 0 or d["length"] == 0
        assert g.has_edge(v, u)
    assert all("x" in d and "y" in d for _, d in g.nodes(data=True))


def test_study_area_is_buffered_before_clipping():
    centre = shapely.Point(24.9440, 60.1700)
    area = gpd.GeoSeries([centre], crs=4326).to_crs(32635).buffer(150).to_crs(4326)
    tight = walk_graph_from_file(sample_osm_path(), polygon=area, buffer_m=1.0)
    wide = walk_graph_from_file(sample_osm_path(), polygon=area, buffer_m=400.0)
    assert 0 < tight.number_of_nodes() < wide.number_of_nodes()
    hull = shapely.MultiPoint([(d["x"], d["y"]) for _, d in wide.nodes(data=True)]).convex_hull
    circle = gpd.GeoSeries([centre], crs=4326).to_crs(wide.graph["crs"]).iloc[0]
    assert hull.contains(circle.buffer(450))  # the buffer reaches beyond the study area


def _same_graph(a, b):
    assert a.graph == b.graph
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    ea = {(u, v, k): d for u, v, k, d in a.edges(keys=True, data=True)}
    eb = {(u, v, k): d for u, v, k, d in b.edges(keys=True, data=True)}
    assert ea.keys() == eb.keys()
    for key, da in ea.items():
        db = eb[key]
        assert da["geometry"].equals_exact(db["geometry"], 0) and da["walk_s"] == db["walk_s"], key
        assert {k: v for k, v in da.items() if k != "geometry"} == {k: v for k, v in db.items() if k != "geometry"}


def test_graph_cache_reloads_an_equal_graph_and_keys_on_the_arguments(monkeypatch):
    import dz_gis.network.from_file as from_file

    first = walk_graph_from_file(sample_osm_path())
    assert len(list((settings.cache_folder / "graphs").glob("*.gpkg"))) == 1
    assert not list((settings.cache_folder / "graphs").glob("*.pickle"))  # data only, no code

    def no_build(*args, **kwargs):
        raise AssertionError("built again instead of read from the cache")

    with monkeypatch.context() as patch:
        patch.setattr(from_file, "_pbf_network", no_build)
        again = walk_graph_from_file(sample_osm_path())
    _same_graph(first, again)
    walk_graph_from_file(sample_osm_path(), walk_m_per_min=60.0)
    assert len(list((settings.cache_folder / "graphs").glob("*.gpkg"))) == 2


@pytest.mark.parametrize("which", ["gpkg", "json"])
def test_a_damaged_cache_is_built_again_with_a_warning(which):
    first = walk_graph_from_file(sample_osm_path())
    (path,) = (settings.cache_folder / "graphs").glob(f"*.{which}")
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    for at in rng.integers(0, len(data), 3):  # three bytes anywhere
        data[at] ^= 1 << int(rng.integers(0, 8))
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="is damaged"):
        again = walk_graph_from_file(sample_osm_path())
    _same_graph(first, again)
    _same_graph(first, walk_graph_from_file(sample_osm_path()))  # and cached afresh


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.osm.pbf", None, "not found"),
        ("roads.dwg", b"AC1027", "expected an OpenStreetMap"),
        ("broken.osm", b"<osm><way id='1'><nd ref=", "cannot read it as OSM XML"),
        ("empty.osm", b"<?xml version='1.0'?><osm version='0.6'></osm>", "no ways|cannot read"),
        ("broken.osm.pbf", b"\x00\x00\x00\x0dnot a pbf at all", "cannot read it as OSM PBF|no ways"),
    ],
)
def test_bad_osm_files(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataFileError, match=match):
        walk_graph_from_file(path, cache=False)


def test_no_walkable_ways(tmp_path):
    only_motorway = tmp_path / "m.osm"
    text = (DATA / "walk_rules.osm").read_text(encoding="utf-8")
    keep = [line for line in text.splitlines() if "<way" not in line or 'v="motorway"' in line]
    only_motorway.write_text("\n".join(keep), encoding="utf-8")
    with pytest.raises(DataFileError, match="no walkable ways"):
        walk_graph_from_file(only_motorway, cache=False)
