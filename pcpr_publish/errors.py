"""Errors that end a run, each with the documented exit code the CLI returns for it.

Exit codes (see README "Exit codes"):
  0  published (some objects may have been excluded; see the report)
  1  errors found under --strict: nothing was written
  2  unusable input or usage: nothing was written
  3  the target failed during a publish (network, permissions); the next run converges
  4  a guard refused the publish (shrink, stale export, lock held); nothing was deleted
"""

from __future__ import annotations


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


class ConfigError(PcprError):
    """The configuration file, an environment variable or an option is unusable."""

    exit_code = 2


class StrictModeError(PcprError):
    """--strict found errors: nothing is written."""

    exit_code = 1


class TargetError(PcprError):
    """Writing to the target failed part-way; feeds and deletions were not touched."""

    exit_code = 3


class GuardError(PcprError):
    """A safety guard refused the publish before anything was deleted."""

    exit_code = 4
