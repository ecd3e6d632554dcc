"""The build: content → plan → translation → readability → HTML → PDF → verify → atomic write.

``build_documents`` is the library entry point the CLI calls. All input is loaded and checked
first, so a malformed YAML, ``.po`` or TOML file raises :class:`~handoutkit.errors.InputError`
before anything is written. Each document then has a key, the hash of everything it depends
on; a document whose key and PDF match the manifest is skipped. The rest are built serially or
in worker processes; one that fails a check (or crashes) is reported and leaves its previous
PDF in place while the others are still built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from . import __version__
from .catalog import Translator, load_catalog
from .clinic import Clinic
from .content import HandoutSource, load_handout
from .errors import InputError, Problem
from .output import Manifest, ManifestEntry, file_sha256, remove_leftovers, sha256, write_atomic
from .pdf import RenderedPdf, html_to_pdf
from .plan import Job
from .project import REGIONS_DOMAIN, SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .readability import ReadabilityReport, score
from .regions import Region, load_region, regions_dir, stale_items
from .render import STYLESHEET_NAME, TEMPLATE_NAME, font_stack, render_html
from .translate import PrintedHandout, translate, translator_for
from .verify import check_pdf, font_files

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
    #: Worker processes; 1 builds in this process.
    jobs: int = 1
    #: Rebuild every document, even those whose inputs have not changed.
    force: bool = False
    #: Stop at the first failed document instead of building the others.
    fail_fast: bool = False


@dataclass
class DocumentResult:
    job: Job
    path: Path
    ok: bool
    #: ``built``, ``skipped`` (up to date), ``failed`` or ``not built`` (after --fail-fast).
    status: str = "failed"
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

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


#: Called with each document as it starts (``None`` result) and as it ends.
Progress = Callable[[Job, DocumentResult | None], None]


def load_handouts(project: Project, ids: list[str]) -> dict[str, HandoutSource]:
    return {ident: load_handout(project.handout_path(ident)) for ident in ids}


class Inputs:
    """What the build reads, loaded and checked once, and shared by its documents."""

    def __init__(self, project: Project, jobs: list[Job]):
        self.project = project
        self.sources = load_handouts(project, sorted({job.handout for job in jobs}))
        self.regions = {code: load_region(project.handouts_dir, code)
                        for code in sorted({job.region for job in jobs if job.region})}
        # Parse every catalog now: a broken .po stops the build before any PDF is written.
        for lang in sorted({lang for job in jobs for lang in (job.lang, job.also) if lang}):
            if lang != SOURCE_LANGUAGE:
                for domain in sorted({job.handout for job in jobs}) + DOMAINS:
                    path = project.catalog_path(lang, domain)
                    if path.exists():
                        load_catalog(path)

    def region(self, job: Job) -> Region | None:
        return self.regions[job.region] if job.region else None

    @cache  # noqa: B019 - one Inputs per build; the cache lives as long as the build
    def printed(self, job: Job, url_template: str | None) -> tuple[PrintedHandout, Translator]:
        translator = translator_for(self.project, job.lang, [job.handout, *DOMAINS])
        doc = translate(self.sources[job.handout], job, translator, self.region(job), url_template)
        return doc, translator

    def files(self, job: Job, clinic: Clinic | None) -> list[Path]:
        """The files a document is made from (its catalogs' entries are hashed separately)."""
        project = self.project
        source = self.sources[job.handout]
        files = [source.path, project.templates_dir / TEMPLATE_NAME,
                 project.templates_dir / STYLESHEET_NAME]
        if source.facts:
            files.append(source.facts.doc.path)
        for lang in filter(None, (job.lang, job.also)):
            files += [project.catalog_path(lang, d) for d in (job.handout, *DOMAINS)]
        code = job.region
        while code:
            files.append(regions_dir(project.handouts_dir) / f"{code}.yaml")
            code = code.rsplit("-", 1)[0] if "-" in code else None
        if clinic:
            files += [clinic.path] + ([clinic.logo_path] if clinic.logo_path else [])
        return [path for path in files if path.exists()]


def _relative(project: Project, path: Path) -> str:
    try:
        return str(path.relative_to(project.root))
    except ValueError:  # a clinic profile may live outside the project
        return str(path)


def document_key(inputs: Inputs, job: Job, options: BuildOptions) -> tuple[str, dict[str, str]]:
    """A hash of everything ``job``'s PDF depends on, and the input files' own hashes.

    A ``.po`` file counts only through the entries the document prints, so fixing one
    translation rebuilds exactly the documents that print it. The template's own words are
    looked up while rendering, so the template catalog counts as a whole file.
    """
    project = inputs.project
    clinic = options.clinic
    hashes = {_relative(project, p): file_sha256(p) for p in inputs.files(job, clinic)}
    digest = hashlib.sha256()
    for name, value in sorted(hashes.items()):
        if not name.endswith(".po") or name.endswith(f"/{TEMPLATE_DOMAIN}.po"):
            digest.update(f"{name}={value}\n".encode())
    url_template = clinic.profile.handout_url if clinic else None
    for lang in filter(None, (job.lang, job.also)):
        _, translator = inputs.printed(replace(job, lang=lang, also=None), url_template)
        used = sorted((repr(key), repr(value)) for key, value in translator.used.items())
        digest.update(json.dumps(used, ensure_ascii=False).encode())
        for font in font_files(font_stack(lang)):
            stat = font.stat()
            digest.update(f"{font}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    digest.update(repr((job, options.preview, options.allow_hard, epoch, __version__)).encode())
    hashes["handoutkit"] = __version__
    return digest.hexdigest(), hashes


def up_to_date(entry: ManifestEntry | None, key: str, target: Path) -> bool:
    if entry is None or entry.retry or entry.key != key or not target.exists():
        return False
    return file_sha256(target) == entry.sha256


def build_documents(project: Project, jobs: list[Job], options: BuildOptions,
                    progress: Progress | None = None) -> BuildReport:
    inputs = Inputs(project, jobs)
    remove_leftovers(options.out_dir)
    manifest = Manifest.read(options.out_dir, __version__)
    results: list[DocumentResult | None] = [None] * len(jobs)
    keys: dict[int, tuple[str, dict[str, str]]] = {}
    todo = []
    for index, job in enumerate(jobs):
        keys[index] = document_key(inputs, job, options)
        target = options.out_dir / str(job.output)
        entry = manifest.entries.get(str(job.output))
        if not options.force and up_to_date(entry, keys[index][0], target):
            assert entry is not None
            results[index] = DocumentResult(job, target, ok=True, status="skipped",
                                             pages=entry.pages, sha256=entry.sha256,
                                             fallbacks=entry.fallbacks)
            if progress:
                progress(job, results[index])
        else:
            todo.append(index)

    def finish(index: int, result: DocumentResult, entry: ManifestEntry | None) -> None:
        results[index] = result
        path = str(result.job.output)
        if entry is not None:
            entry.key, entry.inputs = keys[index]
            manifest.entries[path] = entry
        elif path in manifest.entries:
            manifest.entries[path].retry = True  # the old PDF stays; try again next time
        if progress:
            progress(result.job, result)

    if options.jobs > 1 and len(todo) > 1:
        _build_parallel(inputs, jobs, todo, options, finish, progress)
    else:
        for index in todo:
            if progress:
                progress(jobs[index], None)
            finish(index, *_build_guarded(inputs, jobs[index], options))
            if options.fail_fast and not results[index].ok:  # type: ignore[union-attr]
                break
    final = [r or DocumentResult(job, options.out_dir / str(job.output), ok=False,
                                 status="not built", problems=["not built: --fail-fast"])
             for r, job in zip(results, jobs, strict=True)]
    manifest.write(options.out_dir)
    return BuildReport(final, options.out_dir / "manifest.json")


#: What worker processes build from: set before the pool forks, so they inherit it loaded.
_WORKER: tuple[Inputs, list[Job], BuildOptions] | None = None


def _worker_build(index: int) -> tuple[int, DocumentResult, ManifestEntry | None]:
    assert _WORKER is not None
    inputs, jobs, options = _WORKER
    return (index, *_build_guarded(inputs, jobs[index], options))


def _build_parallel(inputs: Inputs, jobs: list[Job], todo: list[int], options: BuildOptions,
                    finish: Callable[[int, DocumentResult, ManifestEntry | None], None],
                    progress: Progress | None) -> None:
    global _WORKER
    _WORKER = (inputs, jobs, options)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    try:
        with ProcessPoolExecutor(max_workers=min(options.jobs, len(todo)),
                                 mp_context=context) as pool:
            pending: set[Future[tuple[int, DocumentResult, ManifestEntry | None]]] = set()
            for index in todo:
                if progress:
                    progress(jobs[index], None)
                pending.add(pool.submit(_worker_build, index))
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    finish(*future.result())
                    if options.fail_fast and not future.result()[1].ok:
                        for other in pending:
                            other.cancel()
                        pending = {f for f in pending if not f.cancelled()}
    finally:
        _WORKER = None


def _build_guarded(inputs: Inputs, job: Job, options: BuildOptions
                   ) -> tuple[DocumentResult, ManifestEntry | None]:
    """Build one document; a crash fails this document only, with its traceback reported."""
    try:
        return build_document(inputs, job, options)
    except Exception as exc:
        result = DocumentResult(job, options.out_dir / str(job.output), ok=False)
        result.problems.append(f"internal error (a bug in handoutkit, please report it): "
                               f"{exc!r}\n{traceback.format_exc()}")
        return result, None


def readability_reports(project: Project, jobs: list[Job]) -> list[ReadabilityReport]:
    """Score each document's printed text without rendering it (``handout check``)."""
    inputs = Inputs(project, jobs)
    return [score(inputs.printed(job, None)[0]) for job in jobs]


def build_document(inputs: Inputs, job: Job, options: BuildOptions
                   ) -> tuple[DocumentResult, ManifestEntry | None]:
    """Translate, check, render, verify and write one document."""
    result, pdf = render_document(inputs, job, options)
    if pdf is None:
        return result, None
    write_atomic(result.path, pdf.data)
    result.ok, result.status = True, "built"
    result.pages, result.sha256 = pdf.page_count, sha256(pdf.data)
    readability = result.readability
    assert readability is not None
    entry = ManifestEntry(
        path=str(job.output), handout=job.handout, lang=job.lang, level=job.level,
        paper=job.paper, region=job.region, large_print=job.large_print, also=job.also,
        pages=pdf.page_count, sha256=result.sha256, bytes=len(pdf.data), inputs={},
        fallbacks=result.fallbacks,
        readability={**readability.as_dict(),
                     "override": options.allow_hard and not readability.passed},
        warnings=[*result.warnings, *pdf.warnings])
    return result, entry


def build_document_bytes(project: Project, job: Job, clinic: Clinic | None,
                         prepared_for: str | None = None) -> tuple[bytes, dict[str, object]]:
    """One document as PDF bytes, written nowhere (the print desk's renderer)."""
    options = BuildOptions(out_dir=project.root / "build", clinic=clinic)
    result, pdf = render_document(Inputs(project, [job]), job, options, prepared_for)
    if pdf is None:
        raise InputError([Problem(p) for p in result.problems])
    readability = result.readability.as_dict() if result.readability else {}
    return pdf.data, readability


def render_document(inputs: Inputs, job: Job, options: BuildOptions,
                    prepared_for: str | None = None) -> tuple[DocumentResult, RenderedPdf | None]:
    """Everything but writing: the result, and the verified PDF unless a check failed."""
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
    # A region-less leaflet prints no regional facts, so only a region's can be stale.
    stale = stale_items(inputs.region(job), inputs.sources[job.handout].facts,
                        options.today) if job.region else []
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
        return result, None
    html = render_html(printed, translator, inputs.project.templates_dir,
                       preview=options.preview, second=second, clinic=clinic,
                       prepared_for=prepared_for)
    pdf = html_to_pdf(html, inputs.project.templates_dir, [inputs.project.templates_dir])
    result.problems.extend(check_pdf(printed, pdf, second))
    return result, (None if result.problems else pdf)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
