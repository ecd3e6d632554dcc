"""The build: content → translation → checks → HTML → PDF → verify → atomic write.

``build_documents`` is the library entry point the CLI calls. Input errors (a malformed YAML
or ``.po`` file) raise :class:`~handoutkit.errors.InputError` before anything is written; a
document that fails a check is reported and skipped while the others are still built, and
its previous good PDF stays in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .content import HandoutSource, load_handout
from .output import Manifest, ManifestEntry, file_sha256, sha256, write_atomic
from .pdf import html_to_pdf
from .plan import Job
from .project import TEMPLATE_DOMAIN, Project
from .readability import ReadabilityReport, score
from .render import STYLESHEET_NAME, TEMPLATE_NAME, font_stack, render_html
from .translate import translate, translator_for
from .verify import check_pdf


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path
    #: Fail a document that would print any string in English for want of a translation.
    strict: bool = False
    #: Mark strings still in English, for translators.
    preview: bool = False
    #: Write a document even when its text is too hard for its level (recorded in the manifest).
    allow_hard: bool = False


@dataclass
class DocumentResult:
    job: Job
    path: Path
    ok: bool
    pages: int = 0
    sha256: str = ""
    fallbacks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
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


def build_documents(project: Project, jobs: list[Job], options: BuildOptions,
                    progress: Progress | None = None) -> BuildReport:
    sources = load_handouts(project, sorted({job.handout for job in jobs}))
    manifest = Manifest.read(options.out_dir, __version__)
    results = []
    for job in jobs:
        if progress:
            progress(job)
        result = build_document(project, sources[job.handout], job, options, manifest)
        results.append(result)
    manifest.write(options.out_dir)
    return BuildReport(results, options.out_dir / "manifest.json")


def document_inputs(project: Project, job: Job, source: HandoutSource) -> dict[str, str]:
    """The files a document is made from, with their hashes, as the manifest records them."""
    files = [source.path, project.templates_dir / TEMPLATE_NAME,
             project.templates_dir / STYLESHEET_NAME]
    files += [p for p in (project.catalog_path(job.lang, job.handout),
                          project.catalog_path(job.lang, TEMPLATE_DOMAIN)) if p.exists()]
    inputs = {str(p.relative_to(project.root)): file_sha256(p) for p in files}
    inputs["handoutkit"] = __version__
    return inputs


def readability_reports(project: Project, jobs: list[Job]) -> list[ReadabilityReport]:
    """Score each document's printed text without rendering it (``handout check``)."""
    sources = load_handouts(project, sorted({job.handout for job in jobs}))
    reports = []
    for job in jobs:
        translator = translator_for(project, job.lang, [job.handout, TEMPLATE_DOMAIN])
        reports.append(score(translate(sources[job.handout], job, translator)))
    return reports


def build_document(project: Project, source: HandoutSource, job: Job, options: BuildOptions,
                   manifest: Manifest) -> DocumentResult:
    target = options.out_dir / str(job.output)
    translator = translator_for(project, job.lang, [job.handout, TEMPLATE_DOMAIN])
    printed = translate(source, job, translator)
    readability = score(printed)
    html = render_html(printed, translator, project.templates_dir, preview=options.preview)
    fallbacks = [f"{f.domain}:{f.context}" for f in translator.fallbacks]
    result = DocumentResult(job, target, ok=False, fallbacks=fallbacks, readability=readability)
    if options.strict and fallbacks:
        result.problems.append(
            f"{len(fallbacks)} string(s) have no current {job.lang} translation and would "
            f"print in English: {', '.join(fallbacks)}")
    if not readability.passed and not options.allow_hard:
        result.problems.append(readability.explain() + "\n  (rewrite those sentences, or "
                               "pass --allow-hard to override)")
    if result.problems:
        return result
    stack = font_stack(job.lang)
    pdf = html_to_pdf(html, project.templates_dir, [project.templates_dir])
    result.problems.extend(check_pdf(printed, pdf, stack))
    if result.problems:
        return result
    write_atomic(target, pdf.data)
    result.ok, result.pages, result.sha256 = True, pdf.page_count, sha256(pdf.data)
    manifest.entries[str(job.output)] = ManifestEntry(
        path=str(job.output), handout=job.handout, lang=job.lang, level=job.level,
        paper=job.paper, pages=pdf.page_count, sha256=result.sha256, bytes=len(pdf.data),
        inputs=document_inputs(project, job, source), fallbacks=fallbacks,
        readability={**readability.as_dict(),
                     "override": options.allow_hard and not readability.passed},
        warnings=list(pdf.warnings))
    return result
