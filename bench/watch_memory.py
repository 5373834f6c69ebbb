"""Memory and cycle time of a long-running publisher (`pcpr publish --watch`) with the state
database: peak and resident memory after the first cycle and after cycles of 100 status changes.

Each size runs in a child process of its own (the figures are the publisher's, not this
script's): a `Publisher` as `--watch` makes it (keep_state, live), a local-folder target, a
SQLite state beside it, a status overlay rewritten with 100 changes per cycle. `--code DIR`
runs another checkout of pcpr (to compare commits). A benchmark, not a test: nothing asserts.

    python bench/watch_memory.py --sizes 20000 50000 [--code /tmp/other-checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r'''
import gc, json, os, random, sys, time
import orjson
from pcpr_publish import Publisher, RunOptions
from pcpr_publish.config import Config

export, work, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def status(field):
    text = open("/proc/self/status").read()
    return int(text.split(field + ":")[1].split()[0]) // 1024
uids = orjson.loads(open(os.path.join(work, "uids.json"), "rb").read())
overlay = os.path.join(work, "statuses.json")
open(overlay, "w").write("{}")
cfg = Config()
cfg.state.url = f"sqlite:///{work}/state.sqlite"
cfg.build.report = os.path.join(work, "report.json")
cfg.publish.max_export_age = 0
out = {"start_rss_mib": status("VmRSS")}
p = Publisher([export], os.path.join(work, "site"), cfg,
              RunOptions(statuses=overlay, keep_state=True, live=True))
t = time.monotonic(); r = p.cycle()
out["first_cycle_s"] = round(time.monotonic() - t, 2)
out["first_state"] = r.state
r = None; gc.collect()
out["after_first_rss_mib"] = status("VmRSS"); out["after_first_hwm_mib"] = status("VmHWM")
random.seed(1)
cycles = []
for n in range(rounds):
    entries = json.load(open(overlay))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for uid in random.sample(uids, 100):
        entries[uid] = {"status": ["CHARGING", "OUTOFORDER", "AVAILABLE"][n % 3], "at": stamp}
    json.dump(entries, open(overlay + ".tmp", "w")); os.replace(overlay + ".tmp", overlay)
    t = time.monotonic(); r = p.cycle(); seconds = time.monotonic() - t
    cycles.append({"seconds": round(seconds, 2), "uploaded": r.deployed.uploaded,
                   "timings": {k: round(v, 2) for k, v in r.timings.items()},
                   "rss_mib": status("VmRSS")})
    r = None
out["cycles"] = cycles
out["peak_rss_mib"] = status("VmHWM")
print(json.dumps(out))
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[5000, 20000, 50000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--code", default=str(ROOT), help="the pcpr checkout to run (default: this one)")
    ap.add_argument("--out", default=str(ROOT / "bench-results" / "watch-memory.json"))
    args = ap.parse_args()
    results = []
    env = {**os.environ, "PYTHONPATH": args.code, "PCPR_STATE_URL": ""}
    for sites in args.sizes:
        with tempfile.TemporaryDirectory(prefix="pcpr-watch-mem-") as tmp:
            export = Path(tmp) / "export.json"
            subprocess.run([sys.executable, "-m", "pcpr_publish", "sample", "--sites", str(sites),
                            "--seed", "1", "--exported-at", "now", "--out", str(export)],
                           check=True, env=env, cwd=tmp, stdout=subprocess.DEVNULL)
            work = Path(tmp) / "work"
            work.mkdir()
            # the EVSE uids to change, read here so that the child's memory is the publisher's
            doc = json.loads(export.read_bytes())
            uids = [e["uid"] for s in doc["sites"] for e in s.get("evses", [])]
            del doc
            (work / "uids.json").write_text(json.dumps(uids))
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-c", CHILD, str(export), str(work), str(args.rounds)],
                                  env=env, cwd=tmp, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            row = {"sites": sites, "code": args.code, **json.loads(proc.stdout.strip().splitlines()[-1]),
                   "wall_s": round(time.monotonic() - started, 1)}
            results.append(row)
            print(json.dumps(row), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
