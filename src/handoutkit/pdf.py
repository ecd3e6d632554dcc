"""Lay out HTML as PDF with WeasyPrint, loading nothing but the project's own assets.

WeasyPrint is imported here only, and this module only when a PDF is made: importing it
costs about a third of a second, which ``handout --help`` and a no-op build should not pay.
What is the same for every document (the font configuration, the theme's parsed stylesheet)
is made once per process; CJK fonts are embedded with the glyphs drawn only (cidfont.py).
"""

from __future__ import annotations

import ctypes.util
import logging
import mimetypes
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .cidfont import compact_cff
from .rendered import FetchLog, PageLayout, RenderedPdf
from .textlayer import give_glyphs_their_text
from .theme import STYLESHEET_NAME, Theme


@contextmanager
def _libraries_loaded_by_soname() -> Iterator[None]:
    """Let WeasyPrint load its C libraries without running a compiler.

    WeasyPrint asks for each library by several names, Windows' and macOS' first; for each name
    that fails, cffi calls ``ctypes.util.find_library``, which on Linux runs ldconfig, gcc and
    ld (Kozea/WeasyPrint#1125): 0.15 s of every process that renders. On Linux that search only
    ever answers a soname, and WeasyPrint's lists name each library's soname too, which the
    dynamic loader finds by itself."""
    if not sys.platform.startswith("linux"):
        yield
        return
    search = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = search


with _libraries_loaded_by_soname():
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

#: ``data:`` URLs are only for small inline images (a logo, the QR code).
MAX_DATA_URL_BYTES = 300 * 1024
PDF_VARIANT = "pdf/ua-1"


def make_fetcher(asset_roots: Sequence[Path], log: FetchLog) -> Any:
    """A WeasyPrint URL fetcher that serves files under ``asset_roots`` and refuses all else.

    The roots are layers, first wins: a relative link resolves in the first root, and a file
    missing there is looked up at the same relative path in the next (a theme override).
    """
    roots = [root.resolve() for root in asset_roots]

    def layered(path: Path) -> Path | None:
        for root in roots:
            if path.is_relative_to(root):
                relative = path.relative_to(root)
                for layer in roots:
                    candidate = (layer / relative).resolve()
                    if candidate.is_relative_to(layer) and candidate.is_file():
                        return candidate
        return None

    class AssetFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "file":
                path = layered(Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
                               .resolve())
                if path is not None:
                    log.served.append(url)
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(),
                                              headers={"Content-Type": kind})
            elif scheme == "data" and len(url) <= MAX_DATA_URL_BYTES:
                log.served.append(url[:60])
                return super().fetch(url, headers)
            log.refused.append(url[:200])
            raise ValueError(f"handoutkit loads only its own assets; refused {url[:200]}")

    return AssetFetcher()


@lru_cache(maxsize=1)
def font_configuration() -> FontConfiguration:
    """One font configuration per process: building it again per PDF costs ~10 ms."""
    return FontConfiguration()


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _weasyprint_messages() -> Iterator[list[tuple[int, str]]]:
    """WeasyPrint's warnings and errors logged inside the block, as (level, message)."""
    collector = _LogCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    messages: list[tuple[int, str]] = []
    try:
        yield messages
    finally:
        logger.removeHandler(collector)
        messages.extend((record.levelno, record.getMessage()) for record in collector.records)


@dataclass(frozen=True)
class _ParsedStylesheet:
    """The theme's stylesheet, parsed, with what parsing it fetched and logged."""

    css: Any
    served: tuple[str, ...]
    refused: tuple[str, ...]
    messages: tuple[tuple[int, str], ...]


def _base_url(asset_roots: Sequence[Path]) -> str:
    return asset_roots[0].resolve().as_uri() + "/"


def _theme_stylesheet(asset_roots: Sequence[Path]) -> _ParsedStylesheet:
    """The stylesheet that wins in ``asset_roots``, parsed once per process and file version:
    parsing it again for every document cost about 4 % of each PDF."""
    path = Theme(tuple(asset_roots)).find(STYLESHEET_NAME)
    stat = path.stat()
    return _parse_stylesheet(tuple(asset_roots), path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parse_stylesheet(asset_roots: tuple[Path, ...], path: Path, mtime_ns: int,
                      size: int) -> _ParsedStylesheet:
    # Fetched as the page's own link would be: by URL, through the fetcher, so that the
    # stylesheet's imports and fonts are held to the theme's folders too.
    log = FetchLog()
    with _weasyprint_messages() as messages:
        css = weasyprint.CSS(url=_base_url(asset_roots) + STYLESHEET_NAME,
                             url_fetcher=make_fetcher(asset_roots, log),
                             font_config=font_configuration())
    return _ParsedStylesheet(css, tuple(log.served), tuple(log.refused), tuple(messages))


def _finish(document: Any, pdf: Any) -> None:
    """WeasyPrint's finisher: the text layer, then the fonts' size."""
    give_glyphs_their_text(document, pdf)
    _compact_cid_fonts(document, pdf)


def _compact_cid_fonts(_document: Any, pdf: Any) -> None:
    """Embed each CID-keyed CFF font with the glyphs drawn only.

    A Chinese page's two Noto Sans CJK faces shrink from about 370 KB to 83 KB (cidfont.py).
    """
    objects = pdf.objects

    def number(reference: bytes) -> int:
        return int(reference.split()[0])

    drawn_by: dict[int, list[Any]] = {}  # font file's object number → the CIDFonts using it
    for obj in objects:
        if isinstance(obj, dict) and obj.get("Subtype") == "/CIDFontType0":  # pydyf's dicts
            font_file = objects[number(obj["FontDescriptor"])].get("FontFile3")
            if font_file:
                drawn_by.setdefault(number(font_file), []).append(obj)
    for file_number, cid_fonts in drawn_by.items():
        stream = objects[file_number]
        # /W gives a width to every CID drawn: [first [w w …] first [w …] …].
        cids = {first + i for font in cid_fonts
                for first, widths in zip(font["W"][::2], font["W"][1::2], strict=True)
                for i in range(len(widths))}
        packed = compact_cff(b"\n".join(stream.stream), cids)
        if packed is not None:
            stream.stream = [packed]
            stream.extra["Subtype"] = "/CIDFontType0C"
            for font in cid_fonts:
                font.pop("CIDToGIDMap", None)  # TrueType CIDFonts only; a CFF one has a charset


#: How far (in CSS px) text may reach past the page's content edges before it counts as
#: running off: a glyph's side bearing, not a word.
_OVERFLOW_SLACK = 1.0


def _beyond(text: Any, left: float, right: float) -> bool:
    """Whether a text box reaches past the content edges ``left`` and ``right``."""
    return bool(text.position_x < left - _OVERFLOW_SLACK
                or text.position_x + text.width > right + _OVERFLOW_SLACK)


def page_layouts(document: Any) -> tuple[PageLayout, ...]:
    """Each page of a rendered WeasyPrint document, as :class:`PageLayout`."""
    layouts = []
    for page in document.pages:
        box = page._page_box
        top, height = box.content_box_y(), box.height
        left, right = box.content_box_x(), box.content_box_x() + box.width
        blocks: dict[str, None] = {}
        footer: dict[int, int] = {}
        spans: dict[int, tuple[str, float, float]] = {}
        overflows: dict[str, None] = {}
        highest = 0.0  # the top of the highest box: below 0 is above the paper
        bottom = top
        for child in box.children:
            in_margin = type(child).__name__ == "MarginBox"
            at_top = in_margin and child.at_keyword.startswith("@top")
            for inner in child.descendants():
                element = getattr(inner, "element", None)
                name = element.get("data-block") if element is not None else None
                kind = type(inner).__name__
                if in_margin:
                    if name == "footer" and kind == "LineBox":
                        footer[id(element)] = footer.get(id(element), 0) + 1
                    elif at_top and (kind == "LineBox" or "Replaced" in kind):
                        highest = min(highest, inner.position_y)
                    elif at_top and kind == "TextBox" and _beyond(inner, left, right):
                        overflows.setdefault(inner.text.strip()[:40])  # the header, too wide
                    continue
                if name:
                    blocks.setdefault(name)
                    if id(element) not in spans and kind == "BlockBox" and height:
                        spans[id(element)] = (name, (inner.position_y - top) / height,
                                              inner.margin_height() / height)
                if kind == "LineBox" or "Replaced" in kind:
                    bottom = max(bottom, inner.position_y + inner.margin_height())
                elif kind == "TextBox" and _beyond(inner, left, right):
                    overflows.setdefault(inner.text.strip()[:40])
        layouts.append(PageLayout(tuple(blocks), min(1.0, (bottom - top) / height) if height
                                  else 1.0, tuple(footer.values()), tuple(spans.values()),
                                  tuple(overflows), -highest * 25.4 / 96))
    return tuple(layouts)


def html_to_pdf(html: str, asset_roots: Sequence[Path]) -> RenderedPdf:
    """Render ``html`` to PDF bytes with the theme's stylesheet; its relative links resolve in
    the layered ``asset_roots`` (the theme's folders, overrides first)."""
    sheet = _theme_stylesheet(asset_roots)
    log = FetchLog(list(sheet.served), list(sheet.refused))
    with _weasyprint_messages() as messages:
        # PDF/UA-1: tagged structure (headings, lists), document language and title, alt
        # text; WeasyPrint logs an ERROR for what the standard requires and is missing.
        # The stylesheet comes in as a user sheet, which the page's inline <style> (paper,
        # fonts, margins) overrides as it did when it came after a <link>.
        document = weasyprint.HTML(
            string=html, base_url=_base_url(asset_roots),
            url_fetcher=make_fetcher(asset_roots, log),
        ).render(stylesheets=[sheet.css], font_config=font_configuration(), pdf_tags=True,
                 pdf_variant=PDF_VARIANT)
        data = document.write_pdf(pdf_tags=True, pdf_variant=PDF_VARIANT,
                                  finisher=_finish)
    logged = [*sheet.messages, *messages]
    return RenderedPdf(data, len(document.pages),
                       tuple(m for level, m in logged if level < logging.ERROR),
                       tuple(m for level, m in logged if level >= logging.ERROR), log,
                       page_layouts(document), embedded_fonts(document))


def embedded_fonts(document: Any) -> tuple[str, ...]:
    """The fonts a written document embeds: what the page was actually set in."""
    names = {font.name.decode("latin-1").lstrip("/").split("+", 1)[-1]
             for font in document.fonts.values()}
    return tuple(sorted(names))
