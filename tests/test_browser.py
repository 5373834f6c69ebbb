"""HTML pages in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright.

The site is built by the real pipeline (``render_site``) into a folder and served over HTTP on
127.0.0.1. Small ``PAGE_SIZE``/``CHUNK_SIZE`` values make the sample span several list pages
and index chunks, so pagination and progressive loading are exercised too.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import orjson
import pytest
from browser_fixtures import describe_violations, run_axe
from pages_helpers import (
    EVIL,
    EVIL_ID,
    config,
    dataset_from,
    evil_export,
    sample_dataset,
    write_site,
)

from pcpr_publish.render import html as H
from pcpr_publish.render import words as W
from pcpr_publish.render.json_feeds import location_key

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect


# ------------------------------------------------------------------------------ sites


class Site:
    def __init__(self, url: str, folder: Path, dataset: Any) -> None:
        self.url = url
        self.folder = folder
        self.dataset = dataset

    def page_url(self, location_id: str) -> str:
        return f"{self.url}locations/{H.url_segment(location_id)}.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory, serve_site_module) -> Site:
    folder = tmp_path_factory.mktemp("site")
    dataset = sample_dataset(60, seed=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(H, "PAGE_SIZE", 10)
        mp.setattr(H, "CHUNK_SIZE", 7)
        write_site(dataset, config(), folder)
    assert len(dataset.locations) > 30
    return Site(serve_site_module(folder), folder, dataset)


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory, serve_site_module) -> Site:
    folder = tmp_path_factory.mktemp("evil")
    dataset = dataset_from(evil_export())
    write_site(dataset, config(), folder)
    return Site(serve_site_module(folder), folder, dataset)


def load(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


def load_finder(page: Any, url: str) -> None:
    load(page, url)
    expect(page.locator("#finder")).to_have_attribute("data-state", "ready")


# ------------------------------------------------------------------------------ the finder's rules


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.split())


def text_matches(loc: Any, query: str) -> bool:
    q = norm(query)
    terms = q.split(" ") if q else []
    compact = q.replace(" ", "")
    if not terms:
        return True
    postcode = norm(loc.postal_code or "").replace(" ", "")
    if len(compact) >= 2 and postcode.startswith(compact):
        return True
    hay = norm(f"{loc.name or loc.address} {loc.address} {loc.city} {loc.postal_code or ''}")
    return all(t in hay for t in terms)


def evse_matches(evse: Any, label: str | None, min_kw: int, available: bool) -> bool:
    if available and evse.status != "AVAILABLE":
        return False
    return any((label is None or W.connector_label(c.standard, c.format) == label)
               and W.kw_number(W.power_watts(c)) >= min_kw for c in evse.connectors)


def expected(site: Site, query: str = "", label: str | None = None, min_kw: int = 0,
             available: bool = False) -> set[str]:
    return {
        H.url_segment(loc.id) for loc in site.dataset.locations
        if text_matches(loc, query)
        and (label is None and not min_kw and not available
             or any(evse_matches(e, label, min_kw, available) for e in loc.evses))
    }


def count_text(n: int) -> re.Pattern[str]:
    if n == 0:
        return re.compile(r"^No locations match")
    text = f"{n:,} location{'s' if n != 1 else ''} match{'es' if n == 1 else ''}"
    return re.compile("^" + re.escape(text) + (", showing the first 50" if n > 50 else "") + "$")


def shown(page: Any) -> set[str]:
    """The locations listed as results, by URL segment (names need not be unique)."""
    hrefs = page.locator("#results .result-name").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert all(h.startswith("locations/") and h.endswith(".html") for h in hrefs)
    assert len(hrefs) == len(set(hrefs))
    return {h[len("locations/"):-len(".html")] for h in hrefs}


def check_results(page: Any, want: set[str]) -> None:
    expect(page.locator("#finder-status")).to_have_text(count_text(len(want)))
    while page.locator("#more").is_visible():
        page.click("#more")
    assert shown(page) == want


# ------------------------------------------------------------------------------ tests


def test_pages_load_without_console_errors(site, browser_page):
    first = site.dataset.locations[0]
    for path in ("index.html", "index-2.html", f"locations/{H.url_segment(first.id)}.html",
                 "open-data.html", "embed/data-links.html", f"embed/location.html?location={first.id}"):
        load(browser_page, site.url + path)
        if path.startswith("index"):
            expect(browser_page.locator("#finder")).to_have_attribute("data-state", "ready")
        if path.startswith("embed/location"):
            expect(browser_page.locator("#widget")).to_have_attribute("data-state", "ready")
        assert browser_page.problems.all == [], path


def test_search_by_name_town_and_postcode(site, browser_page):
    load_finder(browser_page, site.url + "index.html")
    locs = site.dataset.locations
    named = next(loc for loc in locs if loc.name)
    town = max({loc.city for loc in locs}, key=lambda c: sum(1 for loc in locs if loc.city == c))
    postcode = next(loc.postal_code for loc in locs if loc.postal_code)
    queries = [named.name, named.name.upper(), town, town.lower()[:4], postcode,
               postcode.replace(" ", "").lower(), postcode.split(" ")[0], "no such place anywhere"]
    for query in queries:
        browser_page.fill("#q", query)
        want = expected(site, query)
        check_results(browser_page, want)
        if query in (named.name, town, postcode):
            assert want, query
    # clearing the search brings back the plain list
    browser_page.fill("#q", "")
    expect(browser_page.locator("#browse")).to_be_visible()
    expect(browser_page.locator("#search")).to_be_hidden()
    assert browser_page.problems.all == []


def test_filters(site, browser_page):
    load_finder(browser_page, site.url + "index.html")
    labels = browser_page.locator("#type option").all_inner_texts()[1:]
    assert "CCS (Type 2 Combo)" in labels and "Type 2 socket" in labels
    cases = [
        dict(label="CHAdeMO"), dict(label="CCS (Type 2 Combo)"), dict(min_kw=50), dict(min_kw=150),
        dict(available=True), dict(label="Type 2 socket", available=True),
        dict(label="CCS (Type 2 Combo)", min_kw=150, available=True),
    ]
    for case in cases:
        browser_page.select_option("#type", case.get("label") or "")
        browser_page.select_option("#minkw", str(case["min_kw"]) if case.get("min_kw") else "")
        browser_page.set_checked("#available", case.get("available", False))
        want = expected(site, **case)
        check_results(browser_page, want)
        assert 0 < len(want) < len(site.dataset.locations), case
    # the state is in the address, so a search can be shared
    assert "available=1" in browser_page.url and "minkw=150" in browser_page.url
    browser_page.reload()
    expect(browser_page.locator("#finder")).to_have_attribute("data-state", "ready")
    expect(browser_page.locator("#available")).to_be_checked()
    check_results(browser_page, expected(site, label="CCS (Type 2 Combo)", min_kw=150, available=True))
    assert browser_page.problems.all == []


def test_search_results_show_availability_in_words(site, browser_page):
    load_finder(browser_page, site.url + "index.html")
    loc = next(loc for loc in site.dataset.locations if loc.name and sum(
        1 for x in site.dataset.locations if x.name == loc.name) == 1)
    browser_page.fill("#q", loc.name)
    check_results(browser_page, {H.url_segment(loc.id)})
    text, _cls = H.availability([e.status for e in loc.evses])
    item = browser_page.locator("#results .result").first
    expect(item.locator(".badge")).to_have_text(text)
    item.locator(".result-name").click()
    browser_page.wait_for_load_state("networkidle")
    assert browser_page.url == site.page_url(loc.id)
    expect(browser_page.locator("h1")).to_have_text(loc.name)


def test_location_page_shows_status_words_and_prices(site, browser_page):
    loc = max(site.dataset.locations, key=lambda x: len(x.evses))
    load(browser_page, site.page_url(loc.id))
    articles = browser_page.locator("article.evse")
    expect(articles).to_have_count(len(loc.evses))
    for i, evse in enumerate(loc.evses):
        expect(articles.nth(i).locator(".evse-status .badge")).to_have_text(W.STATUS_WORDS[evse.status])
    assert re.search(r"\d+\.\dp per kWh|Free to use", articles.first.inner_text())
    assert browser_page.problems.all == []


def test_list_works_without_javascript(site, chromium_browser):
    context = chromium_browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.url + "index.html")
        expect(page.locator("#finder")).to_be_hidden()
        expect(page.locator("#browse .result")).to_have_count(10)
        pages = -(-len(site.dataset.locations) // 10)
        expect(page.locator(".pager li:not(.pager-step)")).to_have_count(pages)
        seen: set[str] = set()
        for n in range(1, pages + 1):
            page.goto(site.url + H.list_page_key(n))
            seen |= set(page.locator("#browse .result-name").all_inner_texts())
        assert seen == {loc.name or loc.address for loc in site.dataset.locations}
        page.locator("#browse .result-name").first.click()
        expect(page.locator("h1")).to_be_visible()
        assert "/locations/" in page.url
    finally:
        context.close()


def test_accessibility_axe(site, axe_page, axe_script):
    browser_page = axe_page
    loc = max(site.dataset.locations, key=lambda x: len(x.evses))
    for url in (site.url + "index.html", site.page_url(loc.id), site.url + "open-data.html",
                site.url + "embed/data-links.html",
                f"{site.url}embed/location.html?location={loc.id}"):
        load(browser_page, url)
        if "embed/location" in url:
            expect(browser_page.locator("#widget")).to_have_attribute("data-state", "ready")
        violations = run_axe(browser_page, axe_script)
        assert violations == [], f"{url}:\n{describe_violations(violations)}"
    # the finder with results on screen, too
    load_finder(browser_page, site.url + "index.html")
    browser_page.fill("#q", site.dataset.locations[0].city)
    expect(browser_page.locator("#search")).to_be_visible()
    violations = run_axe(browser_page, axe_script)
    assert violations == [], describe_violations(violations)


def test_copy_buttons_copy_absolute_urls(site, browser_page):
    browser_page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url.rstrip("/"))
    load(browser_page, site.url + "open-data.html")
    expect(browser_page.locator("#url-locations")).to_have_text(site.url + "locations.json")
    button = browser_page.locator('button[data-copy="#url-locations"]')
    expect(button).to_be_visible()
    button.click()
    expect(button).to_contain_text("Copied")
    assert browser_page.evaluate("navigator.clipboard.readText()") == site.url + "locations.json"
    browser_page.locator('button[data-copy="#snippet-links"]').click()
    snippet = browser_page.evaluate("navigator.clipboard.readText()")
    assert snippet.startswith(f'<iframe src="{site.url}embed/data-links.html"')
    assert browser_page.problems.all == []


def test_widget_in_a_cross_origin_iframe(site, browser_page, serve_site, tmp_path):
    loc = site.dataset.locations[0]
    host = tmp_path / "host"
    host.mkdir()
    (host / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A CPO website</title>'
        '</head><body><main><h1>Our chargers</h1>'
        f'<iframe id="links" src="{site.url}embed/data-links.html" title="Open data" width="100%" '
        'height="260" style="border:0"></iframe>'
        f'<iframe id="status" src="{site.url}embed/location.html?location={loc.id}" '
        'title="Live status" width="100%" height="420" style="border:0"></iframe>'
        '</main></body></html>', encoding="utf-8")
    host_url = serve_site(host)
    assert host_url != site.url  # another origin (other port)
    load(browser_page, host_url + "index.html")
    status = browser_page.frame_locator("#status")
    expect(status.locator("#widget")).to_have_attribute("data-state", "ready")
    expect(status.locator("#widget-name")).to_have_text(loc.name or loc.address)
    badges = status.locator(".widget-evse .badge")
    expect(badges).to_have_count(len(loc.evses))
    assert badges.all_inner_texts() == [W.STATUS_WORDS[e.status] for e in loc.evses]
    links = browser_page.frame_locator("#links")
    expect(links.locator("a", has_text="Location Data Link")).to_have_attribute("href", "../locations.json")
    assert browser_page.problems.all == []


def test_widget_reads_the_published_json(site, browser_page):
    """The widget shows whatever the per-location JSON says now (it is as fresh as the data)."""
    loc = site.dataset.locations[1]
    path = site.folder / location_key(loc.id)
    original = path.read_bytes()
    try:
        doc = orjson.loads(original)
        for evse in doc["data"]["evses"]:
            evse["status"] = "OUTOFORDER"
        path.write_bytes(orjson.dumps(doc))
        load(browser_page, f"{site.url}embed/location.html?location={loc.id}")
        expect(browser_page.locator("#widget")).to_have_attribute("data-state", "ready")
        assert set(browser_page.locator(".widget-evse .badge").all_inner_texts()) == {"Out of order"}
        expect(browser_page.locator("#widget-summary")).to_have_text("None available now")
    finally:
        path.write_bytes(original)


def test_markup_from_the_export_stays_inert_text(evil_site, browser_page):
    page = browser_page
    evil_url = evil_site.page_url(EVIL_ID)

    def assert_inert() -> None:
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator('img[src="x"], script:not([src]), iframe[src^="javascript"], svg[onload], '
                            'b[onmouseover], marquee').count() == 0

    load(page, evil_url)
    assert_inert()
    expect(page.locator("h1")).to_have_text(EVIL["name"])
    body = page.locator("main").inner_text()
    for key in ("address", "city", "evse_id", "alt_text", "evse_directions"):
        assert EVIL[key] in body, key
    expect(page.locator(".site-header .brand-name")).to_have_text(EVIL["operator"])

    load_finder(page, evil_site.url + "index.html")
    assert_inert()
    page.fill("#q", "evil")  # results built by the script from index-data JSON
    expect(page.locator("#finder-status")).to_have_text(count_text(1))
    expect(page.locator("#results .result-name")).to_have_text(EVIL["name"])
    assert_inert()
    page.locator("#results .result-name").click()
    page.wait_for_load_state("networkidle")
    assert page.url == evil_url
    assert_inert()

    load(page, f"{evil_site.url}embed/location.html?location={EVIL_ID}")
    expect(page.locator("#widget")).to_have_attribute("data-state", "ready")
    expect(page.locator("#widget-name")).to_have_text(EVIL["name"])
    expect(page.locator(".widget-evse").first).to_contain_text(EVIL["physical_reference"])
    assert_inert()

    load(page, evil_site.url + "open-data.html")
    assert_inert()
    assert EVIL["name"] in page.locator("main").inner_text()
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.problems.all == []
