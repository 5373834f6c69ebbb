"""Input dispatch: which reader turns the given file(s) into an :class:`Export`.

``pcpr-export/1`` (the back-office export) is the native input. The OCPI reader
(:mod:`pcpr_publish.read.ocpi`: OCPI dumps, or a CPO's OCPI interface with ``from_ocpi``)
produces the same :class:`~pcpr_publish.read.export.reader.LoadedExport`, so selection, validation
and publishing never depend on where the data came from.

``auto`` reads a single file that names its ``pcpr-export/`` format (or has ``sites``) as an
export, and anything else (several files, a folder, OCPI envelopes, bare arrays) as OCPI.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from pcpr_publish.errors import InputError
from pcpr_publish.notices import Report
from pcpr_publish.read.export.reader import LoadedExport, load_export

INPUT_FORMATS = ("auto", "export", "ocpi")


def load_input(paths: Sequence[str], input_format: str = "auto", **options: object) -> LoadedExport:
    """Read the input. Options other than ``from_ocpi`` etc. are the OCPI reader's (see
    :func:`pcpr_publish.read.ocpi.load_ocpi`); the export reader takes none."""
    paths = list(paths)
    pulling = bool(options.get("from_ocpi"))
    if not paths and not pulling:
        raise InputError("-", None, "no input given (an export file, OCPI files, or --from-ocpi URL)")
    if input_format not in INPUT_FORMATS:
        raise InputError(paths[0] if paths else "-", None, f"unknown input format {input_format!r}")
    if pulling and input_format == "export":
        raise InputError(str(options["from_ocpi"]), None, "--from-ocpi reads OCPI, not an export")
    if not pulling and (input_format == "export" or (input_format == "auto" and len(paths) == 1
                                                     and _is_export(paths[0]))):
        if len(paths) != 1:
            raise InputError(paths[1], None, "an export is one file; give exactly one")
        return load_export(paths[0])
    from pcpr_publish.read.ocpi import load_ocpi  # the OCPI reader

    return load_ocpi(paths, **options)  # type: ignore[arg-type]


def _is_export(path: str) -> bool:
    """Cheap sniff: a pcpr export names its format near the start of the file."""
    if Path(path).is_dir():
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # let the export reader produce the precise error
    stripped = head.lstrip()
    if not stripped or stripped[:1] not in (b"{", b"["):
        return True  # empty or not JSON: the export reader says precisely what is wrong
    return b"pcpr-export/" in head or b'"sites"' in head


def relocate_notices(report: Report, loaded: LoadedExport) -> None:
    """Point pipeline notices at the input's own paths (OCPI input: ``file $.data[3]``).

    The pipeline reports against the export model (``$.sites[3].evses[0]``); for an input that
    was converted into that model, ``loaded.path_map`` says where each object really came from.
    """
    mapping = getattr(loaded, "path_map", None)
    if not mapping:
        return
    for i, n in enumerate(report.notices):
        where = mapping.get(n.path)
        if where is not None:
            report.notices[i] = dataclasses.replace(n, path=where)
