"""The JSON Schemas in schemas/ are generated from the models; this fails when they are stale."""

from __future__ import annotations

from pathlib import Path

from pcpr_publish.schemas import generate

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_checked_in_schemas_match_the_models():
    generated = generate()
    on_disk = {p.name: p.read_bytes() for p in SCHEMAS.glob("*.json")}
    assert set(on_disk) == set(generated), "run `make schemas`"
    for name, body in generated.items():
        assert on_disk[name] == body, f"schemas/{name} is stale: run `make schemas`"


def test_schemas_describe_the_contracts():
    import json

    export = json.loads(generate()["pcpr-export-1.schema.json"])
    assert set(export["required"]) == {"format", "exported_at", "sites", "tariffs"}
    loc = json.loads(generate()["ocpi-2.2.1-locations.schema.json"])
    geo = loc["$defs"]["GeoLocation"]["properties"]["latitude"]
    assert geo["pattern"] == r"^-?[0-9]{1,2}\.[0-9]{5,7}$"
    assert loc["$defs"]["Location"]["additionalProperties"] is False


# ---- The export contract: described, typed, and the same as docs/export-format.md ----------------

import json  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "export-format.md"


def _export_schema() -> dict:
    return json.loads(generate()["pcpr-export-1.schema.json"])


def _properties(node, where="$"):
    """(path, schema) of every property of every object schema in ``node``, recursively."""
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield f"{where}.{name}", prop
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _properties(value, f"{where}[{i}]")


def _is_typed(schema: dict) -> bool:
    """True when ``schema`` says what the value is (not an empty, accept-anything schema)."""
    if any(k in schema for k in ("type", "$ref", "const", "enum")):
        return True
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    return bool(branches) and all(_is_typed(b) for b in branches)


def test_every_export_property_has_a_description():
    props = list(_properties(_export_schema()))
    assert len(props) > 100  # every field of every model, nested OCPI objects included
    missing = [path for path, prop in props if not str(prop.get("description", "")).strip()]
    assert not missing, f"properties without a description: {missing}"


def test_every_export_property_is_typed():
    # AccessProfile's two fields are documented as "any": they are never read for publication.
    untyped = [path for path, prop in _properties(_export_schema())
               if not _is_typed(prop) and not path.startswith("$/$defs/AccessProfile.")]
    assert not untyped, f"properties with an empty (accept-anything) schema: {untyped}"


def _branches(prop: dict) -> list[dict]:
    return [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]


def test_nested_ocpi_objects_are_typed():
    schema = _export_schema()
    defs = schema["$defs"]
    site = defs["Site"]["properties"]

    opening = _branches(site["opening_times"])
    assert {"$ref": "#/$defs/Hours"} in opening
    assert any(b.get("type") == "string" and "24" in b.get("pattern", "") for b in opening)
    hours = defs["Hours"]
    assert hours["required"] == ["twentyfourseven"]
    assert hours["properties"]["twentyfourseven"]["type"] == "boolean"
    assert hours["properties"]["regular_hours"]["anyOf"][0]["items"] == {"$ref": "#/$defs/RegularHours"}
    assert set(defs["RegularHours"]["required"]) == {"weekday", "period_begin", "period_end"}

    facilities = _branches(site["facilities"])
    assert facilities == [{"items": {"type": "string"}, "type": "array"}]
    assert "SUPERMARKET" in site["facilities"]["description"]

    owner = _branches(site["owner"])
    assert {"$ref": "#/$defs/BusinessDetails"} in owner and any(b.get("type") == "string" for b in owner)
    assert defs["BusinessDetails"]["required"] == ["name"]
    assert defs["BusinessDetails"]["properties"]["logo"]["anyOf"][0] == {"$ref": "#/$defs/Image"}

    assert _branches(site["images"])[0]["items"] == {"$ref": "#/$defs/Image"}
    assert _branches(site["energy_mix"]) == [{"$ref": "#/$defs/EnergyMix"}]
    assert {"$ref": "#/$defs/DisplayText"} in [b.get("items") for b in _branches(site["directions"])]
    tariff = defs["Tariff"]["properties"]
    assert tariff["elements"]["items"] == {"$ref": "#/$defs/TariffElement"}
    element = defs["TariffElement"]["properties"]
    assert element["price_components"]["items"] == {"$ref": "#/$defs/PriceComponent"}
    assert element["restrictions"]["anyOf"][0] == {"$ref": "#/$defs/TariffRestrictions"}
    assert {"$ref": "#/$defs/Price"} in _branches(tariff["min_price"])


def _doc_tables() -> dict[str, list[str]]:
    """Field names of each field table in docs/export-format.md, by the heading above it."""
    tables: dict[str, list[str]] = {}
    heading = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## Examples"):
            break
        m = re.match(r"^#{3,4} (\w+)$", line)
        if m:
            heading = m.group(1)
        m = re.match(r"^\| `(\w+)` \|", line)
        if m and heading:
            tables.setdefault(heading, []).append(m.group(1))
    return tables


def test_schema_fields_are_the_documented_fields():
    schema = _export_schema()
    tables = _doc_tables()
    assert {"Document", "Site", "Evse", "Connector", "Tariff", "Hours", "TariffRestrictions"} <= set(tables)
    for heading, fields in tables.items():
        obj = schema if heading == "Document" else schema["$defs"][heading]
        assert sorted(fields) == sorted(obj["properties"]), f"### {heading} in docs/export-format.md"


def test_documented_examples_match_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = _export_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    examples = [json.loads(b) for b in blocks if '"format": "pcpr-export/1"' in b]
    assert len(examples) == 2
    for example in examples:
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(example)]
        assert not errors
