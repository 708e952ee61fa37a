"""Which OSM ways are walked and which can be entered from the side: each decision, one case."""

import pandas as pd
import pytest

from dz_gis.network.ways import enterable, tags_from_json, walkable

# (tags, walkable, enterable); enterable is only asked of walkable ways
CASES = [
    ({"highway": "residential"}, True, True),
    ({"highway": "motorway"}, False, None),
    ({"highway": "footway", "foot": "no"}, False, None),
    ({"highway": "footway", "foot": "private"}, False, None),
    ({"highway": "service", "access": "private"}, False, None),
    ({"highway": "service", "access": "private;delivery"}, False, None),
    ({"highway": "service", "access": "no"}, False, None),  # OSMnx keeps it; we do not
    ({"highway": "footway", "access": "no", "foot": "yes"}, True, True),
    ({"highway": "service", "service": "private"}, False, None),
    ({"highway": "secondary", "sidewalk": "separate"}, False, None),
    ({"highway": "secondary", "sidewalk:both": "separate"}, False, None),
    ({"highway": "secondary", "sidewalk:left": "separate", "sidewalk:right": "no"}, False, None),
    ({"highway": "secondary", "sidewalk": "both"}, True, True),
    ({"highway": "cycleway"}, False, None),  # a cycle track (非机动车道)
    ({"highway": "cycleway", "foot": "designated"}, True, True),  # a shared path
    ({"highway": "cycleway", "foot": "yes"}, True, True),
    ({"highway": "trail"}, True, True),
    ({"highway": "corridor"}, True, False),  # indoor
    ({"highway": "elevator"}, True, False),
    ({"highway": "pedestrian", "area": "yes"}, True, True),  # a square, walked along its edge
    ({"highway": "service", "area": "yes"}, False, None),  # a parking area's outline
    ({"highway": "trunk", "motorroad": "yes"}, False, None),  # urban expressway 快速路
    ({"highway": "trunk", "expressway": "yes"}, False, None),
    ({"highway": "trunk", "bridge": "viaduct", "layer": "2"}, False, None),  # 高架
    ({"highway": "trunk", "bridge": "viaduct", "foot": "designated"}, True, False),
    ({"highway": "trunk"}, True, True),  # a national road through a town, shops along it
    ({"highway": "trunk", "bridge": "yes", "layer": "1"}, True, False),  # a river bridge: walked, not entered
    ({"highway": "primary", "bridge": "yes"}, True, False),
    ({"highway": "primary", "layer": "1"}, True, False),
    ({"highway": "primary", "layer": "-1"}, True, True),
    ({"highway": "primary_link", "layer": "1;2"}, True, False),
    ({"highway": "residential", "bridge": "yes"}, True, True),  # a small bridge: entered from its ends and sides
    ({"highway": "footway", "tunnel": "yes"}, True, False),  # an underpass
    ({"highway": "secondary", "tunnel": "building_passage"}, True, True),
    ({"highway": "secondary", "tunnel": "no"}, True, True),
    ({"highway": ["residential", "service"]}, True, True),  # an OSMnx list
]


@pytest.mark.parametrize(("tags", "walk", "enter"), CASES)
def test_each_decision(tags, walk, enter):
    frame = pd.DataFrame([tags])
    assert bool(walkable(frame)[0]) is walk, tags
    if enter is not None:
        assert bool(enterable(frame)[0]) is enter, tags


def test_decisions_are_vectorised_and_keep_order():
    frame = pd.DataFrame([c[0] for c in CASES])
    assert walkable(frame).tolist() == [c[1] for c in CASES]


def test_pyrosm_json_tags_become_columns():
    edges = pd.DataFrame(
        {
            "highway": ["trunk", "footway"],
            "tags": ['{"layer": "2", "motorroad": "yes", "name:zh": "南北高架路"}', None],
        }
    )
    out = tags_from_json(edges)
    assert out["layer"].tolist()[0] == "2" and out["motorroad"].tolist()[0] == "yes"
    assert walkable(out).tolist() == [False, True]
