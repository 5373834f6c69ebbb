"""HTML pages in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright.

The site is built by the real pipeline (``render_site``) into a folder and served over HTTP on
127.0.0.1. Small ``PAGE_SIZE``/``CHUNK_SIZE`` values make the sample span several list pages
and index chunks, so pagination and progressive loading are exercised too.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import orjson
import pytest
from browser_fixtures import describe_violations, open_page, run_axe
from pages_helpers import (
    EVIL,
    EVIL_ID,
    MIXED_ID,
    config,
    dataset_from,
    evil_export,
    mixed_price_export,
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


@pytest.fixture(scope="module")
def mixed_site(tmp_path_factory, serve_site_module) -> Site:
    """Five chargers at one location, some free and some priced."""
    folder = tmp_path_factory.mktemp("mixed")
    dataset = dataset_from(mixed_price_export())
    write_site(dataset, config(), folder)
    return Site(serve_site_module(folder), folder, dataset)


@pytest.fixture(scope="module")
def town_site(tmp_path_factory, serve_site_module) -> Site:
    """The sample with the real page size: one list page of many towns, with the jump list."""
    folder = tmp_path_factory.mktemp("towns")
    dataset = sample_dataset(60, seed=2)
    write_site(dataset, config(), folder)
    return Site(serve_site_module(folder), folder, dataset)


PHONE = {"width": 390, "height": 844}


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


# ------------------------------------------------------------------------------ when search cannot run

UNAVAILABLE = ("Search is unavailable: the location data could not be loaded. "
               "The list below shows every location.")


def _broken_copy(site: Site, tmp_path: Path, missing: str) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(site.folder, folder)
    (folder / missing).unlink()
    return folder


@pytest.mark.parametrize("missing", ["index-data.json", "index-data/2.json"])
def test_finder_says_search_is_unavailable_when_its_data_is_missing(site, browser_page, serve_site,
                                                                    tmp_path, missing):
    url = serve_site(_broken_copy(site, tmp_path, missing))
    town = site.dataset.locations[0].city
    for query in ("", f"?q={town}", "?q=no+such+place&available=1"):
        load(browser_page, url + "index.html" + query)
        expect(browser_page.locator("#finder")).to_have_attribute("data-state", "failed")
        status = browser_page.locator("#finder-status")
        expect(status).to_have_text(UNAVAILABLE)
        assert "No locations match" not in browser_page.locator("main").inner_text()
        # the server-rendered list stays, and works
        expect(browser_page.locator("#browse")).to_be_visible()
        expect(browser_page.locator("#search")).to_be_hidden()
        expect(browser_page.locator("#finder")).to_be_hidden()
        expect(browser_page.locator("#browse .result")).to_have_count(10)
    browser_page.locator("#browse .result-name").first.click()
    browser_page.wait_for_load_state("networkidle")
    assert "/locations/" in browser_page.url
    assert all(missing in p for p in browser_page.problems.failed)


def test_finder_from_a_file_url_explains_how_to_serve_it(site, browser_page):
    page = browser_page
    page.goto((site.folder / "index.html").as_uri() + "?q=zzz")
    page.wait_for_load_state("load")
    expect(page.locator("#finder")).to_have_attribute("data-state", "file")
    status = page.locator("#finder-status")
    expect(status).to_contain_text("Search needs the site to be served over HTTP")
    expect(status.locator("code")).to_have_text("pcpr serve site")
    expect(status).to_contain_text("The list below shows every location.")
    assert "No locations match" not in page.locator("main").inner_text()
    expect(page.locator("#finder")).to_be_hidden()
    expect(page.locator("#browse .result")).to_have_count(10)
    page.locator("#browse .result-name").first.click()  # the plain lists still work
    page.wait_for_load_state("load")
    assert page.url.startswith("file://") and "/locations/" in page.url
    expect(page.locator("h1")).to_be_visible()
    # the widget says the same instead of "Loading" for ever
    page.goto((site.folder / "embed" / "location.html").as_uri() + f"?location={site.dataset.locations[0].id}")
    expect(page.locator("#widget")).to_have_attribute("data-state", "file")
    expect(page.locator("#widget-summary")).to_contain_text("pcpr serve site")
    assert page.problems.page_errors == []


# ------------------------------------------------------------------------------ phones and long lists


def test_filters_fold_away_on_a_phone(town_site, chromium_browser):
    page = open_page(chromium_browser, viewport=PHONE)
    try:
        load_finder(page, town_site.url + "index.html")
        summary = page.locator("#filters > summary")
        expect(summary).to_be_visible()
        expect(summary).to_have_text("Filters")
        expect(page.locator("#type")).to_be_hidden()
        expect(page.locator("#q")).to_be_visible()
        first = page.locator("#browse .result").first
        link, card = first.locator(".result-name").bounding_box(), first.bounding_box()
        assert link["y"] >= 0 and link["y"] + link["height"] <= PHONE["height"]
        assert card["y"] + card["height"] <= PHONE["height"]  # the whole first result, on screen 1
        summary.click()
        expect(page.locator("#type")).to_be_visible()
        page.select_option("#minkw", "50")
        expect(summary).to_have_text("Filters (1 chosen)")
        check_results(page, expected(town_site, min_kw=50))
        assert page.problems.all == []
    finally:
        page.context.close()


def test_filters_stay_open_on_a_wide_screen(town_site, browser_page):
    load_finder(browser_page, town_site.url + "index.html")
    expect(browser_page.locator("#filters > summary")).to_be_hidden()
    for field in ("#q", "#type", "#minkw", "#available"):
        expect(browser_page.locator(field)).to_be_visible()


def test_long_lists_have_town_headings_and_jump_links(town_site, browser_page):
    page = browser_page
    load(page, town_site.url + "index.html")
    towns = page.locator("#browse h3.town")
    cities = list(dict.fromkeys(v.city for v in sorted(
        town_site.dataset.locations, key=lambda x: (x.city.casefold(), (x.name or x.address).casefold(), x.id))))
    expect(towns).to_have_count(len(cities))
    assert towns.all_inner_texts() == cities
    # a letter jumps to the first town with that initial
    letters = page.locator(".jump-az a")
    last = letters.last
    letter = last.inner_text()
    last.click()
    target = next(c for c in cities if c.upper().startswith(letter))
    heading = page.locator("#browse h3.town", has_text=target).first
    expect(heading).to_be_in_viewport()
    assert page.url.endswith("#" + heading.get_attribute("id"))
    # the list of every town on the page
    page.locator(".jump-towns summary").click()
    town_links = page.locator(".jump-towns a")
    expect(town_links).to_have_count(len(cities))
    town_links.nth(len(cities) // 2).click()
    expect(page.locator("#browse h3.town").nth(len(cities) // 2)).to_be_in_viewport()
    assert page.problems.all == []


# ------------------------------------------------------------------------------ the live-status widget


def _host_page(folder: Path, body: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A council website</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body><main><h1>Charging in York</h1>{body}<p id="after">More news.</p></main></body></html>',
        encoding="utf-8")


def _copied_snippet(site: Site, page: Any, location_id: str) -> str:
    """The location page's embed snippet, exactly as its copy button gives it."""
    load(page, site.page_url(location_id))
    page.locator("details.embed summary").click()
    return page.locator("#embed-code").inner_text()


def _frame_fits(page: Any, frame_selector: str) -> None:
    """The widget in the (cross-origin) frame is ready and the frame shows all of it."""
    expect(page.frame_locator(frame_selector).locator("#widget")).to_have_attribute("data-state", "ready")
    inner = page.locator(frame_selector).element_handle().content_frame()
    script = ("() => ({content: Math.ceil(document.body.getBoundingClientRect().height),"
              " scroll: document.documentElement.scrollHeight, view: window.innerHeight})")
    for _ in range(50):  # the frame follows the widget's height message
        sizes = inner.evaluate(script)
        if sizes["scroll"] <= sizes["view"] and abs(sizes["view"] - sizes["content"]) <= 1:
            break
        page.wait_for_timeout(100)
    assert sizes["scroll"] <= sizes["view"], sizes  # nothing to scroll inside the frame
    assert abs(sizes["view"] - sizes["content"]) <= 1, sizes  # and no empty space below


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_widget_snippet_shows_every_charger_without_scrolling(mixed_site, chromium_browser, serve_site,
                                                               tmp_path, viewport):
    loc = next(x for x in mixed_site.dataset.locations if x.id == MIXED_ID)
    assert len(loc.evses) >= 4
    page = open_page(chromium_browser, viewport=viewport)
    try:
        snippet = _copied_snippet(mixed_site, page, loc.id)
        assert 'height="420"' not in snippet and "<script>" in snippet
        _host_page(tmp_path / "host", snippet)
        load(page, serve_site(tmp_path / "host") + "index.html")
        _frame_fits(page, "iframe")
        expect(page.frame_locator("iframe").locator(".widget-evse")).to_have_count(len(loc.evses))
        # without the listener (a host that forbids inline scripts) the starting height still fits
        # a phone
        if viewport == PHONE:
            _host_page(tmp_path / "strict", snippet.split("<script>")[0])
            load(page, serve_site(tmp_path / "strict") + "index.html")
            frame = page.frame_locator("iframe")
            expect(frame.locator("#widget")).to_have_attribute("data-state", "ready")
            inner = page.locator("iframe").element_handle().content_frame()
            assert inner.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
        assert [p for p in page.problems.all if "favicon" not in p] == []
    finally:
        page.context.close()


def test_widget_shows_prices_in_the_location_pages_words(mixed_site, browser_page):
    loc = next(x for x in mixed_site.dataset.locations if x.id == MIXED_ID)
    load(browser_page, mixed_site.page_url(loc.id))
    facts = browser_page.locator(".facts li").all_inner_texts()
    want = "Free on some chargers; 45.0p to 80.0p per kWh on others"
    assert want in facts
    headlines = [browser_page.locator(f"#charger-{n} .price-headline").first.inner_text()
                 for n in range(1, len(loc.evses) + 1)]
    load(browser_page, f"{mixed_site.url}embed/location.html?location={loc.id}")
    expect(browser_page.locator("#widget")).to_have_attribute("data-state", "ready")
    expect(browser_page.locator("#widget-price")).to_have_text(want)
    expect(browser_page.locator(".widget-price")).to_contain_text("including VAT")
    assert browser_page.locator(".widget-evse-price").all_inner_texts() == headlines
    assert headlines.count("Free to use") == 2 and "80.0p per kWh" in headlines
    # and on an ordinary location, the same words as its page
    other = next(x for x in mixed_site.dataset.locations if x.id != MIXED_ID)
    load(browser_page, f"{mixed_site.url}embed/location.html?location={other.id}")
    expect(browser_page.locator("#widget-price")).to_have_text("80.0p per kWh")
    assert browser_page.problems.all == []


def test_widget_prices_match_every_sample_location(site, browser_page):
    for loc in site.dataset.locations[:12]:
        load(browser_page, site.page_url(loc.id))
        price = browser_page.locator(".loc-head .facts li").last.inner_text()
        load(browser_page, f"{site.url}embed/location.html?location={loc.id}")
        expect(browser_page.locator("#widget")).to_have_attribute("data-state", "ready")
        expect(browser_page.locator("#widget-price")).to_have_text(price)
    assert browser_page.problems.all == []


def test_widget_names_an_unknown_location(site, browser_page):
    load(browser_page, f"{site.url}embed/location.html?location=NO-SUCH-PLACE")
    widget = browser_page.locator("#widget")
    expect(widget).to_have_attribute("data-state", "not-found")
    expect(browser_page.locator("#widget-summary")).to_have_text(
        "No location with id \u201cNO-SUCH-PLACE\u201d is published here.")
    assert "Loading" not in widget.inner_text()
    expect(browser_page.locator("#widget-link")).to_have_attribute("href", "../index.html")
    problems = browser_page.problems
    assert problems.page_errors == [] and len(problems.failed) == 1 and "NO-SUCH-PLACE" in problems.failed[0]


def test_reviewed_states_are_accessible(site, town_site, mixed_site, chromium_browser, axe_script,
                                        serve_site, tmp_path):
    """axe-core on the states added for drivers on phones and for failures."""
    page = open_page(chromium_browser, bypass_csp=True, viewport=PHONE)
    try:
        checks = []
        load_finder(page, town_site.url + "index.html")
        checks.append(("phone finder", run_axe(page, axe_script)))
        page.locator("#filters > summary").click()
        page.locator(".jump-towns summary").click()
        checks.append(("phone finder, opened", run_axe(page, axe_script)))
        page.set_viewport_size({"width": 1280, "height": 900})
        load_finder(page, town_site.url + "index.html")
        checks.append(("desktop finder with jump list", run_axe(page, axe_script)))
        load(page, serve_site(_broken_copy(site, tmp_path, "index-data.json")) + "index.html")
        expect(page.locator("#finder-status")).to_have_text(UNAVAILABLE)
        checks.append(("search unavailable", run_axe(page, axe_script)))
        load(page, f"{mixed_site.url}embed/location.html?location={MIXED_ID}")
        expect(page.locator("#widget")).to_have_attribute("data-state", "ready")
        checks.append(("widget with prices", run_axe(page, axe_script)))
        load(page, f"{mixed_site.url}embed/location.html?location=NOPE")
        expect(page.locator("#widget")).to_have_attribute("data-state", "not-found")
        checks.append(("widget, unknown id", run_axe(page, axe_script)))
        for name, violations in checks:
            assert violations == [], f"{name}:\n{describe_violations(violations)}"
    finally:
        page.context.close()
