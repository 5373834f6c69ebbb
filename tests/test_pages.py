"""HTML pages (issue 4) without a browser: the numbers and words on the pages, the files the
site holds, safety of the markup, determinism, branding and size at 20,000 locations."""

from __future__ import annotations

import html
import re
import time
import tomllib
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any, get_args
from urllib.parse import unquote, urlsplit

import orjson
import pytest
from pages_helpers import (
    EVIL,
    EVIL_ID,
    EXPORTED_AT,
    MIXED_ID,
    MIXED_PENCE,
    config,
    dataset_from,
    evil_export,
    mixed_price_export,
    read_page,
    sample_dataset,
)

from pcpr_publish.config import load_config
from pcpr_publish.errors import ConfigError
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.ocpi.enums import ConnectorFormat, ConnectorType, Status
from pcpr_publish.engine.publisher import build_site
from pcpr_publish.render import html as H
from pcpr_publish.render import words as W
from pcpr_publish.render.json_feeds import location_key
from pcpr_publish.render.pricing import (
    format_money,
    pence_incl_vat,
    restriction_words,
    round_tenth,
    summary_words,
    tariff_words,
)
from pcpr_publish.render.sitefile import IMMUTABLE, cache_control, content_type

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def sample():
    return sample_dataset(60, seed=1)


@pytest.fixture(scope="module")
def pages(sample):
    return H.render_pages(sample, config()).bodies()


@pytest.fixture(scope="module")
def evil_pages():
    return H.render_pages(dataset_from(evil_export()), config()).bodies()


def tariff(*elements: dict[str, Any], **extra: Any) -> ocpi.Tariff:
    """An OCPI Tariff from plain element dicts (prices as Decimals, like the strict models)."""
    def component(pc: dict[str, Any]) -> dict[str, Any]:
        out = {"type": pc["type"], "price": Decimal(str(pc["price"])), "step_size": pc.get("step_size", 1)}
        if pc.get("vat") is not None:
            out["vat"] = Decimal(str(pc["vat"]))
        return out

    data = {
        "country_code": "GB", "party_id": "TST", "id": extra.pop("id", "T1"), "currency": "GBP",
        "elements": [{"price_components": [component(pc) for pc in el["pcs"]],
                      **({"restrictions": el["restrictions"]} if "restrictions" in el else {})}
                     for el in elements],
        "last_updated": EXPORTED_AT, **extra,
    }
    return ocpi.Tariff.model_validate(data)


def energy(price: Any, vat: Any = 20, **restrictions: Any) -> dict[str, Any]:
    el: dict[str, Any] = {"pcs": [{"type": "ENERGY", "price": price, "vat": vat}]}
    if restrictions:
        el["restrictions"] = restrictions
    return el


def expected_pence(price: Decimal, vat: Decimal | None) -> str:
    """The documented rule, computed independently: half up to 0.1p, one decimal shown."""
    p = price * (1 + (vat or 0) / Decimal(100)) * 100
    return f"{p.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}p per kWh"


# ------------------------------------------------------------------------------ pricing


@pytest.mark.parametrize(("price", "vat", "pence"), [
    ("0.4583", "20", "55.0"),  # 54.996p
    ("0.4167", "20", "50.0"),  # 50.004p
    ("0.6667", "20", "80.0"),  # 80.004p
    ("0.25", "20", "30.0"),
    ("0.0415", None, "4.2"),  # exactly halfway: up
    ("0.04149", None, "4.1"),
    ("0.50", None, "50.0"),  # no vat = no VAT
    ("0.5", "5", "52.5"),
    ("0", "20", "0.0"),
])
def test_pence_per_kwh_rounding_rule(price, vat, pence):
    assert pence_incl_vat(Decimal(price), Decimal(vat) if vat else None) == Decimal(pence)
    assert str(round_tenth(Decimal(price) * (100 + Decimal(vat or 0)))) == pence


def test_single_energy_price_in_words():
    tw = tariff_words(tariff(energy("0.4583")))
    assert tw.headline == "55.0p per kWh"
    assert tw.kwh_pence == (Decimal("55.0"),)
    assert tw.vat_note == "Prices include VAT at 20%."
    assert not tw.free


def test_no_vat_means_no_vat():
    tw = tariff_words(tariff(energy("0.45", vat=None)))
    assert tw.headline == "45.0p per kWh"
    assert tw.vat_note == "No VAT is charged."


def test_time_of_day_tariff_in_words():
    tw = tariff_words(tariff(energy("0.25", start_time="00:00", end_time="07:00"), energy("0.4583")))
    assert tw.headline == "30.0p to 55.0p per kWh"
    assert [line.sentence for line in tw.lines] == [
        "30.0p per kWh, between 00:00 and 07:00",
        "55.0p per kWh, at all other times",
    ]


def test_time_parking_and_session_fee_in_words():
    tw = tariff_words(tariff(
        {"pcs": [{"type": "FLAT", "price": "0.25", "vat": 20},
                 {"type": "ENERGY", "price": "0.5833", "vat": 20},
                 {"type": "TIME", "price": "1.00", "vat": 20}]},
        {"pcs": [{"type": "PARKING_TIME", "price": "10.00", "vat": 20, "step_size": 300}],
         "restrictions": {"min_duration": 5400}},
    ))
    assert tw.headline == "70.0p per kWh"  # 0.5833 × 1.2 = 0.69996
    sentences = [line.sentence for line in tw.lines]
    assert "30p fee per charging session" in sentences
    assert "2.0p per minute while charging (£1.20 per hour)" in sentences
    assert ("20.0p per minute while parked and not charging (£12.00 per hour), billed in steps "
            "of 5 minutes, after the first 90 minutes") in sentences


def test_free_tariff():
    tw = tariff_words(tariff({"pcs": [{"type": "FLAT", "price": "0", "vat": 20}]}))
    assert tw.free and tw.headline == "Free to use" and tw.kwh_pence == (Decimal("0.0"),)
    # a minimum price makes it not free (checks.is_free reads it the same way)
    priced = tariff({"pcs": [{"type": "FLAT", "price": "0"}]},
                    min_price={"excl_vat": Decimal("1.00"), "incl_vat": Decimal("1.20")})
    assert not tariff_words(priced).free
    assert "Minimum charge: £1.20 per session, including VAT." in tariff_words(priced).notes


def test_no_energy_component_is_zero_pence_per_kwh():
    tw = tariff_words(tariff({"pcs": [{"type": "TIME", "price": "3.00", "vat": 20}]}))
    assert tw.headline == "0.0p per kWh"
    assert tw.lines[0].sentence == "No charge for the energy itself (0.0p per kWh)"
    assert tw.lines[1].sentence == "6.0p per minute while charging (£3.60 per hour)"


def test_restrictions_in_words():
    r = ocpi.TariffRestrictions(day_of_week=["SATURDAY", "SUNDAY"], min_power=Decimal(50),
                                max_kwh=Decimal(20), start_date="2026-12-01", end_date="2027-01-01")
    assert restriction_words(r) == ("at weekends (Saturday and Sunday), from 1 December 2026 until "
                                    "the day before 1 January 2027, for the first 20 kWh, when "
                                    "charging at 50 kW or more")
    weekdays = ocpi.TariffRestrictions(day_of_week=["FRIDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY"])
    assert restriction_words(weekdays) == "on weekdays (Monday to Friday)"
    assert restriction_words(ocpi.TariffRestrictions(start_time="22:00")) == "from 22:00"


def test_money_formatting():
    assert format_money(Decimal("0.30"), "GBP") == "30p"
    assert format_money(Decimal("0.295"), "GBP") == "30p"
    assert format_money(Decimal("1.2"), "GBP") == "£1.20"
    assert format_money(Decimal("12"), "GBP") == "£12.00"


# ------------------------------------------------------------------------------ words


def test_every_status_has_distinct_words():
    statuses = get_args(Status)
    assert set(W.STATUS_WORDS) == set(statuses) == set(W.STATUS_CLASS)
    assert len(set(W.STATUS_WORDS.values())) == len(statuses)
    assert W.status_words("AVAILABLE") == "Available"
    assert W.status_words("CHARGING") == "In use"
    assert W.status_words("OUTOFORDER") == "Out of order"


def test_connector_names():
    assert W.connector_label("IEC_62196_T2_COMBO", "CABLE") == "CCS (Type 2 Combo)"
    assert W.connector_label("IEC_62196_T2", "SOCKET") == "Type 2 socket"
    assert W.connector_label("IEC_62196_T2", "CABLE") == "Type 2 tethered cable"
    assert W.connector_label("CHADEMO", "CABLE") == "CHAdeMO"
    assert W.connector_label("DOMESTIC_G", "SOCKET") == "UK 3-pin socket"
    for standard in get_args(ConnectorType):
        for fmt in get_args(ConnectorFormat):
            label = W.connector_label(standard, fmt)
            assert "_" not in label and label.strip() == label


def connector(**kw: Any) -> ocpi.Connector:
    base = {"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET", "power_type": "AC_1_PHASE",
            "max_voltage": 230, "max_amperage": 32, "last_updated": EXPORTED_AT}
    return ocpi.Connector.model_validate({**base, **kw})


def test_power_in_kw():
    assert W.power_words(connector(max_electric_power=7000)) == "7 kW AC single-phase"
    assert W.power_words(connector()) == "7.4 kW AC single-phase"  # 230 V × 32 A
    assert W.power_words(connector(power_type="AC_3_PHASE", max_amperage=16)) == "11 kW AC three-phase"
    assert W.format_kw(22080) == "22.1 kW"
    assert W.format_kw(7350) == "7.4 kW"  # half up
    assert W.power_words(connector(standard="CHADEMO", format="CABLE", power_type="DC",
                                   max_voltage=500, max_amperage=125)) == "62.5 kW DC"


def hours(**kw: Any) -> ocpi.Hours:
    return ocpi.Hours.model_validate(kw)


def test_opening_hours_grouped_by_day():
    h = hours(twentyfourseven=False, regular_hours=[
        *({"weekday": d, "period_begin": "07:00", "period_end": "22:00"} for d in range(1, 7)),
        {"weekday": 7, "period_begin": "10:00", "period_end": "16:00"},
    ])
    text = W.hours_text(h, "Europe/London", EXPORTED_AT)
    assert text.lines == (("Monday to Saturday", "07:00 to 22:00"), ("Sunday", "10:00 to 16:00"))
    assert "Times shown are UK time." in text.notes


def test_opening_hours_closed_days_split_periods_and_exceptions():
    h = hours(
        twentyfourseven=False,
        regular_hours=[{"weekday": 1, "period_begin": "08:00", "period_end": "12:00"},
                       {"weekday": 1, "period_begin": "13:00", "period_end": "17:00"},
                       {"weekday": 2, "period_begin": "08:00", "period_end": "12:00"},
                       {"weekday": 2, "period_begin": "13:00", "period_end": "17:00"},
                       {"weekday": 4, "period_begin": "00:00", "period_end": "23:59"}],
        exceptional_closings=[
            {"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"},
            {"period_begin": "2026-06-01T17:00:00Z", "period_end": "2026-06-03T05:00:00Z"},  # past
            {"period_begin": "2027-07-01T17:00:00Z", "period_end": "2027-07-03T05:00:00Z"},  # BST
        ],
        exceptional_openings=[{"period_begin": "2026-12-27T00:00:00Z", "period_end": "2026-12-29T00:00:00Z"}],
    )
    text = W.hours_text(h, "Europe/London", EXPORTED_AT, charging_when_closed=False)
    assert text.summary == "Open at set times"
    assert text.lines == (
        ("Monday and Tuesday", "08:00 to 12:00, 13:00 to 17:00"),
        ("Wednesday", "Closed"),
        ("Thursday", "Open all day"),
        ("Friday to Sunday", "Closed"),
    )
    assert text.notes[:3] == (
        "Closed all day on Friday 25 December 2026.",
        "Closed from 18:00 on Thursday 1 July 2027 until 06:00 on Saturday 3 July 2027.",
        "Also open from Sunday 27 December 2026 to Monday 28 December 2026.",
    )
    assert "Charging is not possible outside opening hours." in text.notes


def test_opening_hours_24_7_and_absent():
    assert W.hours_text(hours(twentyfourseven=True), "Europe/London", EXPORTED_AT).summary == \
        "Open 24 hours a day, 7 days a week"
    assert W.hours_text(None, "Europe/London", EXPORTED_AT).summary == "Opening hours not stated"


# ------------------------------------------------------------------------------ rendered pages


def test_site_files(pages, sample):
    for key in ("index.html", "open-data.html", "embed/data-links.html", "embed/location.html",
                "sitemap.xml", "robots.txt", "index-data.json"):
        assert key in pages, key
    assert sum(1 for k in pages if re.fullmatch(r"assets/app\.[0-9a-f]{12}\.js", k)) == 1
    assert sum(1 for k in pages if re.fullmatch(r"assets/style\.[0-9a-f]{12}\.css", k)) == 1
    for loc in sample.locations:
        assert H.page_key(loc.id) == location_key(loc.id)[:-5] + ".html"
        assert H.page_key(loc.id) in pages
    for key in pages:
        content_type(key)  # every extension is known
        if key.startswith("assets/"):
            assert cache_control(key) == IMMUTABLE


def test_rendering_is_deterministic(sample):
    assert H.render_pages(sample, config()).bodies() == H.render_pages(sample, config()).bodies()


def test_pages_are_uploaded_after_what_they_reference(sample):
    """The planner must put each page after the new objects it links to or loads: its own
    JSON, the assets, nested pages, and (for the finder) the index data and its chunks. Orders
    come from the kinds the renderers declare on a real render."""
    from pcpr_publish.deploy.plan import Order
    from pcpr_publish.engine.publisher import build_site

    site = build_site(sample, config())
    order = Order.of(site)

    def t(key: str) -> int:
        return order.level(site[key])

    pages = {k: f.body for k, f in site.items()}
    chunks = [k for k in pages if k.startswith("index-data/")]
    for key, body in pages.items():
        if not key.endswith(".html"):
            continue
        refs = {_resolve(key, url) for url in read_page(body).urls()} - {None}
        if key.startswith("index"):
            refs |= {"index-data.json", *chunks}
        for ref in refs:
            if ref in site and (ref.endswith(".json") or "/" in ref):  # data, assets, nested pages
                assert t(ref) < t(key), f"{key} (level {t(ref)}) refers to {ref} (level {t(ref)})"
        assert t(key) < t("sitemap.xml")
    assert t("index-data.json") > max(t(k) for k in chunks)
    assert t("robots.txt") > t("sitemap.xml")


def _resolve(page_key: str, url: str) -> str | None:
    """The site key a relative URL points at (None for absolute URLs)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("#"):
        return None
    path = str(PurePosixPath(page_key).parent / parts.path)
    segments: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            segments.pop()
        elif seg not in ("", "."):
            segments.append(seg)
    return unquote("/".join(segments))  # a server turns the URL path back into the key


def test_every_internal_link_resolves(pages, evil_pages, sample):
    evil = dataset_from(evil_export())
    for files, ds in ((pages, sample), (evil_pages, evil)):
        site = set(files) | set(build_site(ds, config()))  # and every other renderer's files
        for key, body in files.items():
            if not key.endswith(".html"):
                continue
            for url in read_page(body).urls():
                target = _resolve(key, url)
                if target is not None:
                    assert target in site, f"{key} links to {url!r} → {target!r}, not in the site"


def test_csp_and_no_inline_script_or_handlers(pages, evil_pages):
    for files in (pages, evil_pages):
        for key, body in files.items():
            if not key.endswith(".html"):
                continue
            page = read_page(body)
            csp = [a.get("content") for t, a in page.elements
                   if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
            assert csp and "script-src 'self'" in csp[0] and "unsafe-inline" not in csp[0], key
            assert page.inline_scripts == [], key
            for tag, attrs in page.elements:
                assert not any(name.startswith("on") for name in attrs), (key, tag, attrs)
                if tag == "script":
                    assert attrs["src"].split("/")[-1].startswith("app."), key
                assert tag not in ("iframe",) or key == "open-data.html", key


def test_markup_from_the_export_is_escaped(evil_pages):
    page = evil_pages[H.page_key(EVIL_ID)].decode()
    text = read_page(evil_pages[H.page_key(EVIL_ID)]).plain_text
    for name in ("name", "address", "city", "directions", "physical_reference", "evse_directions",
                 "evse_id", "alt_text", "operator"):
        value = EVIL[name]
        assert " ".join(value.split()) in text, name  # shown as text …
        assert value not in page, name  # … never as markup
    index = evil_pages["index.html"].decode()
    assert "<script>window" not in index and "&lt;script&gt;window.__pwned=1" in index
    assert b"<script>window" not in evil_pages["open-data.html"]


def _articles(body: str) -> list[str]:
    return re.findall(r'<article class="card evse".*?</article>', body, flags=re.S)


def test_status_words_match_evse_statuses(pages, sample):
    seen = set()
    for loc in sample.locations:
        body = pages[H.page_key(loc.id)].decode()
        articles = _articles(body)
        assert len(articles) == len(loc.evses)
        for evse, article in zip(loc.evses, articles):
            seen.add(evse.status)
            assert f'data-status="{evse.status}"' in article
            badge = re.search(r'<span class="badge badge-(\w+)">.*?</span>(.*?)</span>', article, re.S)
            assert badge.group(2) == W.STATUS_WORDS[evse.status]
            assert badge.group(1) == W.STATUS_CLASS[evse.status]
        statuses = [e.status for e in loc.evses]
        available = statuses.count("AVAILABLE")
        if available:
            assert f"{available} of {len(statuses)} available" in body
    assert {"AVAILABLE", "CHARGING", "OUTOFORDER"} <= seen


def test_prices_on_pages_match_the_tariffs(pages, sample):
    tariffs = {t.id: t for t in sample.tariffs}
    checked = 0
    for loc in sample.locations:
        body = pages[H.page_key(loc.id)].decode()
        for evse, article in zip(loc.evses, _articles(body)):
            for c in evse.connectors:
                t = tariffs[c.tariff_ids[0]]
                for el in t.elements:
                    for pc in el.price_components:
                        if pc.type == "ENERGY":
                            assert expected_pence(pc.price, pc.vat) in article
                            checked += 1
    assert checked > 50
    # the example: TRF-AC-STD-55P is 0.4583 GBP excl. 20% VAT
    std = next(loc for loc in sample.locations for e in loc.evses for c in e.connectors
               if c.tariff_ids == ["TRF-AC-STD-55P"])
    assert "55.0p per kWh" in pages[H.page_key(std.id)].decode()


_DAYS = {name: i for i, name in enumerate(W.DAY_NAMES, start=1)}


def _expand(days: str) -> list[int]:
    if " to " in days:
        a, b = days.split(" to ")
        return list(range(_DAYS[a], _DAYS[b] + 1))
    return [_DAYS[d] for d in days.split(" and ")]


def test_opening_hours_on_pages_match_hours_objects(pages, sample):
    checked = 0
    for loc in sample.locations:
        body = pages[H.page_key(loc.id)].decode()
        h = loc.opening_times
        if h is None or h.twentyfourseven:
            assert h is None or "Open 24 hours a day, 7 days a week" in body
            continue
        rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', body)
        shown: dict[int, str] = {}
        for days, times in rows:
            for d in _expand(days):
                shown[d] = times
        assert sorted(shown) == list(range(1, 8))
        for d in range(1, 8):
            periods = sorted((r.period_begin, r.period_end) for r in h.regular_hours if r.weekday == d)
            want = ", ".join(f"{b} to {e}" for b, e in periods) if periods else "Closed"
            assert shown[d] == (want if want != "00:00 to 23:59" else "Open all day"), (loc.id, d)
        for p in h.exceptional_closings or ():
            if p.period_end > EXPORTED_AT:
                assert "Closed " in body
        checked += 1
    assert checked >= 3


def test_index_lists_every_location_and_data_rows(pages, sample):
    index = pages["index.html"].decode()
    meta = __import__("orjson").loads(pages["index-data.json"])
    rows = [r for key in meta["chunks"] for r in __import__("orjson").loads(pages[key])["rows"]]
    assert meta["count"] == len(rows) == len(sample.locations)
    assert {r[0] for r in rows} == {H.url_segment(loc.id) for loc in sample.locations}
    for loc in sample.locations:
        assert f'href="{H.url_segment(loc.id)}' in index.replace("locations/", "") or len(sample.locations) > H.PAGE_SIZE
    status_index = {s: i for i, s in enumerate(H.STATUS_ORDER)}
    by_seg = {H.url_segment(loc.id): loc for loc in sample.locations}
    for r in rows:
        loc = by_seg[r[0]]
        assert [e[0] for e in r[6]] == [status_index[e.status] for e in loc.evses]


def test_open_data_page(pages, sample):
    body = pages["open-data.html"].decode()
    text = read_page(pages["open-data.html"]).plain_text
    assert "Location Data Link" in text and "Tariff Data Link" in text
    assert "OCPI 2.2.1" in text and "Open Government Licence v3.0" in text
    assert H.OGL_URL in body
    assert 'data-abs="locations.json"' in body and 'data-abs="tariffs.json"' in body
    assert f"<td>{len(sample.locations)}</td>" in body
    assert f"<td>{len(sample.tariffs)}</td>" in body
    newest = max([loc.last_updated for loc in sample.locations] + [t.last_updated for t in sample.tariffs])
    assert f'<time datetime="{newest}">' in body
    assert "within 30 seconds" not in text  # only a watch process keeps that promise
    assert "embed/data-links.html" in body and "embed/location.html?location=" in body
    assert "55.0p per kWh" in text  # the documented rounding example


def test_base_url_gives_absolute_links_and_sitemap(sample):
    files = H.render_pages(sample, config(base_url="https://chargers.example.com/ev")).bodies()
    od = files["open-data.html"].decode()
    assert "https://chargers.example.com/ev/locations.json" in od and "data-abs" not in od
    assert '<link rel="canonical" href="https://chargers.example.com/ev/open-data.html">' in od
    root = ET.fromstring(files["sitemap.xml"])
    urls = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert len(urls) == len(sample.locations) + 2
    assert "https://chargers.example.com/ev/" in urls
    assert all(u.startswith("https://chargers.example.com/ev/") for u in urls)
    assert "Sitemap: https://chargers.example.com/ev/sitemap.xml" in files["robots.txt"].decode()


def test_without_base_url_the_sitemap_is_valid_and_empty(pages):
    root = ET.fromstring(pages["sitemap.xml"])
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset" and len(root) == 0
    assert "Sitemap:" not in pages["robots.txt"].decode()


def test_large_sitemap_becomes_an_index(sample, monkeypatch):
    monkeypatch.setattr(H, "SITEMAP_SIZE", 10)
    files = H.render_pages(sample, config(base_url="https://x.example/")).bodies()
    root = ET.fromstring(files["sitemap.xml"])
    assert root.tag.endswith("sitemapindex")
    parts = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    total = 0
    for url in parts:
        part = ET.fromstring(files[url.removeprefix("https://x.example/")])
        total += len(part)
        assert len(part) <= 10
    assert total == len(sample.locations) + 2


def test_branding_from_configuration(sample):
    cfg = config(title="Pennine EV", operator_name="Pennine Charging", accent_colour="#ffcc00",
                 logo_url="https://cdn.example.com/logo.svg")
    files = H.render_pages(sample, cfg).bodies()
    index = files["index.html"].decode()
    assert "<title>Find a charge point: Pennine EV</title>" in index
    assert "Pennine Charging" in index and 'src="https://cdn.example.com/logo.svg"' in index
    css = next(v for k, v in files.items() if k.startswith("assets/style.")).decode()
    assert "--accent: #ffcc00;" in css
    assert "--on-accent: #1b1f24;" in css  # dark text on a light accent


@pytest.mark.parametrize("accent", ["#0b5fff", "#ffcc00", "#ffffff", "#000000", "#777777", "#0f0", "#e4007c"])
def test_palette_keeps_aa_contrast(accent):
    p = H.palette(accent)
    assert H.contrast(p.accent, p.on_accent) >= 4.5
    assert H.contrast(p.link, H.PAGE_BG) >= 4.5 and H.contrast(p.link, "#ffffff") >= 4.5
    assert H.contrast(H.TEXT, p.soft) >= 4.5


@pytest.mark.parametrize(("key", "value"), [
    ("accent_colour", "red; } body { display:none"),
    ("base_url", "chargers.example.com"),
    ("logo_url", "http://insecure.example/logo.png"),
    ("logo_url", "javascript:alert(1)"),
])
def test_site_config_is_validated(key, value):
    with pytest.raises(ConfigError):
        config(**{key: value})


def test_page_cache_gives_the_same_bytes(sample):
    cache = H.PageCache()
    cfg = config()
    first = H.render_pages(sample, cfg, cache).bodies()
    assert first == H.render_pages(sample, cfg).bodies()
    loc = sample.locations[3]
    evse = loc.evses[0].model_copy(update={"status": "OUTOFORDER" if loc.evses[0].status != "OUTOFORDER" else "AVAILABLE"})
    changed = loc.model_copy(update={"evses": [evse, *loc.evses[1:]]})
    sample2 = type(sample)(sample.exported_at, sample.operator,
                           [changed if x is loc else x for x in sample.locations], sample.tariffs,
                           sample.report, sample.counts)
    second = H.render_pages(sample2, cfg, cache).bodies()
    assert cache.hits >= len(sample.locations) - 1
    assert second == H.render_pages(sample2, cfg).bodies()
    diff = {k for k in second if first.get(k) != second[k]}
    assert H.page_key(loc.id) in diff and "open-data.html" not in diff
    assert len([k for k in diff if k.startswith("locations/")]) == 1


def test_templates_are_packaged():
    assert (H.templates_dir() / "index.html").is_file()
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    patterns = [p for ps in data_files.values() for p in ps]
    for path in (ROOT / "templates").rglob("*"):
        if path.is_file():
            rel = path.relative_to(ROOT).as_posix()
            assert any(fnmatch(rel, p) and PurePosixPath(p).parent == PurePosixPath(rel).parent
                       for p in patterns), f"{rel} is not installed by [tool.setuptools.data-files]"


# ------------------------------------------------------------------------------ reviewed wording


def test_a_free_charger_is_not_the_bottom_of_a_price_range():
    free = tariff_words(tariff({"pcs": [{"type": "FLAT", "price": "0", "vat": 20}]}, id="FREE"))
    p45 = tariff_words(tariff(energy("0.375"), id="P45"))
    p80 = tariff_words(tariff(energy("0.6667"), id="P80"))
    tod = tariff_words(tariff(energy("0.25", start_time="00:00", end_time="07:00"), energy("0.4583"),
                              id="TOD"))
    assert H.price_summary([free, p45, p80]) == "Free on some chargers; 45.0p to 80.0p per kWh on others"
    assert H.price_summary([p80, free]) == "Free on some chargers; 80.0p per kWh on others"
    assert H.price_summary([free, tod]) == "Free on some chargers; 30.0p to 55.0p per kWh on others"
    assert H.price_summary([free, free]) == "Free to use"
    assert H.price_summary([p45, p80]) == "45.0p to 80.0p per kWh"
    assert H.price_summary([]) == "Price not published"
    for one in (free, p45, tod):  # one tariff: its own headline
        assert summary_words([one]) == one.headline


def test_mixed_free_and_priced_location_on_every_page():
    ds = dataset_from(mixed_price_export())
    files = H.render_pages(ds, config()).bodies()
    want = f"Free on some chargers; {MIXED_PENCE[0]}p to {MIXED_PENCE[-1]}p per kWh on others"
    zero = re.compile(r"(?<![0-9.])0\.0p")
    page = read_page(files[H.page_key(MIXED_ID)]).plain_text
    assert want in page and not zero.search(page)
    index = read_page(files["index.html"]).plain_text
    assert want in index and not zero.search(index)
    rows = orjson.loads(files["index-data/1.json"])["rows"]
    assert next(r for r in rows if r[0] == MIXED_ID)[5] == want
    assert not zero.search(files["index-data/1.json"].decode())


def test_prices_for_the_widget_are_the_pages_words(sample, pages):
    doc = orjson.loads(pages[H.EMBED_PRICES])
    assert doc["format"] == "pcpr-prices/1"
    assert set(doc["tariffs"]) == {t.id for t in sample.tariffs}
    for t in sample.tariffs:
        tw = tariff_words(t)
        assert doc["tariffs"][t.id] == [tw.headline, tw.free, [str(p) for p in tw.kwh_pence]]
    widget = pages["embed/location.html"].decode()
    assert 'data-prices="embed/prices.json"' in widget


_FREE = re.compile(r"\bfree\b", re.I)
#: "free" only ever means "costs nothing": a free tariff, or data free of charge.
_FREE_PRICE = re.compile(r"\b(Free to use|Free on some chargers|free of charge)\b")


def _free_uses(text: str) -> list[str]:
    allowed = {m.start() for m in _FREE_PRICE.finditer(text)}
    return [text[max(0, m.start() - 40):m.end() + 40] for m in _FREE.finditer(text)
            if m.start() not in allowed]


def test_free_never_means_not_in_use(pages):
    for table in (W.STATUS_WORDS, W.STATUS_DETAILS):
        assert not [v for v in table.values() if _FREE.search(v)], table
    assert W.STATUS_DETAILS["AVAILABLE"] == "not in use, ready to charge"
    mixed = H.render_pages(dataset_from(mixed_price_export()), config()).bodies()
    seen_price = False
    for files in (pages, mixed):
        for key, body in files.items():
            if key.endswith((".html", ".js")) or key == H.EMBED_PRICES:
                text = body.decode()
                if key == H.EMBED_PRICES:  # the words the widget shows
                    text = " | ".join(v[0] for v in orjson.loads(body)["tariffs"].values())
                if key.endswith(".js"):  # what the script shows: its string literals
                    text = " | ".join(re.findall(r"'((?:[^'\\\n]|\\.)*)'", text))
                if key.endswith(".html"):  # our words, not the operator's own tariff text
                    ours = re.sub(rb'<p class="price-note">From the operator: .*?</p>', b"", body)
                    text = read_page(ours).plain_text + " " + " ".join(
                        str(v) for _t, a in read_page(ours).elements for v in a.values() if v)
                assert _free_uses(text) == [], key
                seen_price = seen_price or "Free to use" in text
    assert seen_price  # the price sense is still there
    assert "See which chargers are available now" in read_page(pages["index.html"]).plain_text


def _towns(body: bytes) -> list[tuple[str, str, list[str]]]:
    """(anchor, town heading, [location links under it]) in page order."""
    html = body.decode()
    browse = html[html.index('<section id="browse"'):]
    out = []
    for m in re.finditer(r'<h3 class="town" id="([^"]+)">(.*?)</h3>\s*<ul class="results">(.*?)</ul>',
                         browse, re.S):
        out.append((m.group(1), read_page(m.group(2).encode()).plain_text,
                    re.findall(r'class="result-name" href="([^"]+)"', m.group(3))))
    return out


def test_list_pages_group_locations_under_town_headings(pages, sample):
    body = pages["index.html"]
    towns = _towns(body)
    by_href = {f"locations/{H.url_segment(loc.id)}.html": loc for loc in sample.locations}
    assert sum(len(links) for _a, _t, links in towns) == len(sample.locations)
    assert len(towns) == len({loc.city.casefold() for loc in sample.locations})
    for anchor, town, links in towns:
        assert {by_href[h].city for h in links} == {town}
    anchors = [a for a, _t, _l in towns]
    assert len(set(anchors)) == len(anchors) and all(re.fullmatch(r"town-[a-z0-9-]+", a) for a in anchors)
    # the jump list: every town, and letters to the first town with each initial
    page = read_page(body)
    nav = html_between(body.decode(), '<nav class="jump"', "</nav>")
    jump = re.findall(r'href="#([^"]+)"', nav)
    letters = re.findall(r'<a href="#([^"]+)">([A-Z#])', html_between(nav, '<p class="jump-az"', "</p>"))
    assert set(jump) == set(anchors)
    first: dict[str, str] = {}
    for anchor, town, _l in towns:
        first.setdefault(town[0].upper(), anchor)
    assert [(letter, a) for a, letter in letters] == sorted(first.items())
    assert all(("a", {"href": f"#{a}"}) in page.elements for a in anchors)


def html_between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i:text.index(end, i)]


def test_town_headings_across_pages_and_short_pages(sample, monkeypatch):
    monkeypatch.setattr(H, "PAGE_SIZE", 3)
    files = H.render_pages(sample, config()).bodies()
    views = sorted(sample.locations, key=lambda loc: (loc.city.casefold(), (loc.name or loc.address).casefold(), loc.id))
    n = -(-len(views) // 3)
    continued = 0
    for i in range(1, n + 1):
        body = files[H.list_page_key(i)]
        towns = _towns(body)
        page = views[(i - 1) * 3:i * 3]
        assert [t for _a, t, _l in towns] == [
            c + (f" (continued from page {i - 1})" if j == 0 and i > 1 and views[(i - 1) * 3 - 1].city == c else "")
            for j, c in enumerate(dict.fromkeys(loc.city for loc in page))]
        continued += any("(continued" in t for _a, t, _l in towns)
        assert b'<nav class="jump"' not in body  # three locations: a handful of towns at most
    assert continued


def test_open_data_page_promises_30_seconds_only_when_live(sample):
    built = read_page(H.render_pages(sample, config()).bodies()["open-data.html"]).plain_text
    live = read_page(H.render_pages(sample, config(), live=True).bodies()["open-data.html"]).plain_text
    assert "within 30 seconds" in live
    assert "within 30 seconds" not in built
    assert "republished each time" in built and "runs its publishing job" in built
    for text in (built, live):
        assert "Cache-Control: max-age=15" in text and "cached for up to 15 seconds" in text
    slow = H.render_pages(sample, load_config(env={}, overrides={"publish": {"max_age": 300}})).bodies()
    assert "Cache-Control: max-age=300" in read_page(slow["open-data.html"]).plain_text


def _snippet(body: bytes, code_id: str) -> str:
    """The text a visitor copies (what the copy button copies, without a base URL)."""
    inner = re.search(rf'<code id="{code_id}">(.*?)</code>', body.decode(), re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", inner))


def test_embed_snippets_fit_the_widget(pages, sample):
    for loc in sample.locations:
        snippet = _snippet(pages[H.page_key(loc.id)], "embed-code")
        height = int(re.search(r'height="(\d+)"', snippet).group(1))
        assert height == H.widget_height(len(loc.evses)) >= 310 + 120 * len(loc.evses)
        assert 'height="420"' not in snippet
        assert snippet.endswith(H.RESIZE_LISTENER) and "pcprHeight" in snippet
    od = pages["open-data.html"]
    for code_id in ("snippet-links", "snippet-location"):
        snippet = _snippet(od, code_id)
        assert snippet.startswith("<iframe src=") and snippet.endswith(H.RESIZE_LISTENER)
        assert 'height="420"' not in snippet and 'height="260"' not in snippet
    # a name with quotes stays one attribute in the copied HTML
    evil = H.render_pages(dataset_from(evil_export()), config()).bodies()
    snippet = _snippet(evil[H.page_key(EVIL_ID)], "embed-code")
    title = re.search(r'title="([^"]*)"', snippet).group(1)
    assert html.unescape(title) == "Live charger status: " + EVIL["name"]


# ------------------------------------------------------------------------------ scale


@pytest.mark.slow
def test_no_page_over_1mb_at_20000_locations():
    """20,000 Locations: every file under 1 MB, and the finder data split into chunks."""
    from pcpr_publish.sample import generate_sample

    t0 = time.monotonic()
    ds = dataset_from(generate_sample(20000, 1, EXPORTED_AT))
    locations = list(ds.locations)
    n = 0
    while len(locations) < 20000:  # the generator keeps ~84% of sites public: top up to 20,000
        src = ds.locations[n % len(ds.locations)]
        n += 1
        locations.append(src.model_copy(update={"id": f"{src.id}-{n}"}))
    ds.locations = sorted(locations, key=lambda loc: loc.id)
    t1 = time.monotonic()
    files = H.render_pages(ds, config(base_url="https://chargers.example.com/")).bodies()
    render_seconds = time.monotonic() - t1
    sizes = {k: len(v) for k, v in files.items()}
    too_big = {k: s for k, s in sizes.items() if s > MB}
    assert not too_big
    assert sum(1 for k in files if k.startswith("locations/")) == 20000
    assert sum(1 for k in files if re.fullmatch(r"index(-\d+)?\.html", k)) == 20000 // H.PAGE_SIZE
    assert sum(1 for k in files if k.startswith("index-data/")) == 20000 // H.CHUNK_SIZE
    assert max(sizes.values()) < 300 * 1024
    print(f"\n20,000 locations: dataset {t1 - t0:.1f}s, pages {render_seconds:.1f}s, "
          f"largest file {max(sizes, key=sizes.get)} {max(sizes.values())} bytes")
