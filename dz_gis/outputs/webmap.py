"""Folium web maps of a coverage run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import atomic_path
from ..catalog import Catalog, default_catalog

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from ..pipeline import CoverageRun

__all__ = ["coverage_map", "save_map"]

_PALETTE = [
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
]


def _folium():
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Web maps need folium: pip install 'dz_gis[maps]'") from exc
    return folium


def _colour(share: float) -> str:
    if not np.isfinite(share):
        return "#bdbdbd"
    stops = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
    return stops[min(int(share * len(stops)), len(stops) - 1)]


def coverage_map(
    run: CoverageRun, *, band: int | None = None, catalog: Catalog | None = None, attribution: str = ""
) -> folium.Map:
    """A folium map: communities coloured by mean coverage, compounds, facilities by category.

    Parameters
    ----------
    run
        Result of :func:`dz_gis.pipeline.run_coverage`.
    band
        Walking band (minutes) used for the colours; default the largest.
    """
    folium = _folium()
    catalog = catalog or default_catalog()
    band = band or max(run.minutes)
    comm = run.communities.to_crs(4326)
    present = [c for c in catalog.ids if f"cov_{c}_{band}min" in comm.columns]
    xmin, ymin, xmax, ymax = comm.total_bounds
    fmap = folium.Map(location=[(ymin + ymax) / 2, (xmin + xmax) / 2], zoom_start=15, control_scale=True)
    if attribution:
        fmap.get_root().html.add_child(
            folium.Element(
                f'<div style="position:fixed;bottom:4px;left:140px;z-index:999;background:#fff8;'
                f'font:11px sans-serif;padding:2px 4px">{attribution}</div>'
            )
        )
    _add_communities(fmap, folium, comm, present, band, catalog)
    _add_compounds(fmap, folium, run, present, catalog)
    _add_isochrones(fmap, folium, run, band, catalog)
    _add_facilities(fmap, folium, run, catalog)
    _add_legend(fmap, folium, band, len(present))
    folium.LayerControl(collapsed=True).add_to(fmap)
    fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    return fmap


def _add_communities(fmap: Any, folium: Any, comm: Any, present: list[str], band: int, catalog: Catalog) -> None:
    cov_cols = [f"cov_{c}_{band}min" for c in present]
    comm = comm.assign(mean_cov=comm[cov_cols].mean(axis=1) if cov_cols else np.nan)
    lines = [f"{catalog[c].name_zh} {catalog[c].name_en}: " for c in present]
    communities = folium.FeatureGroup(name=f"社区 Communities: mean {band}-min coverage 平均覆盖率")
    for _, row in comm.iterrows():
        detail = "<br>".join(
            f"{label}{row[col]:.0%}" if np.isfinite(row[col]) else f"{label}无数据 no data"
            for label, col in zip(lines, cov_cols, strict=True)
        )
        flag = " (provisional 暂定)" if bool(row.get("provisional", False)) else ""
        html = (
            f"<b>{row.get('name', row['community_id'])}</b>{flag}<br>"
            f"户数 households: {row.get('households', float('nan')):.0f}<br>"
            f"{band} 分钟内户数比例 share of households within {band} min:<br>{detail}"
        )
        folium.GeoJson(
            row.geometry.__geo_interface__,
            style_function=lambda _f, c=_colour(row["mean_cov"]): {  # noqa: B008 - bind per row
                "fillColor": c,
                "color": "#333",
                "weight": 2,
                "fillOpacity": 0.35,
            },
            tooltip=folium.Tooltip(html),
        ).add_to(communities)
    communities.add_to(fmap)


def _add_compounds(fmap: Any, folium: Any, run: CoverageRun, present: list[str], catalog: Catalog) -> None:
    comp = run.compounds.to_crs(4326)
    compounds = folium.FeatureGroup(name="小区 Residential compounds", show=False)
    for _, row in comp.iterrows():
        times = [
            f"{catalog[c].name_zh}: {row[f'walk_min_{c}']:.1f} min"
            for c in present
            if f"walk_min_{c}" in row and np.isfinite(row[f"walk_min_{c}"])
        ]
        folium.GeoJson(
            row.geometry.__geo_interface__,
            style_function=lambda _f: {"color": "#555", "weight": 1, "fillOpacity": 0.2},
            tooltip=folium.Tooltip(
                f"<b>{row['compound_id']}</b> 户数 {row['households']:.0f}<br>" + "<br>".join(times)
            ),
        ).add_to(compounds)
    compounds.add_to(fmap)


def _add_isochrones(fmap: Any, folium: Any, run: CoverageRun, band: int, catalog: Catalog) -> None:
    if run.isochrones is not None and len(run.isochrones):
        iso = run.isochrones.to_crs(4326)
        for cat in (c for c in catalog.ids if (iso["category"] == c).any()):
            group = folium.FeatureGroup(name=f"{band} 分钟步行圈 {band}-min walk: {catalog[cat].name_zh}", show=False)
            for _, row in iso[(iso["category"] == cat) & (iso["minutes"] == band)].iterrows():
                if row.geometry is None or row.geometry.is_empty:
                    continue
                folium.GeoJson(
                    row.geometry.__geo_interface__,
                    style_function=lambda _f: {"color": "#08519c", "weight": 1, "fillOpacity": 0.15},
                    tooltip=f"{catalog[cat].name_zh} {catalog[cat].name_en}: {band} 分钟 min",
                ).add_to(group)
            group.add_to(fmap)


def _add_facilities(fmap: Any, folium: Any, run: CoverageRun, catalog: Catalog) -> None:
    fac = run.facilities.to_crs(4326)
    for i, cat in enumerate(c for c in catalog.ids if (fac["category"] == c).any()):
        colour = _PALETTE[i % len(_PALETTE)]
        # the dot in the layer list is the legend of the facility markers
        group = folium.FeatureGroup(
            name=f'<span style="color:{colour}">●</span> {catalog[cat].name_zh} {catalog[cat].name_en}'
        )
        for _, row in fac[fac["category"] == cat].iterrows():
            name = row.get("name")
            label = f"{catalog[cat].name_zh}: {name}" if isinstance(name, str) else catalog[cat].name_zh
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=5,
                color=colour,
                fill=True,
                fill_opacity=0.9,
                tooltip=label,
            ).add_to(group)
        group.add_to(fmap)


def _add_legend(fmap: Any, folium: Any, band: int, n_categories: int) -> None:
    swatch = '<span style="display:inline-block;width:12px;height:12px;background:{};margin-right:4px"></span>'
    legend = "".join(
        f"<div>{swatch.format(c)}{t}</div>"
        for c, t in zip(
            ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641", "#bdbdbd"],
            ["< 20 %", "20–40 %", "40–60 %", "60–80 %", "≥ 80 %", "无数据 no data"],
            strict=True,
        )
    )
    fmap.get_root().html.add_child(
        folium.Element(
            '<div style="position:fixed;top:10px;left:60px;z-index:999;background:#fffd;padding:6px;'
            f'font:12px sans-serif;border:1px solid #999"><b>社区 community colour</b>: share of households '
            f"within {band} min,<br>mean over the {n_categories} categories with facilities in the data"
            f"{legend}</div>"
        )
    )


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Save a folium map as HTML atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fmap.save(str(tmp))
    return path
