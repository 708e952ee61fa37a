"""Province scale: coverage runs partitioned by county, district or street on Dask.

:func:`run_partitioned` runs one task per partition on a Dask cluster (a local one by default),
each building its own walking network from the OSM file(s) on its worker, and merges the results
into one :class:`~dz_gis.pipeline.CoverageRun` and :class:`~dz_gis.pipeline.PlanCheck` with the
numbers a single run gives. Dask is an optional extra: ``pip install 'dz_gis[scale]'``.
"""

from __future__ import annotations

from .run import INSTALL_HINT, PartitionedRun, run_partitioned

__all__ = ["INSTALL_HINT", "PartitionedRun", "run_partitioned"]
