"""Lay out HTML as PDF with WeasyPrint, loading nothing but the project's own assets.

WeasyPrint is imported here only, and only when a PDF is made: importing it costs about half
a second, which ``handout --help`` and ``handout list`` should not pay.
"""

from __future__ import annotations

import logging
import mimetypes
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration

#: ``data:`` URLs are only for small inline images (a logo, the QR code).
MAX_DATA_URL_BYTES = 300 * 1024
PDF_VARIANT = "pdf/ua-1"


@dataclass
class FetchLog:
    """Every URL the renderer asked for, and whether it was served."""

    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def make_fetcher(asset_roots: Sequence[Path], log: FetchLog) -> Any:
    """A WeasyPrint URL fetcher that serves files under ``asset_roots`` and refuses all else.

    The roots are layers, first wins: a relative link resolves in the first root, and a file
    missing there is looked up at the same relative path in the next (a theme override).
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

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
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    page_count: int
    warnings: tuple[str, ...]
    #: WeasyPrint's ERROR messages, e.g. PDF/UA's "missing lang" or "missing alt": each fails
    #: the document.
    errors: tuple[str, ...]
    fetches: FetchLog


def html_to_pdf(html: str, asset_roots: Sequence[Path]) -> RenderedPdf:
    """Render ``html`` to PDF bytes; its relative links resolve in the layered ``asset_roots``."""
    import weasyprint

    log = FetchLog()
    collector = _LogCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        # PDF/UA-1: tagged structure (headings, lists), document language and title, alt
        # text; WeasyPrint logs an ERROR for what the standard requires and is missing.
        document = weasyprint.HTML(
            string=html, base_url=asset_roots[0].resolve().as_uri() + "/",
            url_fetcher=make_fetcher(asset_roots, log),
        ).render(font_config=font_configuration(), pdf_tags=True, pdf_variant=PDF_VARIANT)
        data = document.write_pdf(pdf_tags=True, pdf_variant=PDF_VARIANT)
    finally:
        logger.removeHandler(collector)
    messages = [(record.levelno, record.getMessage()) for record in collector.records]
    return RenderedPdf(data, len(document.pages),
                       tuple(m for level, m in messages if level < logging.ERROR),
                       tuple(m for level, m in messages if level >= logging.ERROR), log)
