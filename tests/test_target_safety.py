"""pcpr never destroys what it does not own: its inputs, folders it did not make, odd paths.
Each case is one line and a documented exit code, and nothing is written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from factories import conn, energy_tariff, evse, selection_export, site
from helpers import pcpr, write_json


def _export(tmp_path: Path, name: str = "e.json") -> Path:
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")))]
    doc["tariffs"] = [energy_tariff("AC")]
    return write_json(tmp_path / name, doc)


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pcpr: error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_the_report_never_overwrites_the_export(tmp_path: Path) -> None:
    export = _export(tmp_path)
    before = export.read_bytes()
    result = pcpr("build", str(export), "--out", str(tmp_path / "site"), "--report", str(export))
    assert result.exit_code == 2
    assert "is an input of this run" in _one_line_error(result)
    assert export.read_bytes() == before and not (tmp_path / "site").exists()


def test_validate_json_never_overwrites_the_export(tmp_path: Path) -> None:
    export = _export(tmp_path)
    before = export.read_bytes()
    result = pcpr("validate", str(export), "--json", str(export))
    assert result.exit_code == 2 and "would overwrite it" in _one_line_error(result)
    assert export.read_bytes() == before


def test_inputs_inside_the_output_folder_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert pcpr("build", str(_export(tmp_path)), "--out", str(out)).exit_code == 0
    inside = _export(out, "export.json")
    overlay = out / "statuses.json"
    overlay.write_text("{}")
    for args in ([str(inside)], [str(_export(tmp_path)), "--statuses", str(overlay)]):
        result = pcpr("build", *args, "--out", str(out))
        assert result.exit_code == 2
        assert "lies inside the published output" in _one_line_error(result)
    assert inside.is_file() and overlay.is_file()


def test_a_dangling_symlink_as_output_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "site"
    link.symlink_to(tmp_path / "gone")
    result = pcpr("build", str(_export(tmp_path)), "--out", str(link))
    assert result.exit_code == 2 and "symbolic link" in _one_line_error(result)
    assert not (tmp_path / "gone").exists()


def test_an_output_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    result = pcpr("build", str(_export(tmp_path)), "--out", str(tmp_path / "file.txt" / "sub"))
    assert result.exit_code == 2 and "is a file" in _one_line_error(result)


def test_the_file_system_root_is_refused(tmp_path: Path) -> None:
    result = pcpr("build", str(_export(tmp_path)), "--out", "/", "--report",
                  str(tmp_path / "r.json"))
    assert result.exit_code == 2 and "root of the file system" in _one_line_error(result)


def test_a_racing_first_build_is_told_locked(tmp_path: Path) -> None:
    """Another first build has just made the folder and holds its lock."""
    out = tmp_path / "site"
    (out / "_pcpr").mkdir(parents=True)
    (out / "_pcpr" / "lock").write_text('{"owner": "other-run"}')
    result = pcpr("build", str(_export(tmp_path)), "--out", str(out))
    assert result.exit_code == 4
    line = _one_line_error(result)
    assert "locked by other-run" in line and "not made by pcpr" not in line


def test_reports_are_private_and_a_published_looking_folder_is_warned_about(tmp_path: Path) -> None:
    web = tmp_path / "www"
    web.mkdir()
    (web / "index.html").write_text("<p>home</p>")
    result = pcpr("build", str(_export(tmp_path)), "--out", str(web / "opendata"))
    assert result.exit_code == 0, result.output
    report = web / "opendata.report.json"  # the default: beside the output
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    assert "pcpr: warning: the report" in result.stderr and "looks published" in result.stderr


def test_a_dry_run_writes_no_report(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = pcpr("publish", str(_export(tmp_path)), "--to", str(tmp_path / "site"), "--dry-run",
                  "--report", str(report), "--max-export-age", "0")
    assert result.exit_code == 0, result.output
    assert not report.exists() and not (tmp_path / "site").exists()


@pytest.mark.parametrize("value", ["", None])
def test_an_empty_or_unset_pcpr_config_means_no_configuration_file(tmp_path: Path, value,
                                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    env = {"PCPR_CONFIG": value}
    result = pcpr("build", str(_export(tmp_path)), "--out", str(tmp_path / "site"), env=env)
    assert result.exit_code == 0, result.output
