"""A back-office word that stands for another OCPI value (a status word such as Faulted, a common
connector name such as Type 2 or CCS) is published as that value and reported as info
(``value_mapped``). The notice only goes to the report: the published bytes are those of the same
export written in OCPI's own values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from factories import EXPORTED_AT, conn, energy_tariff, evse, site
from helpers import pcpr, write_json

from pcpr_publish.notices import NOTICE_TYPES, Action, Severity
from pcpr_publish.pipeline.dataset import build_dataset
from pcpr_publish.read.export.reader import export_from_document

CCS = {"format": "CABLE", "power_type": "DC", "max_voltage": 920, "max_amperage": 200}


def words_export() -> dict[str, Any]:
    """Back-office words on a public site, and the same words where nothing is published."""
    return {
        "format": "pcpr-export/1",
        "exported_at": EXPORTED_AT,
        "operator": {"country_code": "GB", "party_id": "PLG", "name": "Plug Co"},
        "sites": [
            site("S1",
                 evse("E1", conn("1", standard="Type 2"), conn("2", standard="CCS", **CCS),
                      status="Faulted"),
                 # No EVSE status: the connectors' words decide it.
                 evse("E2", conn("1", standard="Mennekes", status="Occupied"),
                      conn("2", standard="iec_62196_t2", status="available"), status=None),
                 evse("E3", conn("1", standard="IEC_62196_T2"), status="Working"),
                 # Not public: nothing is published, so nothing is reported as mapped.
                 evse("E4", conn("1", standard="CCS2", status="Faulted", **CCS), evse_type="PRIVATE",
                      status="Out_Of_Order")),
            site("S2", evse("E5", conn("1", standard="Type 2"), status="Faulted"),
                 public_visibility=False),
        ],
        "tariffs": [energy_tariff("AC")],
    }


def ocpi_spelling(doc: dict[str, Any]) -> dict[str, Any]:
    """The same export with every mapped word written as its OCPI value."""
    doc = copy.deepcopy(doc)
    words = {"Type 2": "IEC_62196_T2", "CCS": "IEC_62196_T2_COMBO", "Mennekes": "IEC_62196_T2",
             "CCS2": "IEC_62196_T2_COMBO", "Faulted": "OUTOFORDER", "Occupied": "CHARGING",
             "Out_Of_Order": "OUTOFORDER"}
    for s in doc["sites"]:
        for e in s["evses"]:
            for obj in (e, *e["connectors"]):
                for key in ("standard", "status"):
                    if obj.get(key) in words:
                        obj[key] = words[obj[key]]
    return doc


def mapped_notices(doc: dict[str, Any]) -> list[Any]:
    dataset = build_dataset(export_from_document(doc, "export.json"))
    return [n for n in dataset.report.notices if n.code == "value_mapped"]


def test_value_mapped_is_an_info_correction_in_the_catalogue():
    nt = NOTICE_TYPES["value_mapped"]
    assert nt.severity is Severity.INFO
    assert nt.spec_ref.startswith("docs/export-format.md#")


def test_each_mapped_word_is_reported_with_field_word_and_ocpi_value():
    got = {(n.kind, n.object_id, n.field, n.value): n for n in mapped_notices(words_export())}
    assert set(got) == {
        ("Connector", "E1/1", "standard", "Type 2"),
        ("Connector", "E1/2", "standard", "CCS"),
        ("EVSE", "E1", "status", "Faulted"),
        ("Connector", "E2/1", "standard", "Mennekes"),
        ("Connector", "E2/1", "status", "Occupied"),
    }
    for n in got.values():
        assert n.severity is Severity.INFO and n.action is Action.CORRECTED
    assert "IEC_62196_T2_COMBO" in got[("Connector", "E1/2", "standard", "CCS")].message
    assert "OUTOFORDER" in got[("EVSE", "E1", "status", "Faulted")].message
    assert "CHARGING" in got[("Connector", "E2/1", "status", "Occupied")].message
    assert got[("EVSE", "E1", "status", "Faulted")].path == "$.sites[0].evses[0]"


def test_ocpi_values_in_another_case_and_unknown_words_are_not_value_mapped():
    dataset = build_dataset(export_from_document(words_export(), "export.json"))
    mapped = {(n.object_id, n.value) for n in dataset.report.notices if n.code == "value_mapped"}
    assert ("E2/2", "iec_62196_t2") not in mapped and ("E2/2", "available") not in mapped
    # An unknown word keeps its own warning and is not also reported as mapped.
    assert ("E3", "Working") not in mapped
    assert any(n.code == "unknown_status" and n.object_id == "E3" for n in dataset.report.notices)
    assert ocpi_spelling(words_export()) != words_export()
    assert mapped_notices(ocpi_spelling(words_export())) == []


def test_published_bytes_are_those_of_the_export_in_ocpi_values(tmp_path: Path):
    def build(name: str, doc: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        out = tmp_path / name
        result = pcpr("build", str(write_json(tmp_path / f"{name}.json", doc)), "--out", str(out))
        assert result.exit_code == 0, result.output
        return out, json.loads((tmp_path / f"{name}.report.json").read_text())

    words_out, words_report = build("words", words_export())
    ocpi_out, ocpi_report = build("ocpi", ocpi_spelling(words_export()))
    files = sorted(p.relative_to(words_out) for p in words_out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(ocpi_out) for p in ocpi_out.rglob("*") if p.is_file())
    for f in files:
        assert (words_out / f).read_bytes() == (ocpi_out / f).read_bytes(), f
    location = json.loads((words_out / "locations.json").read_bytes())["data"][0]
    evses = {e["uid"]: e for e in location["evses"]}
    assert [c["standard"] for c in evses["E1"]["connectors"]] == ["IEC_62196_T2", "IEC_62196_T2_COMBO"]
    assert evses["E1"]["status"] == "OUTOFORDER" and evses["E2"]["status"] == "CHARGING"

    def without_mapped(report: dict[str, Any]) -> list[dict[str, Any]]:
        return [g for g in report["notices"] if g["code"] != "value_mapped"]

    assert without_mapped(words_report) == without_mapped(ocpi_report)
    group = next(g for g in words_report["notices"] if g["code"] == "value_mapped")
    assert group["severity"] == "INFO" and group["total"] == 5
    assert {s["action"] for s in group["samples"]} == {"corrected"}
