"""The plan as a rules file: load and validate checkable planning rules.

A rules file is YAML::

    name: 达州市"十四五"城乡社区发展治理规划 checkable rules
    source: 达州市"十四五"城乡社区发展治理规划 (2022-03-14)
    rules:
      - id: each_has_kindergarten
        title_zh: 每个社区配建一所幼儿园
        title_en: Every community has a kindergarten
        scope: community            # compound | community | street | district | city
        kind: presence              # see RULE_KINDS
        params: {category: kindergarten}
        clause: ch.3 §2 (每个社区原则上配建……一所幼儿园)
        severity: high              # high | medium | low (default medium)
        verified: true              # false where the standard is quoted from memory
        note: optional free text
        applies_to: {community_type: urban}   # optional: only units whose column has this value

:func:`load_rules` reads such a file into frozen :class:`Rule` objects. Every mistake -
an unknown key, a wrong type, a missing or unknown parameter, an unknown facility
category, a duplicate id - raises :class:`RulesError` naming the file, the line and
the rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._errors import ValidationError
from .catalog import Catalog, default_catalog

__all__ = [
    "RULE_KINDS",
    "SCOPES",
    "Rule",
    "RuleSet",
    "RulesError",
    "load_rules",
    "builtin_rules_path",
]

#: Administrative levels a rule can apply to, finest first.
SCOPES = ("compound", "community", "street", "district", "city")

_NUMBER = (int, float)

#: Parameters of each rule kind: name -> (accepted types, required, description).
RULE_KINDS: dict[str, dict[str, tuple[tuple[type, ...], bool, str]]] = {
    "presence": {
        "category": ((str,), True, "facility category id that must be inside the unit"),
    },
    "count": {
        "category": ((str,), True, "facility category id"),
        "min_count": ((int,), True, "facilities of that category required in the unit"),
    },
    "reach": {
        "category": ((str,), True, "facility category id"),
        "minutes": (_NUMBER, True, "walking time limit"),
        "min_share": (_NUMBER, True, "share of households (0-1) that must be within the limit"),
        "weight": ((str,), False, "households (default) or population"),
    },
    "area_per_households": {
        "category": ((str,), True, "facility category id whose floor area counts"),
        "m2_per_100_households": (_NUMBER, True, "required floor area per 100 households"),
    },
    "min_area": {
        "category": ((str,), True, "facility category id"),
        "min_m2": (_NUMBER, True, "floor area the unit's largest facility of the category must reach"),
    },
    "size_range": {
        "households": ((list,), False, "[min, max] households"),
        "population": ((list,), False, "[min, max] residents"),
    },
    "adjacency": {
        "category": ((str,), True, "facility category that must stand next to another"),
        "near_category": ((str,), True, "the category it must be next to"),
        "max_m": (_NUMBER, True, "largest straight-line distance counted as adjacent"),
    },
    "share_target": {
        "of_rule": ((str,), True, "id of the rule whose share of met units is counted"),
        "target": (_NUMBER, True, "share (0-1) of units that must meet it"),
    },
}

_RULE_KEYS = {
    "id",
    "title_zh",
    "title_en",
    "scope",
    "kind",
    "params",
    "clause",
    "severity",
    "verified",
    "note",
    "applies_to",
    "__line__",
}
_REQUIRED_KEYS = ("id", "title_zh", "title_en", "scope", "kind", "params", "clause")
_TOP_KEYS = {"name", "source", "rules", "walk_m_per_min", "__line__"}
SEVERITIES = ("high", "medium", "low")


class RulesError(ValidationError):
    """A rules file with a mistake; the message names file, line and rule."""


@dataclass(frozen=True)
class Rule:
    """One checkable rule of a plan."""

    id: str
    title_zh: str
    title_en: str
    scope: str
    kind: str
    params: Mapping[str, Any]
    clause: str
    severity: str = "medium"
    verified: bool = True
    note: str = ""
    applies_to: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0

    def param(self, name: str, default: Any = None) -> Any:
        """A parameter value (or ``default``)."""
        return self.params.get(name, default)


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file, in file order."""

    name: str
    source: str
    rules: tuple[Rule, ...]
    path: str = ""
    walk_m_per_min: float | None = None

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def ids(self) -> list[str]:
        """Rule ids in file order."""
        return [r.id for r in self.rules]


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that records the line of every mapping as ``__line__``."""

    def construct_mapping(self, node, deep=False):  # noqa: D102
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def builtin_rules_path(name: str = "dazhou_2021_2025") -> Path:
    """Path of a rules file shipped with dz_gis (``dazhou_2021_2025`` or ``gb50180_2018``)."""
    return Path(__file__).with_name("rules_files") / f"{name}.yaml"


def load_rules(path: str | Path | None = None, *, catalog: Catalog | None = None) -> RuleSet:
    """Read and validate a rules file (default: the Dazhou plan's rules).

    Parameters
    ----------
    path
        A YAML rules file, or the name of a shipped one (``"gb50180_2018"``).
    catalog
        Facility catalog that category ids are checked against.

    Raises
    ------
    RulesError
        With the file, line and rule of the first mistake found.

    Examples
    --------
    >>> rules = load_rules()
    >>> rules["each_has_kindergarten"].kind
    'presence'
    """
    if path is None:
        path = builtin_rules_path()
    elif not Path(path).suffix and not Path(path).exists():
        path = builtin_rules_path(str(path))
    path = Path(path)
    catalog = catalog or default_catalog()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"{path}: rules file not found.") from None
    except UnicodeDecodeError:
        raise RulesError(f"{path}: not UTF-8 text; save the rules file as UTF-8.") from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise RulesError(f"{path}, {where}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{path}, line {_line_of(text, 'rules')}: expected a mapping with a 'rules:' list.")
    extra = set(data) - _TOP_KEYS
    if extra:
        line = min(_line_of(text, str(k)) for k in extra)
        raise RulesError(
            f"{path}, line {line}: unknown top-level key(s) {sorted(extra)}; "
            "allowed: name, source, rules, walk_m_per_min."
        )
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["rules"]):
        if not isinstance(raw, dict):
            raise RulesError(
                f"{path}, line {_line_of(text, 'rules', i)}: rule #{i + 1} is not a mapping "
                "(each rule starts with '- id: ...')."
            )
        rules.append(_rule(raw, i, path, catalog, seen))
    ids = {r.id for r in rules}
    for r in rules:
        if r.kind == "share_target" and r.param("of_rule") not in ids:
            raise RulesError(
                f"{path}, line {r.line}, rule {r.id!r}: of_rule {r.param('of_rule')!r} is not a rule in this file."
            )
    speed = data.get("walk_m_per_min")
    if speed is not None and (not isinstance(speed, _NUMBER) or isinstance(speed, bool) or not speed > 0):
        line = _line_of(text, "walk_m_per_min")
        raise RulesError(f"{path}, line {line}: walk_m_per_min must be a positive number, not {speed!r}.")
    return RuleSet(
        name=str(data.get("name", path.stem)),
        source=str(data.get("source", "")),
        rules=tuple(rules),
        path=str(path),
        walk_m_per_min=float(speed) if speed is not None else None,
    )


def _line_of(text: str, key: str, item: int | None = None) -> int:
    """Line of a top-level key, or of item ``item`` of the list under it (1 if not found)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return root.start_mark.line + 1 if root is not None else 1
    for k, v in root.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            if item is None:
                return k.start_mark.line + 1
            if isinstance(v, yaml.SequenceNode) and item < len(v.value):
                return v.value[item].start_mark.line + 1
    return 1


def _rule(raw: Any, i: int, path: Path, catalog: Catalog, seen: dict[str, int]) -> Rule:
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: rule #{i + 1} is not a mapping (each rule starts with '- id: ...').")
    line = raw.get("__line__", 0)
    rid = raw.get("id", f"#{i + 1}")

    def fail(msg: str) -> RulesError:
        return RulesError(f"{path}, line {line}, rule {rid!r}: {msg}")

    extra = set(raw) - _RULE_KEYS
    if extra:
        raise fail(f"unknown key(s) {sorted(extra)}; allowed: {sorted(_RULE_KEYS - {'__line__'})}.")
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    if missing:
        raise fail(f"missing key(s) {missing}.")
    for key in ("id", "title_zh", "title_en", "clause", "scope", "kind"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise fail(f"{key} must be a non-empty text, not {raw[key]!r}.")
    if rid in seen:
        raise fail(f"duplicate id (first used on line {seen[rid]}).")
    seen[rid] = line
    if raw["scope"] not in SCOPES:
        raise fail(f"scope {raw['scope']!r} is not one of {', '.join(SCOPES)}.")
    kind = raw["kind"]
    if kind not in RULE_KINDS:
        raise fail(f"kind {kind!r} is not one of {', '.join(RULE_KINDS)}.")
    severity = raw.get("severity", "medium")
    if severity not in SEVERITIES:
        raise fail(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}.")
    verified = raw.get("verified", True)
    if not isinstance(verified, bool):
        raise fail(f"verified must be true or false, not {verified!r}.")
    params = raw["params"]
    if not isinstance(params, dict):
        raise fail("params must be a mapping, e.g. params: {category: kindergarten}.")
    params = {k: v for k, v in params.items() if k != "__line__"}
    spec = RULE_KINDS[kind]
    unknown = set(params) - set(spec)
    if unknown:
        raise fail(f"unknown parameter(s) {sorted(unknown)} for kind {kind!r}; it takes {sorted(spec)}.")
    for name, (types, required, what) in spec.items():
        if name not in params:
            if required:
                raise fail(f"kind {kind!r} needs parameter {name!r} ({what}).")
            continue
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, types):
            names = (
                "whole number"
                if types == (int,)
                else "/".join(dict.fromkeys("number" if t in _NUMBER else t.__name__ for t in types))
            )
            raise fail(f"parameter {name!r} must be a {names}, not {value!r}.")
        if name in {"category", "near_category"} and value not in catalog.ids:
            hint = catalog.resolve(value) or next(iter(difflib.get_close_matches(value, catalog.ids, n=1)), None)
            extra_hint = f" (did you mean {hint!r}?)" if hint else ""
            raise fail(f"unknown facility category {value!r}{extra_hint}; use a catalog id.")
        if name in {"min_share", "target"} and not 0 <= value <= 1:
            raise fail(f"parameter {name!r} is a share between 0 and 1, not {value!r}.")
        if name in {"minutes", "m2_per_100_households", "min_m2", "max_m"} and not value > 0:  # NaN too
            raise fail(f"parameter {name!r} must be positive, not {value!r}.")
        if name == "min_count" and value < 1:
            raise fail(f"parameter 'min_count' must be at least 1, not {value!r}.")
        if name in {"households", "population"} and (
            len(value) != 2
            or not all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in value)
            or value[0] > value[1]
        ):
            raise fail(f"parameter {name!r} must be [min, max] with min <= max, not {value!r}.")
        if name == "weight" and value not in {"households", "population"}:
            raise fail(f"parameter 'weight' must be households or population, not {value!r}.")
    if kind == "size_range" and not ({"households", "population"} & set(params)):
        raise fail("kind 'size_range' needs households: [min, max] and/or population: [min, max].")
    applies = raw.get("applies_to") or {}
    if not isinstance(applies, dict):
        raise fail("applies_to must be a mapping of column: value.")
    applies = {k: v for k, v in applies.items() if k != "__line__"}
    return Rule(
        id=rid,
        title_zh=raw["title_zh"],
        title_en=raw["title_en"],
        scope=raw["scope"],
        kind=kind,
        params=params,
        clause=raw["clause"],
        severity=severity,
        verified=verified,
        note=str(raw.get("note", "") or ""),
        applies_to=applies,
        line=line,
    )
