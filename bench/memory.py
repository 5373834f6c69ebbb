"""Peak memory of ``pcpr validate`` per MB of export, for a few sizes (``make bench`` runs it).

For each size it writes a sample export (``pcpr sample``: realistic sites, EVSEs, tariffs) and a
copy of it carrying back-office fields the export format does not know, on every site and EVSE
(notes, change histories, telemetry: what real exports drag along), then runs
``python -m pcpr_publish validate`` on each in a fresh process and records that process's peak
resident set size (``os.wait4``) and wall time. Unknown fields are dropped while the file is
parsed, so the second file should cost about what the first does, not several times its size.

The exports are written by a helper process, so that this process stays small: on Linux a
child's peak RSS (``ru_maxrss``) starts from its parent's at the ``fork``, and a parent holding
a generated export would be measured instead of ``pcpr``.

Prints a table and writes ``bench-results/memory.json``. A benchmark, not a test: nothing here
asserts a figure. Run: ``python bench/memory.py`` or ``python bench/memory.py --sizes 2000 20000``.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PCPR = [sys.executable, "-m", "pcpr_publish"]


def write_exports(sites: int, per_site_kb: int, plain: Path, heavy: Path) -> None:
    """(Helper process.) The sample export, and the same with unknown fields."""
    import orjson

    sys.path.insert(0, str(ROOT))
    from pcpr_publish.sample import generate_sample

    doc = generate_sample(sites, seed=1)
    plain.write_bytes(orjson.dumps(doc))
    heavy.write_bytes(orjson.dumps(with_unknown_fields(doc, per_site_kb)))


def with_unknown_fields(doc: dict[str, Any], per_site_kb: int) -> dict[str, Any]:
    """The export with about ``per_site_kb`` KB of unknown fields on every site (and its EVSEs):
    a long text, a change history of small objects, and per-EVSE telemetry samples."""
    notes = "Landlord contact and access notes. " * (per_site_kb * 8)
    for i, site in enumerate(doc["sites"]):
        site["internal_notes"] = notes
        site["change_history"] = [
            {"at": f"2026-{1 + j % 12:02d}-{1 + j % 28:02d}T10:00:00Z", "by": f"user{j % 50}",
             "field": "status", "from": "Available", "to": "Charging"}
            for j in range(per_site_kb * 4)
        ]
        for evse in site["evses"]:
            evse["telemetry"] = {"samples": [{"t": k, "kw": round(7.2 + k % 5 * 0.1, 1), "ok": True}
                                             for k in range(per_site_kb * 6)],
                                 "firmware": "4.2.1-build.1234", "qr_identifier": f"QR-{i}"}
    return doc


def measure(cmd: list[str]) -> dict[str, Any]:
    """Run a command in a fresh process; its exit code, wall time and own peak RSS."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"exit": proc.returncode, "seconds": round(time.monotonic() - start, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "stderr": err.decode()[-500:]}


def run(sizes: list[int], per_site_kb: int, workdir: Path) -> list[dict[str, Any]]:
    rows = []
    for sites in sizes:
        plain = workdir / f"export-{sites}.json"
        heavy = workdir / f"export-{sites}-unknown.json"
        subprocess.run([sys.executable, __file__, "--write-exports", str(sites), str(per_site_kb),
                        str(plain), str(heavy)], check=True, cwd=ROOT)
        for kind, path in (("plain", plain), ("unknown fields", heavy)):
            size_mb = path.stat().st_size / 2**20
            result = measure([*PCPR, "validate", str(path)])
            if result["exit"] != 0:
                print(f"validate failed ({result['exit']}): {result['stderr']}", file=sys.stderr)
            rows.append({"sites": sites, "export": kind, "export_mb": round(size_mb, 1),
                         "peak_rss_mb": result["peak_rss_mb"],
                         "rss_per_export_mb": round(result["peak_rss_mb"] / size_mb, 2),
                         "seconds": result["seconds"], "exit": result["exit"]})
            print_row(rows[-1])
            path.unlink()
    return rows


def print_row(row: dict[str, Any]) -> None:
    print(f"{row['sites']:>8}  {row['export']:<15} {row['export_mb']:>9.1f}  "
          f"{row['peak_rss_mb']:>9.1f}  {row['rss_per_export_mb']:>9.2f}  {row['seconds']:>8.2f}",
          flush=True)


def main() -> None:
    if sys.argv[1:2] == ["--write-exports"]:
        sites, per_site_kb, plain, heavy = sys.argv[2:6]
        write_exports(int(sites), int(per_site_kb), Path(plain), Path(heavy))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 50000],
                        help="numbers of sites (default: 2000 20000 50000)")
    parser.add_argument("--unknown-kb", type=int, default=4,
                        help="KB of unknown fields added per site in the second file (default 4)")
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "memory.json"),
                        help="where to write the results as JSON")
    args = parser.parse_args()
    print(f"{'sites':>8}  {'export':<15} {'export MB':>9}  {'peak MB':>9}  {'MB per MB':>9}  "
          f"{'seconds':>8}")
    with tempfile.TemporaryDirectory(prefix="pcpr-memory-") as tmp:
        rows = run(args.sizes, args.unknown_kb, Path(tmp))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": "pcpr validate", "python": sys.version.split()[0],
                               "rows": rows}, indent=2) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
