"""The build: content → plan → translation → readability → HTML → PDF → verify → atomic write.

``build_documents`` is the library entry point the CLI calls. All input is loaded and checked
first, so a malformed YAML, ``.po`` or TOML file raises :class:`~handoutkit.errors.InputError`
before anything is written. Each document then has a key, the hash of everything it depends
on (the options that decide whether it may be written included); a document whose key and PDF
match the manifest is skipped. The rest are rendered serially or in worker processes, which
return bytes: only this process writes, so a worker orphaned by a killed build can never
replace a newer file. One that fails a check leaves its previous PDF in place while the
others are still built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__
from .catalog import MessageCatalog, TranslationRecord, translation_record
from .clinic import Clinic
from .content import HandoutSource, load_handout
from .errors import InputError
from .output import (
    BuildLock,
    Manifest,
    ManifestEntry,
    check_writable,
    file_sha256,
    remove_leftovers,
    sha256,
    write_atomic,
)
from .pdf import RenderedPdf, html_to_pdf
from .plan import Job
from .project import REGIONS_DOMAIN, SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .readability import ReadabilityReport, score
from .regions import Region, StaleItem, load_region, stale_items
from .render import STYLESHEET_NAME, TEMPLATE_NAME, RenderedHtml, render_html
from .translate import PrintedHandout, catalogs_for, translate
from .verify import check_pdf, font_files, too_long

DOMAINS = [TEMPLATE_DOMAIN, REGIONS_DOMAIN]


@dataclass(frozen=True)
class BuildOptions:
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

    def gate(self) -> tuple[object, ...]:
        """The options that decide whether a document may be written: part of its key."""
        return (self.strict, self.allow_hard, self.require_review, self.min_coverage)


@dataclass
class DocumentResult:
    job: Job
    path: Path
    ok: bool
    #: ``built``, ``skipped`` (up to date), ``failed``, ``incomplete`` (too little of it is
    #: translated to build) or ``not built`` (after --fail-fast).
    status: str = "failed"
    pages: int = 0
    sha256: str = ""
    fallbacks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    readability: ReadabilityReport | None = None
    translation: TranslationRecord | None = None


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
        self._printed: dict[tuple[Job, str | None], PrintedHandout] = {}
        for name in (TEMPLATE_NAME, STYLESHEET_NAME):
            path = project.templates_dir / name
            if not path.is_file():
                raise InputError.at(f"the template {name} is missing or not a file", path,
                                    hint="restore it from the project's templates/ folder")
        # Parse every catalog now: a broken .po stops the build before any PDF is written.
        for lang in sorted({lang for job in jobs for lang in (job.lang, job.also) if lang}):
            for handout in sorted({job.handout for job in jobs}):
                self.catalogs(lang, handout)

    def region(self, job: Job) -> Region | None:
        return self.regions[job.region] if job.region else None

    def catalogs(self, lang: str, handout: str) -> dict[str, MessageCatalog]:
        """``lang``'s catalogs for a document of ``handout`` (parsed once per process)."""
        return catalogs_for(self.project, lang, [handout, *DOMAINS])

    def printed(self, job: Job, url_template: str | None) -> PrintedHandout:
        key = (job, url_template)
        if key not in self._printed:
            self._printed[key] = translate(self.sources[job.handout], job,
                                           self.catalogs(job.lang, job.handout),
                                           self.region(job), url_template)
        return self._printed[key]

    def stale(self, job: Job, today: dt.date) -> list[StaleItem]:
        # A region-less leaflet prints no regional facts, so only a region's can be stale.
        if not job.region:
            return []
        return stale_items(self.region(job), self.sources[job.handout].facts, today)

    def files(self, job: Job, clinic: Clinic | None) -> list[Path]:
        """The files a document is made from (its catalogs' entries are hashed separately)."""
        project = self.project
        source = self.sources[job.handout]
        files = [source.path, project.templates_dir / TEMPLATE_NAME,
                 project.templates_dir / STYLESHEET_NAME]
        files += sorted((project.templates_dir / "icons").glob("*.svg"))
        if source.facts:
            files.append(source.facts.doc.path)
        for lang in filter(None, (job.lang, job.also)):
            files += [project.catalog_path(lang, d) for d in (job.handout, *DOMAINS)]
        region = self.region(job)
        if region:
            files += region.paths
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

    A topic's or region's ``.po`` file counts only through the entries the document prints
    (and whether a review covers them), so fixing one translation rebuilds exactly the
    documents that print it. The template's own words are looked up while rendering, so the
    template catalog counts as a whole file.
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
        printed = inputs.printed(replace(job, lang=lang, also=None), url_template)
        catalogs = inputs.catalogs(lang, job.handout)
        record = translation_record(lang, printed.lookups, catalogs, lang == SOURCE_LANGUAGE)
        used = sorted((lk.id, lk.msgid, repr(lk.translation)) for lk in printed.lookups)
        digest.update(json.dumps([used, record.as_dict()], ensure_ascii=False).encode())
        for font in font_files(printed.language.fonts):
            stat = font.stat()
            digest.update(f"{font}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    digest.update(repr((job, options.gate(), epoch, __version__)).encode())
    hashes["handoutkit"] = __version__
    return digest.hexdigest(), hashes


def up_to_date(entry: ManifestEntry | None, key: str, target: Path) -> bool:
    if entry is None or entry.retry or entry.key != key or not target.exists():
        return False
    return file_sha256(target) == entry.sha256


def build_documents(project: Project, jobs: list[Job], options: BuildOptions,
                    progress: Progress | None = None) -> BuildReport:
    """Build ``jobs`` into ``options.out_dir``; one build at a time per folder."""
    inputs = Inputs(project, jobs)
    check_writable(options.out_dir)
    with BuildLock(options.out_dir, options.lock_timeout):
        remove_leftovers(options.out_dir, {options.out_dir / job.output.parent for job in jobs})
        manifest = Manifest.read(options.out_dir, __version__)
        report = _build_locked(inputs, jobs, options, manifest, progress)
        manifest.write(options.out_dir)
    return report


def _build_locked(inputs: Inputs, jobs: list[Job], options: BuildOptions, manifest: Manifest,
                  progress: Progress | None) -> BuildReport:
    results: list[DocumentResult | None] = [None] * len(jobs)
    keys: dict[int, tuple[str, dict[str, str]]] = {}
    todo = []
    for index, job in enumerate(jobs):
        keys[index] = document_key(inputs, job, options)
        target = options.out_dir / str(job.output)
        entry = manifest.entries.get(str(job.output))
        if not options.force and entry is not None and up_to_date(entry, keys[index][0], target):
            results[index] = _skipped(inputs, job, target, entry, options)
            if progress:
                progress(job, results[index])
        else:
            todo.append(index)

    def finish(index: int, result: DocumentResult, pdf: RenderedPdf | None) -> None:
        path = str(result.job.output)
        if pdf is not None:
            write_atomic(result.path, pdf.data)
            result.ok, result.status = True, "built"
            result.pages, result.sha256 = pdf.page_count, sha256(pdf.data)
            manifest.entries[path] = _manifest_entry(result, pdf, options, keys[index])
        elif path in manifest.entries:
            manifest.entries[path].retry = True  # the old PDF stays; try again next time
        results[index] = result
        if progress:
            progress(result.job, result)

    if options.jobs > 1 and len(todo) > 1:
        _render_parallel(inputs, jobs, todo, options, finish, progress)
    else:
        for index in todo:
            if progress:
                progress(jobs[index], None)
            finish(index, *_render_guarded(inputs, jobs[index], options))
            if options.fail_fast and not results[index].ok:  # type: ignore[union-attr]
                break
    final = [r or DocumentResult(job, options.out_dir / str(job.output), ok=False,
                                 status="not built", problems=["not built: --fail-fast"])
             for r, job in zip(results, jobs, strict=True)]
    return BuildReport(final, options.out_dir / "manifest.json")


def _skipped(inputs: Inputs, job: Job, target: Path, entry: ManifestEntry,
             options: BuildOptions) -> DocumentResult:
    """An up-to-date document; date-dependent checks still run (a fact may have gone stale)."""
    translation = TranslationRecord.from_dict(job.lang, entry.translation) if (
        entry.translation) else None
    result = DocumentResult(job, target, ok=True, status="skipped", pages=entry.pages,
                            sha256=entry.sha256, fallbacks=list(entry.fallbacks),
                            translation=translation)
    stale = inputs.stale(job, options.today)
    result.warnings += [f"stale: {item}" for item in stale]
    if options.strict and stale:
        result.ok, result.status = False, "failed"
        result.problems.append("facts past their review date: " + "; ".join(map(str, stale)))
    return result


def _manifest_entry(result: DocumentResult, pdf: RenderedPdf, options: BuildOptions,
                    key: tuple[str, dict[str, str]]) -> ManifestEntry:
    job, readability = result.job, result.readability
    assert readability is not None and result.translation is not None
    return ManifestEntry(
        path=str(job.output), handout=job.handout, lang=job.lang, level=job.level,
        paper=job.paper, region=job.region, large_print=job.large_print, also=job.also,
        preview=job.preview, pages=pdf.page_count, sha256=result.sha256, bytes=len(pdf.data),
        key=key[0], inputs=key[1], fallbacks=result.fallbacks,
        translation=result.translation.as_dict(),
        readability={**readability.as_dict(),
                     "override": options.allow_hard and not readability.passed},
        warnings=[*result.warnings, *pdf.warnings])


#: What worker processes build from: set before the pool forks, so they inherit it loaded.
_WORKER: tuple[Inputs, list[Job], BuildOptions, int] | None = None


def _worker_render(index: int) -> tuple[int, DocumentResult, RenderedPdf | None]:
    assert _WORKER is not None
    inputs, jobs, options, parent = _WORKER
    if os.getppid() != parent:  # the build that asked for this is gone: do nothing
        os._exit(1)
    return (index, *_render_guarded(inputs, jobs[index], options))


def _render_parallel(inputs: Inputs, jobs: list[Job], todo: list[int], options: BuildOptions,
                     finish: Callable[[int, DocumentResult, RenderedPdf | None], None],
                     progress: Progress | None) -> None:
    global _WORKER
    _WORKER = (inputs, jobs, options, os.getpid())
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    try:
        with ProcessPoolExecutor(max_workers=min(options.jobs, len(todo)),
                                 mp_context=context) as pool:
            queue = list(todo)
            pending: set[Future[tuple[int, DocumentResult, RenderedPdf | None]]] = set()
            # Submit no more than the workers can take, so --fail-fast stops promptly.
            while queue or pending:
                while queue and len(pending) < options.jobs:
                    index = queue.pop(0)
                    if progress:
                        progress(jobs[index], None)
                    pending.add(pool.submit(_worker_render, index))
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, result, pdf = future.result()
                    finish(index, result, pdf)
                    if options.fail_fast and not result.ok:
                        queue.clear()
    finally:
        _WORKER = None


def _render_guarded(inputs: Inputs, job: Job, options: BuildOptions
                    ) -> tuple[DocumentResult, RenderedPdf | None]:
    """Render one document; a crash fails this document only, with its traceback reported."""
    try:
        return render_document(inputs, job, options)
    except InputError as exc:
        result = DocumentResult(job, options.out_dir / str(job.output), ok=False)
        result.problems += [str(p) for p in exc.problems]
        return result, None
    except Exception as exc:
        result = DocumentResult(job, options.out_dir / str(job.output), ok=False)
        result.problems.append(f"internal error (a bug in handoutkit, please report it): "
                               f"{exc!r}\n{traceback.format_exc()}")
        return result, None


def check_readability(project: Project, jobs: list[Job]) -> list[ReadabilityReport]:
    """Score each document's printed text without rendering it (``handout check``)."""
    inputs = Inputs(project, jobs)
    return [score(inputs.printed(job, None)) for job in jobs]


#: The library's name for the build's entry point.
build = build_documents


class DocumentRefused(Exception):
    """A document failed a check (too hard to read, too long, a draft where review is
    required…): not bad input, so the desk answers it apart from a wrong choice."""

    def __init__(self, result: DocumentResult):
        self.result = result
        super().__init__("; ".join(result.problems))


def render_pdf(project: Project, job: Job, clinic: Clinic | None = None,
               prepared_for: str | None = None,
               options: BuildOptions | None = None) -> tuple[bytes, DocumentResult]:
    """One document as PDF bytes, written nowhere (the print desk's renderer).

    Raises :class:`DocumentRefused` when a check fails, :class:`InputError` on bad input.
    """
    options = options or BuildOptions(out_dir=project.root / "build", clinic=clinic)
    result, pdf = render_document(Inputs(project, [job]), job, options, prepared_for)
    if pdf is None:
        raise DocumentRefused(result)
    result.pages, result.sha256 = pdf.page_count, sha256(pdf.data)
    result.ok, result.status = True, "built"
    return pdf.data, result


def render_document(inputs: Inputs, job: Job, options: BuildOptions,
                    prepared_for: str | None = None) -> tuple[DocumentResult, RenderedPdf | None]:
    """Everything but writing: the result, and the verified PDF unless a check failed.

    Every reason to refuse the document is named at once.
    """
    clinic = options.clinic
    url_template = clinic.profile.handout_url if clinic else None
    target = options.out_dir / str(job.output)
    printed = inputs.printed(job, url_template)
    second = inputs.printed(replace(job, lang=job.also, also=None), url_template) if (
        job.also) else None
    region = inputs.region(job)
    emergency = region.emergency if region else (clinic.profile.emergency if clinic else None)
    html, record = _translated_html(inputs, printed, options, second, prepared_for, emergency)
    readability = score(printed)
    result = DocumentResult(job, target, ok=False, fallbacks=list(record.fallbacks),
                            readability=readability, translation=record)
    if record.coverage < options.min_coverage:
        result.status = "incomplete"
        result.ok = not options.strict
        result.problems.append(
            f"not built: only {record.coverage:.0%} of its {record.printed} printed strings "
            f"have a current {job.lang} translation (at least {options.min_coverage:.0%} "
            f"needed); missing: {', '.join(record.fallbacks)}")
        return result, None
    stale = inputs.stale(job, options.today)
    result.warnings += [f"stale: {item}" for item in stale]
    if options.strict and record.fallbacks:
        result.problems.append(
            f"{len(record.fallbacks)} string(s) have no current {job.lang} translation and "
            f"would print in English: {', '.join(record.fallbacks)}")
    if options.require_review and record.status == "draft":
        result.problems.append(
            f"draft translation: {len(record.unreviewed) + len(record.fallbacks)} printed "
            f"string(s) not covered by a review ({', '.join(record.unreviewed[:10])}"
            f"{', …' if len(record.unreviewed) > 10 else ''}); sign off with `handout i18n "
            f"review {job.lang} --by NAME`")
    if options.strict and stale:
        result.problems.append("facts past their review date: " + "; ".join(map(str, stale)))
    if not readability.passed and not options.allow_hard:
        result.problems.append(readability.explain() + "\n  (rewrite those sentences, or "
                               "pass --allow-hard to override)")
    if result.problems:
        return result, None
    templates = inputs.project.templates_dir
    pdf = html_to_pdf(html.html, templates, [templates])
    if too_long(printed, pdf):
        # A long language or region can overrun by a few lines: set the page a little
        # tighter (body 11 pt, nothing below 10 pt) before refusing the document.
        compact, _ = _translated_html(inputs, printed, options, second, prepared_for,
                                      emergency, compact=True)
        tighter = html_to_pdf(compact.html, templates, [templates])
        if not too_long(printed, tighter):
            pdf = tighter
            result.warnings.append("set compact (11 pt body) to fit the page limit")
    result.problems.extend(check_pdf(printed, pdf, second))
    return result, (None if result.problems else pdf)


def _translated_html(inputs: Inputs, printed: PrintedHandout, options: BuildOptions,
                     second: PrintedHandout | None, prepared_for: str | None,
                     emergency: str | None, compact: bool = False
                     ) -> tuple[RenderedHtml, TranslationRecord]:
    """The page's HTML and the record of every string it prints, template words included.

    The record decides what the page says about its translation (a draft mark, or the
    reviewer's name), and those words are themselves looked up: render as a draft first,
    and again as reviewed only if every other string is covered by a review.
    """
    job = printed.job
    catalogs = inputs.catalogs(job.lang, job.handout)
    source = job.lang == SOURCE_LANGUAGE

    def render(record: TranslationRecord) -> tuple[RenderedHtml, TranslationRecord]:
        html = render_html(printed, catalogs, inputs.project.templates_dir, record,
                           preview=job.preview, second=second, clinic=options.clinic,
                           prepared_for=prepared_for, emergency_number=emergency,
                           compact=compact)
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
    return (reviewed_html, reviewed) if reviewed.status == "reviewed" else (
        draft_html, replace(found, status="draft"))


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
