"""Pause Python's cyclic garbage collector while building many small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a block with the cyclic garbage collector off, then restore it.

    Shapely returns every geometry as a Python object; creating hundreds of thousands
    of them triggers full collections, and each one walks every object alive - with a
    networkx graph of 200,000 nodes loaded, about a second per collection, which made up
    a third of the isochrone time. Reference counting still frees everything at once;
    only cycles wait until the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
