"""The bundled datasets: the runnable Helsinki sample, Dazhou's boundaries, synthetic graphs.

:mod:`~dz_gis.datasets.sample` (:func:`load_sample`), :mod:`~dz_gis.datasets.blocks`
(provisional community units and streets from street blocks, for places without boundaries),
:mod:`~dz_gis.datasets.dazhou` and :mod:`~dz_gis.datasets.synthetic`. The data files live in
the repository's ``data/`` folder and travel inside the wheel (:func:`data_dir`).
"""

from .blocks import assign_units as assign_units
from .blocks import communities_from_blocks as communities_from_blocks
from .blocks import street_blocks as street_blocks
from .blocks import streets_from_units as streets_from_units
from .dazhou import load_dazhou_boundaries as load_dazhou_boundaries
from .files import data_dir as data_dir
from .sample import SAMPLE_ASSUMPTIONS as SAMPLE_ASSUMPTIONS
from .sample import Sample as Sample
from .sample import build_sample_layers as build_sample_layers
from .sample import load_sample as load_sample
from .sample import sample_osm_path as sample_osm_path
from .synthetic import synthetic_street_graph as synthetic_street_graph

__all__ = [
    "SAMPLE_ASSUMPTIONS",
    "Sample",
    "assign_units",
    "build_sample_layers",
    "communities_from_blocks",
    "data_dir",
    "load_dazhou_boundaries",
    "load_sample",
    "sample_osm_path",
    "street_blocks",
    "streets_from_units",
    "synthetic_street_graph",
]
