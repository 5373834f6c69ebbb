"""Pausing Python's cyclic garbage collector around bulk work.

Reading, validating and rendering a national export make tens of millions of short-lived objects
and almost no reference cycles; with the collector on, each generation-2 pass rescans the whole
(growing) dataset, which cost a large share of a cold build. Reference counting still frees
everything as usual; the collector is restored (and run once) afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
