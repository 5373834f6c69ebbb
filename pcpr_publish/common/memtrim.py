"""Give memory a long-running process no longer uses back to the operating system.

A publish cycle allocates a great deal that it frees at the end (a first cycle renders every
page before the state database takes them over). CPython frees small objects into its own
arenas and glibc keeps freed heap memory for later, so a watch process would otherwise go on
holding its first cycle's peak for ever. glibc's ``malloc_trim`` returns the free pages; on
other C libraries this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> bool:
    """Return free heap pages to the system; True when the C library could be asked."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
