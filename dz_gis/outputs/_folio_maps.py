"""The maps of the folio, drawn with matplotlib in the study area's metric CRS.

Every map has a scale bar (matplotlib-scalebar) and a north arrow; the maps are in a
Gauss-Krueger or UTM projection, whose grid north is within a degree or two of true north
over a city, so the arrow points up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import Catalog
from ..coords import metric_crs_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..pipeline import CoverageRun

__all__ = [
    "BAND_COLOURS",
    "MapLayers",
    "category_styles",
    "draw_bands",
    "draw_community",
    "draw_outlines",
    "draw_overview",
    "finish_map",
    "view_box",
]

#: Fill of the walking bands, nearest first (5, 10, 15 min).
BAND_COLOURS = ["#2171b5", "#6baed6", "#c6dbef", "#eff3ff"]
#: Households beyond the largest band, and those with no walking time.
BEYOND_COLOUR = "#d7191c"
NO_TIME_COLOUR = "#969696"
_MARKERS = "osD^vPXh<>p*"


@dataclass
class MapLayers:
    """The run's layers in one metric CRS, as the maps draw them."""

    communities: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame  #: with a ``point`` column: where a compound's households are drawn
    facilities: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame | None
    streets: gpd.GeoDataFrame | None  #: the communities dissolved by ``street``, when they name one
    districts: gpd.GeoDataFrame | None  #: the same by ``district`` (区县)
    proposals: gpd.GeoDataFrame | None

    @classmethod
    def from_run(cls, run: CoverageRun, proposals: gpd.GeoDataFrame | None) -> MapLayers:
        """Project the layers of ``run`` (and the proposed sites) to the run's metric CRS."""
        if run.isochrones is not None and run.isochrones.crs is not None and run.isochrones.crs.is_projected:
            crs = run.isochrones.crs
        else:
            lon, lat = run.communities.to_crs(4326).union_all().centroid.coords[0]
            crs = metric_crs_for(lon, lat)
        comm = run.communities.to_crs(crs)
        comp = run.compounds.to_crs(crs)
        comp = comp.assign(point=comp.geometry.representative_point())
        iso = run.isochrones.to_crs(crs) if run.isochrones is not None else None
        prop = proposals.to_crs(crs) if proposals is not None and len(proposals) else None
        fac = run.facilities.to_crs(crs)
        return cls(comm, comp, fac, iso, _outlines(comm, "street"), _outlines(comm, "district"), prop)


def _outlines(comm: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame | None:
    """The communities merged by ``column`` (street, district), or None when the layer has no such column."""
    if column not in comm.columns or not comm[column].notna().any():
        return None
    merged = comm[comm[column].notna()].dissolve(by=column, as_index=False)[[column, "geometry"]]
    # an outline is the outside of its communities, not the holes between their blocks
    parts = merged.geometry.explode(index_parts=False)
    shells = gpd.GeoSeries(shapely.polygons(shapely.get_exterior_ring(parts.to_numpy())), index=parts.index)
    return merged.set_geometry(shells.groupby(level=0).agg(shapely.union_all).set_crs(comm.crs))


def category_styles(catalog: Catalog) -> dict[str, tuple[str, str]]:
    """Colour and marker of each category, fixed by its place in the catalog (same on every page)."""
    from matplotlib import colormaps

    colours = [colormaps["tab20"](i) for i in range(20)] + [colormaps["Dark2"](i) for i in range(8)]
    return {cat: (_hex(colours[i % len(colours)]), _MARKERS[i % len(_MARKERS)]) for i, cat in enumerate(catalog.ids)}


def _hex(rgba: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


def view_box(geom: Any, aspect: float, *, margin: float = 0.25, min_half_m: float = 300.0) -> tuple[float, ...]:
    """A window around ``geom`` with the width/height ratio ``aspect``: (xmin, ymin, xmax, ymax)."""
    xmin, ymin, xmax, ymax = geom.bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w = max((xmax - xmin) / 2 * (1 + margin), min_half_m)
    half_h = max((ymax - ymin) / 2 * (1 + margin), min_half_m)
    if half_w / half_h < aspect:
        half_w = half_h * aspect
    else:
        half_h = half_w / aspect
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def finish_map(ax: Axes, box: tuple[float, ...], *, scale: bool = True, north: bool = True) -> None:
    """Fix the window, hide the ticks, add the scale bar and the north arrow."""
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")  # geopandas names the CRS axes; a map needs no "Easting [metre]"
    ax.set_ylabel("")
    if scale:
        from matplotlib_scalebar.scalebar import ScaleBar

        ax.add_artist(ScaleBar(1.0, units="m", location="lower left", frameon=True, font_properties={"size": 6}))
    if north:
        # a plain arrow: drawing one is two calls, no library needed
        ax.annotate(
            "N",
            xy=(0.95, 0.95),
            xytext=(0.95, 0.82),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=8,
            arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2},
        )


def _clip(frame: gpd.GeoDataFrame, box: tuple[float, ...]) -> gpd.GeoDataFrame:
    if frame is None or not len(frame):
        return frame
    return frame.clip(shapely.box(*box))


def draw_overview(ax: Axes, layers: MapLayers, values: pd.Series, norm: Any, cmap: Any) -> None:
    """Communities coloured by ``values`` (indexed by community_id), streets outlined and named."""
    comm = layers.communities.assign(value=layers.communities["community_id"].map(values))
    known, unknown = comm[comm["value"].notna()], comm[comm["value"].isna()]
    if len(known):
        known.plot(ax=ax, color=[cmap(norm(v)) for v in known["value"]], edgecolor="#555", linewidth=0.5)
    if len(unknown):
        unknown.plot(ax=ax, color=NO_TIME_COLOUR, edgecolor="#555", linewidth=0.5)
    for _, row in comm.iterrows() if len(comm) <= 60 else ():  # a city's hundreds of labels would hide the map
        p = row.geometry.representative_point()
        label = f"{row['community_id']}\n{row['value']:.0f}" if np.isfinite(row["value"]) else str(row["community_id"])
        ax.text(p.x, p.y, label, ha="center", va="center", fontsize=6, bbox={"fc": "white", "ec": "none", "alpha": 0.6})
    draw_outlines(ax, layers)
    box = view_box(shapely.union_all(comm.geometry.to_numpy()), 1.0, margin=0.1, min_half_m=200)
    finish_map(ax, box)


def draw_outlines(ax: Axes, layers: MapLayers, *, names: bool = True) -> None:
    """Streets (街道) outlined in black, districts (区县) in dashed dark red, each named at its top left."""
    for frame, column, style in (
        (layers.streets, "street", {"color": "black", "linewidth": 1.6}),
        (layers.districts, "district", {"color": "#67001f", "linewidth": 2.2, "linestyle": "--"}),
    ):
        if frame is None:
            continue
        frame.boundary.plot(ax=ax, **style)
        for _, row in frame.iterrows() if names and len(frame) <= 40 else ():
            x0, _, _, y1 = row.geometry.bounds
            ax.text(x0, y1, f" {row[column]}", fontsize=7, va="bottom", color=style["color"])


def draw_community(
    ax: Axes, layers: MapLayers, community_id: str, box: tuple[float, ...], styles: dict, catalog: Catalog
) -> tuple[list[Any], list[str]]:
    """The community, its neighbours and compounds, the facilities by category and proposed sites.

    Returns the legend handles and labels of the categories drawn.
    """
    comm = layers.communities
    this = comm[comm["community_id"] == community_id]
    others = _clip(comm[comm["community_id"] != community_id], box)
    if len(others):
        others.plot(ax=ax, color="#f4f4f4", edgecolor="#999", linewidth=0.6)
        for _, row in others.iterrows():
            p = row.geometry.representative_point()
            ax.text(p.x, p.y, str(row["community_id"]), fontsize=6, color="#777", ha="center", va="center")
    this.plot(ax=ax, color="#fff7bc", edgecolor="none", zorder=1)
    comp = _clip(layers.compounds.drop(columns="point"), box)
    if len(comp):
        own = comp["community_id"].astype(str) == str(community_id)
        for rows, fill in ((comp[~own], "#e0e0e0"), (comp[own], "#fdae6b")):
            if len(rows):
                rows.plot(ax=ax, color=fill, edgecolor="#777", linewidth=0.3, zorder=2)
    this.boundary.plot(ax=ax, color="black", linewidth=1.8, zorder=3)
    from matplotlib.patches import Patch

    handles: list[Any] = [Patch(fc="#fdae6b", ec="#777"), Patch(fc="#e0e0e0", ec="#777")]
    labels = ["本社区小区 compounds of this community", "其他小区 other compounds"]
    fac = _clip(layers.facilities, box)
    in_view = [c for c in catalog.ids if len(fac) and (fac["category"] == c).any()]
    for cat in in_view:
        rows = fac[fac["category"] == cat]
        colour, marker = styles[cat]
        pts = rows.geometry.representative_point()
        h = ax.scatter(pts.x, pts.y, s=22, c=colour, marker=marker, edgecolors="black", linewidths=0.4, zorder=5)
        handles.append(h)
        if len(in_view) > 12:  # the legend column holds about 20 one-line entries: Chinese names only
            labels.append(f"{catalog[cat].name_zh} ({len(rows)})")
            continue
        label = f"{catalog[cat].name_zh} {catalog[cat].name_en} ({len(rows)})"
        cut = label.rfind(" ", 0, 44)
        labels.append(label if len(label) <= 44 or cut < 0 else f"{label[:cut]}\n    {label[cut + 1 :]}")
    prop = _clip(layers.proposals, box)
    if prop is not None and len(prop):
        pts = prop.geometry.representative_point()
        h = ax.scatter(pts.x, pts.y, s=90, c="#e31a1c", marker="*", edgecolors="black", linewidths=0.5, zorder=6)
        handles.append(h)
        labels.append(f"拟建设施 proposed site ({len(prop)})")
        label_col = next((c for c in ("label", "name", "category") if c in prop.columns), None)
        if label_col is not None:
            for p, text in zip(pts, prop[label_col], strict=True):
                ax.annotate(str(text), (p.x, p.y), xytext=(4, 4), textcoords="offset points", fontsize=6, zorder=7)
    finish_map(ax, box)
    return handles, labels


def draw_bands(
    ax: Axes, layers: MapLayers, community_id: str, category: str, box: tuple[float, ...], minutes: tuple[int, ...]
) -> None:
    """One category's walking bands around a community, and its households by walking time (beyond: red)."""
    if layers.isochrones is not None:
        iso = layers.isochrones[layers.isochrones["category"] == category]
        for i, m in sorted(enumerate(minutes), key=lambda t: -t[1]):
            band = _clip(iso[iso["minutes"] == m], box)
            if band is not None and len(band):
                band.plot(ax=ax, color=BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)], linewidth=0)
    this = layers.communities[layers.communities["community_id"] == community_id]
    this.boundary.plot(ax=ax, color="black", linewidth=0.9)
    comp = layers.compounds[layers.compounds["community_id"] == community_id]
    col = f"walk_min_{category}"
    if len(comp) and col in comp.columns:
        t = comp[col].to_numpy(dtype=float)
        colours = np.where(np.isnan(t), NO_TIME_COLOUR, np.where(t > max(minutes), BEYOND_COLOUR, "#ffffff"))
        size = 4 + 26 * np.sqrt(comp["households"].to_numpy(dtype=float) / max(comp["households"].max(), 1))
        pts = gpd.GeoSeries(comp["point"], crs=comp.crs)
        ax.scatter(pts.x, pts.y, s=size, c=list(colours), edgecolors="black", linewidths=0.4, zorder=4)
    fac = _clip(layers.facilities[layers.facilities["category"] == category], box)
    if fac is not None and len(fac):
        pts = fac.geometry.representative_point()
        ax.scatter(pts.x, pts.y, s=12, c="black", marker="^", zorder=5)
    finish_map(ax, box, scale=False, north=False)
