"""The build: decides which documents to make, renders them through the pipeline, writes them.

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

import hashlib
import json
import multiprocessing
import os
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from . import __version__
from .catalog import TranslationRecord, translation_record
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
from .pdf import RenderedPdf
from .pipeline import (
    BuildOptions,
    DocumentResult,
    Inputs,
    render_document,
)
from .plan import Job
from .project import SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .theme import file_label
from .verify import font_files


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


def document_key(inputs: Inputs, job: Job, options: BuildOptions) -> tuple[str, dict[str, str]]:
    """A hash of everything ``job``'s PDF depends on, and the input files' own hashes.

    A topic's or region's ``.po`` file counts only through the entries the document prints
    (and whether a review covers them), so fixing one translation rebuilds exactly the
    documents that print it. The template's own words are looked up while rendering, so the
    template catalog counts as a whole file.
    """
    project = inputs.project
    clinic = options.clinic
    hashes = {file_label(p, project.root): file_sha256(p) for p in inputs.files(job, clinic)}
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
            result = replace(result, ok=True, status="built", pages=pdf.page_count,
                             sha256=sha256(pdf.data))
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
                                 status="not built", problems=("not built: --fail-fast",))
             for r, job in zip(results, jobs, strict=True)]
    return BuildReport(final, options.out_dir / "manifest.json")


def _skipped(inputs: Inputs, job: Job, target: Path, entry: ManifestEntry,
             options: BuildOptions) -> DocumentResult:
    """An up-to-date document; date-dependent checks still run (a fact may have gone stale)."""
    translation = TranslationRecord.from_dict(job.lang, entry.translation) if (
        entry.translation) else None
    stale = inputs.stale(job, options.today)
    refused = options.strict and bool(stale)
    return DocumentResult(
        job, target, ok=not refused, status="failed" if refused else "skipped",
        pages=entry.pages, sha256=entry.sha256, fallbacks=tuple(entry.fallbacks),
        warnings=tuple(f"stale: {item}" for item in stale),
        problems=("facts past their review date: " + "; ".join(map(str, stale)),) if (
            refused) else (),
        translation=translation)


def _manifest_entry(result: DocumentResult, pdf: RenderedPdf, options: BuildOptions,
                    key: tuple[str, dict[str, str]]) -> ManifestEntry:
    job, readability = result.job, result.readability
    assert readability is not None and result.translation is not None
    return ManifestEntry(
        path=str(job.output), handout=job.handout, lang=job.lang, level=job.level,
        paper=job.paper, region=job.region, large_print=job.large_print, also=job.also,
        preview=job.preview, pages=pdf.page_count, sha256=result.sha256, bytes=len(pdf.data),
        key=key[0], inputs=key[1], fallbacks=list(result.fallbacks),
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
    target = options.out_dir / str(job.output)
    try:
        return render_document(inputs, job, options)
    except InputError as exc:
        return DocumentResult(job, target, ok=False,
                              problems=tuple(str(p) for p in exc.problems)), None
    except Exception as exc:
        return DocumentResult(job, target, ok=False, problems=(
            f"internal error (a bug in handoutkit, please report it): "
            f"{exc!r}\n{traceback.format_exc()}",)), None


#: The library's name for the build's entry point.
build = build_documents


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
