"""Rebuilding into a folder pcpr made: only files pcpr wrote there before are ever removed, and
the run names what it removed."""

from __future__ import annotations

from pathlib import Path

from factories import conn, energy_tariff, evse, selection_export, site
from helpers import pcpr, write_json


def _export(*site_ids: str) -> dict:
    doc = selection_export()
    doc["sites"] = [site(s, evse(f"{s}-E1", conn("1"))) for s in site_ids]
    doc["tariffs"] = [energy_tariff("AC")]
    return doc


def test_a_rebuild_removes_only_pcpr_files_and_names_them(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = pcpr("build", str(write_json(tmp_path / "a.json", _export("S1", "S2", "S3"))),
                 "--out", str(out))
    assert first.exit_code == 0, first.output
    assert (out / "locations" / "S3.json").is_file()
    # Files someone else put beside the site, some named like pcpr's own.
    (out / "notes.txt").write_text("keep me")
    (out / "locations" / "handmade.json").write_text("{}")
    (out / "index-old.html").write_text("<p>old</p>")

    second = pcpr("build", str(write_json(tmp_path / "b.json", _export("S1", "S2"))),
                  "--out", str(out))
    assert second.exit_code == 0, second.output
    assert not (out / "locations" / "S3.json").exists()
    assert not (out / "locations" / "S3.html").exists()
    assert (out / "notes.txt").read_text() == "keep me"
    assert (out / "locations" / "handmade.json").is_file()
    assert (out / "index-old.html").is_file()
    assert "removed locations/S3.html, locations/S3.json" in second.output
    assert "handmade" not in second.output and "notes.txt" not in second.output
