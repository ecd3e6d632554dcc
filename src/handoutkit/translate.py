"""Translate a handout for one document: every printed string through the catalogs.

The result is a plain tree of printed text that the readability scorer and the template both
read, so what is scored is exactly what is printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date

from .catalog import Translator, load_catalog
from .content import HandoutSource, Source, text_context
from .errors import InputError
from .plan import Job
from .project import SOURCE_LANGUAGE, Project


@dataclass(frozen=True)
class Language:
    code: str          # our catalog folder name, e.g. ``zh_Hans``
    html_lang: str     # BCP 47 tag for ``<html lang>``, e.g. ``zh-CN``
    direction: str     # ``ltr`` or ``rtl``
    name: str          # the language's name in itself, e.g. "العربية"
    locale: Locale


@cache
def language(code: str) -> Language:
    try:
        locale = Locale.parse(code)
    except (ValueError, LookupError, UnknownLocaleError):
        raise InputError.at(
            f"{code!r} is not a language Babel knows",
            hint="name catalog folders by locale code, such as es, th or zh_Hans") from None
    tag = locale.language
    if locale.script:
        # A bare "zh" or "zh-Hans" makes Pango pick Japanese glyph forms; name the region
        # the script implies (zh_Hans → zh-CN) as browsers and fonts expect.
        subtags = get_global("likely_subtags")
        likely = subtags.get(f"{locale.language}_{locale.script}") or subtags.get(
            locale.language, "")
        territory = likely.rsplit("_", 1)[-1] if likely.count("_") == 2 else None
        tag = f"{tag}-{territory}" if territory else f"{tag}-{locale.script}"
    elif locale.territory:
        tag = f"{tag}-{locale.territory}"
    direction = "rtl" if locale.text_direction == "rtl" else "ltr"
    return Language(code, tag, direction, locale.get_display_name(locale) or code, locale)


@dataclass(frozen=True)
class Text:
    """One printed string, with the id it was translated by."""

    value: str
    context: str
    fallback: bool = False

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PrintedSection:
    id: str
    kind: str
    heading: Text
    points: tuple[Text, ...]


@dataclass(frozen=True)
class PrintedHandout:
    """Everything the template prints, already in the document's language and level."""

    job: Job
    language: Language
    title: Text
    summary: Text
    sections: tuple[PrintedSection, ...]
    disclaimer: Text
    sources: tuple[Source, ...]
    version: str
    publisher: str
    reviewed: dt.date
    review_by: dt.date
    translators: str | None

    def format_date(self, date: dt.date) -> str:
        return format_date(date, "long", locale=self.language.locale)

    def body_texts(self) -> list[Text]:
        """The text a reader reads: title, summary, headings and points (not the footer)."""
        texts = [self.title, self.summary]
        for section in self.sections:
            texts.append(section.heading)
            texts.extend(section.points)
        return texts


def translator_for(project: Project, lang: str, domains: list[str]) -> Translator:
    if lang == SOURCE_LANGUAGE:
        return Translator(lang, {})
    catalogs = {}
    for domain in domains:
        path = project.catalog_path(lang, domain)
        if path.exists():
            catalogs[domain] = load_catalog(path)
    return Translator(lang, catalogs)


def translate(source: HandoutSource, job: Job, translator: Translator) -> PrintedHandout:
    handout = source.handout
    domain = handout.id

    def text(context: str, value: str | dict[str, str]) -> Text:
        ctxt, english = text_context(context, value, job.level)
        printed = translator.pgettext(domain, ctxt, english)
        return Text(printed, ctxt, translator.is_fallback(domain, ctxt, english))

    sections = tuple(
        PrintedSection(
            section.id, section.kind, text(f"{section.id}.heading", section.heading),
            tuple(text(f"{section.id}.{p.id}", p.text) for p in section.points))
        for section in handout.sections)
    topic_catalog = translator.catalogs.get(domain)
    return PrintedHandout(
        job=job, language=language(job.lang),
        title=text("title", handout.title), summary=text("summary", handout.summary),
        sections=sections, disclaimer=text("disclaimer", handout.disclaimer),
        sources=tuple(handout.sources), version=handout.version, publisher=handout.publisher,
        reviewed=handout.reviewed, review_by=handout.review_by,
        translators=topic_catalog.translators if topic_catalog else None)
