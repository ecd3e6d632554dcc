"""The online version (`handout site`): its pages, their links and languages, the same words as
the PDFs, rewriting nothing when nothing changed, the QR code leading to a page, the desk
serving it, and axe-core finding no accessibility violation."""

from __future__ import annotations

import html
import json
import re
import shutil
import unicodedata
from pathlib import Path
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from handoutkit import Project
from handoutkit.cli import app

from .browser import DEVICES, WCAG, as_device, axe_violations, chromium, needs_chromium
from .conftest import HANDOUT, ROOT, pdf_text

runner = CliRunner()
BASE = "https://handouts.example.org/clinic/"
LANGS = ("en", "es", "ar")


def _invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


#: One worker runs the module, so its build is made once.
pytestmark = pytest.mark.xdist_group("site")

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    """The kratom topic's easy documents in three scripts, built with a [site] base_url, and
    their site."""
    root = tmp_path_factory.mktemp("site-project")
    for name in ("handouts", "locales"):
        shutil.copytree(ROOT / name, root / name)
    (root / "handout.toml").write_text(
        f'[plan]\nhandouts = ["{HANDOUT}"]\nlanguages = {json.dumps(list(LANGS))}\n'
        f'levels = ["easy"]\npapers = ["a4", "letter"]\n\n[site]\nbase_url = "{BASE}"\n')
    project = Project(root)
    built = _invoke(project, "build", "-q")
    assert built.exit_code == 0, built.output  # a base_url refuses no document
    made = _invoke(project, "site", "--json")
    assert made.exit_code == 0, made.output
    return project, root / "build" / "site"


def _pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def test_a_page_per_document_each_linking_its_languages_and_pdfs(
        site: tuple[Project, Path]) -> None:
    _, folder = site
    pages = {p.relative_to(folder).as_posix() for p in _pages(folder)}
    assert {f"{lang}/{HANDOUT}/easy.html" for lang in LANGS} <= pages
    assert {"index.html", *(f"{lang}/index.html" for lang in LANGS)} <= pages
    for lang in LANGS:
        text = (folder / lang / HANDOUT / "easy.html").read_text()
        assert re.search(rf'<html lang="{"ar" if lang == "ar" else lang}[^"]*" dir="'
                         rf'{"rtl" if lang == "ar" else "ltr"}"', text), lang
        alternates = re.findall(r'<link rel="alternate" hreflang="([^"]+)"', text)
        assert sorted(alternates) == sorted(["en", "es", "ar"])
        pdfs = re.findall(r'href="([^"]+\.pdf)"', text)
        assert len(pdfs) == 2  # A4 and Letter, copied beside the page
        for pdf in pdfs:
            built = site[0].root / "build" / HANDOUT / lang / pdf
            assert (folder / lang / HANDOUT / pdf).read_bytes() == built.read_bytes()
    assert (folder / "sitemap.xml").read_text().count(BASE) == len(pages)


def test_every_link_resolves_under_any_prefix(site: tuple[Project, Path]) -> None:
    """Relative links only: served under /a/b/ (or from a disk), every one finds its file."""
    _, folder = site
    for page in _pages(folder):
        where = "/a/b/" + page.relative_to(folder).as_posix()
        for link in re.findall(r'(?:href|src)="([^"#]+)', page.read_text()):
            if link.startswith(("http://", "https://", "mailto:", "tel:", "data:")):
                continue
            target = urljoin(where, html.unescape(link))
            assert target.startswith("/a/b/"), (page, link)
            assert (folder / target.removeprefix("/a/b/")).is_file(), (page, link)


def test_pages_say_what_the_pdfs_say(site: tuple[Project, Path]) -> None:
    """Every point of a page is in its PDF: in the same order where the PDF's text reads in
    order; word by word on a right-to-left page, whose text comes out of a PDF less exactly
    (line order, marks, a hamza seat lost in the glyph-to-text map)."""
    project, folder = site

    def squashed(text: str) -> str:
        return re.sub(r"[\s\u00ad-]+", "", text)

    for lang in LANGS:
        page = (folder / lang / HANDOUT / "easy.html").read_text()
        printed = pdf_text(project.root / "build" / HANDOUT / lang /
                           f"{HANDOUT}.{lang}.easy.a4.pdf")
        body = page.split("<main>", 1)[1].split('<section class="downloads"', 1)[0]
        items = [html.unescape(re.sub(r"<[^>]+>", "", item))
                 for item in re.findall(r"<li>(.*?)</li>", body, re.S)]
        assert len(items) > 10
        if lang == "ar":
            def bare(text: str) -> set[str]:  # marks may come out in another order
                return set(re.findall(r"\w+", "".join(
                    c for c in text if unicodedata.category(c) != "Mn")))

            words = bare(printed)
            for item in items:  # a word whose hamza the PDF's text map drops may not match
                assert len(bare(item) & words) >= 0.8 * len(bare(item)), item
            continue
        pdf, at = squashed(printed), 0
        for item in items:  # every point, in the same order
            found = pdf.find(squashed(item), at)
            assert found >= 0, (lang, item)
            at = found


def test_a_second_run_rewrites_nothing_and_two_runs_agree(site: tuple[Project, Path],
                                                          tmp_path: Path) -> None:
    project, folder = site
    again = _invoke(project, "site", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["written"] == []
    other = _invoke(project, "site", "-o", str(tmp_path / "copy"), "--json")
    assert other.exit_code == 0
    ours = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    theirs = {p.relative_to(tmp_path / "copy"): p.read_bytes()
              for p in (tmp_path / "copy").rglob("*") if p.is_file()}
    assert ours == theirs


def test_the_qr_code_leads_to_the_documents_page(site: tuple[Project, Path]) -> None:
    import pypdfium2
    import zxingcpp

    project, folder = site
    pdf = pypdfium2.PdfDocument(
        project.root / "build" / HANDOUT / "es" / f"{HANDOUT}.es.easy.a4.pdf")
    found = []
    for page in pdf:
        found += [code.text for code in zxingcpp.read_barcodes(page.render(scale=3).to_pil())]
    pdf.close()
    assert found == [f"{BASE}es/{HANDOUT}/easy.html"]
    assert (folder / found[0].removeprefix(BASE)).is_file()


def test_the_desk_serves_the_site(site: tuple[Project, Path]) -> None:
    from handoutkit import Limits
    from handoutkit.serve import create_app

    project, _ = site
    desk = create_app(project, limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(desk) as client:
        page = client.get(f"/site/es/{HANDOUT}/easy.html")
        assert page.status_code == 200 and 'lang="es"' in page.text
        assert client.get("/site/").status_code == 200
        assert client.get("/site/../handout.toml").status_code == 404


@needs_chromium
def test_axe_core_finds_no_violation_on_any_page(site: tuple[Project, Path],
                                                 tmp_path: Path) -> None:
    _, folder = site
    with chromium(tmp_path / "profile") as driver:
        for device in DEVICES:
            as_device(driver, device)
            for page in _pages(folder):
                violations = axe_violations(driver, page.as_uri(), [*WCAG, "best-practice"])
                assert violations == [], (page.relative_to(folder), device.name, violations)


def test_the_desk_says_how_to_make_the_site_before_it_is_made(project: Project) -> None:
    from handoutkit import Limits
    from handoutkit.serve import create_app

    desk = create_app(project, limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(desk) as client:
        for path in ("/site/", "/site/index.html", f"/site/es/{HANDOUT}/easy.html"):
            answer = client.get(path)
            assert answer.status_code == 404, (path, answer.text)
            assert "handout site" in answer.json()["detail"]


def test_a_language_too_incomplete_to_publish_is_held_and_never_linked(tmp_path: Path) -> None:
    """As `handout build` holds it (a note, exit 0): a language a translator has just
    started. No page links to the pages it did not publish."""
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    project = tmp_path / "p"
    assert runner.invoke(app, ["i18n", "init", "fr", "-C", str(project)]).exit_code == 0
    made = runner.invoke(app, ["site", "-C", str(project)])
    assert made.exit_code == 0, made.output
    assert "note: hand-washing [fr, easy" in made.stderr and "not published" in made.stderr
    folder = project / "build" / "site"
    pages = list(folder.rglob("*.html"))
    assert pages and not list(folder.glob("fr/**/*.html"))
    for page in pages:
        for target in re.findall(r'href="([^":#?]+)"', page.read_text()):
            assert (page.parent / target).exists(), (page.relative_to(folder), target)


def test_a_page_published_with_stale_facts_or_english_strings_is_warned_of(
        tmp_path: Path) -> None:
    """`handout build` warns of a topic past its review date; `handout site` published the
    same pages without a word."""
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    project = Project(tmp_path / "p")
    topic = project.handouts_dir / "hand-washing" / "handout.yaml"
    text = re.sub(r"(?m)^review_by: .*$", "review_by: 2026-01-01", topic.read_text())
    topic.write_text(re.sub(r"(?m)^reviewed: .*$", "reviewed: 2025-01-01", text))
    made = _invoke(project, "site", "--json")
    assert made.exit_code == 0, made.output
    assert "warning: hand-washing" in made.stderr and "review was due 2026-01-01" in made.stderr
    warned = json.loads(made.stdout)["warned"]
    assert warned and all("stale" in " ".join(w["warnings"]) for w in warned)
