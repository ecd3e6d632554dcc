"""Render a translated handout to HTML with Jinja2.

Translations are untrusted input: every translated string is HTML-escaped before it reaches
the page, including the template's own words, which Jinja2's i18n extension would otherwise
mark safe. Only our own tokens go into the inline stylesheet: no translated text is ever
placed in CSS (the footer words reach the page margins as running elements).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from . import __version__
from .catalog import Lookup, MessageCatalog, Translator
from .clinic import Clinic
from .errors import InputError
from .languages import PAPERS, text_direction
from .project import TEMPLATE_DOMAIN
from .rendered import TranslationRecord
from .theme import TEMPLATE_NAME, Theme
from .translate import PrintedHandout, Text

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
#: A placeholder and the full stop after it, if any (see ``_filled``).
FILLED = re.compile(r"%\((\w+)\)[sd](\.?)")
#: ``*Mitragyna speciosa*`` in content marks a scientific name, printed in italics.
SCIENTIFIC_NAME = re.compile(r"\*([^*<>\n]+)\*")
#: Where a printed URL may break: after a slash, dot or hyphen, never inside "https".
URL_BREAK = re.compile(r"(?<=[/.\-])(?=[^/.\-])")


@lru_cache(maxsize=4)
def environment(theme: Theme) -> jinja2.Environment:
    """One Jinja2 environment per theme and process: templates compile once, and their
    compiled code is kept between processes (see :func:`_compiled_templates`)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(theme.dirs),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
        bytecode_cache=_compiled_templates(),
    )
    env.filters["last_words_together"] = last_words_together
    env.filters["direction"] = text_direction
    env.globals["fill"] = fill
    return env


#: The last space of a text that has words after it, outside any tag: the one before its last
#: word (and the closing tags after that word).
_LAST_SPACE = re.compile(r" (?=[^ <>]+(?:</[a-z]+>)*$)")


def last_words_together(markup: Markup) -> Markup:
    """A title whose last two words cannot part: no line of it is a lone word ("away",
    "vida" alone under a title, as the printed review found). Text without spaces (Chinese)
    is left as it is; Thai still breaks inside its phrases, between syllables."""
    return Markup(_LAST_SPACE.sub("\u00a0", str(markup), count=1))


@lru_cache(maxsize=1)
def _compiled_templates() -> jinja2.BytecodeCache | None:
    """Jinja2's own cache of compiled templates, in the per-user folder it makes private
    (mode 0700, checked to be the user's own), keyed by each template's file and source:
    compiling the handout's template costs a one-document build or a desk worker about 50 ms.
    ``None`` where that folder cannot be made (compiling each time is only slower)."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


class TemplateWords:
    """The template's gettext functions for one document: escape, then format safely."""

    def __init__(self, translator: Translator):
        self.translator = translator

    def pgettext(self, context: str, msgid: str, **variables: Any) -> Markup:
        translated = self.translator.pgettext(TEMPLATE_DOMAIN, context, msgid)
        return self._format(translated, msgid, context, variables)

    def npgettext(self, context: str, singular: str, plural: str, n: int,
                  **variables: Any) -> Markup:
        translated = self.translator.npgettext(TEMPLATE_DOMAIN, context, singular, plural, n)
        return self._format(translated, singular, context, {"num": n, **variables})

    def gettext(self, msgid: str, **variables: Any) -> Markup:
        return self.pgettext(None, msgid, **variables)  # type: ignore[arg-type]

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> Markup:
        return self.npgettext(None, singular, plural, n, **variables)  # type: ignore[arg-type]

    def _format(self, translated: str, msgid: str, context: str | None,
                variables: dict[str, Any]) -> Markup:
        wanted = set(PLACEHOLDER.findall(msgid))
        if set(PLACEHOLDER.findall(translated)) - wanted:
            path = self.translator.catalogs[TEMPLATE_DOMAIN].path
            raise InputError.at(
                f"translation of {msgid!r} (context {context!r}) uses a placeholder the English "
                "text does not have", path,
                hint=(f"use only {', '.join(sorted(wanted))}" if wanted else
                      "use no placeholders") + "; "
                     "`handout i18n check` lists every such entry with its line")
        escaped = escape(translated)
        if wanted:  # a string with placeholders writes a percent sign %%, as gettext's do
            escaped = Markup(escaped.replace("%%", "%"))
        if not variables:  # placeholders kept for the caller, e.g. page_number_parts
            return escaped
        # Only the named placeholders are replaced: a stray "%" in a translation ("100%")
        # is text, never a format directive (no % or str.format on translated text).
        return fill(escaped, variables)


def _filled(found: re.Match[str], variables: dict[str, Any]) -> str:
    """A placeholder's value, escaped. A value that ends a sentence itself (a Russian or
    Korean date ends in a full stop: "7 дек. 2026 г.") takes the place of the translation's
    full stop after it, which would print as "г..")."""
    if found.group(1) not in variables:
        return found.group(0)
    value = str(escape(variables[found.group(1)]))  # markup of our own is kept as it is
    return value if value.endswith(".") else value + found.group(2)


def fill(label: Markup, values: dict[str, Any]) -> Markup:
    """``label``, an escaped translation with its placeholders kept (``pgettext`` without
    values), with each filled in: text escaped, markup of the template's own (an isolated
    citation, a big number) kept."""
    return Markup(FILLED.sub(lambda found: _filled(found, values), label))


def page_number_parts(label: Markup) -> list[tuple[str, str]]:
    """Split the escaped "Page %(page)s of %(pages)s" into words and counters, in its order.

    The template prints the words and an empty span per counter, whose CSS ``::after``
    draws the number: no translated text ever goes into CSS.
    """
    parts: list[tuple[str, str]] = []
    position = 0
    for match in PLACEHOLDER.finditer(label):
        if match.group(1) in ("page", "pages"):
            parts.append(("text", Markup(label[position:match.start()])))  # escaped already
            parts.append(("counter", match.group(1)))
            position = match.end()
    parts.append(("text", Markup(label[position:])))
    return [part for part in parts if part[1]]


def creation_date(doc: PrintedHandout) -> dt.date:
    """The PDF's creation date: ``SOURCE_DATE_EPOCH`` if set, else the content's review date.

    Never the clock: the same inputs must give the same bytes, so a clinic can prove what it
    printed.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return doc.reviewed


def qr_code_data_url(url: str) -> str:
    """A vector (SVG) QR code for ``url``, inline, so nothing is fetched to draw it."""
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


def gettext_globals(translator: Translator) -> dict[str, Any]:
    """The template's gettext functions, bound to one render's own ``translator``.

    Passed to ``render`` as variables (Jinja2's i18n extension looks them up there first),
    so nothing is installed on the shared, cached environment.
    """
    words = TemplateWords(translator)
    return {"gettext": words.gettext, "ngettext": words.ngettext, "_": words.gettext,
            "pgettext": words.pgettext, "npgettext": words.npgettext}


def print_url(url: str) -> Markup:
    """An escaped URL as a reader types it (no ``https://www.``), that may break only after a
    ``/``, or after a ``.`` or ``-`` in its path, never inside the host name (a reader types
    "poisonsinfo.health.qld.gov.au" whole): a zero-width space there, which is what a
    ``<wbr>`` draws, without the element (a box each to lay out)."""
    shown = url.removeprefix("https://").removeprefix("www.").rstrip("/")
    host, slash, path = shown.partition("/")
    parts = [host + slash, *URL_BREAK.split(path)] if path else [shown]
    return Markup("\u200b").join(escape(part) for part in parts if part)


@dataclass(frozen=True)
class RenderedHtml:
    html: str
    #: The template's own words this render looked up, and what each gave.
    lookups: tuple[Lookup, ...]


@dataclass(frozen=True)
class WebLink:
    """The same document in another language (or this one), for a page's language list."""

    href: str
    name: str
    hreflang: str
    direction: str = "ltr"
    current: bool = False


@dataclass(frozen=True)
class WebDownload:
    href: str
    label: str
    size: str


@dataclass(frozen=True)
class WebPage:
    """What a page of the online version adds to the printed handout: the way from the page
    to the site's root, its languages, and the PDFs the build made of it."""

    root: str
    languages: tuple[WebLink, ...] = ()
    pdfs: tuple[WebDownload, ...] = ()


def web_link(address: str) -> Markup:
    """A URL as a link on a web page (on paper it is printed with break points instead)."""
    return Markup('<a href="{0}">{0}</a>').format(address)


def render_html(doc: PrintedHandout, catalogs: dict[str, MessageCatalog], theme: Theme,
                translation: TranslationRecord, preview: bool = False,
                second: PrintedHandout | None = None, clinic: Clinic | None = None,
                prepared_for: str | None = None,
                emergency_number: str | None = None, compact: bool = False,
                web: WebPage | None = None, header_room: int = 0,
                second_translation: TranslationRecord | None = None,
                second_catalogs: dict[str, MessageCatalog] | None = None) -> RenderedHtml:
    env = environment(theme)
    translator = Translator(doc.language.code, catalogs, source=translation.status == "source")
    # The second language's own words for the page (its draft mark): looked up apart, so
    # they never count in the first language's record.
    second_words = TemplateWords(Translator(second.language.code, second_catalogs or {},
                                            source=second_translation is None or
                                            second_translation.status == "source")) if (
        second is not None) else None

    def text(item: Text) -> Markup:
        escaped = str(escape(item.value))  # a plain str: re.sub on Markup would escape again
        italic = r'<i class="scientific">\1</i>' if doc.language.italics else r"\1"
        value = Markup(SCIENTIFIC_NAME.sub(italic, escaped))
        if preview and item.fallback:
            return Markup('<span class="fallback">{}</span>').format(value)
        return value

    def second_text(item: Text | None) -> Markup:
        """The bilingual print's second language, tagged with its own language and direction."""
        if item is None or second is None:
            return Markup("")
        # A line break, not a block: a block inside a list item breaks PDF/UA's LI structure.
        return Markup('<br><span class="second" lang="{}" dir="{}">{}</span>').format(
            second.language.html_lang, second.language.direction,
            SCIENTIFIC_NAME.sub(r"\1", item.value))

    rtl = doc.language.direction == "rtl"
    template = env.get_template(TEMPLATE_NAME)
    html = template.render(
        doc=doc, text=text, preview=preview, version=__version__, second=second,
        created=creation_date(doc), prepared_for=prepared_for,
        second_text=second_text, clinic=clinic, translation=translation,
        second_translation=second_translation,
        second_pgettext=second_words.pgettext if second_words else None,
        emergency_number=emergency_number, url=web_link if web else print_url,
        compact=compact, web=web, header_room=header_room,
        qr_code=qr_code_data_url(doc.online_url) if doc.online_url else None,
        page_size=PAPERS[doc.job.paper], font_stack=Markup(doc.language.fonts),
        page_number_parts=page_number_parts,
        page_number_box=Markup("@bottom-left" if rtl else "@bottom-right"),
        page_info_box=Markup("@bottom-right" if rtl else "@bottom-left"),
        **gettext_globals(translator),
    )
    return RenderedHtml(html, translator.recorded())
