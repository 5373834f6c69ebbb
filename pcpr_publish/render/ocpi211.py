"""The OCPI 2.1.1 files and the OCPI versions endpoint (docs/ocpi-2.1.1.md).

``ocpi/2.1.1/locations.json``, ``ocpi/2.1.1/tariffs.json`` and ``ocpi/2.1.1/locations/<id>.json``
carry the same selection as the 2.2.1 Data Links, down-mapped (``pipeline/v211.py``). Their
kinds mirror the 2.2.1 ones, so the planner uploads a 2.1.1 location only after the 2.1.1
tariffs it names, and bridges the 2.1.1 tariff feed when it drops a tariff.

``ocpi/versions.json`` and ``ocpi/<version>/details.json`` let an OCPI client start from one URL:
the versions list, then each version's module endpoints (role SENDER), with absolute URLs from
``[site] base_url`` (OCPI has no relative URLs, so without a base URL they are not written).
They are uploaded after the feeds they point at.
"""

from __future__ import annotations

from typing import Any

from pcpr_publish.ocpi.json import (
    DATA_PREFIX,
    dumps,
    envelope,
    envelope_suffix_len,
    list_envelope,
    object_bytes,
)
from pcpr_publish.pipeline.v211 import rendition_211
from pcpr_publish.render.json_feeds import (
    LOCATION_FEED,
    LOCATIONS_FEED,
    TARIFF_FEED,
    TARIFFS_FEED,
    location_key,
    newest,
    tariff_bridge,
)
from pcpr_publish.render.sitefile import FileKind, Rendered

V211_DIR = "ocpi/2.1.1"
LOCATIONS_211 = f"{V211_DIR}/locations.json"
TARIFFS_211 = f"{V211_DIR}/tariffs.json"
VERSIONS = "ocpi/versions.json"
DETAILS = {"2.2.1": "ocpi/2.2.1/details.json", "2.1.1": f"{V211_DIR}/details.json"}


def is_location_211(key: str) -> bool:
    return key.startswith(f"{V211_DIR}/locations/") and key.endswith(".json")


TARIFF_FEED_211 = FileKind("OCPI 2.1.1 tariff feed", bridge=tariff_bridge)
LOCATION_OBJECT_211 = FileKind("OCPI 2.1.1 location object", refers_to=(TARIFF_FEED_211,),
                               owns=is_location_211)
LOCATION_FEED_211 = FileKind("OCPI 2.1.1 location feed",
                             refers_to=(TARIFF_FEED_211, LOCATION_OBJECT_211))
VERSION_DETAILS = FileKind("OCPI version details", refers_to=(
    LOCATION_FEED, TARIFF_FEED, LOCATION_FEED_211, TARIFF_FEED_211))
VERSIONS_KIND = FileKind("OCPI versions", refers_to=(VERSION_DETAILS,))

def published_versions(config: Any) -> list[str]:
    return list(getattr(getattr(config, "ocpi", None), "versions", None) or ["2.2.1"])


def render_211(dataset: Any, config: Any) -> Rendered:
    """The 2.1.1 files (when ``[ocpi] versions`` lists 2.1.1) and the versions endpoint.

    Each Location's file bytes come made (and cached) by the rendition; the feed repeats them
    as views into those files rather than as second copies."""
    files = Rendered()
    versions = published_versions(config)
    stamp = dataset.exported_at
    if "2.1.1" in versions:
        rendition = getattr(dataset, "v211", None) or rendition_211(dataset)
        bodies: list[memoryview] = []
        for loc in rendition.locations:
            body = loc.body
            bodies.append(memoryview(body)[len(DATA_PREFIX):len(body) - envelope_suffix_len(loc.last_updated)])
            files.add(f"{V211_DIR}/{location_key(loc.id)}", body, LOCATION_OBJECT_211)
        files.add(LOCATIONS_211, list_envelope(
            bodies, newest((loc.last_updated for loc in rendition.locations), stamp)), LOCATION_FEED_211)
        files.add(TARIFFS_211, list_envelope(
            (object_bytes(t) for t in rendition.tariffs),
            newest((t.last_updated for t in rendition.tariffs), stamp)), TARIFF_FEED_211)
    base = getattr(getattr(config, "site", None), "base_url", None)
    if base:
        base = base if base.endswith("/") else base + "/"
        modules = {"2.2.1": (LOCATIONS_FEED, TARIFFS_FEED), "2.1.1": (LOCATIONS_211, TARIFFS_211)}
        listed = []
        for version in sorted(versions):
            loc_key, tar_key = modules[version]
            endpoints: list[dict[str, str]] = []
            for identifier, key in (("locations", loc_key), ("tariffs", tar_key)):
                entry = {"identifier": identifier}
                if version != "2.1.1":
                    entry["role"] = "SENDER"  # 2.1.1 endpoints have no role
                entry["url"] = base + key
                endpoints.append(entry)
            files.add(DETAILS[version], envelope(dumps({"version": version, "endpoints": endpoints}),
                                                 stamp), VERSION_DETAILS)
            listed.append({"version": version, "url": base + DETAILS[version]})
        files.add(VERSIONS, envelope(dumps(listed), stamp), VERSIONS_KIND)
    return files
