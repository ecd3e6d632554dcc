"""What making a document gives back: a PDF's bytes, what its pages hold and what it fetched,
and what it printed in its language; and page 1 of a PDF as an image.

Plain data, apart from pdf.py, which loads WeasyPrint: a build reads what its workers send,
a no-op reads its records back from the manifest, and the desk shows a PDF the build made,
without loading the renderer, the catalogs or the content's schemas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FetchLog:
    """Every URL the renderer asked for, and whether it was served."""

    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageLayout:
    """What one page holds, read from the laid-out boxes: the page rules (verify.py) are
    checked on this, before any PDF is written."""

    #: The ``data-block`` names of the template's elements on the page, in order, each once.
    blocks: tuple[str, ...]
    #: The share of the page's content height the flowing text fills (0 to 1).
    filled: float
    #: For each footer part (``data-block="footer"``) in the page's margins, its lines.
    footer_lines: tuple[int, ...]
    #: Each named element's first box on the page: (name, top, height), as shares of the
    #: page's content height.
    spans: tuple[tuple[str, float, float], ...] = ()
    #: The start of each run of text that reaches past the page's margins (a word or an
    #: address longer than the line): it would be cut off at the paper's edge.
    overflows: tuple[str, ...] = ()
    #: How far (mm) the page's header (clinic, draft mark) reaches above the paper: what the
    #: top margin lacks.
    header_overflow: float = 0.0


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    page_count: int
    warnings: tuple[str, ...]
    #: WeasyPrint's ERROR messages, e.g. PDF/UA's "missing lang" or "missing alt": each fails
    #: the document.
    errors: tuple[str, ...]
    #: What the document was made from: the theme's stylesheet (fetched once per process),
    #: then what its page asked for.
    fetches: FetchLog
    #: What each page holds, for the page rules.
    pages: tuple[PageLayout, ...] = ()
    #: The fonts the PDF embeds, by PostScript name (without the subset tag).
    fonts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TranslationRecord:
    """What one document prints in its language: coverage, fallbacks and review state.

    ``status`` is ``source`` (the source language), ``reviewed`` (every printed string is
    translated and covered by a reviewer's sign-off) or ``draft``.
    """

    lang: str
    status: str
    printed: int
    fallbacks: tuple[str, ...]
    #: Translated strings no review covers (new, edited, or never reviewed).
    unreviewed: tuple[str, ...] = ()
    reviewed_by: str | None = None
    reviewed_on: dt.date | None = None

    @property
    def coverage(self) -> float:
        """The share of printed strings with a current translation (1.0 for the source)."""
        if self.status == "source" or not self.printed:
            return 1.0
        return (self.printed - len(self.fallbacks)) / self.printed

    @classmethod
    def from_dict(cls, lang: str, data: dict[str, Any]) -> TranslationRecord:
        """The record as a manifest keeps it."""
        on = data.get("reviewed_on")
        return cls(lang, data["status"], data.get("printed", 0), tuple(data.get("fallbacks", ())),
                   tuple(data.get("unreviewed", ())), data.get("reviewed_by"),
                   dt.date.fromisoformat(on) if on else None)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reviewed_by": self.reviewed_by,
                "reviewed_on": self.reviewed_on.isoformat() if self.reviewed_on else None,
                "coverage": round(self.coverage, 4), "printed": self.printed,
                "fallbacks": list(self.fallbacks), "unreviewed": list(self.unreviewed)}


def first_page_png(pdf: bytes, scale: float = 1.5) -> bytes:
    """Page 1 of a PDF as a PNG image (the desk's and the live preview's picture of a
    document, for browsers that show no PDF)."""
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
