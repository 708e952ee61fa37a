"""The units a plan speaks of, finest first: compound → community → street → district → city.

Rules are scoped to them, siting quotas count within them, a folio has a page per unit.
:func:`build_units` makes every level from the community layer (streets, districts and the
city are dissolved from the communities' ``street`` / ``district`` columns) and the
compounds; :func:`compound_units` says which unit of each level every compound belongs to.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import ValidationError
from ._validate import require_columns
from .coords import metric_crs_for

__all__ = ["SCOPES", "Units", "build_units", "compound_units", "member_communities", "units_containing"]

#: Administrative levels a rule can apply to, finest first.
SCOPES = ("compound", "community", "street", "district", "city")

#: The community layer's column that names the unit of each coarser level.
_LEVEL_COLUMNS = {"street": "street", "district": "district"}


class Units(dict[str, gpd.GeoDataFrame]):
    """Units of each scope: ``{scope: GeoDataFrame}``, in one metric CRS.

    Each frame has ``unit_id``, ``unit_name``, ``households``, ``population`` and polygon
    geometry (compounds may be points); dissolved levels also count their ``communities``.
    """


def build_units(communities: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame | None = None) -> Units:
    """Units at every scope: compounds, communities, and streets/districts/city dissolved from communities."""
    require_columns(communities, ["community_id", "geometry"], "communities")
    metric = _metric(communities)
    comm = communities.to_crs(metric)
    units = Units()
    base = pd.DataFrame(
        {
            "unit_id": comm["community_id"].astype(str).to_numpy(),
            "unit_name": comm["name"].to_numpy() if "name" in comm else comm["community_id"].to_numpy(),
            "households": _num(comm, "households"),
            "population": _num(comm, "population"),
        }
    )
    keep = [c for c in comm.columns if c not in base.columns and c != "geometry"]
    units["community"] = gpd.GeoDataFrame(
        pd.concat([base, comm[keep].reset_index(drop=True)], axis=1),
        geometry=comm.geometry.to_numpy(),
        crs=metric,
    )
    for scope, col in _LEVEL_COLUMNS.items():
        if col in comm and comm[col].notna().any():
            grouped = units["community"].assign(_g=comm[col].to_numpy())
            grouped = grouped[grouped["_g"].notna()]
            units[scope] = _dissolve(grouped, "_g")
    city = units["community"].assign(_g="city")
    units["city"] = _dissolve(city, "_g")
    units["city"]["unit_name"] = "全市 whole area"
    if compounds is not None and len(compounds):
        comp = compounds.to_crs(metric)
        units["compound"] = gpd.GeoDataFrame(
            {
                "unit_id": comp["compound_id"].astype(str).to_numpy(),
                "unit_name": comp["name"].to_numpy() if "name" in comp else comp["compound_id"].to_numpy(),
                "households": _num(comp, "households"),
                "population": _num(comp, "population"),
                "community_id": comp["community_id"].astype(str).to_numpy() if "community_id" in comp else None,
            },
            geometry=comp.geometry.to_numpy(),
            crs=metric,
        )
    return units


def compound_units(units: Units, compounds: gpd.GeoDataFrame | None) -> dict[str, np.ndarray]:
    """For each scope, the unit id of every compound (via its community)."""
    if compounds is None or "community_id" not in compounds:
        return {}
    comm_id = compounds["community_id"].astype(str).to_numpy()
    out = {"community": comm_id, "city": np.full(len(compounds), "city", dtype=object)}
    comm = units["community"].set_index("unit_id")
    for scope, col in _LEVEL_COLUMNS.items():
        if scope in units and col in comm:
            out[scope] = comm[col].astype(str).reindex(comm_id).to_numpy()
    out["compound"] = compounds["compound_id"].astype(str).to_numpy()
    return out


def member_communities(units: Units, scope: str, unit_id: str) -> set[str] | None:
    """Ids of the communities inside a street or district (None for other scopes)."""
    members = units["community"]
    col = _LEVEL_COLUMNS.get(scope)
    if col is None or col not in members:
        return None
    return set(members.loc[members[col].astype(str) == str(unit_id), "unit_id"])


def units_containing(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> pd.Series:
    """Unit id of the polygon each point lies in (NaN where outside every unit)."""
    pts = points.to_crs(units.crs)
    polys = units[units.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        return pd.Series(np.nan, index=points.index, dtype=object)
    joined = gpd.sjoin(pts[["geometry"]], polys[["unit_id", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    return joined["unit_id"].reindex(points.index)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    return (
        pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        if col in frame
        else np.full(len(frame), np.nan)
    )


def _dissolve(frame: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    def total(s: pd.Series) -> float:
        return float(s.sum()) if s.notna().all() else np.nan

    out = frame.dissolve(by=key, aggfunc={"households": total, "population": total})
    out = out.reset_index().rename(columns={key: "unit_id"})
    out["unit_name"] = out["unit_id"].astype(str)
    out["unit_id"] = out["unit_id"].astype(str)
    out["communities"] = frame.groupby(key).size().reindex(out["unit_id"]).to_numpy()
    return out[["unit_id", "unit_name", "households", "population", "communities", "geometry"]]


def _metric(gdf: gpd.GeoDataFrame) -> Any:
    if gdf.crs is None:
        raise ValidationError("communities have no CRS; set one with .set_crs(...).")
    if gdf.crs.is_projected:
        return gdf.crs
    lon, lat = gdf.to_crs(4326).union_all().centroid.coords[0]
    return metric_crs_for(lon, lat)
