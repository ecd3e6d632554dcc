"""Translate a handout for one document: every printed string through the catalogs.

The result is a plain tree of printed text that the readability scorer and the template both
read, so what is scored is exactly what is printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date

from .catalog import Translator, load_catalog
from .content import HandoutSource, Source, text_context
from .errors import InputError
from .plan import Job
from .project import REGIONS_DOMAIN, SOURCE_LANGUAGE, Project
from .regions import Region, help_line_context, region_context


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
class PrintedHelpLine:
    name: str
    phone: str
    url: str
    hours: Text


@dataclass(frozen=True)
class PrintedRegion:
    code: str
    name: Text
    emergency: str
    help_lines: tuple[PrintedHelpLine, ...]


@dataclass(frozen=True)
class PrintedLegal:
    """A region's legal fact: what it says, how old it is, and where it comes from."""

    status: Text
    as_of: dt.date
    source_title: str
    source_url: str
    checked: dt.date


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
    region: PrintedRegion | None = None
    #: The region's legal fact; ``None`` prints the neutral "the law differs by place" box.
    legal: PrintedLegal | None = None
    online_url: str | None = None

    def format_date(self, date: dt.date) -> str:
        return format_date(date, "long", locale=self.language.locale)

    def body_texts(self) -> list[Text]:
        """The text a reader reads: title, summary, headings and points (not the footer)."""
        texts = [self.title, self.summary]
        for section in self.sections:
            texts.append(section.heading)
            if section.kind == "legal" and self.legal:
                texts.append(self.legal.status)
            else:
                texts.extend(section.points)
        return texts

    def printed_texts(self) -> list[Text]:
        """Every translated string on the page, for the font-coverage check."""
        extra = [self.disclaimer]
        if self.region:
            extra.append(self.region.name)
            extra.extend(line.hours for line in self.region.help_lines)
        return [*self.body_texts(), *extra]


def translator_for(project: Project, lang: str, domains: list[str]) -> Translator:
    if lang == SOURCE_LANGUAGE:
        return Translator(lang, {})
    catalogs = {}
    for domain in domains:
        path = project.catalog_path(lang, domain)
        if path.exists():
            catalogs[domain] = load_catalog(path)
    return Translator(lang, catalogs)


def translate(source: HandoutSource, job: Job, translator: Translator,
              region: Region | None = None, url_template: str | None = None) -> PrintedHandout:
    handout = source.handout
    domain = handout.id

    def text(context: str, value: str | dict[str, str], in_domain: str = domain) -> Text:
        ctxt, english = text_context(context, value, job.level)
        printed = translator.pgettext(in_domain, ctxt, english)
        return Text(printed, ctxt, translator.is_fallback(in_domain, ctxt, english))

    printed_region, legal = None, None
    if region is not None:
        printed_region = PrintedRegion(
            region.code, text(region_context(region.code), region.name, REGIONS_DOMAIN),
            region.emergency,
            tuple(PrintedHelpLine(line.name, line.phone, line.url,
                                  text(help_line_context(line), line.hours, REGIONS_DOMAIN))
                  for line in region.help_lines))
        legal = _legal_fact(source, region, text)
    template = url_template or handout.online_url
    online_url = template.format(handout=handout.id, lang=job.lang, level=job.level) if (
        template) else None

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
        translators=topic_catalog.translators if topic_catalog else None,
        region=printed_region, legal=legal, online_url=online_url)


def _legal_fact(source: HandoutSource, region: Region,
                text: Callable[[str, str | dict[str, str]], Text]) -> PrintedLegal | None:
    facts = source.facts
    fact = facts.facts.facts.get(region.code) if facts else None
    if fact is None:
        if facts is not None and facts.facts.without_facts == "error":
            known = ", ".join(facts.facts.facts) or "none"
            raise InputError.at(
                f"{source.id} has no legal facts for region {region.code!r} (it has: {known})",
                facts.doc.path, hint=f"add facts for {region.code}, or set "
                "`without_facts: neutral` to print the neutral box")
        return None
    return PrintedLegal(text(f"legal.{region.code}.status", fact.status), fact.as_of,
                        fact.source.title, fact.source.url, fact.checked)
