"""Homes from OpenStreetMap buildings: which buildings people live in, and how many households.

For planners with no household register. Every building is classed from its own tags and the
land use it stands in, its residential floor area estimated, and the homes grouped into
compounds (小区). The estimate rests on assumptions held in one place,
:class:`HouseholdAssumptions`::

    households = footprint_m2 × storeys × residential share ÷ m2_per_household

A building's class gives its residential share:

- ``residential`` (share 1): ``building`` = apartments, residential, house, … (see
  :data:`RESIDENTIAL_BUILDINGS`), ``building:use=residential``, or an unspecified building
  (``building=yes``) inside ``landuse=residential``;
- ``mixed`` (share ``mixed_use_share``): an unspecified building anywhere else, unless its own
  outline says what it is for (``amenity``, ``shop``, ``office``, ``tourism`` … see
  :data:`USE_KEYS`) or it stands in non-residential land use (:data:`NON_RESIDENTIAL_LANDUSE`);
  a city centre's blocks of flats over shops are mostly tagged so; also
  ``building:use`` naming residential among other uses;
- ``flats``: ``building:flats`` tagged: that many households, nothing estimated;
- ``none``: every other building (offices, shops, schools, churches, sheds …): no households.

Storeys: ``building:levels`` (less ``building:min_level``), else ``height`` ÷
``metres_per_level``, else ``house_levels`` for houses, else ``default_levels``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import DataFileError, ValidationError
from ..coords import metric_crs_for
from .osm_layers import open_osm, osm_tags

__all__ = [
    "HouseholdAssumptions",
    "RESIDENTIAL_BUILDINGS",
    "HOUSE_BUILDINGS",
    "USE_KEYS",
    "NON_RESIDENTIAL_LANDUSE",
    "read_osm_buildings",
    "estimate_homes",
    "compounds_from_homes",
    "compounds_from_osm",
]

logger = logging.getLogger(__name__)

#: ``building=*`` values that are homes.
RESIDENTIAL_BUILDINGS = frozenset(
    {
        "apartments",
        "residential",
        "house",
        "terrace",
        "detached",
        "semidetached_house",
        "bungalow",
        "dormitory",
    }
)
#: Homes of one or two families, low unless tagged: they get ``house_levels`` storeys.
HOUSE_BUILDINGS = frozenset({"house", "terrace", "detached", "semidetached_house", "bungalow"})
#: ``building=*`` values that say nothing of the use: lived in unless other tags say otherwise.
UNSPECIFIED_BUILDINGS = frozenset({"yes"})
#: Keys that, tagged on a building's outline, name its use (a school, a shop, a museum …).
USE_KEYS = (
    "amenity",
    "shop",
    "office",
    "tourism",
    "leisure",
    "healthcare",
    "craft",
    "public_transport",
    "railway",
    "aeroway",
    "emergency",
    "man_made",
    "military",
)
#: ``landuse=*`` values where an unspecified building is not a home.
NON_RESIDENTIAL_LANDUSE = frozenset(
    {
        "industrial",
        "railway",
        "military",
        "religious",
        "cemetery",
        "education",
        "landfill",
        "quarry",
        "port",
        "garages",
        "depot",
        "farmyard",
        "construction",
    }
)
_TAGS = ("building", "building:levels", "building:min_level", "height", "building:flats", "building:use", "name")


@dataclass(frozen=True)
class HouseholdAssumptions:
    """The assumptions behind households estimated from buildings, in one place.

    Every estimate carries them in its ``demand_source`` text. Change one with
    ``dataclasses.replace(a, mixed_use_share=0.3)`` or ``HouseholdAssumptions.from_mapping``.

    Attributes
    ----------
    m2_per_household
        Gross residential floor area per household (default 75 m²).
    mixed_use_share
        Share of a mixed-use building's floor area that is homes (default 0.5: shops, offices
        and services take the other half; a neutral guess, not a measured figure).
    default_levels
        Storeys of a building without ``building:levels`` or ``height`` (default 5).
    house_levels
        Storeys of an untagged house (house, detached, terrace …; default 2).
    metres_per_level
        Storey height used to read ``height`` as storeys (default 3 m).
    persons_per_household
        Residents per household, for ``population`` (default 2.0).
    """

    m2_per_household: float = 75.0
    mixed_use_share: float = 0.5
    default_levels: float = 5.0
    house_levels: float = 2.0
    metres_per_level: float = 3.0
    persons_per_household: float = 2.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise ValidationError(f"household assumption {f.name}={value!r}: must be a positive number.")
        if self.mixed_use_share > 1:
            raise ValidationError(
                f"household assumption mixed_use_share={self.mixed_use_share!r}: a share, between 0 and 1."
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> HouseholdAssumptions:
        """Assumptions from a mapping; an unknown name is an error that lists the known ones."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValidationError(f"unknown household assumption(s) {unknown}; known: {', '.join(known)}.")
        return cls(**values)

    def describe(self) -> str:
        """One line naming every assumption, for ``demand_source``."""
        return (
            f"footprint x storeys (building:levels, else height / {self.metres_per_level:g} m, "
            f"else {self.default_levels:g}, houses {self.house_levels:g}) x residential share "
            f"(mixed use {self.mixed_use_share:g}) / {self.m2_per_household:g} m2 per household"
        )


def read_osm_buildings(path: str | Path, *, bounding_box: Any = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The buildings of an OSM PBF file with the tags that say who lives there, and its land use.

    Returns
    -------
    (buildings, landuse)
        ``buildings``: ``osm_id`` and the tags ``building``, ``building:levels``,
        ``building:min_level``, ``height``, ``building:flats``, ``building:use``, ``name`` and
        :data:`USE_KEYS` (missing tags are None), polygon geometry; ``landuse``: ``osm_id``,
        ``landuse``, ``name``, polygon geometry. Both in EPSG:4326.
    """
    osm = open_osm(path, bounding_box)
    raw = osm.get_buildings()
    if raw is None or len(raw) == 0:
        raise DataFileError(f"{path}: no buildings in the OSM file; cannot estimate households.")
    records = raw.to_dict("records")
    tags = [osm_tags(r) for r in records]
    cols: dict[str, Any] = {"osm_id": [f"{r['osm_type']}/{r['id']}" for r in records]}
    for key in _TAGS + USE_KEYS:
        cols[key] = [t.get(key) for t in tags]
    buildings = gpd.GeoDataFrame(cols, geometry=raw.geometry.to_numpy(), crs=raw.crs).to_crs(4326)
    raw_lu = osm.get_landuse()
    if raw_lu is None or len(raw_lu) == 0:
        landuse = gpd.GeoDataFrame({"osm_id": [], "landuse": [], "name": []}, geometry=[], crs=4326)
    else:
        landuse = gpd.GeoDataFrame(
            {
                "osm_id": (raw_lu["osm_type"].astype(str) + "/" + raw_lu["id"].astype(str)).to_numpy(),
                "landuse": raw_lu["landuse"].to_numpy(),
                "name": raw_lu["name"].to_numpy() if "name" in raw_lu else None,
            },
            geometry=raw_lu.geometry.to_numpy(),
            crs=raw_lu.crs,
        ).to_crs(4326)
    return _polygons(buildings), _polygons(landuse)


def _polygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.set_geometry(shapely.make_valid(gdf.geometry.array))
    out = out[out.geom_type.isin(["Polygon", "MultiPolygon"])]
    return out.reset_index(drop=True)


def estimate_homes(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    assumptions: HouseholdAssumptions | None = None,
) -> gpd.GeoDataFrame:
    """Class every building and estimate its households (see the module text for the rules).

    Parameters
    ----------
    buildings
        Polygons with OSM tags as columns (as :func:`read_osm_buildings` returns; missing
        columns count as untagged), in any CRS.
    landuse
        Land-use polygons with a ``landuse`` column, or None.
    assumptions
        The estimate's assumptions (default :class:`HouseholdAssumptions` ()).

    Returns
    -------
    geopandas.GeoDataFrame
        The buildings with ``home_class`` (residential, mixed, flats, none), ``why``,
        ``storeys``, ``storeys_source``, ``footprint_m2``, ``residential_share``,
        ``floor_area_m2`` (residential floor area), ``households`` (unrounded) and
        ``demand_source``, in a metric CRS (:func:`dz_gis.metric_crs_for`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame({"building": ["yes"], "building:levels": ["6"]},
    ...                      geometry=[shapely.box(0, 0, 20, 25)], crs=32635)
    >>> homes = estimate_homes(b)
    >>> homes[["home_class", "storeys", "households"]].values.tolist()
    [['mixed', 6.0, 20.0]]
    """
    a = assumptions or HouseholdAssumptions()
    if buildings.crs is None:
        raise ValidationError("buildings have no CRS; set one with .set_crs(...).")
    crs = buildings.crs
    if not crs.is_projected:
        xmin, ymin, xmax, ymax = buildings.to_crs(4326).total_bounds
        crs = metric_crs_for((xmin + xmax) / 2, (ymin + ymax) / 2)
    b = buildings.to_crs(crs).reset_index(drop=True)
    tag = {key: _text(b, key) for key in _TAGS + USE_KEYS}
    in_res, in_other = _landuse_of(b, landuse, crs)
    home_class, why = _classify(tag, in_res, in_other)
    storeys, source = _storeys(tag, a)
    flats = _number(tag["building:flats"])
    share = np.select([home_class == "residential", home_class == "mixed"], [1.0, a.mixed_use_share], 0.0)
    footprint = b.area.to_numpy()
    floor = footprint * storeys * share
    households = np.where(home_class == "flats", flats, floor / a.m2_per_household)
    out = b.assign(
        home_class=home_class,
        why=why,
        storeys=storeys,
        storeys_source=source,
        footprint_m2=footprint,
        residential_share=np.where(home_class == "flats", np.nan, share),
        floor_area_m2=np.where(home_class == "flats", np.nan, floor),
        households=households,
    )
    out["demand_source"] = np.where(
        home_class == "flats",
        "OSM building:flats (tagged count of dwellings)",
        f"estimate from OSM buildings: {a.describe()}",
    )
    out.loc[home_class == "none", "demand_source"] = "not lived in"
    return out


def _text(frame: pd.DataFrame, key: str) -> np.ndarray:
    if key not in frame:
        return np.full(len(frame), None, dtype=object)
    col = frame[key]
    return np.array([v.strip().lower() if isinstance(v, str) and v.strip() else None for v in col], dtype=object)


def _landuse_of(b: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame | None, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Whether each building stands in residential / in non-residential land use."""
    in_res = np.zeros(len(b), dtype=bool)
    in_other = np.zeros(len(b), dtype=bool)
    if landuse is None or len(landuse) == 0 or len(b) == 0:
        return in_res, in_other
    lu = landuse.to_crs(crs).reset_index(drop=True)
    kind = lu["landuse"].astype(str).str.lower().to_numpy()
    pts = gpd.GeoDataFrame(geometry=b.geometry.representative_point(), crs=crs)
    joined = gpd.sjoin(pts, lu[["geometry"]], predicate="within", how="inner")
    hit = kind[joined["index_right"].to_numpy()]
    rows = joined.index.to_numpy()
    in_res[rows[hit == "residential"]] = True
    in_other[rows[np.isin(hit, list(NON_RESIDENTIAL_LANDUSE))]] = True
    return in_res, in_other


def _classify(tag: dict[str, np.ndarray], in_res: np.ndarray, in_other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = list(tag)
    pairs = [
        _home_class(dict(zip(keys, values, strict=True)), bool(r), bool(o))
        for values, r, o in zip(zip(*tag.values(), strict=True), in_res, in_other, strict=True)
    ]
    home_class = np.array([p[0] for p in pairs], dtype=object)
    why = np.array([p[1] for p in pairs], dtype=object)
    return home_class, why


def _home_class(tags: dict[str, Any], in_res: bool, in_other: bool) -> tuple[str, str]:
    """The class of one building and why: the rules of the module text, in order."""
    building, use = tags["building"], tags["building:use"]
    if _leading_number(tags["building:flats"]) > 0:
        return "flats", "building:flats tagged"
    if use is not None:
        uses = {u.strip() for u in re.split(r"[;,]", use)}
        if uses == {"residential"}:
            return "residential", "building:use=residential"
        if "residential" in uses:
            return "mixed", f"building:use={use}: residential among other uses"
        return "none", f"building:use={use}"
    if building in RESIDENTIAL_BUILDINGS:
        return "residential", f"building={building}"
    if building not in UNSPECIFIED_BUILDINGS:
        return "none", f"building={building}"
    used_for = next((f"{key}={tags[key]}" for key in USE_KEYS if tags[key] is not None), None)
    if used_for is not None:
        return "none", f"{used_for} tagged on the building"
    if in_res:
        return "residential", "building=yes in landuse=residential"
    if in_other:
        return "none", "building=yes in non-residential land use"
    return "mixed", "building=yes, no use tagged, not in non-residential land use"


def _number(values: np.ndarray) -> np.ndarray:
    """:func:`_leading_number` of each tag value."""
    return np.array([_leading_number(v) for v in values], dtype=float)


def _leading_number(value: Any) -> float:
    """The leading number of a tag value (``"12.5 m"`` → 12.5), NaN where there is none."""
    m = re.match(r"\s*(\d+(?:[.,]\d+)?)", value) if isinstance(value, str) else None
    return float(m.group(1).replace(",", ".")) if m else np.nan


def _storeys(tag: dict[str, np.ndarray], a: HouseholdAssumptions) -> tuple[np.ndarray, np.ndarray]:
    levels = _number(tag["building:levels"]) - np.nan_to_num(_number(tag["building:min_level"]))
    from_height = np.maximum(np.round(_number(tag["height"]) / a.metres_per_level), 1.0)
    house = np.isin(tag["building"], list(HOUSE_BUILDINGS))
    conditions = [levels > 0, np.isfinite(from_height), house]
    storeys = np.select(conditions, [levels, from_height, a.house_levels], a.default_levels)
    source = np.select(
        conditions,
        ["building:levels", f"height / {a.metres_per_level:g} m", "assumed (house)"],
        "assumed (default)",
    ).astype(object)
    return storeys.astype(float), source


def compounds_from_homes(
    homes: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    blocks: gpd.GeoDataFrame | None = None,
    persons_per_household: float = 2.0,
) -> gpd.GeoDataFrame:
    """Group the lived-in buildings into compounds (小区).

    A building inside a ``landuse=residential`` area belongs to that area's compound; one
    outside every such area belongs to the compound of its street block (``blocks``: polygons
    enclosed by streets, e.g. :func:`dz_gis.datasets.street_blocks`), whose land is the block
    less the residential areas in it; one in no block is a compound of its own.

    Returns
    -------
    geopandas.GeoDataFrame
        ``compound_id, name, grouped_by, osm_id, households, population, floor_area_m2,
        n_buildings, n_mixed_use, demand_source, provisional`` with polygon geometry,
        EPSG:4326. ``osm_id`` is the land-use area's or the building's; for a street-block
        compound, its buildings' ids joined by ``;``. ``provisional`` is True: households are
        estimates and block compounds are not surveyed boundaries.
    """
    crs = homes.crs
    lived = homes[homes["households"] > 0].reset_index(drop=True)
    if len(lived) == 0:
        raise DataFileError("no building people live in was found; cannot estimate households.")
    areas = gpd.GeoDataFrame(geometry=[], crs=crs)
    if landuse is not None and len(landuse):
        areas = landuse[landuse["landuse"].astype(str).str.lower() == "residential"].to_crs(crs).reset_index(drop=True)
    pts = gpd.GeoDataFrame(geometry=lived.geometry.representative_point(), crs=crs)
    area_of = _within(pts, areas)
    block_of = np.full(len(lived), -1)
    if blocks is not None and len(blocks):
        blocks = blocks.to_crs(crs).reset_index(drop=True)
        block_of = np.where(area_of < 0, _within(pts, blocks), -1)
    key = np.where(
        area_of >= 0,
        [f"a{i}" for i in area_of],
        np.where(block_of >= 0, [f"b{i}" for i in block_of], [f"h{i}" for i in range(len(lived))]),
    )
    rows = []
    res_union = shapely.union_all(areas.geometry.array) if len(areas) else None
    for k, grp in lived.groupby(key, sort=True):
        rows.append(_compound_row(str(k), grp, areas, blocks, res_union))
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    order = {"landuse=residential": 0, "street block": 1, "building": 2}
    out = out.assign(_o=out["grouped_by"].map(order)).sort_values(["_o", "osm_id"]).drop(columns="_o")
    out["households"] = np.round(out["households"])
    out = out[out["households"] > 0].reset_index(drop=True)
    out["population"] = np.round(out["households"] * persons_per_household)
    out["provisional"] = True
    out.insert(0, "compound_id", [f"R{i + 1:03d}" for i in range(len(out))])
    cols = [
        "compound_id",
        "name",
        "grouped_by",
        "osm_id",
        "households",
        "population",
        "floor_area_m2",
        "n_buildings",
        "n_mixed_use",
        "demand_source",
        "provisional",
        "geometry",
    ]
    return out[cols].to_crs(4326)


def _within(pts: gpd.GeoDataFrame, polys: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the polygon each point lies in (the first, if several), -1 where none."""
    if len(polys) == 0:
        return np.full(len(pts), -1)
    joined = gpd.sjoin(pts, polys[["geometry"]], predicate="within", how="left")
    joined = joined.sort_values("index_right", kind="stable")
    joined = joined[~joined.index.duplicated()].sort_index()
    return joined["index_right"].fillna(-1).astype(int).to_numpy()


def _compound_row(
    key: str, grp: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame | None, res_union: Any
) -> dict:
    kind, idx = key[0], int(key[1:])
    mixed = int((grp["home_class"] == "mixed").sum())
    sources = sorted(set(grp["demand_source"]))
    counts = f"{len(grp)} building(s), {mixed} mixed-use"
    row = {
        "households": grp["households"].sum(),
        "floor_area_m2": grp["floor_area_m2"].sum(min_count=1),
        "n_buildings": len(grp),
        "n_mixed_use": mixed,
        "demand_source": f"{'; '.join(sources)} ({counts})",
    }
    if kind == "a":
        area = areas.iloc[idx]
        name = area.get("name") if "name" in areas else None
        return {
            **row,
            "name": name,
            "grouped_by": "landuse=residential",
            "osm_id": area.get("osm_id"),
            "geometry": area.geometry,
        }
    if kind == "b" and blocks is not None:
        land = blocks.geometry.iloc[idx]
        if res_union is not None:
            rest = shapely.difference(land, res_union)
            land = rest if not rest.is_empty and rest.area > 0 else land
        ids = ";".join(sorted(str(i) for i in grp["osm_id"])) if "osm_id" in grp else None
        return {**row, "name": None, "grouped_by": "street block", "osm_id": ids, "geometry": land}
    bld = grp.iloc[0]
    return {
        **row,
        "name": bld.get("name"),
        "grouped_by": "building",
        "osm_id": bld.get("osm_id"),
        "geometry": bld.geometry,
    }


def compounds_from_osm(
    path: str | Path,
    *,
    blocks: gpd.GeoDataFrame | None = None,
    bounding_box: Any = None,
    **assumptions: float,
) -> gpd.GeoDataFrame:
    """Residential compounds (小区) with estimated households, from an OSM PBF file.

    :func:`read_osm_buildings`, then :func:`estimate_homes`, then
    :func:`compounds_from_homes`.

    Parameters
    ----------
    blocks
        Street blocks to group the buildings outside residential land use by (None: each
        such building is a compound of its own).
    **assumptions
        Overrides of :class:`HouseholdAssumptions` (``m2_per_household=90``,
        ``mixed_use_share=0.3`` …).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`compounds_from_homes`.
    """
    a = HouseholdAssumptions.from_mapping(assumptions)
    buildings, landuse = read_osm_buildings(path, bounding_box=bounding_box)
    homes = estimate_homes(buildings, landuse, assumptions=a)
    try:
        return compounds_from_homes(homes, landuse, blocks=blocks, persons_per_household=a.persons_per_household)
    except DataFileError as exc:
        raise DataFileError(f"{path}: {exc}") from None
