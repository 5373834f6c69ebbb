"""Human-readable plan lines for ``--dry-run``: each key, its action and why, then totals."""

from __future__ import annotations

from pcpr_publish.deploy.plan import Plan


def plan_lines(plan: Plan) -> list[str]:
    # In write order; a bridged key shows twice ("bridge" first, its final "upload" later).
    lines = [f"{s.action}  {s.key}  ({s.reason}, {s.size} bytes)" for s in plan.uploads]
    lines += [f"delete  {s.key}  ({s.reason})" for s in plan.deletes]
    lines.append(
        f"plan: {len(plan.uploads)} to upload ({plan.upload_bytes} bytes), "
        f"{len(plan.unchanged)} unchanged, {len(plan.deletes)} to delete; dry run, nothing written"
    )
    return lines
