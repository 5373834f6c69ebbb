"""Test data factories: small back-office export objects, the selection-rules export, and a
publisher wired to an in-memory store. Shared by the test files; no tests here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcpr_publish.config import Config, RunOptions, load_config
from pcpr_publish.engine.publisher import Publisher
from pcpr_publish.stores.memory import MemoryStore

EXPORTED_AT = "2026-11-20T09:00:00Z"


def conn(cid: str = "1", **kw: Any) -> dict[str, Any]:
    base = {"id": cid, "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_3_PHASE",
            "max_voltage": 230, "max_amperage": 32}
    base.update(kw)
    return base


def evse(uid: str, *connectors: dict[str, Any], **kw: Any) -> dict[str, Any]:
    base = {"uid": uid, "evse_type": "PUBLIC", "public_tariff_id": "AC", "status": "AVAILABLE",
            "connectors": list(connectors) or [conn()]}
    base.update(kw)
    return base


def site(sid: str, *evses: dict[str, Any], **kw: Any) -> dict[str, Any]:
    base = {"id": sid, "name": f"Site {sid}", "public_visibility": True, "address": "1 High Street",
            "city": "Leeds", "postal_code": "LS1 1AA", "country": "GBR", "latitude": 53.7965,
            "longitude": -1.5479, "opening_times": "24/7", "evses": list(evses)}
    base.update(kw)
    return base


def energy_tariff(tid: str, price: Any = 0.4583, **kw: Any) -> dict[str, Any]:
    base = {"id": tid, "currency": "GBP", "type": "AD_HOC_PAYMENT",
            "elements": [{"price_components": [{"type": "ENERGY", "price": price, "vat": 20}]}]}
    base.update(kw)
    return base


def selection_export() -> dict[str, Any]:
    return {
        "format": "pcpr-export/1",
        "exported_at": EXPORTED_AT,
        "operator": {"country_code": "GB", "party_id": "PCP", "name": "Plug Co"},
        "sites": [
            # Rule 1: only public_visibility true makes a candidate.
            site("S-PUBLIC",
                 evse("E-TYPE-PUBLIC"),                                      # rule 2: evse_type only
                 evse("E-PRIV-PUBLIC", evse_type=None, privilege_status="public"),  # case-insensitive
                 evse("E-BOTH-PUBLIC", privilege_status="PUBLIC"),
                 evse("E-RESTRICTED", privilege_status="RESTRICTED"),        # one given is not PUBLIC
                 evse("E-PRIVATE", evse_type="PRIVATE"),
                 evse("E-NO-TYPE", evse_type=None),                          # neither given
                 evse("E-UNPUBLISHED", is_published=False),
                 evse("E-BAD-FLAG", is_published="no"),                      # not a boolean: safe side
                 ),
            site("S-HIDDEN", evse("E-ON-HIDDEN-SITE"), public_visibility=False),
            site("S-ABSENT-FLAG", evse("E-ON-ABSENT-SITE"), public_visibility=None),
            site("S-STRING-FLAG", evse("E-ON-STRING-SITE"), public_visibility="true"),
            site("S-TARIFFS",
                 # Rule 3: a hidden connector needs no tariff; the visible one is published.
                 evse("E-HIDDEN-CONN", conn("1"), conn("2", is_published=False, public_tariff_id="NOPE")),
                 # A connector's own tariff overrides the EVSE's.
                 evse("E-OVERRIDE", conn("1"), conn("2", standard="CHADEMO", format="CABLE",
                                                   power_type="DC", max_voltage=500, max_amperage=125,
                                                   public_tariff_id="DC")),
                 # A connector's own (missing) tariff never falls back to the EVSE's.
                 evse("E-OWN-MISSING", conn("1", public_tariff_id="GONE")),
                 evse("E-NO-TARIFF", public_tariff_id=None),
                 evse("E-DANGLING", public_tariff_id="GONE"),
                 evse("E-INVALID-TARIFF", public_tariff_id="NEGATIVE"),
                 evse("E-EXPIRED-TARIFF", public_tariff_id="EXPIRED"),
                 evse("E-EUR-TARIFF", public_tariff_id="EUR"),
                 evse("E-ACCESS-ONLY", public_tariff_id=None,
                      access_profiles=[{"name": "Staff", "tariff_id": "STAFF"}]),
                 evse("E-ALL-HIDDEN", conn("1", is_published=False)),
                 evse("E-BAD-CONNECTOR", conn("1", standard="WARP-DRIVE")),
                 evse("E-FREE", public_tariff_id="FREE"),
                 ),
            # Rule 4: a candidate site with no published EVSE is not published.
            site("S-NOTHING", evse("E-NOTHING", public_tariff_id="GONE")),
            # Private site whose EVSE uses an otherwise unused tariff: the tariff stays private.
            site("S-DEPOT", evse("E-DEPOT", public_tariff_id="DEPOT"), public_visibility=False),
        ],
        "tariffs": [
            energy_tariff("AC"),
            energy_tariff("DC", 0.625),
            energy_tariff("NEGATIVE", -0.1),
            energy_tariff("EXPIRED", end_date_time="2026-11-01T00:00:00Z"),
            energy_tariff("EUR", currency="EUR"),
            energy_tariff("STAFF", 0.1),
            energy_tariff("UNUSED"),
            energy_tariff("DEPOT", 0.2),
            {"id": "FREE", "currency": "GBP",
             "elements": [{"price_components": [{"type": "FLAT", "price": 0}]}]},
        ],
    }


def config_with(report: Path | str | None = None, **sections: dict[str, Any]) -> Config:
    """A configuration from defaults only (no pcpr.toml, no environment) plus ``sections``."""
    overrides: dict[str, dict[str, Any]] = {k: dict(v) for k, v in sections.items()}
    if report is not None:
        overrides.setdefault("build", {})["report"] = str(report)
    return load_config(env={}, overrides=overrides)


def memory_publisher(inputs: list[Path | str], store: MemoryStore, report: Path, *,
                     config: Config | None = None, **options: Any) -> Publisher:
    """A long-lived Publisher (watch-mode state) writing to ``store``; guards off unless given."""
    cfg = config or config_with(report)
    if config is not None:
        cfg = cfg.model_copy(update={"build": cfg.build.model_copy(update={"report": str(report)})})
    options.setdefault("guards", False)
    return Publisher([str(p) for p in inputs], "memory://", cfg, RunOptions(**options), store=store)


def one_site_export(**top: Any) -> dict[str, Any]:
    """The smallest public export: site S1 with EVSE E1 (one connector) on tariff AC; ``top``
    replaces top-level fields."""
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")))]
    doc["tariffs"] = [energy_tariff("AC")]
    doc.update(top)
    return doc


@dataclass
class RecordingStore(MemoryStore):
    """A MemoryStore that also keeps every write's bytes, so a run can be replayed step by step."""

    history: list[tuple[str, str, bytes | None]] = field(default_factory=list)

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        super().write(key, body, content_type, cache_control)
        with self._mutex:
            self.history.append(("put", key, body))

    def delete(self, keys: list[str]) -> None:
        super().delete(keys)
        with self._mutex:
            self.history.extend(("delete", k, None) for k in keys)

    def snapshot(self) -> dict[str, bytes]:
        return {k: v[0] for k, v in self.objects.items()}

    def reset_log(self) -> None:
        self.log.clear()
        self.history.clear()
