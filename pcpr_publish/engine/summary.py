"""The one summary of a run or watch cycle: the fields every log line and the CLI print."""

from __future__ import annotations

from typing import Any

from pcpr_publish.engine.publisher import CycleResult

#: How many removed files the summary line names (the report's plan has them all).
REMOVED_SHOWN = 10


def summary_fields(result: CycleResult, target: str | None = None) -> dict[str, Any]:
    """What a run did, as flat fields (text log ``k=v``, JSON log, the CLI's line)."""
    ds = result.dataset
    counts = result.severity or ds.report.severity_counts()
    d = result.deployed
    fields: dict[str, Any] = {}
    if target is not None:
        fields["target"] = target
    fields.update(
        reason=result.reason,
        locations=ds.counts.get("locations_published", 0),
        evses=ds.counts.get("evses_published", 0),
        tariffs=ds.counts.get("tariffs_published", 0),
        sites_rebuilt=result.sites_rebuilt,
        errors=counts["ERROR"], warnings=counts["WARNING"], info=counts["INFO"],
        uploaded=d.uploaded if d else 0,
        unchanged=d.unchanged if d else len(result.plan.unchanged),
        deleted=d.deleted if d else 0,
        bytes=d.bytes_uploaded if d else 0,
        seconds=round(sum(result.timings.values()), 3),
        report=result.report_path,
    )
    if result.state is not None:
        fields["state"] = result.state
    return fields


def summary_text(result: CycleResult, target: str) -> str:
    """The human sentence: what was published where, what the upload did, where the report is."""
    f = summary_fields(result, target)
    line = (f"published {f['locations']} locations, {f['evses']} EVSEs, {f['tariffs']} tariffs "
            f"to {target}")
    if result.deployed is not None:
        line += f" ({result.deployed.summary()})"
        removed = [step.key for step in result.plan.deletes]
        if removed:
            shown = ", ".join(removed[:REMOVED_SHOWN])
            more = f" and {len(removed) - REMOVED_SHOWN} more" if len(removed) > REMOVED_SHOWN else ""
            line += f"; removed {shown}{more}"
    if result.state is not None:
        sites = result.dataset.counts.get("sites_in", 0)
        line += f"; state: {result.state}, {result.sites_rebuilt} of {sites} sites rebuilt"
    line += (f"; report: {f['report']} ({f['errors']} errors, {f['warnings']} warnings, "
             f"{f['info']} info)")
    return line
