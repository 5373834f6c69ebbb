"""The validation report as files and text: ``report.json`` for machines, a table for people.

Deterministic (sorted, no wall-clock time) so that two runs over the same export can be diffed.
Never written into the published target: it names private sites.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from pcpr_publish import __version__
from pcpr_publish.notices import Report, Severity

if TYPE_CHECKING:
    from pcpr_publish.pipeline.dataset import Dataset
    from pcpr_publish.read.export.reader import LoadedExport

REPORT_FORMAT = "pcpr-report/1"


def report_document(
    report: Report, *, loaded: LoadedExport | None, dataset: Dataset | None, published: bool
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "tool": "pcpr",
        "tool_version": __version__,
        "published": published,
        "notice_counts": report.severity_counts(),
    }
    if loaded is not None:
        summary["input"] = {"path": loaded.path, "sha256": loaded.sha256, "bytes": loaded.size}
    if dataset is not None:
        summary["exported_at"] = dataset.exported_at
        summary["counts"] = dict(sorted(dataset.counts.items()))
    return {"format": REPORT_FORMAT, "summary": summary, "notices": report.grouped()}


def write_report(path: str | Path, document: dict[str, Any]) -> None:
    """Write the report readable by its owner only (0600): it names private sites and fields."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    os.chmod(p, 0o600)  # an existing report keeps its old mode through O_CREAT


#: Longest problem text a row of the summary table shows; the JSON report has it in full.
MESSAGE_WIDTH = 100


def place(sample: dict[str, Any]) -> str:
    """Where a notice's object is: its input JSON path plus the field, ``$.sites[3].evses[0].uid``."""
    path, field = sample.get("path") or "", sample.get("field") or ""
    if not field:
        return path or "$"
    if not path:
        return field
    return f"{path}{field}" if field.startswith("[") else f"{path}.{field}"


def _row_text(sample: dict[str, Any]) -> str:
    """``<where> (<kind> <id>): <problem>``, the problem without a repeat of the field name."""
    message = sample["message"]
    field = sample.get("field") or ""
    if field and message.startswith(f"{field}: "):
        message = message[len(field) + 2:]
    if len(message) > MESSAGE_WIDTH:
        message = message[:MESSAGE_WIDTH - 3] + "..."
    who = " ".join(part for part in (sample.get("kind"), sample.get("id")) if part)
    return f"{place(sample)} ({who}): {message}" if who else f"{place(sample)}: {message}"


def summary_table(report: Report, counts: dict[str, int] | None, json_path: str | None = None) -> str:
    """A plain-text summary: counts, then one row per notice code with where its first case is
    (input JSON path and field) and what is wrong, then where to find every notice in full
    (``json_path`` when the report is being written, else how to ask for it)."""
    lines = []
    if counts:
        lines.append(
            f"locations {counts.get('locations_published', 0)}/{counts.get('sites_in', 0)} published, "
            f"EVSEs {counts.get('evses_published', 0)}/{counts.get('evses_in', 0)}, "
            f"connectors {counts.get('connectors_published', 0)}/{counts.get('connectors_in', 0)}, "
            f"tariffs {counts.get('tariffs_published', 0)}/{counts.get('tariffs_in', 0)}"
        )
    groups = report.grouped()
    if not groups:
        lines.append("no problems found")
        return "\n".join(lines)
    width = max(len(g["code"]) for g in groups)
    lines.append(f"{'SEVERITY':<8}  {'CODE':<{width}}  {'COUNT':>6}  FIRST CASE")
    for g in groups:
        lines.append(f"{g['severity']:<8}  {g['code']:<{width}}  {g['total']:>6}  "
                     f"{_row_text(g['samples'][0])}")
    c = report.severity_counts()
    lines.append(f"{c[Severity.ERROR]} errors, {c[Severity.WARNING]} warnings, {c[Severity.INFO]} info")
    if json_path:
        lines.append(f"full detail of every notice (each place, value and what to do): {json_path}")
    else:
        lines.append("for the full detail of every notice (each place, value and what to do), "
                     "run again with --json FILE")
    return "\n".join(lines)
