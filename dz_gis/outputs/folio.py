"""The folio: a printable PDF of a coverage run and its plan check (图集).

Pages: a cover; the indicator table (the plan's 表2, target beside actual); an overview map of
the communities and streets; then one page per community with its facilities, the walking
bands of each category, its households beyond reach and its gaps with their clauses.

Every number comes from the same :class:`~dz_gis.pipeline.CoverageRun` and
:class:`~dz_gis.pipeline.PlanCheck` that the tables, the GeoPackage and the web map are
written from. Text is set in Noto Sans SC, embedded in the PDF (see ``_folio_font``), so
the Chinese shows on any machine.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from .._atomic import atomic_path
from .._errors import ValidationError
from .._progress import track
from ..catalog import Catalog, default_catalog
from . import _folio_maps as maps
from ._folio_font import FONT_LICENCE, register_cjk_font

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.figure import Figure

    from ..pipeline import CoverageRun, PlanCheck

__all__ = ["write_folio"]

#: ISO A4 landscape, inches.
PAGE = (11.69, 8.27)
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
_STATUS = {"gap": "缺口 gap", "met": "达标 met", "no data": "无数据 no data"}
_STATUS_COLOUR = {"gap": "#b2182b", "met": "#1a9641", "no data": "#777777"}
_SEVERITY = {"high": ("高 high", "#b2182b"), "medium": ("中 medium", "#e66101"), "low": ("低 low", "#8c6d31")}
#: A category counts as reached in the overview when this share of households is within the largest band.
REACHED_SHARE = 0.8


def write_folio(
    run: CoverageRun,
    check: PlanCheck,
    path: str | Path,
    *,
    proposals: gpd.GeoDataFrame | None = None,
    attribution: str = OSM_ATTRIBUTION,
    study_area: str | None = None,
    date: dt.date | None = None,
    catalog: Catalog | None = None,
    title: str = "",
) -> Path:
    """Write the folio PDF of a coverage run and its plan check, atomically.

    Parameters
    ----------
    run, check
        From :func:`dz_gis.run_coverage` and :func:`dz_gis.check_plan`.
    path
        The PDF to write (replaced if it exists).
    proposals
        Proposed sites (points, any CRS) drawn on the community pages; a ``label`` (else
        ``name``, else ``category``) column names them.
    attribution
        The data credit printed on every page; "© OpenStreetMap contributors" is added when
        it does not say so already.
    study_area
        Named on the cover (default: the streets and communities counted).
    date
        Printed on the cover (default: today).
    title
        The project's name, printed on the cover above the folio's own title.

    Returns
    -------
    Path
        ``path``.
    """
    try:
        from matplotlib import rc_context
        from matplotlib.backends.backend_pdf import PdfPages
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("The folio PDF needs matplotlib: pip install 'dz_gis[folio]'") from exc
    if proposals is not None and (not hasattr(proposals, "geometry") or proposals.crs is None):
        raise ValidationError(
            "proposals: give a GeoDataFrame of points with a CRS (拟建设施需为带坐标系的点图层), "
            "e.g. gpd.read_file('sites.gpkg')."
        )
    path = Path(path)
    catalog = catalog or default_catalog()
    family = register_cjk_font()
    if "openstreetmap" not in attribution.lower():
        attribution = f"{attribution}; {OSM_ATTRIBUTION}" if attribution else OSM_ATTRIBUTION
    layers = maps.MapLayers.from_run(run, proposals)
    ids = [str(c) for c in run.communities["community_id"]]
    meta = {"Title": "15分钟社区生活圈 图集 15-minute life-circle folio", "Creator": "dz_gis", "Subject": attribution}
    fonts: Any = {"font.family": [family, "DejaVu Sans"], "pdf.fonttype": 42, "axes.unicode_minus": False}
    with rc_context(fonts), atomic_path(path) as tmp, PdfPages(tmp, metadata=meta) as pdf:
        folio = _Folio(run, check, layers, catalog, attribution, n_pages=3 + len(ids))
        pdf.savefig(folio.cover(study_area, date or dt.date.today(), title))
        pdf.savefig(folio.indicator_page())
        pdf.savefig(folio.overview_page())
        for cid in track(ids, "folio pages 图册"):
            pdf.savefig(folio.community_page(cid))
    return path


def _width(text: str) -> int:
    """Display width: 2 for a Chinese character (East Asian wide), 1 otherwise."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, cols: int) -> list[str]:
    """Break ``text`` into lines of at most ``cols`` display columns.

    Hand-written because :mod:`textwrap` breaks only at spaces and counts a Chinese
    character as one column: here a line may break between two Chinese characters, and
    Latin words are kept whole where a space is near.

    >>> wrap("每个社区配建一个综合超市 every community", 16)
    ['每个社区配建一个', '综合超市 every', 'community']
    """
    lines: list[str] = []
    for para in str(text).split("\n"):
        line = ""
        for ch in para:
            if _width(line + ch) <= cols:
                line += ch
                continue
            cut = line.rfind(" ")
            if ch != " " and cut > len(line) * 0.6 and line[-1].isascii():
                lines.append(line[:cut])
                line = line[cut + 1 :] + ch
            else:
                lines.append(line.rstrip())
                line = ch.lstrip()
        lines.append(line.rstrip())
    return lines


def _cols(width_in: float, size: float) -> int:
    """How many display columns fit ``width_in`` inches at ``size`` points (a column ~ 0.55 em)."""
    return max(int(width_in * 72 / (size * 0.55)), 8)


def _pct(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) and math.isfinite(value) else "—"


class _Folio:
    """The pages, each a matplotlib figure; shared: the layers, the styles, the footer."""

    def __init__(
        self,
        run: CoverageRun,
        check: PlanCheck,
        layers: maps.MapLayers,
        catalog: Catalog,
        attribution: str,
        n_pages: int,
    ) -> None:
        self.run, self.check, self.layers, self.catalog = run, check, layers, catalog
        self.attribution, self.n_pages, self.page = attribution, n_pages, 0
        self.styles = maps.category_styles(catalog)
        present = run.summary.index[run.summary["facilities"] > 0]
        self.present = [c for c in catalog.ids if c in present]
        self.band = max(run.minutes)

    def _figure(self, title: str, subtitle: str = "") -> Figure:
        from matplotlib.figure import Figure

        self.page += 1
        fig = Figure(figsize=PAGE)
        fig.text(0.02, 0.965, title, fontsize=14, va="center")
        if subtitle:
            fig.text(0.02, 0.933, subtitle, fontsize=8, color="#444", va="center")
        fig.text(0.02, 0.012, self.attribution, fontsize=6, color="#555")
        fig.text(0.98, 0.012, f"{self.page} / {self.n_pages}", fontsize=7, ha="right")
        return fig

    def cover(self, study_area: str | None, date: dt.date, title: str = "") -> Figure:
        """Title, study area, date, the data and its sources, what the pages hold."""
        from importlib.metadata import version

        from matplotlib import __version__ as mpl_version

        run, comm = self.run, self.run.communities
        fig = self._figure("")
        n_streets = int(comm["street"].nunique()) if "street" in comm else 0
        streets = f"{n_streets} 个街道 streets, " if n_streets else ""
        area = study_area or f"{streets}{len(comm)} 个社区 communities"
        if title:
            fig.text(0.06, 0.875, title, fontsize=20, color="#1a4e8a")
        fig.text(0.06, 0.80, "15分钟社区生活圈 服务覆盖图集", fontsize=30)
        fig.text(0.06, 0.735, "15-minute life-circle service coverage folio", fontsize=18, color="#333")
        fig.text(0.06, 0.665, f"研究范围 Study area: {area}", fontsize=12)
        fig.text(0.06, 0.625, f"日期 Date: {date.isoformat()}", fontsize=12)
        fac_sources = "; ".join(
            f"{src} ({n})" for src, n in run.facilities.get("source", pd.Series(dtype=str)).value_counts().items()
        )
        gaps = self.check.gaps
        lines = [
            "数据 Data",
            f"社区 communities {len(comm)}, 小区 compounds {len(run.compounds)}, "
            f"户数 households {run.compounds['households'].sum():,.0f}, 设施 facilities {len(run.facilities)}",
            f"设施来源 facility sources: {fac_sources or '—'}",
            f"步行 walking: {run.walk_m_per_min:g} m/min; 步行圈 bands {', '.join(map(str, run.minutes))} min",
            f"规划核查 plan check: {len(gaps)} unit-rule rows, {int((gaps['status'] == 'gap').sum())} 缺口 gaps",
            f"来源 Sources: {self.attribution}",
            f"dz_gis {version('dz_gis')}, matplotlib {mpl_version}; 字体 font: {FONT_LICENCE}",
        ]
        y, cols = 0.55, _cols(0.54 * PAGE[0], 9.5)
        for i, line in enumerate(lines):
            for part in wrap(line, cols):
                fig.text(0.06, y, part, fontsize=13 if i == 0 else 9.5)
                y -= 0.032
        if "provisional" in comm and comm["provisional"].fillna(False).astype(bool).any():
            note = (
                "暂定单元 Provisional units: the communities and streets of this run are not administrative "
                "boundaries; they were made from the data (see the unit_method and street_method columns). "
                "本图集中的社区、街道为按数据划定的暂定单元，并非行政区划。"
            )
            parts = wrap(note, cols)
            fig.text(0.06, y - 0.01, "\n".join(parts), fontsize=9.5, color="#b2182b", va="top", linespacing=1.4)
            y -= 0.02 + 0.032 * len(parts)
        contents = "内容 Contents: 2 指标表 indicators · 3 总览图 overview · 4– 各社区 one page per community"
        fig.text(0.06, max(y - 0.02, 0.05), contents, fontsize=9.5)
        ax = fig.add_axes((0.63, 0.12, 0.34, 0.74))
        self.layers.communities.plot(ax=ax, color="#fff7bc", edgecolor="#777", linewidth=0.5)
        maps.draw_outlines(ax, self.layers)
        extent = shapely.union_all(self.layers.communities.geometry.to_numpy())
        maps.finish_map(ax, maps.view_box(extent, 0.34 * PAGE[0] / (0.74 * PAGE[1]), margin=0.1, min_half_m=200))
        shown = ["社区 communities"] + [
            label
            for label, frame in (("街道 streets", self.layers.streets), ("区县 districts", self.layers.districts))
            if frame is not None
        ]
        ax.set_title(f"范围 Extent: {', '.join(shown)}", fontsize=8)
        return fig

    def indicator_page(self) -> Figure:
        """The rules file's indicators (表2): target beside actual, status, how each is computed."""
        fig = self._figure(
            "主要指标 Main indicators (表2 Table 2)",
            f"目标与现状 Target and actual, from the plan check of {len(self.run.communities)} communities",
        )
        ind = self.check.indicators
        if not len(ind):
            fig.text(0.04, 0.85, "本规则文件未列出指标 The rules file lists no indicators.", fontsize=11)
            return fig
        cols = [
            ("指标 indicator", 0.27),
            ("目标 target", 0.07),
            ("现状 actual", 0.09),
            ("状态 status", 0.07),
            ("计算 basis", 0.22),
            ("依据 clause", 0.24),
        ]
        rows = [
            [
                f"{r['indicator_zh']}\n{r['indicator_en']}",
                str(r["target"]),
                str(r["actual"]),
                _STATUS.get(str(r["status"]), str(r["status"])),
                str(r["basis"]),
                str(r["clause"]),
            ]
            for _, r in ind.iterrows()
        ]
        colours = [_STATUS_COLOUR.get(str(s), "black") for s in ind["status"]]
        _table(fig, cols, rows, colours, top=0.90, bottom=0.05, status_col=3)
        return fig

    def overview_page(self) -> Figure:
        """The communities by categories reached and by gaps, streets outlined; the street rules."""
        from matplotlib import colormaps
        from matplotlib.colors import BoundaryNorm, Normalize

        fig = self._figure(
            "总览 Overview: 社区与街道 communities and streets",
            f"左 left: 15分钟内 ≥{REACHED_SHARE:.0%} 户数可达的设施类别数 categories reached by ≥ "
            f"{REACHED_SHARE:.0%} of households within {self.band} min (of {len(self.present)} in the data); "
            "右 right: 规划缺口数 number of gaps against the plan's rules",
        )
        reached = self._reached()
        n = max(len(self.present), 1)
        cmap = colormaps["RdYlGn"]
        norm = BoundaryNorm(np.arange(-0.5, n + 1.5), cmap.N)
        ax1 = fig.add_axes((0.02, 0.16, 0.46, 0.74))
        maps.draw_overview(ax1, self.layers, reached, norm, cmap)
        fig.colorbar(
            _mappable(norm, cmap), ax=ax1, orientation="horizontal", fraction=0.04, pad=0.02, ticks=list(range(n + 1))
        ).set_label(f"可达类别数 categories reached (0–{len(self.present)})", fontsize=7)
        gaps = self.check.gaps
        counts = gaps[(gaps["scope"] == "community") & (gaps["status"] == "gap")].groupby("unit_id").size()
        counts = counts.reindex(self.run.communities["community_id"], fill_value=0)
        reds = colormaps["Reds"]
        gnorm = Normalize(0, max(int(counts.max()), 1))
        ax2 = fig.add_axes((0.52, 0.16, 0.46, 0.74))
        maps.draw_overview(ax2, self.layers, counts.astype(float), gnorm, reds)
        fig.colorbar(_mappable(gnorm, reds), ax=ax2, orientation="horizontal", fraction=0.04, pad=0.02).set_label(
            "缺口数 gaps", fontsize=7
        )
        street = gaps[gaps["scope"] == "street"]
        lines = [
            f"{r['unit_name']}: {r['title_zh']} — {_STATUS.get(r['status'], r['status'])} ({r['clause']})"
            for _, r in street.iterrows()
        ]
        if lines:
            text = "\n".join(["街道规则 Street rules:", *[ln for line in lines for ln in wrap(line, 230)]][:6])
            fig.text(0.02, 0.115, text, fontsize=6, va="top")
        return fig

    def _reached(self) -> pd.Series:
        comm = self.run.communities
        cols = [f"cov_{c}_{self.band}min" for c in self.present if f"cov_{c}_{self.band}min" in comm]
        reached = (comm[cols] >= REACHED_SHARE).sum(axis=1).astype(float)
        reached[comm[cols].isna().all(axis=1)] = np.nan
        return pd.Series(reached.to_numpy(), index=comm["community_id"])

    def community_page(self, community_id: str) -> Figure:
        """One community: its map, the bands of each category, its gaps with their clauses."""
        comm = self.run.communities
        row = comm[comm["community_id"] == community_id].iloc[0]
        name = row.get("name") if isinstance(row.get("name"), str) else community_id
        flag = " · 暂定单元 provisional" if bool(row.get("provisional", False)) else ""
        street = f" · 街道 street: {row['street']}" if isinstance(row.get("street"), str) else ""
        fig = self._figure(
            f"{name} ({community_id})" if name != community_id else str(community_id),
            f"户数 households {row.get('households', float('nan')):,.0f}{street}{flag}",
        )
        geom = self.layers.communities.loc[self.layers.communities["community_id"] == community_id].union_all()
        ax = fig.add_axes((0.02, 0.40, 0.36, 0.51))
        box = maps.view_box(geom, 0.36 * PAGE[0] / (0.51 * PAGE[1]))
        handles, labels = maps.draw_community(ax, self.layers, community_id, box, self.styles, self.catalog)
        if handles:
            fig.legend(
                handles,
                labels,
                loc="upper left",
                bbox_to_anchor=(0.385, 0.91),
                fontsize=6,
                frameon=False,
                title="设施 facilities (in view)",
                title_fontsize=7,
                alignment="left",
            )
        self._band_panels(fig, community_id, box)
        self._gap_list(fig, community_id)
        return fig

    def _band_panels(self, fig: Figure, community_id: str, box: Sequence[float]) -> None:
        """Small maps, one per category in the data: bands, the community's households, facilities."""
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        cats = self.present
        ncols = 6
        nrows = max(math.ceil(len(cats) / ncols), 1)
        left, bottom, width, height = 0.02, 0.035, 0.56, 0.315
        w, h = width / ncols, height / nrows
        row = self.run.communities.set_index("community_id").loc[community_id]
        aspect = (w * 0.94 * PAGE[0]) / (h * 0.72 * PAGE[1])
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        half = max(box[2] - box[0], box[3] - box[1]) / 2
        hw, hh = half * max(aspect, 1), half / min(aspect, 1)
        panel_box = (cx - hw, cy - hh, cx + hw, cy + hh)
        for i, cat in enumerate(cats):
            r, c = divmod(i, ncols)
            ax = fig.add_axes((left + c * w + w * 0.03, bottom + (nrows - 1 - r) * h, w * 0.94, h * 0.72))
            maps.draw_bands(ax, self.layers, community_id, cat, panel_box, self.run.minutes)
            shares = " ".join(_pct(row.get(f"cov_{cat}_{m}min")) for m in self.run.minutes)
            ax.set_title(f"{self.catalog[cat].name_zh}\n{shares}", fontsize=5.5, pad=2)
        bands = [Patch(color=maps.BAND_COLOURS[min(i, 3)], label=f"≤ {m} min") for i, m in enumerate(self.run.minutes)]
        if self.layers.isochrones is None:  # run without with_isochrones: households only
            bands = [Patch(color="white", label="步行圈未计算 bands not computed")]
        dots = [
            Line2D([], [], ls="", marker="o", mfc="white", mec="black", label=f"户 households ≤ {self.band} min"),
            Line2D([], [], ls="", marker="o", mfc=maps.BEYOND_COLOUR, mec="black", label=f"> {self.band} min 未覆盖"),
            Line2D([], [], ls="", marker="^", color="black", label="该类设施 facility"),
        ]
        minutes = "/".join(map(str, self.run.minutes))
        fig.legend(
            handles=bands + dots,
            loc="lower left",
            bbox_to_anchor=(0.385, 0.36),
            fontsize=6,
            frameon=False,
            title=f"步行圈 walking bands\n小图标题: {minutes} 分钟内户数比例\n"
            f"shares of households within {minutes} min",
            title_fontsize=6,
            alignment="left",
        )

    def _gap_list(self, fig: Figure, community_id: str) -> None:
        """The community's gaps, worst first, each with what is needed, what there is and the clause."""
        gaps = self.check.gaps
        mine = gaps[(gaps["scope"] == "community") & (gaps["unit_id"].astype(str) == community_id)]
        found = mine[mine["status"] == "gap"]
        order = {"high": 0, "medium": 1, "low": 2}
        found = found.assign(_o=found["severity"].map(order).fillna(3)).sort_values("_o", kind="stable")
        counts = found["severity"].value_counts()
        head = (
            f"缺口 Gaps: {len(found)} ("
            + " · ".join(f"{_SEVERITY[s][0]} {counts.get(s, 0)}" for s in ("high", "medium", "low"))
            + f"); 达标 met {int((mine['status'] == 'met').sum())}; "
            + f"无数据 no data {int((mine['status'] == 'no data').sum())}"
        )
        entries: list[tuple[str, str, bool]] = []  # (text, colour, is the first line of a gap)
        for _, g in found.iterrows():
            label, colour = _SEVERITY.get(str(g["severity"]), (str(g["severity"]), "black"))
            short = f", 差 short {g['shortfall']:,.4g} {g['shortfall_unit']}" if pd.notna(g["shortfall"]) else ""
            entries.append(
                (f"■ [{label}] {g['title_zh']}: 需 needs {g['required']}, 现 has {g['actual']}{short}", colour, True)
            )
            entries.append((f"依据 clause: {g['clause']}", "#444444", False))
        if not len(found):
            entries.append(("无缺口 No gaps against the rules with data.", "#1a9641", True))
        _flow(fig, head, entries, x=0.60, width=0.38, top=0.91, bottom=0.035)


def _flow(
    fig: Figure, head: str, entries: list[tuple[str, str, bool]], x: float, width: float, top: float, bottom: float
) -> None:
    """Set a heading and wrapped entries in a column, at the largest size from 7.5 to 5 pt that fits."""
    height_pt = (top - bottom) * PAGE[1] * 72
    for size in (7.5, 7.0, 6.5, 6.0, 5.5, 5.0):
        cols = _cols(width * PAGE[0], size)
        lines = [(ln, c, first and i == 0) for text, c, first in entries for i, ln in enumerate(wrap(text, cols))]
        step = size * 1.3
        gaps = sum(first for _, _, first in lines)
        if (len(lines) + 2 + 0.3 * gaps) * step <= height_pt:
            break
    fig.text(x, top, head, fontsize=size + 1.5, va="top")
    y = top - 2 * step / (PAGE[1] * 72)
    kept = 0
    for text, colour, first in lines:
        if first:
            y -= 0.3 * step / (PAGE[1] * 72)
        if y < bottom:
            break
        fig.text(x + (0 if first else 0.012), y, text, fontsize=size, color=colour, va="top")
        y -= step / (PAGE[1] * 72)
        kept += 1
    if kept < len(lines):
        fig.text(x, bottom, f"… {len(lines) - kept} more lines: see gaps.csv", fontsize=size, va="top")


def _table(
    fig: Figure,
    cols: list[tuple[str, float]],
    rows: list[list[str]],
    colours: list[str],
    *,
    top: float,
    bottom: float,
    status_col: int,
) -> None:
    """A table of wrapped text cells with a header and rules between rows, at the largest size that fits."""
    x0 = 0.02
    edges = np.concatenate([[x0], x0 + np.cumsum([w for _, w in cols])])
    height_pt = (top - bottom) * PAGE[1] * 72
    for size in (8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0):
        widths = [_cols(w * PAGE[0] * 0.96, size) for _, w in cols]
        cells = [[wrap(cell, n) for cell, n in zip(row, widths, strict=True)] for row in rows]
        heights = [max(len(c) for c in row) for row in cells]
        step = size * 1.25
        if (sum(heights) + 2 + 0.6 * len(rows)) * step <= height_pt:
            break
    unit = step / (PAGE[1] * 72)
    for (title, _), x in zip(cols, edges, strict=False):
        fig.text(x + 0.003, top, title, fontsize=size + 0.5, va="top")
    y = top - 1.5 * unit
    fig.add_artist(_rule(edges[0], edges[-1], y + 0.2 * unit, 1.0))
    for row, n, colour in zip(cells, heights, colours, strict=True):
        if y - n * unit < bottom:
            fig.text(x0, bottom, "… see indicators.csv", fontsize=size)
            break
        for j, (lines, x) in enumerate(zip(row, edges, strict=False)):
            fig.text(
                x + 0.003,
                y - 0.2 * unit,
                "\n".join(lines),
                fontsize=size,
                va="top",
                linespacing=1.25,
                color=colour if j == status_col else "black",
            )
        y -= (n + 0.6) * unit
        fig.add_artist(_rule(edges[0], edges[-1], y + 0.2 * unit, 0.3))


def _rule(x0: float, x1: float, y: float, lw: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], color="#666", linewidth=lw)


def _mappable(norm: Any, cmap: Any) -> Any:
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=cmap)
