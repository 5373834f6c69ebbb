"""The CLI surface: help with examples on every command, configuration precedence, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from factories import selection_export
from helpers import pcpr, read_feed, write_json

from pcpr_publish.cli import cli
from pcpr_publish.config import load_config
from pcpr_publish.errors import ConfigError


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_examples(name: str) -> None:
    result = pcpr(name, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "pcpr " + name in result.output


def test_top_level_help_documents_exit_codes() -> None:
    out = pcpr("--help").output
    for code in ("0  published", "1  errors under --strict", "2  unusable input"):
        assert code in out


def test_validate_prints_a_summary_and_writes_json(tmp_path: Path) -> None:
    export = write_json(tmp_path / "e.json", selection_export())
    result = pcpr("validate", str(export), "--json", str(tmp_path / "report.json"))
    assert result.exit_code == 0
    assert "locations 2/7 published" in result.output
    assert "tariff_not_found" in result.output
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["format"] == "pcpr-report/1"
    assert doc["summary"]["counts"]["locations_published"] == 2
    group = next(g for g in doc["notices"] if g["code"] == "tariff_not_found")
    assert group["total"] == len(group["samples"]) == 3
    assert {"severity", "kind", "id", "path", "field", "message", "action"} <= set(group["samples"][0])
    assert pcpr("validate", str(export), "--strict").exit_code == 1


def test_config_file_env_and_options_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "pcpr.toml"
    cfg.write_text('[operator]\nname = "From File"\nparty_id = "FIL"\n[publish]\nmax_age = 30\n')
    assert load_config(str(cfg), env={}).operator.name == "From File"
    env = {"PCPR_OPERATOR_NAME": "From Env", "PCPR_PUBLISH_MAX_AGE": "45"}
    c = load_config(str(cfg), env=env)
    assert (c.operator.name, c.operator.party_id, c.publish.max_age) == ("From Env", "FIL", 45)
    c = load_config(str(cfg), env=env, overrides={"publish": {"max_age": 5}})
    assert c.publish.max_age == 5


def test_config_errors_are_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "pcpr.toml"
    cfg.write_text("[publish]\nmax_agee = 3\n")
    with pytest.raises(ConfigError, match=r"pcpr.toml: publish.max_agee: Extra inputs"):
        load_config(str(cfg), env={})
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(str(tmp_path / "missing.toml"), env={})


def test_operator_details_come_from_config_when_the_export_lacks_them(tmp_path: Path) -> None:
    doc = selection_export()
    doc["operator"] = {}
    export = write_json(tmp_path / "e.json", doc)
    result = pcpr("build", str(export), "--out", str(tmp_path / "site"))
    assert result.exit_code == 2
    assert "$.operator.country_code" in result.output
    cfg = tmp_path / "pcpr.toml"
    cfg.write_text('[operator]\ncountry_code = "gb"\nparty_id = "cfg"\nname = "Config Charging"\n')
    result = pcpr("--config", str(cfg), "build", str(export), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    loc = read_feed(tmp_path / "site" / "locations.json")["data"][0]
    assert (loc["country_code"], loc["party_id"], loc["operator"]["name"]) == ("GB", "CFG", "Config Charging")


def test_publish_to_a_folder_reports_counts_and_is_incremental(tmp_path: Path) -> None:
    doc = selection_export()
    export = write_json(tmp_path / "e.json", doc)
    args = ["publish", str(export), "--to", str(tmp_path / "www"), "--max-export-age", "0"]
    first = pcpr(*args)
    assert first.exit_code == 0, first.output
    uploaded = re.search(r"uploaded (\d+), unchanged 0, deleted 0", first.output)
    assert uploaded and int(uploaded.group(1)) > 5, first.output  # 5 JSON files + the HTML pages
    again = pcpr(*args)
    assert f"uploaded 0, unchanged {uploaded.group(1)}, deleted 0" in again.output
    dry = pcpr(*args, "--dry-run")
    assert "plan: 0 to upload" in dry.output


def test_publish_refuses_a_stale_export(tmp_path: Path) -> None:
    export = write_json(tmp_path / "e.json", selection_export())  # exported 2026-11-20
    result = pcpr("publish", str(export), "--to", str(tmp_path / "www"), "--max-export-age", "60")
    assert result.exit_code == 4
    assert "the export is" in result.output and "minutes old" in result.output
    assert not (tmp_path / "www").exists()


def test_publish_refuses_to_shrink_more_than_ten_percent(tmp_path: Path) -> None:
    doc = selection_export()
    export = write_json(tmp_path / "e.json", doc)
    args = ["publish", str(export), "--to", str(tmp_path / "www"), "--max-export-age", "0"]
    assert pcpr(*args).exit_code == 0
    doc["sites"] = [s for s in doc["sites"] if s["id"] != "S-TARIFFS"]
    write_json(export, doc)
    refused = pcpr(*args)
    assert refused.exit_code == 4
    assert "1 of 2 published locations (50%) would be removed" in refused.output
    assert (tmp_path / "www" / "locations" / "S-TARIFFS.json").exists()
    allowed = pcpr(*args, "--allow-shrink")
    assert allowed.exit_code == 0
    assert not (tmp_path / "www" / "locations" / "S-TARIFFS.json").exists()


def test_sample_command_is_deterministic(tmp_path: Path) -> None:
    assert pcpr("sample", "--sites", "20", "--seed", "4", "--out", str(tmp_path / "a.json")).exit_code == 0
    assert pcpr("sample", "--sites", "20", "--seed", "4", "--out", str(tmp_path / "b.json")).exit_code == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert json.loads((tmp_path / "a.json").read_text())["format"] == "pcpr-export/1"
