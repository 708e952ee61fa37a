"""What a run writes: the GeoPackage, the CSV tables and the web map, in one folder.

The command line and scripts call :func:`write_outputs`, so every way of running dz_gis
writes the same files from the same computation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._atomic import atomic_folder
from .._errors import DataFileError
from ..allocate.presets import Proposals
from ..pipeline import CoverageRun, PlanCheck
from .folio import write_folio
from .geopackage import gap_layers, write_geopackage
from .qgis_styles import coverage_styles
from .tables import write_csv
from .webmap import coverage_map, save_map
from .workbook import write_workbook

__all__ = ["check_writable", "proposed_sites", "write_outputs"]


def check_writable(folder: str | Path) -> Path:
    """Make sure results can be written into ``folder`` before any work is done (nothing is created).

    Raises
    ------
    DataFileError
        If the folder, or the nearest folder above it that exists, cannot be written.
    """
    out = Path(folder)
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    problem = ""
    if not existing.is_dir():
        problem = f"{existing} is a file, not a folder"
    elif existing == out:
        try:
            with tempfile.NamedTemporaryFile(dir=out, prefix=".dz_gis-check-"):
                pass
        except OSError as exc:
            problem = str(exc.strerror or exc)
        if not problem and not os.access(out.absolute().parent, os.W_OK | os.X_OK):
            parent = out.absolute().parent
            problem = f"no permission to write in {parent}, where a run is put together before it replaces {out.name}"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"no permission to create folders in {existing}"
    if problem:
        raise DataFileError(
            f"{out}: cannot write the results there ({problem}) (无法写入输出文件夹). "
            "Choose another folder with --out, or check its permissions."
        )
    return out


def write_outputs(
    run: CoverageRun,
    check: PlanCheck,
    folder: str | Path,
    *,
    attribution: str = "",
    web_map: bool = True,
    folio: bool = True,
    proposals: Sequence[Proposals] = (),
    workbook: bool = True,
    title: str = "",
    tiles: str = "OpenStreetMap",
    tiles_attribution: str | None = None,
) -> dict[str, Path]:
    """Write a coverage run and its plan check into ``folder``, the whole set at once.

    The files are written into a folder beside ``folder`` that then takes its place in one
    step (:func:`dz_gis._atomic.atomic_folder`): ``folder`` holds one complete run, old or
    new, even when a run is killed, and two runs at once wait for each other. A ``folder``
    holding files of the user's is not replaced: the new files are moved in (warned).

    Returns
    -------
    dict
        What was written, by name: ``geopackage``, ``summary``, ``gaps``, ``indicators``,
        ``register_by_district`` and ``register_unknown`` (when the rules name a register)
        ``web_map`` and ``folio`` (the PDF, :func:`~dz_gis.outputs.folio.write_folio`; ``folio=False``
        leaves it out); with ``proposals`` (from :mod:`dz_gis.allocate.presets`) also
        ``proposals`` (the new sites), ``proposals_coverage`` (per community, before and after)
        and ``proposals_gaps`` (the gap rows they change), and a ``proposals`` layer, drawn on the
        map and in the folio; and ``workbook`` (``tables.xlsx``: the tables for Excel, Chinese
        headers, shares as percentages, :mod:`~dz_gis.outputs.workbook`). ``title`` (e.g. the
        project's name) heads the web map and the folio's cover; ``tiles`` and
        ``tiles_attribution`` choose the web map's online base (:func:`coverage_map`).
    """
    sites = proposed_sites(proposals)
    with atomic_folder(folder) as out:
        which = (web_map, folio, workbook)
        written = _write_set(run, check, out, sites, proposals, attribution, which, title, (tiles, tiles_attribution))
    final = Path(folder)
    return {name: final / path.name for name, path in written.items()}


def _write_set(
    run: CoverageRun,
    check: PlanCheck,
    out: Path,
    sites: gpd.GeoDataFrame | None,
    proposals: Sequence[Proposals],
    attribution: str,
    which: tuple[bool, bool, bool],
    title: str,
    tiles: tuple[str, str | None],
) -> dict[str, Path]:
    """Every file of a run into ``out`` (the folder :func:`write_outputs` swaps in)."""
    web_map, folio, workbook = which
    layers = {"communities": run.communities, "compounds": run.compounds, "facilities": run.facilities}
    if run.isochrones is not None:
        layers["isochrones"] = run.isochrones.to_crs(4326)
    layers.update(gap_layers(check.gaps))  # the located rows on the map, every row in a table
    if sites is not None:
        layers["proposals"] = sites
    written = {
        "geopackage": write_geopackage(out / "coverage.gpkg", layers, styles=coverage_styles(layers)),
        "summary": write_csv(out / "coverage_summary.csv", run.summary),
        "gaps": write_csv(out / "gaps.csv", check.gaps.drop(columns="geometry")),
        "indicators": write_csv(out / "indicators.csv", check.indicators),
    }
    if sites is not None:
        written["proposals"] = write_csv(out / "proposals.csv", sites.drop(columns="geometry"))
        written["proposals_coverage"] = write_csv(out / "proposals_coverage.csv", _per_proposal(proposals, "coverage"))
        written["proposals_gaps"] = write_csv(out / "proposals_gaps.csv", _per_proposal(proposals, "gaps"))
    if check.register is not None:
        written["register_by_district"] = write_csv(out / "register_by_district.csv", check.register.by_district)
        written["register_unknown"] = write_csv(out / "register_unknown.csv", check.register.unknown)
    if workbook:
        written["workbook"] = write_workbook(out / "tables.xlsx", _sheets(run, check, proposals, sites))
    if web_map:
        fmap = coverage_map(
            run,
            attribution=attribution,
            check=check,
            proposals=sites,
            title=title,
            tiles=tiles[0],
            tiles_attribution=tiles[1],
        )
        written["web_map"] = save_map(fmap, out / "coverage_map.html")
    if folio:
        written["folio"] = write_folio(
            run, check, out / "folio.pdf", attribution=attribution, proposals=sites, title=title
        )
    return written


def proposed_sites(proposals: Sequence[Proposals]) -> gpd.GeoDataFrame | None:
    """Every preset's new sites in one layer (WGS84), labelled for maps."""
    frames = [p.sites for p in proposals if len(p.sites)]
    if not frames:
        return None
    sites = pd.concat(frames, ignore_index=True)
    sites["label"] = sites["proposal_id"]
    return gpd.GeoDataFrame(sites, geometry="geometry", crs=frames[0].crs)


def _per_proposal(proposals: Sequence[Proposals], part: str) -> pd.DataFrame:
    frames = [getattr(p, part).assign(category=p.sites["category"].iloc[0] if len(p.sites) else "") for p in proposals]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _sheets(
    run: CoverageRun, check: PlanCheck, proposals: Sequence[Proposals], sites: gpd.GeoDataFrame | None
) -> dict[str, pd.DataFrame]:
    """The workbook's sheets: the same tables as the CSV files, and the coverage per community."""
    keep = [c for c in ("community_id", "name", "street", "households") if c in run.communities]
    cov = [c for c in run.communities.columns if c.startswith("cov_")]
    sheets = {
        "覆盖汇总 coverage": run.summary,
        "社区覆盖 communities": pd.DataFrame(run.communities[keep + cov]),
        "缺口 gaps": pd.DataFrame(check.gaps.drop(columns="geometry")),
        "指标 indicators": check.indicators,
    }
    if sites is not None:
        shown = [
            c
            for c in (
                "proposal_id",
                "category",
                "name_zh",
                "community_id",
                "street",
                "serves",
                "public_spaces",
                "moved_m",
                "model",
                "status",
                "mip_gap",
                "minutes",
            )
            if c in sites
        ]
        sheets["选址 proposals"] = pd.DataFrame(sites[shown])
        sheets["选址前后 before-after"] = _per_proposal(proposals, "coverage")
        sheets["选址消除缺口 gaps closed"] = _per_proposal(proposals, "gaps")
    return sheets
