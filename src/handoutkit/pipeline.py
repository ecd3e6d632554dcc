"""One document through the pipeline: translate → score → render HTML → PDF → verify.

``render_document`` writes nothing and returns an immutable :class:`DocumentResult` with the
verified PDF, or the reasons it was refused, all at once. ``builder.py`` decides which
documents to make and writes them; the print desk renders through :func:`render_pdf`.
The renderer's modules (translation, Jinja2, WeasyPrint's, the checks), the catalogs and the
content's schemas are imported where they are used: a build whose documents are all up to
date loads none of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import HandoutkitError, InputError, UnknownReference
from .glossary import GLOSSARY_FILE, load_glossary
from .plan import PLAN_FILE, Job, Policy, Shard, read_settings
from .project import REGIONS_DOMAIN, SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .regions import (
    FACTS_FILE,
    Region,
    StaleItem,
    lineage,
    load_region,
    profile_path,
    stale_items,
)
from .rendered import TranslationRecord
from .theme import STYLESHEET_NAME, TEMPLATE_NAME

if TYPE_CHECKING:
    from .catalog import MessageCatalog
    from .clinic import Clinic
    from .readability import ReadabilityReport
    from .render import RenderedHtml, WebPage
    from .rendered import RenderedPdf
    from .translate import PrintedHandout

DOMAINS = [TEMPLATE_DOMAIN, REGIONS_DOMAIN]
#: What a render imports on first use (late, so `--help` and a no-op never load it): a
#: process that will render imports these ahead, as the desk's workers do.
RENDER_MODULES = ("handoutkit.pdf", "handoutkit.render", "handoutkit.translate",
                  "handoutkit.verify", "handoutkit.literacy")


@dataclass(frozen=True)
class BuildOptions:
    """How to build: where to, under which release policy (``under`` reads the project's),
    for which clinic, with how many workers."""

    out_dir: Path
    #: Fail a document that would print a string in English for want of a translation, or a
    #: regional fact or help line past its review date.
    strict: bool = False
    #: Write a document even when its text is too hard for its level (recorded in the manifest).
    allow_hard: bool = False
    #: Refuse draft translations (a clinic that prints reviewed translations only).
    require_review: bool = False
    #: A translated document below this share of translated strings is not built.
    min_coverage: float = 0.9
    clinic: Clinic | None = None
    #: The date stale facts are judged against; the clock's date unless a test fixes it.
    today: dt.date = field(default_factory=dt.date.today)
    #: Worker processes; 1 builds in this process.
    jobs: int = 1
    #: Rebuild every document, even those whose inputs have not changed.
    force: bool = False
    #: Stop at the first failed document instead of building the others.
    fail_fast: bool = False
    #: Seconds to wait for another build into the same folder to finish.
    lock_timeout: float = 600.0
    #: Build only this share of the documents asked, into its own manifest part.
    shard: Shard | None = None

    @classmethod
    def under(cls, policy: Policy, **options: Any) -> BuildOptions:
        """Options that apply ``policy`` (the project's ``[build]`` table with any command-line
        flags over it): the CLI, the desk, the preview and the API refuse alike."""
        return cls(strict=policy.strict, allow_hard=policy.allow_hard,
                   require_review=policy.require_review, min_coverage=policy.min_coverage,
                   **options)

    def gate(self) -> tuple[object, ...]:
        """The options that decide whether a document may be written: part of its key."""
        return (self.strict, self.allow_hard, self.require_review, self.min_coverage)


@dataclass(frozen=True)
class DocumentResult:
    """What became of one document: an immutable value the orchestrator only replaces."""

    job: Job
    path: Path
    ok: bool
    #: ``built``, ``skipped`` (up to date), ``failed``, ``invalid`` (an input it is made
    #: from is malformed), ``incomplete`` (too little of it is translated to build) or
    #: ``not built`` (after --fail-fast).
    status: str = "failed"
    pages: int = 0
    sha256: str = ""
    fallbacks: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    readability: ReadabilityReport | None = None
    translation: TranslationRecord | None = None

    @property
    def english_strings(self) -> str | None:
        """The warning for the strings it prints in English for want of a translation, as
        `handout build` and `handout site` give it."""
        return (f"{len(self.fallbacks)} string(s) not translated, printed in English: "
                f"{', '.join(self.fallbacks)}") if self.fallbacks else None


class Inputs:
    """What the build reads, loaded and checked once, and shared by its documents."""

    def __init__(self, project: Project, jobs: list[Job]):
        from .content import load_each

        self.project = project
        topics = sorted({job.handout for job in jobs})
        self.sources, broken = load_each(project, topics)
        #: What is wrong with an input, by what depends on it: a topic (``handout``), a region
        #: (``region:CODE``) or a language's catalogs of a topic (``LANG:handout``). A fault
        #: fails only the documents made from that input.
        self.broken: dict[str, InputError] = dict(broken)
        self.regions: dict[str, Region] = {}
        for code in sorted({job.region for job in jobs if job.region}):
            try:
                self.regions[code] = load_region(project.handouts_dir, code)
            except InputError as exc:
                self.broken[f"region:{code}"] = exc
        self._printed: dict[tuple[Job, str | None], PrintedHandout] = {}
        self._files: dict[Path | None, InputFiles] = {}
        settings = read_settings(project)
        self.publisher = settings.project.publisher
        self.site_base = settings.site.base
        # Its stigma and jargon rows hold every document's text: a bad row stops the build.
        self.glossary = load_glossary(project.locales_dir / GLOSSARY_FILE)

        for name in (TEMPLATE_NAME, STYLESHEET_NAME):
            project.theme.find(name)  # a missing template is an input error, named now
        # Parse every catalog now: a broken .po fails its documents before any is written.
        for lang in sorted({lang for job in jobs for lang in (job.lang, job.also) if lang}):
            for handout in topics:
                try:
                    self.catalogs(lang, handout)
                except InputError as exc:
                    self.broken[f"{lang}:{handout}"] = exc

    def problem(self, job: Job) -> InputError | None:
        """What is wrong with the inputs ``job`` is made from (``None``: nothing)."""
        keys = [job.handout, f"region:{job.region}",
                *(f"{lang}:{job.handout}" for lang in (job.lang, job.also) if lang)]
        errors = [self.broken[key] for key in keys if key in self.broken]
        if not errors:
            return None
        kind = UnknownReference if all(isinstance(e, UnknownReference) for e in errors) else (
            InputError)
        return kind(list(dict.fromkeys(p for error in errors for p in error.problems)))

    def require(self, job: Job) -> None:
        """Raise the input error of ``job``'s inputs, if any."""
        error = self.problem(job)
        if error is not None:
            raise error

    def region(self, job: Job) -> Region | None:
        return self.regions[job.region] if job.region else None

    def catalogs(self, lang: str, handout: str) -> dict[str, MessageCatalog]:
        """``lang``'s catalogs for a document of ``handout`` (parsed once per process)."""
        from .translate import catalogs_for

        return catalogs_for(self.project, lang, [handout, *DOMAINS])

    def printed(self, job: Job, url_template: str | None) -> PrintedHandout:
        from .translate import translate

        key = (job, url_template)
        if key not in self._printed:
            self._printed[key] = translate(self.sources[job.handout], job,
                                           self.catalogs(job.lang, job.handout),
                                           self.region(job), url_template, self.publisher,
                                           self.site_base)
        return self._printed[key]

    def stale(self, job: Job, today: dt.date) -> list[StaleItem]:
        """What the document prints past its review date: the topic's medical review, and a
        region's facts and help lines (a region-less leaflet prints none of those)."""
        source = self.sources[job.handout]
        items = source.stale(today)
        if not job.region:
            return items
        return items + stale_items(self.region(job), source.facts, today)

    def files(self, job: Job, clinic: Clinic | None) -> list[Path]:
        """The files a document is made from (its catalogs' entries are hashed separately)."""
        key = clinic.path if clinic else None
        if key not in self._files:
            self._files[key] = InputFiles(self.project, clinic)
        return self._files[key].of(job)


class InputFiles:
    """The files documents are made from, found by name alone: an incremental build checks
    them before it parses anything. They come in parts that many documents share (a topic's,
    a language's catalogs of a topic, a region's, the theme's, the clinic's), each found once.
    """

    def __init__(self, project: Project, clinic: Clinic | None):
        self.project = project
        # What the page reads of the theme (not the desk's or the preview's pages; its own
        # catalogs count as the catalogs of the languages that read them).
        self.theme = project.theme.page_files()
        self.clinic = _existing([clinic.path, clinic.logo_path] if clinic else [])
        # The glossary's words to avoid decide whether a document passes its gate; the
        # plan file's [site] base_url, where its QR code points.
        self.glossary = _existing([project.locales_dir / GLOSSARY_FILE,
                                   project.root / PLAN_FILE])
        self._found: dict[tuple[str, ...], tuple[Path, ...]] = {}

    def parts(self, job: Job) -> list[tuple[Path, ...]]:
        parts = [self._part("topic", job.handout)]
        parts += [self._part("catalogs", lang, job.handout)
                  for lang in filter(None, (job.lang, job.also))]
        if job.region:
            parts.append(self._part("region", job.region))
        return [*parts, self.theme, self.clinic, self.glossary]

    def of(self, job: Job) -> list[Path]:
        return [path for part in self.parts(job) for path in part]

    def _part(self, *key: str) -> tuple[Path, ...]:
        if key not in self._found:
            self._found[key] = _existing(self._names(*key))
        return self._found[key]

    def _names(self, kind: str, *names: str) -> list[Path]:
        project = self.project
        if kind == "topic":
            [handout] = names
            return [project.handout_path(handout), project.handouts_dir / handout / FACTS_FILE]
        if kind == "catalogs":
            lang, handout = names
            return [project.catalog_path(lang, domain) for domain in (handout, *DOMAINS)]
        [region] = names
        return [profile_path(project.handouts_dir, code) for code in lineage(region)]


def _existing(paths: Iterable[Path | None]) -> tuple[Path, ...]:
    return tuple(path for path in paths if path is not None and path.exists())


def check_readability(project: Project, jobs: list[Job]) -> list[ReadabilityReport]:
    """Score each document's printed text without rendering it (``handout check``)."""
    from .literacy import score_document

    inputs = Inputs(project, jobs)
    for job in jobs:
        inputs.require(job)
    return [score_document(inputs.printed(job, None), inputs.glossary) for job in jobs]


class DocumentRefused(HandoutkitError):
    """A document failed a check (too hard to read, too long, a draft where review is
    required…): not bad input, so the desk answers it apart from a wrong choice (409).

    It carries its reasons as plain strings, so it crosses a process boundary intact.
    """

    def __init__(self, problems: Iterable[str], result: DocumentResult | None = None):
        self.problems = tuple(problems)
        self.result = result
        super().__init__("; ".join(self.problems))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.problems, self.result))


def render_pdf(project: Project, job: Job, clinic: Clinic | None = None,
               prepared_for: str | None = None,
               options: BuildOptions | None = None) -> tuple[bytes, DocumentResult]:
    """One document as PDF bytes, written nowhere (the print desk's renderer).

    Without ``options``, the project's own policy decides (``[build]`` in handout.toml), as
    for ``handout build``; ``clinic``, when given, is printed whatever ``options`` say.
    Raises :class:`DocumentRefused` when a check fails, :class:`InputError` on bad input.
    """
    if options is None:
        options = BuildOptions.under(read_settings(project).policy,
                                     out_dir=project.root / "build")
    if clinic is not None:
        options = replace(options, clinic=clinic)
    result, pdf = render_document(Inputs(project, [job]), job, options, prepared_for)
    if pdf is None:
        raise DocumentRefused(result.problems, result)
    return pdf.data, replace(result, ok=True, status="built", pages=pdf.page_count,
                             sha256=hashlib.sha256(pdf.data).hexdigest())


@dataclass(frozen=True)
class _Prepared:
    """A document up to its HTML: what the PDF is made from, once no gate refuses it."""

    printed: PrintedHandout
    second: PrintedHandout | None
    #: What the second language prints: its coverage and review state (the draft mark).
    also: TranslationRecord | None
    emergency: str | None
    html: RenderedHtml


def assess(inputs: Inputs, job: Job, options: BuildOptions) -> DocumentResult:
    """What the gates say of a document before any PDF is made: its translation record,
    readability and every reason to refuse it that needs no layout (``problems``). The desk
    answers a refused document from this, without a worker."""
    return _prepare(inputs, job, options, None)[0]


def render_web_page(inputs: Inputs, job: Job, options: BuildOptions, web: WebPage
                    ) -> tuple[DocumentResult, str | None]:
    """The document's page of the online version, through the same gates as its PDF: the
    same printed text and template, laid out for a screen (``None`` when refused)."""
    result, prepared = _prepare(inputs, job, options, None, web)
    return result, prepared.html.html if prepared else None


def _prepare(inputs: Inputs, job: Job, options: BuildOptions, prepared_for: str | None,
             web: WebPage | None = None) -> tuple[DocumentResult, _Prepared | None]:
    from .literacy import score_document

    inputs.require(job)
    clinic = options.clinic
    url_template = clinic.profile.handout_url if clinic else None
    target = options.out_dir / str(job.output)
    printed = inputs.printed(job, url_template)
    second = inputs.printed(replace(job, lang=job.also, also=None), url_template) if (
        job.also) else None
    region = inputs.region(job)
    emergency = region.emergency if region else (clinic.profile.emergency if clinic else None)
    # The second language of a bilingual print is held to the same policy as the first:
    # its coverage, its review, and (in the template) the draft mark.
    also = _second_record(inputs, job, second)
    html, record = _translated_html(inputs, printed, options, second, also, prepared_for,
                                    emergency, web=web)
    readability = score_document(printed, inputs.glossary)
    result = DocumentResult(job, target, ok=False, fallbacks=record.fallbacks,
                            readability=readability, translation=record)
    for each in (record, also):
        if each is not None and each.coverage < options.min_coverage:
            return replace(result, status="incomplete", ok=not options.strict, problems=(
                f"not built: only {each.coverage:.0%} of its {each.printed} printed strings "
                f"have a current {each.lang} translation (at least "
                f"{options.min_coverage:.0%} needed); missing: {_some(each.fallbacks)} "
                "(`--json` lists each; `--preview` marks them on the page)",)), None
    stale = inputs.stale(job, options.today)
    unfinished = inputs.sources[job.handout].placeholders()
    # Under --strict these are the document's problems (below), not warnings said twice.
    warnings = () if options.strict else tuple(f"stale: {item}" for item in stale) + (
        (str(unfinished),) if unfinished else ())
    signed = [c.review for c in inputs.catalogs(job.lang, job.handout).values() if c.review]
    if record.status == "draft" and signed and not options.require_review:
        warnings += (f"signed off by {signed[0].by}, but printed as a draft: "
                     f"{len(record.unreviewed) + len(record.fallbacks)} printed string(s) "
                     f"not covered by the review ({_some(record.unreviewed + record.fallbacks)})",)
    problems = []
    if options.strict and record.fallbacks:
        problems.append(
            f"{len(record.fallbacks)} string(s) have no current {job.lang} translation and "
            f"would print in English: {', '.join(record.fallbacks)}")
    for each in (record, also):
        if options.require_review and each is not None and each.status == "draft":
            problems.append(
                f"draft translation: {len(each.unreviewed) + len(each.fallbacks)} printed "
                f"string(s) not covered by a review ({', '.join(each.unreviewed[:10])}"
                f"{', …' if len(each.unreviewed) > 10 else ''}); sign off with `handout "
                f"i18n review {each.lang} --topic {job.handout} --by NAME`")
    if options.strict and stale:
        problems.append("facts past their review date: " + "; ".join(map(str, stale)))
    if options.strict and unfinished:
        problems.append(str(unfinished))
    if not readability.passed and not options.allow_hard:
        problems.append(readability.explain() + "\n  (rewrite those sentences, or "
                        "pass --allow-hard to override)")
    result = replace(result, problems=tuple(problems), warnings=warnings)
    return result, None if problems else _Prepared(printed, second, also, emergency, html)


def _second_record(inputs: Inputs, job: Job, second: PrintedHandout | None
                   ) -> TranslationRecord | None:
    """What a bilingual print's second language prints: its coverage and review state."""
    from .catalog import translation_record

    if second is None or job.also is None:
        return None
    return translation_record(job.also, second.lookups, inputs.catalogs(job.also, job.handout),
                              job.also == SOURCE_LANGUAGE)


def _some(names: tuple[str, ...], shown: int = 5) -> str:
    """The first few of ``names`` and how many more: a message stays a line or two."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def render_document(inputs: Inputs, job: Job, options: BuildOptions,
                    prepared_for: str | None = None) -> tuple[DocumentResult, RenderedPdf | None]:
    """Everything but writing: the result, and the verified PDF unless a check failed.

    Every reason to refuse the document is named at once.
    """
    from .memory import cycle_collector_paused

    with cycle_collector_paused():
        return _render_document(inputs, job, options, prepared_for)


def _render_document(inputs: Inputs, job: Job, options: BuildOptions,
                     prepared_for: str | None) -> tuple[DocumentResult, RenderedPdf | None]:
    from .pdf import html_to_pdf
    from .verify import check_pdf, layout_problems, too_long

    result, prepared = _prepare(inputs, job, options, prepared_for)
    if prepared is None:
        return result, None
    printed, second = prepared.printed, prepared.second
    theme_dirs = inputs.project.theme.dirs
    pdf = html_to_pdf(prepared.html.html, theme_dirs)
    # A clinic's long name or address can wrap to more lines than the top margin was made
    # for: give the margin what the header lacked and 2 mm above it, and lay out again.
    lacking = max((page.header_overflow for page in pdf.pages), default=0.0)
    room = math.ceil(lacking) + 2 if lacking > 0 else 0
    if room:
        roomier, _ = _translated_html(inputs, printed, options, second, prepared.also,
                                      prepared_for, prepared.emergency, header_room=room)
        pdf = html_to_pdf(roomier.html, theme_dirs)
    warnings = list(result.warnings)
    large = job.large_print
    if too_long(printed, pdf) or layout_problems(pdf, large):
        # A long language or region can overrun by a few lines, or break a page rule (steps
        # split, sources alone on a last page): set the page a little tighter (body 11 pt,
        # nothing below 10 pt) before refusing the document.
        compact, _ = _translated_html(inputs, printed, options, second, prepared.also,
                                      prepared_for, prepared.emergency, compact=True,
                                      header_room=room)
        tighter = html_to_pdf(compact.html, theme_dirs)
        if not too_long(printed, tighter) and not layout_problems(tighter, large):
            pdf = tighter
            # Large print keeps its 16 pt: only the lines come closer, and the closing
            # matter may continue on the next page.
            warnings.append("set compact (closer lines, text kept at 16 pt) to fit the page "
                            "rules" if large else
                            "set compact (11 pt body) to fit the page limit and rules")
    problems = check_pdf(printed, pdf, second, prepared_for)
    result = replace(result, problems=tuple(problems), warnings=tuple(warnings))
    return result, (None if problems else pdf)


def _translated_html(inputs: Inputs, printed: PrintedHandout, options: BuildOptions,
                     second: PrintedHandout | None, also: TranslationRecord | None,
                     prepared_for: str | None, emergency: str | None, compact: bool = False,
                     web: WebPage | None = None,
                     header_room: int = 0) -> tuple[RenderedHtml, TranslationRecord]:
    """The page's HTML and the record of every string it prints, template words included.

    The record decides what the page says about its translation (a draft mark, or the
    reviewer's name), and those words are themselves looked up: render as a draft first,
    and again as reviewed only if every other string is covered by a review.
    """
    from .catalog import translation_record
    from .render import render_html

    job = printed.job
    catalogs = inputs.catalogs(job.lang, job.handout)
    source = job.lang == SOURCE_LANGUAGE

    def render(record: TranslationRecord) -> tuple[RenderedHtml, TranslationRecord]:
        html = render_html(printed, catalogs, inputs.project.theme, record,
                           preview=job.preview, second=second, clinic=options.clinic,
                           prepared_for=prepared_for, emergency_number=emergency,
                           compact=compact, web=web, header_room=header_room,
                           second_translation=also, second_catalogs=inputs.catalogs(
                               job.also, job.handout) if job.also else None)
        lookups = printed.lookups + html.lookups
        return html, translation_record(job.lang, lookups, catalogs, source)

    if source:
        return render(translation_record(job.lang, printed.lookups, catalogs, True))
    draft_html, found = render(TranslationRecord(job.lang, "draft", 0, ()))
    # The draft mark's own words do not decide whether the rest is reviewed.
    rest = tuple(lk for lk in printed.lookups + draft_html.lookups if lk.context != "draft")
    if translation_record(job.lang, rest, catalogs, False).status != "reviewed":
        return draft_html, replace(found, status="draft")
    reviewed_html, reviewed = render(translation_record(job.lang, rest, catalogs, False))
    if reviewed.status == "reviewed":
        return reviewed_html, reviewed
    # Signed off, but the words that credit the reviewer have no translation: printed as a
    # draft, and the record names what kept it one.
    return draft_html, replace(found, status="draft",
                               unreviewed=found.unreviewed + reviewed.fallbacks)


