"""Translate a handout for one document: every printed string through the catalogs.

The result is a plain tree of printed text that the readability scorer and the template both
read, so what is scored is exactly what is printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from .catalog import Lookup, MessageCatalog, Translator, load_catalog
from .content import HandoutSource, Source
from .errors import InputError
from .languages import Language, language
from .messages import text_context
from .plan import Job, site_page
from .project import REGIONS_DOMAIN, SOURCE_LANGUAGE, Project
from .regions import Region, help_line_context, region_context
from .urls import fill_url


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
    #: The pictogram beside the heading, if the content names one.
    icon: str | None = None
    #: For each point, whether it is an action to take while help comes (help boxes only).
    actions: tuple[bool, ...] = ()

    def help_items(self, actions: bool) -> tuple[tuple[int, Text], ...]:
        """A help box's danger signs (or, with ``actions``, what to do while help comes),
        each with its index among the points: the lead line is neither."""
        flags = self.actions or (False,) * len(self.points)
        return tuple((index, point) for index, point in enumerate(self.points)
                     if index and flags[index] == actions)


@dataclass(frozen=True)
class PrintedHelpLine:
    name: Text
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
    #: The law's section, where the source names one.
    source_section: str | None = None


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
    #: Who publishes the leaflet (the topic's, else the project's), or ``None``.
    publisher: str | None
    reviewed: dt.date
    review_by: dt.date
    #: Every string of the content looked up in the catalogs, and what each gave.
    lookups: tuple[Lookup, ...]
    region: PrintedRegion | None = None
    #: The region's legal fact; ``None`` prints the neutral "the law differs by place" box.
    legal: PrintedLegal | None = None
    online_url: str | None = None

    def format_date(self, date: dt.date, short: bool = False) -> str:
        return self.language.format_date(date, short)

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
            for line in self.region.help_lines:
                extra += [line.name, line.hours]
        return [*self.body_texts(), *extra]


def catalogs_for(project: Project, lang: str, domains: list[str]) -> dict[str, MessageCatalog]:
    """The catalogs ``lang`` has for ``domains`` (none for the source language)."""
    if lang == SOURCE_LANGUAGE:
        return {}
    paths = {domain: project.catalog_path(lang, domain) for domain in domains}
    return {domain: load_catalog(path) for domain, path in paths.items() if path.exists()}


def translate(source: HandoutSource, job: Job, catalogs: dict[str, MessageCatalog],
              region: Region | None = None, url_template: str | None = None,
              publisher: str | None = None, site_base: str | None = None) -> PrintedHandout:
    """The handout's printed text in ``job``'s language and level, with every lookup made.
    Its online URL (for the QR code): a clinic's template, else the topic's, else its page
    in the project's site when the site has a ``base_url``."""
    handout = source.handout
    domain = handout.id
    translator = Translator(job.lang, catalogs, source=job.lang == SOURCE_LANGUAGE)

    def text(context: str, value: str | dict[str, str], in_domain: str = domain) -> Text:
        ctxt, english = text_context(context, value, job.level)
        printed = translator.pgettext(in_domain, ctxt, english)
        return Text(printed, ctxt, translator.is_fallback(in_domain, ctxt, english))

    printed_region, legal = None, None
    if region is not None:
        printed_region = PrintedRegion(
            region.code, text(region_context(region.code), region.name, REGIONS_DOMAIN),
            region.emergency,
            tuple(PrintedHelpLine(
                text(help_line_context(line, "name"), line.name, REGIONS_DOMAIN),
                line.phone, line.url,
                text(help_line_context(line, "hours"), line.hours, REGIONS_DOMAIN))
                for line in region.help_lines_for(job.lang)))
        legal = _legal_fact(source, region, text)
    template = url_template or handout.online_url
    online_url = fill_url(template, handout=handout.id, lang=job.lang, level=job.level,
                          region=job.region or "") if template else (
        site_base + site_page(job) if site_base else None)

    sections = tuple(
        PrintedSection(
            section.id, section.kind, text(f"{section.id}.heading", section.heading),
            tuple(text(f"{section.id}.{p.id}", p.text) for p in section.points), section.icon,
            tuple(p.action for p in section.points))
        for section in handout.sections)
    title, summary = text("title", handout.title), text("summary", handout.summary)
    disclaimer = text("disclaimer", handout.disclaimer)
    return PrintedHandout(
        job=job, language=language(job.lang), title=title, summary=summary,
        sections=sections, disclaimer=disclaimer,
        sources=tuple(handout.sources), version=handout.version,
        publisher=handout.publisher or publisher,
        reviewed=handout.reviewed, review_by=handout.review_by,
        lookups=translator.recorded(), region=printed_region, legal=legal,
        online_url=online_url)


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
                        fact.source.title, fact.source.url, fact.checked, fact.source.section)
