"""Table outputs: CSV that Excel opens with Chinese text intact, written atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._atomic import atomic_path

__all__ = ["write_csv"]


def write_csv(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a CSV with a UTF-8 BOM, so Excel shows Chinese text correctly."""
    path = Path(path)
    with atomic_path(path) as tmp:
        # a plain 0..n index means nothing to a planner in Excel; a named one (e.g. category) does
        table.to_csv(tmp, encoding="utf-8-sig", index=not isinstance(table.index, pd.RangeIndex))
    return path
