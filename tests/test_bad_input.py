"""Item 9: unusable input gets one line naming the file and JSON path, exit 2, no traceback,
and nothing is written to the output (an existing publish is left as it was)."""

from __future__ import annotations

import hashlib
import json
import os
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


# ---- a UTF-8 byte-order mark is accepted -------------------------------------------------------

BOM = b"\xef\xbb\xbf"
FIXTURES = Path(__file__).parent / "fixtures"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pcpr_publish", *args], capture_output=True,
                          text=True, cwd=cwd)


def _published(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "_pcpr" not in p.parts}


def test_an_export_with_a_byte_order_mark_publishes_the_same_bytes(tmp_path: Path) -> None:
    data = json.dumps(good(), indent=1).encode()
    (tmp_path / "plain.json").write_bytes(data)
    (tmp_path / "bom.json").write_bytes(BOM + data)
    for name in ("plain", "bom"):
        proc = _cli("build", str(tmp_path / f"{name}.json"), "--out", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
    assert _published(tmp_path / "bom") == _published(tmp_path / "plain")
    proc = _cli("validate", str(tmp_path / "bom.json"))
    assert proc.returncode == 0 and "locations 2/7 published" in proc.stdout
    # The report's hash is the file's own, BOM included.
    report = json.loads((tmp_path / "bom.report.json").read_text())
    assert report["summary"]["input"]["sha256"] == hashlib.sha256(BOM + data).hexdigest()


def test_errors_in_an_export_with_a_byte_order_mark_still_name_the_line(tmp_path: Path) -> None:
    export = tmp_path / "bom.json"
    export.write_bytes(BOM + b'{\n  "format": "pcpr-export/1",\n  oops\n}')
    proc = _cli("validate", str(export))
    assert proc.returncode == 2
    assert "not valid JSON at line 3, column 3" in proc.stderr


def test_a_utf16_export_is_refused_with_a_clear_line(tmp_path: Path) -> None:
    export = tmp_path / "utf16.json"
    export.write_bytes(json.dumps(good()).encode("utf-16"))  # writes FF FE first
    proc = _cli("validate", str(export))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"pcpr: error: {export}: not UTF-8: the file is UTF-16 (little-endian); save it as UTF-8"]


def test_ocpi_input_files_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    feed = FIXTURES / "real-feed-defects" / "kerbside" / "july"
    files = [feed / "locations-response.json", feed / "tariffs-response.json"]
    with_bom = []
    for f in files:
        copy = tmp_path / f.name
        copy.write_bytes(BOM + f.read_bytes())
        with_bom.append(copy)
    plain = _cli("build", "--input-format", "ocpi", *map(str, files), "--out", str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stderr
    bom = _cli("build", "--input-format", "ocpi", *map(str, with_bom), "--out", str(tmp_path / "bom"))
    assert bom.returncode == 0, bom.stderr
    for name in ("locations.json", "tariffs.json"):
        assert (tmp_path / "bom" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()


@pytest.mark.parametrize("shape", ["object", "ndjson"])
def test_a_status_overlay_with_a_byte_order_mark_is_applied(tmp_path: Path, shape: str) -> None:
    export = tmp_path / "e.json"
    export.write_text(json.dumps(good()))
    overlay = tmp_path / "statuses.json"
    if shape == "object":
        body = json.dumps({"E-TYPE-PUBLIC": {"status": "Charging"}})
    else:
        body = json.dumps({"uid": "E-TYPE-PUBLIC", "status": "Charging"}) + "\n" + \
            json.dumps({"uid": "E-PRIV-PUBLIC", "status": "Faulted"}) + "\n"
    overlay.write_bytes(BOM + body.encode())
    proc = _cli("build", str(export), "--statuses", str(overlay), "--out", str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stderr
    location = json.loads((tmp_path / "site" / "locations" / "S-PUBLIC.json").read_text())
    status = {e["uid"]: e["status"] for e in location["data"]["evses"]}
    assert status["E-TYPE-PUBLIC"] == "CHARGING"
    report = json.loads((tmp_path / "site.report.json").read_text())
    assert not [g for g in report["notices"] if g["code"].startswith("overlay")], report["notices"]


# ---- structural errors in plain words -------------------------------------------------------------

def test_structural_errors_name_the_field_not_the_union_member(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(with_change(lambda d: d["sites"][0].update(latitude=[51.5])))
    proc = _cli("validate", str(export))
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert line == f"pcpr: error: {export}: $.sites[0].latitude: must be a number", line


# ---- output paths that cannot be written ----------------------------------------------------------

def test_sample_into_a_missing_folder(tmp_path: Path) -> None:
    proc = _cli("sample", "--out", "missing/dir/x.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "pcpr: error: missing/dir/x.json: cannot be written: the folder missing/dir does not exist"]
    assert not (tmp_path / "missing").exists()


def test_sample_onto_a_folder_or_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.json").write_text("{}")
    for out, words in (("file.json/x.json", "cannot be written: file.json is a file, not a folder"),
                       (".", "is a folder, not a file")):
        proc = _cli("sample", "--out", out, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [f"pcpr: error: {out}: {words}"]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root can write into a read-only folder")
def test_sample_into_an_unwritable_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = _cli("sample", "--out", str(locked / "x.json"))
    finally:
        locked.chmod(0o700)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"pcpr: error: {locked / 'x.json'}: cannot be written: permission denied"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_sample_onto_a_full_device() -> None:
    """A write that fails after the open (a full disk) is one line and exit 2 too, and the
    existing file (here a device) is never removed."""
    proc = _cli("sample", "--out", "/dev/full")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcpr: error: /dev/full: cannot be written ("), lines
    assert Path("/dev/full").exists()


def test_schemas_into_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "file.json").write_text("{}")
    proc = _cli("schemas", "--out", str(tmp_path / "file.json" / "schemas"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcpr: error: ") and "file.json" in lines[0], lines
