"""Facilities pulled from an OpenStreetMap PBF file, and reading the file itself.

For planners with no facility list: facilities are matched to the facility catalog by their
tags. Homes and compounds come from the same file in :mod:`~dz_gis.io.osm_homes`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .._errors import DataFileError
from ..catalog import Catalog, default_catalog

__all__ = ["facilities_from_osm", "open_osm", "osm_tags"]

logger = logging.getLogger(__name__)


def open_osm(path: str | Path, bounding_box: Any = None) -> Any:
    """A ``pyrosm.OSM`` reader for a PBF file; a missing or unreadable file names itself."""
    import pyrosm

    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: OSM file not found.")
    try:
        return pyrosm.OSM(str(path), bounding_box=bounding_box)
    except Exception as exc:  # pyrosm raises generic exceptions on unreadable files
        raise DataFileError(f"{path}: cannot read it as OSM PBF ({exc}).") from None


def osm_tags(record: dict) -> dict:
    """All the OSM tags of one pyrosm record: its tag columns and its ``tags`` JSON."""
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
    osm = open_osm(path, bounding_box)
    keys = catalog.osm_keys()
    simple = {"amenity", "shop", "leisure", "healthcare", "emergency", "social_facility", "landuse"}
    wanted: dict[str, bool | list[str]] = {k: True for k in keys if k in simple and k != "landuse"}
    wanted["landuse"] = ["village_green"]
    pois = osm.get_pois(custom_filter=wanted)
    if pois is None or len(pois) == 0:
        return _empty_facilities()
    records = pois.to_dict("records")
    cats = [catalog.osm_category(osm_tags(r)) for r in records]
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
