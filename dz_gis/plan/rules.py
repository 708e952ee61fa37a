"""The plan as a rules file: load and validate checkable planning rules.

A rules file is YAML::

    name: 达州市"十四五"城乡社区发展治理规划 checkable rules
    source: 达州市"十四五"城乡社区发展治理规划 (2022-03-14)
    rules:
      - id: each_has_kindergarten
        title_zh: 每个社区配建一所幼儿园
        title_en: Every community has a kindergarten
        scope: community            # compound | community | street | district | city
        kind: presence              # see dz_gis.plan.kinds.RULE_KINDS
        params: {category: kindergarten}
        clause: ch.3 §2 (每个社区原则上配建……一所幼儿园)
        severity: high              # high | medium | low (default medium)
        verified: true              # false where the standard is quoted from memory
        note: optional free text
        applies_to: {community_type: urban}   # optional: only units whose column has this value
    indicators:                     # optional: the plan's indicator table (dz_gis.plan.indicators)
      - {id: service_coverage, kind: rule, params: {rule: service_coverage}}
    register: dazhou_register_2023.csv   # optional: the register the community layer is checked against

:func:`load_rules` reads such a file into frozen :class:`Rule` objects. Every mistake -
an unknown key, a wrong type, a missing or unknown parameter, an unknown facility
category, a duplicate id - raises :class:`RulesError` naming the file, the line and
the rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._errors import RulesError
from ..catalog import Catalog, default_catalog
from ..datasets.files import data_dir
from ..scopes import SCOPES
from .indicators import INDICATOR_KINDS, Indicator
from .kinds import NUMBER, RULE_KINDS, Param

__all__ = ["Rule", "RuleSet", "load_rules", "builtin_rules_path"]

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
_TOP_KEYS = {"name", "source", "rules", "walk_m_per_min", "indicators", "register", "__line__"}
SEVERITIES = ("high", "medium", "low")


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
    """The rules of one file, in file order, with the file's indicators and register."""

    name: str
    source: str
    rules: tuple[Rule, ...]
    path: str = ""
    walk_m_per_min: float | None = None
    indicators: tuple[Indicator, ...] = ()
    #: the register file the community layer is checked against (None: no register check)
    register: Path | None = None

    def __iter__(self) -> Iterator[Rule]:
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
    """A safe YAML loader that records the line of every mapping as ``__line__``.

    A key given twice in one mapping is an error (plain YAML keeps the last one silently).
    """

    def construct_mapping(self, node, deep=False):  # noqa: D102
        seen: set = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        problem=f"key {key_node.value!r} given twice in one mapping; keep one",
                        problem_mark=key_node.start_mark,
                    )
                seen.add(key_node.value)
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


#: A rules file expands to at most this many YAML nodes (aliases counted where they are used).
_MAX_NODES = 200_000

#: The values the plan gives ``community_type`` (applies_to selects communities by it).
COMMUNITY_TYPES = ("urban", "town", "fringe")


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes the document holds once every alias is written out (each shared node counted once)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a cycle counts once
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[key] = min(size, _MAX_NODES + 1)
    return memo[key]


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
    >>> load_rules("gb50180_2018").register is None
    True
    """
    if path is None:
        path = builtin_rules_path()
    elif not Path(path).suffix and not Path(path).exists():
        path = builtin_rules_path(str(path))
    path = Path(path)
    catalog = catalog or default_catalog()
    data, text = _read_yaml(path)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["rules"]):
        if not isinstance(raw, dict):
            raise RulesError(
                f"{path}, line {_line_of(text, 'rules', i)}: rule #{i + 1} is not a mapping "
                "(each rule starts with '- id: ...')."
            )
        rules.append(_rule(raw, i, path, catalog, seen))
    by_id = {r.id: r for r in rules}
    for r in rules:
        for name, spec in RULE_KINDS[r.kind].params.items():
            if spec.rule_ref and name in r.params and r.params[name] not in by_id:
                raise RulesError(
                    f"{path}, line {r.line}, rule {r.id!r}: {name} {r.params[name]!r} is not a rule in this file."
                )
    speed = data.get("walk_m_per_min")
    if speed is not None and (not isinstance(speed, NUMBER) or isinstance(speed, bool) or not speed > 0):
        line = _line_of(text, "walk_m_per_min")
        raise RulesError(f"{path}, line {line}: walk_m_per_min must be a positive number, not {speed!r}.")
    return RuleSet(
        name=str(data.get("name", path.stem)),
        source=str(data.get("source", "")),
        rules=tuple(rules),
        path=str(path),
        walk_m_per_min=float(speed) if speed is not None else None,
        indicators=_indicators(data.get("indicators"), path, text, by_id, catalog),
        register=_register(data.get("register"), path, text),
    )


def _read_yaml(path: Path) -> tuple[dict, str]:
    """The file's top-level mapping (every mapping carrying its ``__line__``) and its text."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"{path}: rules file not found.") from None
    except UnicodeDecodeError:
        raise RulesError(f"{path}: not UTF-8 text; save the rules file as UTF-8.") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None and _expanded_size(root, {}) > _MAX_NODES:
            raise RulesError(
                f"{path}, line 1: the YAML aliases (*name) expand to more than {_MAX_NODES:,} values; a rules "
                "file needs few aliases - write the values out."
            )
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise RulesError(f"{path}, {where}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{path}, line {_line_of(text, 'rules')}: expected a mapping with a 'rules:' list.")
    if not data["rules"]:
        raise RulesError(f"{path}, line {_line_of(text, 'rules')}: 'rules:' is empty; write at least one rule.")
    extra = set(data) - _TOP_KEYS
    if extra:
        line = min(_line_of(text, str(k)) for k in extra)
        raise RulesError(
            f"{path}, line {line}: unknown top-level key(s) {sorted(extra)}; "
            f"allowed: {', '.join(sorted(_TOP_KEYS - {'__line__'}))}."
        )
    return data, text


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


def _rule(raw: dict, i: int, path: Path, catalog: Catalog, seen: dict[str, int]) -> Rule:
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
    spec = RULE_KINDS[kind]
    params = check_params(raw["params"], spec.params, kind, catalog, fail)
    problem = spec.check(params) if spec.check else None
    if problem:
        raise fail(problem)
    applies = raw.get("applies_to") or {}
    if not isinstance(applies, dict):
        raise fail("applies_to must be a mapping of column: value.")
    applies = {k: v for k, v in applies.items() if k != "__line__"}
    for value in _as_list(applies.get("community_type")):
        if value not in COMMUNITY_TYPES:
            hint = next(iter(difflib.get_close_matches(str(value), COMMUNITY_TYPES, n=1)), None)
            did = f" (did you mean {hint!r}?)" if hint else ""
            raise fail(f"applies_to community_type {value!r} is not one of {', '.join(COMMUNITY_TYPES)}{did}.")
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


def _as_list(value: Any) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def check_params(
    params: Any, spec: Mapping[str, Param], kind: str, catalog: Catalog, fail: Callable[[str], RulesError]
) -> dict[str, Any]:
    """The parameters of a rule or indicator, checked against its kind's :class:`Param` spec."""
    if not isinstance(params, dict):
        raise fail("params must be a mapping, e.g. params: {category: kindergarten}.")
    params = {k: v for k, v in params.items() if k != "__line__"}
    unknown = set(params) - set(spec)
    if unknown:
        raise fail(f"unknown parameter(s) {sorted(unknown)} for kind {kind!r}; it takes {sorted(spec)}.")
    for name, param in spec.items():
        if name not in params:
            if param.required:
                raise fail(f"kind {kind!r} needs parameter {name!r} ({param.description}).")
            continue
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, param.types):
            names = (
                "whole number"
                if param.types == (int,)
                else "/".join(dict.fromkeys("number" if t in NUMBER else t.__name__ for t in param.types))
            )
            raise fail(f"parameter {name!r} must be a {names}, not {value!r}.")
        if param.category and value not in catalog.ids:
            hint = catalog.resolve(value) or next(iter(difflib.get_close_matches(str(value), catalog.ids, n=1)), None)
            extra_hint = f" (did you mean {hint!r}?)" if hint else ""
            raise fail(f"unknown facility category {value!r}{extra_hint}; use a catalog id.")
        problem = param.check(value) if param.check else None
        if problem:
            raise fail(f"parameter {name!r} {problem}, not {value!r}.")
    return params


def _indicators(raw: Any, path: Path, text: str, rules: Mapping[str, Rule], catalog: Catalog) -> tuple[Indicator, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RulesError(f"{path}, line {_line_of(text, 'indicators')}: indicators must be a list.")
    out: list[Indicator] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            line = _line_of(text, "indicators", i)
            raise RulesError(f"{path}, line {line}: indicator #{i + 1} is not a mapping (start it with '- id: ...').")
        out.append(_indicator(item, i, path, rules, catalog, {x.id for x in out}))
    return tuple(out)


def _indicator(raw: dict, i: int, path: Path, rules: Mapping[str, Rule], catalog: Catalog, seen: set[str]) -> Indicator:
    line = raw.get("__line__", 0)
    iid = raw.get("id", f"#{i + 1}")

    def fail(msg: str) -> RulesError:
        return RulesError(f"{path}, line {line}, indicator {iid!r}: {msg}")

    keys = {"id", "title_zh", "title_en", "kind", "params", "target", "clause", "__line__"}
    extra = set(raw) - keys
    if extra:
        raise fail(f"unknown key(s) {sorted(extra)}; allowed: {sorted(keys - {'__line__'})}.")
    if not isinstance(raw.get("id"), str) or iid in seen:
        raise fail("every indicator needs its own id (a text).")
    kind = raw.get("kind")
    if kind not in INDICATOR_KINDS:
        raise fail(f"kind {kind!r} is not one of {', '.join(INDICATOR_KINDS)}.")
    params = check_params(raw.get("params", {}), INDICATOR_KINDS[kind].params, kind, catalog, fail)
    fields = {k: raw[k] for k in ("title_zh", "title_en", "target", "clause") if k in raw}
    for key, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{key} must be a non-empty text, not {value!r}.")
    basis = ""
    if kind == "rule":  # titles, clause and target default to the rule's own
        rule = rules.get(params["rule"])
        if rule is None:
            raise fail(f"rule {params['rule']!r} is not a rule in this file.")
        if rule.scope != "city":
            raise fail(f"rule {rule.id!r} is scoped to {rule.scope}; an indicator reads one city-wide row.")
        fields = {"title_zh": rule.title_zh, "title_en": rule.title_en, "clause": rule.clause, **fields}
        rule_kind = RULE_KINDS[rule.kind]
        if "target" not in fields and rule_kind.target_text is not None:
            fields["target"] = rule_kind.target_text(rule.params)
        basis = rule_kind.basis_text(rule.params) if rule_kind.basis_text is not None else rule.title_en
    target_text = INDICATOR_KINDS[kind].target_text
    if "target" not in fields and target_text is not None:
        fields["target"] = target_text(params)
    missing = [k for k in ("title_zh", "title_en", "target", "clause") if k not in fields]
    if missing:
        raise fail(f"missing key(s) {missing}.")
    return Indicator(id=iid, kind=kind, params=params, basis=basis, line=line, **fields)


def _register(raw: Any, path: Path, text: str) -> Path | None:
    """The register file named by the rules file: a path relative to the file, or a shipped one.

    Not read here: a missing register only skips the register check (:func:`dz_gis.check_plan`
    warns), it does not stop the rules from loading.
    """
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        line = _line_of(text, "register")
        raise RulesError(f"{path}, line {line}: register must name a register file (e.g. dazhou_register_2023.csv).")
    beside, shipped = path.parent / raw, data_dir() / "boundaries" / raw
    return beside if beside.is_file() or not shipped.is_file() else shipped
