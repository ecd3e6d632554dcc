"""The build: content → plan → translation → readability → HTML → PDF → verify → atomic write.

``build_documents`` is the library entry point the CLI calls. Input errors (a malformed YAML,
``.po`` or TOML file) raise :class:`~handoutkit.errors.InputError` before anything is written;
a document that fails a check is reported and skipped while the others are still built, and
its previous good PDF stays in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from . import __version__
from .catalog import Translator
from .clinic import Clinic
from .content import HandoutSource, load_handout
from .output import Manifest, ManifestEntry, file_sha256, sha256, write_atomic
from .pdf import html_to_pdf
from .plan import Job
from .project import REGIONS_DOMAIN, TEMPLATE_DOMAIN, Project
from .readability import ReadabilityReport, score
from .regions import Region, load_region, regions_dir, stale_items
from .render import STYLESHEET_NAME, TEMPLATE_NAME, render_html
from .translate import PrintedHandout, translate, translator_for
from .verify import check_pdf

DOMAINS = [TEMPLATE_DOMAIN, REGIONS_DOMAIN]


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path
    #: Fail a document that would print a string in English for want of a translation, or a
    #: regional fact or help line past its review date.
    strict: bool = False
    #: Mark strings still in English, for translators.
    preview: bool = False
    #: Write a document even when its text is too hard for its level (recorded in the manifest).
    allow_hard: bool = False
    clinic: Clinic | None = None
    #: The date stale facts are judged against; the clock's date unless a test fixes it.
    today: dt.date = field(default_factory=dt.date.today)


@dataclass
class DocumentResult:
    job: Job
    path: Path
    ok: bool
    pages: int = 0
    sha256: str = ""
    fallbacks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    readability: ReadabilityReport | None = None


@dataclass
class BuildReport:
    results: list[DocumentResult]
    manifest_path: Path

    @property
    def failed(self) -> list[DocumentResult]:
        return [r for r in self.results if not r.ok]


Progress = Callable[[Job], None]


def load_handouts(project: Project, ids: list[str]) -> dict[str, HandoutSource]:
    return {ident: load_handout(project.handout_path(ident)) for ident in ids}


class Inputs:
    """What the build reads, loaded once per build and shared by its documents."""

    def __init__(self, project: Project, jobs: list[Job]):
        self.project = project
        self.sources = load_handouts(project, sorted({job.handout for job in jobs}))
        self.regions = {code: load_region(project.handouts_dir, code)
                        for code in sorted({job.region for job in jobs if job.region})}

    def region(self, job: Job) -> Region | None:
        return self.regions[job.region] if job.region else None

    @cache  # noqa: B019 - one Inputs per build; the cache lives as long as the build
    def printed(self, job: Job, url_template: str | None) -> tuple[PrintedHandout, Translator]:
        translator = translator_for(self.project, job.lang, [job.handout, *DOMAINS])
        doc = translate(self.sources[job.handout], job, translator, self.region(job), url_template)
        return doc, translator


def build_documents(project: Project, jobs: list[Job], options: BuildOptions,
                    progress: Progress | None = None) -> BuildReport:
    inputs = Inputs(project, jobs)
    manifest = Manifest.read(options.out_dir, __version__)
    results = []
    for job in jobs:
        if progress:
            progress(job)
        results.append(build_document(inputs, job, options, manifest))
    manifest.write(options.out_dir)
    return BuildReport(results, options.out_dir / "manifest.json")


def readability_reports(project: Project, jobs: list[Job]) -> list[ReadabilityReport]:
    """Score each document's printed text without rendering it (``handout check``)."""
    inputs = Inputs(project, jobs)
    return [score(inputs.printed(job, None)[0]) for job in jobs]


def document_inputs(inputs: Inputs, job: Job, clinic: Clinic | None) -> dict[str, str]:
    """The files a document is made from, with their hashes, as the manifest records them."""
    project = inputs.project
    source = inputs.sources[job.handout]
    files = [source.path, project.templates_dir / TEMPLATE_NAME,
             project.templates_dir / STYLESHEET_NAME]
    if source.facts:
        files.append(source.facts.doc.path)
    for lang in filter(None, (job.lang, job.also)):
        files += [project.catalog_path(lang, d) for d in (job.handout, *DOMAINS)]
    if job.region:
        code: str | None = job.region
        while code:
            files.append(regions_dir(project.handouts_dir) / f"{code}.yaml")
            code = code.rsplit("-", 1)[0] if "-" in code else None
    if clinic:
        files += [clinic.path] + ([clinic.logo_path] if clinic.logo_path else [])
    hashes = {}
    for path in files:
        if path.exists():
            try:
                name = str(path.relative_to(project.root))
            except ValueError:  # a clinic profile may live outside the project
                name = str(path)
            hashes[name] = file_sha256(path)
    hashes["handoutkit"] = __version__
    return hashes


def build_document(inputs: Inputs, job: Job, options: BuildOptions,
                   manifest: Manifest) -> DocumentResult:
    clinic = options.clinic
    url_template = clinic.profile.handout_url if clinic else None
    target = options.out_dir / str(job.output)
    printed, translator = inputs.printed(job, url_template)
    second = None
    if job.also:
        second, _ = inputs.printed(replace(job, lang=job.also, also=None), url_template)
    readability = score(printed)
    fallbacks = [f"{f.domain}:{f.context}" for f in translator.fallbacks]
    result = DocumentResult(job, target, ok=False, fallbacks=fallbacks, readability=readability)
    stale = stale_items(inputs.region(job), inputs.sources[job.handout].facts, options.today)
    stale = [item for item in stale if job.region]  # a region-less leaflet prints no facts
    result.warnings += [f"stale: {item}" for item in stale]
    if options.strict and fallbacks:
        result.problems.append(
            f"{len(fallbacks)} string(s) have no current {job.lang} translation and would "
            f"print in English: {', '.join(fallbacks)}")
    if options.strict and stale:
        result.problems.append("facts past their review date: " + "; ".join(map(str, stale)))
    if not readability.passed and not options.allow_hard:
        result.problems.append(readability.explain() + "\n  (rewrite those sentences, or "
                               "pass --allow-hard to override)")
    if result.problems:
        return result
    html = render_html(printed, translator, inputs.project.templates_dir,
                       preview=options.preview, second=second, clinic=clinic)
    pdf = html_to_pdf(html, inputs.project.templates_dir, [inputs.project.templates_dir])
    result.problems.extend(check_pdf(printed, pdf, second))
    if result.problems:
        return result
    write_atomic(target, pdf.data)
    result.ok, result.pages, result.sha256 = True, pdf.page_count, sha256(pdf.data)
    manifest.entries[str(job.output)] = ManifestEntry(
        path=str(job.output), handout=job.handout, lang=job.lang, level=job.level,
        paper=job.paper, region=job.region, large_print=job.large_print, also=job.also,
        pages=pdf.page_count, sha256=result.sha256, bytes=len(pdf.data),
        inputs=document_inputs(inputs, job, clinic), fallbacks=fallbacks,
        readability={**readability.as_dict(),
                     "override": options.allow_hard and not readability.passed},
        warnings=[*result.warnings, *pdf.warnings])
    return result
