"""A watch process gives back what a cycle freed (issue 12, item 4: memory at national scale)."""

from __future__ import annotations

import sys

import pytest

from pcpr_publish.common.memtrim import release_free_memory


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_memory_freed_in_the_middle_of_the_heap_goes_back_to_the_system() -> None:
    # Page-sized blocks with a survivor every 64th, as a cycle leaves its cached pages behind
    # the bytes it rendered and dropped: the heap cannot shrink from its top.
    blocks = [bytes(4000) + bytes([i % 256]) for i in range(60_000)]
    keep = blocks[::64]
    del blocks
    before = _rss_mib()
    assert release_free_memory()
    after = _rss_mib()
    assert len(keep) == 938
    assert before - after > 100, (before, after)
