"""Folium web maps of a coverage run that open from a file with no internet.

The page carries Leaflet inline (:mod:`~dz_gis.outputs.webpage`); base tiles show when the
tile server answers, and the offline base (street/district boundaries, communities) shows the map
when it does not. Communities are coloured by one category's share of households within the band,
or by the lowest share over all categories ("worst gap"), chosen with the radio buttons of the
layers control; each band of each category, the facilities of each category, the compounds, the
gap units and (when given) proposals are layers of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._atomic import atomic_path
from .._errors import ValidationError
from ..catalog import Catalog, default_catalog
from .palette import COVERAGE_CLASSES, category_colours, coverage_class, gap_class
from .webpage import ModeSwitch, esc, offline_map

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from ..pipeline import CoverageRun, PlanCheck

__all__ = ["WORST", "coverage_map", "save_map", "share_colour"]

WORST = "worst"  #: the key of the "worst gap" colour mode

# one colour table for the web map, the GeoPackage's QGIS styles and the folio (outputs.palette)
_SEVERITY = {sev: gap_class("gap", sev).colour for sev in ("high", "medium", "low")}
_SEVERITY_WORDS = {"high": "高 high", "medium": "中 medium", "low": "低 low"}
_FACILITY_PANE = "dz_facilities"
_GAP_PANE = "dz_gaps"
_TILE_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def _folium():
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Web maps need folium: pip install 'dz_gis[maps]'") from exc
    return folium


def share_colour(share: float) -> str:
    """The map colour of a share of households (0–1); grey for no data.

    >>> share_colour(0.03), share_colour(0.95), share_colour(float("nan"))
    ('#d7191c', '#1a9641', '#bdbdbd')
    """
    return coverage_class(float(share)).colour


def _geometry(geom: Any) -> dict[str, Any]:
    # 6 decimals of a degree are ~0.1 m: enough to draw, and the page is a third smaller
    return shapely.transform(geom, lambda xy: np.round(xy, 6)).__geo_interface__


def _features(frame: gpd.GeoDataFrame | gpd.GeoSeries, properties: list[dict[str, Any]]) -> dict[str, Any]:
    feats = [
        {"type": "Feature", "id": str(i), "geometry": _geometry(geom), "properties": props}
        for i, (geom, props) in enumerate(zip(frame.geometry, properties, strict=True))
        if geom is not None and not geom.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats}


def _pct(value: float) -> str:
    return f"{value:.0%}" if np.isfinite(value) else "无数据 no data"


def coverage_map(
    run: CoverageRun,
    *,
    band: int | None = None,
    catalog: Catalog | None = None,
    attribution: str = "",
    check: PlanCheck | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    title: str = "",
    tiles: str = "OpenStreetMap",
    tiles_attribution: str | None = None,
) -> folium.Map:
    """A web map of a coverage run that opens with no internet.

    Parameters
    ----------
    run
        Result of :func:`dz_gis.pipeline.run_coverage`.
    band
        Walking band (minutes) of the community colours, one of ``run.minutes``; default the largest.
    catalog
        Facility catalog (names and order of the categories); default the bundled one.
    attribution
        Data credit shown in the legend (plain text).
    check
        Result of :func:`dz_gis.pipeline.check_plan`: its gap rows are drawn on their units.
    proposals
        Proposed facility sites (any geometry; ``category`` and ``name`` columns used when present),
        drawn as a layer of their own.
    title
        The page's title and the legend's heading (plain text), e.g. the project's name.
    tiles
        Online base tiles, shown when the server answers (else the offline base): a name folium
        knows ("OpenStreetMap", "CartoDB positron") or a URL template such as
        ``"https://tiles.example.org/{z}/{x}/{y}.png"`` with ``tiles_attribution``. Tiles must be
        in WGS84 / Web Mercator: Amap (高德) and Baidu tiles are offset (GCJ-02 / BD-09) and
        would draw every layer 300–500 m off; Tianditu (天地图) ``_w`` tiles fit.
    tiles_attribution
        The tiles' credit (HTML); required for a URL template.

    Examples
    --------
    >>> import dz_gis
    >>> s = dz_gis.load_sample()
    >>> run = dz_gis.run_coverage(s.graph, s.communities, s.compounds, s.facilities, with_isochrones=False)
    >>> html = coverage_map(run).get_root().render()
    >>> "<script src=" in html, "L.map(" in html
    (False, True)
    """
    folium = _folium()
    catalog = catalog or default_catalog()
    band = band or max(run.minutes)
    if band not in run.minutes:
        raise ValidationError(
            f"coverage_map: band={band} is not one of the run's walking bands {list(run.minutes)}; "
            "pass one of them, or run run_coverage with minutes= including it."
        )
    comm = run.communities.to_crs(4326)
    xmin, ymin, xmax, ymax = comm.total_bounds
    fmap = offline_map(folium, location=[(ymin + ymax) / 2, (xmin + xmax) / 2], zoom_start=15, control_scale=True)
    legend_id = f"{fmap.get_name()}-legend"
    # facilities and gap outlines sit in panes of their own, above the polygons whatever the order of the list
    folium.map.CustomPane(_FACILITY_PANE, z_index=640, pointer_events=True).add_to(fmap)
    folium.map.CustomPane(_GAP_PANE, z_index=620, pointer_events=True).add_to(fmap)
    modes = _modes(comm, catalog, band)
    communities, mode_layers = _add_communities(fmap, folium, comm, modes, catalog, band)
    colours = _category_colours(run, catalog)
    # the layers list follows this order: the colour modes (radio buttons), then what one toggles most
    _add_facilities(fmap, folium, run, catalog, colours)
    unmapped = _add_gaps(fmap, folium, check) if check is not None else None
    if proposals is not None:
        _add_proposals(fmap, folium, proposals, catalog)
    _add_offline_base(fmap, folium, comm)
    tiles_layer = _tile_layer(folium, tiles, tiles_attribution).add_to(fmap)
    _add_compounds(fmap, folium, run, catalog)
    _add_isochrones(fmap, folium, run, catalog, colours)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    ModeSwitch(communities, mode_layers, tiles_layer, legend_id).add_to(fmap)
    proposed = None if proposals is None else len(proposals)
    _add_legend(fmap, folium, legend_id, band, modes, colours, run, catalog, attribution, (unmapped, proposed), title)
    if title:
        fmap.get_root().title = esc(title)  # the template does not escape it
    # room for the layers list on the right and the legend on the left
    fmap.fit_bounds([[ymin, xmin], [ymax, xmax]], padding_top_left=(300, 10), padding_bottom_right=(320, 10))
    return fmap


def _modes(comm: gpd.GeoDataFrame, catalog: Catalog, band: int) -> dict[str, tuple[str, pd.Series]]:
    """Colour mode key -> (title, share per community): the worst gap first, then each category with data."""
    shares = {
        c: comm[f"cov_{c}_{band}min"].astype(float)
        for c in catalog.ids
        if f"cov_{c}_{band}min" in comm.columns and np.isfinite(comm[f"cov_{c}_{band}min"].astype(float)).any()
    }
    worst = pd.concat(shares.values(), axis=1).min(axis=1, skipna=True) if shares else pd.Series(np.nan, comm.index)
    modes = {WORST: (f"最低覆盖 Worst gap: lowest share over {len(shares)} categories", worst)}
    for c, share in shares.items():
        modes[c] = (f"{catalog[c].name_zh} {catalog[c].name_en}", share)
    return modes


def _add_communities(
    fmap: Any, folium: Any, comm: gpd.GeoDataFrame, modes: dict[str, tuple[str, pd.Series]], catalog: Catalog, band: int
) -> tuple[Any, list[tuple[Any, str, str]]]:
    props = []
    for i, (_, row) in enumerate(comm.iterrows()):
        name = row.get("name") if isinstance(row.get("name"), str) and row.get("name") else row["community_id"]
        flag = " (provisional 暂定)" if bool(row.get("provisional", False)) else ""
        lines = [f"<b>{esc(name)}</b> {esc(row['community_id'])}{flag}"]
        lines.append(f"户数 households: {row.get('households', float('nan')):.0f}")
        lines.append(f"{band} 分钟内户数比例 share of households within {band} min:")
        for key, (title, share) in modes.items():
            value = share.iloc[i]
            lines.append(f"{esc(title) if key != WORST else '<i>最低 lowest</i>'}: {_pct(value)}")
        fill = {key: share_colour(share.iloc[i]) for key, (_, share) in modes.items()}
        props.append({"tip": "<br>".join(lines), "fill": fill})
    group = folium.FeatureGroup(name="社区 Communities (colour: the mode chosen above)", control=False)
    layer = folium.GeoJson(
        _features(comm, props),
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"][WORST],
            "color": "#333",
            "weight": 2,
            "fillOpacity": 0.45,
        },
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, sticky=True),
    ).add_to(group)
    group.add_to(fmap)
    mode_layers = []
    for key, (title, _) in modes.items():
        token = folium.FeatureGroup(name=esc(title), overlay=False, control=True, show=key == WORST).add_to(fmap)
        mode_layers.append((token, key, title))
    return layer, mode_layers


def _add_offline_base(fmap: Any, folium: Any, comm: gpd.GeoDataFrame) -> None:
    """Street and district outlines dissolved from the communities; with the communities they are the base offline."""
    group = folium.FeatureGroup(name="离线底图 Offline base: street / district boundaries")
    for column, weight in (("street", 3), ("district", 5)):
        if column not in comm.columns or comm[column].isna().all():
            continue
        parts = comm[comm[column].notna()].dissolve(by=column).reset_index()
        kind = "街道 street" if column == "street" else "区县 district"
        props = [{"tip": f"{kind}: {esc(v)}"} for v in parts[column]]
        folium.GeoJson(
            _features(parts.set_geometry(parts.geometry.boundary), props),
            style_function=lambda _f, w=weight: {"color": "#555", "weight": w, "dashArray": "6 4"},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(group)
    outline = gpd.GeoSeries([comm.geometry.union_all().boundary], crs=comm.crs)
    folium.GeoJson(
        _features(outline, [{"tip": "研究范围 study area"}]),
        style_function=lambda _f: {"color": "#222", "weight": 3},
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(group)
    group.add_to(fmap)


def _add_compounds(fmap: Any, folium: Any, run: CoverageRun, catalog: Catalog) -> None:
    comp = run.compounds.to_crs(4326)
    props = []
    for _, row in comp.iterrows():
        times = [
            f"{esc(catalog[c].name_zh)}: {row[f'walk_min_{c}']:.1f} min"
            for c in catalog.ids
            if f"walk_min_{c}" in row and np.isfinite(row[f"walk_min_{c}"])
        ]
        name = row.get("name")
        label = f"{esc(row['compound_id'])} {esc(name) if isinstance(name, str) else ''}"
        props.append({"tip": f"<b>{label}</b> 户数 households {row['households']:.0f}<br>" + "<br>".join(times)})
    group = folium.FeatureGroup(name="小区 Residential compounds", show=False)
    folium.GeoJson(
        _features(comp, props),
        style_function=lambda _f: {"color": "#555", "weight": 1, "fillOpacity": 0.2},
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, sticky=True),
    ).add_to(group)
    group.add_to(fmap)


def _category_colours(run: CoverageRun, catalog: Catalog) -> dict[str, str]:
    present = set(run.facilities["category"])
    if run.isochrones is not None:
        present |= set(run.isochrones["category"])
    return {c: colour for c, colour in category_colours(catalog).items() if c in present}


def _add_isochrones(fmap: Any, folium: Any, run: CoverageRun, catalog: Catalog, colours: dict[str, str]) -> None:
    """One layer per category and band; the first category's bands are shown, the others are a click away."""
    if run.isochrones is None or not len(run.isochrones):
        return
    iso = run.isochrones
    if iso.crs is not None and iso.crs.is_projected:
        # drawn within 1 m of the computed circle (the GeoPackage keeps every vertex): a third of the page size
        iso = iso.set_geometry(iso.geometry.simplify(1.0))
    iso = iso.to_crs(4326)
    bands = sorted(run.minutes)
    opacity = dict(zip(bands, np.linspace(0.35, 0.12, len(bands)), strict=True))
    first = True
    for cat, colour in colours.items():
        rows = iso[iso["category"] == cat]
        if not len(rows):
            continue
        name = f"{esc(catalog[cat].name_zh)} {esc(catalog[cat].name_en)}"
        for minutes in bands:
            part = rows[rows["minutes"] == minutes]
            group = folium.FeatureGroup(name=f"{minutes} 分钟步行圈 {minutes}-min walk: {name}", show=first)
            tip = f"{name}: {minutes} 分钟步行可达 reached within {minutes} min"
            folium.GeoJson(
                _features(part, [{"tip": tip}] * len(part)),
                style_function=lambda _f, c=colour, o=opacity[minutes]: {  # noqa: B008 - bind per layer
                    "color": c,
                    "weight": 1,
                    "fillColor": c,
                    "fillOpacity": float(o),
                },
                tooltip=folium.GeoJsonTooltip(["tip"], labels=False, sticky=True),
            ).add_to(group)
            group.add_to(fmap)
        first = False


def _add_facilities(fmap: Any, folium: Any, run: CoverageRun, catalog: Catalog, colours: dict[str, str]) -> None:
    fac = run.facilities.to_crs(4326)
    for cat, colour in colours.items():
        rows = fac[fac["category"] == cat]
        if not len(rows):
            continue
        cat_name = f"{esc(catalog[cat].name_zh)} {esc(catalog[cat].name_en)}"
        props = []
        for _, row in rows.iterrows():
            name = row.get("name")
            ident = row.get("facility_id")
            tip = f"<b>{esc(name)}</b><br>" if isinstance(name, str) and name else ""
            tip += cat_name + (f"<br>{esc(ident)}" if ident is not None and not pd.isna(ident) else "")
            props.append({"tip": tip})
        group = folium.FeatureGroup(name=f'<span style="color:{colour}">●</span> {cat_name}')
        folium.GeoJson(
            _features(rows, props),
            marker=folium.CircleMarker(radius=5, fill=True),
            # folium passes the style to the marker's options: the pane goes with it
            style_function=lambda _f, c=colour: {  # noqa: B008 - bind per layer
                "pane": _FACILITY_PANE,
                "color": "#fff",
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.95,
            },
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(group)
        group.add_to(fmap)


def _add_gaps(fmap: Any, folium: Any, check: PlanCheck) -> int:
    """The gap rows on their units, one outline per unit; returns how many gap rows have no geometry."""
    gaps = check.gaps[check.gaps["status"] == "gap"]
    located = gaps[gaps.geometry.notna() & ~gaps.geometry.is_empty]
    order = {"high": 0, "medium": 1, "low": 2}
    units, props = [], []
    for (scope, unit), rows in located.groupby(["scope", "unit_id"], sort=False):
        rows = rows.sort_values("severity", key=lambda s: s.map(order).fillna(3))
        worst = str(rows["severity"].iloc[0])
        items = "".join(
            f"<li>[{_SEVERITY_WORDS.get(str(r.severity), esc(r.severity))}] {esc(r.title_zh)} {esc(r.title_en)}: "
            f"要求 required {esc(r.required)}, 现状 actual {esc(r.actual)}</li>"
            for r in rows.head(12).itertuples()
        )
        more = f"<li>… {len(rows) - 12} more 更多</li>" if len(rows) > 12 else ""
        head = f"<b>{esc(rows['unit_name'].iloc[0])}</b> ({esc(scope)} {esc(unit)}): {len(rows)} 项缺口 gaps"
        units.append(rows.geometry.iloc[0])
        props.append({"tip": f"{head}<ul style='margin:0;padding-left:16px'>{items}{more}</ul>", "severity": worst})
    group = folium.FeatureGroup(name=f"缺口 Gaps: {len(units)} units with gaps (outline: worst severity)")
    if units:
        frame = gpd.GeoDataFrame(geometry=units, crs=located.crs)
        folium.GeoJson(
            _features(frame, props),
            style_function=lambda f: {
                "color": _SEVERITY.get(f["properties"]["severity"], "#b2182b"),
                "weight": 4,
                "dashArray": "8 5",
                "fill": False,
            },
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False, sticky=True),
            pane=_GAP_PANE,
        ).add_to(group)
    group.add_to(fmap)
    return int(len(gaps) - len(located))


def _add_proposals(fmap: Any, folium: Any, proposals: gpd.GeoDataFrame, catalog: Catalog) -> None:
    """Proposed sites, drawn over everything else (the hook for the siting stage)."""
    frame = proposals.to_crs(4326) if proposals.crs is not None else proposals
    props = []
    for _, row in frame.iterrows():
        cat = row.get("category")
        label = f"{catalog[cat].name_zh} {catalog[cat].name_en}" if isinstance(cat, str) and cat in catalog.ids else cat
        parts = [f"<b>拟建 Proposed</b> {esc(label) if label is not None else ''}"]
        for key, text in (("proposal_id", ""), ("name", ""), ("community_id", "社区 community "), ("street", "街道 ")):
            if isinstance(row.get(key), str):
                parts.append(f"{text}{esc(row[key])}")
        if isinstance(row.get("serves"), float | int) and np.isfinite(row["serves"]):
            parts.append(f"服务 serves {row['serves']:,.0f}")
        props.append({"tip": "<br>".join(parts)})
    group = folium.FeatureGroup(name=f"拟建 Proposals ({len(frame)})")
    folium.GeoJson(
        _features(frame, props),
        marker=folium.CircleMarker(radius=8, fill=True),
        style_function=lambda _f: {
            "pane": _FACILITY_PANE,
            "color": "#000",
            "weight": 3,
            "fillColor": "#fff",
            "fillOpacity": 1,
        },
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(group)
    group.add_to(fmap)


def _add_legend(
    fmap: Any,
    folium: Any,
    legend_id: str,
    band: int,
    modes: dict[str, tuple[str, pd.Series]],
    colours: dict[str, str],
    run: CoverageRun,
    catalog: Catalog,
    attribution: str,
    counted: tuple[int | None, int | None],
    title: str = "",
) -> None:
    """The legend; ``counted`` = (gap rows without a shape or None without a check, proposals or None)."""
    unmapped, proposed = counted
    swatch = '<span style="display:inline-block;width:12px;height:12px;background:{};margin-right:4px"></span>'
    dot = '<span style="display:inline-block;width:10px;height:10px;border-radius:50%;background:{};margin-right:4px">'
    classes = [*COVERAGE_CLASSES, coverage_class(float("nan"))]
    scale = "".join(f"<div>{swatch.format(c.colour)}{c.label}</div>" for c in classes)
    counts = run.facilities["category"].value_counts()
    facilities = "".join(
        f"<div>{dot.format(c)}</span>{esc(catalog[cat].name_zh)} {esc(catalog[cat].name_en)} "
        f"({int(counts.get(cat, 0))})</div>"
        for cat, c in colours.items()
    )
    gaps = ""
    if unmapped is not None:
        gaps = "<div style='margin-top:4px'><b>缺口 Gaps</b> (dashed outline 虚线): " + " ".join(
            f"<span style='color:{c}'>■</span> {_SEVERITY_WORDS[s]}" for s, c in _SEVERITY.items()
        )
        gaps += f"<br>{unmapped} gap rows without a unit shape (see gaps.csv)</div>" if unmapped else "</div>"
    if proposed is not None:
        ring = '<span style="display:inline-block;width:10px;height:10px;border-radius:50%;border:3px solid #000">'
        gaps += f"<div style='margin-top:4px'>{ring}</span> <b>拟建 Proposed sites</b> ({proposed})</div>"
    credit = f"<div style='margin-top:4px;color:#555'>{esc(attribution)}</div>" if attribution else ""
    fmap.get_root().html.add_child(
        folium.Element(
            f'<div id="{legend_id}" style="position:fixed;bottom:48px;left:10px;z-index:1000;background:#fffe;'
            "padding:6px 8px;font:12px sans-serif;border:1px solid #999;max-height:60vh;overflow:auto;"
            'max-width:300px">'
            f'<div id="{legend_id}-offline" style="display:none;color:#b2182b;margin-bottom:4px">'
            "离线：底图瓦片无法加载，显示离线底图 Offline: no base tiles, showing the offline base</div>"
            + (f"<div style='font-size:14px;margin-bottom:4px'><b>{esc(title)}</b></div>" if title else "")
            + f"<b>社区着色 Community colour</b>: share of households within {band} min 分钟内户数比例<br>"
            f'<i id="{legend_id}-mode">{esc(modes[WORST][0])}</i>{scale}'
            f"<div style='margin-top:4px'><b>设施 Facilities</b> (count 数量)</div>{facilities}"
            f"<div style='margin-top:4px'>步行圈 walking circles: darker = nearer band 颜色越深越近</div>"
            f"{gaps}{credit}</div>"
        )
    )


def _tile_layer(folium: Any, tiles: str, attribution: str | None) -> Any:
    """The online base layer (a toggle; the page drops it when its server does not answer)."""
    if "{" in tiles and not attribution:
        raise ValidationError(
            f"tiles={tiles!r}: a tile URL needs tiles_attribution= (the credit its provider asks for, "
            "e.g. '&copy; OpenStreetMap contributors')."
        )
    if tiles == "OpenStreetMap" and attribution is None:
        attribution = _TILE_ATTRIBUTION
    return folium.TileLayer(tiles, name="在线底图 Online base tiles", overlay=True, control=True, attr=attribution)


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Save a folium map as HTML atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fmap.save(str(tmp))
    return path
