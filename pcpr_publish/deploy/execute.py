"""Stage "publish": carry out a :class:`Plan` against a store, in order, safely.

Uploads go tier by tier (leaves before the feeds and pages that refer to them), each tier in a
bounded thread pool. If any upload fails, nothing of a later tier is written: no feed, no
manifest, no deletion; the uploads of the same tier not yet started are skipped (a dead target
is not retried key after key); the run fails (exit 3) and the next run re-plans from what the
target really holds. Deletions come last, after the manifest. Before the first change the run
writes ``_pcpr/pending.json`` naming every key it will write or delete, and removes it after the
last: a run that stopped part-way is recognised, and the next one distrusts exactly those keys.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pcpr_publish.deploy.manifest import PENDING_KEY, render_pending
from pcpr_publish.deploy.plan import Plan, Step
from pcpr_publish.errors import TargetError
from pcpr_publish.render.sitefile import SiteFile
from pcpr_publish.stores.base import Store

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class DeployResult:
    uploaded: int
    unchanged: int
    deleted: int
    bytes_uploaded: int
    seconds: float

    def summary(self) -> str:
        return (f"uploaded {self.uploaded}, unchanged {self.unchanged}, deleted {self.deleted}, "
                f"{self.bytes_uploaded} bytes in {self.seconds:.2f}s")


def execute(
    plan: Plan,
    site: Mapping[str, SiteFile],
    store: Store,
    *,
    workers: int = 8,
    progress: Progress | None = None,
) -> DeployResult:
    start = time.monotonic()
    uploads = plan.uploads
    done = 0
    total = len(uploads)

    failed = threading.Event()

    def put(step: Step) -> bool:
        """Write one step; False when skipped because another upload already failed."""
        if failed.is_set():
            return False
        f = plan.body(step, site)
        try:
            store.write(f.key, f.body, f.content_type, f.cache_control)
        except BaseException:
            failed.set()
            raise
        return True

    # A store may cap parallelism: local file writes are CPU-bound in Python and only slow down
    # with many threads, while S3 uploads wait on the network and gain from them.
    workers = min(workers, store.max_workers)
    changes = [s.key for s in uploads] + [s.key for s in plan.deletes]
    if changes:
        # Say what this run is about to change before changing it: if it stops part-way, the
        # next run rewrites (or deletes) exactly these keys instead of trusting the manifest.
        try:
            store.write(PENDING_KEY, render_pending(changes), "application/json; charset=utf-8",
                        "no-store")
        except Exception as exc:  # noqa: BLE001
            raise TargetError(f"{store.url}: writing {PENDING_KEY} failed ({_reason(exc)}); "
                              "nothing was changed") from None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for group in plan.tiers():
            futures = [(s, pool.submit(put, s)) for s in group]
            failures: list[tuple[Step, BaseException]] = []
            skipped = 0
            for step, fut in futures:
                try:
                    if not fut.result():
                        skipped += 1
                except Exception as exc:  # noqa: BLE001 - reported below, run fails
                    failures.append((step, exc))
                done += 1
                if progress:
                    progress(done, total)
            if failures:
                step, exc = failures[0]
                not_tried = f" ({skipped} not attempted)" if skipped else ""
                raise TargetError(
                    f"{store.url}: upload of {step.key} failed ({_reason(exc)}); "
                    f"{len(failures)} of {len(group)} uploads in this step failed{not_tried}, "
                    "feeds, manifest and deletions were not written; the next run will finish the job"
                )
    deletes = [s.key for s in plan.deletes]
    if deletes:
        try:
            store.delete(deletes)
        except Exception as exc:  # noqa: BLE001
            raise TargetError(f"{store.url}: deleting {len(deletes)} removed objects failed "
                              f"({_reason(exc)}); the next run retries") from None
    if changes:
        try:
            store.delete([PENDING_KEY])
        except Exception as exc:  # noqa: BLE001
            raise TargetError(f"{store.url}: everything was published, but removing "
                              f"{PENDING_KEY} failed ({_reason(exc)}); the next run checks the "
                              "keys it names again") from None
    return DeployResult(
        uploaded=plan.uploaded_keys,
        unchanged=len(plan.unchanged),
        deleted=len(deletes),
        bytes_uploaded=sum(s.size for s in uploads),
        seconds=time.monotonic() - start,
    )


def _reason(exc: BaseException) -> str:
    detail = getattr(exc, "detail", None)  # a store error without the target URL repeated
    text = str(detail or exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text[:200]
