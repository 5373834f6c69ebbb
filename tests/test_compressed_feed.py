"""``locations.json.gz``: the Location Data Link, gzip-compressed, published beside it.

At national scale the Location Data Link is tens of megabytes of very repetitive JSON; the
compressed copy is about a thirteenth of that. It is a file of its own, not an HTTP encoding:
served as ``application/gzip`` (never with ``Content-Encoding: gzip``), so what a consumer
downloads stays compressed on disk and unpacks to the Location Data Link byte for byte. It is
deterministic like every other published file, kept in step with the feed on every publish
(including a status-only watch cycle), and listed on the open-data page with its size.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from factories import conn, energy_tariff, evse, memory_publisher, selection_export, site
from helpers import pcpr, write_json
from pages_helpers import config, dataset_from, read_page, sample_dataset, write_site
from publish_helpers import sample, write_export

from pcpr_publish.commands.serve import SiteServer
from pcpr_publish.deploy.manifest import MANIFEST_KEY, parse_manifest
from pcpr_publish.engine.publisher import build_site
from pcpr_publish.render import html as H
from pcpr_publish.render import json_feeds as J
from pcpr_publish.render import words as W
from pcpr_publish.render.sitefile import CONTENT_TYPES, content_type
from pcpr_publish.stores.memory import MemoryStore

GZ = "locations.json.gz"


def two_site_export(name: str = "Leeds Station") -> dict[str, Any]:
    doc = selection_export()
    doc["sites"] = [site("S1", evse("E1", conn("1")), evse("E2", conn("1")), name=name),
                    site("S2", evse("E3", conn("1")))]
    doc["tariffs"] = [energy_tariff("AC")]
    return doc


def built(doc: dict[str, Any], **site_config: Any) -> dict[str, bytes]:
    return {k: f.body for k, f in build_site(dataset_from(doc), config(**site_config)).items()}


# -- the file ------------------------------------------------------------------------------------

def test_the_compressed_copy_unpacks_to_exactly_the_location_data_link() -> None:
    files = built(sample(30))
    assert gzip.decompress(files[GZ]) == files["locations.json"]
    assert len(files[GZ]) < len(files["locations.json"]) / 5


def test_its_gzip_header_has_no_time_and_no_file_name() -> None:
    """RFC 1952: ID1 ID2, CM 8, FLG 0 (no name, comment or extra field), MTIME 0, XFL 0, OS 255,
    on every platform and Python version (the header is not left to gzip or zlib)."""
    body = built(two_site_export())[GZ]
    assert body[:10] == bytes((0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255))
    assert J.gzip_bytes(b"") == J.GZIP_HEADER + b"\x03\x00" + bytes(8)  # empty: CRC 0, size 0


def test_the_same_export_gives_a_byte_identical_compressed_copy(tmp_path: Path) -> None:
    """Twice in this process, and once more in another Python process (another hash seed)."""
    doc = sample(30)
    first, second = built(doc), built(doc)
    assert first[GZ] == second[GZ]
    export = write_export(tmp_path / "export.json", doc)
    out = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PCPR_")}
    run = subprocess.run([sys.executable, "-m", "pcpr_publish", "build", export, "--out", str(out),
                          "--report", str(tmp_path / "report.json")], cwd=tmp_path,
                         env={**env, "PYTHONHASHSEED": "12345"}, capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert (out / GZ).read_bytes() == first[GZ]
    assert (out / "locations.json").read_bytes() == first["locations.json"]


def test_a_change_in_one_location_changes_the_compressed_copy() -> None:
    before, after = built(two_site_export()), built(two_site_export(name="Leeds Station East"))
    assert before[GZ] != after[GZ]
    assert gzip.decompress(after[GZ]) == after["locations.json"]
    assert b"Leeds Station East" in gzip.decompress(after[GZ])


def test_it_refers_to_what_the_location_data_link_refers_to() -> None:
    """Uploaded only after the tariffs and per-location files it names, like the feed itself;
    and every page or widget that links it goes up after it."""
    assert J.LOCATION_FEED_GZIP.refers_to == J.LOCATION_FEED.refers_to
    assert J.LOCATION_FEED_GZIP in H.TOP_PAGE.refers_to  # the open-data page links it
    assert J.LOCATION_FEED_GZIP in H.WIDGET.refers_to  # and so does the data-links widget
    site_files = build_site(dataset_from(two_site_export()), config())
    assert site_files[GZ].kind is J.LOCATION_FEED_GZIP


# -- how it is served ----------------------------------------------------------------------------

def test_it_is_application_gzip_in_the_site_files_and_on_a_local_target(tmp_path: Path) -> None:
    assert content_type(GZ) == CONTENT_TYPES[".gz"] == "application/gzip"
    assert not any("gzip" in t for ext, t in CONTENT_TYPES.items() if ext != ".gz")
    files = build_site(dataset_from(two_site_export()), config())
    assert files[GZ].content_type == "application/gzip"
    assert files[GZ].cache_control == files["locations.json"].cache_control == "public, max-age=15"

    export = write_json(tmp_path / "export.json", two_site_export())
    result = pcpr("build", str(export), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    manifest = parse_manifest((tmp_path / "site" / MANIFEST_KEY).read_bytes())
    assert manifest is not None
    assert manifest[GZ].content_type == "application/gzip"
    assert manifest[GZ].size == (tmp_path / "site" / GZ).stat().st_size


def test_pcpr_serve_sends_it_compressed_as_application_gzip(tmp_path: Path) -> None:
    """No Content-Encoding: a client saves the compressed bytes, it does not unpack them."""
    folder = tmp_path / "site"
    files = write_site(dataset_from(two_site_export()), config(), folder)
    with SiteServer(folder, port=0) as server:
        request = urllib.request.Request(server.url + GZ, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            headers, body = resp.headers, resp.read()
    assert headers["Content-Type"] == "application/gzip"
    assert headers.get("Content-Encoding") is None
    assert body == files[GZ]


@pytest.mark.s3
def test_s3_stores_it_as_application_gzip_without_content_encoding(s3_bucket: Any,
                                                                    tmp_path: Path) -> None:
    export = write_export(tmp_path / "export.json", sample(10))
    env = s3_bucket.server.env()
    result = pcpr("publish", export, "--to", s3_bucket.url("od"),
                  "--report", str(tmp_path / "r.json"), env=env)
    assert result.exit_code == 0, result.output
    head = s3_bucket.head(f"od/{GZ}")
    assert head["ContentType"] == "application/gzip"
    assert "ContentEncoding" not in head
    assert gzip.decompress(s3_bucket.get(f"od/{GZ}")) == s3_bucket.get("od/locations.json")
    assert pcpr("init-bucket", s3_bucket.url("od"), env=env).exit_code == 0
    anonymous = s3_bucket.server.anonymous(s3_bucket.name, f"od/{GZ}", {"Accept-Encoding": "gzip"})
    assert anonymous.status == 200
    assert anonymous.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in anonymous.headers
    assert anonymous.body == s3_bucket.get(f"od/{GZ}")


# -- the open-data page and the data-links widget ------------------------------------------------

def test_the_open_data_page_links_it_beside_the_location_data_link_with_its_size() -> None:
    dataset = sample_dataset(60)
    files = {k: f.body for k, f in build_site(dataset, config()).items()}
    body = files["open-data.html"].decode()
    card = body[body.index('<h3 id="h-loc">'):body.index('<h3 id="h-tar">')]
    assert f'<a href="{GZ}">{GZ}</a>' in card
    text = read_page(files["open-data.html"]).plain_text
    size, plain = W.megabytes(len(files[GZ])), W.megabytes(len(files["locations.json"]))
    assert f"({size}; the Location Data Link is {plain})" in text
    assert "the same data, gzip-compressed" in text


def test_the_page_states_the_size_of_the_published_file_even_when_rendered_alone() -> None:
    """Pages rendered without the JSON (a library caller) compress the feed themselves; pages
    rendered after it take the size from that render. Both give the same page."""
    dataset = sample_dataset(60)
    with_json = build_site(dataset, config())["open-data.html"].body
    assert H.render_pages(dataset, config())["open-data.html"] == with_json
    feed = J.render_json(dataset.locations, dataset.tariffs, dataset.exported_at)
    assert J.location_feed_bytes(dataset.locations, dataset.exported_at) == feed["locations.json"]
    assert J.location_feed_sizes(dataset.locations, dataset.exported_at) == J.FeedSizes(
        len(feed["locations.json"]), len(feed[GZ]))


def test_sizes_are_in_megabytes_to_one_decimal() -> None:
    assert W.megabytes(35_402_795) == "35.4 MB"
    assert W.megabytes(2_679_146) == "2.7 MB"
    assert W.megabytes(1_250_000) == "1.3 MB"  # half up
    assert W.megabytes(50_000) == "0.1 MB"
    assert W.megabytes(49_999) == "less than 0.1 MB"
    assert W.megabytes(0) == "less than 0.1 MB"


def test_the_data_links_widget_links_it_too() -> None:
    widget = built(two_site_export())["embed/data-links.html"]
    links = {a: t for a, t in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', widget.decode())}
    assert links["../locations.json.gz"] == "Compressed copy"
    assert links["../locations.json"] == "Location Data Link"


# -- watch mode ----------------------------------------------------------------------------------

def test_a_status_only_watch_cycle_keeps_it_in_step(tmp_path: Path) -> None:
    store = MemoryStore()
    overlay = tmp_path / "statuses.json"
    overlay.write_text("{}")
    export = write_json(tmp_path / "export.json", two_site_export())
    pub = memory_publisher([export], store, tmp_path / "report.json", statuses=str(overlay))
    assert pub.cycle() is not None
    first = store.read(GZ)
    assert first is not None and gzip.decompress(first) == store.read("locations.json")

    store.log.clear()
    overlay.write_text(json.dumps({"E3": {"status": "CHARGING",
                                          "updated_at": "2026-11-20T09:10:00Z"}}))
    st = overlay.stat()
    os.utime(overlay, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    result = pub.cycle()
    assert result is not None and result.reason == "overlay changed"
    assert ("put", GZ) in store.log
    now = store.read(GZ)
    assert now != first
    assert gzip.decompress(now) == store.read("locations.json")
    assert b'"uid":"E3","status":"CHARGING"' in gzip.decompress(now)


def test_watch_mode_compresses_only_when_the_feed_bytes_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a render cache, a render whose locations.json is byte for byte the last one reuses
    the compressed bytes (the very same object, so it is not even hashed again)."""
    calls: list[int] = []
    real = J.gzip_bytes

    def counting(body: bytes) -> bytes:
        calls.append(len(body))
        return real(body)

    monkeypatch.setattr(J, "gzip_bytes", counting)
    dataset = dataset_from(two_site_export())
    cache: J.RenderCache = {}
    gz = J.GzipCache()
    first = J.render_json(dataset.locations, dataset.tariffs, dataset.exported_at, cache, gz)
    again = J.render_json(dataset.locations, dataset.tariffs, dataset.exported_at, cache, gz)
    assert len(calls) == 1 and again[GZ] is first[GZ]
    # A new export of the same sites (new model objects, same bytes) and a new tariff price:
    # locations.json is unchanged, so nothing is compressed.
    cheaper = two_site_export()
    cheaper["tariffs"] = [energy_tariff("AC", 0.4)]
    rebuilt = dataset_from(cheaper)
    third = J.render_json(rebuilt.locations, rebuilt.tariffs, rebuilt.exported_at, cache, gz)
    assert third["tariffs.json"] != first["tariffs.json"]
    assert len(calls) == 1 and third[GZ] is first[GZ]
    # A changed location: compressed again, and the cache follows.
    renamed = dataset_from(two_site_export(name="Leeds Station East"))
    fourth = J.render_json(renamed.locations, renamed.tariffs, renamed.exported_at, cache, gz)
    assert len(calls) == 2 and gzip.decompress(fourth[GZ]) == fourth["locations.json"]
    # Without a cache (a one-off build), every render compresses.
    J.render_json(dataset.locations, dataset.tariffs, dataset.exported_at)
    assert len(calls) == 3
