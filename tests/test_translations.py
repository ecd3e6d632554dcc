"""Translations: the shipped catalogs, every language's PDF read back, and RTL layout."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pypdfium2
import pytest

from handoutkit import Project, language, make_plan
from handoutkit.catalog import Translator, load_catalog
from handoutkit.content import load_handout
from handoutkit.i18n import status
from handoutkit.messages import text_context
from handoutkit.project import REGIONS_DOMAIN, TEMPLATE_DOMAIN
from handoutkit.translate import catalogs_for, translate
from handoutkit.verify import missing_glyphs

from .conftest import HANDOUT, LANGUAGES, ROOT, pdf_pages, pdf_text, squash


def comparable(text: str) -> str:
    """Text as a PDF's text layer gives it back: without white space (line breaks fall
    anywhere), in compatibility form (Thai SARA AM as NIKHAHIT and SARA AA, an Arabic
    ligature as its letters, as the text layer spells them), and with the marks a shaper
    reorders in one order: a Thai NIKHAHIT before a tone mark, an Arabic tanwin after the alef
    it sits on."""
    kept = unicodedata.normalize("NFKC", squash(text))
    kept = re.sub("([\u0e48-\u0e4b])\u0e4d", "\u0e4d\\1", kept)
    return kept.replace("\u064b\u0627", "\u0627\u064b")


def found_in(expected: str, text: str, lang: str) -> bool:
    """Whether ``expected`` is in the extracted ``text`` (made ``comparable``). Arabic is
    matched word by word: its lines come back right to left, but a phrase broken over two
    lines does not."""
    if lang != "ar":
        return comparable(expected) in text
    return all(comparable(word) in text for word in expected.split())


@pytest.fixture(scope="module")
def all_languages(shipped_build: Path) -> Path:
    return shipped_build


def test_every_language_is_shipped() -> None:
    assert set(LANGUAGES) <= set(Project(ROOT).topic_languages(HANDOUT))


def test_status_reports_complete_catalogs() -> None:
    rows = [row for row in status(Project(ROOT), LANGUAGES)
            if row.domain in (HANDOUT, TEMPLATE_DOMAIN, REGIONS_DOMAIN)]
    assert {row.lang for row in rows} == set(LANGUAGES)
    for row in rows:
        assert row.percent == 100.0 and row.fuzzy == 0 and row.untranslated == 0, row
        assert row.errors == 0


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("level", ["easy", "standard"])
def test_pdf_text_is_in_its_language(all_languages: Path, lang: str, level: str) -> None:
    project = Project(ROOT)
    pdf = all_languages / HANDOUT / lang / f"{HANDOUT}.{lang}.{level}.a4.pdf"
    text = comparable(pdf_text(pdf))
    source = load_handout(project.handout_path(HANDOUT))
    catalog = load_catalog(project.catalog_path(lang, HANDOUT))

    def translated(context: str, value: str | dict[str, str]) -> str:
        ctxt, english = text_context(context, value, level)
        found = catalog.translations[(ctxt, english)]
        assert isinstance(found, str) and found != english
        return found

    assert found_in(translated("title", source.handout.title), text, lang)
    for section in source.handout.sections:
        heading = translated(f"{section.id}.heading", section.heading)
        assert found_in(heading, text, lang), heading
    words = load_catalog(project.catalog_path(lang, TEMPLATE_DOMAIN)).translations
    assert found_in(str(words[("sources", "Sources")]), text, lang)


def test_each_glyph_reads_as_the_character_it_is_drawn_for() -> None:
    """The text layer's rule (textlayer.py), on the cases the shipped PDFs meet."""
    from handoutkit.textlayer import _text_of

    nominal = {1: ("\u0e32",), 2: ("\u0e4d",), 3: ("\ufb01",), 4: ("(",), 5: ("\ufefb",)}
    assert _text_of(1, "\u0e33", nominal) == "\u0e32"  # SARA AA, first drawn in a SARA AM
    assert _text_of(2, "", nominal) == "\u0e4d"  # NIKHAHIT, the SARA AM's other glyph
    assert _text_of(5, "", nominal) == "\u0644\u0627"  # lam-alef, first drawn before a mark
    assert _text_of(3, "fi", nominal) == "fi"  # a ligature keeps its letters
    assert _text_of(4, ")", nominal) == ")"  # "(" drawn mirrored in right-to-left text
    assert _text_of(6, "x", nominal) == "x"  # a glyph no character maps to


def test_arabic_extracts_as_arabic_and_runs_right_to_left(all_languages: Path) -> None:
    pdf = all_languages / HANDOUT / "ar" / f"{HANDOUT}.ar.standard.a4.pdf"
    first_page = pdf_pages(pdf)[0]
    arabic = sum(1 for c in first_page if "\u0600" <= c <= "\u06ff")
    assert arabic > 500
    assert "ما هو الكراتوم؟" in first_page

    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    width, height = page.get_size()
    text_page = page.get_textpage()
    right_half = text_page.get_text_bounded(left=width / 2, bottom=0, right=width, top=height)
    left_edge = text_page.get_text_bounded(left=0, bottom=0, right=width * 0.2, top=height)
    # The heading starts at the right margin; the left edge holds only line ends.
    assert "ما هو الكراتوم" in right_half
    assert "ما هو الكراتوم" not in left_edge
    document.close()


def test_html_lang_and_direction_come_from_babel() -> None:
    assert language("ar").direction == "rtl" and language("ar").html_lang == "ar"
    assert language("zh_Hans").html_lang == "zh-CN"  # not zh-Hans: Pango would pick JP glyphs
    assert language("th").direction == "ltr" and language("th").name == "ไทย"


def test_no_shipped_text_needs_a_missing_glyph() -> None:
    project = Project(ROOT)
    source = load_handout(project.handout_path(HANDOUT))
    for job in make_plan(project, [HANDOUT]):
        printed = translate(source, job, catalogs_for(project, job.lang, [HANDOUT]))
        assert missing_glyphs(printed, printed.language.fonts) == [], str(job)


def test_plural_forms_follow_each_language(tmp_path: Path) -> None:
    """Each catalog's Plural-Forms picks the form CLDR gives (Arabic has six)."""
    project = Project(ROOT)
    arabic = load_catalog(project.catalog_path("ar", TEMPLATE_DOMAIN))
    assert [arabic.plural(n) for n in (0, 1, 2, 3, 11, 100)] == [0, 1, 2, 3, 4, 5]
    spanish = load_catalog(project.catalog_path("es", TEMPLATE_DOMAIN))
    assert spanish.plural(1) != spanish.plural(2)
    # A plural entry prints the form its count needs.
    po = tmp_path / "plural.po"
    header = arabic.catalog.mime_headers
    plural_forms = dict(header)["Plural-Forms"]
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n'
                  f'"Plural-Forms: {plural_forms}\\n"\n\n'
                  'msgctxt "footer"\nmsgid "%(num)d source"\nmsgid_plural "%(num)d sources"\n'
                  + "".join(f'msgstr[{i}] "form {i} %(num)d"\n' for i in range(6)))
    translator = Translator("ar", {"x": load_catalog(po)})
    forms = {n: translator.npgettext("x", "footer", "%(num)d source", "%(num)d sources", n)
             for n in (1, 2, 3, 11, 100)}
    assert forms == {1: "form 1 %(num)d", 2: "form 2 %(num)d", 3: "form 3 %(num)d",
                     11: "form 4 %(num)d", 100: "form 5 %(num)d"}


def test_translated_dates_and_footer(all_languages: Path) -> None:
    pages = pdf_pages(all_languages / HANDOUT / "es" / f"{HANDOUT}.es.standard.a4.pdf")
    reviewed = load_handout(Project(ROOT).handout_path(HANDOUT)).handout.reviewed
    assert "Página 1 de 2" in pages[0] and "Página 2 de 2" in pages[1]
    # The footer gives the dates short, to stay on one line.
    assert language("es").format_date(reviewed, short=True) in pages[0]
    chinese = pdf_text(all_languages / HANDOUT / "zh_Hans" / f"{HANDOUT}.zh_Hans.easy.a4.pdf")
    assert f"{reviewed.year}年{reviewed.month}月{reviewed.day}日" in chinese
    assert "第 1 页，共 2 页" in chinese
    thai = pdf_text(all_languages / HANDOUT / "th" / f"{HANDOUT}.th.easy.a4.pdf")
    assert f"พ.ศ. {reviewed.year + 543}" in thai and str(reviewed.year) not in thai


def test_language_facts_come_from_one_place() -> None:
    assert language("th").italics is False and language("ar").italics is False
    assert language("es").italics is True
    assert language("es").measure == "spanish" and language("vi").measure == "syllables"
    assert language("zh_Hans").measure == "characters"
    # A language with no entry of its own: Latin fonts, the provisional sentence-length measure.
    assert language("pt_BR").measure == "words" and language("pt_BR").html_lang == "pt-BR"
    assert language("vi").format_date(dt.date(2022, 2, 1)) == (
        "ngày 1 tháng 2 năm 2022")


def test_a_character_no_font_draws_fails_the_build(project: Project, tmp_path: Path) -> None:
    from handoutkit import BuildOptions, Job, build_documents

    from .conftest import set_msgstr

    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.heading", "¿Qué es \ue000?")
    report = build_documents(project, [Job(HANDOUT, "es", "easy")], BuildOptions(out_dir=tmp_path))
    [problem] = report.failed[0].problems
    assert "U+E000" in problem and "'what-is-it.heading'" in problem and "language es" in problem
    assert not list(tmp_path.rglob("*.pdf"))
