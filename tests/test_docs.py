"""The documentation in the repository is complete and cannot go stale: the README stays short
and names the two commands a new user runs, every link resolves to a file (and heading) in the
repository, every path a message names exists, and the generated references match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pcpr_publish.cli.reference import cli_reference

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").rglob("*.md"))
PAGES = [README, ROOT / "BENCHMARKS.md", *DOCS]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces → -."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    out: set[str] = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            base = slug(line.lstrip("#"))
            n, name = 0, base
            while name in out:
                n += 1
                name = f"{base}-{n}"
            out.add(name)
    return out


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return [a or b for a, b in LINK.findall(text)]


def test_the_readme_is_short_and_names_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    assert "```sh\nmake test\n```" in text
    assert "make demo" in text and "pcpr serve site" in text
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_to_a_file_and_heading_in_the_repository(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):
            assert target.startswith(("https://", "mailto:")), f"{page.name}: {target}"
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading #{anchor})")
        elif ROOT not in dest.parents and dest != ROOT:
            broken.append(f"{target} (outside the repository)")
    assert broken == []


def test_every_document_a_message_or_docstring_names_exists() -> None:
    named: dict[str, list[str]] = {}
    for source in sorted((ROOT / "pcpr_publish").rglob("*.py")):
        for ref in re.findall(r"\b((?:docs/[\w\-./]+\.md)|README\.md|BENCHMARKS\.md)", source.read_text()):
            named.setdefault(ref, []).append(source.name)
    missing = {ref: where for ref, where in named.items() if not (ROOT / ref).is_file()}
    assert missing == {}
    assert "docs/s3.md" in named  # the S3 access-denied message points there


def test_no_document_points_outside_the_repository() -> None:
    for page in PAGES:
        assert "../shared" not in page.read_text(encoding="utf-8"), page.name


def test_the_cli_reference_is_current() -> None:
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == cli_reference(), "docs/cli.md is stale: run `make docs`"


def test_the_screenshots_the_readme_shows_exist() -> None:
    for shot in re.findall(r"docs/screenshots/[\w\-]+\.png", README.read_text(encoding="utf-8")):
        assert (ROOT / shot).is_file(), shot
