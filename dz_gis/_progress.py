"""Progress bars for the slow steps (tqdm on stderr): on for the ``dz-gis`` command line, off in code.

Long loops (isochrones per batch of facilities, folio pages, siting presets)
go through :func:`track` or :func:`bar`; every step of ``dz-gis`` (reading an OSM file, say) through
:func:`ticking`, which shows the seconds passing. Both do nothing unless
:data:`dz_gis.settings.progress` is ``True`` (always) or ``"auto"`` (when stderr is a terminal,
as ``dz-gis`` sets it); set it in a notebook to see bars there too. tqdm is the field's
progress bar (pyrosm and spopt already depend on it).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

from . import settings

__all__ = ["bar", "ticking", "track"]

T = TypeVar("T")

#: Bars appear only for loops that last longer than this (seconds).
DELAY_S = 2.0


def _kwargs(desc: str, file: IO[str] | None) -> dict[str, Any]:
    return {
        "desc": desc,
        "file": file or sys.stderr,
        "delay": DELAY_S,
        "leave": False,
        "dynamic_ncols": True,
        "mininterval": 0.5,
        "disable": None if settings.progress == "auto" else False,  # None: only on a terminal
    }


def track(items: Iterable[T], desc: str, *, total: int | None = None, file: IO[str] | None = None) -> Iterator[T]:
    """``items``, with a progress bar while they are consumed (when progress is on)."""
    if not settings.progress:
        yield from items
        return
    from tqdm import tqdm

    with tqdm(items, total=total, unit="", **_kwargs(desc, file)) as progress:
        yield from progress


@contextmanager
def bar(total: int, desc: str, *, unit: str = "", file: IO[str] | None = None) -> Iterator[Any]:
    """A bar to ``update(n)`` by hand (a loop that does not iterate over its items one by one)."""
    if not settings.progress:
        yield _Silent()
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, **_kwargs(desc, file)) as progress:
        yield progress
        # the last count is drawn once before the bar is cleared, however fast the loop ended
        # (tqdm redraws at most every mininterval; a loop done within it would never show "n/n")
        if progress.n and not progress.disable and progress.format_dict["elapsed"] >= DELAY_S:
            progress.refresh()


@contextmanager
def ticking(desc: str, *, file: IO[str] | None = None) -> Iterator[None]:
    """Seconds counted on a bar while the block runs (for a step with nothing to count)."""
    if not settings.progress:
        yield
        return
    from tqdm import tqdm

    stop = threading.Event()
    with tqdm(total=None, bar_format="{desc}: {elapsed}", **_kwargs(desc, file)) as progress:

        def tick() -> None:
            while not stop.wait(0.5):
                progress.refresh()

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


class _Silent:
    """What :func:`bar` hands out when progress is off."""

    def update(self, n: int = 1) -> None:
        """Nothing to show."""
