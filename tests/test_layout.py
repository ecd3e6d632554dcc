"""The printed page: help box on page 1, pagination that holds, sizes, RTL order, pictograms,
embedded fonts."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from handoutkit import (
    BuildOptions,
    Job,
    Project,
    build_documents,
    default_jobs,
    load_region,
    plan_jobs,
    read_settings,
)
from handoutkit.catalog import load_catalog
from handoutkit.content import load_handout
from handoutkit.project import TEMPLATE_DOMAIN

from .conftest import HANDOUT, LANGUAGES, ROOT, made_once, pdf_pages, squash
from .test_translations import comparable

#: Regional leaflets that exercise each script and paper, with the region's own number.
REGIONAL = [Job(HANDOUT, "ar", "standard", "a4", "AU"), Job(HANDOUT, "th", "easy", "a4", "TH"),
            Job(HANDOUT, "es", "standard", "letter", "US-RI"),
            Job(HANDOUT, "id", "standard", "a4", "ID"), Job(HANDOUT, "ms", "standard", "a4", "MY"),
            Job(HANDOUT, "zh_Hans", "standard", "a4", "MY"),
            Job(HANDOUT, "en", "easy", "a4", "GB", large_print=True),
            Job(HANDOUT, "es", "easy", "letter", "US-LA", also="en")]


@pytest.fixture(scope="session")
def regional(plan_build: Path, shared: Path) -> dict[Job, Path]:
    """Each regional leaflet: from the run's build of the plan where the plan has it, built
    once per run where it does not (large print, a second language)."""
    project = Project(ROOT)
    request = read_settings(project).plan
    assert request is not None
    planned = set(plan_jobs(project, request))
    made = {job: plan_build / str(job.output) for job in REGIONAL if job in planned}
    others = [job for job in REGIONAL if job not in made]

    def make(out: Path) -> None:
        report = build_documents(project, others, BuildOptions(out_dir=out, jobs=default_jobs()))
        assert not report.failed, [(str(r.job), r.problems) for r in report.failed]

    out = made_once(shared, "regional", make)
    return made | {job: out / str(job.output) for job in others}


def _help_heading(lang: str) -> str:
    if lang == "en":
        return "Get help now"
    words = load_catalog(Project(ROOT).catalog_path(lang, HANDOUT)).translations
    return str(words[("get-help.heading", "Get help now")])


def _neutral(shipped_build: Path) -> list[tuple[str, Path]]:
    return [(lang, shipped_build / HANDOUT / lang / f"{HANDOUT}.{lang}.{level}.a4.pdf")
            for lang in ["en", *LANGUAGES] for level in ("easy", "standard")]


def test_get_help_now_is_on_page_1_everywhere(shipped_build: Path,
                                              regional: dict[Job, Path]) -> None:
    documents = _neutral(shipped_build) + [(job.lang, path) for job, path in regional.items()]
    for lang, path in documents:
        first = comparable(pdf_pages(path)[0])
        assert comparable(_help_heading(lang)) in first, path.name
    for job, path in regional.items():
        number = load_region(Project(ROOT).handouts_dir, str(job.region)).emergency
        assert squash(number) in squash(pdf_pages(path)[0]), path.name


def test_a_neutral_leaflet_has_a_line_for_the_local_number(shipped_build: Path) -> None:
    page = pdf_pages(shipped_build / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf")[0]
    assert squash("Your emergency number:") in squash(page)


def test_regional_facts_replace_the_numbers_that_were_wrong(regional: dict[Job, Path]) -> None:
    text = {job.region: squash("".join(pdf_pages(path))) for job, path in regional.items()}
    assert "1386" not in text["TH"] and "1669" in text["TH"]
    assert "15999" not in text["MY"] and "999" in text["MY"]
    assert "119" in text["ID"]
    assert "NHS111111" not in text["GB"]


def test_no_page_holds_a_lone_bullet_or_stays_nearly_empty(shipped_build: Path,
                                                           regional: dict[Job, Path]) -> None:
    documents = [p for _, p in _neutral(shipped_build)] + list(regional.values())
    for path in documents:
        pages = pdf_pages(path)
        running = {line.strip() for line in pages[0].splitlines()}
        for number, page in enumerate(pages[1:], 2):
            # Lines repeated from page 1 are running elements (draft mark, footer, clinic).
            body = [line for line in page.splitlines()
                    if line.strip() and line.strip() not in running]
            assert len(body) >= 5, f"{path.name} page {number}: {body}"


def test_nothing_prints_below_10_pt(shipped_build: Path) -> None:
    for _, path in _neutral(shipped_build):
        document = pypdfium2.PdfDocument(path)
        for page in document:
            text_page = page.get_textpage()
            for index in range(text_page.count_chars()):
                if chr(pdfium_c.FPDFText_GetUnicode(text_page.raw, index)).strip():
                    size = pdfium_c.FPDFText_GetFontSize(text_page.raw, index) * 0.75
                    assert size >= 9.9, f"{path.name}: {size:.1f} pt"
        document.close()


def test_the_arabic_legal_citation_reads_in_logical_order(regional: dict[Job, Path]) -> None:
    path = regional[REGIONAL[0]]
    fact = load_handout(Project(ROOT).handout_path(HANDOUT)).facts.facts.facts["AU"]  # type: ignore[union-attr]
    document = pypdfium2.PdfDocument(path)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    document.close()
    flat = squash(text)
    assert squash(fact.source.title) in flat  # the English title, left to right, in order
    shown = fact.source.url.removeprefix("https://").removeprefix("www.").rstrip("/")
    assert squash(shown) in flat  # printed as a reader types it


def test_urls_break_only_at_slashes_dots_and_hyphens(shipped_build: Path) -> None:
    for _, path in _neutral(shipped_build):
        for page in pdf_pages(path):
            for line in page.splitlines():
                assert not line.rstrip().endswith(("htt", "http", "https", "https:")), line


def test_pictograms_have_translated_alt_text(shipped_build: Path) -> None:
    from handoutkit.pipeline import Inputs, _translated_html

    project = Project(ROOT)
    job = Job(HANDOUT, "es", "easy")
    inputs = Inputs(project, [job])
    html, _ = _translated_html(inputs, inputs.printed(job, None), BuildOptions(out_dir=ROOT),
                               None, None, None, None)
    words = load_catalog(project.catalog_path("es", TEMPLATE_DOMAIN)).translations
    alts = [str(value) for (context, _), value in words.items() if context == "icon"]
    assert alts and all(f'alt="{alt}"' in html.html for alt in alts[:1])
    assert 'src="icons/emergency.svg"' in html.html


def test_scientific_names_are_italic_only_where_the_script_has_italics() -> None:
    from handoutkit.pipeline import Inputs, _translated_html

    project = Project(ROOT)
    for lang, italic in (("en", True), ("es", True), ("ar", False), ("th", False)):
        job = Job(HANDOUT, lang, "standard")
        inputs = Inputs(project, [job])
        html, _ = _translated_html(inputs, inputs.printed(job, None),
                                   BuildOptions(out_dir=ROOT), None, None, None, None)
        assert ('class="scientific"' in html.html) == italic, lang
        assert "*Mitragyna" not in html.html


def test_standard_documents_fit_two_pages(shipped_build: Path, regional: dict[Job, Path]) -> None:
    for job, path in regional.items():
        if job.level == "standard" and not job.large_print and not job.also:
            assert len(PdfReader(path).pages) <= 2, path.name


def test_a_clinic_gives_the_number_on_leaflets_with_no_region(tmp_path: Path) -> None:
    from handoutkit import load_clinic

    clinic = load_clinic(ROOT / "examples" / "clinic" / "clinic.toml")
    assert clinic.profile.emergency == "911"
    report = build_documents(Project(ROOT), [Job(HANDOUT, "en", "easy")],
                             BuildOptions(out_dir=tmp_path, clinic=clinic))
    first = squash(pdf_pages(report.results[0].path)[0])
    assert "911" in first and squash("Your emergency number:") not in first


def test_english_sources_on_an_arabic_page_read_left_to_right(shipped_build: Path) -> None:
    """Each source starts at the list's left edge and its address follows its title, as in
    English; laid out right to left, the address came first and the periods moved."""
    path = shipped_build / HANDOUT / "ar" / f"{HANDOUT}.ar.standard.a4.pdf"
    sources = load_handout(Project(ROOT).handout_path(HANDOUT)).handout.sources
    document = pypdfium2.PdfDocument(path)
    text = document[len(document) - 1].get_textpage()

    def boxes(needle: str) -> list[tuple[float, float, float, float]]:
        search, found = text.search(needle, match_case=True), []
        while hit := search.get_next():
            found.append(text.get_charbox(hit[0]))
        return found

    starts = sorted({box for source in sources for box in boxes(source.publisher[:12])},
                    key=lambda box: -box[3])
    addresses = [boxes(source.url.removeprefix("https://").removeprefix("www.")[:12])[0]
                 for source in sources]
    document.close()
    assert len(starts) == len(sources)
    assert max(box[0] for box in starts) - min(box[0] for box in starts) < 1  # one left edge
    for start, address in zip(starts, addresses, strict=True):
        same_line = abs(address[3] - start[3]) < 2
        assert address[0] > start[0] if same_line else address[3] < start[1]


def _cid_fonts(path: Path) -> list[tuple[str, dict[int, float], Any]]:
    """Each CFF font of a PDF: its name, the width /W gives each CID drawn, its program."""
    fonts = []
    for font in {ref.idnum: ref.get_object() for page in PdfReader(path).pages
                 for ref in page["/Resources"]["/Font"].values()}.values():
        cid_font = font["/DescendantFonts"][0].get_object()
        program = cid_font["/FontDescriptor"].get_object().get("/FontFile3")
        if program is None:
            continue
        widths, drawn = cid_font["/W"], {}
        for first, run in zip(widths[::2], widths[1::2], strict=True):
            drawn.update({first + i: float(width) for i, width in enumerate(run)})
        fonts.append((str(font["/BaseFont"]), drawn, program.get_object()))
    return fonts


def test_a_chinese_leaflet_embeds_each_glyph_it_draws_and_no_empty_slots(
        shipped_build: Path) -> None:
    path = shipped_build / HANDOUT / "zh_Hans" / f"{HANDOUT}.zh_Hans.standard.a4.pdf"
    assert path.stat().st_size < 380_000  # 395 KB when each face kept 63,000 glyph slots
    fonts = _cid_fonts(path)
    assert {name.split("+")[1] for name, _, _ in fonts} == {
        "Noto-Sans-CJK-SC", "Noto-Sans-CJK-SC-Bold"}  # no third face, no synthetic oblique
    for name, drawn, program in fonts:
        assert program["/Subtype"] == "/CIDFontType0C"
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(program.get_data()), None)
        embedded = cff[cff.fontNames[0]]
        assert set(embedded.charset) == {".notdef"} | {f"cid{cid:05d}" for cid in drawn if cid}
        # Each CID draws the installed font's own glyph of that id, as wide as /W says.
        style = "Bold" if name.endswith("-Bold") else "Regular"
        file, index = subprocess.run(
            ["fc-match", "--format=%{file}\n%{index}", f"Noto Sans CJK SC:style={style}"],
            capture_output=True, text=True, check=True).stdout.split("\n")
        installed = TTFont(file, fontNumber=int(index), lazy=True)
        glyphs, order = installed.getGlyphSet(), installed.getGlyphOrder()
        for cid, width in drawn.items():
            ours, theirs = RecordingPen(), RecordingPen()
            glyph = embedded.CharStrings[f"cid{cid:05d}" if cid else ".notdef"]
            glyph.draw(ours)
            glyphs[order[cid]].draw(theirs)
            assert ours.value == theirs.value and glyph.width == width, (name, cid)
