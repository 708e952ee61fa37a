"""The facility catalog: the plan's facility categories and their OpenStreetMap tags.

The catalog lives in ``catalog.yaml`` beside this module; :func:`load_catalog` reads
it (or a planner's own file of the same shape) into frozen dataclasses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._errors import CategoryError, ValidationError

__all__ = ["Category", "Catalog", "load_catalog", "default_catalog"]

_DEFAULT_PATH = Path(__file__).with_name("catalog.yaml")
_CATEGORY_KEYS = {"id", "name_zh", "name_en", "aliases", "circle_min", "osm", "osm_note", "clause"}


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-/()（）]+", "", str(text)).lower()


@dataclass(frozen=True)
class Category:
    """One facility category of the plan."""

    id: str
    name_zh: str
    name_en: str
    circle_min: int
    clause: str
    aliases: tuple[str, ...] = ()
    osm: tuple[Mapping[str, Any], ...] = ()
    osm_note: str = ""

    @property
    def has_osm_tags(self) -> bool:
        """Whether the category can be pulled from OpenStreetMap."""
        return bool(self.osm)

    def matches(self, tags: Mapping[str, Any]) -> bool:
        """Return True if an OSM feature with ``tags`` belongs to this category."""
        if str(tags.get("access", "")).lower() in {"private", "no"}:
            return False
        for tagset in self.osm:
            if all(_tag_matches(tags.get(k), want) for k, want in tagset.items()):
                return True
        return False


def _tag_matches(value: Any, want: Any) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return False
    if want is True:
        return True
    wanted = want if isinstance(want, list | tuple) else [want]
    return str(value) in {str(w) for w in wanted}


@dataclass(frozen=True)
class Catalog:
    """An ordered collection of :class:`Category` with name resolution."""

    categories: tuple[Category, ...]
    source: str = ""
    _lookup: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for cat in self.categories:
            for name in (cat.id, cat.name_zh, cat.name_en, *cat.aliases):
                self._lookup.setdefault(_norm(name), cat.id)

    def __iter__(self):
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def __getitem__(self, category_id: str) -> Category:
        for cat in self.categories:
            if cat.id == category_id:
                return cat
        raise CategoryError(f"Unknown facility category {category_id!r}. Known ids: {', '.join(self.ids)}.")

    @property
    def ids(self) -> list[str]:
        """Category ids in catalog order."""
        return [c.id for c in self.categories]

    def resolve(self, name: object) -> str | None:
        """Return the category id for an id, Chinese/English name or alias, else None."""
        return self._lookup.get(_norm(name))

    def resolve_all(self, values: Iterable[object], *, where: str = "input") -> list[str]:
        """Resolve every value or raise :class:`CategoryError` naming the unknown ones."""
        values = list(values)
        out = [self.resolve(v) for v in values]
        unknown = sorted({str(v) for v, r in zip(values, out, strict=True) if r is None})
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:10])
            raise CategoryError(
                f"{where}: {len(unknown)} facility category value(s) are not in the catalog: "
                f"{shown}. Use a catalog id or name (e.g. 幼儿园 / kindergarten; all ids: "
                f"{', '.join(self.ids)}), add the value as an alias in a catalog file, or pass "
                f"category=... if the whole file holds one category."
            )
        return [r for r in out if r is not None]

    def osm_category(self, tags: Mapping[str, Any]) -> str | None:
        """Return the id of the first category whose OSM tags match ``tags``."""
        for cat in self.categories:
            if cat.matches(tags):
                return cat.id
        return None

    def osm_keys(self) -> list[str]:
        """All OSM keys the catalog looks at (for filtering a PBF read)."""
        keys: list[str] = []
        for cat in self.categories:
            for tagset in cat.osm:
                keys.extend(k for k in tagset if k not in keys)
        return keys


def _check(cond: bool, path: str, where: str, msg: str) -> None:
    if not cond:
        raise ValidationError(f"{path}: {where}: {msg}")


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read a facility catalog YAML file (default: the one shipped with dz_gis).

    Raises
    ------
    ValidationError
        If the file is missing, not YAML, or a category has unknown/missing keys.
    """
    path = Path(path) if path is not None else _DEFAULT_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"Facility catalog {path} does not exist.") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path}: not valid YAML: {exc}") from None
    _check(
        isinstance(data, dict) and "categories" in data,
        str(path),
        "top level",
        "expected a mapping with a 'categories' list",
    )
    cats = []
    seen: set[str] = set()
    for i, raw in enumerate(data["categories"]):
        where = f"category #{i + 1}"
        _check(isinstance(raw, dict), str(path), where, "expected a mapping")
        where = f"category {raw.get('id', '#' + str(i + 1))!r}"
        extra = set(raw) - _CATEGORY_KEYS
        _check(not extra, str(path), where, f"unknown key(s) {sorted(extra)}; allowed: {sorted(_CATEGORY_KEYS)}")
        missing = {"id", "name_zh", "name_en", "circle_min", "clause", "osm"} - set(raw)
        _check(not missing, str(path), where, f"missing key(s) {sorted(missing)}")
        _check(raw["id"] not in seen, str(path), where, "duplicate id")
        seen.add(raw["id"])
        _check(raw["circle_min"] in (5, 10, 15), str(path), where, "circle_min must be 5, 10 or 15")
        osm = raw["osm"] or []
        _check(
            isinstance(osm, list) and all(isinstance(t, dict) and t for t in osm),
            str(path),
            where,
            "osm must be a list of non-empty tag mappings",
        )
        _check(
            bool(osm) or bool(raw.get("osm_note")),
            str(path),
            where,
            "a category without OSM tags needs an osm_note saying why",
        )
        cats.append(
            Category(
                id=str(raw["id"]),
                name_zh=str(raw["name_zh"]),
                name_en=str(raw["name_en"]),
                circle_min=int(raw["circle_min"]),
                clause=str(raw["clause"]),
                aliases=tuple(str(a) for a in raw.get("aliases") or ()),
                osm=tuple(dict(t) for t in osm),
                osm_note=str(raw.get("osm_note", "")),
            )
        )
    return Catalog(tuple(cats), source=str(path))


_DEFAULT: Catalog | None = None


def default_catalog() -> Catalog:
    """The catalog shipped with dz_gis (read once, then reused)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_catalog()
    return _DEFAULT
