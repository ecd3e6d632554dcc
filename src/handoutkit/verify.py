"""Checks a document must pass before its PDF may be written."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from .fonts import fallback_font, families, installed_font
from .levels import LEVELS
from .rendered import PageLayout, RenderedPdf
from .translate import PrintedHandout


@dataclass(frozen=True)
class MissingGlyph:
    char: str
    context: str

    def __str__(self) -> str:
        name = unicodedata.name(self.char, "unnamed character")
        return f"U+{ord(self.char):04X} {name} ({self.char!r}) in message {self.context!r}"


def missing_glyphs(doc: PrintedHandout, stack: str,
                   extra: tuple[tuple[str, str], ...] = ()) -> list[MissingGlyph]:
    """Characters that no font of ``stack`` draws, nor the installed font the renderer would
    fall back to for them (a Japanese word in an English leaflet): they would print as empty
    boxes. ``extra``: more (text, what it is) printed on the page, such as a name."""
    fonts = [font for family in families(stack) if (font := installed_font(family))]
    missing: dict[str, MissingGlyph] = {}
    for value, context in [*((t.value, t.context) for t in doc.printed_texts()), *extra]:
        for char in value:
            if (char not in missing and unicodedata.category(char) not in ("Zs", "Cc", "Cf")
                    and not any(font.covers(ord(char)) for font in fonts)
                    and fallback_font(ord(char)) is None):
                missing[char] = MissingGlyph(char, context)
    return list(missing.values())


def too_long(doc: PrintedHandout, pdf: RenderedPdf) -> bool:
    """Whether a normal print runs past its level's page limit (large and bilingual prints
    may run longer)."""
    limit = LEVELS[doc.job.level].max_pages
    limited = not doc.job.large_print and not doc.job.also
    return limited and limit is not None and pdf.page_count > limit


#: A page with less than this share filled may not be followed by a section that could have
#: split onto it (a quarter of the page empty, then a whole section on the next).
MIN_FILLED = 0.75
#: What a page holding the leaflet's own text has; a last page without it holds only the
#: closing matter (disclaimer, publisher, sources).
_BODY = ("title", "summary", "section:")


def layout_problems(pdf: RenderedPdf, large_print: bool = False) -> list[str]:
    """The page rules every print keeps, each named: numbered steps on one page; no last page
    of closing matter alone; a splittable section never pushed whole past a page with more
    than a quarter left empty; every footer part on one line; no text past the margins."""
    pages = pdf.pages
    problems = [f"page rule within-margins: on page {number}, {text!r}… runs past the "
                "margin and would be cut off at the paper's edge (a word or address too long "
                "for a line: shorten it, or give it a space or a hyphen to break at)"
                for number, page in enumerate(pages, 1) for text in page.overflows]
    if any(page.header_overflow > 0.5 for page in pages):
        problems.append("page rule within-margins: the header (the clinic's name, address, the "
                        "draft mark) runs above the paper's edge: shorten the clinic's name or "
                        "address")
    steps = dict.fromkeys(b for page in pages for b in page.blocks if b.startswith("steps:"))
    for name in steps:
        on = [number for number, page in enumerate(pages, 1) if name in page.blocks]
        if len(on) > 1:
            problems.append(f"page rule steps-on-one-page: the numbered steps of section "
                            f"{name.split(':', 1)[1]!r} run over pages {on[0]}–{on[-1]}")
    # The closing matter may not start a page of its own; it may run on from a page of text
    # onto the last one (a compact page lets it break, when whole it would not fit beside the
    # text).
    starts = next((n for n, page in enumerate(pages) if "closing" in page.blocks), len(pages) - 1)
    if len(pages) > 1 and not any(b.startswith(_BODY) for b in pages[starts].blocks):
        problems.append(f"page rule no-closing-page: page {starts + 1} holds only the "
                        "disclaimer and sources")
    for number, (page, following) in enumerate(itertools.pairwise(pages), 1):
        opening = following.blocks[:2]
        empty = 1 - page.filled
        if (len(opening) == 2 and opening[1].startswith("opens:")
                and opening[0] == "section:" + opening[1].split(":", 1)[1]
                and empty > 1 - MIN_FILLED and empty > _head_room(following)):
            problems.append(
                f"page rule no-early-break: section {opening[1].split(':', 1)[1]!r} starts on "
                f"page {number + 1} while {empty:.0%} of page {number} is empty")
    # A large print's page number stands on a line of its own, so its footer may wrap.
    if not large_print:
        for number, page in enumerate(pages, 1):
            if any(lines > 1 for lines in page.footer_lines):
                problems.append(f"page rule footer-one-line: the footer wraps on page "
                                f"{number}")
                break
    return problems


def _head_room(page: PageLayout) -> float:
    """What the section opening ``page`` needs on the page before: its heading and its first
    two points (a section splits with two points at least on each page)."""
    needed, items = 0.0, 0
    for name, _, height in page.spans:
        if name.startswith("opens:"):
            needed += height
        elif name == "item" and needed and items < 2:
            needed += height
            items += 1
    return needed


def check_pdf(doc: PrintedHandout, pdf: RenderedPdf, second: PrintedHandout | None = None,
              prepared_for: str | None = None) -> list[str]:
    """Everything wrong with a rendered document, as sentences for the user.

    The level's page limit holds for a normal print; large and bilingual prints may run longer.
    """
    problems: list[str] = []
    if not pdf.data.startswith(b"%PDF-") or not pdf.data.rstrip().endswith(b"%%EOF"):
        problems.append("WeasyPrint did not produce a complete PDF")
    if too_long(doc, pdf):
        level = LEVELS[doc.job.level]
        problems.append(f"{pdf.page_count} pages; the {level.name} level must fit on "
                        f"{level.max_pages} (shorten the text)")
    for printed in filter(None, (doc, second)):
        named = (((prepared_for, "prepared_for"),) if prepared_for and printed is doc else ())
        if missing := missing_glyphs(printed, printed.language.fonts, named):
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            problems.append(
                f"no installed font draws {len(missing)} character(s) of the text in language "
                f"{printed.language.code}: {'; '.join(map(str, missing[:3]))}{more}. They "
                "would print as empty boxes: install a font that draws them (Debian: "
                "fonts-noto-core, fonts-noto-cjk; Fedora: google-noto-sans-*-fonts), or write "
                "them another way")
    problems += layout_problems(pdf, doc.job.large_print)
    for error in pdf.errors:
        if error.startswith("Failed to load image"):  # WeasyPrint's words: not PDF/UA's
            problems.append(f"an image on the page could not be drawn ({error[:200]}): check "
                            "the clinic's logo and the theme's images")
        else:
            problems.append(f"PDF/UA: {error}")
    for url in pdf.fetches.refused:
        problems.append(f"the renderer asked for {url}, which is not a project asset")
    return problems
