"""QGIS styles (QML) for the layers of a coverage GeoPackage, in the colours of :mod:`~dz_gis.outputs.palette`.

QGIS reads a GeoPackage's ``layer_styles`` table and applies the row marked
``useAsDefault`` when a layer is opened; :func:`~dz_gis.outputs.geopackage.write_geopackage`
writes the :class:`LayerStyle` rows made here. The QML is written from small templates, one
per layer kind, because no Python library writes QGIS symbology without QGIS itself (which
is a desktop application, not a dependency we can ask of every user). What each kind shows:

- ``communities``: graduated by the share of households within a category's walking circle
  (``cov_<category>_<minutes>min``), in the web map's five classes; the default style is
  the catalog's first category, and every other category is a further style of the layer
  (Layer Properties → Style → Load Style → from database 数据库中的样式);
- ``isochrones``: categorised by category and band (``park 5`` …), the category's colour,
  the 5-minute circle darkest, drawn above the wider ones; the first category's bands are
  shown, the others are ticked on in the legend (图例), as all at once would hide each other;
- ``facilities``: categorised by category, the category's colour;
- ``gaps``: categorised by status and severity, the worst drawn on top, wide units below;
- ``compounds``: a plain outline; ``gap_table`` (no geometry): field names in Chinese and English.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from ..catalog import Catalog, default_catalog
from .palette import COVERAGE_CLASSES, GAP_CLASSES, GAP_KEY_EXPRESSION, category_colours

__all__ = ["GAP_FIELD_NAMES", "LayerStyle", "coverage_styles"]

#: Field aliases shown in QGIS for the gap layers (the CSV keeps the English identifiers).
GAP_FIELD_NAMES = {
    "scope": "范围 scope",
    "unit_id": "单元编码 unit id",
    "unit_name": "单元名称 unit name",
    "rule_id": "指标编码 rule id",
    "title_zh": "指标 rule (中文)",
    "title_en": "指标 rule (English)",
    "kind": "类型 kind",
    "status": "状态 status",
    "severity": "严重程度 severity",
    "required": "要求 required",
    "actual": "现状 actual",
    "required_value": "要求值 required value",
    "actual_value": "现状值 actual value",
    "shortfall": "缺口 shortfall",
    "shortfall_unit": "缺口单位 shortfall unit",
    "detail": "说明 detail",
    "clause": "条款 clause",
    "verified": "标准已核对 standard verified",
}
_SCOPE_ORDER = ("city", "district", "street", "community", "compound")  # wide units drawn first (below)
_COVERAGE = re.compile(r"cov_(?P<cat>.+)_(?P<minutes>\d+)min")


@dataclass(frozen=True)
class LayerStyle:
    """One row of a GeoPackage's ``layer_styles`` table: a QGIS style for a layer."""

    layer: str  #: the table it styles
    name: str  #: shown in QGIS's style list
    qml: str  #: the QGIS style document
    default: bool = True  #: applied when the layer is opened (``useAsDefault``)
    description: str = ""


def coverage_styles(layers: Mapping[str, pd.DataFrame], *, catalog: Catalog | None = None) -> list[LayerStyle]:
    """Styles for the layers :func:`~dz_gis.outputs.write_outputs` puts in its GeoPackage.

    A layer is styled by its name (``communities``, ``compounds``, ``facilities``,
    ``isochrones``, ``gaps``, ``gap_table``, ``proposals``); other layers get no style. Categories are
    labelled and coloured from ``catalog`` (default: the shipped one).
    """
    catalog = catalog or default_catalog()
    makers = {
        "communities": _communities,
        "compounds": _compounds,
        "facilities": _facilities,
        "isochrones": _isochrones,
        "gaps": _gaps,
        "gap_table": _gap_table,
        "proposals": _facilities,  # proposed sites, coloured by category like the facilities they would be
    }
    styles: list[LayerStyle] = []
    for name, frame in layers.items():
        if name in makers:
            styles.extend(makers[name](name, frame, catalog))
    return styles


def _rgba(colour: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` as QGIS writes a colour: ``r,g,b,a`` (0–255)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _options(**props: str) -> str:
    return "".join(f'<Option type="QString" name="{k}" value={quoteattr(v)}/>' for k, v in props.items())


def _fill(name: int, colour: str, *, alpha: float, outline: str, width: float = 0.26) -> str:
    props = _options(
        color=_rgba(colour, alpha),
        style="solid",
        outline_color=_rgba(outline),
        outline_style="solid",
        outline_width=f"{width:g}",
        outline_width_unit="MM",
        joinstyle="bevel",
    )
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">{props}</Option></layer>'
        "</symbol>"
    )


def _marker(name: int, colour: str) -> str:
    props = _options(
        color=_rgba(colour),
        name="circle",
        size="2.6",
        size_unit="MM",
        outline_color=_rgba("#ffffff"),
        outline_style="solid",
        outline_width="0.3",
        outline_width_unit="MM",
    )
    return (
        f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">{props}</Option></layer>'
        "</symbol>"
    )


def _document(renderer: str = "", fields: Mapping[str, str] | None = None) -> str:
    """A whole QML document: the renderer and the field aliases."""
    aliases = "".join(
        f'<alias field={quoteattr(field)} index="{i}" name={quoteattr(label)}/>'
        for i, (field, label) in enumerate((fields or {}).items())
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology|Fields">\n'
        f"{renderer}\n<aliases>{aliases}</aliases>\n</qgis>\n"
    )


def _categorised(
    attr: str,
    categories: Iterable[tuple[str, str, str]],
    order_by: Iterable[tuple[str, bool]] = (),
    shown: Callable[[str], bool] = lambda _value: True,
) -> str:
    """A categorised renderer: ``(value, label, symbol XML named i)`` per category.

    ``(expression, ascending)`` clauses say which features are drawn first (below);
    categories not ``shown`` start unticked in the legend.
    """
    cats, symbols = [], []
    for i, (value, label, symbol) in enumerate(categories):
        render = "true" if shown(value) else "false"
        cats.append(f'<category render="{render}" symbol="{i}" value={quoteattr(value)} label={quoteattr(label)}/>')
        symbols.append(symbol)
    clauses = "".join(
        f'<orderByClause asc="{int(asc)}" nullsFirst="0">{escape(e)}</orderByClause>' for e, asc in order_by
    )
    return (
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" forceraster="0" '
        f'enableorderby="{int(bool(clauses))}">'
        f"<categories>{''.join(cats)}</categories><symbols>{''.join(symbols)}</symbols>"
        f"<orderby>{clauses}</orderby></renderer-v2>"
    )


def _label(catalog: Catalog, cat: str) -> str:
    return f"{catalog[cat].name_zh} {catalog[cat].name_en}" if cat in catalog.ids else cat


def _ordered_categories(values: Iterable[object], catalog: Catalog) -> list[str]:
    """The categories present, in catalog order (unknown ones after, sorted)."""
    present = {str(v) for v in values if isinstance(v, str)}
    return [c for c in catalog.ids if c in present] + sorted(present - set(catalog.ids))


def _colours(cats: list[str], catalog: Catalog) -> dict[str, str]:
    known = category_colours(catalog)
    extra = [c for c in cats if c not in known]
    spare = list(known.values())
    return {**known, **{c: spare[i % len(spare)] for i, c in enumerate(extra)}}


def _communities(layer: str, frame: pd.DataFrame, catalog: Catalog) -> list[LayerStyle]:
    """One graduated style per category: its own walking circle's coverage (else the widest band there is)."""
    bands: dict[str, list[int]] = {}
    for col in frame.columns:
        if m := _COVERAGE.fullmatch(str(col)):
            bands.setdefault(m["cat"], []).append(int(m["minutes"]))
    styles: list[LayerStyle] = []
    for cat in _ordered_categories(bands, catalog):
        own = catalog[cat].circle_min if cat in catalog.ids else None
        minutes = own if own in bands[cat] else max(bands[cat])
        ranges = "".join(
            f'<range render="true" symbol="{i}" lower="{c.lower:g}" upper="{c.upper:g}" label={quoteattr(c.label)}/>'
            for i, c in enumerate(COVERAGE_CLASSES)
        )
        symbols = "".join(
            _fill(i, c.colour, alpha=0.7, outline="#333333", width=0.5) for i, c in enumerate(COVERAGE_CLASSES)
        )
        renderer = (
            f'<renderer-v2 type="graduatedSymbol" attr="cov_{cat}_{minutes}min" graduatedMethod="GraduatedColor" '
            f'symbollevels="0" forceraster="0" enableorderby="0"><ranges>{ranges}</ranges>'
            f"<symbols>{symbols}</symbols>"
            '<classificationMethod id="EqualInterval"><symmetricMode enabled="0" symmetrypoint="0" astride="0"/>'
            '<labelFormat format="%1 - %2" labelprecision="2" trimtrailingzeroes="1"/>'
            "<parameters><Option/></parameters><extraInformation/></classificationMethod></renderer-v2>"
        )
        zh = catalog[cat].name_zh if cat in catalog.ids else cat
        title = f"{zh} {minutes}分钟覆盖率 {cat} {minutes}-min coverage"
        styles.append(
            LayerStyle(
                layer,
                title,
                _document(renderer),
                default=not styles,
                description=f"share of households within {minutes} min walk of a {cat} (0–1) 步行可达户数比例",
            )
        )
    return styles


def _compounds(layer: str, frame: pd.DataFrame, catalog: Catalog) -> list[LayerStyle]:
    renderer = (
        '<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0"><symbols>'
        f"{_fill(0, '#d9d9d9', alpha=0.35, outline='#636363', width=0.2)}</symbols></renderer-v2>"
    )
    return [LayerStyle(layer, "小区 compounds", _document(renderer))]


def _facilities(layer: str, frame: pd.DataFrame, catalog: Catalog) -> list[LayerStyle]:
    cats = _ordered_categories(frame["category"], catalog)
    colours = _colours(cats, catalog)
    renderer = _categorised("category", ((c, _label(catalog, c), _marker(i, colours[c])) for i, c in enumerate(cats)))
    return [LayerStyle(layer, "设施类别 facilities by category", _document(renderer))]


def _isochrones(layer: str, frame: pd.DataFrame, catalog: Catalog) -> list[LayerStyle]:
    cats = _ordered_categories(frame["category"], catalog)
    colours = _colours(cats, catalog)
    minutes = sorted({int(m) for m in frame["minutes"].dropna()})
    # the narrowest band darkest; with the widest drawn first, nested circles read as rings
    alpha = {m: 0.45 - 0.3 * i / max(len(minutes) - 1, 1) for i, m in enumerate(minutes)}
    present = set(zip(frame["category"].astype(str), frame["minutes"].fillna(-1).astype(int), strict=True))
    rows = [
        (f"{c} {m}", f"{_label(catalog, c)}: {m} 分钟 min", c, m) for c in cats for m in minutes if (c, m) in present
    ]
    renderer = _categorised(
        'concat("category", \' \', to_int("minutes"))',
        (
            (value, label, _fill(i, colours[c], alpha=alpha[m], outline=colours[c], width=0.3))
            for i, (value, label, c, m) in enumerate(rows)
        ),
        order_by=[('"minutes"', False)],
        shown=lambda value: value.rsplit(" ", 1)[0] == cats[0],  # 36 circles at once hide each other
    )
    return [LayerStyle(layer, "步行圈 walking circles by category and band", _document(renderer))]


def _gaps(layer: str, frame: pd.DataFrame, catalog: Catalog) -> list[LayerStyle]:
    scope_rank = " ".join(f"WHEN \"scope\" = '{s}' THEN {i}" for i, s in enumerate(_SCOPE_ORDER))
    worst_last = " ".join(
        f"WHEN ({GAP_KEY_EXPRESSION}) = '{c.key}' THEN {i}" for i, c in enumerate(reversed(GAP_CLASSES))
    )
    renderer = _categorised(
        GAP_KEY_EXPRESSION,
        ((c.key, c.label, _fill(i, c.colour, alpha=0.8, outline="#333333")) for i, c in enumerate(GAP_CLASSES)),
        order_by=[(f"CASE {scope_rank} ELSE 9 END", True), (f"CASE {worst_last} ELSE 9 END", True)],
    )
    return [
        LayerStyle(layer, "缺口 gaps by status and severity", _document(renderer, _present(GAP_FIELD_NAMES, frame)))
    ]


def _gap_table(layer: str, frame: pd.DataFrame, catalog: Catalog) -> list[LayerStyle]:
    return [LayerStyle(layer, "缺口表 gap table", _document(fields=_present(GAP_FIELD_NAMES, frame)))]


def _present(names: Mapping[str, str], frame: pd.DataFrame) -> dict[str, str]:
    return {k: v for k, v in names.items() if k in frame.columns}
