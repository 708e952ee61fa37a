"""Outputs: what a run writes - tables, the GeoPackage, the web map, the folio PDF - each written atomically.

:func:`write_outputs` (:mod:`~dz_gis.outputs.bundle`) writes a whole run; the writers of
each format are :mod:`~dz_gis.outputs.tables`, :mod:`~dz_gis.outputs.geopackage` (with its QGIS
styles, :mod:`~dz_gis.outputs.qgis_styles`) and :mod:`~dz_gis.outputs.webmap`; the colours all of
them draw with are in :mod:`~dz_gis.outputs.palette`; the printable folio is
:mod:`~dz_gis.outputs.folio`.
"""

from .bundle import check_writable as check_writable
from .bundle import write_outputs as write_outputs
from .folio import write_folio as write_folio
from .geopackage import write_geopackage as write_geopackage
from .tables import write_csv as write_csv
from .webmap import coverage_map as coverage_map
from .webmap import save_map as save_map

__all__ = [
    "check_writable",
    "coverage_map",
    "save_map",
    "write_csv",
    "write_folio",
    "write_geopackage",
    "write_outputs",
]
