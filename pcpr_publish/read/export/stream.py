"""Read a large export without holding it twice: unknown fields are dropped while parsing.

Parsing a whole export with ``orjson.loads`` builds every value of the file as Python objects
before anything can be dropped: back-office fields the export models ignore (telemetry, notes,
histories) cost ten to thirty times their size in memory, and a national export needed several
gigabytes. :func:`parse_export_document` instead walks the top-level object itself and parses
``sites`` and ``tariffs`` one element at a time with the standard library's C JSON scanner, over
a window of the file decoded a megabyte at a time. Each element is cut down to the fields
its model declares (:func:`strip_site`, :func:`strip_tariff`) as soon as it is parsed, so the
unknown fields of one site at most are ever in memory, and the file is never held as text.

It returns ``None`` whenever it is not sure to read the file exactly as ``orjson`` would (a
syntax error, a lone surrogate escape, a top level that is not an object, nesting too deep), and
the caller then parses the file with ``orjson`` as before: same document, same error messages.
Numbers are read as ``orjson`` reads them (see ``reader._huge_int``), and ``NaN``/``Infinity``
are refused as ``orjson`` refuses them.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from typing import Any

from pcpr_publish.read.export import models as ex

#: Field names each object of the export keeps; anything else is dropped while parsing (the
#: models would ignore it anyway: ``extra="ignore"``).
SITE_FIELDS = frozenset(ex.Site.model_fields)
EVSE_FIELDS = frozenset(ex.Evse.model_fields)
CONNECTOR_FIELDS = frozenset(ex.Connector.model_fields)
TARIFF_FIELDS = frozenset(ex.Tariff.model_fields)

#: Bytes decoded into the window at a time (the window holds up to about twice this as text).
CHUNK = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
#: A ``\\uD800``-``\\uDFFF`` escape: orjson refuses lone surrogates and Python's parser does not,
#: so a file with any such escape is left to orjson (valid pairs are rare in exports).
_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


class _Unsure(Exception):
    """The stream reader cannot tell how orjson would read this file: let orjson read it."""


def _keep(obj: Any, fields: frozenset[str]) -> Any:
    if isinstance(obj, dict):
        return {k: v for k, v in obj.items() if k in fields}
    return obj


def strip_connector(obj: Any) -> Any:
    return _keep(obj, CONNECTOR_FIELDS)


def strip_evse(obj: Any) -> Any:
    obj = _keep(obj, EVSE_FIELDS)
    if isinstance(obj, dict) and isinstance(obj.get("connectors"), list):
        obj["connectors"] = [strip_connector(c) for c in obj["connectors"]]
    return obj


def strip_site(obj: Any) -> Any:
    """A site as its model reads it: only declared fields, in its EVSEs and connectors too."""
    obj = _keep(obj, SITE_FIELDS)
    if isinstance(obj, dict) and isinstance(obj.get("evses"), list):
        obj["evses"] = [strip_evse(e) for e in obj["evses"]]
    return obj


def strip_tariff(obj: Any) -> Any:
    return _keep(obj, TARIFF_FIELDS)


#: Strings up to this length are shared (:class:`StringPool`); longer ones are rarely repeated.
SHARED_STRING_MAX = 40


class StringPool:
    """One object per distinct short string of an export, instead of one per occurrence.

    The JSON scanner makes a new string object for every value it reads: a status, an enum
    word, a time of day, a town, a nested key, repeated across hundreds of thousands of sites,
    were each a separate object, a sixth of the memory of the parsed export. The pool is
    only kept while the file is read.
    """

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}

    def share(self, value: Any) -> Any:
        """``value`` (a parsed JSON value) with its short strings and keys shared."""
        kind = type(value)
        if kind is str:
            return self.strings.setdefault(value, value) if len(value) <= SHARED_STRING_MAX else value
        if kind is dict:
            strings = self.strings
            return {strings.setdefault(k, k): self.share(v) for k, v in value.items()}
        if kind is list:
            return [self.share(v) for v in value]
        return value


#: What each element of the two big arrays becomes as soon as it is parsed.
Converters = dict[str, Callable[[Any], Any]]
STRIP: Converters = {"sites": strip_site, "tariffs": strip_tariff}


class Refused(Exception):
    """Raised by a converter for an element it cannot take: the stream reader gives up and the
    caller reads the file the ordinary way (which then reports the problem)."""


class _Window:
    """The file as text, a window at a time: ``buf[i:]`` is what has not been consumed yet."""

    def __init__(self, data: bytes, decoder: json.JSONDecoder) -> None:
        self.data = data
        self.at = 0  # bytes decoded so far
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.i = 0
        self.decoder = decoder

    def more(self, size: int = CHUNK) -> bool:
        """Decode the next ``size`` bytes into the window (dropping what was consumed)."""
        if self.at >= len(self.data):
            return False
        chunk = self.data[self.at:self.at + size]
        self.at += len(chunk)
        self.buf = self.buf[self.i:] + self.text.decode(chunk, final=self.at >= len(self.data))
        self.i = 0
        return True

    def peek(self) -> str:
        """The next non-blank character ("" at the end of the file)."""
        while True:
            self.i = _WS.match(self.buf, self.i).end()  # type: ignore[union-attr]
            if self.i < len(self.buf) or not self.more():
                return self.buf[self.i:self.i + 1]

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise _Unsure
        self.i += 1

    def value(self) -> Any:
        """The next JSON value. One cut by the end of the window is read again with more of
        the file (a number could continue too), in bigger steps each time."""
        self.peek()
        size = CHUNK
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.i)
            except json.JSONDecodeError:
                if self.more(size):
                    size *= 2
                    continue
                raise _Unsure from None
            if end >= len(self.buf) and self.more(size):
                size *= 2
                continue
            self.i = end
            return obj


def parse_export_document(data: bytes, decoder: json.JSONDecoder,
                          convert: Converters = STRIP) -> dict[str, Any] | None:
    """The export document with each element of ``sites`` and ``tariffs`` passed through
    ``convert`` as soon as it is parsed (by default: unknown fields dropped), or None when
    orjson should read the file instead (see the module docstring; also when a converter raises
    :class:`Refused`). ``data``: UTF-8 without a byte-order mark."""
    if _SURROGATE_ESCAPE.search(data):
        return None
    window = _Window(data, decoder)
    try:
        window.take("{")
        doc: dict[str, Any] = {}
        if window.peek() == "}":
            window.i += 1
        else:
            while True:
                key = window.value()
                if not isinstance(key, str):
                    raise _Unsure
                window.take(":")
                strip = convert.get(key)
                if strip is not None and window.peek() == "[":
                    doc[key] = _array(window, strip)
                else:
                    doc[key] = window.value()
                if window.peek() == ",":
                    window.i += 1
                    continue
                window.take("}")
                break
        if window.peek() != "":
            raise _Unsure  # something after the document
    except (_Unsure, Refused, ValueError, RecursionError):
        return None
    return doc


def _array(window: _Window, strip: Callable[[Any], Any]) -> list[Any]:
    window.take("[")
    items: list[Any] = []
    if window.peek() == "]":
        window.i += 1
        return items
    while True:
        items.append(strip(window.value()))
        if window.peek() == ",":
            window.i += 1
            continue
        window.take("]")
        return items
