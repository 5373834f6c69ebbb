"""Stage "select": the export-format selection rules 1-3 that need no OCPI validation.

Which sites are candidates, which EVSEs are public, which connectors are hidden, and which
tariff id a connector publishes. Flags that are not JSON booleans are reported and read in the
safe direction (not visible, not published, not enabled, not online).
"""

from __future__ import annotations

from typing import Any

from pcpr_publish.notices import INVALID_FLAG, Action, Report
from pcpr_publish.ocpi.construct import Subject
from pcpr_publish.read.export import models as ex


def read_flag(value: Any, name: str, subject: Subject, report: Report) -> bool | None:
    """True/False for JSON booleans, None when absent; anything else → reported, False."""
    if value is None or isinstance(value, bool):
        return value
    subject.notice(
        report, INVALID_FLAG, f"{name} must be true or false, found {value!r}; read as false",
        Action.CORRECTED, field=name, value=value,
    )
    return False


def is_candidate_site(site: ex.Site, subject: Subject, report: Report) -> bool:
    """Rule 1: a site is a candidate only when ``public_visibility`` is ``true``."""
    return read_flag(site.public_visibility, "public_visibility", subject, report) is True


def is_public_evse(evse: ex.Evse, subject: Subject, report: Report) -> bool:
    """Rule 2: at least one of evse_type/privilege_status given, all PUBLIC, not unpublished."""
    given = [v for v in (evse.evse_type, evse.privilege_status) if v is not None]
    published = read_flag(evse.is_published, "is_published", subject, report)
    if not given or published is False:
        return False
    return all(isinstance(v, str) and v.strip().upper() == "PUBLIC" for v in given)


def is_hidden_connector(conn: ex.Connector, subject: Subject, report: Report) -> bool:
    return read_flag(conn.is_published, "is_published", subject, report) is False


def public_tariff_id(conn: ex.Connector, evse: ex.Evse) -> str | None:
    """Rule 3: the connector's own public tariff, else the EVSE's (a connector's own id never
    falls back to the EVSE's). Tariffs reachable only through access_profiles never count."""
    own = conn.public_tariff_id if conn.public_tariff_id is not None else evse.public_tariff_id
    if own is None or isinstance(own, bool):
        return None
    if isinstance(own, int):
        return str(own)
    return (own.strip() or None) if isinstance(own, str) else None
