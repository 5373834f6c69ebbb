"""The notice catalogue: every spec_ref points at a heading of a file in this repository, and
docs/notices.md is exactly what the catalogue generates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pcpr_publish.notices import NOTICE_TYPES, Severity, catalogue_markdown

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "docs" / "notices.md"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces → hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Anchors of every Markdown heading in ``path`` (outside fenced code blocks); repeated
    headings get -1, -2, … as on GitHub."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"^#{1,6} (.+?)#*\s*$", line)
        if fenced or not m:
            continue
        slug = github_anchor(m.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def test_github_anchor_rules():
    assert github_anchor("Selection rules") == "selection-rules"
    assert github_anchor("`last_updated`") == "last_updated"
    assert github_anchor("Pulling with `--from-ocpi`") == "pulling-with---from-ocpi"
    assert github_anchor("OCPI 2.2.1") == "ocpi-221"
    assert github_anchor("availability.json") == "availabilityjson"


@pytest.mark.parametrize("code", sorted(NOTICE_TYPES))
def test_spec_ref_points_at_a_heading_in_the_repository(code):
    ref = NOTICE_TYPES[code].spec_ref
    assert re.fullmatch(r"[\w./-]+\.md#[\w-]+", ref), f"{code}: spec_ref {ref!r} is not <file>#<anchor>"
    file, anchor = ref.split("#")
    path = ROOT / file
    assert path.is_file(), f"{code}: {file} does not exist in the repository"
    assert anchor in anchors(path), f"{code}: {file} has no heading with the anchor #{anchor}"


@pytest.mark.parametrize("code", sorted(NOTICE_TYPES))
def test_notice_type_is_complete(code):
    nt = NOTICE_TYPES[code]
    assert nt.code == code and re.fullmatch(r"[a-z][a-z0-9_]*", code)
    assert isinstance(nt.severity, Severity)
    assert nt.title.strip() and nt.description.strip()


def test_catalogue_is_current():
    on_disk = CATALOGUE.read_text(encoding="utf-8") if CATALOGUE.exists() else ""
    assert on_disk == catalogue_markdown(), "docs/notices.md is stale: run `make docs`"


def test_catalogue_lists_every_code_with_working_links():
    text = catalogue_markdown()
    own = anchors(CATALOGUE)
    for code, nt in NOTICE_TYPES.items():
        assert f"### `{code}`" in text and f"](#{code})" in text
        assert nt.severity.value in text
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        file, _, anchor = target.partition("#")
        path = (CATALOGUE.parent / file).resolve() if file else CATALOGUE
        assert path.is_file(), f"docs/notices.md links to a missing file: {target}"
        if anchor:
            assert anchor in (own if not file else anchors(path)), f"broken link in docs/notices.md: {target}"
