"""Stage "render" (HTML): the human-readable pages beside the JSON feeds.

``render_pages(dataset, config)`` returns every page, asset and helper file of the site
(keys relative to the site root, each with its :class:`FileKind`; the families are listed
once, in :data:`PAGE_FAMILIES`), rendered with Jinja2 (autoescape on) from the
same validated OCPI objects as the JSON and from ``[site]`` branding only:

* ``index.html``, ``index-2.html``, …: the charge point finder. Without JavaScript it is a plain
  list of every location under town headings (with a jump list when a page has many towns), in
  pages of :data:`PAGE_SIZE`; with JavaScript the search and
  filters run over ``index-data.json`` and its chunks (``index-data/<n>.json``), loaded
  progressively, so no file is large at any scale.
* ``locations/<id>.html``: one page per Location (same percent-encoded name as its JSON).
* ``open-data.html``: the Data Links, licence, counts, update frequency and embed code.
* ``embed/data-links.html`` and ``embed/location.html?location=<id>``: widgets for an iframe
  (they post their height to the embedding page), and ``embed/prices.json``, the tariffs in the
  pages' words for the live-status widget.
* ``sitemap.xml`` (a sitemap index over ``sitemap-<n>.xml`` when large) and ``robots.txt``.
* ``assets/app.<hash>.js``, ``assets/style.<hash>.css``, ``assets/icon.<hash>.svg``:
  fingerprinted, so they can be cached for ever.

Deterministic: nothing reads the clock; "now" and "last updated" come from the dataset. Pages
avoid site-wide values that change often (only the open-data page shows the newest update), so a
status change re-renders one location page, one list page and one index chunk.

Safety: autoescape everywhere, a Content-Security-Policy that only allows our own scripts, and
the script builds the DOM with ``textContent`` only.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pcpr_publish.common.gcpause import gc_paused
from pcpr_publish.ocpi import models as ocpi
from pcpr_publish.render import reliability_view as rv
from pcpr_publish.render.ocpi211 import (
    LOCATION_FEED_211,
    LOCATIONS_211,
    TARIFF_FEED_211,
    TARIFFS_211,
    VERSIONS,
    VERSIONS_KIND,
    published_versions,
)
from pcpr_publish.render import words as w
from pcpr_publish.render.json_feeds import (
    LOCATION_FEED,
    LOCATION_FEED_GZIP,
    LOCATION_OBJECT,
    LOCATIONS_DIR,
    LOCATIONS_FEED,
    LOCATIONS_FEED_GZIP,
    TARIFF_FEED,
    TARIFFS_FEED,
    FeedSizes,
    location_feed_sizes,
    location_key,
    newest,
)
from pcpr_publish.render.pricing import TariffWords, summary_words, tariff_words
from pcpr_publish.render.sitefile import FileKind, Rendered

PAGE_SIZE = 250  # locations per server-rendered list page (no-JavaScript browsing)
TOWN_JUMP_MIN = 6  # a list page with at least this many towns starts with a jump list
CHUNK_SIZE = 1000  # rows per index-data chunk (progressive loading)
SITEMAP_SIZE = 2000  # URLs per sitemap file (keeps every file far below 1 MB)

INDEX_DATA = "index-data.json"
INDEX_FORMAT = "pcpr-index/1"
OPEN_DATA = "open-data.html"
RELIABILITY_JSON = "reliability.json"
RELIABILITY_PAGE_KEY = "reliability.html"
EMBED_LINKS = "embed/data-links.html"
EMBED_LOCATION = "embed/location.html"
EMBED_PRICES = "embed/prices.json"
PRICES_FORMAT = "pcpr-prices/1"
ROBOTS = "robots.txt"
SITEMAP = "sitemap.xml"

OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
OCPI_URL = "https://github.com/ocpi/ocpi/releases/tag/2.2.1"
PCPR_URL = "https://www.legislation.gov.uk/uksi/2023/1168"
MIN_POWER_OPTIONS = (7, 22, 50, 150)
RAPID_KW = 50

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
       "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'")

#: The lines an embedding page adds beside our iframes: each widget posts its height
#: (``{pcprHeight: n}``), and the frame it came from is made that tall. Only the frame whose own
#: window sent the message is changed, so no other page can resize anything.
RESIZE_LISTENER = (
    "<script>\n"
    "addEventListener(\"message\", function (e) {\n"
    "  var h = Number(e.data && e.data.pcprHeight), f = document.getElementsByTagName(\"iframe\");\n"
    "  for (var i = 0; i < f.length; i++)\n"
    "    if (h > 0 && f[i].contentWindow === e.source) f[i].style.height = Math.min(h, 5000) + \"px\";\n"
    "});\n"
    "</script>"
)
WIDGET_BASE_HEIGHT = 310  # px: the live-status widget without its chargers, at phone width
WIDGET_EVSE_HEIGHT = 120  # px per charger (EVSE), at phone width
LINKS_WIDGET_HEIGHT = 320  # px: the data-links widget at phone width, before it reports its height


def widget_height(evses: int) -> int:
    """The live-status widget's iframe height (px) in a snippet, from the location's EVSE count:
    enough for every charger at phone width (390 px) even where the page lacks the resize
    listener; with it, the frame then shrinks or grows to fit."""
    return WIDGET_BASE_HEIGHT + WIDGET_EVSE_HEIGHT * max(evses, 1)


STATUS_ORDER: tuple[str, ...] = tuple(w.STATUS_WORDS)
_STATUS_INDEX = {s: i for i, s in enumerate(STATUS_ORDER)}
_BUSY = frozenset({"CHARGING", "RESERVED"})

#: Filter order for connector types: the ones UK drivers look for first.
_TYPE_ORDER = ("CCS (Type 2 Combo)", "CHAdeMO", "Type 2 socket", "Type 2 tethered cable",
               "UK 3-pin socket", "Type 1 tethered cable", "CCS (Type 1 Combo)")


# ------------------------------------------------------------------------------------ templates


def templates_dir() -> Path:
    """``templates/`` beside the package (a checkout or editable install), else the copy that
    ``pip install`` puts in ``<prefix>/share/pcpr/templates``."""
    for candidate in (Path(__file__).resolve().parents[2] / "templates",
                      Path(sys.prefix) / "share" / "pcpr" / "templates"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError("pcpr templates not found (looked beside the package and in "
                            f"{Path(sys.prefix) / 'share' / 'pcpr' / 'templates'})")


@lru_cache(maxsize=4)
def _environment(path: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(path),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.globals["m"] = env.get_template("_macros.html").module
    return env


def environment() -> Environment:
    return _environment(str(templates_dir()))


# ------------------------------------------------------------------------------------ branding


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _mix(a: str, b: str, t: float) -> str:
    ra, rb = _rgb(a), _rgb(b)
    return _hex(tuple(x + (y - x) * t for x, y in zip(ra, rb)))


PAGE_BG = "#f3f5f8"
TEXT = "#1b1f24"


@dataclass(frozen=True)
class Palette:
    """Colours derived from the configured accent so that every pairing passes WCAG AA (4.5:1)."""

    accent: str  # header and button background
    on_accent: str  # text on the accent
    link: str  # accent darkened until readable on the page background
    soft: str  # a light tint for highlights (dark text on it)


def palette(accent: str) -> Palette:
    accent = _hex(_rgb(accent))
    on = "#ffffff" if contrast(accent, "#ffffff") >= contrast(accent, TEXT) else TEXT
    surface, step = accent, 0
    while contrast(surface, on) < 4.6 and step < 20:  # mid tones: nudge the surface
        step += 1
        surface = _mix(accent, "#000000" if on == "#ffffff" else "#ffffff", step * 0.05)
    link = accent
    step = 0
    while contrast(link, PAGE_BG) < 4.6 and step < 20:
        step += 1
        link = _mix(accent, "#000000", step * 0.05)
    return Palette(surface, on, link, _mix(accent, "#ffffff", 0.9))


@dataclass(frozen=True)
class Branding:
    name: str
    title: str
    base_url: str  # "" when not configured; else ends with "/"
    logo_url: str | None
    palette: Palette


def branding(dataset: Any, config: Any) -> Branding:
    site = config.site
    name = getattr(site, "operator_name", None)
    if not name:
        name = next((loc.operator.name for loc in dataset.locations if loc.operator), None)
    name = name or getattr(dataset.operator, "name", None) or "Charge point operator"
    base = (site.base_url or "").strip()
    if base and not base.endswith("/"):
        base += "/"
    return Branding(
        name=name,
        title=site.title or f"{name} charge points",
        base_url=base,
        logo_url=site.logo_url or None,
        palette=palette(site.accent_colour or "#0b5fff"),
    )


# ------------------------------------------------------------------------------------ views


def url_segment(location_id: str) -> str:
    """The URL path segment of a Location's files: the stored key's segment, percent-encoded
    again so that a browser or S3 asks for exactly that key (``quote`` keeps ``A-Za-z0-9_.-~``,
    so ordinary ids are unchanged)."""
    key_segment = location_key(location_id)[len(LOCATIONS_DIR) + 1:-len(".json")]
    return quote(key_segment, safe="")


def page_key(location_id: str) -> str:
    """``locations/<same percent-encoded id as the JSON>.html``."""
    return location_key(location_id)[:-len(".json")] + ".html"


def availability(statuses: list[str]) -> tuple[str, str]:
    """Availability of a location in words, and its colour class (the JS has the same rule)."""
    total = len(statuses)
    available = sum(1 for s in statuses if s == "AVAILABLE")
    if available:
        return f"{available} of {total} available", "ok"
    if statuses and all(s in _BUSY for s in statuses):
        return "All in use", "busy"
    if all(w.status_class(s) == "unknown" for s in statuses):
        return "Availability unknown", "unknown"
    return "None available now", "down"


def price_summary(tariffs: list[TariffWords]) -> str:
    """One line for a location's list entry: "55.0p per kWh", "30.0p to 80.0p per kWh",
    "Free to use", "Free on some chargers; 45.0p to 80.0p per kWh on others"."""
    return summary_words(tariffs)


def kw_tenths(watts: int) -> int:
    return int(w.kw_number(watts) * 10)


def format_tenths(tenths: int) -> str:
    return w.format_kw(tenths * 100)


@dataclass(slots=True)
class ConnectorView:
    label: str
    format_words: str
    power: str
    kw_tenths: int
    type_index: int
    tariff: TariffWords | None


@dataclass(slots=True)
class EvseView:
    title: str
    anchor: str
    status: str
    status_words: str
    status_detail: str
    status_class: str
    evse_id: str | None
    payment: list[str]
    reservable: bool
    restrictions: list[str]
    floor_level: str | None
    directions: str | None
    connectors: list[ConnectorView]
    shared_tariff: TariffWords | None
    updated_iso: str
    updated_words: str


@dataclass(slots=True)
class LocationView:
    id: str
    key: str
    href: str  # from the site root
    seg: str  # URL segment (from inside locations/)
    name: str
    address: str
    city: str
    postal_code: str | None
    state: str | None
    latitude: str
    longitude: str
    osm_url: str
    osm_directions_url: str
    time_zone: str
    hours: w.HoursText
    directions: str | None
    parking_type: str | None
    facilities: list[str]
    evses: list[EvseView]
    avail_text: str
    avail_class: str
    types: list[str]
    max_power: str
    rapid: bool
    price: str
    updated_iso: str
    updated_words: str
    row: list[Any]  # compact index-data row


class _Types:
    """Connector labels present in the data, in a stable, driver-friendly order.

    ``known`` (location id → (model, its labels)) is kept by a long-running publisher, so a
    cycle looks only at the connectors of Locations built again."""

    def __init__(self, locations: list[ocpi.Location],
                 known: dict[str, tuple[Any, frozenset[str]]] | None = None) -> None:
        labels: set[str] = set()
        fresh: dict[str, tuple[Any, frozenset[str]]] = {}
        for loc in locations:
            hit = known.get(loc.id) if known is not None else None
            if hit is not None and hit[0] is loc:
                own = hit[1]
            else:
                own = frozenset(w.connector_label(c.standard, c.format)
                                for e in loc.evses or () for c in e.connectors)
            fresh[loc.id] = (loc, own)
            labels |= own
        if known is not None:
            known.clear()
            known.update(fresh)
        first = [t for t in _TYPE_ORDER if t in labels]
        self.labels = first + sorted(labels - set(first), key=str.casefold)
        self.index = {t: i for i, t in enumerate(self.labels)}


def _evse_title(evse: ocpi.EVSE, n: int) -> str:
    if evse.physical_reference:
        return f"Charger {evse.physical_reference}"
    return f"Charger {n}"


def location_view(loc: ocpi.Location, tariffs: dict[str, TariffWords], types: _Types,
                  now: str) -> LocationView:
    seg = url_segment(loc.id)
    zone = loc.time_zone
    lat, lon = loc.coordinates.latitude, loc.coordinates.longitude
    evses: list[EvseView] = []
    compact: list[list[int]] = []
    all_tariffs: dict[str, TariffWords] = {}
    labels: set[str] = set()
    max_tenths = 0
    for n, e in enumerate(loc.evses or (), start=1):
        conns: list[ConnectorView] = []
        packed = [_STATUS_INDEX.get(e.status, _STATUS_INDEX["UNKNOWN"])]
        for c in e.connectors:
            label = w.connector_label(c.standard, c.format)
            labels.add(label)
            tenths = kw_tenths(w.power_watts(c))
            max_tenths = max(max_tenths, tenths)
            tw = None
            for tid in c.tariff_ids or ():
                tw = tariffs.get(tid) or tariffs.get(tid.casefold())
                if tw:
                    all_tariffs[tw.tariff_id] = tw
                    break
            conns.append(ConnectorView(label, w.format_words(c.format), w.power_words(c), tenths,
                                       types.index[label], tw))
            packed += [types.index[label], tenths]
        compact.append(packed)
        distinct = {id(cv.tariff) for cv in conns}
        restrictions = [w.PARKING_RESTRICTION_WORDS.get(r, r) for r in e.parking_restrictions or ()]
        evses.append(EvseView(
            title=_evse_title(e, n),
            anchor=f"charger-{n}",
            status=e.status,
            status_words=w.status_words(e.status),
            status_detail=w.STATUS_DETAILS.get(e.status, ""),
            status_class=w.status_class(e.status),
            evse_id=e.evse_id,
            payment=w.capability_words(e.capabilities),
            reservable="RESERVABLE" in (e.capabilities or ()),
            restrictions=restrictions,
            floor_level=e.floor_level,
            directions=w.english(e.directions),
            connectors=conns,
            shared_tariff=conns[0].tariff if len(distinct) == 1 else None,
            updated_iso=e.last_updated,
            updated_words=w.datetime_words(e.last_updated, zone),
        ))
    statuses = [e.status for e in evses]
    avail_text, avail_class = availability(statuses)
    ordered_types = sorted(labels, key=types.index.__getitem__)
    price = price_summary(list(all_tariffs.values()))
    name = loc.name or loc.address
    row = [seg, name, loc.address, loc.city, loc.postal_code or "", price, compact]
    return LocationView(
        id=loc.id,
        key=page_key(loc.id),
        href=f"{LOCATIONS_DIR}/{seg}.html",
        seg=seg,
        name=name,
        address=loc.address,
        city=loc.city,
        postal_code=loc.postal_code,
        state=loc.state,
        latitude=lat,
        longitude=lon,
        osm_url=f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}",
        osm_directions_url=f"https://www.openstreetmap.org/directions?to={lat}%2C{lon}",
        time_zone=zone,
        hours=w.hours_text(loc.opening_times, zone, now, loc.charging_when_closed),
        directions=w.english(loc.directions),
        parking_type=w.PARKING_TYPE_WORDS.get(loc.parking_type) if loc.parking_type else None,
        facilities=[w.FACILITY_WORDS.get(f, f) for f in loc.facilities or ()],
        evses=evses,
        avail_text=avail_text,
        avail_class=avail_class,
        types=ordered_types,
        max_power=format_tenths(max_tenths),
        rapid=max_tenths >= RAPID_KW * 10,
        price=price,
        updated_iso=loc.last_updated,
        updated_words=w.datetime_words(loc.last_updated, zone),
        row=row,
    )


def _sort_key(v: LocationView) -> tuple[str, str, str]:
    return (v.city.casefold(), v.name.casefold(), v.id)


# ------------------------------------------------------------------------------------ assets


def _fingerprint(name: str, ext: str, body: bytes) -> str:
    return f"assets/{name}.{hashlib.sha256(body).hexdigest()[:12]}.{ext}"


def script_words() -> dict[str, Any]:
    """The wording tables the script needs (the widget reads raw OCPI JSON)."""
    from typing import get_args

    from pcpr_publish.ocpi.enums import ConnectorFormat, ConnectorType

    return {
        "statuses": {s: [w.STATUS_WORDS[s], w.STATUS_CLASS[s]] for s in STATUS_ORDER},
        "labels": {f"{std}|{fmt}": w.connector_label(std, fmt)
                   for std in get_args(ConnectorType) for fmt in get_args(ConnectorFormat)},
        "powerTypes": w.POWER_TYPE_WORDS,
    }


def render_assets(env: Environment, brand: Branding) -> dict[str, bytes]:
    """The fingerprinted CSS, JS and icon: ``{"css": (key, body), ...}`` flattened to keys."""
    root = Path(env.loader.searchpath[0]) / "assets"  # type: ignore[union-attr]
    p = brand.palette
    css = env.get_template("assets/style.css").render(
        accent=p.accent, on_accent=p.on_accent, link=p.link, soft=p.soft, page_bg=PAGE_BG,
        text=TEXT,
    ).encode()
    icon = env.get_template("assets/icon.svg").render(accent=p.accent, on_accent=p.on_accent).encode()
    js_source = (root / "app.js").read_text(encoding="utf-8")
    words_json = orjson.dumps(script_words(), option=orjson.OPT_SORT_KEYS).decode()
    marker = "/*PCPR_WORDS*/null"
    if marker not in js_source:
        raise ValueError("templates/assets/app.js lacks the /*PCPR_WORDS*/null marker")
    js = js_source.replace(marker, words_json).encode()
    return {
        "css": css, "js": js, "icon": icon,
    }


# ------------------------------------------------------------------------------------ render


class Fragments:
    """Pieces of HTML that repeat across thousands of pages (prices, connectors, opening hours,
    badges), rendered once per distinct value. Values are escaped by the macros that make them."""

    def __init__(self, macros: Any, results: dict[str, tuple[Any, Markup]] | None = None) -> None:
        self.m = macros
        #: location id → (its view, its entry in the finder's lists): kept between renders by
        #: a long-running publisher, so re-rendering a list page for one changed location does
        #: not render its 250 other entries again.
        self.results: dict[str, tuple[Any, Markup]] = results if results is not None else {}
        self._price: dict[str, Markup] = {}
        self._connector: dict[tuple[Any, ...], Markup] = {}
        self._hours: dict[w.HoursText, Markup] = {}
        self._badge: dict[tuple[str, str], Markup] = {}

    def price(self, t: TariffWords | None) -> Markup:
        key = t.tariff_id if t else ""
        hit = self._price.get(key)
        if hit is None:
            hit = self._price[key] = Markup(self.m.price(t))
        return hit

    def connector(self, c: ConnectorView, with_price: bool) -> Markup:
        key = (c.label, c.power, c.format_words, c.tariff.tariff_id if with_price and c.tariff else
               ("-" if with_price else None))
        hit = self._connector.get(key)
        if hit is None:
            hit = self._connector[key] = Markup(self.m.connector(c, self.price(c.tariff) if with_price else ""))
        return hit

    def hours(self, h: w.HoursText) -> Markup:
        hit = self._hours.get(h)
        if hit is None:
            hit = self._hours[h] = Markup(self.m.hours(h))
        return hit

    def result(self, v: LocationView) -> Markup:
        """A location's entry in the finder's lists (reused for the very same view)."""
        hit = self.results.get(v.id)
        if hit is not None and hit[0] is v:
            return hit[1]
        html = Markup(self.m.result(v, ""))
        self.results[v.id] = (v, html)
        return html

    def badge(self, text: str, cls: str) -> Markup:
        hit = self._badge.get((text, cls))
        if hit is None:
            hit = self._badge[(text, cls)] = Markup(self.m.badge(text, cls))
        return hit


@dataclass
class PageCache:
    """Rendered pages kept between calls by a long-running publisher (``pcpr publish --watch``).

    A Location's view and page are reused while the caller passes the *same* (immutable) model
    object, the site-wide inputs (branding, assets, tariffs in words, connector types) are
    unchanged, and the same exceptional opening periods are still current. List pages are reused
    while they list the same views. Anything else renders afresh, so the output is always exactly
    what an uncached render gives.
    """

    fingerprint: Any = None
    locations: dict[str, tuple[Any, tuple[bool, ...], LocationView, bytes]] = field(default_factory=dict)
    lists: dict[str, tuple[tuple[Any, ...], bytes]] = field(default_factory=dict)
    #: location id → (model, its connector labels): see :class:`_Types`.
    labels: dict[str, tuple[Any, frozenset[str]]] = field(default_factory=dict)
    #: location id → (view, its finder list entry): see :attr:`Fragments.results`.
    results: dict[str, tuple[Any, Markup]] = field(default_factory=dict)
    #: (the figures' generated_at, reliability.json bytes, reliability.html bytes): the figures
    #: change at most hourly, so a status change does not render a national table again.
    reliability: tuple[str, bytes, bytes] | None = None
    hits: int = 0
    misses: int = 0


def _hours_key(loc: ocpi.Location, now: str) -> tuple[bool, ...]:
    """Which exceptional periods are still shown: the only way ``now`` changes a page."""
    h = loc.opening_times
    if h is None:
        return ()
    periods = [*(h.exceptional_closings or ()), *(h.exceptional_openings or ())]
    return tuple(p.period_end > now for p in periods)


@dataclass(slots=True)
class TownGroup:
    """The locations of one town on one list page, under a heading the jump list links to."""

    city: str
    anchor: str
    letter: str  # "A" … "Z", or "#" for a name that does not start with a letter
    views: list[LocationView]
    continued: bool  # the town's list began on the previous page


def _initial(city: str) -> str:
    folded = unicodedata.normalize("NFKD", city.strip()).encode("ascii", "ignore").decode()
    first = folded[:1].upper()
    return first if "A" <= first <= "Z" else "#"


def _slug(city: str) -> str:
    folded = unicodedata.normalize("NFKD", city).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def town_groups(page: list[LocationView], previous_city: str | None = None) -> list[TownGroup]:
    """``page`` (sorted by town) split into towns, each with a unique, stable anchor.

    Towns are told apart case-insensitively, like the sort order; ``previous_city`` is the last
    town of the page before, so a town that runs across pages is marked "continued"."""
    groups: list[TownGroup] = []
    used: set[str] = set()
    for v in page:
        key = v.city.casefold()
        if groups and groups[-1].city.casefold() == key:
            groups[-1].views.append(v)
            continue
        base = "town-" + (_slug(v.city) or str(len(groups) + 1))
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        continued = not groups and previous_city is not None and previous_city.casefold() == key
        groups.append(TownGroup(v.city, anchor, _initial(v.city), [v], continued))
    return groups


def jump_letters(groups: list[TownGroup]) -> list[tuple[str, str]]:
    """(letter, anchor of the first town on the page with that initial), A to Z, then "#"."""
    first: dict[str, str] = {}
    for g in groups:
        first.setdefault(g.letter, g.anchor)
    return sorted(first.items(), key=lambda item: (item[0] == "#", item[0]))


def _pages(views: list[LocationView]) -> list[list[LocationView]]:
    return [views[i:i + PAGE_SIZE] for i in range(0, len(views), PAGE_SIZE)] or [[]]


def list_page_key(n: int) -> str:
    return "index.html" if n == 1 else f"index-{n}.html"


def embed_path(location_id: str) -> str:
    """The live-status widget of one Location, relative to the site root."""
    return f"{EMBED_LOCATION}?location={quote(location_id, safe='')}"


# -- what each family of files is and what it refers to (the planner uploads in this order) --

ASSET = FileKind("asset")
LOCATION_PAGE = FileKind("location page", refers_to=(ASSET, LOCATION_OBJECT, LOCATION_FEED, TARIFF_FEED))
FINDER_DATA_CHUNK = FileKind("finder data chunk", refers_to=(LOCATION_PAGE,))
FINDER_DATA = FileKind("finder data index", refers_to=(FINDER_DATA_CHUNK,))
WIDGET_PRICES = FileKind("widget price words", refers_to=(TARIFF_FEED,))
WIDGET = FileKind("embeddable widget", refers_to=(ASSET, WIDGET_PRICES, LOCATION_OBJECT, LOCATION_FEED,
                                                  LOCATION_FEED_GZIP, TARIFF_FEED))
RELIABILITY_DATA = FileKind("reliability figures")
RELIABILITY_PAGE = FileKind("reliability page", refers_to=(ASSET, RELIABILITY_DATA, LOCATION_PAGE))
TOP_PAGE = FileKind("top-level page", refers_to=(ASSET, LOCATION_PAGE, FINDER_DATA, WIDGET, RELIABILITY_PAGE,
                                                 LOCATION_FEED_211, TARIFF_FEED_211, VERSIONS_KIND,
                                                 LOCATION_FEED, LOCATION_FEED_GZIP, TARIFF_FEED))
SITEMAP_PART = FileKind("sitemap part", refers_to=(TOP_PAGE, LOCATION_PAGE))
SITEMAP_KIND = FileKind("sitemap", refers_to=(SITEMAP_PART, TOP_PAGE, LOCATION_PAGE))
ROBOTS_KIND = FileKind("robots.txt", refers_to=(SITEMAP_KIND,))


@dataclass
class PageContext:
    """Everything the page families share for one render: templates, branding, the site-wide
    values, the dataset, the cache, and what earlier families produced (the sorted location
    views and the list pages)."""

    env: Environment
    brand: Branding
    dataset: Any
    config: Any
    cache: PageCache | None
    assets: dict[str, tuple[str, bytes]]  # name → (fingerprinted key, bytes)
    tariff_map: dict[str, TariffWords]
    types: _Types
    counts: dict[str, int]
    site: dict[str, Any]
    frag: Fragments
    views: list[LocationView] = field(default_factory=list)
    pages: list[list[LocationView]] = field(default_factory=list)
    data_files: Rendered | None = None  # the JSON files of this render, when at hand

    @property
    def now(self) -> str:
        return self.dataset.exported_at

    def canonical(self, path: str) -> str | None:
        return f"{self.brand.base_url}{path}" if self.brand.base_url else None


def page_context(dataset: Any, config: Any, cache: PageCache | None, *,
                 live: bool = False) -> PageContext:
    env = environment()
    brand = branding(dataset, config)
    now = dataset.exported_at
    rendered_assets = render_assets(env, brand)
    assets = {
        name: (_fingerprint({"css": "style", "js": "app", "icon": "icon"}[name],
                            {"css": "css", "js": "js", "icon": "svg"}[name], body), body)
        for name, body in rendered_assets.items()
    }
    tariff_map: dict[str, TariffWords] = {}
    for t in dataset.tariffs:
        tw = tariff_words(t)
        tariff_map[t.id] = tw
        tariff_map.setdefault(t.id.casefold(), tw)
    types = _Types(dataset.locations, cache.labels if cache is not None else None)
    updated = newest(
        [loc.last_updated for loc in dataset.locations] + [t.last_updated for t in dataset.tariffs],
        now,
    )
    counts = {
        "locations": len(dataset.locations),
        "evses": sum(len(loc.evses or ()) for loc in dataset.locations),
        "connectors": sum(len(e.connectors) for loc in dataset.locations for e in loc.evses or ()),
        "tariffs": len(dataset.tariffs),
    }
    # What every page may show. Location pages show none of the often-changing values
    # (counts, newest update), so one status change re-renders one location page.
    stable = {
        "name": brand.name,
        "title": brand.title,
        "base_url": brand.base_url,
        "logo_url": brand.logo_url,
        "css": assets["css"][0],
        "js": assets["js"][0],
        "icon": assets["icon"][0],
        "csp": CSP,
        "ogl_url": OGL_URL,
        "ocpi_url": OCPI_URL,
        "pcpr_url": PCPR_URL,
        "types": types.labels,
        "min_power_options": MIN_POWER_OPTIONS,
        "rounding": "Prices include VAT and are rounded half up to the nearest tenth of a penny.",
        "resize_listener": RESIZE_LISTENER,
        "links_height": LINKS_WIDGET_HEIGHT,
        "widget_base": WIDGET_BASE_HEIGHT,
        "widget_per_evse": WIDGET_EVSE_HEIGHT,
    }
    site = {
        **stable,
        "max_age": config.publish.max_age,
        "live": live,  # kept current by a watch process (availability within 30 s)
        "counts": counts,
        # A status history exists: the finder and the open-data page link reliability.html.
        "reliability": getattr(dataset, "reliability", None) is not None,
        "updated": updated,
        "updated_words": w.datetime_words(updated, "Europe/London"),
    }
    fingerprint = (tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in stable.items()),
                   tuple(sorted(tariff_map.items())))
    if cache is not None and cache.fingerprint != fingerprint:
        cache.fingerprint = fingerprint
        cache.locations.clear()
        cache.lists.clear()
        cache.results.clear()
        cache.reliability = None
    return PageContext(env, brand, dataset, config, cache, assets, tariff_map, types, counts, site,
                       Fragments(env.globals["m"], cache.results if cache is not None else None))


# -- the page families, one function each -------------------------------------------------------

def assets_family(ctx: PageContext, out: Rendered) -> None:
    """Stylesheet, script and icon, fingerprinted so they can be cached for ever."""
    for key, body in ctx.assets.values():
        out.add(key, body, ASSET)


def location_pages(ctx: PageContext, out: Rendered) -> None:
    """``locations/<id>.html``: one page per Location (reused from the cache when unchanged)."""
    cache = ctx.cache
    location_tpl = ctx.env.get_template("location.html")
    views: list[LocationView] = []
    fresh: dict[str, tuple[Any, tuple[bool, ...], LocationView, bytes]] = {}
    for loc in ctx.dataset.locations:
        hours_key = _hours_key(loc, ctx.now)
        hit = cache.locations.get(loc.id) if cache is not None else None
        if hit is not None and hit[0] is loc and hit[1] == hours_key:
            view, body = hit[2], hit[3]
            if cache is not None:
                cache.hits += 1
        else:
            view = location_view(loc, ctx.tariff_map, ctx.types, ctx.now)
            body = location_tpl.render(
                site=ctx.site, root="../", page="location", v=view, frag=ctx.frag,
                canonical=ctx.canonical(view.href), embed_path=embed_path(view.id),
                embed_height=widget_height(len(view.evses)),
            ).encode()
            if cache is not None:
                cache.misses += 1
        fresh[loc.id] = (loc, hours_key, view, body)
        out.add(view.key, body, LOCATION_PAGE)
        views.append(view)
    if cache is not None:
        cache.locations = fresh
    views.sort(key=_sort_key)
    ctx.views = views


def finder_pages(ctx: PageContext, out: Rendered) -> None:
    """``index.html``, ``index-2.html``, …: the finder's plain lists (no-JavaScript browsing)."""
    cache = ctx.cache
    pages = _pages(ctx.views)
    pager = [
        {"n": n, "href": list_page_key(n),
         "label": (f"{p[0].city} to {p[-1].city}" if p and p[0].city != p[-1].city
                   else (p[0].city if p else "No locations"))}
        for n, p in enumerate(pages, start=1)
    ]
    pager_key = tuple(p["label"] for p in pager)
    index_tpl = ctx.env.get_template("index.html")
    lists: dict[str, tuple[tuple[Any, ...], bytes]] = {}
    for n, page in enumerate(pages, start=1):
        key = list_page_key(n)
        previous_city = pages[n - 2][-1].city if n > 1 and pages[n - 2] else None
        list_key = (pager_key, ctx.counts["locations"], ctx.counts["evses"], previous_city,
                    ctx.site["reliability"], tuple(page))
        hit = cache.lists.get(key) if cache is not None else None
        if hit is not None and hit[0][:5] == list_key[:5] and len(hit[0][5]) == len(page) and all(
                a is b for a, b in zip(hit[0][5], page)):
            body = hit[1]
        else:
            groups = town_groups(page, previous_city)
            body = index_tpl.render(
                site=ctx.site, root="", page="finder", views=page, number=n, pager=pager, frag=ctx.frag,
                groups=groups, letters=jump_letters(groups),
                jump=len(groups) >= TOWN_JUMP_MIN,
                canonical=ctx.canonical("" if n == 1 else key),
            ).encode()
        lists[key] = (list_key, body)
        out.add(key, body, TOP_PAGE)
    if cache is not None:
        cache.lists = lists
        results = ctx.frag.results  # only the entries of locations still listed
        cache.results = {v.id: results[v.id] for v in ctx.views if v.id in results}
    ctx.pages = pages


def finder_data(ctx: PageContext, out: Rendered) -> None:
    """``index-data.json`` and its chunks: the compact rows the finder's search loads."""
    views = ctx.views
    chunks = [views[i:i + CHUNK_SIZE] for i in range(0, len(views), CHUNK_SIZE)]
    chunk_keys = [f"index-data/{i}.json" for i in range(1, len(chunks) + 1)]
    for key, chunk in zip(chunk_keys, chunks):
        out.add(key, orjson.dumps({"rows": [v.row for v in chunk]}), FINDER_DATA_CHUNK)
    out.add(INDEX_DATA, orjson.dumps({
        "format": INDEX_FORMAT,
        "count": len(views),
        "chunks": chunk_keys,
        "fields": ["href", "name", "address", "city", "postal_code", "price",
                   "evses[status, (type, kW×10)…]"],
        "statuses": [[s, w.STATUS_WORDS[s], w.STATUS_CLASS[s]] for s in STATUS_ORDER],
        "types": ctx.types.labels,
    }), FINDER_DATA)


def open_data_page(ctx: PageContext, out: Rendered) -> None:
    """``open-data.html``: the two Data Links (and the compressed copy of the Location Data Link,
    with both sizes), licence, counts, update frequency, embed code."""
    example = ctx.views[0] if ctx.views else None
    # Stated to 0.1 MB, so that a status change (a few bytes) seldom changes this page.
    files = ctx.data_files
    if files is not None and LOCATIONS_FEED in files and LOCATIONS_FEED_GZIP in files:
        sizes = FeedSizes(len(files[LOCATIONS_FEED]), len(files[LOCATIONS_FEED_GZIP]))
    else:
        sizes = location_feed_sizes(ctx.dataset.locations, ctx.dataset.exported_at)
    out.add(OPEN_DATA, ctx.env.get_template("open-data.html").render(
        site=ctx.site, root="", page="open-data", canonical=ctx.canonical(OPEN_DATA),
        example=example,
        links_path=EMBED_LINKS,
        location_path=embed_path(example.id if example else "LOCATION-ID"),
        location_height=widget_height(len(example.evses) if example else 2),
        locations_path=LOCATIONS_FEED,
        locations_size=w.megabytes(sizes.plain),
        locations_gzip_path=LOCATIONS_FEED_GZIP,
        locations_gzip_size=w.megabytes(sizes.compressed),
        tariffs_path=TARIFFS_FEED,
        v211=({"locations": LOCATIONS_211, "tariffs": TARIFFS_211}
              if "2.1.1" in published_versions(ctx.config) else None),
        versions_path=VERSIONS if ctx.brand.base_url else None,
    ).encode(), TOP_PAGE)


def reliability_pages(ctx: PageContext, out: Rendered) -> None:
    """``reliability.json`` and ``reliability.html``: regulation 7 figures from the status
    history, when the engine found one (``dataset.reliability``)."""
    doc = getattr(ctx.dataset, "reliability", None)
    if doc is None:
        return
    cache = ctx.cache
    hit = cache.reliability if cache is not None else None
    if hit is not None and hit[0] == doc["generated_at"]:
        out.add(RELIABILITY_JSON, hit[1], RELIABILITY_DATA)
        out.add(RELIABILITY_PAGE_KEY, hit[2], RELIABILITY_PAGE)
        return
    data = orjson.dumps(doc) + b"\n"
    out.add(RELIABILITY_JSON, data, RELIABILITY_DATA)
    views = {v.id: v for v in ctx.views}
    zone = doc["time_zone"]
    period_words = (f"{rv.date_words(doc['period']['from'], zone)} to "
                    f"{w.datetime_words(doc['period']['to'], zone)}")
    page = ctx.env.get_template("reliability.html").render(
        site=ctx.site, root="", page="reliability", canonical=ctx.canonical(RELIABILITY_PAGE_KEY),
        doc=doc, net=doc["network"], year=doc["period"]["from"][:4],
        headline=rv.headline(doc, ctx.brand.name), period_words=period_words,
        chart=rv.chart(doc["months"], doc["target_pct"], ctx.brand.palette.link),
        months=[{**m, "name": rv.month_words(m["month"])} for m in doc["months"]],
        rows=rv.evse_rows(doc, views), pct=rv.pct_words, dur=rv.duration_words,
        json_path=RELIABILITY_JSON, generated_words=w.datetime_words(doc["generated_at"], zone),
    ).encode()
    out.add(RELIABILITY_PAGE_KEY, page, RELIABILITY_PAGE)
    if cache is not None:
        cache.reliability = (doc["generated_at"], data, page)


def prices_data(tariffs: list[ocpi.Tariff], words: dict[str, TariffWords]) -> bytes:
    """``embed/prices.json``: every published tariff in the words the pages use, for the
    live-status widget (which reads raw OCPI JSON and must not redo the VAT rounding):
    ``{id: [headline, free, [p/kWh incl. VAT, …]]}``."""
    table = {}
    for t in tariffs:
        tw = words[t.id]
        table[t.id] = [tw.headline, tw.free, [str(p) for p in tw.kwh_pence]]
    return orjson.dumps({"format": PRICES_FORMAT, "tariffs": table}, option=orjson.OPT_SORT_KEYS)


def widgets(ctx: PageContext, out: Rendered) -> None:
    """``embed/*.html``: the Data Links and live-status widgets for an iframe, and the tariffs
    in words that the live-status widget shows (``embed/prices.json``)."""
    out.add(EMBED_PRICES, prices_data(ctx.dataset.tariffs, ctx.tariff_map), WIDGET_PRICES)
    out.add(EMBED_LINKS, ctx.env.get_template("embed-links.html").render(
        site=ctx.site, root="../", page="embed-links", canonical=None,
    ).encode(), WIDGET)
    out.add(EMBED_LOCATION, ctx.env.get_template("embed-location.html").render(
        site=ctx.site, root="../", page="embed-location", canonical=None,
        prices_path=EMBED_PRICES,
    ).encode(), WIDGET)


def sitemaps(ctx: PageContext, out: Rendered) -> None:
    """``sitemap.xml`` (an index over ``sitemap-<n>.xml`` when large)."""
    files = render_sitemaps(ctx.env, ctx.brand.base_url, ctx.views, len(ctx.pages),
                            ctx.site["updated"])
    for key, body in files.items():
        out.add(key, body, SITEMAP_KIND if key == SITEMAP else SITEMAP_PART)


def robots(ctx: PageContext, out: Rendered) -> None:
    """``robots.txt``, pointing at the sitemap when the site has a base URL."""
    base = ctx.brand.base_url
    out.add(ROBOTS, ctx.env.get_template("robots.txt").render(
        site=ctx.site, sitemap=f"{base}{SITEMAP}" if base else None,
    ).encode(), ROBOTS_KIND)


#: Every family of HTML-side files, in render order (later families use earlier ones' views).
PAGE_FAMILIES: tuple[tuple[str, Callable[[PageContext, Rendered], None]], ...] = (
    ("assets", assets_family),
    ("location pages", location_pages),
    ("reliability", reliability_pages),
    ("finder pages", finder_pages),
    ("finder data", finder_data),
    ("open-data page", open_data_page),
    ("widgets", widgets),
    ("sitemaps", sitemaps),
    ("robots.txt", robots),
)


def render_pages(dataset: Any, config: Any, cache: PageCache | None = None, *,
                 live: bool = False, data_files: Rendered | None = None) -> Rendered:
    """Every HTML page, asset, index file, sitemap and robots.txt, keyed from the site root.

    ``cache`` (optional) lets a long-running caller skip re-rendering unchanged Locations; the
    bytes are the same with or without it. ``data_files``: the JSON files of the same render
    (the open-data page states their sizes; without them the page renders the feed itself).
    """
    with gc_paused():
        ctx = page_context(dataset, config, cache, live=live)
        ctx.data_files = data_files
        out = Rendered()
        for _name, family in PAGE_FAMILIES:
            family(ctx, out)
        return out


def render_sitemaps(env: Environment, base: str, views: list[LocationView], pages: int,
                    updated: str) -> dict[str, bytes]:
    """``sitemap.xml``: absolute URLs need ``[site] base_url``; without it the sitemap is a
    valid, empty ``urlset``. Past :data:`SITEMAP_SIZE` URLs it becomes a sitemap index."""
    tpl = env.get_template("sitemap.xml")
    if not base:
        return {SITEMAP: tpl.render(urls=[], base=base, note=True).encode()}
    urls = [(base, updated)] + [(f"{base}{list_page_key(n)}", updated) for n in range(2, pages + 1)]
    urls.append((f"{base}{OPEN_DATA}", updated))
    urls += [(f"{base}{v.href}", v.updated_iso) for v in views]
    if len(urls) <= SITEMAP_SIZE:
        return {SITEMAP: tpl.render(urls=urls, base=base, note=False).encode()}
    files: dict[str, bytes] = {}
    parts = []
    for i in range(0, len(urls), SITEMAP_SIZE):
        part = urls[i:i + SITEMAP_SIZE]
        key = f"sitemap-{i // SITEMAP_SIZE + 1}.xml"
        files[key] = tpl.render(urls=part, base=base, note=False).encode()
        parts.append((f"{base}{key}", max(u[1] for u in part)))
    files[SITEMAP] = env.get_template("sitemap-index.xml").render(sitemaps=parts).encode()
    return files


__all__ = [
    "Branding", "CSP", "LocationView", "PageCache", "Palette", "availability", "branding", "contrast",
    "location_view", "page_key", "palette", "price_summary", "render_pages", "templates_dir",
    "url_segment",
]
