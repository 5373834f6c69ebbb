"""The export reader drops unknown fields while parsing (read/export/stream.py): each site and
tariff is parsed on its own and cut down to its model's fields at once. It must read every file
exactly as orjson would, fall back to orjson (same messages) whenever it is not sure, and keep
unknown fields from costing memory."""

from __future__ import annotations

import copy
import json
import tracemalloc
from pathlib import Path

import orjson
import pytest
from factories import conn, energy_tariff, evse, selection_export, site

from pcpr_publish.errors import InputError
from pcpr_publish.read.export import stream
from pcpr_publish.read.export.reader import (
    _DECODER,
    export_from_document,
    load_export,
    parse_json,
    read_export_document,
)


def orjson_way(data: bytes) -> dict:
    """What the reader produced before: orjson, then the models drop unknown fields."""
    doc = parse_json(data, "x")
    doc["sites"] = [stream.strip_site(s) for s in doc["sites"]]
    doc["tariffs"] = [stream.strip_tariff(t) for t in doc["tariffs"]]
    return doc


def rich_doc() -> dict:
    doc = selection_export()
    doc["sites"] = [
        site("S1", evse("E1", conn("1", max_voltage=230.0, vendor_code="X" * 50, max_amperage=" 32 "),
                        firmware={"v": [1, 2, {"deep": [[[]]]}]}),
             name="Café Ærø – “quoted” \\ / \u00a3 \U0001f50c 漢字", internal={"a": None, "b": False},
             latitude=53.123456789012345, longitude=-1.5e-05),
        site("S2", evse("E2", conn("1", max_electric_power=18446744073709551615)),
             opening_times={"twentyfourseven": False, "x-unknown": 1,
                            "regular_hours": [{"weekday": 1, "period_begin": "06:00",
                                               "period_end": "22:00", "note": "kept"}]}),
        "not an object",
        site("S3", latitude=-0.0, longitude=1e-300, evses=[]),
    ]
    doc["tariffs"] = [energy_tariff("AC", 0.1 + 0.2, notes="x", elements_extra=[1, 2.5, -3]),
                      energy_tariff("BIG", -9223372036854775809), 7, None]
    doc["big_unknown_top_level"] = {"k": list(range(50))}
    return doc


@pytest.mark.parametrize("chunk", [1 << 22, 64, 7, 1])
def test_the_stream_reader_reads_what_orjson_reads(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Also with windows so small that every value, key and multi-byte character is split."""
    monkeypatch.setattr(stream, "CHUNK", chunk)
    data = json.dumps(rich_doc(), ensure_ascii=False, indent=1).encode()
    got = stream.parse_export_document(data, _DECODER)
    assert got is not None
    assert orjson.dumps(got) == orjson.dumps(orjson_way(data))


@pytest.mark.parametrize("text", [
    '{"format":"pcpr-export/1","sites":[],"tariffs":[]}',
    ' \n\t{ "sites" : [ ] , "tariffs" :[],"format" : "pcpr-export/1" , "sites": [{"id": "dup"}] } \n',
    '{"sites": [1e5, 1E+5, -0, 0.0e0, 123456789012345678901234567890, 1e999, -1e400], "tariffs": []}',
    '{"sites": {"not": "a list"}, "tariffs": "nor this"}',
    '{}',
    '{"sites": [{"id": "S\\u00e9", "evses": [{"uid": "\\"q\\"", "connectors": [{"id": "1", "zz": 1}]}]}]}',
])
def test_odd_but_valid_documents(text: str) -> None:
    data = text.encode()
    got = stream.parse_export_document(data, _DECODER)
    assert got is not None
    ref = json.loads(text, parse_int=_DECODER.parse_int, parse_float=_DECODER.parse_float)
    for key, strip in (("sites", stream.strip_site), ("tariffs", stream.strip_tariff)):
        if isinstance(ref.get(key), list):
            ref[key] = [strip(x) for x in ref[key]]
    assert got == ref


@pytest.mark.parametrize("text", [
    "",
    "   ",
    '[{"sites": []}]',
    '{"sites": [{"id": "S1"}, ]}',
    '{"sites": [{"id": "S1"}]',
    '{"sites": [NaN]}',
    '{"sites": [{"name": "\\ud800"}]}',
    '{"sites": [{"name": "\\ud83d\\udd0c"}]}',  # a valid pair: left to orjson too
    '{"format": "pcpr-export/1"} trailing',
    '{"a": 1 "b": 2}',
    '{"sites": [' + "[" * 5000 + "]" * 5000 + "]}",
])
def test_anything_unsure_is_left_to_orjson(text: str) -> None:
    assert stream.parse_export_document(text.encode(), _DECODER) is None


@pytest.mark.parametrize("text", [
    '{"format": "pcpr-export/1", "exported_at": "2026-11-20T09:00:00Z", "sites": [{"id": "S1"}, ], "tariffs": []}',
    '{"format": "pcpr-export/1", "sites": [',
    '{"format": "pcpr-export/1", "sites": [NaN], "tariffs": []}',
    '\xef\xbb\xbf{"format": "pcpr-export/1", "sites": [}',
])
def test_broken_files_get_the_same_message_as_before(text: str) -> None:
    data = text.encode("latin-1") if text.startswith("\xef") else text.encode()
    with pytest.raises(InputError) as before:
        parse_json(data, "e.json")
    with pytest.raises(InputError) as now:
        read_export_document(data, "e.json")
    assert str(now.value) == str(before.value)


def structural_faults() -> list[dict]:
    faults = []
    for change in (
        lambda d: d["sites"][1].pop("city"),
        lambda d: d["sites"][0]["evses"][0]["connectors"][0].pop("id"),
        lambda d: d["sites"][1].update(id=d["sites"][0]["id"].lower()),
        lambda d: d["tariffs"][0].pop("currency"),
        lambda d: d["sites"][0]["evses"][0].update(uid=42),
        lambda d: d.pop("exported_at"),
        lambda d: d.update(format="pcpr-export/2"),
        lambda d: d["sites"][0].update(evses="none"),
    ):
        doc = copy.deepcopy(selection_export())
        change(doc)
        faults.append(doc)
    return faults


@pytest.mark.parametrize("doc", structural_faults())
def test_structural_faults_are_reported_exactly_as_before(tmp_path: Path, doc: dict) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as before:
        export_from_document(orjson.loads(path.read_bytes()), str(path))
    with pytest.raises(InputError) as now:
        load_export(path)
    assert str(now.value) == str(before.value)


def test_unknown_fields_are_gone_and_the_export_is_the_same(tmp_path: Path) -> None:
    doc = rich_doc()
    doc["sites"] = [s for s in doc["sites"] if isinstance(s, dict)]
    doc["tariffs"] = [t for t in doc["tariffs"] if isinstance(t, dict) and t["id"] == "AC"]
    path = tmp_path / "e.json"
    path.write_text(json.dumps(doc))
    loaded = load_export(path)
    assert loaded.export == export_from_document(orjson.loads(path.read_bytes()), str(path))
    evse_model = loaded.export.sites[0].evses[0]
    assert "firmware" not in evse_model.__dict__ and not getattr(evse_model, "__pydantic_extra__", None)


def _export_with_baggage(per_site: int) -> dict:
    doc = selection_export()
    doc["sites"] = [site(f"S{i}", evse(f"E{i}", conn("1"))) for i in range(300)]
    doc["tariffs"] = [energy_tariff("AC")]
    for s in doc["sites"]:
        s["change_history"] = [{"at": "2026-01-01T00:00:00Z", "by": f"u{j}", "n": j}
                               for j in range(per_site)]
        s["evses"][0]["telemetry"] = list(range(per_site))
    return doc


def _peak_while_loading(path: Path) -> int:
    tracemalloc.start()
    try:
        load_export(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_unknown_fields_cost_about_their_size_in_the_file_not_tenfold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory, not time: the peak while loading grows by about the bytes the unknown fields add
    to the file (the file itself is in memory), not by the Python objects they would become
    (orjson then the models: about seven times). The decode window is made small so that its
    fixed size does not count."""
    monkeypatch.setattr(stream, "CHUNK", 1 << 16)
    plain, heavy = tmp_path / "plain.json", tmp_path / "heavy.json"
    plain.write_bytes(orjson.dumps(_export_with_baggage(0)))
    heavy.write_bytes(orjson.dumps(_export_with_baggage(1000)))
    extra_bytes = heavy.stat().st_size - plain.stat().st_size
    assert extra_bytes > 10_000_000
    extra_peak = _peak_while_loading(heavy) - _peak_while_loading(plain)
    assert extra_peak < 2 * extra_bytes, (extra_peak, extra_bytes)
