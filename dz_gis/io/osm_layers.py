"""Facilities and residential compounds pulled from an OpenStreetMap PBF file.

For planners with no facility list or compound register: facilities are matched to
the facility catalog by their tags; compounds are residential land-use areas and
residential buildings, with households estimated from floor area.

Household estimate (an assumption, documented and overridable):
``households = footprint_m2 × levels ÷ m2_per_household`` where ``levels`` is the
``building:levels`` tag or ``default_levels``. A building counts as residential when
tagged apartments/residential/house/terrace/detached/dormitory, or ``building=yes``
inside ``landuse=residential``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import DataFileError
from ..catalog import Catalog, default_catalog
from ..coords import metric_crs_for

__all__ = ["RESIDENTIAL_BUILDINGS", "facilities_from_osm", "compounds_from_osm"]

logger = logging.getLogger(__name__)

#: ``building=*`` values that are homes.
RESIDENTIAL_BUILDINGS = frozenset({"apartments", "residential", "house", "terrace", "detached", "dormitory"})


def _open(path: str | Path, bounding_box: Any = None):
    import pyrosm

    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: OSM file not found.")
    try:
        return pyrosm.OSM(str(path), bounding_box=bounding_box)
    except Exception as exc:  # pyrosm raises generic exceptions on unreadable files
        raise DataFileError(f"{path}: cannot read it as OSM PBF ({exc}).") from None


def _tags(record: dict) -> dict:
    tags = {k: v for k, v in record.items() if k not in ("geometry", "tags") and isinstance(v, str)}
    extra = record.get("tags")
    if isinstance(extra, str) and extra:
        tags.update(json.loads(extra))
    return tags


def facilities_from_osm(
    path: str | Path, *, catalog: Catalog | None = None, bounding_box: Any = None
) -> gpd.GeoDataFrame:
    """Facilities of every catalog category that has OSM tags, as points in EPSG:4326.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id`` (``osm:<type>/<id>``), ``name``, ``category``, ``area_m2``
        (NaN: OSM does not record floor area), ``source`` = ``"OpenStreetMap"``.
    """
    catalog = catalog or default_catalog()
    osm = _open(path, bounding_box)
    keys = catalog.osm_keys()
    simple = {"amenity", "shop", "leisure", "healthcare", "emergency", "social_facility", "landuse"}
    wanted: dict[str, bool | list[str]] = {k: True for k in keys if k in simple and k != "landuse"}
    wanted["landuse"] = ["village_green"]
    pois = osm.get_pois(custom_filter=wanted)
    if pois is None or len(pois) == 0:
        return _empty_facilities()
    records = pois.to_dict("records")
    cats = [catalog.osm_category(_tags(r)) for r in records]
    pois = pois.assign(category=cats)
    pois = pois[pois["category"].notna()].copy()
    pois["geometry"] = shapely.point_on_surface(shapely.make_valid(pois.geometry.array))
    out = gpd.GeoDataFrame(
        {
            "facility_id": ("osm:" + pois["osm_type"].astype(str) + "/" + pois["id"].astype(str)).to_numpy(),
            "name": pois["name"].to_numpy() if "name" in pois else None,
            "category": pois["category"].to_numpy(),
            "area_m2": np.nan,
            "source": "OpenStreetMap",
        },
        geometry=pois.geometry.to_numpy(),
        crs=4326,
    )
    out = out.drop_duplicates("facility_id").sort_values(["category", "facility_id"])
    return out.reset_index(drop=True)


def _empty_facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"facility_id": [], "name": [], "category": [], "area_m2": [], "source": []}, geometry=[], crs=4326
    )


def compounds_from_osm(
    path: str | Path,
    *,
    m2_per_household: float = 75.0,
    default_levels: float = 5.0,
    persons_per_household: float = 2.0,
    bounding_box: Any = None,
) -> gpd.GeoDataFrame:
    """Residential compounds (小区) with estimated households, from OSM land use and buildings.

    Each ``landuse=residential`` area is one compound holding the residential buildings
    inside it; a residential building outside every such area is a compound of its own.

    Parameters
    ----------
    m2_per_household
        Gross residential floor area per household (default 75 m²).
    default_levels
        Storeys assumed where ``building:levels`` is missing.
    persons_per_household
        Residents per household for ``population``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``compound_id, name, households, population, floor_area_m2, n_buildings,
        demand_source`` with polygon geometry, EPSG:4326.
    """
    osm = _open(path, bounding_box)
    buildings = osm.get_buildings()
    if buildings is None or len(buildings) == 0:
        raise DataFileError(f"{path}: no buildings in the OSM file; cannot estimate households.")
    landuse = osm.get_landuse()
    xmin, ymin, xmax, ymax = buildings.total_bounds
    metric = metric_crs_for((xmin + xmax) / 2, (ymin + ymax) / 2)
    b = buildings.to_crs(metric)
    b["geometry"] = shapely.make_valid(b.geometry.array)
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])]
    areas = gpd.GeoDataFrame(geometry=[], crs=metric)
    if landuse is not None and len(landuse):
        areas = landuse[landuse["landuse"] == "residential"].to_crs(metric)
        areas["geometry"] = shapely.make_valid(areas.geometry.array)
        areas = areas[areas.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    inside = np.full(len(b), -1)
    if len(areas):
        pts = gpd.GeoDataFrame(geometry=b.geometry.representative_point(), crs=metric)
        joined = gpd.sjoin(pts, areas[["geometry"]], predicate="within", how="left")
        joined = joined[~joined.index.duplicated()]
        inside = joined["index_right"].fillna(-1).astype(int).to_numpy()
    btype = b["building"].astype(str).str.lower().to_numpy()
    residential = np.isin(btype, list(RESIDENTIAL_BUILDINGS)) | ((btype == "yes") & (inside >= 0))
    levels = pd.to_numeric(b.get("building:levels"), errors="coerce").to_numpy(dtype=float)
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, default_levels)
    floor = b.area.to_numpy() * levels
    b = b.assign(floor_area_m2=floor, area_idx=inside)[residential]
    rows = []
    for idx, grp in b[b["area_idx"] >= 0].groupby("area_idx"):
        area = areas.iloc[int(idx)]
        rows.append(
            {
                "osm_id": f"way/{area['id']}" if "id" in areas else str(idx),
                "name": area.get("name"),
                "floor_area_m2": grp["floor_area_m2"].sum(),
                "n_buildings": len(grp),
                "geometry": area.geometry,
            }
        )
    for _, bld in b[b["area_idx"] < 0].iterrows():
        rows.append(
            {
                "osm_id": f"{bld['osm_type']}/{bld['id']}",
                "name": bld.get("name"),
                "floor_area_m2": bld["floor_area_m2"],
                "n_buildings": 1,
                "geometry": bld.geometry,
            }
        )
    if not rows:
        raise DataFileError(f"{path}: no residential buildings found; cannot estimate households.")
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=metric)
    out["households"] = np.round(out["floor_area_m2"] / m2_per_household)
    out = out[out["households"] > 0].sort_values("osm_id").reset_index(drop=True)
    out["population"] = np.round(out["households"] * persons_per_household)
    out["demand_source"] = (
        f"OSM buildings: footprint x levels (default {default_levels:g}) / {m2_per_household:g} m2 per household"
    )
    out.insert(0, "compound_id", [f"R{i + 1:03d}" for i in range(len(out))])
    cols = [
        "compound_id",
        "osm_id",
        "name",
        "households",
        "population",
        "floor_area_m2",
        "n_buildings",
        "demand_source",
        "geometry",
    ]
    return out[cols].to_crs(4326)
