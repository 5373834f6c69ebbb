"""``pcpr publish --watch``: keep publishing while the export or the status overlay changes.

Each cycle re-reads only what changed (see :mod:`pcpr_publish.engine.publisher`) and logs one line.
SIGTERM and SIGINT stop the loop *between* cycles: a cycle in flight finishes its uploads (and
its manifest) first, so the target is never left half-published. A failed cycle (unreadable
input mid-write, the target down, a guard) is logged and retried at the next tick (whether or
not an input changed again). So is a cycle that ends in an unexpected exception (a bug in pcpr,
exit code 70 for a single run): it is logged as an internal error and never stops the loop, so
no input can stop a watch process.

A failure that repeats is not logged at every tick: the first is logged at once, the same
failure again at most once per 1, 2, 4, … and then 60 seconds (:class:`FailureLog`), each line
saying how many failed cycles it stands for, and the first good cycle after failures logs
``recovered after N failed cycles``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

from pcpr_publish.engine.progress import RunLog
from pcpr_publish.engine.publisher import CycleResult, Publisher
from pcpr_publish.engine.summary import summary_fields
from pcpr_publish.errors import PcprError, StrictModeError

#: Exit code of an internal error (a bug in pcpr), as a single run reports it.
INTERNAL_ERROR = 70
#: Longest wait between two log lines about the same repeating failure, in seconds.
MAX_BACKOFF = 60.0


class FailureLog:
    """Logs failed cycles without flooding the log when the same failure repeats every tick.

    The first failure is logged at once. The same failure again (same message) is logged once
    its backoff has passed: 1 s after the first line, then 2, 4, 8 … up to :data:`MAX_BACKOFF`
    seconds between lines; each such line counts the failed cycles since the previous one. A
    different failure is logged at once and starts a new backoff. :meth:`succeeded` logs
    ``recovered after N failed cycles`` when there were failures.
    """

    def __init__(self, log: RunLog, clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self.clock = clock
        self.failures = 0  # failed cycles since the last good one
        self._key: str | None = None
        self._unlogged = 0  # failed cycles since the last line
        self._next_at = 0.0
        self._backoff = 1.0

    def failed(self, message: str, **fields: Any) -> None:
        self.failures += 1
        now = self.clock()
        if message != self._key:
            self._key, self._backoff = message, 1.0
        elif now < self._next_at:
            self._unlogged += 1
            return
        else:
            fields["repeated"] = self._unlogged + 1
        self.log.line(message, ok=False, **fields)
        self._unlogged = 0
        self._next_at = now + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    def succeeded(self) -> None:
        if self.failures:
            s = "" if self.failures == 1 else "s"
            self.log.line(f"recovered after {self.failures} failed cycle{s}", ok=True,
                          failures=self.failures)
        self.failures, self._key, self._unlogged = 0, None, 0


def watch(
    publisher: Publisher,
    *,
    interval: float,
    log: RunLog,
    stop: threading.Event | None = None,
    max_cycles: int | None = None,
    install_signals: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run cycles until stopped. Returns the exit code (0, or 1 for --strict refusals)."""
    stop = stop or threading.Event()
    previous: dict[int, object] = {}
    if install_signals and threading.current_thread() is threading.main_thread():
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.line("stopping after the current cycle", signal=signal.Signals(signum).name)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handler)
    cycles = 0
    code = 0
    failures = FailureLog(log, clock)

    def log_cycle(_publisher: Publisher, result: CycleResult) -> None:
        log.line("published", ok=True, **summary_fields(result))

    publisher.after_cycle.append(log_cycle)
    try:
        while not stop.is_set():
            failed = True
            try:
                result = publisher.cycle()
                failed = False
            except StrictModeError as exc:
                failures.failed(f"cycle refused: {exc}", exit_code=exc.exit_code)
                code = exc.exit_code
                result = None
            except PcprError as exc:
                failures.failed(f"cycle failed: {exc}", exit_code=exc.exit_code)
                result = None
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the daemon
                if os.environ.get("PCPR_DEBUG"):
                    traceback.print_exc(file=sys.stderr)
                failures.failed(f"internal error in the cycle: {type(exc).__name__}: {exc} "
                                "(set PCPR_DEBUG=1 for a traceback); retrying",
                                exit_code=INTERNAL_ERROR)
                result = None
            if not failed:
                failures.succeeded()
            if result is not None:
                cycles += 1
                if max_cycles is not None and cycles >= max_cycles:
                    break
            stop.wait(interval)  # checking for a change is two stat() calls: cheap
    finally:
        publisher.after_cycle.remove(log_cycle)
        for sig, old in previous.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
    log.line("stopped", cycles=cycles)
    return code
