"""Input dispatch: which reader turns the given file(s) into an :class:`Export`.

``pcpr-export/1`` (the back-office export) is the native input. Other readers (OCPI dumps and
endpoints) produce the same :class:`~pcpr_publish.export.reader.LoadedExport`, so selection,
validation and publishing never depend on where the data came from.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InputError
from .export.reader import LoadedExport, load_export

INPUT_FORMATS = ("auto", "export", "ocpi")


def load_input(paths: Sequence[str], input_format: str = "auto", **options: object) -> LoadedExport:
    """Read the input. ``auto`` picks the export reader for a single ``pcpr-export/1`` file."""
    if not paths:
        raise InputError("-", None, "no input given")
    if input_format not in INPUT_FORMATS:
        raise InputError(paths[0], None, f"unknown input format {input_format!r}")
    if input_format == "export" or (input_format == "auto" and len(paths) == 1 and _is_export(paths[0])):
        if len(paths) != 1:
            raise InputError(paths[1], None, "an export is one file; give exactly one")
        return load_export(paths[0])
    from .ocpi_input import load_ocpi  # the OCPI reader

    return load_ocpi(paths, **options)


def _is_export(path: str) -> bool:
    """Cheap sniff: a pcpr export names its format near the start of the file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # let the export reader produce the precise error
    if b"pcpr-export/" in head or b'"sites"' in head:
        return True
    return not head.strip() or head.lstrip()[:1] not in (b"{", b"[")
