"""OCPI wire facts that the file reader, the puller and the CLI share, stated once.

The versions pcpr reads (best first: what ``--ocpi-version`` offers and what discovery prefers)
and how a ``Link: <…>; rel="next"`` header (RFC 8288) names the next page, which OCPI paging
uses both in live responses and in saved page files.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

OCPI_VERSIONS = ("2.2.1", "2.2", "2.1.1", "2.1")

_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')


def next_link(values: list[str] | None, base: str) -> str | None:
    """The ``rel="next"`` target of Link headers (RFC 8288), resolved against ``base``."""
    for value in values or []:
        for m in _LINK.finditer(value):
            params = m.group(2)
            rels = re.findall(r'rel\s*=\s*"?([^";,]+)"?', params, re.IGNORECASE)
            if any("next" in r.lower().split() for r in rels):
                return urljoin(base, m.group(1).strip())
    return None
