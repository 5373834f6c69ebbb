"""Item 8: nothing private leaks. Every private place in an export is filled with a unique marker
string; no published byte may contain any of them."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from factories import conn, energy_tariff, evse, site
from helpers import pcpr, write_json

_counter = itertools.count()
MARKERS: list[str] = []


def m(label: str, maxlen: int = 36) -> str:
    """A unique marker string (the label says where it was planted), at most ``maxlen`` long."""
    n = next(_counter)
    value = f"SECRET{n:03d}{label}"[:maxlen] if maxlen >= 12 else f"Q{n:03d}"[:maxlen]
    MARKERS.append(value)
    return value


def leaky_export() -> dict[str, Any]:
    return {
        "format": "pcpr-export/1",
        "exported_at": "2026-11-20T09:00:00Z",
        "operator": {"country_code": "GB", "party_id": "PCP", "name": "Plug Co",
                     "internal_account": m("operatorfield"), "phone": "0800 000 0000"},
        "private_top_level": m("toplevel"),
        "sites": [
            site("PUB", evse("E-PUB", conn("1", secret=m("connectorfield"),
                                           qr=m("connqr")),
                             conn("2", id=m("hiddenconnid", 30), is_published=False,
                                  standard="CHADEMO", terms_and_conditions="https://x.test/" + m("hiddenterms")),
                             reliability=m("reliability"), uptime=m("uptime"),
                             qr_identifier=m("qr"), protocol=m("protocol"), notes=m("evsenotes"),
                             access_profiles=[{"name": m("profilename"), "tariff_id": "STAFF"}],
                             auth_list=[m("rfid")]),
                 evse(m("privuid", 30), connectors=[conn(public_tariff_id="STAFF")], evse_type="PRIVATE",
                      evse_id=m("privevseid"), physical_reference="P1", directions=m("privdir")),
                 evse(m("restricteduid", 30), privilege_status="RESTRICTED",
                      floor_level=m("flr", 4)),
                 evse(m("hiddenuid", 30), is_published=False, physical_reference=m("hidref", 16)),
                 notes=m("sitenotes"), contact_email=m("email") + "@example.com",
                 customer_list=[m("customer")], internal_code=m("sitecode"),
                 opening_times={"twentyfourseven": True, "note": m("hoursnote")},
                 owner={"name": "Council", "account_manager": m("ownerfield")},
                 images=[{"url": "https://img.test/a.png", "category": "LOCATION", "type": "png",
                          "uploaded_by": m("imageuploader")}],
                 energy_mix={"is_green_energy": True, "contract_ref": m("mixcontract"),
                             "energy_sources": [{"source": "WIND", "percentage": 100,
                                                 "meter": m("mixmeter")}]},
                 ),
            site(m("privsite", 30), evse(m("privsiteevse", 30)), public_visibility=False,
                 name=m("privsitename"), address=m("privaddr"), city=m("privcity", 40)),
            site("NOFLAG", evse("E-NOFLAG", evse_id=m("noflagevseid")), public_visibility=None,
                 name=m("noflagname")),
        ],
        "tariffs": [
            energy_tariff("AC", name=m("tariffname"), notes=m("tariffnotes"),
                          internal_code=m("tariffcode"),
                          elements=[{"price_components": [{"type": "ENERGY", "price": 0.45, "vat": 20,
                                                           "cost_centre": m("pccost")}],
                                     "restrictions": {"max_power": 22, "internal": m("restrfield")},
                                     "element_note": m("elemnote")}]),
            energy_tariff(m("stafftariff", 30), 0.1, alt_text=m("staffalt")),
            energy_tariff("STAFF", 0.1, alt_text=m("staffalt2"), alt_url="https://t.test/" + m("staffurl")),
            energy_tariff(m("unusedtariff", 30), 0.3, alt_text=m("unusedalt")),
        ],
    }


def test_no_published_byte_contains_a_private_marker(tmp_path: Path) -> None:
    MARKERS.clear()
    doc = leaky_export()
    export = write_json(tmp_path / "export.json", doc)
    result = pcpr("build", str(export), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    files = [p for p in (tmp_path / "site").rglob("*") if p.is_file()]
    assert any(p.name == "locations.json" for p in files)
    published = json.loads((tmp_path / "site" / "locations.json").read_text())["data"]
    assert [loc["id"] for loc in published] == ["PUB"]  # the test exercises a real publish
    assert len(MARKERS) > 30
    for path in files:
        body = path.read_bytes()
        for marker in MARKERS:
            assert marker.encode() not in body, (marker, path)
    # The marker strings really are in the export, and the report (never published) may name them.
    assert all(marker.encode() in export.read_bytes() for marker in MARKERS)
    assert not any(p.name.endswith("report.json") for p in files)
