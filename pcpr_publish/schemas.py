"""JSON Schemas generated from the models: the export contract and the two OCPI outputs.

``schemas/`` in the repository holds the output of :func:`write_schemas`; a test fails when the
checked-in files differ from what the models generate, so the contract cannot drift silently.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from pcpr_publish.ocpi.models import LocationListResponse, TariffListResponse
from pcpr_publish.read.export.models import Export

SCHEMAS = {
    "pcpr-export-1.schema.json": (Export, "pcpr back-office export, format pcpr-export/1"),
    "ocpi-2.2.1-locations.schema.json": (LocationListResponse, "locations.json: OCPI 2.2.1 Location list"),
    "ocpi-2.2.1-tariffs.schema.json": (TariffListResponse, "tariffs.json: OCPI 2.2.1 Tariff list"),
}


def generate() -> dict[str, bytes]:
    out = {}
    for name, (model, title) in SCHEMAS.items():
        schema = model.model_json_schema(mode="validation")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **schema}
        out[name] = orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    return out


def write_schemas(folder: str | Path) -> list[str]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, body in generate().items():
        (folder / name).write_bytes(body)
        paths.append(str(folder / name))
    return paths
