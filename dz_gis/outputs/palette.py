"""The colours every output draws with (web map, GeoPackage styles for QGIS): one table, one place.

A facility category keeps its colour whatever the data holds: colours go by the category's
place in the catalog (not by which categories a run happens to have), so 幼儿园 is the same
colour on the web map, in QGIS and on every run.

>>> from dz_gis.catalog import default_catalog
>>> colours = category_colours(default_catalog())
>>> colours["community_service"], len(set(colours.values())) == len(colours)
('#1f77b4', True)
>>> coverage_class(0.55).label, coverage_class(float("nan")).colour
('40–60 %', '#bdbdbd')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..catalog import Catalog, default_catalog

__all__ = [
    "CATEGORY_PALETTE",
    "COVERAGE_CLASSES",
    "GAP_CLASSES",
    "GAP_KEY_EXPRESSION",
    "NO_DATA",
    "CoverageClass",
    "GapClass",
    "category_colours",
    "coverage_class",
    "gap_class",
]

#: Facility category colours, in catalog order (matplotlib's tab10, then tab20b/tab20c darks):
#: the shipped catalog's 23 categories each get their own; a longer catalog repeats from the start.
CATEGORY_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
    "#ad494a",
    "#a55194",
    "#6b6ecf",
)

#: Colour of a value that is missing (no households, no facility of the category in the data).
NO_DATA = "#bdbdbd"


@dataclass(frozen=True)
class CoverageClass:
    """One class of a coverage share (0–1): ``lower <= share < upper`` (the last class includes 1)."""

    lower: float
    upper: float
    colour: str
    label: str


#: Share of households within the walking band, red (poor) to green (good), as on the web map.
COVERAGE_CLASSES: tuple[CoverageClass, ...] = (
    CoverageClass(0.0, 0.2, "#d7191c", "< 20 %"),
    CoverageClass(0.2, 0.4, "#fdae61", "20–40 %"),
    CoverageClass(0.4, 0.6, "#ffffbf", "40–60 %"),
    CoverageClass(0.6, 0.8, "#a6d96a", "60–80 %"),
    CoverageClass(0.8, 1.0, "#1a9641", "≥ 80 %"),
)
_NO_COVERAGE = CoverageClass(math.nan, math.nan, NO_DATA, "无数据 no data")


def coverage_class(share: float) -> CoverageClass:
    """The class of a coverage share; a missing share gets the grey "no data" class."""
    if not math.isfinite(share):
        return _NO_COVERAGE
    index = min(max(int(share * len(COVERAGE_CLASSES)), 0), len(COVERAGE_CLASSES) - 1)
    return COVERAGE_CLASSES[index]


@dataclass(frozen=True)
class GapClass:
    """How a row of the gap table is drawn: its ``status`` (and, for a gap, its ``severity``)."""

    status: str
    severity: str | None
    colour: str
    label: str

    @property
    def key(self) -> str:
        """``"gap high"`` … ``"no data"``, ``"met"``: the value QGIS styles by (see :data:`GAP_KEY_EXPRESSION`)."""
        return f"{self.status} {self.severity}" if self.severity else self.status


#: Gap-table rows by status and severity, worst first.
GAP_CLASSES: tuple[GapClass, ...] = (
    GapClass("gap", "high", "#b2182b", "缺口·严重 gap, high"),
    GapClass("gap", "medium", "#ef8a62", "缺口·中等 gap, medium"),
    GapClass("gap", "low", "#fddbc7", "缺口·轻微 gap, low"),
    GapClass("no data", None, NO_DATA, "无数据 no data"),
    GapClass("met", None, "#4dac26", "达标 met"),
)

#: A QGIS expression giving :attr:`GapClass.key` for a row of the gap layer.
GAP_KEY_EXPRESSION = 'CASE WHEN "status" = \'gap\' THEN \'gap \' || "severity" ELSE "status" END'


def gap_class(status: str, severity: str | None = None) -> GapClass:
    """The class of a gap-table row (a severity matters only for a gap)."""
    for cls in GAP_CLASSES:
        if cls.status == status and (cls.severity is None or cls.severity == severity):
            return cls
    raise KeyError(f"no colour for status={status!r}, severity={severity!r}")


def category_colours(catalog: Catalog | None = None) -> dict[str, str]:
    """``{category id: colour}`` for every category of ``catalog`` (default: the shipped one), by catalog order."""
    ids = (catalog or default_catalog()).ids
    return {cat: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, cat in enumerate(ids)}
