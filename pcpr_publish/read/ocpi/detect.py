"""Find the OCPI Locations and Tariffs in a JSON document, whatever it is wrapped in.

Real feeds wrap their objects in many ways (see ``shared/fixtures/real-feeds/README.md``):

* the OCPI envelope ``{"data": [...], "status_code": 1000, "status_message", "timestamp"}``,
  or one object in it (``{"data": {...}}``, a per-object GET);
* a bare array of objects, or one bare object (Jolt's per-tariff endpoint);
* ``{"locations": [...]}`` / ``{"tariffs": [...]}`` (Jolt);
* a nested ``{"data": {"locations": {envelope}, "tariffs": {envelope}}}`` (Mer's WordPress route);
* a recorded HTTP exchange ``{"request": {...}, "response": {"status_code", "headers", "body"}}``
  (the fixtures of the OEVM project), whose ``body`` is what the operator sent.

Which objects are Locations and which are Tariffs is decided **by content** (a Location has
``evses``/``coordinates``/``address``; a Tariff has ``elements``/``currency``), helped by the
key or URL they came under. Every wrapper that is not a plain OCPI envelope is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pcpr_publish.common.dates import normalise_datetime
from pcpr_publish.errors import InputError
from pcpr_publish.notices import (
    OCPI_ENVELOPE,
    OCPI_OBJECT_IGNORED,
    OCPI_PULL_PAGING,
    Action,
    Report,
    Severity,
)
from pcpr_publish.read.ocpi.protocol import next_link

LOCATION = "location"
TARIFF = "tariff"

_LOCATION_KEYS = frozenset({
    "evses", "coordinates", "address", "city", "charging_stations", "charge_stations",
    "publish", "parking_type", "time_zone", "opening_times", "facilities", "postal_code",
})
_TARIFF_KEYS = frozenset({
    "elements", "currency", "tariff_alt_text", "tariff_alt_url", "min_price", "max_price",
})
_KIND_WORDS = {"locations": LOCATION, "location": LOCATION, "tariffs": TARIFF, "tariff": TARIFF}


@dataclass
class Item:
    """One Location or Tariff object found in the input, and where it was found."""

    kind: str
    obj: dict[str, Any]
    source: str  # file name or URL
    path: str  # JSON path inside the source, e.g. $.data[3]

    @property
    def where(self) -> str:
        return f"{self.source} {self.path}"


@dataclass
class Found:
    items: list[Item] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)  # envelope timestamps (normalised)
    # Recorded HTTP exchanges: the URLs requested, and the next pages their Link headers name.
    requested: set[str] = field(default_factory=set)
    next_links: list[tuple[str, str]] = field(default_factory=list)  # (where, next URL)


def classify(obj: Any, hint: str | None = None) -> str | None:
    """``location``, ``tariff`` or None for one JSON value, by its keys (the hint breaks ties)."""
    if not isinstance(obj, dict):
        return None
    keys = obj.keys()
    loc = len(_LOCATION_KEYS & keys)
    tar = len(_TARIFF_KEYS & keys)
    if loc > tar:
        return LOCATION
    if tar > loc:
        return TARIFF
    return hint if loc else None


def hint_from_text(text: Any) -> str | None:
    """``…/locations?offset=2`` → location; ``…/tariffs/4`` → tariff; else None."""
    if not isinstance(text, str):
        return None
    path = text.split("?", 1)[0].rstrip("/").lower()
    parts = path.split("/")
    for part in reversed(parts[-2:]):
        if part in _KIND_WORDS:
            return _KIND_WORDS[part]
    return None


class _Walker:
    def __init__(self, source: str, report: Report, hint: str | None) -> None:
        self.source = source
        self.report = report
        self.found = Found()
        self.hint = hint

    def note(self, path: str, message: str, severity: Severity | None = None) -> None:
        self.report.add(OCPI_ENVELOPE, kind="Export", object_id="", path=f"{self.source} {path}",
                        message=message, action=Action.CORRECTED, severity=severity)

    def fail(self, path: str, message: str) -> InputError:
        return InputError(self.source, path, message)

    # -- shapes --------------------------------------------------------------------------
    def walk(self, node: Any, path: str, hint: str | None) -> None:
        if isinstance(node, list):
            self.note(path, "a bare JSON array, not an OCPI response envelope")
            self.items(node, path, hint)
            return
        if not isinstance(node, dict):
            raise self.fail(path, f"expected OCPI Locations or Tariffs, found a JSON "
                            f"{type(node).__name__}")
        if "sites" in node or str(node.get("format", "")).startswith("pcpr-export/"):
            if str(node.get("format", "")).startswith("pcpr-export/"):
                raise self.fail("$.format", "this is a back-office export, not OCPI: use "
                                "--input-format export (or auto)")
            raise self.fail("$.format", 'not OCPI; as a back-office export it needs "format": '
                            '"pcpr-export/1"')
        response = node.get("response")
        if isinstance(response, dict) and "body" in response:
            self.recorded(node, response, path, hint)
            return
        if "data" in node or ("status_code" in node and classify(node, hint) is None):
            self.envelope(node, path, hint)
            return
        plural = [k for k in ("locations", "tariffs") if k in node]
        if plural:
            for key in plural:
                sub = node[key]
                self.note(f"{path}.{key}", f'objects under "{key}", not in an OCPI response '
                          "envelope")
                if isinstance(sub, dict) and "data" in sub:
                    self.envelope(sub, f"{path}.{key}", _KIND_WORDS[key])
                elif isinstance(sub, list):
                    self.items(sub, f"{path}.{key}", _KIND_WORDS[key])
                else:
                    raise self.fail(f"{path}.{key}", "expected a list of objects")
            return
        kind = classify(node, hint)
        if kind is not None:
            self.note(path, f"one bare {kind.capitalize()} object, not in an OCPI response envelope")
            self.add(kind, node, path)
            return
        raise self.fail(path, "neither OCPI Locations nor Tariffs: no data list, no Location or "
                        "Tariff object found")

    def recorded(self, node: dict[str, Any], response: dict[str, Any], path: str,
                 hint: str | None) -> None:
        request = node.get("request") if isinstance(node.get("request"), dict) else {}
        url = request.get("url") if isinstance(request.get("url"), str) else None
        hint = hint_from_text(url) or hint
        if url:
            self.found.requested.add(url)
        headers = response.get("headers")
        if isinstance(headers, dict):
            self.recorded_headers({str(k).lower(): v for k, v in headers.items()}, url,
                                  f"{path}.response.headers")
        status = response.get("status_code")
        if isinstance(status, int) and not 200 <= status < 300:
            raise self.fail(f"{path}.response.status_code", f"recorded HTTP response has status "
                            f"{status}; it holds no data")
        self.note(path, "a recorded HTTP exchange (request/response); its response body is read",
                  Severity.INFO)
        self.walk(response["body"], f"{path}.response.body", hint)

    def recorded_headers(self, headers: dict[str, Any], url: str | None, path: str) -> None:
        """The paging headers of a recorded response get the checks a live pull applies."""
        x_limit = headers.get("x-limit")
        if x_limit is not None and not (str(x_limit).strip().isdigit() and int(str(x_limit)) > 0):
            self.report.add(OCPI_PULL_PAGING, kind="Export", object_id="",
                            path=f"{self.source} {path}", field="X-Limit",
                            message=f"X-Limit {x_limit!r} is not the server's page maximum (OCPI: "
                            "a positive integer); ignored", action=Action.IGNORED, value=x_limit)
        link = headers.get("link")
        if isinstance(link, str):

            target = next_link([link], url or "")
            if target:
                self.found.next_links.append((f"{self.source} {path}", target))

    def envelope(self, node: dict[str, Any], path: str, hint: str | None) -> None:
        status = node.get("status_code")
        message = node.get("status_message")
        if status is not None:
            if isinstance(status, bool) or not isinstance(status, int):
                self.note(f"{path}.status_code", f"status_code {status!r} is not an integer")
            elif not 1000 <= status <= 1999:
                detail = f" ({message})" if message else ""
                raise self.fail(f"{path}.status_code", f"OCPI status_code {status}{detail}: the "
                                "response is an error and holds no data")
        else:
            self.note(path, "envelope without status_code")
        ts = node.get("timestamp")
        if ts is None:
            self.note(path, "envelope without timestamp")
        else:
            norm = normalise_datetime(ts)
            if norm is None:
                self.note(f"{path}.timestamp", f"envelope timestamp {ts!r} is not a date-time; "
                          "ignored")
            else:
                self.found.timestamps.append(norm)
        if status is not None and message is None:
            self.note(path, "envelope without status_message (optional in OCPI)", Severity.INFO)
        data = node.get("data")
        dpath = f"{path}.data"
        if isinstance(data, list):
            self.items(data, dpath, hint)
        elif isinstance(data, dict):
            nested = [k for k in ("locations", "tariffs") if k in data]
            if nested:
                self.note(dpath, "Locations and Tariffs nested in one response "
                          '({"data": {"locations": …, "tariffs": …}}), not OCPI')
                for key in nested:
                    sub = data[key]
                    if isinstance(sub, dict) and "data" in sub:
                        self.envelope(sub, f"{dpath}.{key}", _KIND_WORDS[key])
                    elif isinstance(sub, list):
                        self.items(sub, f"{dpath}.{key}", _KIND_WORDS[key])
                    else:
                        raise self.fail(f"{dpath}.{key}", "expected an envelope or a list")
            else:
                kind = classify(data, hint)
                if kind is None:
                    raise self.fail(dpath, "data is neither a Location nor a Tariff")
                self.add(kind, data, dpath)
        elif data is None:
            raise self.fail(dpath, "the response has no data")
        else:
            raise self.fail(dpath, f"data is a JSON {type(data).__name__}, not a list of objects")

    def items(self, items: list[Any], path: str, hint: str | None) -> None:
        kinds = [classify(obj, None) for obj in items]
        known = {k for k in kinds if k}
        # A list of one kind lends its kind to items too sparse to classify alone.
        list_kind = known.pop() if len(known) == 1 else hint
        for i, (obj, kind) in enumerate(zip(items, kinds, strict=True)):
            kind = kind or (list_kind if isinstance(obj, dict) and obj else None)
            if kind is None:
                what = type(obj).__name__ if not isinstance(obj, dict) else "object"
                self.report.add(OCPI_OBJECT_IGNORED, kind="Export", object_id="",
                                path=f"{self.source} {path}[{i}]",
                                message=f"item is not a Location or Tariff ({what}); ignored",
                                action=Action.IGNORED)
                continue
            self.add(kind, obj, f"{path}[{i}]")

    def add(self, kind: str, obj: dict[str, Any], path: str) -> None:
        self.found.items.append(Item(kind, obj, self.source, path))


def find_objects(doc: Any, source: str, report: Report, hint: str | None = None) -> Found:
    """Every Location and Tariff in one parsed document (raises InputError if it holds none)."""
    walker = _Walker(source, report, hint)
    walker.walk(doc, "$", hint or hint_from_text(source))
    return walker.found
