"""The whole site, rendered in one place: every renderer's files with headers, hashes and kinds.

``render_site`` is the only function that assembles a site; a one-off build calls it without
state, and the long-running publisher passes a :class:`RenderState` so that unchanged objects are
neither re-rendered nor re-hashed. The bytes are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pcpr_publish.render.html import PageCache, render_pages
from pcpr_publish.render.json_feeds import GzipCache, RenderCache, render_json
from pcpr_publish.render.ocpi211 import render_211
from pcpr_publish.render.sitefile import Rendered, SiteFile, make_site


@dataclass
class RenderState:
    """What a long-running publisher keeps between renders (``pcpr publish --watch``)."""

    json: RenderCache = field(default_factory=dict)
    gzip: GzipCache = field(default_factory=GzipCache)
    pages: PageCache = field(default_factory=PageCache)
    files: dict[str, SiteFile] = field(default_factory=dict)


def _json(dataset: Any, config: Any, state: RenderState | None, live: bool,
          so_far: Rendered) -> Rendered:
    return render_json(dataset.locations, dataset.tariffs, dataset.exported_at,
                       state.json if state is not None else None,
                       state.gzip if state is not None else None)


def _ocpi211(dataset: Any, config: Any, state: RenderState | None, live: bool,
             so_far: Rendered) -> Rendered:
    return render_211(dataset, config)


def _pages(dataset: Any, config: Any, state: RenderState | None, live: bool,
           so_far: Rendered) -> Rendered:
    return render_pages(dataset, config, state.pages if state is not None else None, live=live,
                        data_files=so_far)


#: Every renderer of the site, listed once, each seeing what the ones before it made: the data
#: links and per-location JSON, then the human-readable pages (whose families are listed in
#: ``render.html.PAGE_FAMILIES``).
RENDERERS: tuple[tuple[str, Callable[[Any, Any, RenderState | None, bool, Rendered], Rendered]], ...] = (
    ("OCPI JSON", _json),
    ("OCPI 2.1.1 and versions", _ocpi211),
    ("pages", _pages),
)


def render_site(dataset: Any, config: Any, state: RenderState | None = None, *,
                live: bool = False) -> dict[str, SiteFile]:
    """Every published file of ``dataset`` with its headers, hash and kind, sorted by key.

    ``live``: the site is kept up to date by a watch process (the pages may say so)."""
    out = Rendered()
    for _name, renderer in RENDERERS:
        out.update(renderer(dataset, config, state, live, out))
    site = make_site(out, config.publish.max_age, state.files if state is not None else None)
    if state is not None:
        state.files = site
    return site
