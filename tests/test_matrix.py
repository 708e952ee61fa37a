"""The origin–destination matrix: pair by pair equal to an independent networkx computation."""

import numpy as np
import pandas as pd
import pytest
from reference import reference_joins, reference_times
from test_access_model import graph_of, pts

import dz_gis
from dz_gis.network import prepare

ISLAND_WARNING = "ignore:.*not connected to the main walking network:UserWarning"


@pytest.mark.filterwarnings(ISLAND_WARNING)
def test_od_times_equal_networkx_pair_by_pair(sample):
    graph = sample.graph
    speed = prepare(graph).walk_m_per_min / 60
    origins = sample.compounds.set_index("compound_id")
    destinations = sample.facilities.iloc[::7].set_index("facility_id")
    cutoff = 12.0
    od = dz_gis.od_times(graph, origins, destinations, cutoff_min=cutoff)
    got = od.set_index(["origin", "destination"])["minutes"]
    origin_joins = reference_joins(graph, origins)
    expected = {}
    for label, joins in zip(destinations.index, reference_joins(graph, destinations), strict=True):
        seconds, _ = reference_times(graph, [joins], origin_joins, speed)
        for o, s in zip(origins.index, seconds, strict=True):
            if s <= cutoff * 60:
                expected[(o, label)] = s / 60
    assert len(expected) > 200
    assert set(got.index) == set(expected)
    np.testing.assert_allclose(got.loc[list(expected)].to_numpy(), list(expected.values()), rtol=0, atol=1e-8)


@pytest.mark.filterwarnings(ISLAND_WARNING)
def test_od_times_agree_with_nearest_times(sample):
    graph = sample.graph
    parks = sample.facilities[sample.facilities["category"] == "park"]
    od = dz_gis.od_times(graph, sample.compounds, parks, cutoff_min=15)
    nearest = od.groupby("origin")["minutes"].min()
    times = dz_gis.nearest_times(graph, parks, demand=sample.compounds, cutoff_min=15).demand["park"]
    np.testing.assert_allclose(nearest.to_numpy(), times.loc[nearest.index].to_numpy(), atol=1e-9)
    assert times.drop(nearest.index).isna().all()  # no pair within 15 min: no nearest time either


def test_od_matrix_stores_exactly_the_pairs():
    nodes = {i: (100.0 * i, 0.0) for i in range(6)}
    g = graph_of([(i, i + 1, {"highway": "footway"}) for i in range(5)], nodes)
    origins = pts([(0, 5), (250, -5), (500, 0)]).set_axis(["a", "b", "c"])
    destinations = pts([(250, -5), (0, 3)]).set_axis(["x", "y"])
    od = dz_gis.od_times(g, origins, destinations, cutoff_min=4)  # 4 min: 268 m
    metres = {
        ("a", "x"): 5 + 250 + 5,
        ("a", "y"): 5 + 3,
        ("b", "x"): 5 + 5,
        ("b", "y"): 5 + 250 + 3,
        ("c", "x"): 250 + 5,
    }
    got = od.set_index(["origin", "destination"])["minutes"]
    assert set(got.index) == set(metres)  # c–y, 503 m apart, is beyond the cutoff
    for pair, m in metres.items():
        assert got[pair] == pytest.approx(m / 67.0, abs=1e-9)
    matrix = dz_gis.od_matrix(od, origins, destinations)
    assert matrix.shape == (3, 2) and matrix.nnz == len(od) == 5
    assert matrix[0, 1] == pytest.approx(8 / 67.0) and matrix[2, 1] == 0  # c–y not stored


def test_od_matrix_rejects_other_frames():
    od = pd.DataFrame({"origin": ["z"], "destination": ["x"], "minutes": [1.0]})
    with pytest.raises(dz_gis.ValidationError, match="not in the frames given"):
        dz_gis.od_matrix(od, pd.Index(["a"]), pd.Index(["x"]))


def test_od_times_validate_cutoff(sample):
    with pytest.raises(dz_gis.ValidationError, match="cutoff_min must be positive"):
        dz_gis.od_times(sample.graph, sample.compounds, sample.facilities, cutoff_min=0)
