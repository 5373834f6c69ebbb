"""OCPI input: read Location and Tariff dumps (files) or a CPO's OCPI interface (``--from-ocpi``).

The reader turns OCPI 2.1.1 / 2.2.1 objects, as real feeds write them, into the same
``pcpr-export/1`` :class:`~pcpr_publish.read.export.models.Export` a back office hands over, with one
notice per normalised defect. Selection, validation and publishing then run unchanged. See
``the README, OCPI input`` for the mapping, the public-tariff rule and the notice codes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pcpr_publish.common.dates import (
    format_datetime,
    normalise_datetime,
    parse_datetime,
)
from pcpr_publish.errors import InputError
from pcpr_publish.notices import OCPI_EXPORTED_AT, OCPI_PULL_PAGING, Action, Report
from pcpr_publish.read.export.models import Export
from pcpr_publish.read.export.reader import (
    LoadedExport,
    _check_unique,
    parse_json,
    read_bytes,
)
from pcpr_publish.read.ocpi.detect import TARIFF, Found, find_objects

__all__ = ["Document", "load_documents", "load_ocpi", "page_documents"]


class Document:
    """One JSON document of OCPI input: a file, or a page fetched from a server."""

    def __init__(self, name: str, data: bytes, doc: Any = None, hint: str | None = None) -> None:
        self.name = name
        self.data = data
        self.doc = doc
        self.hint = hint


def _expand(paths: Sequence[str]) -> list[str]:
    """Files as given; a folder stands for the ``*.json`` files directly in it, sorted."""
    out: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files = sorted(str(f) for f in path.iterdir() if f.suffix.lower() == ".json" and f.is_file())
            if not files:
                raise InputError(str(p), None, "folder holds no .json files")
            out.extend(files)
        else:
            out.append(str(p))
    return out


def load_ocpi(
    paths: Sequence[str],
    *,
    tariffs: Sequence[str] | None = None,
    now: datetime | str | None = None,
    exported_at: str | None = None,
    operator_defaults: dict[str, Any] | None = None,
    missing_publish: bool = True,
    from_ocpi: str | Sequence[str] | None = None,
    token: str | None = None,
    ocpi_version: str | None = None,
    pull_options: dict[str, Any] | None = None,
    **_ignored: Any,
) -> LoadedExport:
    """Read OCPI Locations and Tariffs into a :class:`LoadedExport` (raises InputError, exit 2).

    ``paths`` are files (or folders of ``*.json``); ``tariffs`` are more files read as tariffs
    when their content does not say. ``from_ocpi`` pulls from a CPO's OCPI interface instead
    (or as well), with ``pull_options`` for :func:`~pcpr_publish.read.ocpi.pull.pull_ocpi`
    (trusted origins, limits); a server that cannot be read raises SourceError (exit 3), and
    nothing of a failed pull is returned. ``exported_at`` overrides the rule in the README, OCPI
    input; ``now`` is the clock used when nothing else gives a time (tests pin it).
    """
    documents: list[Document] = []
    report = Report()
    pulled_at: str | None = None
    for name in _expand(list(paths)):
        documents.append(Document(name, read_bytes(name)))
    for name in _expand(list(tariffs or [])):
        documents.append(Document(name, read_bytes(name), hint=TARIFF))
    if from_ocpi:
        from pcpr_publish.read.ocpi.pull import pull_ocpi

        urls = [from_ocpi] if isinstance(from_ocpi, str) else list(from_ocpi)
        pulled = pull_ocpi(urls, token=token, version=ocpi_version, **(pull_options or {}))
        pulled_at = pulled.started_at
        report.notices.extend(pulled.notices)
        documents.extend(page_documents(pulled.pages))
    if not documents:
        raise InputError("-", None, "no input given (files, or --from-ocpi URL)")
    return load_documents(documents, report=report, now=now, exported_at=exported_at or pulled_at,
                          exported_at_reason="the pull time" if pulled_at and not exported_at else None,
                          operator_defaults=operator_defaults, missing_publish=missing_publish)


def page_documents(pages: Sequence[Any]) -> list[Document]:
    """The pages of a pull (:class:`~pcpr_publish.read.ocpi.pull.Page`) as documents."""
    return [Document(p.url, p.data, p.body, p.kind) for p in pages]


def load_documents(
    documents: Sequence[Document],
    *,
    report: Report | None = None,
    now: datetime | str | None = None,
    exported_at: str | None = None,
    exported_at_reason: str | None = None,
    operator_defaults: dict[str, Any] | None = None,
    missing_publish: bool = True,
) -> LoadedExport:
    from pcpr_publish.read.ocpi.convert import convert, newest_last_updated

    report = report or Report()
    found = Found()
    digest = hashlib.sha256()
    size = 0
    for d in documents:
        doc = d.doc if d.doc is not None else parse_json(d.data, d.name)
        part = find_objects(doc, d.name, report, d.hint)
        found.items.extend(part.items)
        found.timestamps.extend(part.timestamps)
        found.requested |= part.requested
        found.next_links.extend(part.next_links)
        digest.update(hashlib.sha256(d.data).digest())
        size += len(d.data)
    if not found.items:
        raise InputError(", ".join(d.name for d in documents[:3]), None,
                         "no OCPI Locations or Tariffs found in the input")

    for where, target in found.next_links:
        if target not in found.requested:
            report.add(OCPI_PULL_PAGING, kind="Export", object_id="", path=where, field="Link",
                       message=f"the response links to a next page ({target}) that is not in the "
                       "input: only part of the feed was given", action=Action.IGNORED,
                       value=target)
    label = documents[0].name if len(documents) == 1 else \
        f"{documents[0].name} (+{len(documents) - 1} more)"
    if exported_at is not None:
        stamp = normalise_datetime(exported_at)
        if stamp is None:
            raise InputError(label, None, f"exported_at {exported_at!r} is not an RFC 3339 date-time")
        reason = exported_at_reason or "given"
    elif found.timestamps:
        stamp, reason = min(found.timestamps), "the oldest envelope timestamp"
    elif (newest := newest_last_updated(found.items)) is not None:
        stamp, reason = newest, "the newest last_updated (the input has no envelope timestamp)"
    else:
        clock = now if now is not None else datetime.now(timezone.utc)
        stamp = normalise_datetime(clock) if isinstance(clock, str) else format_datetime(clock)
        if stamp is None:
            raise InputError(label, None, f"now {now!r} is not an RFC 3339 date-time")
        reason = "the time of reading (the input has no timestamps)"
    assert parse_datetime(stamp) is not None
    report.add(OCPI_EXPORTED_AT, kind="Export", object_id="", path=label,
               message=f"exported_at {stamp}: {reason}", action=Action.IGNORED)

    converted = convert(found.items, exported_at=stamp, operator_defaults=operator_defaults,
                        missing_publish=missing_publish)
    try:
        export = Export.model_validate(converted.document)
    except ValidationError as exc:  # pragma: no cover - every object was checked on its own
        err = exc.errors(include_url=False)[0]
        raise InputError(label, ".".join(str(p) for p in err["loc"]), err["msg"]) from None
    _check_unique(export, label)
    return LoadedExport(
        export=export,
        path=label,
        sha256=hashlib.sha256(documents[0].data).hexdigest() if len(documents) == 1
        else digest.hexdigest(),
        size=size,
        notices=report.notices + converted.notices,
        path_map=converted.path_map,
    )
