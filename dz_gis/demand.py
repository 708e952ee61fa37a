"""Demand: households and residents per community and the points they live at.

Sources, in order of preference (each estimate says which in ``demand_source``):

1. ``attributes`` - the community layer's own ``households`` / ``population`` columns;
2. ``compounds`` - residential compounds (points or polygons) with households;
3. ``buildings`` - building footprints: footprint area × storeys ÷ floor area per
   household (default 75 m², overridable), see :func:`households_from_buildings`;
4. ``raster`` - a population raster (GeoTIFF, any CRS): each populated cell becomes a
   weighted demand point, see :func:`demand_from_raster`.

Walking coverage needs demand *points*; the community totals come from the same points
unless the community layer states its own.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import ColumnError, DataFileError, ValidationError
from ._raster import open_raster
from ._validate import require_columns

__all__ = ["assign_demand", "codes_as_text", "demand_from_raster", "households_from_buildings", "link_compounds"]

logger = logging.getLogger(__name__)


def households_from_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    levels_column: str = "levels",
    default_levels: float = 5.0,
    m2_per_household: float = 75.0,
    persons_per_household: float = 2.62,
) -> gpd.GeoDataFrame:
    """Demand points from residential building footprints.

    ``households = footprint_m2 × levels ÷ m2_per_household``; ``persons_per_household``
    defaults to 2.62, Sichuan's average household size in the 2020 census (an
    assumption to override with local figures).

    Returns
    -------
    geopandas.GeoDataFrame
        ``building_id, households, population, demand_source`` with a point inside each
        footprint, in the buildings' CRS.
    """
    if buildings.crs is None:
        raise ValidationError("buildings have no CRS; set one with .set_crs(...).")
    if m2_per_household <= 0 or default_levels <= 0:
        raise ValidationError("m2_per_household and default_levels must be positive.")
    from .coords import metric_crs_for

    crs = buildings.crs
    if not crs.is_projected:
        lon, lat = buildings.to_crs(4326).union_all().centroid.coords[0]
        crs = metric_crs_for(lon, lat)
    b = buildings.to_crs(crs)
    polys = b.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polys.all():
        raise ValidationError(f"buildings: {int((~polys).sum())} features are not footprints (polygons).")
    levels = (
        pd.to_numeric(b[levels_column], errors="coerce") if levels_column in b else pd.Series(np.nan, index=b.index)
    )
    levels = levels.where(levels > 0, default_levels).to_numpy(dtype=float)
    hh = b.area.to_numpy() * levels / m2_per_household
    return gpd.GeoDataFrame(
        {
            "building_id": b["building_id"].to_numpy() if "building_id" in b else np.arange(len(b)),
            "households": hh,
            "population": hh * persons_per_household,
            "demand_source": f"buildings: footprint x levels (default {default_levels:g}) / {m2_per_household:g} m2",
        },
        geometry=shapely.point_on_surface(b.geometry.to_numpy()),
        crs=crs,
    ).to_crs(buildings.crs)


def demand_from_raster(
    path: str | Path,
    communities: gpd.GeoDataFrame,
    *,
    persons_per_household: float = 2.62,
) -> gpd.GeoDataFrame:
    """Weighted demand points from a population raster (residents per cell).

    Every cell with a positive value whose centre lies inside a community becomes a point
    carrying that population; households are population ÷ ``persons_per_household``.
    The raster may be in any CRS rasterio reads; nodata cells are skipped.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_id, population, households, demand_source`` points, in the
        communities' CRS.
    """
    require_columns(communities, ["community_id"], "communities")
    path = Path(path)
    with open_raster(path, "population raster") as src:
        band = src.read(1, masked=True)
        transform = src.transform
        raster_crs = src.crs.to_wkt()
    values = np.ma.filled(band.astype(float), np.nan)
    rows, cols = np.nonzero(np.isfinite(values) & (values > 0))
    if len(rows) == 0:
        raise DataFileError(f"{path}: no populated cells (all zero or nodata).")
    xs = transform.c + (cols + 0.5) * transform.a + (rows + 0.5) * transform.b
    ys = transform.f + (cols + 0.5) * transform.d + (rows + 0.5) * transform.e
    pts = gpd.GeoDataFrame({"population": values[rows, cols]}, geometry=shapely.points(xs, ys), crs=raster_crs)
    pts = pts.to_crs(communities.crs)
    joined = gpd.sjoin(pts, communities[["community_id", "geometry"]], predicate="within", how="inner")
    joined = joined[~joined.index.duplicated()]
    if len(joined) == 0:
        raise DataFileError(
            f"{path}: no populated cell lies inside the communities; check the raster's extent and CRS."
        )
    out = gpd.GeoDataFrame(
        {
            "community_id": joined["community_id"].to_numpy(),
            "population": joined["population"].to_numpy(),
            "households": joined["population"].to_numpy() / persons_per_household,
            "demand_source": f"raster {path.name}: residents per cell / {persons_per_household:g} per household",
        },
        geometry=joined.geometry.to_numpy(),
        crs=communities.crs,
    )
    logger.info(
        "%s: %d populated cells, %.0f residents inside the communities",
        path,
        len(out),
        out["population"].sum(),
    )
    return out


def assign_demand(
    communities: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame | None = None,
    *,
    source: str = "compounds",
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Households and residents per community, with ``demand_source``.

    Attribute columns win; where a community lacks them, totals come from the demand
    ``points`` (compounds, buildings or raster cells) inside it. Points get the
    ``community_id`` of the community they fall in.

    Returns
    -------
    (communities, points)
        Copies with ``households``, ``population`` and ``demand_source`` filled in.
    """
    comm = communities.copy()
    for col in ("households", "population"):
        if col not in comm:
            comm[col] = np.nan
    given = comm["demand_source"] if "demand_source" in comm else pd.Series(None, index=comm.index, dtype=object)
    comm["demand_source"] = given.where(given.notna(), np.where(comm["households"].notna(), "attributes", "no data"))
    if points is None or len(points) == 0:
        return comm, points
    pts = points.copy()
    if "community_id" not in pts or pts["community_id"].isna().any():
        loc = gpd.sjoin(
            pts.to_crs(comm.crs)[["geometry"]].set_geometry(
                shapely.point_on_surface(pts.to_crs(comm.crs).geometry.to_numpy())
            ),
            comm[["community_id", "geometry"]],
            predicate="within",
            how="left",
        )
        loc = loc[~loc.index.duplicated()]
        pts["community_id"] = loc["community_id"].reindex(pts.index).to_numpy()
    for col in ("households", "population"):
        if col not in pts:
            pts[col] = np.nan
    sums = pts.groupby("community_id")[["households", "population"]].sum(min_count=1)
    fill = comm["households"].isna() & comm["community_id"].isin(sums.index)
    if not fill.any():
        return comm, pts
    label = str(pts["demand_source"].iloc[0]) if "demand_source" in pts and len(pts) else source
    for col in ("households", "population"):
        comm.loc[fill, col] = comm.loc[fill, "community_id"].map(sums[col]).to_numpy()
    comm.loc[fill, "demand_source"] = label
    return comm, pts


def link_compounds(compounds: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Compounds with a ``community_id`` that names a community of the layer, and how it was found.

    Planners' compound lists carry the community as its code, as its name (所属社区), as a code
    Excel turned into a rounded number, or not at all. Each compound keeps a code the community
    layer knows; a community name is replaced by its code; anything else is assigned by
    location (the community its point lies in). ``community_link`` says which: ``code``,
    ``name``, ``location`` or ``none`` (outside every community: the compound counts in no
    community). A warning names the compounds that were not linked by their code.

    Raises
    ------
    ColumnError
        If the codes are numbers Excel rounded (``5.11702E+11``): the digits are lost.
    """
    require_columns(communities, ["community_id"], "communities")
    codes = codes_as_text(communities["community_id"])
    given = compounds["community_id"] if "community_id" in compounds else pd.Series(np.nan, index=compounds.index)
    text = codes_as_text(given)
    rounded = text.str.fullmatch(r"[0-9.]+[eE]\+[0-9]+").fillna(False).to_numpy(dtype=bool)
    if rounded.any():
        shown = ", ".join(sorted(set(text[rounded].astype(str)))[:3])
        raise ColumnError(
            f"compounds: community_id holds numbers Excel rounded ({shown}); their last digits are lost. "
            "Format the column as text (文本) in Excel and export again, or leave it out to link compounds "
            "by location."
        )
    link = np.where(text.isin(set(codes)).to_numpy(dtype=bool), "code", "").astype(object)
    out = compounds.copy()
    out["community_id"] = np.where(link == "code", text.to_numpy(dtype=object), None)
    if "name" in communities:
        # only names that pick out one community: two 新华社区 in two streets name neither
        named_once = communities[communities["name"].notna()].drop_duplicates("name", keep=False)
        names = pd.Series(named_once["community_id"].astype(str).to_numpy(), index=named_once["name"].astype(str))
        names = names[names.index.str.strip() != ""]
        by_name = text.map(names) if len(names) else pd.Series(np.nan, index=text.index)
        named = (link == "") & by_name.notna().to_numpy()
        out.loc[named, "community_id"] = by_name[named].to_numpy()
        link = np.where(named, "name", link)
    todo = link == ""
    if todo.any():
        pts = gpd.GeoDataFrame(geometry=shapely.point_on_surface(out.geometry.to_numpy()[todo]), crs=out.crs).to_crs(
            communities.crs
        )
        hit = gpd.sjoin(pts, communities[["community_id", "geometry"]], predicate="within", how="left")
        hit = hit[~hit.index.duplicated()]
        found = hit["community_id"].reindex(range(int(todo.sum()))).to_numpy()
        where = np.flatnonzero(todo)
        out.iloc[where, out.columns.get_loc("community_id")] = found
        link[where] = np.where(pd.isna(found), "none", "location")
    out["community_link"] = link
    _warn_links(out, given)
    return out


def codes_as_text(codes: pd.Series) -> pd.Series:
    """Codes as text: ``511702001005.0`` (a code Excel or pandas stored as a float) as ``511702001005``.

    Integers and text codes alike, so a layer with numeric codes matches one with text codes.
    """
    text = codes.astype("string").str.strip()
    whole = text.str.fullmatch(r"[0-9]+\.0*").fillna(False).to_numpy(dtype=bool)
    text[whole] = text[whole].str.replace(r"\.0*$", "", regex=True)
    return text


def _warn_links(out: gpd.GeoDataFrame, given: pd.Series) -> None:
    label = out["compound_id"] if "compound_id" in out else pd.Series(out.index, index=out.index)
    for kind, what in (
        ("name", "named their community instead of its code; linked by name"),
        ("location", "had no community code the community layer knows; linked by location"),
        ("none", "lie in no community and have no code it knows; they count in no community"),
    ):
        rows = out["community_link"].to_numpy() == kind
        if rows.any():
            shown = ", ".join(f"{i} ({g!s})" for i, g in zip(label[rows][:5], given[rows][:5], strict=False))
            warnings.warn(
                f"compounds: {int(rows.sum())} {what} (compound_id (given community_id): {shown}); "
                "see the column community_link.",
                UserWarning,
                stacklevel=3,
            )
