"""Trust: hostile translations stay text, only project assets load, PDFs are accessible and
reproducible, and a killed build loses nothing."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit import (
    BuildOptions,
    InputError,
    Job,
    Project,
    TranslationRecord,
    build_documents,
    load_clinic,
    make_plan,
)
from handoutkit.pdf import html_to_pdf, make_fetcher
from handoutkit.pipeline import Inputs
from handoutkit.project import TEMPLATE_DOMAIN
from handoutkit.render import render_html
from handoutkit.rendered import FetchLog, RenderedPdf
from handoutkit.theme import BUILTIN_THEME
from handoutkit.verify import check_pdf

from .conftest import LANGUAGES, ROOT, copy_project, own_catalog, set_msgstr, squash

#: What is escaped, refused and tagged does not depend on how long the leaflet is: its `project` is
#: the short copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


HANDOUT = "kratom-chronic-pain"

HOSTILE = {
    "what-is-it.heading": "<script>alert(1)</script>",
    "what-is-it.plant.easy": '<img src="file:///etc/passwd">',
    "how-taken.heading": '<link rel="stylesheet" href="file:///etc/passwd">',
    "how-taken.forms.easy": '<span style="background: url(file:///etc/passwd)">x</span>',
    "chronic-pain.heading.easy": "{{ 7*7 }}",
    "research.heading.easy": '{% include "/etc/passwd" %}',
}


def _render(project: Project, job: Job) -> tuple[str, RenderedPdf]:
    inputs = Inputs(project, [job])
    doc = inputs.printed(job, None)
    record = TranslationRecord(job.lang, "draft", 0, ())
    html = render_html(doc, inputs.catalogs(job.lang, job.handout), project.theme,
                       record).html
    return html, html_to_pdf(html, project.theme.dirs)


# --- untrusted text stays text ----------------------------------------------------------------

def test_hostile_translations_print_literally_and_load_nothing(tmp_path: Path) -> None:
    project = copy_project(tmp_path)  # whole: the hostile strings are in every section
    catalog = project.catalog_path("es", HANDOUT)
    for context, value in HOSTILE.items():
        set_msgstr(catalog, context, value)
    words = own_catalog(project, "es", TEMPLATE_DOMAIN)
    set_msgstr(words, "sources", "<style>@import url(file:///etc/passwd);</style> %(date)s",
               msgid="Sources (accessed %(date)s)")
    html, pdf = _render(project, Job(HANDOUT, "es", "easy"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    text = squash(pdf_text_from_bytes(pdf.data))
    for value in [*HOSTILE.values(), "<style>@import url(file:///etc/passwd);</style>"]:
        assert squash(value) in text, value
    # The fetcher's log: the stylesheet and pictograms, nothing else; nothing outside the
    # project, ever.
    templates = (project.root / "templates").resolve().as_uri()
    assert pdf.fetches.served[0] == f"{templates}/handout.css"
    assert all(url.startswith(f"{templates}/icons/") and url.endswith(".svg")
               for url in pdf.fetches.served[1:])
    assert pdf.fetches.refused == []


def pdf_text_from_bytes(data: bytes) -> str:
    import io

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_hostile_content_string_prints_literally(project: Project) -> None:
    path = project.handout_path(HANDOUT)
    text = path.read_text()
    hostile = "<b onload=x>{{ 7*7 }}</b> url(file:///etc/passwd)"
    path.write_text(text.replace("heading: What is kratom?", f"heading: '{hostile}'"))
    html, pdf = _render(project, Job(HANDOUT, "en", "easy"))
    assert "<b onload" not in html
    assert squash(hostile) in squash(pdf_text_from_bytes(pdf.data))
    assert pdf.fetches.refused == []


# --- the fetcher ------------------------------------------------------------------------------

@pytest.fixture
def fetch(project: Project):  # type: ignore[no-untyped-def]
    log = FetchLog()
    fetcher = make_fetcher(project.theme.dirs, log)
    return fetcher, log, project


def test_fetcher_serves_project_assets(fetch) -> None:  # type: ignore[no-untyped-def]
    fetcher, log, project = fetch
    url = ((project.root / "templates") / "handout.css").resolve().as_uri()
    assert b"@page" in fetcher.fetch(url).read()
    assert log.served == [url]


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "file:///etc/hostname",
    "http://127.0.0.1:9/x.css",
    "https://example.org/x.png",
    "ftp://example.org/x",
])
def test_fetcher_refuses_everything_else(fetch, url: str) -> None:  # type: ignore[no-untyped-def]
    fetcher, log, _ = fetch
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert log.refused == [url] and log.served == []


def test_fetcher_refuses_traversal_out_of_the_project(fetch) -> None:  # type: ignore[no-untyped-def]
    fetcher, log, project = fetch
    sneaky = (project.root / "templates").resolve().as_uri() + "/../../../../etc/passwd"
    with pytest.raises(ValueError):
        fetcher.fetch(sneaky)
    link = (project.root / "templates") / "link.css"
    link.symlink_to("/etc/passwd")
    with pytest.raises(ValueError):
        fetcher.fetch(link.as_uri())
    assert len(log.refused) == 2


def test_the_stylesheet_is_parsed_once_per_process_and_again_when_it_changes(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint

    parsed: list[str] = []
    real_css = weasyprint.CSS

    def counting_css(*args: object, **kwargs: object) -> object:
        if str(kwargs.get("url", "")).endswith("/handout.css"):
            parsed.append(str(kwargs["url"]))
        return real_css(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "CSS", counting_css)
    html, first = _render(project, Job(HANDOUT, "en", "easy"))
    again = html_to_pdf(html, project.theme.dirs)
    assert again.data == first.data and len(parsed) == 1
    assert again.fetches.served == first.fetches.served  # each says what it was made from
    kicker = squash("PATIENT INFORMATION")  # the stylesheet sets it in capitals
    assert kicker in squash(pdf_text_from_bytes(first.data))
    override = project.root / "templates" / "handout.css"
    override.write_text(BUILTIN_THEME.joinpath("handout.css").read_text()
                        + ".kicker { display: none; }\n")
    changed = html_to_pdf(html, project.theme.dirs)
    assert len(parsed) == 2 and kicker not in squash(pdf_text_from_bytes(changed.data))


def test_a_stylesheet_import_from_outside_the_theme_fails_every_document(
        project: Project) -> None:
    override = project.root / "templates" / "handout.css"
    override.write_text('@import url("file:///etc/passwd");\n'
                        + BUILTIN_THEME.joinpath("handout.css").read_text())
    job = Job(HANDOUT, "en", "easy")
    doc = Inputs(project, [job]).printed(job, None)
    for _ in range(2):  # parsed once, refused in each document's record
        _, pdf = _render(project, job)
        assert pdf.fetches.refused == ["file:///etc/passwd"]
        assert any("/etc/passwd" in problem for problem in check_pdf(doc, pdf))


def test_fetcher_limits_data_urls(fetch) -> None:  # type: ignore[no-untyped-def]
    fetcher, log, _ = fetch
    small = "data:text/plain;base64," + base64.b64encode(b"hello").decode()
    assert fetcher.fetch(small).read() == b"hello"
    big = "data:text/plain;base64," + "A" * (400 * 1024)
    with pytest.raises(ValueError):
        fetcher.fetch(big)
    assert len(log.refused) == 1


def test_an_outside_image_fails_the_document(project: Project) -> None:
    html = ('<html lang="en"><head><title>t</title></head><body><p>x</p>'
            '<img src="file:///etc/passwd" alt="x"></body></html>')
    pdf = html_to_pdf(html, project.theme.dirs)
    assert pdf.fetches.refused == ["file:///etc/passwd"]


def test_svg_logo_that_points_outside_fails_the_build(project: Project, tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" '
                    'xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
                    '<image xlink:href="file:///etc/passwd" width="10" height="10"/></svg>')
    profile = tmp_path / "clinic.toml"
    profile.write_text('name = "Evil Clinic"\nlogo = "logo.svg"\n')
    # Refused when the profile is read, before anything renders it...
    with pytest.raises(InputError, match="links an image outside the file"):
        load_clinic(profile)
    # ...and the renderer's fetcher refuses it too, should such a logo reach it.
    from handoutkit import Clinic
    from handoutkit.clinic import ClinicProfile

    data_url = "data:image/svg+xml;base64," + __import__("base64").b64encode(
        logo.read_bytes()).decode()
    clinic = Clinic(ClinicProfile(name="Evil Clinic"), profile, data_url, logo)
    report = build_documents(project, [Job(HANDOUT, "en", "easy")],
                             BuildOptions(out_dir=tmp_path / "out", clinic=clinic))
    assert report.failed
    assert any("file:///etc/passwd" in p for p in report.failed[0].problems)
    assert not (tmp_path / "out" / HANDOUT).exists()


# --- accessible PDFs --------------------------------------------------------------------------

def _structure(pdf: Path) -> dict[str, int]:
    counts: dict[str, int] = {}

    def walk(node: object) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list) or (hasattr(node, "__iter__") and not hasattr(node, "keys")
                                      and not isinstance(node, (str, bytes))):
            for child in node:  # type: ignore[union-attr]
                walk(child)
            return
        if hasattr(node, "keys"):
            kind = node.get("/S")  # type: ignore[union-attr]
            if kind:
                counts[str(kind)] = counts.get(str(kind), 0) + 1
                if kind == "/Figure":
                    assert node.get("/Alt"), "a figure without alt text"  # type: ignore[union-attr]
            if "/K" in node:  # type: ignore[operator]
                walk(node["/K"])  # type: ignore[index]

    walk(PdfReader(pdf).trailer["/Root"]["/StructTreeRoot"])
    return counts


@pytest.mark.parametrize(("lang", "tag"), [("en", "en"), ("ar", "ar"), ("zh_Hans", "zh-CN")])
def test_pdfs_are_tagged_pdf_ua(tmp_path: Path, lang: str, tag: str) -> None:
    project = Project(ROOT)
    clinic = load_clinic(ROOT / "examples" / "clinic" / "clinic.toml")
    report = build_documents(project, [Job(HANDOUT, lang, "standard")],
                             BuildOptions(out_dir=tmp_path, clinic=clinic))
    assert not report.failed, report.failed[0].problems
    pdf = report.results[0].path
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == tag
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title  # type: ignore[union-attr]
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    counts = _structure(pdf)
    assert counts["/H1"] == 1 and counts["/H2"] >= 10
    assert counts["/L"] >= 9 and counts["/LI"] >= 25
    # The QR code and each pictogram are figures with alt text; the clinic header (logo
    # included) repeats on every page, so it is page furniture (an artifact), as PDF/UA wants.
    sections = Inputs(project, [Job(HANDOUT, lang, "standard")]).sources[HANDOUT].handout.sections
    pictograms = sum(1 for s in sections if s.icon or s.kind == "help")
    assert counts["/Figure"] == 1 + pictograms


def test_missing_alt_or_lang_fails_the_document(project: Project) -> None:
    source = Inputs(project, [Job(HANDOUT, "en", "easy")])
    doc = source.printed(Job(HANDOUT, "en", "easy"), None)
    html = '<html><head><title>t</title></head><body><img src="handout.css"></body></html>'
    pdf = html_to_pdf(html, project.theme.dirs)
    problems = check_pdf(doc, pdf)
    assert any(p.startswith("PDF/UA:") and "lang" in p for p in problems)


# --- reproducible PDFs ------------------------------------------------------------------------

def test_two_clean_builds_give_identical_sha256(shipped_build: Path, tmp_path: Path) -> None:
    """The session's shared build is one clean build; this is the other, of a document in
    each script (Latin, Arabic, Thai, Chinese: each has its own font path)."""
    project = Project(ROOT)
    jobs = make_plan(project, [HANDOUT], ["en", "ar", "th", "zh_Hans"], ["standard"], ["a4"])
    build_documents(project, jobs, BuildOptions(out_dir=tmp_path, jobs=2))
    digests = []
    for out in (shipped_build, tmp_path):
        manifest = json.loads((out / "manifest.json").read_text())
        digests.append({e["path"]: e["sha256"] for e in manifest["outputs"]
                        if (tmp_path / e["path"]).exists()})
        for path, digest in digests[-1].items():
            assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest
    assert digests[0] == digests[1] and len(digests[0]) == len(jobs)


def test_source_date_epoch_sets_the_creation_date(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    report = build_documents(Project(ROOT), [Job(HANDOUT, "en", "easy")],
                             BuildOptions(out_dir=tmp_path))
    created = PdfReader(report.results[0].path).metadata.creation_date  # type: ignore[union-attr]
    assert created.date().isoformat() == "2023-11-14"


# --- nothing lost -----------------------------------------------------------------------------

# A build killed at chosen write points: see test_faults.py.


def test_oversized_catalog_is_refused(project: Project) -> None:
    path = project.catalog_path("es", HANDOUT)
    with path.open("ab") as handle:
        handle.truncate(50 * 1024 * 1024)
    from handoutkit.catalog import load_catalog

    with pytest.raises(InputError, match="over the limit"):
        load_catalog(path)
    shutil.rmtree(project.locales_dir / "es")


# Findings of page-validation (an alpha PDF/UA-1 checker) that were judged and accepted:
# for Thai, and for Arabic where a vowel mark meets a ligature (ًا), WeasyPrint writes a
# ToUnicode entry with an empty target (`<02c1> <>`) that the checker calls malformed. It is
# the same WeasyPrint limitation that garbles those words in extracted text (WeasyPrint issue
# 2841); the page prints correctly and handoutkit cannot change the font's ToUnicode map.
UNICODE_MAP = "PDFUA1-FONT-UNICODE-MAPPING-001"
ACCEPTED_FINDINGS = {"th": {UNICODE_MAP}, "ar": {UNICODE_MAP}}
# The checker misreads a CFF glyph's width when its outline starts with hmoveto or vmoveto:
# it takes the font dict's default width and skips the width operand before the operator
# (Type 2 charstrings: the first stack-clearing operator takes the width first). CJK fonts
# are embedded as bare CFF (CIDFontType0C, see cidfont.py), so it reports such a glyph of a
# Chinese page. Each of these findings is judged here: the glyph's program must give the
# width that /W gives (test_layout.py checks every glyph's width too).
GLYPH_WIDTH = "PDFUA1-FONT-GLYPH-WIDTH-001"
MISREAD_WIDTH = re.compile(r"font object (\d+) 0 has rendered CID (\d+) width [\d.]+ in its "
                           r"embedded CIDFontType0C program but ([\d.]+) in /W or /DW")


def _program_width_is(path: Path, finding: str) -> bool:
    """Whether the CFF program of the finding's font gives its CID the width /W gives."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.pens.basePen import NullPen

    match = MISREAD_WIDTH.fullmatch(finding)
    assert match, finding
    font, cid, width = int(match[1]), int(match[2]), float(match[3])
    cid_font = PdfReader(path).get_object(font)["/DescendantFonts"][0].get_object()
    program = cid_font["/FontDescriptor"].get_object()["/FontFile3"].get_object().get_data()
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(program), None)
    glyph = cff[cff.fontNames[0]].CharStrings[f"cid{cid:05d}"]
    glyph.draw(NullPen())
    return bool(glyph.width == width)


def test_pdf_ua_checker_finds_nothing_unexpected(shipped_build: Path, tmp_path: Path) -> None:
    """Every language's standard leaflet (the session's build), and the clinic's logo, large
    print, a region and a second language on top."""
    import page

    project = Project(ROOT)
    clinic = load_clinic(ROOT / "examples" / "clinic" / "clinic.toml")
    jobs = [Job(HANDOUT, "es", "easy", "letter", "US-AL", large_print=True),
            Job(HANDOUT, "zh_Hans", "easy", "a4", None, False, "en"),
            Job(HANDOUT, "ar", "easy", "a4", "AU", False, "en")]
    report = build_documents(project, jobs, BuildOptions(out_dir=tmp_path, clinic=clinic, jobs=2))
    assert not report.failed
    documents = [(r.job.lang, r.path) for r in report.results] + [
        (lang, shipped_build / HANDOUT / lang / f"{HANDOUT}.{lang}.standard.a4.pdf")
        for lang in ["en", *LANGUAGES]]
    for lang, path in documents:
        check = page.validate_pdf(path, profile=page.ValidationProfile.PDF_UA_1)
        found = {failure.rule_id for failure in check.failures if failure.rule_id != GLYPH_WIDTH
                 or not _program_width_is(path, failure.message)}
        assert found <= ACCEPTED_FINDINGS.get(lang, set()), (path.name, found)


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))


@pytest.mark.parametrize(("logo", "named"), [
    ('<svg xmlns="http://www.w3.org/2000/svg"><image width="10" height="10" href="data:image/'
     'png;base64,{png}"/></svg>', "embeds an image of 12,000 × 12,000 pixels"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
     '<defs><g id="a"><rect width="1" height="1"/></g>{uses}</defs><use href="#l9"/></svg>',
     "once its <use> copies are made"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><g id="s"><use href="#s"/></g></svg>',
     "once its <use> copies are made"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><filter id="f"/></svg>', "<filter>"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
     "links an image outside the file"),
])
def test_a_logo_is_limited_by_what_it_draws(tmp_path: Path, logo: str, named: str) -> None:
    import base64

    png = base64.b64encode(_png_header(12000, 12000)).decode()
    uses = "".join(f'<g id="l{n}">' + f'<use href="#{"a" if n == 0 else f"l{n - 1}"}"/>' * 10
                   + "</g>" for n in range(10))
    (tmp_path / "logo.svg").write_text(logo.replace("{png}", png).replace("{uses}", uses))
    profile = tmp_path / "clinic.toml"
    profile.write_text('name = "Clinic"\nlogo = "logo.svg"\n')
    with pytest.raises(InputError) as refused:
        load_clinic(profile)
    assert named in str(refused.value) and "clinic.toml:2" in str(refused.value)


def test_a_theme_file_linked_from_outside_the_project_is_an_input_error(
        project: Project, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handoutkit.cli import app

    outside = tmp_path / "elsewhere.css"
    outside.write_text("p { color: red }")
    (project.root / "templates").mkdir(exist_ok=True)
    (project.root / "templates" / "handout.css").symlink_to(outside)
    result = CliRunner().invoke(app, ["build", HANDOUT, "--lang", "en", "-l", "easy", "-o",
                                      str(tmp_path / "out"), "--project", str(project.root)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "is a link to" in result.stderr and "outside templates/" in result.stderr


def test_an_image_that_cannot_be_drawn_is_named_as_such() -> None:
    failed = RenderedPdf(b"%PDF-1.7\n%%EOF", 1, (), ("Failed to load image at data:x",),
                         FetchLog())
    doc_job = Job(HANDOUT, "en", "easy")
    inputs = Inputs(Project(ROOT), [doc_job])
    problems = check_pdf(inputs.printed(doc_job, None), failed)
    assert any(p.startswith("an image on the page could not be drawn") for p in problems)
    assert not any("PDF/UA: Failed to load image" in p for p in problems)
