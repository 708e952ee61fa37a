"""Error types raised by dz_gis.

Every error a planner can trigger with bad input is a :class:`DzGisError`, and its
message says *what* is wrong, *where* (file, column, feature) and *how to fix it*.
The command line turns these into a message and an exit code instead of a traceback.
"""

from __future__ import annotations

__all__ = [
    "DzGisError",
    "ValidationError",
    "DataFileError",
    "CRSError",
    "ColumnError",
    "GeometryError",
    "StudyAreaError",
    "CategoryError",
    "RulesError",
    "DownloadError",
    "InfeasibleError",
]


class DzGisError(Exception):
    """Base class of every error dz_gis raises on purpose."""


class ValidationError(DzGisError, ValueError):
    """Input data that cannot be used as it is."""


class DataFileError(ValidationError):
    """A file that is missing, unreadable, empty or in an unsupported format."""


class CRSError(ValidationError):
    """A missing, wrong or mismatched coordinate reference system."""


class ColumnError(ValidationError):
    """A missing, ambiguous or badly typed attribute column."""


class GeometryError(ValidationError):
    """Null, empty, invalid or wrongly typed geometries."""


class StudyAreaError(ValidationError):
    """Features far from the study area (swapped lon/lat, undeclared GCJ-02 offset...)."""


class CategoryError(ValidationError):
    """A facility category that the facility catalog does not know."""


class RulesError(ValidationError):
    """A rules file with a mistake; the message names file, line and rule."""


class DownloadError(DataFileError):
    """OpenStreetMap data that could not be downloaded: no connection, a server error or an empty answer."""


class InfeasibleError(DzGisError, RuntimeError):
    """An optimisation model that has no feasible solution."""
