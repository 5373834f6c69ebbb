"""eMSP profiles: what one consumer of the data cannot represent or accept.

A profile is a TOML file (docs/profiles.md): the OCPI versions the consumer reads, the tariff
price components and restrictions it does not support, the countries it serves. The ones pcpr
ships live in ``profiles/data/`` (``plugsurfing``); any other is a file path, so another eMSP's
profile is a new file, not new code.

:func:`check_profile` turns a published dataset into notices, per tariff and per location, so
that a CPO knows before handing the data over what that partner will drop or refuse.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pcpr_publish.errors import ConfigError
from pcpr_publish.notices import (
    PROFILE_NOT_CARRIED,
    PROFILE_OUTSIDE_TERRITORY,
    PROFILE_UNSUPPORTED_COMPONENT,
    PROFILE_UNSUPPORTED_RESTRICTION,
    PROFILE_VERSION_GAP,
    Action,
    Notice,
)

DATA = Path(__file__).resolve().parent / "data"
KNOWN_VERSIONS = ("2.1.1", "2.2.1")
DIMENSIONS = frozenset({"ENERGY", "FLAT", "PARKING_TIME", "TIME"})
RESTRICTIONS = frozenset({
    "start_time", "end_time", "start_date", "end_date", "min_kwh", "max_kwh", "min_current",
    "max_current", "min_power", "max_power", "min_duration", "max_duration", "day_of_week",
    "reservation",
})


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    ocpi_versions: tuple[str, ...]
    unsupported_dimensions: frozenset[str]
    unsupported_restrictions: frozenset[str]
    countries: frozenset[str] | None  # None: no territory limit
    source: str


def available() -> list[str]:
    """The names of the profiles pcpr ships."""
    return sorted(p.stem for p in DATA.glob("*.toml"))


def _strict_keys(where: str, table: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ConfigError(f"{where}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)}")


def _words(where: str, value: Any, allowed: frozenset[str] | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: must be a list of strings")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ConfigError(f"{where}: unknown value{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
    return list(value)


def load_profile(name: str) -> Profile:
    """A shipped profile by name, or a profile file by path. Any mistake in the file is a
    configuration error (exit 2) naming the file and the key."""
    path = Path(name)
    if not name.endswith(".toml") and (DATA / f"{name}.toml").is_file():
        path = DATA / f"{name}.toml"
    elif not path.is_file():
        raise ConfigError(f"profile {name!r}: neither a shipped profile ({', '.join(available())}) "
                          "nor a .toml file")
    where = str(path) if path.parent != DATA else f"profile {path.stem}"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    _strict_keys(where, doc, {"name", "title", "ocpi_versions", "tariffs", "locations"})
    tariffs = doc.get("tariffs", {})
    locations = doc.get("locations", {})
    if not isinstance(tariffs, dict) or not isinstance(locations, dict):
        raise ConfigError(f"{where}: [tariffs] and [locations] must be tables")
    _strict_keys(f"{where}: [tariffs]", tariffs, {"unsupported_dimensions", "unsupported_restrictions"})
    _strict_keys(f"{where}: [locations]", locations, {"countries"})
    name_value = doc.get("name", path.stem)
    if not isinstance(name_value, str) or not name_value:
        raise ConfigError(f"{where}: name must be text")
    versions = _words(f"{where}: ocpi_versions", doc.get("ocpi_versions", list(KNOWN_VERSIONS)),
                      frozenset(KNOWN_VERSIONS))
    if not versions:
        raise ConfigError(f"{where}: ocpi_versions must name at least one version")
    countries = locations.get("countries")
    if countries is not None:
        countries = _words(f"{where}: [locations] countries", countries)
        bad = [c for c in countries if len(c) != 3 or not c.isalpha() or not c.isupper()]
        if bad:
            raise ConfigError(f"{where}: [locations] countries: {', '.join(bad)} are not ISO "
                              "3166-1 alpha-3 codes (GBR, DEU, …)")
    return Profile(
        name=name_value, title=str(doc.get("title", name_value)), ocpi_versions=tuple(versions),
        unsupported_dimensions=frozenset(_words(f"{where}: [tariffs] unsupported_dimensions",
                                                tariffs.get("unsupported_dimensions", []), DIMENSIONS)),
        unsupported_restrictions=frozenset(_words(f"{where}: [tariffs] unsupported_restrictions",
                                                  tariffs.get("unsupported_restrictions", []), RESTRICTIONS)),
        countries=frozenset(countries) if countries is not None else None,
        source=str(path),
    )


@dataclass(frozen=True)
class Gap:
    """Something of the 2.1.1 rendition that could not be carried (from the down-mapping)."""

    kind: str
    object_id: str
    path: str
    field: str
    reason: str


def _value(v: Any) -> str:
    return str(getattr(v, "value", v))


def check_profile(profile: Profile, dataset: Any, published_versions: Sequence[str],
                  gaps: Iterable[Gap] = ()) -> list[Notice]:
    """Every tariff, location and version problem ``profile``'s consumer would have with the
    published ``dataset`` (its 2.2.1 objects; ``gaps`` what the 2.1.1 rendition dropped)."""
    who = profile.title
    out: list[Notice] = []
    readable = [v for v in profile.ocpi_versions if v in published_versions]
    if not readable:
        out.append(Notice.make(
            PROFILE_VERSION_GAP, kind="Export", object_id="", path="[ocpi] versions",
            field="versions", action=Action.PUBLISHED, value=list(profile.ocpi_versions),
            message=f"{who} reads OCPI {' or '.join(profile.ocpi_versions)} only; this site "
                    f"publishes {', '.join(published_versions)} (set [ocpi] versions)"))
    unusable: dict[str, list[str]] = {}  # tariff id → what the consumer cannot represent
    for i, t in enumerate(dataset.tariffs):
        for j, element in enumerate(t.elements):
            for k, pc in enumerate(element.price_components):
                dim = _value(pc.type)
                if dim in profile.unsupported_dimensions:
                    path = f"tariffs.json $.data[{i}].elements[{j}].price_components[{k}]"
                    unusable.setdefault(t.id, []).append(f"{dim} price component")
                    out.append(Notice.make(
                        PROFILE_UNSUPPORTED_COMPONENT, kind="Tariff", object_id=t.id, path=path,
                        field="type", value=dim, action=Action.PUBLISHED,
                        message=f"{who} does not support the {dim} price component"))
            restrictions = element.restrictions
            if restrictions is None:
                continue
            for name in sorted(profile.unsupported_restrictions):
                value = getattr(restrictions, name, None)
                if value is not None:
                    unusable.setdefault(t.id, []).append(f"{name} restriction")
                    out.append(Notice.make(
                        PROFILE_UNSUPPORTED_RESTRICTION, kind="Tariff", object_id=t.id,
                        path=f"tariffs.json $.data[{i}].elements[{j}].restrictions", field=name,
                        value=_value(value), action=Action.PUBLISHED,
                        message=f"{who} does not support the {name} restriction"))
    for i, loc in enumerate(dataset.locations):
        path = f"locations.json $.data[{i}]"
        country = _value(loc.country)
        if profile.countries is not None and country not in profile.countries:
            out.append(Notice.make(
                PROFILE_OUTSIDE_TERRITORY, kind="Location", object_id=loc.id, path=path,
                field="country", value=country, action=Action.PUBLISHED,
                message=f"{who} does not serve {country}"))
        used = sorted({tid for e in loc.evses or () for c in e.connectors
                       for tid in c.tariff_ids or () if tid in unusable})
        for tid in used:
            what = ", ".join(dict.fromkeys(unusable[tid]))
            out.append(Notice.make(
                PROFILE_UNSUPPORTED_COMPONENT, kind="Location", object_id=loc.id, path=path,
                field="tariff_ids", value=tid, action=Action.PUBLISHED,
                message=f"uses tariff {tid!r}, which {who} cannot represent ({what})"))
    if readable == ["2.1.1"]:
        for gap in gaps:
            out.append(Notice.make(
                PROFILE_NOT_CARRIED, kind=gap.kind, object_id=gap.object_id, path=gap.path,
                field=gap.field, action=Action.PUBLISHED,
                message=f"{who} reads OCPI 2.1.1, which cannot carry this: {gap.reason}"))
    return out
