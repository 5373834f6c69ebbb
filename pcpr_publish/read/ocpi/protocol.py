"""OCPI wire facts that the file reader, the puller and the CLI share, stated once.

The versions pcpr reads (best first: what ``--ocpi-version`` offers and what discovery prefers),
how a ``Link: <…>; rel="next"`` header (RFC 8288) names the next page, which OCPI paging
uses both in live responses and in saved page files, and how a response body says that it is
an error rather than data.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

OCPI_VERSIONS = ("2.2.1", "2.2", "2.1.1", "2.1")

_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')

#: Keys that a JSON error body carries when it is not an OCPI envelope (API gateways, web
#: frameworks: ``{"name": "Unauthorized", "error": …}``, ``{"errors": […]}``, ``{"fault": …}``).
ERROR_KEYS = ("error", "errors", "fault", "exception")


def next_link(values: list[str] | None, base: str) -> str | None:
    """The ``rel="next"`` target of Link headers (RFC 8288), resolved against ``base``."""
    for value in values or []:
        for m in _LINK.finditer(value):
            params = m.group(2)
            rels = re.findall(r'rel\s*=\s*"?([^";,]+)"?', params, re.IGNORECASE)
            if any("next" in r.lower().split() for r in rels):
                return urljoin(base, m.group(1).strip())
    return None


def status_code_value(value: Any) -> int | None:
    """An OCPI ``status_code`` as an integer: a JSON number, or a string of digits as some
    servers send it (``"1000"``, ``"2001"``). None for anything else (``true``, ``"OK"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def response_error(doc: Any) -> str | None:
    """Why a response body is an error and not data, or None when it may hold data.

    An OCPI envelope is an error unless its ``status_code`` is 1xxx (success), whatever its
    JSON type. A JSON object without ``status_code`` (not an OCPI envelope) is an error when it
    carries an error (``error``, ``errors``, ``fault``, ``exception``, or ``"success": false``).
    """
    if not isinstance(doc, dict):
        return None
    message = doc.get("status_message")
    detail = f" ({_short(message)})" if isinstance(message, str) and message.strip() else ""
    if "status_code" in doc:
        raw = doc.get("status_code")
        code = status_code_value(raw)
        if code is None:
            return f"OCPI status_code {_short(repr(raw))} is not a status code{detail}"
        if not 1000 <= code <= 1999:
            return f"OCPI status_code {code}{detail}: the server refused the request"
        return None
    carried = [k for k in ERROR_KEYS if doc.get(k) not in (None, "", [], {})]
    if carried or doc.get("success") is False:
        what = carried[0] if carried else "success"
        value = doc.get(what)
        name = doc.get("name") or doc.get("message") or doc.get("title")
        summary = _short(str(name) if name else (value if isinstance(value, str) else repr(value)))
        return f"not an OCPI response but an error ({what}: {summary})"
    return None


def _short(text: str, limit: int = 160) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
