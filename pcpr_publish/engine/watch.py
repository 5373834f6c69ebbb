"""``pcpr publish --watch``: keep publishing while the export or the status overlay changes.

Each cycle re-reads only what changed (see :mod:`pcpr_publish.engine.publisher`) and logs one line.
SIGTERM and SIGINT stop the loop *between* cycles: a cycle in flight finishes its uploads (and
its manifest) first, so the target is never left half-published. A failed cycle (unreadable
input mid-write, the target down, a guard) is logged and retried at the next tick (whether or not an input changed again).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from pcpr_publish.engine.progress import RunLog
from pcpr_publish.engine.publisher import CycleResult, Publisher
from pcpr_publish.engine.summary import summary_fields
from pcpr_publish.errors import PcprError, StrictModeError


def watch(
    publisher: Publisher,
    *,
    interval: float,
    log: RunLog,
    stop: threading.Event | None = None,
    max_cycles: int | None = None,
    install_signals: bool = True,
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

    def log_cycle(_publisher: Publisher, result: CycleResult) -> None:
        log.line("published", ok=True, **summary_fields(result))

    publisher.after_cycle.append(log_cycle)
    try:
        while not stop.is_set():
            try:
                result = publisher.cycle()
            except StrictModeError as exc:
                log.line(f"cycle refused: {exc}", ok=False, exit_code=exc.exit_code)
                code = exc.exit_code
                result = None
            except PcprError as exc:
                log.line(f"cycle failed: {exc}", ok=False, exit_code=exc.exit_code)
                result = None
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
