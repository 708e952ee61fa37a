"""Which OpenStreetMap ways a pedestrian walks, and which can be entered from the side.

Two decisions per way, both from its tags, as OSM is tagged in China (each reviewed against
OSMnx's ``walk`` filter; where we differ, the reason is given):

**Walkable** (:func:`walkable`): ``highway`` in :data:`WALKABLE_HIGHWAYS`, and none of

- ``foot=no`` or ``foot=private``;
- ``access=private`` / ``access=no`` (also inside a list such as ``private;delivery``),
  unless ``foot=yes/designated/permissive`` - OSMnx keeps ``access=no``; we do not, because
  a home reached only through a closed way is not served;
- ``service=private``; ``sidewalk=separate`` (also ``:both/:left/:right``): the carriageway
  whose sidewalks are mapped as their own ways, which pedestrians use instead (as OSMnx);
- ``highway=cycleway``, unless ``foot=yes/designated/permissive`` (a shared path: OSMnx drops
  every cycleway; Chinese 非机动车道 without a foot tag are not footpaths);
- an urban expressway (城市快速路): ``trunk``/``trunk_link`` with ``motorroad=yes`` or
  ``expressway=yes``, or on a viaduct (``bridge=viaduct``), which pedestrians may not use by
  law (道路交通安全法 and the cities' 快速路 rules) - unless ``foot=yes/designated``.
  Elevated 高架 drawn over a surface street otherwise give walks that do not exist.
- ``area=yes``, except pedestrian squares (``highway=pedestrian``), which are walked along
  their edge.

Walked as OSMnx walks them: ``trail`` (a path by another name), ``corridor`` and ``elevator``
(indoor links; they cannot be entered from outside, see below).

**Enterable from the side** (:func:`enterable`): a home or facility next to a way joins the
network through it only if a pedestrian can step onto it there. Not enterable (walked along,
never used to join): tunnels (``tunnel`` other than ``no`` / ``building_passage``); bridges
and elevated carriageways of trunk and primary roads (``bridge`` not ``no``, or ``layer`` ≥ 1);
indoor ``corridor`` and ``elevator`` ways.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "WALKABLE_HIGHWAYS",
    "WAY_TAGS",
    "enterable",
    "tags_from_json",
    "walkable",
]

#: OSM ``highway`` values a pedestrian may use.
WALKABLE_HIGHWAYS = frozenset(
    {
        "footway",
        "path",
        "trail",
        "pedestrian",
        "steps",
        "corridor",
        "elevator",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "track",
        "road",
        "cycleway",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "trunk",
        "trunk_link",
    }
)

#: Way tags the decisions read; OSMnx and pyrosm are asked for them.
WAY_TAGS = (
    "highway",
    "name",
    "foot",
    "access",
    "service",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "bridge",
    "tunnel",
    "layer",
    "motorroad",
    "expressway",
    "area",
)

_FOOT_ALLOWED = {"yes", "designated", "permissive"}
_MAJOR = {"trunk", "trunk_link", "primary", "primary_link"}
_INDOOR = {"corridor", "elevator"}


def _col(edges: pd.DataFrame, name: str) -> pd.Series:
    """A tag column as lower-case text ("" where absent).

    OSMnx lists (ways merged when a graph was simplified) become "a;b", except ``highway``,
    whose first value names the class.
    """
    if name not in edges.columns:
        return pd.Series("", index=edges.index, dtype="string")

    def text(v: object) -> object:
        if isinstance(v, list):
            return str(v[0]) if name == "highway" and v else ";".join(map(str, v))
        return v

    values = edges[name].map(text)
    return values.astype("string").str.strip().str.lower().fillna("")


def _has(values: pd.Series, words: Iterable[str]) -> pd.Series:
    """True where a (possibly ``;``-separated) tag value contains one of ``words``."""
    wanted = set(words)
    return values.map(lambda v: bool(wanted & {part.strip() for part in str(v).split(";")})).astype(bool)


def _layer(edges: pd.DataFrame) -> pd.Series:
    """The highest layer of a way (merged ways of a simplified OSMnx graph list several)."""
    parts = _col(edges, "layer").str.split(";")
    return parts.map(lambda p: max((float(x) for x in p if _is_number(x)), default=0.0)).astype(float)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def walkable(edges: pd.DataFrame) -> np.ndarray:
    """Which ways (rows with OSM tag columns) a pedestrian may walk; see the module's rules."""
    highway, foot = _col(edges, "highway"), _col(edges, "foot")
    foot_ok = foot.isin(_FOOT_ALLOWED)
    ok = highway.isin(WALKABLE_HIGHWAYS)
    ok &= ~foot.isin({"no", "private"})
    ok &= ~(_has(_col(edges, "access"), {"private", "no"}) & ~foot_ok)
    ok &= ~_has(_col(edges, "service"), {"private"})
    for side in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"):
        ok &= _col(edges, side) != "separate"
    ok &= ~((highway == "cycleway") & ~foot_ok)
    expressway = highway.isin({"trunk", "trunk_link"}) & (
        (_col(edges, "motorroad") == "yes")
        | (_col(edges, "expressway") == "yes")
        | (_col(edges, "bridge") == "viaduct")
    )
    ok &= ~(expressway & ~foot.isin({"yes", "designated"}))
    ok &= ~((_col(edges, "area") == "yes") & (highway != "pedestrian"))
    return ok.to_numpy()


def enterable(edges: pd.DataFrame) -> np.ndarray:
    """Which ways a pedestrian can step onto from beside them; see the module's rules.

    A way merged from several (a simplified OSMnx graph lists their tags) is not enterable
    when any of them is not: simplified graphs lose where along it that was.
    """
    kinds = _all_values(edges, "highway")
    tunnel = _all_values(edges, "tunnel")
    bridge = _all_values(edges, "bridge")
    in_tunnel = tunnel.map(lambda v: bool(v - {"", "no", "building_passage"}))
    major = kinds.map(lambda v: bool(v & _MAJOR))
    on_bridge = bridge.map(lambda v: bool(v - {"", "no"}))
    raised = major & (on_bridge | (_layer(edges) >= 1))
    indoor = kinds.map(lambda v: bool(v & _INDOOR))
    return (~(in_tunnel | raised | indoor)).to_numpy(dtype=bool)


def _all_values(edges: pd.DataFrame, name: str) -> pd.Series:
    """Every value of a tag, as a set (OSMnx lists and ``a;b`` lists split)."""
    if name not in edges.columns:
        return pd.Series([set()] * len(edges), index=edges.index, dtype=object)

    def values(v: object) -> set[str]:
        items = v if isinstance(v, list) else [v]
        return {p.strip().lower() for x in items if isinstance(x, str) for p in x.split(";")}

    return edges[name].map(values)


def tags_from_json(edges: pd.DataFrame, column: str = "tags") -> pd.DataFrame:
    """``edges`` with the :data:`WAY_TAGS` that pyrosm leaves in its JSON ``tags`` column as columns."""
    if column not in edges.columns:
        return edges
    missing = [t for t in WAY_TAGS if t not in edges.columns]
    if not missing:
        return edges

    def parse(text: object) -> dict:
        if not isinstance(text, str) or not text:
            return {}
        try:
            found = json.loads(text)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    parsed = edges[column].map(parse)
    extra = {t: parsed.map(lambda d, t=t: d.get(t)) for t in missing}
    return edges.assign(**{t: v for t, v in extra.items() if v.notna().any()})
