"""Helpers for the HTML page tests (test_pages.py, test_browser.py): datasets from exports, a
hostile export full of markup, writing a rendered site to a folder, and a small HTML reader."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pcpr_publish.config import Config, load_config
from pcpr_publish.engine.publisher import build_site
from pcpr_publish.pipeline.dataset import Dataset, build_dataset
from pcpr_publish.read.export.reader import export_from_document
from pcpr_publish.sample import generate_sample

EXPORTED_AT = "2026-11-20T09:00:00Z"


def dataset_from(doc: dict[str, Any]) -> Dataset:
    return build_dataset(export_from_document(copy.deepcopy(doc), "test-export"))


def sample_dataset(sites: int = 60, seed: int = 1) -> Dataset:
    return dataset_from(generate_sample(sites, seed, EXPORTED_AT))


def config(**site: Any) -> Config:
    return load_config(env={}, overrides={"site": site} if site else None)


def write_site(dataset: Dataset, cfg: Config, folder: Path) -> dict[str, bytes]:
    """Render the whole site (JSON and pages) the way ``pcpr build`` does and write it."""
    site = build_site(dataset, cfg)
    for key, f in site.items():
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.body)
    return {k: f.body for k, f in site.items()}


# ---------------------------------------------------------------------------- a hostile export

#: Every string a page shows, set to markup that would run or inject if it were not escaped.
#: Each payload sets ``window.__pwned`` when it runs.
EVIL_ID = '"><img src=x onerror=__pwned=8>'
EVIL = {
    "operator": "Evil <script>window.__pwned=10</script> Ltd",
    "name": '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">Evil "Site" & Co',
    "address": "1 <b onmouseover=window.__pwned=3>Bold</b> Road",
    "city": "<svg onload=window.__pwned=4>",
    "postal_code": "<i>E1</i>",
    "directions": "</p><script>window.__pwned=5</script> left at the <marquee>",
    "physical_reference": "<img src=x>",
    "evse_directions": "<iframe src=javascript:window.__pwned=6></iframe>",
    "evse_id": "<script>window.__pwned=7</script>",
    "alt_text": "<script>window.__pwned=9</script> pay by card",
}


def evil_export() -> dict[str, Any]:
    """A small export (pcpr-export/1) whose texts are full of HTML and ``<script>``, plus one
    ordinary site so that the finder has something else to list."""
    def evse(uid: str, **extra: Any) -> dict[str, Any]:
        return {
            "uid": uid, "evse_type": "PUBLIC", "status": "AVAILABLE",
            "status_updated_at": "2026-11-20T08:30:00Z", "public_tariff_id": "TRF-EVIL",
            "connectors": [
                {"id": "1", "standard": "CCS", "format": "CABLE", "power_type": "DC",
                 "max_voltage": 920, "max_amperage": 200, "max_electric_power": 150000},
                {"id": "2", "standard": "Type 2", "format": "SOCKET", "power_type": "AC_3_PHASE",
                 "max_voltage": 230, "max_amperage": 32},
            ],
            **extra,
        }

    return {
        "format": "pcpr-export/1",
        "exported_at": EXPORTED_AT,
        "operator": {"country_code": "GB", "party_id": "EVL", "name": EVIL["operator"]},
        "sites": [
            {
                "id": EVIL_ID, "name": EVIL["name"], "public_visibility": True,
                "address": EVIL["address"], "city": EVIL["city"], "postal_code": EVIL["postal_code"],
                "country": "GB", "latitude": 51.5072, "longitude": -0.1276,
                "directions": EVIL["directions"], "opening_times": "24/7",
                "updated_at": "2026-11-19T10:00:00Z",
                "evses": [evse("EVIL-1", physical_reference=EVIL["physical_reference"],
                               directions=EVIL["evse_directions"], evse_id=EVIL["evse_id"]),
                          evse("EVIL-2", status="CHARGING")],
            },
            {
                "id": "PLAIN-1", "name": "Plain Street Car Park", "public_visibility": True,
                "address": "2 Plain Street", "city": "Leeds", "postal_code": "LS1 4AB",
                "country": "GBR", "latitude": 53.8008, "longitude": -1.5491,
                "updated_at": "2026-11-19T10:00:00Z",
                "evses": [evse("PLAIN-E1", status="OUT_OF_ORDER")],
            },
        ],
        "tariffs": [
            {"id": "TRF-EVIL", "currency": "GBP", "alt_text": EVIL["alt_text"],
             "elements": [{"price_components": [{"type": "ENERGY", "price": "0.4583", "vat": 20}]}],
             "updated_at": "2026-11-01T00:00:00Z"},
        ],
    }


# ---------------------------------------------------------------------------- reading HTML


class PageReader(HTMLParser):
    """Collects what the tests look at: elements' attributes, links, scripts and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._script_depth = 0
        self.inline_scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._script_depth += 1
            if not dict(attrs).get("src"):
                self.inline_scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script_depth:
            self._script_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._script_depth and self.inline_scripts:
            self.inline_scripts[-1] += data
        self.text.append(data)

    @property
    def plain_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def urls(self) -> list[str]:
        out = []
        for tag, attrs in self.elements:
            for name in ("href", "src"):
                value = attrs.get(name)
                if value is not None and not (tag == "meta"):
                    out.append(value)
        return out


def read_page(body: bytes) -> PageReader:
    reader = PageReader()
    reader.feed(body.decode("utf-8"))
    reader.close()
    return reader


# ---------------------------------------------------------------------------- mixed prices

#: VAT-inclusive pence per kWh of the priced tariffs in :func:`mixed_price_export`.
MIXED_PENCE = ("45.0", "80.0")
MIXED_ID = "MIX-1"


def mixed_price_export() -> dict[str, Any]:
    """A location whose five chargers mix a free tariff with priced ones (45.0p and 80.0p per
    kWh including VAT), plus an ordinary priced location elsewhere."""
    def evse(uid: str, tariff: str, status: str = "AVAILABLE", **extra: Any) -> dict[str, Any]:
        return {
            "uid": uid, "evse_type": "PUBLIC", "status": status,
            "status_updated_at": "2026-11-20T08:30:00Z", "public_tariff_id": tariff,
            "connectors": [
                {"id": "1", "standard": "Type 2", "format": "SOCKET", "power_type": "AC_3_PHASE",
                 "max_voltage": 230, "max_amperage": 32},
            ],
            **extra,
        }

    def site(sid: str, name: str, city: str, postcode: str, evses: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": sid, "name": name, "public_visibility": True, "address": "1 Station Road",
            "city": city, "postal_code": postcode, "country": "GB", "latitude": 53.958,
            "longitude": -1.093, "opening_times": "24/7", "updated_at": "2026-11-19T10:00:00Z",
            "evses": evses,
        }

    return {
        "format": "pcpr-export/1",
        "exported_at": EXPORTED_AT,
        "operator": {"country_code": "GB", "party_id": "MIX", "name": "Mixed Charging Ltd"},
        "sites": [
            site(MIXED_ID, "Station Road Car Park", "York", "YO1 6GA", [
                evse("MIX-E1", "TRF-FREE", physical_reference="A1"),
                evse("MIX-E2", "TRF-45P", physical_reference="A2"),
                evse("MIX-E3", "TRF-80P", "CHARGING", physical_reference="A3"),
                evse("MIX-E4", "TRF-45P", "OUT_OF_ORDER", physical_reference="A4"),
                evse("MIX-E5", "TRF-FREE", physical_reference="A5"),
            ]),
            site("PRICED-1", "Priced Street", "Leeds", "LS1 4AB", [evse("PRICED-E1", "TRF-80P")]),
        ],
        "tariffs": [
            {"id": "TRF-FREE", "currency": "GBP",
             "elements": [{"price_components": [{"type": "FLAT", "price": "0", "vat": 20}]}],
             "updated_at": "2026-11-01T00:00:00Z"},
            {"id": "TRF-45P", "currency": "GBP",
             "elements": [{"price_components": [{"type": "ENERGY", "price": "0.375", "vat": 20}]}],
             "updated_at": "2026-11-01T00:00:00Z"},
            {"id": "TRF-80P", "currency": "GBP",
             "elements": [{"price_components": [{"type": "ENERGY", "price": "0.6667", "vat": 20}]}],
             "updated_at": "2026-11-01T00:00:00Z"},
        ],
    }
