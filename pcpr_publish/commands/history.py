"""``pcpr history import`` and ``pcpr reliability``: the status history behind regulation 7.

``history import`` backfills the state database from NDJSON lines
``{"uid": …, "status": …, "at": RFC 3339}`` (for example a CSMS's OCPP StatusNotification log),
so a CPO that starts using pcpr mid-year still reports the whole year. Every line is checked
before anything is written: bad lines are listed (file, line number, what is wrong) and nothing
is imported. Lines are sorted by EVSE and time, exact duplicates dropped, repeats of the same
status merged; each line's status lasts until that EVSE's next line, and the last one until
pcpr's own history of the EVSE begins. Lines inside time pcpr already recorded are skipped: what
pcpr published is the record.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from pcpr_publish.common.dates import normalise_datetime
from pcpr_publish.config import Config
from pcpr_publish.engine.reliability import compute, year_start
from pcpr_publish.errors import ConfigError, InputError, OutputError
from pcpr_publish.read.export.vocabulary import map_status
from pcpr_publish.reliability.compute import local_midnight, rfc3339
from pcpr_publish.state import Interval, State, open_state, parse_state_url, utc_now
from pcpr_publish.stores import open_store

#: Most problems listed before the rest are summarised.
MAX_LISTED = 20


def open_config_state(config: Config) -> State:
    url = parse_state_url(config.state.url) if config.state.url else None
    if url is None:
        raise ConfigError("these commands need a state database: set [state] url, "
                          "PCPR_STATE_URL or --state (docs/state.md)")
    return open_state(url)


def resolve_target(state: State, target: str | None, config: Config) -> str:
    """The target the history belongs to: as given (normalised like a publish names it), or
    the only one the database knows."""
    if target:
        if target.startswith(("s3://", "memory://")):
            return target.rstrip("/")
        return open_store(target, config).url
    known = state.targets()
    if len(known) == 1:
        return known[0]
    if not known:
        raise ConfigError(f"the state {state.shown} knows no target yet; give --target (the "
                          "--to of your publish)")
    raise ConfigError(f"the state {state.shown} holds several targets ({', '.join(known)}); "
                      "choose one with --target")


@dataclass
class ImportResult:
    lines: int
    intervals: int
    duplicates: int
    merged: int
    skipped_recorded: int
    evses: int


def _parse_lines(path: str) -> list[tuple[str, str, str, str | None, int]]:
    """(uid, OCPI status, at, location id, line number) per line; raises with every bad line."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise InputError(path, None, f"cannot be read ({exc.strerror or exc})") from None
    problems: list[str] = []
    rows: list[tuple[str, str, str, str | None, int]] = []
    for n, line in enumerate(raw.splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {n}: not a JSON object")
            continue
        uid, status, at = obj.get("uid"), obj.get("status"), obj.get("at")
        location = obj.get("location_id")
        bad = []
        if not isinstance(uid, str) or not uid.strip():
            bad.append("uid missing or not text")
        mapped, known = map_status(status) if isinstance(status, str) and status.strip() else ("", False)
        if not known:
            bad.append(f"status {status!r} is not an export or OCPI status word")
        when = normalise_datetime(at) if isinstance(at, str) else None
        if when is None:
            bad.append(f"at {at!r} is not an RFC 3339 date-time")
        elif when > utc_now():
            bad.append(f"at {at!r} is in the future")
        if location is not None and not isinstance(location, str):
            bad.append("location_id is not text")
        if bad:
            problems.append(f"line {n}: " + "; ".join(bad))
            continue
        rows.append((uid.strip(), mapped, when, location, n))  # type: ignore[arg-type, union-attr]
    if problems:
        shown = problems[:MAX_LISTED]
        more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise InputError(path, None, f"{len(problems)} bad line{'s' if len(problems) != 1 else ''}, "
                         f"nothing imported: " + "; ".join(shown) + more)
    if not rows:
        raise InputError(path, None, "no status lines; nothing imported")
    return rows


def import_history(path: str, state: State, target: str) -> ImportResult:
    rows = _parse_lines(path)
    rows.sort(key=lambda r: (r[0], r[2], r[4]))
    # pcpr's own history of each EVSE begins at its first recorded interval: imported statuses
    # end there, and lines at or after it are skipped.
    recorded: dict[str, str] = {}
    for i in state.intervals(target):
        if i.uid not in recorded or i.start < recorded[i.uid]:
            recorded[i.uid] = i.start
    facts = {r[0]: r[1] for r in state.evses(target)}
    out: list[Interval] = []
    duplicates = merged = skipped = 0
    by_uid: dict[str, list[tuple[str, str, str, str | None, int]]] = {}
    for r in rows:
        by_uid.setdefault(r[0], []).append(r)
    for uid, lines in by_uid.items():
        first_recorded = recorded.get(uid)
        kept: list[tuple[str, str, str | None]] = []  # (status, at, location)
        for _uid, status, at, location, _n in lines:
            if first_recorded is not None and at >= first_recorded:
                skipped += 1
                continue
            if kept and kept[-1][1] == at:
                if kept[-1][0] == status:
                    duplicates += 1
                else:  # two statuses at the same instant: the later line wins
                    kept[-1] = (status, at, location or kept[-1][2])
                continue
            if kept and kept[-1][0] == status:
                merged += 1
                continue
            kept.append((status, at, location))
        for k, (status, at, location) in enumerate(kept):
            end = kept[k + 1][1] if k + 1 < len(kept) else first_recorded
            out.append(Interval(uid, location or facts.get(uid), status, at, end, "import"))
    state.import_intervals(target, out, utc_now())
    return ImportResult(len(rows), len(out), duplicates, merged, skipped, len(by_uid))


# -- pcpr reliability ---------------------------------------------------------------------------

def parse_day(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{what} {value!r}: not a date (YYYY-MM-DD)") from None


def period(start: str | None, end: str | None, now: float) -> tuple[float, float]:
    """[from, to) in epoch seconds: UK midnights of the given days (``--to`` is inclusive), by
    default the calendar year so far."""
    d_from, d_to = parse_day(start, "--from"), parse_day(end, "--to")
    s = local_midnight(d_from) if d_from else year_start(now)
    e = min(now, local_midnight(date.fromordinal(d_to.toordinal() + 1))) if d_to else now
    if e <= s:
        raise ConfigError("the period is empty: --to must not be before --from (nor --from in "
                          "the future)")
    return s, e


def regulation8_csv(doc: dict[str, Any]) -> bytes:
    """The regulation 8 figures for the period: charge points operated, rapid charge points,
    network reliability."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["period_from", "period_to", "charge_points_operated", "rapid_charge_points",
                     "rapid_network_reliability_pct", "meets_99_pct"])
    net = doc["network"]
    writer.writerow([doc["period"]["from"], doc["period"]["to"], doc["charge_points"]["total"],
                     doc["charge_points"]["rapid"],
                     "" if net["reliability_pct"] is None else f"{net['reliability_pct']:.2f}",
                     "" if net["meets_target"] is None else ("yes" if net["meets_target"] else "no")])
    return buf.getvalue().encode()


def _write(path: str, body: bytes) -> None:
    try:
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(body)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError.from_os_error(path, exc) from None


def reliability_report(config: Config, *, target: str | None, start: str | None, end: str | None,
                       json_path: str | None, csv_path: str | None,
                       echo: Callable[[str], None], now: float | None = None) -> dict[str, Any] | None:
    """Compute, print, and write the requested files. Returns the document (None: no history)."""
    now = datetime.now().timestamp() if now is None else now
    s, e = period(start, end, now)
    with open_config_state(config) as state:
        tgt = resolve_target(state, target, config)
        doc = compute(state, tgt, s, e, now)
    if doc is None:
        echo(f"no status history for {tgt} in {rfc3339(s)} to {rfc3339(e)}: publish with a "
             "state database, or import history with `pcpr history import`")
        return None
    net = doc["network"]
    figure = "no measured time" if net["reliability_pct"] is None else f"{net['reliability_pct']:.2f}%"
    verdict = "" if net["meets_target"] is None else (" (meets 99%)" if net["meets_target"] else " (below 99%)")
    echo(f"{tgt}: {doc['period']['from']} to {doc['period']['to']}")
    echo(f"rapid network reliability: {figure}{verdict}; {net['rapid_evses']} rapid chargers "
         f"({net['measured_evses']} measured) of {doc['charge_points']['total']} charge points")
    echo(f"not reliable {net['not_reliable_s'] / 3600:.1f} h, ineligible (counted as reliable) "
         f"{net['ineligible_s'] / 3600:.1f} h, no data {net['no_data_s'] / 3600:.1f} h")
    for m in doc["months"]:
        value = "no data" if m["reliability_pct"] is None else f"{m['reliability_pct']:.2f}%"
        echo(f"  {m['month']}  {value}")
    if json_path:
        _write(json_path, orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    if csv_path:
        _write(csv_path, regulation8_csv(doc))
    return doc


def import_command(path: str, config: Config, target: str | None,
                   echo: Callable[[str], None]) -> ImportResult:
    with open_config_state(config) as state:
        tgt = resolve_target(state, target, config)
        result = import_history(path, state, tgt)
    echo(f"imported {result.intervals} status intervals for {result.evses} EVSEs into {tgt} "
         f"({result.lines} lines; {result.duplicates} duplicates dropped, {result.merged} repeats "
         f"merged, {result.skipped_recorded} inside history pcpr already recorded skipped)")
    return result
