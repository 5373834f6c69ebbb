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
