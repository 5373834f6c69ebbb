"""Rule 8 and determinism: last_updated is truthful, and the same export gives the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

from factories import conn, energy_tariff, evse, selection_export, site
from helpers import pcpr, read_feed, write_json

from pcpr_publish.sample import generate_sample


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_export_twice_gives_byte_identical_files(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(generate_sample(60, seed=3)))
    assert pcpr("build", str(export), "--out", str(tmp_path / "a")).exit_code == 0
    assert pcpr("build", str(export), "--out", str(tmp_path / "b")).exit_code == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert len(tree(tmp_path / "a")) > 40


def _doc(exported_at: str, price: float = 0.45, status: str = "AVAILABLE") -> dict:
    doc = selection_export()
    doc["exported_at"] = exported_at
    doc["sites"] = [
        site("S1", evse("E1", conn("1"), status=status), evse("E2", conn("1"))),
        site("S2", evse("E3", conn("1"))),
    ]
    doc["tariffs"] = [energy_tariff("AC", price)]
    return doc


def test_without_timestamps_unchanged_objects_keep_their_last_updated(tmp_path: Path) -> None:
    out = tmp_path / "site"
    export = write_json(tmp_path / "e.json", _doc("2026-11-20T09:00:00Z"))
    assert pcpr("build", str(export), "--out", str(out)).exit_code == 0
    first = tree(out)

    # A later export with the same content: byte-identical output, nothing re-stamped.
    write_json(export, _doc("2026-11-20T10:00:00Z"))
    assert pcpr("build", str(export), "--out", str(out)).exit_code == 0
    assert tree(out) == first

    # One EVSE changes status: it, its Location and the feed move; the rest keep their stamp.
    write_json(export, _doc("2026-11-20T11:00:00Z", status="CHARGING"))
    assert pcpr("build", str(export), "--out", str(out)).exit_code == 0
    locs = {loc["id"]: loc for loc in read_feed(out / "locations.json")["data"]}
    s1 = {e["uid"]: e for e in locs["S1"]["evses"]}
    assert s1["E1"]["last_updated"] == "2026-11-20T11:00:00Z"
    assert s1["E1"]["connectors"][0]["last_updated"] == "2026-11-20T09:00:00Z"
    assert s1["E2"]["last_updated"] == "2026-11-20T09:00:00Z"
    assert locs["S1"]["last_updated"] == "2026-11-20T11:00:00Z"
    assert locs["S2"]["last_updated"] == "2026-11-20T09:00:00Z"
    assert read_feed(out / "locations.json")["timestamp"] == "2026-11-20T11:00:00Z"
    assert read_feed(out / "tariffs.json")["data"][0]["last_updated"] == "2026-11-20T09:00:00Z"
    assert (out / "locations" / "S2.json").read_bytes() == first["locations/S2.json"]

    # The tariff price changes: only the tariff is re-stamped.
    write_json(export, _doc("2026-11-20T12:00:00Z", price=0.5, status="CHARGING"))
    assert pcpr("build", str(export), "--out", str(out)).exit_code == 0
    assert read_feed(out / "tariffs.json")["data"][0]["last_updated"] == "2026-11-20T12:00:00Z"
    assert read_feed(out / "locations.json")["timestamp"] == "2026-11-20T11:00:00Z"


def test_export_timestamps_are_used_and_parents_are_never_older_than_children(tmp_path: Path) -> None:
    doc = _doc("2026-11-20T09:00:00Z")
    doc["sites"] = [site("S1", evse("E1", conn("1", updated_at="2026-11-19T12:00:00Z"),
                                    updated_at="2026-11-01T00:00:00Z",
                                    status_updated_at="2026-11-19T08:00:00+00:00"),
                         updated_at="2026-10-01T00:00:00Z")]
    doc["tariffs"][0]["updated_at"] = "2026-09-01T00:00:00Z"
    export = write_json(tmp_path / "e.json", doc)
    assert pcpr("build", str(export), "--out", str(tmp_path / "site")).exit_code == 0
    loc = read_feed(tmp_path / "site" / "locations.json")["data"][0]
    e = loc["evses"][0]
    assert e["connectors"][0]["last_updated"] == "2026-11-19T12:00:00Z"
    assert e["last_updated"] == "2026-11-19T12:00:00Z"  # own 11-19T08, child newer
    assert loc["last_updated"] == "2026-11-19T12:00:00Z"
    assert read_feed(tmp_path / "site" / "tariffs.json")["data"][0]["last_updated"] == "2026-09-01T00:00:00Z"


def test_percent_encoded_ids_cannot_escape_the_output(tmp_path: Path) -> None:
    doc = _doc("2026-11-20T09:00:00Z")
    doc["sites"] = [site("../../evil", evse("E1")), site("a/b?c#d", evse("E2")), site("..", evse("E3")),
                    site("Loc 100%", evse("E4"))]
    export = write_json(tmp_path / "e.json", doc)
    out = tmp_path / "deep" / "site"
    assert pcpr("build", str(export), "--out", str(out)).exit_code == 0
    names = sorted(p.name for p in (out / "locations").iterdir() if p.suffix == ".json")
    assert names == sorted(["...json", "..%2F..%2Fevil.json", "Loc%20100%25.json", "a%2Fb%3Fc%23d.json"])
    pages = sorted(p.name for p in (out / "locations").iterdir() if p.suffix == ".html")
    assert pages == sorted(n[:-len(".json")] + ".html" for n in names)  # the HTML pages too
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["site", "site.report.json"]
