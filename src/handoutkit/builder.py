"""The build: decides which documents to make, renders them through the pipeline, writes them.

``build_documents`` is the library entry point the CLI calls. Each document has a key, the
hash of everything it depends on (the options that decide whether it may be written
included); a document whose key and PDF match the manifest is skipped.

A no-op decides before parsing anything: the manifest records each document's input files
with their hashes, the fonts it used and its context (the job, the options that gate it, the
tool's version). When all are as recorded, the document is up to date, and its stale check
reads the review dates the manifest keeps. Each file is hashed once per process. Only the
other documents have their inputs loaded and checked, so a malformed YAML, ``.po`` or TOML
file among them raises :class:`~handoutkit.errors.InputError` before anything is written; their
key then decides (a fixed translation rebuilds only the documents that print it). Those are
rendered serially or in worker processes, which return bytes: only this process writes, so a
worker orphaned by a killed build can never replace a newer file. One that fails a check
leaves its previous PDF in place while the others are still built. The manifest is written
only if an entry changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import posixpath
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from . import __version__
from .errors import InputError, Problem, UnknownReference
from .fonts import fontconfig_stamp
from .output import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    BuildLock,
    Manifest,
    ManifestEntry,
    check_writable,
    file_sha256,
    file_stamp,
    raise_if_stopped,
    remove_leftovers,
    sha256,
    signals_held,
    write_atomic,
)
from .pipeline import (
    BuildOptions,
    DocumentResult,
    InputFiles,
    Inputs,
    render_document,
)
from .plan import Job
from .project import SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .regions import StaleItem, region_codes
from .rendered import RenderedPdf, TranslationRecord
from .theme import file_label

#: The label of the tool's version among a document's recorded inputs.
VERSION_LABEL = "handoutkit"
#: Fonts are recorded as ``font:<file>`` with their size and modification time.
FONT_PREFIX = "font:"
#: fontconfig's state when the fonts were looked up (``fonts.fontconfig_stamp``).
FONTCONFIG_LABEL = "fontconfig"
#: How the manifest names a file, worked out once per file.
_label = cache(file_label)


@dataclass(frozen=True)
class BuildReport:
    """What a build made of each document, in the order asked, and where its manifest is."""

    results: tuple[DocumentResult, ...]
    manifest_path: Path

    @property
    def failed(self) -> list[DocumentResult]:
        return [r for r in self.results if not r.ok]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


#: Called with each document as it starts (``None`` result) and as it ends.
Progress = Callable[[Job, DocumentResult | None], None]


def document_key(inputs: Inputs, job: Job, options: BuildOptions) -> tuple[str, dict[str, str]]:
    """A hash of everything ``job``'s PDF depends on, and its inputs' own hashes and stamps.

    A topic's or region's ``.po`` file counts only through the entries the document prints
    (and whether a review covers them), so fixing one translation rebuilds exactly the
    documents that print it. The template's own words are looked up while rendering, so the
    template catalog counts as a whole file.
    """
    from .catalog import translation_record
    from .fonts import font_files

    project = inputs.project
    clinic = options.clinic
    hashes = {_label(p, project.root): file_sha256(p) for p in inputs.files(job, clinic)}
    digest = hashlib.sha256()
    for name, value in sorted(hashes.items()):
        if not name.endswith(".po") or name.endswith(f"/{TEMPLATE_DOMAIN}.po"):
            digest.update(f"{name}={value}\n".encode())
    url_template = clinic.profile.handout_url if clinic else None
    for lang in filter(None, (job.lang, job.also)):
        printed = inputs.printed(replace(job, lang=lang, also=None), url_template)
        digest.update(f"online={printed.online_url}\n".encode())  # the QR code's address
        catalogs = inputs.catalogs(lang, job.handout)
        record = translation_record(lang, printed.lookups, catalogs, lang == SOURCE_LANGUAGE)
        used = sorted((lk.id, lk.msgid, repr(lk.translation)) for lk in printed.lookups)
        digest.update(json.dumps([used, record.as_dict()], ensure_ascii=False).encode())
        for font in font_files(printed.language.fonts):
            stamp = font_stamp(font)
            digest.update(f"{font}:{stamp}\n".encode())
            hashes[f"{FONT_PREFIX}{font}"] = stamp
    hashes[FONTCONFIG_LABEL] = fontconfig_stamp()
    digest.update(repr(_gate(job, options)).encode())
    hashes[VERSION_LABEL] = __version__
    return digest.hexdigest(), hashes


def font_stamp(font: Path) -> str:
    """A font file's size and modification time: a font upgrade changes them."""
    info = font.stat()
    return f"{info.st_size}:{info.st_mtime_ns}"


def _gate(job: Job, options: BuildOptions) -> tuple[object, ...]:
    return (job, options.gate(), os.environ.get("SOURCE_DATE_EPOCH", ""), __version__)


@dataclass(frozen=True)
class _Made:
    """What the manifest records of how a document was made: its key, and what a no-op
    checks (see :class:`~handoutkit.output.ManifestEntry`)."""

    key: str
    inputs: dict[str, str]
    context: str
    due: list[list[str]]


class _Recorded:
    """Tells, parsing nothing, whether a document's inputs are still those its entry records."""

    def __init__(self, project: Project, options: BuildOptions):
        self.project = project
        self.options = options
        self.files = InputFiles(project, options.clinic)
        # Topics' facts are checked against the region profiles there are.
        self.regions = region_codes(project.handouts_dir)
        # By the identity of a part, which InputFiles finds once and keeps (kept here too).
        self._hashes: dict[int, tuple[tuple[Path, ...], dict[str, str] | None]] = {}
        self._fonts: dict[str, str | None] = {}
        self._stacks: dict[str, list[Path]] = {}
        self._fontconfig = fontconfig_stamp()

    def context(self, job: Job) -> str:
        return sha256(repr((_gate(job, self.options), self.regions)).encode())

    def unchanged(self, job: Job, entry: ManifestEntry) -> bool:
        if entry.retry or entry.context != self.context(job):
            return False
        current = {VERSION_LABEL: __version__}
        for part in self.files.parts(job):
            hashes = self._hashed(part)
            if hashes is None:
                return False
            current.update(hashes)
        # The fonts fontconfig picks now for the document's languages: a font installed or
        # removed, or a fontconfig change, rebuilds it, not only an edited font file. While
        # fontconfig's own state is as recorded, the fonts recorded are still its answer.
        current[FONTCONFIG_LABEL] = self._fontconfig
        if entry.inputs.get(FONTCONFIG_LABEL) == self._fontconfig:
            labels = [label for label in entry.inputs if label.startswith(FONT_PREFIX)]
        else:
            labels = [f"{FONT_PREFIX}{font}" for lang in filter(None, (job.lang, job.also))
                      for font in self._fonts_for(lang)]
        for label in labels:
            stamp = self._font(label)
            if stamp is None:
                return False
            current[label] = stamp
        return current == entry.inputs

    def _fonts_for(self, lang: str) -> list[Path]:
        from .fonts import font_files
        from .languages import language

        if lang not in self._stacks:
            self._stacks[lang] = font_files(language(lang).fonts)
        return self._stacks[lang]

    def _hashed(self, part: tuple[Path, ...]) -> dict[str, str] | None:
        """The files of ``part`` by label, with their hashes (``None``: one is gone)."""
        if id(part) not in self._hashes:
            try:
                hashes = {_label(path, self.project.root): file_sha256(path) for path in part}
            except OSError:
                hashes = None
            self._hashes[id(part)] = (part, hashes)
        return self._hashes[id(part)][1]

    def _font(self, label: str) -> str | None:
        if label not in self._fonts:
            try:
                self._fonts[label] = font_stamp(Path(label.removeprefix(FONT_PREFIX)))
            except OSError:
                self._fonts[label] = None
        return self._fonts[label]


def build_documents(project: Project, jobs: list[Job], options: BuildOptions,
                    progress: Progress | None = None) -> BuildReport:
    """Build ``jobs`` into ``options.out_dir``; one build at a time per folder."""
    check_writable(options.out_dir)
    if options.shard is not None:
        jobs = options.shard.select(jobs)
    names = [str(job.output) for job in jobs]
    with BuildLock(options.out_dir, options.lock_timeout) as lock:
        remove_leftovers(options.out_dir, {options.out_dir / folder for folder in
                                           {posixpath.dirname(name) for name in names}})
        manifest = Manifest.read(options.out_dir, __version__,
                                 options.shard.manifest_name if options.shard else MANIFEST_NAME)
        # A share's part is written even when it holds nothing: the merge counts every part.
        manifest.changed |= options.shard is not None and not (
            options.out_dir / manifest.name).exists()
        try:
            report = _build_locked(project, jobs, names, options, manifest, progress, lock.fd)
        except (OSError, KeyboardInterrupt):
            # A full disk, a folder it may not write, or a stop asked for (Ctrl-C, SIGTERM):
            # record the PDFs written before it, if the manifest still fits, so that it says
            # what is on disk, then let it be reported.
            if manifest.changed:
                with contextlib.suppress(OSError, InputError), signals_held():
                    manifest.write(options.out_dir)
            raise
        if manifest.changed:
            manifest.write(options.out_dir)
    return report


def _build_locked(project: Project, jobs: list[Job], names: list[str], options: BuildOptions,
                  manifest: Manifest, progress: Progress | None,
                  lock_fd: int | None = None) -> BuildReport:
    # Long by design: one pass in the order a no-op must take, checking the manifest before
    # anything is parsed, then keys, then rendering, each step a few lines.
    results: list[DocumentResult | None] = [None] * len(jobs)
    recorded = _Recorded(project, options)

    def skip(index: int, entry: ManifestEntry, target: Path) -> None:
        results[index] = _skipped(project, jobs[index], target, entry, options)
        if progress:
            progress(jobs[index], results[index])

    pending = []
    for index, (job, name) in enumerate(zip(jobs, names, strict=True)):
        entry, target = manifest.entries.get(name), options.out_dir / name
        if (not options.force and entry is not None and recorded.unchanged(job, entry)
                and manifest.intact(entry, target)):
            skip(index, entry, target)
        else:
            pending.append(index)
    if not pending:
        return _report(results, jobs, options)

    # Only now is anything parsed: the inputs of the documents the manifest cannot vouch for.
    inputs = Inputs(project, [jobs[index] for index in pending])
    made: dict[int, _Made] = {}
    todo = []
    for index in pending:
        job = jobs[index]
        error = inputs.problem(job)
        if error is not None:  # a broken input fails only the documents made from it
            manifest.retry(names[index])
            results[index] = DocumentResult(
                job, options.out_dir / names[index], ok=False,
                status="failed" if isinstance(error, UnknownReference) else "invalid",
                problems=tuple(str(problem) for problem in error.problems))
            if progress:
                progress(job, results[index])
            continue
        key, hashes = document_key(inputs, job, options)
        due = [[item.what, item.review_by.isoformat(), _label(item.path, project.root)]
               for item in inputs.stale(job, dt.date.max)]  # every dated item it prints
        made[index] = _Made(key, hashes, recorded.context(job), due)
        entry, target = manifest.entries.get(names[index]), options.out_dir / names[index]
        if (not options.force and entry is not None and not entry.retry and entry.key == key
                and manifest.intact(entry, target)):
            # Some input changed, but nothing this document prints: keep its PDF, and record
            # the inputs as they are now so that the next no-op decides without parsing.
            entry = replace(entry, inputs=hashes, context=made[index].context, due=due)
            manifest.put(entry)
            skip(index, entry, target)
        else:
            todo.append(index)

    def finish(index: int, result: DocumentResult, pdf: RenderedPdf | None) -> None:
        path = str(result.job.output)
        if pdf is not None:
            write_atomic(result.path, pdf.data)
            result = replace(result, ok=True, status="built", pages=pdf.page_count,
                             sha256=sha256(pdf.data))
            manifest.put(_manifest_entry(result, pdf, options, made[index],
                                         file_stamp(result.path)))
        else:
            manifest.retry(path)  # the old PDF stays; try again next time
        results[index] = result
        if progress:
            progress(result.job, result)

    def render(index: int) -> tuple[DocumentResult, RenderedPdf | None]:
        return _render_guarded(inputs, jobs[index], options)

    def started(index: int) -> None:
        if progress:
            progress(jobs[index], None)

    def finished(index: int, made: tuple[DocumentResult, RenderedPdf | None]) -> bool:
        """Record the document; whether to go on (a render's own result is never ``ok``:
        only its written PDF makes it so, in ``finish``)."""
        finish(index, *made)
        done = results[index]
        return not options.fail_fast or (done is not None and done.ok)

    if options.jobs > 1 and len(todo) > 1:
        from .workers import render_parallel

        render_parallel(render, todo, options.jobs, started, finished, lock_fd)
    else:
        for index in todo:
            raise_if_stopped()
            started(index)
            if not finished(index, render(index)):
                break
    return _report(results, jobs, options)


def _report(results: list[DocumentResult | None], jobs: list[Job],
            options: BuildOptions) -> BuildReport:
    final = [r or DocumentResult(job, options.out_dir / str(job.output), ok=False,
                                 status="not built", problems=("not built: --fail-fast",))
             for r, job in zip(results, jobs, strict=True)]
    name = options.shard.manifest_name if options.shard else MANIFEST_NAME
    return BuildReport(tuple(final), options.out_dir / name)


def _skipped(project: Project, job: Job, target: Path, entry: ManifestEntry,
             options: BuildOptions) -> DocumentResult:
    """An up-to-date document; date-dependent checks still run, on the dates recorded (a fact
    may have gone stale)."""
    translation = TranslationRecord.from_dict(job.lang, entry.translation) if (
        entry.translation) else None
    stale = [StaleItem(what, due, project.root / file) for what, on, file in entry.due
             if (due := dt.date.fromisoformat(on)) < options.today]
    refused = options.strict and bool(stale)
    return DocumentResult(
        job, target, ok=not refused, status="failed" if refused else "skipped",
        pages=entry.pages, sha256=entry.sha256, fallbacks=tuple(entry.fallbacks),
        warnings=tuple(f"stale: {item}" for item in stale),
        problems=("facts past their review date: " + "; ".join(map(str, stale)),) if (
            refused) else (),
        translation=translation)


def _manifest_entry(result: DocumentResult, pdf: RenderedPdf, options: BuildOptions,
                    made: _Made, stamp: list[int]) -> ManifestEntry:
    job, readability = result.job, result.readability
    assert readability is not None and result.translation is not None
    return ManifestEntry(
        path=str(job.output), handout=job.handout, lang=job.lang, level=job.level,
        paper=job.paper, region=job.region, large_print=job.large_print, also=job.also,
        preview=job.preview, pages=pdf.page_count, sha256=result.sha256, bytes=len(pdf.data),
        key=made.key, inputs=made.inputs, context=made.context, due=made.due,
        fallbacks=list(result.fallbacks),
        translation=result.translation.as_dict(),
        readability={**readability.as_dict(),
                     "override": options.allow_hard and not readability.passed},
        warnings=[*result.warnings, *pdf.warnings], stamp=stamp, fonts=list(pdf.fonts))


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
    """Worker processes a build uses by default: one per CPU core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


_PART = re.compile(r"manifest\.(\d+)-of-(\d+)\.json")


@dataclass(frozen=True)
class MergedManifest:
    """What ``handout manifest merge`` joined: the parts, and the documents they list."""

    path: Path
    parts: tuple[str, ...]
    documents: int


def merge_manifests(build_dir: Path, lock_timeout: float = 600.0) -> MergedManifest:
    """Join the manifest parts of a sharded build (``--shard K/N``, their PDFs copied into
    ``build_dir``) into the one ``manifest.json`` the desk and later builds read.

    Refuses, naming them, parts that are missing or of another shard count, of another tool
    version or manifest format, or built with other fonts (one image for every shard), and
    PDFs that are missing or not the bytes their part records.
    """
    parts = sorted(((int(m.group(1)), int(m.group(2)), path) for path in build_dir.iterdir()
                    if (m := _PART.fullmatch(path.name))), key=lambda part: part[:2])
    if not parts:
        raise InputError.at("no manifest parts (manifest.K-of-N.json) in the build folder",
                            build_dir, hint="build each share with `handout build --shard K/N` "
                                            "into this folder (or copy its folder here) first")
    problems = _missing_parts(parts, build_dir)
    entries, read_problems = _read_parts([path for _, _, path in parts], build_dir)
    problems += read_problems
    for entry in entries.values():
        target = build_dir / entry.path
        if not target.is_file() or file_sha256(target) != entry.sha256:
            problems.append(Problem(f"{entry.path}: missing, or not the PDF its part records",
                                    build_dir, hint="copy in every share's PDFs as built"))
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    with BuildLock(build_dir, lock_timeout):
        manifest = Manifest(__version__, {path: replace(entry, stamp=file_stamp(
            build_dir / path)) for path, entry in entries.items()}, changed=True)
        manifest.write(build_dir)
    return MergedManifest(build_dir / MANIFEST_NAME, tuple(p.name for _, _, p in parts),
                          len(entries))


def _missing_parts(parts: list[tuple[int, int, Path]], build_dir: Path) -> list[Problem]:
    problems = []
    counts = {count for _, count, _ in parts}
    if len(counts) > 1:
        problems.append(Problem(f"parts of different shard counts: {sorted(counts)}; merge "
                                "the parts of one build", build_dir))
    count = max(counts)
    missing = sorted(set(range(1, count + 1)) - {index for index, _, _ in parts})
    if missing:
        problems.append(Problem("missing part(s): " + ", ".join(
            f"manifest.{k}-of-{count}.json" for k in missing), build_dir,
            hint="copy in the build folder of each share before merging"))
    return problems


def _read_parts(paths: list[Path], build_dir: Path
                ) -> tuple[dict[str, ManifestEntry], list[Problem]]:
    """The parts' entries, and what in them does not fit together: format, tool version,
    font copies, a document in two parts with different bytes."""
    entries: dict[str, ManifestEntry] = {}
    problems: list[Problem] = []
    versions: dict[str, str] = {}  # part → the handoutkit version that wrote it
    fonts: dict[str, tuple[str, str]] = {}  # font → its stamp, and the first part with it
    for path in paths:
        try:
            raw = json.loads(path.read_bytes())
            part_entries = [ManifestEntry(**e) for e in raw["outputs"]]
            versions[path.name], form = str(raw["tool_version"]), raw["format"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(f"not a manifest part: {exc}", path))
            continue
        if form != MANIFEST_FORMAT:
            problems.append(Problem(f"manifest format {form}, not {MANIFEST_FORMAT}", path))
        for entry in part_entries:
            for label, stamp in entry.inputs.items():
                if not label.startswith(FONT_PREFIX):
                    continue
                first = fonts.setdefault(label, (stamp, path.name))
                if first[0] != stamp:
                    problems.append(Problem(
                        f"built with another copy of {label.removeprefix(FONT_PREFIX)} "
                        f"than {first[1]}", path, hint="build every share on one image"))
            earlier = entries.get(entry.path)
            if earlier is not None and earlier.sha256 != entry.sha256:
                problems.append(Problem(f"{entry.path} is in two parts with different bytes",
                                        path))
            entries[entry.path] = entry
    if len(set(versions.values())) > 1:
        problems.append(Problem("parts made by different handoutkit versions: " + ", ".join(
            f"{name} {version}" for name, version in sorted(versions.items())), build_dir))
    return entries, problems
