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


# ---- exit codes in --help and docs/exit-codes.md ----------------------------------------------

#: The codes each command can return (docs/exit-codes.md, "Which command can return what").
COMMAND_EXIT_CODES = {
    "build": {0, 1, 2, 3, 4, 70, 130},
    "validate": {0, 1, 2, 3, 70, 130},
    "publish": {0, 1, 2, 3, 4, 70, 130},
    "init-bucket": {0, 2, 3, 70, 130},
    "sample": {0, 2, 70, 130},
    "schemas": {0, 2, 70, 130},
    "serve": {0, 2, 70},
    "history": {0, 2, 3, 70, 130},
    "reliability": {0, 2, 3, 70, 130},
}
EXIT_CODES_DOC = Path(__file__).resolve().parents[1] / "docs" / "exit-codes.md"


def listed_exit_codes(help_text: str) -> dict[int, str]:
    """The ``Exit codes:`` block of a --help text: code → meaning."""
    block = help_text.split("Exit codes:", 1)[1]
    codes: dict[int, str] = {}
    for line in block.splitlines()[1:]:
        match = re.match(r"^\s+(\d+)  (\S.*)$", line)
        if not match:
            break
        codes[int(match.group(1))] = match.group(2)
    return codes


def test_every_command_is_in_the_exit_code_table() -> None:
    assert set(COMMAND_EXIT_CODES) == set(cli.commands)


@pytest.mark.parametrize("name", sorted(COMMAND_EXIT_CODES))
def test_each_command_lists_its_own_exit_codes(name: str) -> None:
    codes = listed_exit_codes(pcpr(name, "--help").output)
    assert set(codes) == COMMAND_EXIT_CODES[name], codes


def test_init_bucket_help_lists_its_codes_not_the_publish_ones() -> None:
    codes = listed_exit_codes(pcpr("init-bucket", "--help").output)
    assert codes[0].startswith("applied")
    assert "usage" in codes[2] and "target" in codes[2]
    assert "S3 failed" in codes[3]
    assert "published" not in " ".join(codes.values())


def test_top_level_help_lists_internal_error_and_interrupted() -> None:
    codes = listed_exit_codes(pcpr("--help").output)
    assert set(codes) == {0, 1, 2, 3, 4, 70, 130}
    assert "internal error" in codes[70]
    assert "interrupted" in codes[130]


def test_exit_codes_doc_matches_every_command() -> None:
    doc = EXIT_CODES_DOC.read_text(encoding="utf-8")
    for code in ("**70**", "**130**"):
        assert f"| {code} |" in doc
    table = doc.split("## Which command can return what", 1)[1].split("\n\n", 2)[1]
    columns = [int(c) for c in re.findall(r"\| (\d+) ", table.splitlines()[0])]
    rows: dict[str, set[int]] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        codes = {code for code, cell in zip(columns, cells[1:]) if cell.startswith("✓")}
        for name in re.findall(r"`([a-z-]+)`", cells[0]):
            if "--watch" not in cells[0]:
                rows[name] = codes
    assert rows == COMMAND_EXIT_CODES


# ---- validate: plain words, with the place of each problem ---------------------------------------

def test_validate_rows_say_where_and_what_in_plain_words(tmp_path: Path) -> None:
    doc = selection_export()
    s_tariffs = next(s for s in doc["sites"] if s["id"] == "S-TARIFFS")
    i = doc["sites"].index(s_tariffs)
    s_tariffs["evses"][0]["connectors"][0]["max_voltage"] = "lots"        # must be a whole number
    s_tariffs["evses"][1]["physical_reference"] = "X" * 30                 # too long: dropped
    next(t for t in doc["tariffs"] if t["id"] == "DC")["currency"] = "GB1"  # not an ISO 4217 code
    export = write_json(tmp_path / "e.json", doc)
    result = pcpr("validate", str(export))
    assert result.exit_code == 0, result.output
    out = result.output
    for pydantic_words in ("Input should", "String should", "should match pattern", "should have",
                           "valid integer", "^[A-Z]", "Value error"):
        assert pydantic_words not in out
    rows = {line.split()[1]: line for line in out.splitlines()[2:] if line.startswith(("ERROR", "WARNING"))}
    assert f"$.sites[{i}].evses[0].connectors[0].max_voltage (Connector E-HIDDEN-CONN/1): " \
           "must be a whole number" in rows["invalid_object"]
    assert f"$.sites[{i}].evses[1].physical_reference (EVSE E-OVERRIDE): is longer than 16 " \
           "characters; field not published" in rows["invalid_field"]
    # Every row names the JSON path of its first case.
    assert all(" $." in row for row in rows.values()), rows
    assert out.rstrip().splitlines()[-1].endswith("run again with --json FILE")
    # The JSON report has the same keys as before, and every plain message of the group.
    result = pcpr("validate", str(export), "--json", str(tmp_path / "r.json"))
    assert f"full detail of every notice (each place, value and what to do): {tmp_path / 'r.json'}" \
        in result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert set(report) == {"format", "summary", "notices"}
    invalid = next(g for g in report["notices"] if g["code"] == "invalid_object")
    assert set(invalid) == {"code", "severity", "title", "description", "spec_ref", "total", "samples"}
    messages = {s["message"] for s in invalid["samples"]}
    assert "currency: must be 3 capital letters (ISO 4217 currency code, e.g. GBP)" in messages
    assert "max_voltage: must be a whole number" in messages
    sample = next(s for s in invalid["samples"] if s["field"] == "max_voltage")
    assert set(sample) == {"severity", "kind", "id", "path", "field", "message", "action", "value"}


def test_pydantic_errors_in_plain_words() -> None:
    from pcpr_publish.ocpi.construct import describe_error
    from pcpr_publish.ocpi.types import DATETIME_PATTERN, LATITUDE_PATTERN, TIME_PATTERN

    def words(kind: str, msg: str = "", **ctx: object) -> str:
        return describe_error({"type": kind, "loc": ("x",), "msg": msg, "ctx": ctx})

    assert words("string_pattern_mismatch", "String should match pattern '^[A-Z]{3}$'",
                 pattern="^[A-Z]{3}$") == "must be 3 capital letters (ISO 4217 currency code, e.g. GBP)"
    assert words("string_pattern_mismatch", pattern=TIME_PATTERN).startswith("must be a time of day")
    assert words("string_pattern_mismatch", pattern=DATETIME_PATTERN).startswith("must be a UTC date-time")
    assert words("string_pattern_mismatch", pattern=LATITUDE_PATTERN).startswith("must be a latitude")
    assert words("string_pattern_mismatch", pattern=r"^\d+x$") == "has the wrong format"
    assert words("int_type", "Input should be a valid integer") == "must be a whole number"
    assert words("int_parsing") == "must be a whole number"
    assert words("string_too_long", max_length=16) == "is longer than 16 characters"
    assert words("greater_than_equal", ge=0) == "must be at least 0"
    assert words("less_than_equal", le=7) == "must be at most 7"
    assert words("missing") == "required field is missing"
    assert words("literal_error", expected="'SOCKET' or 'CABLE'") == \
        "not an allowed value (allowed: 'SOCKET' or 'CABLE')"
    assert words("value_error", "Value error, latitude must be between -90 and 90") == \
        "latitude must be between -90 and 90"
    assert words("extra_forbidden") == "is not a field of this OCPI object"
    assert words("some_new_type", "Input should be a frobnicated value") == \
        "must be a frobnicated value"


# ---- sample --------------------------------------------------------------------------------------

def test_sample_exported_at_now_passes_the_stale_export_guard(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from pcpr_publish.common.dates import parse_datetime

    export = tmp_path / "fresh.json"
    assert pcpr("sample", "--sites", "20", "--exported-at", "now", "--out", str(export)).exit_code == 0
    exported_at = json.loads(export.read_text())["exported_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", exported_at)
    moment = parse_datetime(exported_at)
    assert moment is not None
    assert abs((datetime.now(timezone.utc) - moment).total_seconds()) < 120
    # The default max_export_age (900 s) applies: no --max-export-age 0 needed.
    result = pcpr("publish", str(export), "--to", str(tmp_path / "www"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "www" / "locations.json").is_file()


def test_sample_out_in_a_missing_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    target = tmp_path / "missing" / "dir" / "x.json"
    proc = subprocess.run([sys.executable, "-m", "pcpr_publish", "sample", "--out", str(target)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"pcpr: error: {target}: cannot be written: the folder {target.parent} does not exist"]
    assert not target.parent.exists()


def test_demo_target_points_at_serve_and_explains_the_deliberate_problems() -> None:
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "--exported-at now" in demo
    assert "pcpr serve site" in demo
    assert "deliberate problems" in demo and "errors and warnings on" in demo
