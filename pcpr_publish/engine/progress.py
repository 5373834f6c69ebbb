"""Progress and run logs: bars for people at a terminal, one line per run for cron and log shippers.

On a terminal (stderr is a TTY) long work shows a redrawn bar; under cron (no terminal) nothing is
drawn and each run or watch cycle writes one summary line, as text or, with ``--log-format
json``, as one JSON object per line.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Any, TextIO

import orjson


class Bar:
    """A terminal progress bar, redrawn at most ten times a second; silent when not a TTY."""

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        frac = done / total if total else 1.0
        filled = int(frac * width)
        self.stream.write(f"\r{self.label:<10} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{total} {frac:4.0%}")
        self._shown = True
        if done >= total:
            self.stream.write("\n")
            self._shown = False
        self.stream.flush()

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


class RunLog:
    """One line per run or cycle: ``text`` (human) or ``json`` (log shippers)."""

    def __init__(self, fmt: str = "text", stream: TextIO | None = None) -> None:
        if fmt not in ("text", "json"):
            raise ValueError(f"unknown log format {fmt!r}")
        self.fmt = fmt
        self.stream = stream or sys.stdout

    def line(self, message: str, **fields: Any) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.fmt == "json":
            doc = {"time": stamp, "message": message, **fields}
            self.stream.write(orjson.dumps(doc, default=str).decode() + "\n")
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            self.stream.write(f"{stamp} {message}{' ' + extra if extra else ''}\n")
        self.stream.flush()
