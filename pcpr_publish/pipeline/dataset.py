"""The pipeline from a read export to the validated objects to publish (selection rules 1-8).

read (export.reader) → select (select) → map (mapping) → validate (validate, checks) →
timestamps → :class:`Dataset`. Rendering and publishing take a Dataset and never look back at
the export, so nothing but whitelisted OCPI fields of selected objects can reach the output.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pcpr_publish.common.dates import normalise_datetime
from pcpr_publish.errors import InputError
from pcpr_publish.notices import (
    EVSE_NO_CONNECTORS,
    EVSE_WITHOUT_PUBLIC_TARIFF,
    INVALID_OBJECT,
    INVALID_TIMESTAMP,
    NO_VISIBLE_CONNECTOR,
    OVERLAY_UNKNOWN_EVSE,
    SITE_WITHOUT_EVSE,
    TARIFF_EXPIRED,
    TARIFF_INVALID,
    TARIFF_NOT_FOUND,
    TIMESTAMP_IN_FUTURE,
    UNKNOWN_STATUS,
    Action,
    Notice,
    Report,
)
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.construct import Subject, construct, shape
from pcpr_publish.ocpi.rules import tariff_currency_ok
from pcpr_publish.pipeline.checks import (
    coordinates_ok,
    evse_warnings,
    location_warnings,
    tariff_price_checks,
)
from pcpr_publish.pipeline.mapping import (
    connector_fields,
    evse_fields,
    local_time_zone,
    location_fields,
    status_word,
    time_zone,
)
from pcpr_publish.pipeline.select import (
    is_candidate_site,
    is_hidden_connector,
    is_public_evse,
    public_tariff_id,
    read_flag,
)
from pcpr_publish.pipeline.timestamps import (
    Previous,
    SourceTimes,
    as_json,
    stamp_location,
    stamp_tariff,
)
from pcpr_publish.read.export import models as ex
from pcpr_publish.read.export.future import CLOCK_SKEW_SECONDS, WallClock
from pcpr_publish.read.export.ocpi_form import tariff_fields
from pcpr_publish.read.export.vocabulary import (
    apply_state_flags,
    combine_connector_statuses,
    map_status,
)
from pcpr_publish.read.overlay import StatusEntry


@dataclass
class Dataset:
    """What one run publishes, plus the report that explains every exclusion."""

    exported_at: str
    operator: ex.Operator
    locations: list[ocpi.Location]
    tariffs: list[ocpi.Tariff]
    report: Report
    counts: dict[str, int] = field(default_factory=dict)
    #: Regulation 7 figures from the status history (set by the engine when a state database
    #: holds a history; see engine/reliability.py), rendered as reliability.json/.html.
    reliability: dict[str, Any] | None = None
    #: The OCPI 2.1.1 rendition (pipeline/v211.py), when it is published.
    v211: Any = None


@dataclass
class _TariffState:
    index: int
    model: ocpi.Tariff | None
    given_ts: str | None
    problems: list[Notice]  # deferred: severity depends on whether a public EVSE uses it
    expired: bool = False
    used_publicly: bool = False


def merge_operator(export_operator: ex.Operator, defaults: dict[str, Any], source: str) -> ex.Operator:
    """Operator details: the export's, with gaps filled from configuration. country_code and
    party_id are required for every OCPI Location and Tariff."""
    merged = {k: v for k, v in defaults.items() if v not in (None, "")}
    merged.update({k: v for k, v in export_operator.model_dump().items() if v not in (None, "")})
    op = ex.Operator.model_validate(merged)
    cc, pid = op.country_code, op.party_id
    if not (isinstance(cc, str) and len(cc) == 2 and cc.isascii() and cc.isalpha()):
        raise InputError(source, "$.operator.country_code",
                         "missing or not an ISO 3166 alpha-2 code (set it in the export or in "
                         "pcpr.toml [operator] country_code)")
    if not (isinstance(pid, str) and len(pid) == 3 and pid.isascii() and pid.isalnum()):
        raise InputError(source, "$.operator.party_id",
                         "missing or not 3 letters/digits (set it in the export or in pcpr.toml "
                         "[operator] party_id)")
    return op.model_copy(update={"country_code": cc.upper(), "party_id": pid.upper()})


def _timestamp(value: Any, subject: Subject, name: str, report: Report, clock: WallClock,
               label: str | None = None) -> str | None:
    """A given ``updated_at``/``status_updated_at`` as OCPI text: None when unreadable (with a
    notice), the current time when it is in the future (with a notice)."""
    if value is None:
        return None
    label = label or name
    ts = normalise_datetime(value)
    if ts is None:
        subject.notice(report, INVALID_TIMESTAMP, f"{label} {value!r} is not an RFC 3339 date-time; "
                       "ignored", Action.IGNORED, field=name, value=value)
    elif clock.in_future(ts):
        subject.notice(report, TIMESTAMP_IN_FUTURE, f"{label} {value!r} is more than "
                       f"{CLOCK_SKEW_SECONDS // 60} minutes in the future; the current time "
                       f"{clock.now} is used instead", Action.CORRECTED, field=name, value=value)
        return clock.now
    return ts


def _build_tariffs(export: ex.Export, operator: ex.Operator, now: str,
                   clock: WallClock) -> dict[str, _TariffState]:
    states: dict[str, _TariffState] = {}
    for i, t in enumerate(export.tariffs):
        scratch = Report()
        subject = Subject("Tariff", t.id, f"$.tariffs[{i}]")
        given = _timestamp(t.updated_at, subject, "updated_at", scratch, clock)
        data = shape(ocpi.Tariff, tariff_fields(t, operator, now), subject, scratch)
        # An unreadable validity period or price bound makes the tariff invalid: dropping it
        # would publish an ended tariff, or one without its minimum price.
        model = construct(ocpi.Tariff, data, subject, scratch,
                          keep=frozenset({"start_date_time", "end_date_time", "min_price", "max_price"}))
        expired = False
        if model is not None:
            if not tariff_currency_ok(model, subject, scratch):
                model = None
            elif model.end_date_time is not None and model.end_date_time <= now:
                expired = True
            else:
                tariff_price_checks(model, subject, scratch)
        states[t.id.casefold()] = _TariffState(i, model, given, scratch.notices, expired)
    return states


def _flush_tariff_notices(states: dict[str, _TariffState], report: Report) -> None:
    """Tariff problems are errors only when a public EVSE needs the tariff (rule 6)."""
    for state in sorted(states.values(), key=lambda s: s.index):
        for n in state.problems:
            report.notices.append(n if state.used_publicly else n.as_info())


@dataclass
class SiteResult:
    """Everything one site contributes to a run; cached between watch-mode cycles."""

    location: ocpi.Location | None  # stamped, when published
    notices: list[Notice]
    tariffs_used: set[str]  # case-folded ids of tariffs a public EVSE asked for
    evses_in: int
    connectors_in: int
    published_uids: frozenset[str]  # case-folded uids of published EVSEs


@dataclass
class BuildCache:
    """Per-site results of the last run, so that a cycle redoes only the sites that changed.

    In memory (``pcpr publish --watch``), a site result is reused while the export object is
    the same (the export was not re-read) and the overlay entries for that site's EVSEs are
    equal. With ``memos`` (loaded from the state database, or kept from an earlier cycle) a site
    whose *fingerprint* — a digest of its export record, its position, the tariffs it references,
    its overlay entries and ``salt`` (operator, code and template version) — equals the one
    stored is reused too, even from a newly parsed export: that is what makes a one-shot run
    incremental. Anything else rebuilds the site.
    """

    export_id: int | None = None
    now: str | None = None
    sites: dict[int, tuple[tuple[Any, ...], SiteResult]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    #: site key (case-folded id) → (fingerprint, result) of what was last published; None: off.
    memos: dict[str, tuple[str, SiteResult]] | None = None
    salt: bytes = b""
    #: sites built afresh by the last call: key → (fingerprint, or "" when not reusable).
    fresh: dict[str, str] = field(default_factory=dict)
    #: site keys of the last call's export.
    seen: set[str] = field(default_factory=set)

    def reset_for(self, export: ex.Export, now: str) -> None:
        if self.export_id != id(export) or self.now != now:
            self.export_id, self.now = id(export), now
            self.sites.clear()
        self.hits = self.misses = 0
        self.fresh = {}
        self.seen = set()


def _tariff_digests(export: ex.Export, states: dict[str, _TariffState]) -> dict[str, bytes]:
    """What a site's result depends on of each tariff: its record, position and whether it is
    valid and current (``now`` enters only through the expiry)."""
    out: dict[str, bytes] = {}
    for key, state in states.items():
        t = export.tariffs[state.index]
        h = hashlib.blake2b(_TARIFF_JSON(t), digest_size=16)
        h.update(f"|{state.index}|{state.model is None}|{state.expired}".encode())
        out[key] = h.digest()
    return out


_SITE_JSON = ex.Site.__pydantic_serializer__.to_json
_TARIFF_JSON = ex.Tariff.__pydantic_serializer__.to_json


def site_fingerprint(i: int, site: ex.Site, statuses: Mapping[str, StatusEntry],
                     tariffs: Mapping[str, bytes], salt: bytes) -> str:
    """A digest of everything ``_build_site`` reads for site ``i`` (see :class:`BuildCache`)."""
    h = hashlib.blake2b(salt, digest_size=20)
    h.update(f"{i}|".encode())
    h.update(_SITE_JSON(site))
    for evse in site.evses:
        entry = statuses.get(evse.uid.casefold())
        if entry is not None:
            h.update(f"|{entry.uid}\0{entry.status}\0{entry.updated_at}".encode())
        for conn in evse.connectors:
            tid = public_tariff_id(conn, evse)
            if tid is not None:
                h.update(tariffs.get(tid.casefold(), b"-"))
    return h.hexdigest()


def build_dataset(
    export: ex.Export,
    *,
    source: str = "export",
    operator_defaults: dict[str, Any] | None = None,
    previous: Previous | None = None,
    statuses: Mapping[str, StatusEntry] | None = None,
    cache: BuildCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> Dataset:
    """Apply the selection rules and construct every published object strictly.

    ``statuses`` is the status overlay (by case-folded EVSE uid). ``cache`` lets a long-running
    process rebuild only the sites whose inputs changed since the last call. ``wall_clock`` is
    read once, only to clamp timestamps in the future (see :mod:`pcpr_publish.read.export.future`).
    """
    report = Report()
    operator = merge_operator(export.operator, operator_defaults or {}, source)
    now = normalise_datetime(export.exported_at)
    assert now is not None  # checked by the reader
    clock = WallClock.read(wall_clock)
    if clock.in_future(now):
        # The export reader already replaced a future exported_at by the file's time; other
        # inputs (OCPI feeds, library callers) get the current time.
        report.add(TIMESTAMP_IN_FUTURE, kind="Export", object_id="", path="$", field="exported_at",
                   message=f"exported_at {export.exported_at!r} is more than "
                   f"{CLOCK_SKEW_SECONDS // 60} minutes in the future; the current time "
                   f"{clock.now} is used instead", action=Action.CORRECTED, value=export.exported_at)
        now = clock.now
    previous = previous or Previous()
    statuses = statuses or {}
    cache = cache or BuildCache()
    cache.reset_for(export, now)
    tariffs = _build_tariffs(export, operator, now, clock)
    locations: list[ocpi.Location] = []
    counts = {"sites_in": len(export.sites), "evses_in": 0, "connectors_in": 0,
              "tariffs_in": len(export.tariffs), "evses_published": 0, "connectors_published": 0}
    published_uids: set[str] = set()

    total = len(export.sites)
    digests = _tariff_digests(export, tariffs) if cache.memos is not None else {}
    for i, site in enumerate(export.sites):
        if progress is not None and (i % 500 == 0 or i == total - 1):
            progress(i + 1, total)
        key = (id(site), *(statuses.get(e.uid.casefold()) for e in site.evses))
        hit = cache.sites.get(i)
        if hit is not None and hit[0] == key:
            result = hit[1]
            cache.hits += 1
        elif cache.memos is not None:
            result = _memo_site(i, site, cache, digests, operator, tariffs, statuses, previous,
                                now, clock)
            cache.sites[i] = (key, result)
        else:
            prev_loc = previous.locations.get(site.id.casefold())
            if hit is not None and hit[1].location is not None:
                prev_loc = as_json(hit[1].location)  # what this process published last time
            result = _build_site(i, site, operator, tariffs, statuses, prev_loc, now, clock)
            cache.sites[i] = (key, result)
            cache.misses += 1
        if cache.memos is not None:
            cache.seen.add(site.id.casefold())
        report.notices.extend(result.notices)
        for tkey in result.tariffs_used:
            tariffs[tkey].used_publicly = True
        counts["evses_in"] += result.evses_in
        counts["connectors_in"] += result.connectors_in
        published_uids |= result.published_uids
        if result.location is not None:
            locations.append(result.location)
            counts["evses_published"] += len(result.location.evses or [])
            counts["connectors_published"] += sum(len(e.connectors) for e in result.location.evses or [])

    for uid_key, entry in sorted(statuses.items()):
        if uid_key not in published_uids:
            report.add(OVERLAY_UNKNOWN_EVSE, kind="EVSE", object_id=entry.uid, path="status overlay",
                       field="status", message=f"overlay entry for {entry.uid!r}, which is not a "
                       "published EVSE; ignored", action=Action.IGNORED)

    # Tariffs are published only when a *published* connector references them (rule 5).
    published_tariff_ids = {
        tid.casefold()
        for loc in locations for e in loc.evses or [] for c in e.connectors for tid in c.tariff_ids or []
    }
    _flush_tariff_notices(tariffs, report)
    published_tariffs = []
    for key in sorted(published_tariff_ids):
        state = tariffs[key]
        assert state.model is not None
        published_tariffs.append(
            stamp_tariff(state.model, state.given_ts, previous.tariffs.get(key), now,
                         future=clock.limit)
        )
    locations.sort(key=lambda loc: loc.id)
    published_tariffs.sort(key=lambda t: t.id)
    counts.update(locations_published=len(locations), tariffs_published=len(published_tariffs))
    return Dataset(now, operator, locations, published_tariffs, report, counts)


def _memo_site(i: int, site: ex.Site, cache: BuildCache, digests: Mapping[str, bytes],
               operator: ex.Operator, tariffs: dict[str, _TariffState],
               statuses: Mapping[str, StatusEntry], previous: Previous, now: str,
               clock: WallClock) -> SiteResult:
    """One site through the fingerprint cache: the stored result when nothing it depends on
    changed, else a fresh build compared with what was last published (rule 8)."""
    assert cache.memos is not None
    skey = site.id.casefold()
    fp = site_fingerprint(i, site, statuses, digests, cache.salt)
    memo = cache.memos.get(skey)
    if memo is not None and memo[0] == fp and skey not in cache.seen:
        cache.hits += 1
        return memo[1]
    if memo is not None and memo[1].location is not None:
        prev_loc = as_json(memo[1].location)
    else:
        prev_loc = previous.locations.get(skey)
    result = _build_site(i, site, operator, tariffs, statuses, prev_loc, now, clock)
    cache.misses += 1
    # A result that read the wall clock (a timestamp in the future was clamped) is never reused;
    # it is still stored, so that its Location is "what was published" next time.
    reusable = not any(n.code == TIMESTAMP_IN_FUTURE for n in result.notices)
    if skey not in cache.seen:
        cache.memos[skey] = (fp if reusable else "", result)
        cache.fresh[skey] = fp if reusable else ""
    return result


def _build_site(
    i: int,
    site: ex.Site,
    operator: ex.Operator,
    tariffs: dict[str, _TariffState],
    statuses: Mapping[str, StatusEntry],
    prev_loc: dict[str, Any] | None,
    now: str,
    clock: WallClock,
) -> SiteResult:
    """Rules 1-4 and 6-8 for one site, with its own notices."""
    report = Report()
    used: dict[str, ocpi.Tariff | None] = {}  # every tariff a public EVSE asked for
    site_subject = Subject("Location", site.id, f"$.sites[{i}]")
    candidate = is_candidate_site(site, site_subject, report)
    site_subject.private = not candidate
    times = SourceTimes(site=_timestamp(site.updated_at, site_subject, "updated_at", report, clock))
    evse_models: list[ocpi.EVSE] = []
    connectors_in = 0
    for j, evse in enumerate(site.evses):
        connectors_in += len(evse.connectors)
        evse_path = f"$.sites[{i}].evses[{j}]"
        es = Subject("EVSE", evse.uid, evse_path, private=not candidate)
        public = is_public_evse(evse, es, report) if candidate else False
        es.private = not public
        entry = statuses.get(evse.uid.casefold()) if public else None
        model = _build_evse(evse, evse_path, es, public, tariffs, used, times, report, now, clock,
                            entry)
        if model is not None and public:
            evse_models.append(model)
    result = SiteResult(None, report.notices, set(used), len(site.evses), connectors_in, frozenset())
    if not candidate:
        return result
    if not evse_models:
        site_subject.notice(report, SITE_WITHOUT_EVSE, "no EVSE of this public site can be "
                            "published; Location not published", Action.EXCLUDED)
        return result
    tz = local_time_zone(time_zone(site.time_zone, site_subject, report), site.country,
                         site_subject, report)
    data = shape(ocpi.Location, location_fields(site, operator, tz, now), site_subject, report)
    data["evses"] = evse_models
    loc = construct(ocpi.Location, data, site_subject, report)
    if loc is None or not coordinates_ok(loc, site_subject, report):
        return result
    location_warnings(loc, site_subject, report)
    for e in evse_models:
        evse_warnings(e, Subject("EVSE", e.uid, site_subject.path), report)
    result.location = stamp_location(loc, times, prev_loc, now, future=clock.limit)
    result.published_uids = frozenset(e.uid.casefold() for e in evse_models)
    return result


def _build_evse(
    evse: ex.Evse,
    path: str,
    subject: Subject,
    public: bool,
    tariffs: dict[str, _TariffState],
    used_tariffs: dict[str, ocpi.Tariff | None],
    times: SourceTimes,
    report: Report,
    now: str,
    clock: WallClock,
    overlay: StatusEntry | None = None,
) -> ocpi.EVSE | None:
    """Rule 3 for one EVSE. Returns the constructed EVSE, or None when it is excluded.

    Non-public EVSEs are still checked (their problems are reported as INFO) so that a
    publisher sees what would break if they were made public.
    """
    visible = [
        (k, c) for k, c in enumerate(evse.connectors) if not is_hidden_connector(c, subject, report)
    ]
    if not evse.connectors:
        subject.notice(report, EVSE_NO_CONNECTORS, "EVSE has no connectors; excluded", Action.EXCLUDED)
        return None
    if not visible:
        if public:
            subject.notice(report, NO_VISIBLE_CONNECTOR, "every connector is hidden "
                           "(is_published: false); EVSE not published", Action.EXCLUDED)
        return None

    ok = True
    connector_invalid = False
    connectors: list[ocpi.Connector] = []
    connector_statuses: list[str] = []
    for k, conn in visible:
        cs = Subject("Connector", f"{evse.uid}/{conn.id}", f"{path}.connectors[{k}]", subject.private)
        if conn.status is not None:
            mapped, known = map_status(conn.status)
            if not known:
                cs.notice(report, UNKNOWN_STATUS, f"status {conn.status!r} is not in the status "
                          "vocabulary; read as UNKNOWN", Action.CORRECTED, field="status", value=conn.status)
            else:
                status_word(conn.status, mapped, cs, report)
            connector_statuses.append(mapped)
        times.connectors[(evse.uid, conn.id)] = _timestamp(conn.updated_at, cs, "updated_at", report,
                                                           clock)
        tariff_id = public_tariff_id(conn, evse)
        tariff: ocpi.Tariff | None = None
        if public:
            tariff = _resolve_tariff(tariff_id, cs, tariffs, report, used_tariffs)
            if tariff is None:
                ok = False
        fields = connector_fields(conn, tariff.id if tariff else None, now, subject=cs, report=report)
        data = shape(ocpi.Connector, fields, cs, report)
        model = construct(ocpi.Connector, data, cs, report, keep=frozenset({"tariff_ids"}))
        if model is None:
            ok = False
            connector_invalid = True
        elif ok and tariff is not None:
            connectors.append(model)
            used_tariffs[tariff.id.casefold()] = tariff

    own_status = overlay.status if overlay else evse.status
    if own_status is not None:
        status, known = map_status(own_status)
        if not known:
            subject.notice(report, UNKNOWN_STATUS, f"status {own_status!r} is not in the status "
                           "vocabulary; published as UNKNOWN", Action.CORRECTED, field="status",
                           value=own_status)
        else:
            status_word(own_status, status, subject, report)
    else:
        status = combine_connector_statuses(connector_statuses)
    status = apply_state_flags(
        status,
        read_flag(evse.is_enabled, "is_enabled", subject, report),
        read_flag(evse.online, "online", subject, report),
    )
    given = [
        t for t in (
            _timestamp(evse.updated_at, subject, "updated_at", report, clock),
            _timestamp(overlay.updated_at if overlay else evse.status_updated_at, subject,
                       "status_updated_at", report, clock,
                       "status overlay updated_at" if overlay else None),
        ) if t
    ]
    times.evses[evse.uid] = max(given) if given else None

    data = shape(ocpi.EVSE, evse_fields(evse, status, now), subject, report)
    data["connectors"] = connectors
    if not ok or not connectors:
        # Still validate the EVSE's own fields so that every problem is reported at once; a
        # stand-in connector fills the required list (it is never published).
        data["connectors"] = connectors or [_STAND_IN_CONNECTOR]
        construct(ocpi.EVSE, data, subject, report)
        if public and connector_invalid:
            subject.notice(report, INVALID_OBJECT, "a visible connector fails OCPI validation; "
                           "EVSE excluded", Action.EXCLUDED, field="connectors")
        return None
    return construct(ocpi.EVSE, data, subject, report)


_STAND_IN_CONNECTOR = ocpi.Connector(
    id="0", standard="IEC_62196_T2", format="SOCKET", power_type="AC_1_PHASE",
    max_voltage=230, max_amperage=16, last_updated="2000-01-01T00:00:00Z",
)


def _resolve_tariff(
    tariff_id: str | None,
    subject: Subject,
    tariffs: dict[str, _TariffState],
    report: Report,
    requested: dict[str, ocpi.Tariff | None],
) -> ocpi.Tariff | None:
    if tariff_id is None:
        subject.notice(report, EVSE_WITHOUT_PUBLIC_TARIFF, "no public tariff for this connector "
                       "(public_tariff_id on the connector or its EVSE); EVSE excluded",
                       Action.EXCLUDED, field="public_tariff_id")
        return None
    state = tariffs.get(tariff_id.casefold())
    if state is None:
        subject.notice(report, TARIFF_NOT_FOUND, f"public tariff {tariff_id!r} is not in the "
                       "export's tariffs; EVSE excluded", Action.EXCLUDED,
                       field="public_tariff_id", value=tariff_id)
        return None
    state.used_publicly = True
    requested.setdefault(tariff_id.casefold(), None)
    if state.model is None:
        subject.notice(report, TARIFF_INVALID, f"public tariff {tariff_id!r} is not valid (see "
                       f"$.tariffs[{state.index}] notices); EVSE excluded", Action.EXCLUDED,
                       field="public_tariff_id", value=tariff_id)
        return None
    if state.expired:
        subject.notice(report, TARIFF_EXPIRED, f"public tariff {tariff_id!r} ended at "
                       f"{state.model.end_date_time}; EVSE excluded", Action.EXCLUDED,
                       field="public_tariff_id", value=tariff_id)
        return None
    return state.model
