"""`make bench`: regulation 7 reliability over a year of status history.

2,000 rapid EVSEs (half open all the time, half weekdays 08:00-20:00 in Europe/London), about
ten status changes a day each for a year (some out of order, some unknown), loaded into the
state database, then ``pcpr_publish.engine.reliability.compute`` for the calendar year: wall
time and peak memory, on SQLite and on PostgreSQL (a server started here, as the tests do).
A benchmark, not a test: nothing is asserted. Run: ``python bench/reliability.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pcpr_publish.reliability.compute import local_midnight, rfc3339  # noqa: E402
from pcpr_publish.state import open_state  # noqa: E402

TARGET = "s3://bench/od"
WEEKDAYS = {"twentyfourseven": False, "regular_hours": [
    {"weekday": d, "period_begin": "08:00", "period_end": "20:00"} for d in range(1, 6)]}
STATUSES = ["AVAILABLE"] * 6 + ["CHARGING"] * 5 + ["OUTOFORDER", "UNKNOWN", "INOPERATIVE"]


def history(evses: int, per_day: int, seed: int = 7) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    start = local_midnight(date(2026, 1, 1))
    end = local_midnight(date(2027, 1, 1))
    facts, rows = [], []
    for n in range(evses):
        uid = f"GB*BEN*E{n:05d}"
        hours = None if n % 2 == 0 else json.dumps(WEEKDAYS, sort_keys=True)
        facts.append((TARGET, uid, f"LOC-{n // 2:05d}", 150_000, "Europe/London", hours,
                      "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))
        t = start
        status = "AVAILABLE"
        while t < end:
            step = rng.expovariate(per_day / 86400)
            nxt = min(end, t + max(60.0, step))
            rows.append((TARGET, uid, f"LOC-{n // 2:05d}", status, rfc3339(t),
                         rfc3339(nxt) if nxt < end else None, "bench", rfc3339(t)))
            t = nxt
            choices = [s for s in STATUSES if s != status]
            status = rng.choice(choices)
    return facts, rows


def load(url: str, facts: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]) -> float:
    t = time.monotonic()
    with open_state(url) as st:
        db = st.db
        if db.dialect == "postgresql":
            conn = db._conn  # bulk load with COPY: the benchmark measures the computation
            with conn.cursor() as cur:
                with cur.copy("COPY pcpr_status_intervals (target, uid, location_id, status, from_ts, "
                              "to_ts, source, published_at) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
        else:
            with db.transaction():
                db.executemany("INSERT INTO pcpr_status_intervals (target, uid, location_id, status, "
                               "from_ts, to_ts, source, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        with db.transaction():
            db.executemany("INSERT INTO pcpr_evses (target, uid, location_id, max_power_w, time_zone, "
                           "opening_times, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", facts)
    return time.monotonic() - t


MEASURE = r"""
import json, resource, sys, time
from datetime import date
from pcpr_publish.engine.reliability import compute
from pcpr_publish.reliability.compute import local_midnight
from pcpr_publish.state import open_state
start, end = local_midnight(date(2026, 1, 1)), local_midnight(date(2027, 1, 1))
with open_state(sys.argv[1]) as st:
    t = time.monotonic()
    doc = compute(st, sys.argv[2], start, end, end)
    seconds = time.monotonic() - t
print(json.dumps({"seconds": round(seconds, 2), "network_pct": doc["network"]["reliability_pct"],
                  "rapid_evses": doc["network"]["rapid_evses"],
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def measure(url: str) -> dict[str, Any]:
    """The computation in a process of its own (as a publish runs it): time and peak memory."""
    out = subprocess.run([sys.executable, "-c", MEASURE, url, TARGET], check=True,
                         capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--evses", type=int, default=2000)
    ap.add_argument("--per-day", type=float, default=10.0)
    ap.add_argument("--engines", default="sqlite,postgresql")
    args = ap.parse_args()
    facts, rows = history(args.evses, args.per_day)
    print(f"{args.evses} rapid EVSEs, {len(rows):,} status intervals over 2026")
    results: dict[str, Any] = {"evses": args.evses, "intervals": len(rows)}
    with tempfile.TemporaryDirectory(prefix="pcpr-bench-rel-") as tmp:
        for engine in args.engines.split(","):
            if engine == "sqlite":
                url = f"sqlite:///{tmp}/state.sqlite"
                server = None
            else:
                from pg_fixtures import start_server

                server = start_server()
                url = server.url()
            try:
                loaded = load(url, facts, rows)
                m = measure(url)
                m.update(load_s=round(loaded, 1))
                results[engine] = m
                print(f"{engine:>10}: computed the year in {m['seconds']} s "
                      f"(network {m['network_pct']}%, load {m['load_s']} s, peak RSS {m['peak_rss_mib']} MiB)")
            finally:
                if server is not None:
                    server.stop()
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "reliability.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
