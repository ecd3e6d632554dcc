"""Render a translated handout to HTML with Jinja2.

Translations are untrusted input: every translated string is HTML-escaped before it reaches
the page, including the template's own words, which Jinja2's i18n extension would otherwise
mark safe. Only our own tokens go into the inline stylesheet: no translated text is ever
placed in CSS (the page-number words reach the margin boxes through ``string-set``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from . import __version__
from .catalog import Translator
from .errors import InputError
from .project import TEMPLATE_DOMAIN
from .translate import PrintedHandout, Text

TEMPLATE_NAME = "handout.html.j2"
STYLESHEET_NAME = "handout.css"

PAGE_SIZES = {"a4": "A4", "letter": "Letter"}

#: Font stacks per script. Noto covers every shipped language; naming the script's own
#: family first keeps fontconfig from picking a face with the wrong glyph forms.
FONT_STACKS = {
    "default": '"Noto Sans", "DejaVu Sans", sans-serif',
    "th": '"Noto Sans Thai", "Noto Sans", sans-serif',
    "zh": '"Noto Sans CJK SC", "Noto Sans", sans-serif',
    "ar": '"Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans", sans-serif',
}

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def font_stack(lang: str) -> str:
    return FONT_STACKS.get(lang.split("_")[0], FONT_STACKS["default"])


@lru_cache(maxsize=4)
def environment(templates_dir: Path) -> jinja2.Environment:
    """One Jinja2 environment per templates folder and process: templates compile once."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
    )
    return env


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

    def raw(self, context: str, msgid: str) -> str:
        return self.translator.pgettext(TEMPLATE_DOMAIN, context, msgid)

    def _format(self, translated: str, msgid: str, context: str | None,
                variables: dict[str, Any]) -> Markup:
        wanted = set(PLACEHOLDER.findall(msgid))
        if set(PLACEHOLDER.findall(translated)) - wanted:
            path = self.translator.catalogs[TEMPLATE_DOMAIN].path
            raise InputError.at(
                f"translation of {msgid!r} (context {context!r}) uses a placeholder the English "
                "text does not have", path,
                hint=f"use only {', '.join(sorted(wanted)) or 'no placeholders'}; "
                     "`handout i18n check` lists every such entry with its line")
        return escape(translated) % {k: escape(str(v)) for k, v in variables.items()}


def page_number_parts(label: str) -> tuple[list[str], str]:
    """Split "Page %(page)s of %(pages)s" into its words and the CSS that puts counters between.

    The words go into the HTML (escaped) and reach the margin box through ``string-set``;
    the returned CSS holds only our own tokens, in the translation's order.
    """
    parts: list[str] = []
    css: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(label):
        if match.group(1) not in ("page", "pages") or len(parts) >= 2:
            continue
        parts.append(label[position:match.start()])
        css.append(f"string(page-part-{len(parts) - 1})")
        css.append(f"counter({match.group(1)})")
        position = match.end()
    parts.append(label[position:])
    css.append(f"string(page-part-{len(parts) - 1})")
    # WeasyPrint strips the edges of a string-set value; a zero-width space at each edge
    # keeps the spaces in "Page 1 of 2".
    return [f"\u200b{part}\u200b" if part.strip() else part for part in parts], " ".join(css)


def render_html(doc: PrintedHandout, translator: Translator, templates_dir: Path,
                preview: bool = False) -> str:
    env = environment(templates_dir)
    words = TemplateWords(translator)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        words.gettext, words.ngettext, newstyle=False,
        pgettext=words.pgettext, npgettext=words.npgettext)

    def text(item: Text) -> Markup:
        if preview and item.fallback:
            return Markup('<span class="fallback">{}</span>').format(item.value)
        return escape(item.value)

    parts, counters = page_number_parts(words.raw("footer", "Page %(page)s of %(pages)s"))
    rtl = doc.language.direction == "rtl"
    template = env.get_template(TEMPLATE_NAME)
    return template.render(
        doc=doc, text=text, preview=preview, version=__version__,
        page_size=PAGE_SIZES[doc.job.paper], font_stack=Markup(font_stack(doc.language.code)),
        page_number_parts=parts, page_number_content=Markup(counters),
        page_number_box=Markup("@bottom-left" if rtl else "@bottom-right"),
        page_info_box=Markup("@bottom-right" if rtl else "@bottom-left"),
    )
