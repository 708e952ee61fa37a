"""Runtime settings: cache folder and logging (cf. ``osmnx.settings``).

Change them by assignment, e.g. ``dz_gis.settings.cache_folder = Path("my_cache")``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

#: Folder for cached downloads, derived samples and prepared graphs.
cache_folder: Path = Path(os.environ.get("DZ_GIS_CACHE", Path.home() / ".cache" / "dz_gis"))

#: Flat walking speed in metres per minute (GB 50180-2018: 15 min ~ 1,000 m).
walk_m_per_min: float = 67.0

#: Features farther than this from the median centre of their layer are treated as
#: misplaced (swapped lon/lat, undeclared offsets), unless a study area is given.
max_spread_km: float = 100.0

#: Progress bars on stderr for slow steps: False (off, the default in code), True, or "auto"
#: (only when stderr is a terminal; the ``dz-gis`` command line sets this).
progress: bool | str = False

logger = logging.getLogger("dz_gis")
logger.addHandler(logging.NullHandler())
