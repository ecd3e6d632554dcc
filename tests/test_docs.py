"""The documentation site: it builds with --strict (offline), its CLI reference lists every
command and option `--help` shows, axe-core finds no accessibility violation on its pages, and
the README stays a short page of links."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoutkit.cli import app

from .browser import DEVICES, WCAG, as_device, axe_violations, chromium, needs_chromium, served
from .conftest import ROOT, made_once

MKDOCS = Path(sys.executable).with_name("mkdocs")


@pytest.fixture(scope="session")
def site(shared: Path) -> Path:
    """The site built once per run, with --strict."""
    if not MKDOCS.exists():
        pytest.fail("mkdocs is not installed: run `make setup-test`")

    def make(out: Path) -> None:
        out.mkdir()
        built = subprocess.run([str(MKDOCS), "build", "--strict", "-q", "-d", str(out)],
                               cwd=ROOT, capture_output=True, text=True, timeout=300,
                               env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1",
                                    "HOME": str(out)})
        assert built.returncode == 0, built.stderr

    return made_once(shared, "docs-site", make)


def _text(page: Path) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text()))


@functools.cache
def _help(*path: str) -> str:
    return CliRunner().invoke(app, [*path, "--help"], terminal_width=200).output


def _listed(*path: str) -> list[str]:
    """The commands a group's --help lists under "Commands:"."""
    lines = _help(*path).splitlines()
    start = lines.index("Commands:") + 1
    names = []
    for line in lines[start:]:
        if not line.strip():
            break
        names.append(line.split()[0])
    return names


def _commands() -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for name in _listed():
        commands.append([name])
        if name == "i18n":
            commands += [[name, sub] for sub in _listed(name)]
    return commands


def test_the_cli_reference_lists_every_command_and_option_help_shows(site: Path) -> None:
    page = _text(site / "reference" / "cli" / "index.html")
    commands = _commands()
    assert len(commands) > 15
    for path in commands:
        assert " ".join(["handout", *path]) in page, path
        help_text = _help(*path)
        for option in set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", help_text)):
            if option != "--help":
                assert option in page, (path, option)


def test_every_page_is_in_the_site_and_the_references_are_generated(site: Path) -> None:
    for page in ("install", "clinics", "translators", "authors", "developers"):
        assert (site / page / "index.html").is_file()
    formats = _text(site / "reference" / "formats" / "index.html")
    for field in ("review_by", "online_url", "help_lines", "require_review", "folder_style"):
        assert field in formats
    api = _text(site / "reference" / "api" / "index.html")
    assert "BuildOptions" in api and "render_pdf" in api and "ReadabilityReport" in api


#: axe-core rules left out on the documentation's pages, each for a fault inside the Material
#: theme that neither its config nor CSS can reach.
THEME_FAULTS = (
    # best-practice: the theme's JavaScript puts each code block's copy button in a
    # `<nav class="md-code__nav">` of its own, made in the browser, so a page with two code
    # blocks has two unnamed navigation landmarks. Only dropping the copy buttons
    # (`content.code.copy`) would avoid it.
    "landmark-unique",
)


@needs_chromium
def test_axe_core_finds_no_violation_on_any_page(site: Path, tmp_path: Path) -> None:
    """Every page on a phone (narrow, touch) and a desktop (wide, a mouse), served over HTTP
    as the site would be (the 404 page's links start at the site's root): the theme and
    extra.css treat a wide code block differently on a device that hovers."""
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    with served(site) as base, chromium(tmp_path / "profile") as driver:
        for device in DEVICES:
            as_device(driver, device)
            for page in pages:
                url = base + page.relative_to(site).as_posix()
                violations = axe_violations(driver, url, [*WCAG, "best-practice"],
                                            disable=THEME_FAULTS)
                assert violations == [], (page.relative_to(site), device.name, violations)


def test_the_readme_is_short_and_links_each_reader_to_their_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 120
    for page in ("install", "clinics", "translators", "authors", "developers"):
        assert f"(docs/{page}.md)" in readme
        assert (ROOT / "docs" / f"{page}.md").is_file()
    assert shutil.which("true")  # the site builds with only PATH's basics (no network)
