"""Configuration: ``pcpr.toml``, overridden by ``PCPR_*`` environment variables, overridden by
command-line options (highest wins).

Every setting lives in a section; the environment variable for ``[section] key`` is
``PCPR_SECTION_KEY`` (e.g. ``PCPR_OPERATOR_NAME``, ``PCPR_PUBLISH_MAX_AGE``). Unknown keys are
an error, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pcpr_publish.errors import ConfigError

DEFAULT_PATH = "pcpr.toml"
DEFAULT_STATE_FILE = "pcpr-state.sqlite"


def _beside(url: str, folder: Path) -> str:
    """A relative SQLite path from the configuration file, made absolute from its folder."""
    text = url.strip()
    lower = text.lower()
    if lower in ("none", "off", "no", "false", "") or "://" in lower and not lower.startswith("sqlite:"):
        return text
    path = text[len("sqlite:"):] if lower.startswith("sqlite:") else text
    if path.startswith("//"):
        path = path[2:]
    if not path or Path(path).is_absolute():
        return text
    return f"sqlite:///{folder / path}"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OperatorConfig(Section):
    """Operator details used where the export lacks them."""

    name: str | None = None
    country_code: str | None = None
    party_id: str | None = None
    website: str | None = None
    logo_url: str | None = None
    phone: str | None = None


class BuildConfig(Section):
    strict: bool = False
    report: str | None = Field(default=None, description="where the JSON report is written")


class PublishConfig(Section):
    max_age: int = Field(default=15, ge=0, description="Cache-Control max-age (s) for data and pages")
    max_shrink: float = Field(default=0.10, ge=0, le=1, description="largest share of published "
                              "locations one publish may remove")
    max_export_age: int = Field(default=900, ge=0, description="refuse exports older than this (s); 0 = off")
    workers: int = Field(default=32, ge=1, le=64)
    lock_stale_after: int = Field(default=600, ge=1, description="a lock older than this (s) is taken over")


class S3Config(Section):
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    path_style: bool | None = None
    allow_bucket_root: bool = Field(default=False, description="allow s3://bucket with no "
                                    "prefix as a target (pcpr then owns the whole bucket)")


class SiteConfig(Section):
    """Branding and public URLs of the HTML pages (see the README, Human-readable pages)."""

    base_url: str | None = Field(default=None, pattern=r"^https?://[\x21-\x7e]+$",
                                 description="public URL of the site root, used for absolute "
                                 "links, the sitemap and the embed code (e.g. "
                                 "https://chargers.example.com/)")
    title: str | None = Field(default=None, description="site title (default: '<operator> charge points')")
    operator_name: str | None = Field(default=None, description="operator name shown on the pages "
                                      "(default: the published operator name)")
    accent_colour: str = Field(default="#0b5fff", pattern=r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$",
                               description="brand colour as #rgb or #rrggbb; text colours are "
                               "derived from it to keep WCAG AA contrast")
    logo_url: str | None = Field(default=None, pattern=r"^https://[\x21-\x7e]+$",
                                 description="https URL of a logo shown in the page header")


_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(:[0-9]{1,5})?/?$")


class OcpiConfig(Section):
    """``--from-ocpi``: the origins trusted with the token, and the limits of a pull (see
    docs/ocpi-input.md, Origins and the token, and Limits). A limit left unset takes the
    built-in default of :mod:`pcpr_publish.read.ocpi.pull`."""

    trust_origins: list[str] = Field(default_factory=list, description="other origins "
                                     "(scheme://host[:port]) that may receive the OCPI token")
    pull_timeout: float | None = Field(default=None, gt=0, description="seconds the whole pull "
                                       "may take (default 600)")
    read_timeout: float | None = Field(default=None, gt=0, description="seconds one socket "
                                       "read may wait (default 30)")
    max_response_bytes: int | None = Field(default=None, ge=1, description="bytes of one "
                                           "response after decompression (default 256 MiB)")
    max_total_bytes: int | None = Field(default=None, ge=1, description="bytes of all "
                                        "responses of a pull (default 1 GiB)")
    max_pages: int | None = Field(default=None, ge=1, description="pages of a pull (default 10000)")
    max_objects: int | None = Field(default=None, ge=1, description="Locations and Tariffs of a "
                                    "pull (default 100000)")
    # ``pcpr publish --from-ocpi … --watch`` only (docs/ocpi-input.md, Incremental pulls):
    pull_interval: float | None = Field(default=None, gt=0, description="seconds between two "
                                        "pulls of a watch process (default 5)")
    full_pull_every: float | None = Field(default=None, ge=0, description="seconds between two "
                                          "full pulls of a watch process, which see deletions; "
                                          "the others ask for changes only (default 3600; 0: "
                                          "every pull is full)")
    pull_overlap: float | None = Field(default=None, ge=0, description="seconds an incremental "
                                       "pull's date_from goes back before the server's time of "
                                       "the previous pull (default 60)")
    # What is published (docs/ocpi-2.1.1.md, docs/profiles.md):
    versions: list[str] = Field(default_factory=lambda: ["2.2.1", "2.1.1"], description="OCPI "
                                "versions published: 2.2.1 (the regulatory Data Links, always) "
                                "and 2.1.1 (ocpi/2.1.1/, for consumers that read only 2.1.1)")
    profiles: list[str] = Field(default_factory=list, description="eMSP profiles checked in "
                                "every report (a shipped name such as plugsurfing, or a .toml path)")

    @field_validator("versions", "profiles", mode="before")
    @classmethod
    def _split_words(cls, value: Any) -> Any:
        if isinstance(value, str):  # PCPR_OCPI_VERSIONS="2.2.1,2.1.1"
            return [part for part in re.split(r"[\s,]+", value) if part]
        return value

    @field_validator("versions")
    @classmethod
    def _versions(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in ("2.2.1", "2.1.1")]
        if unknown:
            raise ValueError(f"unknown OCPI version {', '.join(unknown)} (2.2.1, 2.1.1)")
        if "2.2.1" not in value:
            raise ValueError("2.2.1 is always published (the regulatory Data Links); list it")
        return sorted(set(value), reverse=True)

    @field_validator("trust_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # PCPR_OCPI_TRUST_ORIGINS="https://a.example https://b.example" (spaces or commas)
        if isinstance(value, str):
            return [part for part in re.split(r"[\s,]+", value) if part]
        return value

    @field_validator("trust_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin: give scheme://host or "
                                 "scheme://host:port (http or https), e.g. https://ocpi.example.com")
        return value

    def pull_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`pcpr_publish.read.ocpi.pull.pull_ocpi` (set keys only)."""
        out: dict[str, Any] = {k: v for k, v in self.model_dump().items()
                               if v is not None and k != "trust_origins"
                               and k not in ("pull_interval", "full_pull_every", "pull_overlap",
                                             "versions", "profiles")}
        if self.trust_origins:
            out["trust_origins"] = tuple(self.trust_origins)
        return out

    def watch_options(self) -> dict[str, Any]:
        """Keyword arguments for :class:`pcpr_publish.read.ocpi.incremental.OcpiSource` (set keys
        only): how often a watch process pulls, and how."""
        keys = ("pull_interval", "full_pull_every", "pull_overlap")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


class StateConfig(Section):
    """The state database (docs/state.md): what makes one-shot runs incremental, the publish
    log and the EVSE status history."""

    url: str | None = Field(default=None, description="sqlite:///PATH, a file path, "
                            "postgresql://… or none (default: pcpr-state.sqlite beside pcpr.toml)")
    retention_days: int = Field(default=800, ge=0, description="days of status history and "
                                "publish log kept (0 = keep everything)")


class Config(Section):
    operator: OperatorConfig = Field(default_factory=OperatorConfig)
    build: BuildConfig = Field(default_factory=BuildConfig)
    publish: PublishConfig = Field(default_factory=PublishConfig)
    s3: S3Config = Field(default_factory=S3Config)
    site: SiteConfig = Field(default_factory=SiteConfig)
    ocpi: OcpiConfig = Field(default_factory=OcpiConfig)
    state: StateConfig = Field(default_factory=StateConfig)

    def operator_defaults(self) -> dict[str, Any]:
        return self.operator.model_dump(exclude_none=True)


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for section, info in Config.model_fields.items():
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key in model.model_fields:
            var = f"PCPR_{section}_{key}".upper()
            if var in env:
                out.setdefault(section, {})[key] = env[var]
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for section, values in extra.items():
        clean = {k: v for k, v in values.items() if v is not None}
        if clean:
            out.setdefault(section, {})
            if not isinstance(out[section], dict):
                raise ConfigError(f"[{section}] must be a table")
            out[section].update(clean)
    return out


def load_config(
    path: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    default_state: bool = False,
) -> Config:
    """Read configuration. An explicit ``path`` must exist; the default ``./pcpr.toml`` may not.

    ``default_state``: with no ``[state] url`` anywhere, keep the state database in
    ``pcpr-state.sqlite`` beside the configuration file (what the CLI does); library callers
    keep no state unless they configure one."""
    env = os.environ if env is None else env
    # An empty PCPR_CONFIG (``PCPR_CONFIG=``) means "no configuration file", as unset does.
    explicit = path is not None or bool(env.get("PCPR_CONFIG"))
    name = path or env.get("PCPR_CONFIG") or DEFAULT_PATH
    data: dict[str, Any] = {}
    p = Path(name)
    if p.is_file():
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    elif p.is_dir():
        raise ConfigError(f"{name}: is a folder, not a configuration file")
    elif explicit:
        raise ConfigError(f"{name}: configuration file not found")
    # The state database lives beside the configuration file unless told otherwise; a relative
    # SQLite path written in the file is read from the file's folder.
    folder = p.resolve().parent
    state = data.get("state")
    if isinstance(state, dict) and isinstance(state.get("url"), str):
        state["url"] = _beside(state["url"], folder)
    data = _merge(data, _env_overrides(env))
    data = _merge(data, overrides or {})
    data.setdefault("state", {})
    if default_state and isinstance(data["state"], dict) and data["state"].get("url") is None:
        data["state"]["url"] = f"sqlite:///{folder / DEFAULT_STATE_FILE}"
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{name}: {where}: {err['msg']}") from None
