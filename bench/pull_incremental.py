"""Incremental OCPI pulls: from a status change on the CPO's server to the published files.

Self-contained: it makes a national-scale sample (``pcpr sample --sites 6000``), builds it once
(``pcpr build``: the published ``locations.json`` / ``tariffs.json`` are valid OCPI 2.2.1) and
serves those Locations and Tariffs from its own OCPI server on 127.0.0.1 (versions → version
details → modules, ``limit`` 500 per page with ``Link`` headers, ``date_from`` honoured, the
envelope ``timestamp`` the server's time). Then it runs

    pcpr publish --from-ocpi http://127.0.0.1:PORT/ocpi/versions --token T --to OUT --watch

as a separate process, waits for the first publish, and makes status changes on the server one
at a time, each at a random moment of the pull cycle: the time from the change to the new status
being in ``OUT/locations/<id>.json`` is the latency measured. Optionally (``--deletion``) a
Location is deleted and the time until its file is gone is measured (that needs a full pull:
``--full-pull-every``).

A benchmark, not a test: nothing here asserts a time. Run:

    python bench/pull_incremental.py                       # 6,000 sites, 10 changes
    python bench/pull_incremental.py --pull-interval 5 --changes 20 --deletion --full-pull-every 60
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

ROOT = Path(__file__).resolve().parents[1]
PCPR = [sys.executable, "-m", "pcpr_publish"]
TOKEN = "bench-token"
AUTH = "Token " + base64.b64encode(TOKEN.encode()).decode()


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cpo:
    """The server's Locations and Tariffs (changed by the benchmark while it serves them)."""

    def __init__(self, locations: list[dict[str, Any]], tariffs: list[dict[str, Any]],
                 page: int) -> None:
        self.lock = threading.Lock()
        self.locations = {loc["id"]: loc for loc in locations}
        self.tariffs = {t["id"]: t for t in tariffs}
        self.page = page
        self.base = ""
        self.requests: list[dict[str, Any]] = []

    def set_status(self, lid: str, status: str) -> None:
        with self.lock:
            loc = orjson.loads(orjson.dumps(self.locations[lid]))
            now = stamp()
            loc["evses"][0]["status"] = status
            loc["evses"][0]["last_updated"] = now
            loc["last_updated"] = now
            self.locations[lid] = loc

    def delete(self, lid: str) -> None:
        with self.lock:
            del self.locations[lid]


def handler(cpo: Cpo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers

        def log_message(self, *args: Any) -> None:
            pass

        def send(self, body: bytes, headers: dict[str, str] | None = None,
                 status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def envelope(self, data: Any) -> bytes:
            return orjson.dumps({"data": data, "status_code": 1000, "status_message": "Success",
                                 "timestamp": stamp()})

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            t0 = time.monotonic()
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if self.headers.get("Authorization") != AUTH:
                self.send(orjson.dumps({"status_code": 2002, "status_message": "Unauthorized"}),
                          status=401)
                return
            base, path = cpo.base, parts.path
            sent = 0
            if path == "/ocpi/versions":
                self.send(self.envelope([{"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"}]))
            elif path == "/ocpi/2.2.1":
                self.send(self.envelope({"version": "2.2.1", "endpoints": [
                    {"identifier": "locations", "role": "SENDER", "url": f"{base}{path}/locations"},
                    {"identifier": "tariffs", "role": "SENDER", "url": f"{base}{path}/tariffs"}]}))
            elif path in ("/ocpi/2.2.1/locations", "/ocpi/2.2.1/tariffs"):
                with cpo.lock:
                    items = list((cpo.locations if path.endswith("locations")
                                  else cpo.tariffs).values())
                since = query.get("date_from")
                if since is not None:
                    items = [i for i in items if i.get("last_updated", "") >= since]
                offset = int(query.get("offset", 0))
                limit = min(int(query.get("limit", cpo.page)), cpo.page)
                headers = {"X-Total-Count": str(len(items)), "X-Limit": str(cpo.page)}
                if offset + limit < len(items):
                    rest = {**query, "offset": str(offset + limit), "limit": str(limit)}
                    headers["Link"] = f'<{base}{path}?{urlencode(rest)}>; rel="next"'
                chunk = items[offset:offset + limit]
                body = self.envelope(chunk)
                sent = len(chunk)
                self.send(body, headers)
            else:
                self.send(orjson.dumps({"error": "Not Found"}), status=404)
                return
            with cpo.lock:
                cpo.requests.append({"path": path, "query": query, "objects": sent,
                                     "seconds": time.monotonic() - t0, "at": time.monotonic()})

    return Handler


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=6000)
    ap.add_argument("--page", type=int, default=500, help="the server's page size (X-Limit)")
    ap.add_argument("--changes", type=int, default=10)
    ap.add_argument("--interval", type=float, default=1.0, help="pcpr publish --interval")
    ap.add_argument("--pull-interval", type=float, default=None,
                    help="[ocpi] pull_interval (default: pcpr's, 5 s)")
    ap.add_argument("--full-pull-every", type=float, default=None,
                    help="[ocpi] full_pull_every (default: pcpr's, 3600 s)")
    ap.add_argument("--deletion", action="store_true",
                    help="also delete a Location and time its removal (needs a full pull)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write the figures here too")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="pcpr-pull-bench-"))
    env = {**os.environ, "PCPR_CONFIG": "", "PYTHONPATH": str(ROOT)}
    for key, value in (("PCPR_OCPI_PULL_INTERVAL", args.pull_interval),
                       ("PCPR_OCPI_FULL_PULL_EVERY", args.full_pull_every)):
        if value is not None:
            env[key] = str(value)

    print(f"work folder: {work}")
    run([*PCPR, "sample", "--sites", str(args.sites), "--seed", str(args.seed),
         "--exported-at", "now", "--out", str(work / "export.json")], env=env)
    run([*PCPR, "build", str(work / "export.json"), "--out", str(work / "source")], env=env)
    locations = orjson.loads((work / "source" / "locations.json").read_bytes())["data"]
    tariffs = orjson.loads((work / "source" / "tariffs.json").read_bytes())["data"]
    cpo = Cpo(locations, tariffs, args.page)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler(cpo))
    httpd.daemon_threads = True
    cpo.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"serving {len(locations)} Locations and {len(tariffs)} Tariffs at {cpo.base}, "
          f"{args.page} per page")

    out = work / "site"
    log: list[dict[str, Any]] = []
    proc = subprocess.Popen(
        [*PCPR, "publish", "--from-ocpi", f"{cpo.base}/ocpi/versions", "--token", TOKEN,
         "--to", str(out), "--report", str(work / "report.json"), "--watch",
         "--interval", str(args.interval), "--log-format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def read_log() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                log.append({**json.loads(line), "_at": time.monotonic()})
            except ValueError:
                log.append({"text": line.rstrip(), "_at": time.monotonic()})

    threading.Thread(target=read_log, daemon=True).start()
    results: dict[str, Any] = {"sites": args.sites, "locations": len(locations),
                               "tariffs": len(tariffs), "page": args.page,
                               "interval": args.interval, "pull_interval": args.pull_interval,
                               "full_pull_every": args.full_pull_every}
    try:
        t0 = time.monotonic()
        while not any(e.get("message") == "published" for e in log):
            if proc.poll() is not None or time.monotonic() - t0 > 600:
                print("\n".join(str(e) for e in log[-20:]))
                raise SystemExit("pcpr publish --watch did not publish")
            time.sleep(0.05)
        results["first_publish_s"] = round(time.monotonic() - t0, 2)
        full_pages = sum(1 for r in cpo.requests if "date_from" not in r["query"]
                         and r["path"].endswith(("locations", "tariffs")))
        print(f"first publish (full pull of {full_pages} pages + build + write): "
              f"{results['first_publish_s']} s")

        ids = [loc["id"] for loc in locations if loc.get("evses")]
        latencies: list[float] = []
        cycles: list[float] = []
        interval = args.pull_interval or 5.0
        for n in range(args.changes):
            time.sleep(rng.uniform(0, interval))  # a random moment of the pull cycle
            lid = rng.choice(ids)
            path = out / "locations" / f"{lid}.json"
            current = orjson.loads(path.read_bytes())["data"]["evses"][0]["status"]
            new = "CHARGING" if current != "CHARGING" else "AVAILABLE"
            seen = len(log)
            cpo.set_status(lid, new)
            changed = time.monotonic()
            while True:
                try:
                    if orjson.loads(path.read_bytes())["data"]["evses"][0]["status"] == new:
                        break
                except (OSError, ValueError):
                    pass  # being replaced
                if time.monotonic() - changed > 120:
                    raise SystemExit(f"change {n + 1} not published after 120 s")
                time.sleep(0.02)
            latency = time.monotonic() - changed
            latencies.append(latency)
            waited = time.monotonic()
            cycle: list[dict[str, Any]] = []
            while not cycle and time.monotonic() - waited < 30:  # the cycle's log line
                cycle = [e for e in log[seen:] if e.get("reason") == "OCPI changes"]
                time.sleep(0.05)
            if cycle:
                cycles.append(float(cycle[0].get("seconds", 0)))
            print(f"change {n + 1}: {lid} {current} -> {new} published after {latency:.2f} s"
                  + (f" (cycle {cycles[-1]:.2f} s)" if cycle else ""))
        results["latency_s"] = {
            "n": len(latencies), "min": round(min(latencies), 2),
            "median": round(statistics.median(latencies), 2),
            "max": round(max(latencies), 2),
            "all": [round(x, 2) for x in latencies]}
        results["cycle_s"] = {"median": round(statistics.median(cycles), 2) if cycles else None,
                              "max": round(max(cycles), 2) if cycles else None}
        incremental = [r for r in cpo.requests if "date_from" in r["query"]]
        results["incremental_requests"] = len(incremental)
        results["incremental_request_ms_median"] = round(
            statistics.median(r["seconds"] for r in incremental) * 1000, 1) if incremental else None

        if args.deletion:
            lid = rng.choice(ids)
            path = out / "locations" / f"{lid}.json"
            cpo.delete(lid)
            deleted = time.monotonic()
            while path.exists():
                if time.monotonic() - deleted > (args.full_pull_every or 3600) + 120:
                    raise SystemExit("deletion not published")
                time.sleep(0.05)
            results["deletion_s"] = round(time.monotonic() - deleted, 2)
            waited = time.monotonic()
            full: list[dict[str, Any]] = []
            while not full and time.monotonic() - waited < 30:  # the cycle's log line
                full = [e for e in log if e.get("reason") == "OCPI full pull"]
                time.sleep(0.05)
            results["full_pull_cycle_s"] = float(full[0]["seconds"]) if full else None
            print(f"deleted {lid}: file gone after {results['deletion_s']} s (the full pull "
                  f"came {args.full_pull_every or 3600:g} s after the previous one; its cycle "
                  f"{results['full_pull_cycle_s']} s)")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        httpd.shutdown()
        httpd.server_close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    lat = results.get("latency_s")
    if lat:
        print(f"latency over {lat['n']} changes: min {lat['min']} s, median {lat['median']} s, "
              f"max {lat['max']} s; cycle (convert, rebuild, write) median "
              f"{results['cycle_s']['median']} s, max {results['cycle_s']['max']} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
