"""Errors that end a run, each with the documented exit code the CLI returns for it.

Exit codes (see README "Exit codes"):
  0  published (some objects may have been excluded; see the report)
  1  errors found under --strict: nothing was written
  2  unusable input or usage: nothing was written
  3  the target failed during a publish (network, permissions); the next run converges
  4  a guard refused the publish (shrink, stale export, lock held); nothing was deleted
  70 internal error: a bug in pcpr (any exception that is not a PcprError)
  130 interrupted with Ctrl-C
"""

from __future__ import annotations

import os


class PcprError(Exception):
    """An expected failure: the CLI prints ``pcpr: error: <message>`` and exits ``exit_code``."""

    exit_code = 2


class InputError(PcprError):
    """The export (or another input file) cannot be used. Names the file and the JSON path."""

    exit_code = 2

    def __init__(self, file: str, path: str | None, message: str) -> None:
        self.file = file
        self.path = path
        self.detail = message
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {message}")


class OutputError(PcprError):
    """A file or folder the command was told to write (``--out``) cannot be written: a missing
    parent folder, no permission, a directory in the way. Nothing is written."""

    exit_code = 2

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.detail = message
        super().__init__(f"{file}: {message}")

    @classmethod
    def from_os_error(cls, file: str, exc: OSError) -> OutputError:
        """The one-line reason an ``open``/``write``/``mkdir`` of ``file`` failed."""
        parent = os.path.dirname(file) or "."
        if isinstance(exc, FileNotFoundError):
            if not os.path.isdir(parent):
                return cls(file, f"cannot be written: the folder {parent} does not exist")
            return cls(file, "cannot be written: no such file or folder")
        if isinstance(exc, PermissionError):
            return cls(file, "cannot be written: permission denied")
        if isinstance(exc, IsADirectoryError):
            return cls(file, "is a folder, not a file")
        if isinstance(exc, FileExistsError):
            return cls(file, "cannot be written: it exists and is not a folder")
        if isinstance(exc, NotADirectoryError):
            return cls(file, f"cannot be written: {parent} is a file, not a folder")
        return cls(file, f"cannot be written ({exc.strerror or exc})")


class ConfigError(PcprError):
    """The configuration file, an environment variable or an option is unusable."""

    exit_code = 2


class StrictModeError(PcprError):
    """--strict found errors: nothing is written."""

    exit_code = 1


class TargetError(PcprError):
    """Writing to the target failed part-way; feeds and deletions were not touched."""

    exit_code = 3


class SourceError(PcprError):
    """The input could not be fetched (``--from-ocpi``): the network failed, a response was cut
    short or badly compressed, the read or the whole pull timed out, or the server kept answering
    429/5xx after the retries. Nothing was written; usually transient, like a target failure."""

    exit_code = 3

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.detail = message
        super().__init__(f"{file}: {message}")


class GuardError(PcprError):
    """A safety guard refused the publish before anything was deleted."""

    exit_code = 4


class StateError(PcprError):
    """The state database cannot be used: a corrupt or locked SQLite file, an unreachable
    PostgreSQL server, a schema written by a newer pcpr. Nothing was published; the next run
    (or a run with ``--no-state``) converges."""

    exit_code = 3

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        self.detail = message
        super().__init__(f"state {url}: {message}")
