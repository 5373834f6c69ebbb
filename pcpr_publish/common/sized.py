"""Bytes that occupy only their length in memory.

orjson (3.x) returns its output in the buffer it wrote into, which starts at several kilobytes
and is never shrunk: a 2 KB Location kept from ``orjson.dumps`` holds 4 to 16 KB of memory.
pcpr keeps one such object per published Location (and per Location of the previous feed)
between cycles, so at national scale that slack alone took more memory than the data. Anything
kept beyond the moment it is made goes through :func:`right_sized` first.
"""

from __future__ import annotations

#: Larger buffers are allocated with mmap: the unused tail is never touched, so it costs no
#: memory and copying would only cost time.
_COPY_BELOW = 256 * 1024


def right_sized(data: bytes) -> bytes:
    """``data`` in an allocation of its own size (a copy when it is small enough to have been
    over-allocated on the heap)."""
    if len(data) < _COPY_BELOW:
        return bytes(memoryview(data))
    return data
