"""Item 9: unusable input gets one line naming the file and JSON path, exit 2, no traceback,
and nothing is written to the output (an existing publish is left as it was)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from factories import selection_export


def good() -> dict:
    return selection_export()


def with_change(fn) -> bytes:
    doc = good()
    fn(doc)
    return json.dumps(doc).encode()


def _dup_site(doc):
    doc["sites"].append(dict(doc["sites"][0]))


def _dup_site_case(doc):
    s = dict(doc["sites"][0])
    s["id"] = s["id"].lower()
    doc["sites"].append(s)


def _dup_uid(doc):
    doc["sites"][1]["evses"][0]["uid"] = doc["sites"][0]["evses"][0]["uid"]


def _dup_connector(doc):
    e = doc["sites"][0]["evses"][0]
    e["connectors"] = [e["connectors"][0], dict(e["connectors"][0])]


def _dup_tariff(doc):
    doc["tariffs"].append(dict(doc["tariffs"][0]))


CASES = {
    # name: (bytes, expected fragment of the one-line message)
    "not json": (b"hello", "not valid JSON at line 1, column 1"),
    "truncated": (json.dumps(good()).encode()[:500], "truncated JSON"),
    "empty": (b"", "file is empty"),
    "non-utf8": (b'{"format": "pcpr-export/1", "x": "\xff\xfe"}', "not UTF-8: invalid byte 0xff"),
    "number": (b"42", "$: expected a JSON object"),
    "wrong format": (with_change(lambda d: d.update(format="pcpr-export/2")),
                     "$.format: unsupported format 'pcpr-export/2'"),
    "missing format": (with_change(lambda d: d.pop("format")), "$.format: missing"),
    "missing sites": (with_change(lambda d: d.pop("sites")), "$.sites: required field is missing"),
    "missing address": (with_change(lambda d: d["sites"][2].pop("address")),
                        "$.sites[2].address: required field is missing"),
    "missing connector standard": (
        with_change(lambda d: d["sites"][0]["evses"][1]["connectors"][0].pop("standard")),
        "$.sites[0].evses[1].connectors[0].standard: required field is missing"),
    "null required": (with_change(lambda d: d["sites"][0].update(city=None)),
                      "$.sites[0].city: required field is missing"),
    "empty string required": (with_change(lambda d: d["tariffs"][0].update(currency="")),
                              "$.tariffs[0].currency: required field is missing"),
    "bad exported_at": (with_change(lambda d: d.update(exported_at="yesterday")),
                        "$.exported_at: not an RFC 3339 date-time"),
    "duplicate site": (with_change(_dup_site), "$.sites[7].id: duplicate site id 'S-PUBLIC'"),
    "duplicate site other case": (with_change(_dup_site_case), "duplicate site id 's-public'"),
    "duplicate uid": (with_change(_dup_uid), "$.sites[1].evses[0].uid: duplicate EVSE uid"),
    "duplicate connector": (with_change(_dup_connector),
                            "$.sites[0].evses[0].connectors[1].id: duplicate connector id"),
    "duplicate tariff": (with_change(_dup_tariff), "$.tariffs[9].id: duplicate tariff id 'AC'"),
    "long id": (with_change(lambda d: d["sites"][0].update(id="X" * 37)),
                "$.sites[0].id: id is longer than 36 characters"),
    "long uid": (with_change(lambda d: d["sites"][0]["evses"][0].update(uid="U" * 40)),
                 "$.sites[0].evses[0].uid: id is longer than 36 characters"),
    "missing party_id": (with_change(lambda d: d["operator"].pop("party_id")),
                         "$.operator.party_id: missing"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_export_is_refused_with_one_line_and_exit_2(tmp_path: Path, name: str) -> None:
    data, fragment = CASES[name]
    export = tmp_path / "export.json"
    export.write_bytes(data)
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "build", str(export), "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"pcpr: error: {export}: ")
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert not (tmp_path / "site.report.json").exists()


def test_directory_instead_of_file(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "validate", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pcpr: error: {tmp_path}: ")
    assert "Traceback" not in proc.stderr


def test_missing_file(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "validate", str(tmp_path / "nope.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("nope.json: no such file")


def test_bad_input_leaves_the_published_data_as_it_was(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(good()))
    out = tmp_path / "site"
    run = [sys.executable, "-m", "pcpr_publish", "publish", str(export), "--to", str(out),
           "--max-export-age", "0"]
    assert subprocess.run(run, capture_output=True).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    export.write_bytes(json.dumps(good()).encode()[:-10])
    proc = subprocess.run(run, capture_output=True, text=True)
    assert proc.returncode == 2
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "build", "x.json"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Missing option '--out'" in proc.stderr


def test_refuses_to_write_into_a_folder_it_did_not_make(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(good()))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "precious.txt").write_text("keep me")
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "build", str(export), "--out",
                           str(tmp_path / "home")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "not empty and was not made by pcpr" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["precious.txt"]


def test_report_inside_output_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(good()))
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "build", str(export), "--out",
                           str(tmp_path / "site"), "--report", str(tmp_path / "site" / "r.json")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "must not be written inside the published output" in proc.stderr
