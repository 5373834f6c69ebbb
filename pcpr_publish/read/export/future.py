"""Timestamps from the future (docs/export-format.md, "Timestamps in the future").

A back office whose clock runs ahead, or a placeholder such as ``9999-12-31``, must not give a
published object a ``last_updated`` in the future (OCPI consumers then never see a later change
as newer), nor make a stale export look fresh to the export-age guard. A timestamp more than
:data:`CLOCK_SKEW_SECONDS` ahead of the clock of the machine running pcpr is replaced by that
clock's time ("clamped"), with a ``timestamp_in_future`` notice.

The clock is read once per run into a :class:`WallClock`. It is only *compared* with the input's
timestamps: nothing published depends on it unless a timestamp was clamped, so an export without
future timestamps still builds byte-identical files whenever it is built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from pcpr_publish.common.dates import format_datetime

#: How far ahead of this machine's clock a timestamp may be and still be taken as given: room
#: for the back office's and this machine's clocks to disagree a little.
CLOCK_SKEW_SECONDS = 300


def _text(epoch: int) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, timezone.utc))


@dataclass(frozen=True)
class WallClock:
    """This machine's clock, read once: ``now`` (UTC, whole seconds, OCPI DateTime text) and
    ``limit``, the latest timestamp taken as given (``now`` plus the allowed skew)."""

    now: str
    limit: str

    @classmethod
    def read(cls, clock: Callable[[], float] = time.time) -> WallClock:
        epoch = int(clock())
        return cls(_text(epoch), _text(epoch + CLOCK_SKEW_SECONDS))

    def in_future(self, timestamp: str) -> bool:
        """Whether a normalised timestamp (``YYYY-MM-DDTHH:MM:SSZ``) is beyond the limit."""
        return timestamp > self.limit


def file_time(epoch: float, clock: WallClock) -> str:
    """A file's modification time as a timestamp, never later than ``clock.now``."""
    return min(_text(int(epoch)), clock.now)
