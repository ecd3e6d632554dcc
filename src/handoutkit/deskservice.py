"""The print desk's engine without HTTP: which document a choice names, and the bytes for it.

``RenderService`` checks a :class:`~handoutkit.plan.Choice` against the project, keys the
document as an incremental build does and judges it under the project's policy; it answers
from the build folder when ``handout build`` made the same document, from memory or a
folder several desks share, and otherwise renders in a bounded pool of worker processes. A
request's job and key are remembered while its input files keep their identity and change
time, so a repeated request parses nothing. ``serve.py`` puts HTTP routes over it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import stat
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import __version__
from .clinic import Clinic, load_clinic
from .errors import HandoutkitError, InputError
from .files import read_limited
from .languages import PAPERS
from .levels import LEVEL_NAMES, LEVELS
from .output import MANIFEST_NAME, Manifest, file_stamp
from .pipeline import DocumentRefused
from .plan import Choice, Job, printed_name, read_settings
from .project import Project
from .regions import load_region, region_codes

if TYPE_CHECKING:
    from .infobutton import InfoRequest
    from .readability import ReadabilityReport

#: The longest "prepared for" name printed on a handout, in characters.
MAX_PREPARED_FOR = 80
#: Clients whose rate-limit buckets are remembered at once (least recently seen go first).
MAX_CLIENTS = 10_000
#: Requests whose job and build key are remembered at once (least recently used go first).
MAX_KNOWN = 4096
#: A file changed this recently may change again within the file system's time resolution:
#: what was computed from it is not trusted until it is older (as git does with its index).
SETTLE_NS = 2_000_000_000


def choice_values(project: Project) -> dict[str, list[str]]:
    """The values each choice may take in ``project``, for the OpenAPI document."""
    languages = project.languages()
    return {"handout": project.handout_ids(), "lang": languages, "also": languages,
            "level": list(LEVEL_NAMES), "paper": list(PAPERS),
            "region": region_codes(project.handouts_dir)}



# --- remembering what was computed from files -------------------------------------------------

Stamp = tuple[tuple[int, int, int] | None, ...]
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def _stamp(paths: tuple[Path, ...]) -> Stamp:
    """Identity, size and change time of each path (``None``: missing)."""
    stamps: list[tuple[int, int, int] | None] = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            stamps.append(None)
        else:
            stamps.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


@dataclass(frozen=True)
class Fresh(Generic[T]):
    """A value computed from files, valid while they and their folders keep their stat
    (a folder's change time moves when a file appears in it or leaves it).

    A file changed so recently that a second change could keep its stat (or stamped in the
    desk's future, by a clock that differs) is judged by its content instead: its digest,
    taken when the value was computed, must still be its digest.
    """

    value: T
    paths: tuple[Path, ...]
    stamp: Stamp
    #: Every file was older than the computation: a later change shows in the stamp.
    settled: bool
    #: For an unsettled value, each path's content digest (``None``: a folder, a large file
    #: or a missing one, judged by its stamp alone).
    digests: tuple[str | None, ...] = ()

    @classmethod
    def of(cls, value: T, files: Iterable[Path], started_ns: int,
           folders: Iterable[Path] = ()) -> Fresh[T]:
        files = list(files)
        paths = tuple(sorted({*files, *(f.parent for f in files), *folders}))
        stamp = _stamp(paths)
        settled = all(s is None or s[2] < started_ns - SETTLE_NS for s in stamp)
        return cls(value, paths, stamp, settled, () if settled else _digests(paths))

    def current(self) -> bool:
        if _stamp(self.paths) != self.stamp:
            return False
        return self.settled or _digests(self.paths) == self.digests


#: Files judged by content when their stat cannot be trusted: the project's own (YAML,
#: catalogs, templates), not fonts.
MAX_DIGESTED_BYTES = 1024 * 1024


def _digests(paths: tuple[Path, ...]) -> tuple[str | None, ...]:
    found: list[str | None] = []
    for path in paths:
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_DIGESTED_BYTES:
                found.append(None)
                continue
            found.append(hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            found.append(None)
    return tuple(found)


@dataclass(frozen=True)
class DeskDocument:
    """What a request names, as the project has it now: the job, its build key (the same an
    incremental build uses) and how readable it is."""

    job: Job
    key: str
    readability: ReadabilityReport
    #: Why the project's policy refuses it, in the CLI's words (empty: it may be printed).
    problems: tuple[str, ...] = ()
    #: The policy it was judged under, as plain data for the render workers.
    policy: tuple[tuple[str, Any], ...] = ()


def _document(project: Project, clinic: Clinic | None, choice: Choice) -> Fresh[DeskDocument]:
    """Check ``choice``, key the document it names and judge it under the project's
    policy, as ``handout build`` would (this parses its inputs)."""
    from .builder import document_key
    from .fonts import font_files
    from .languages import language
    from .pipeline import BuildOptions, Inputs, assess
    from .plan import PLAN_FILE

    started = time.time_ns()
    job = choice.job(project)
    policy = read_settings(project).policy
    inputs = Inputs(project, [job])
    inputs.require(job)
    options = BuildOptions.under(policy, out_dir=project.root / "build", clinic=clinic)
    key = document_key(inputs, job, options)[0]
    judged = assess(inputs, job, options)
    assert judged.readability is not None
    fonts = [font for lang in filter(None, (job.lang, job.also))
             for font in font_files(language(lang).fonts)]
    document = DeskDocument(job, key, judged.readability, judged.problems,
                        tuple(policy.model_dump().items()))
    # The project's folder too: a templates/ folder of overrides may appear in it.
    return Fresh.of(document, [*inputs.files(job, clinic), *fonts, project.root / PLAN_FILE],
                    started, [project.root])


def project_catalog(project: Project) -> dict[str, Any]:
    """Topics, languages (in their own names, with catalog coverage), levels and regions."""
    from .content import load_each
    from .i18n import status
    from .languages import language

    rows = {(row.lang, row.domain): row for row in status(project)}
    # A broken topic is left out and named; the others are served.
    sources, broken = load_each(project, project.handout_ids())

    def topic_language(handout: str, code: str) -> dict[str, Any]:
        row = rows.get((code, handout))
        return {"code": code, "name": language(code).name, "tag": language(code).html_lang,
                "direction": language(code).direction,
                "coverage": row.percent if row else 100.0,
                "translation": row.review if row else "source",
                "reviewed_by": row.reviewed_by if row else None}

    return {
        "handouts": [{"id": s.id, "title": s.handout.title if isinstance(
                          s.handout.title, str) else s.handout.title["standard"],
                      "version": s.handout.version,
                      "reviewed": s.handout.reviewed.isoformat(),
                      "languages": [topic_language(s.id, code)
                                    for code in project.topic_languages(s.id)]}
                     for s in sources.values()],
        "languages": [{"code": code, "name": language(code).name,
                       "tag": language(code).html_lang, "direction": language(code).direction}
                      for code in project.languages()],
        "levels": [{"name": lvl.name, "description": lvl.description}
                   for lvl in LEVELS.values()],
        "regions": [{"code": code, "name": load_region(project.handouts_dir, code).name}
                    for code in region_codes(project.handouts_dir)],
        "papers": list(PAPERS),
        "errors": [project.public(str(problem))
                   for error in broken.values() for problem in error.problems],
    }


def _catalog(project: Project) -> Fresh[dict[str, Any]]:
    """The project's catalog, watching every file and folder of its content and catalogs."""
    started = time.time_ns()
    files = [Path(folder) / name for top in (project.handouts_dir, project.locales_dir)
             for folder, _, names in os.walk(top) for name in names]
    return Fresh.of(project_catalog(project), files, started, [project.root])


# --- rendering, in worker processes ------------------------------------------------------------

def _render_pdf(root: str, job: Job, clinic_path: str | None, prepared_for: str | None,
                as_png: bool, policy: tuple[tuple[str, Any], ...]
                ) -> tuple[bytes | None, tuple[str, ...]]:
    """Render one document in memory (nothing is written to disk): PDF, or page 1 as PNG,
    or the reasons the policy refuses it. Only plain values go in and come out."""
    from .pipeline import BuildOptions, DocumentRefused, render_pdf
    from .plan import Policy

    project = Project(Path(root))
    clinic = load_clinic(Path(clinic_path)) if clinic_path else None
    options = BuildOptions.under(Policy(**dict(policy)), out_dir=project.root / "build")
    try:
        data, _ = render_pdf(project, job, clinic, prepared_for, options)
    except DocumentRefused as exc:
        return None, exc.problems
    from .rendered import first_page_png

    return (first_page_png(data) if as_png else data), ()


def _warm_worker() -> bool:
    """Run in each new worker at launch: the imports a render needs, so the first request
    does not pay for them (already done where the fork server imported them)."""
    import importlib

    from .pipeline import RENDER_MODULES

    for name in RENDER_MODULES:
        importlib.import_module(name)
    return True


def from_build(build_dir: Path, manifest: Manifest, job: Job, key: str) -> bytes | None:
    """The PDF ``handout build`` made for ``job``, if it was made from what the desk would use
    (the same document key: inputs, fonts, policy) and the file is the one it recorded."""
    entry = manifest.entries.get(str(job.output))
    target = build_dir / str(job.output)
    if entry is None or entry.key != key or entry.retry or not manifest.intact(entry, target):
        return None
    try:
        data = read_limited(target, MAX_CACHE_ENTRY, "built PDF")
    except InputError:
        return None
    # The file may have changed since it was checked: what is served is what was recorded.
    return data if hashlib.sha256(data).hexdigest() == entry.sha256 else None


# --- the service: cache, shared renders, worker pool, limits, counters ---------------------

@dataclass
class Limits:
    """How much the desk takes on: render workers, waiting requests, per-client rate, cache."""

    #: Render worker processes.
    workers: int = 2
    #: Requests that may wait for a worker; past that the desk answers 503 at once.
    queue: int = 64
    #: Token bucket per client address: a steady rate and a burst.
    rate_per_second: float = 50.0
    burst: int = 200
    #: Rendered documents kept in memory, in bytes (least recently used go first).
    cache_bytes: int = 64 * 1024 * 1024


@dataclass
class Stats:
    """The desk's counters, as ``/healthz`` shows them."""

    renders: int = 0
    pools_replaced: int = 0
    cache_hits: int = 0
    #: Requests answered with the PDF `handout build` made (its key matched), not rendered.
    build_hits: int = 0
    #: Of the hits, those read from the shared cache folder (another desk may have made them).
    shared_hits: int = 0
    #: Times inputs were parsed: a request new to the desk or whose files changed, the catalog.
    parsed: int = 0
    rejected_busy: int = 0
    rejected_rate: int = 0


@dataclass
class _Bucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)


class DeskBusy(HandoutkitError):
    """Every render worker is busy and the queue is full: the request may be sent again
    shortly (the desk answers 503 with Retry-After)."""


def _remember(table: OrderedDict[K, T], key: K, value: T, limit: int) -> None:
    """Put ``key`` last in a table that forgets its least recently used entries past ``limit``."""
    table.pop(key, None)
    table[key] = value
    while len(table) > limit:
        table.popitem(last=False)


class RenderService:
    """What the desk does besides routing: renders in a bounded pool of worker processes,
    identical requests sharing one render, a cache keyed like incremental builds (in memory,
    and in a folder shared by several desks when one is given), per-client rate limits and
    counters. Nothing slow runs on the event loop, and a repeated request parses nothing."""

    def __init__(self, project: Project, clinic_path: Path | None, limits: Limits,
                 cache_dir: Path | None = None, build_dir: Path | None = None):
        self.project, self.clinic_path, self.limits = project, clinic_path, limits
        self.cache_dir = cache_dir
        self.clinic: Clinic | None = load_clinic(clinic_path) if clinic_path else None
        self.stats = Stats()
        self.pools: list[ProcessPoolExecutor] = []
        #: Parsing holds the GIL: one thread, so it never queues the quick work behind it.
        self._parser = ThreadPoolExecutor(1, thread_name_prefix="handoutkit-parse")
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = 0
        self._known: OrderedDict[Choice, Fresh[DeskDocument]] = OrderedDict()
        self._catalog: Fresh[dict[str, Any]] | None = None
        self._pending = asyncio.Semaphore(limits.workers + limits.queue)
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._in_flight: dict[str, asyncio.Future[bytes]] = {}
        self._parsing: dict[Choice, asyncio.Future[Fresh[DeskDocument]]] = {}
        self.build_dir = build_dir or project.root / "build"
        #: Where ``handout site`` writes the online version, which the desk serves at /site/.
        self.site_dir = project.root / read_settings(project).site.out
        self._built: tuple[list[int], Manifest] | None = None
        self._warming: list[Future[bool]] = []

    def warm(self) -> None:
        """Start the workers now, each importing what a render needs."""
        self._warming = [self._submit(_warm_worker) for _ in range(self.limits.workers)]

    @property
    def ready(self) -> bool:
        """Whether the workers started at launch have warmed up: not while they start, nor
        when they could not (then every render would fail)."""
        return all(future.done() and not future.cancelled() and future.exception() is None
                   for future in self._warming)

    async def infobutton(self, request: InfoRequest) -> list[dict[str, Any]]:
        """The entries for an infobutton request, judged under the project's policy (on the
        parsing thread: it reads the project's files)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._parser, self._infobutton, request)

    def _infobutton(self, request: InfoRequest) -> list[dict[str, Any]]:
        from .content import load_each
        from .infobutton import answer
        from .pipeline import BuildOptions
        settings = read_settings(self.project)
        sources, broken = load_each(self.project, self.project.handout_ids())
        options = BuildOptions.under(settings.policy, out_dir=self.build_dir,
                                     clinic=self.clinic)
        site = self.project.root / settings.site.out
        entries = answer(self.project, sources, request, options,
                         site if site.is_dir() else None)
        if not entries and broken:  # the topic asked for may be the one that cannot be read
            raise InputError([p for error in broken.values() for p in error.problems])
        return entries

    def _build_manifest(self) -> Manifest:
        """The build folder's manifest, read again only when the file changed."""
        path = self.build_dir / MANIFEST_NAME
        try:
            stamp = file_stamp(path)
        except OSError:
            return Manifest(__version__)
        if self._built is None or self._built[0] != stamp:
            self._built = (stamp, Manifest.read(self.build_dir, __version__))
        return self._built[1]

    @property
    def cached(self) -> int:
        """Documents held in memory."""
        return len(self._cache)

    def admit(self, client: str) -> bool:
        """Take a token from ``client``'s bucket; ``False`` when it is over the rate limit.

        The table is bounded: the least recently seen clients are forgotten first (a
        forgotten client starts again with a full bucket, which is what it would have).
        """
        limits = self.limits
        bucket = self._buckets.get(client) or _Bucket(float(limits.burst))
        _remember(self._buckets, client, bucket, MAX_CLIENTS)
        now = time.monotonic()
        bucket.tokens = min(limits.burst,
                            bucket.tokens + (now - bucket.stamp) * limits.rate_per_second)
        bucket.stamp = now
        if bucket.tokens < 1:
            self.stats.rejected_rate += 1
            return False
        bucket.tokens -= 1
        return True

    async def _fresh(self, known: Fresh[T] | None, compute: Callable[[], Fresh[T]]) -> Fresh[T]:
        """``known`` if its files are unchanged (a few ``stat`` calls, in a thread), else
        ``compute()`` on the parsing thread."""
        if known is not None and await asyncio.to_thread(known.current):
            return known
        self.stats.parsed += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._parser, compute)

    async def catalog(self) -> dict[str, Any]:
        """The project's topics, languages and regions, parsed again only when files change."""
        self._catalog = await self._fresh(self._catalog, lambda: _catalog(self.project))
        return self._catalog.value

    async def document(self, choice: Choice) -> DeskDocument:
        """The document ``choice`` names; raises :class:`InputError` for a bad choice."""
        if choice in self._parsing:  # the same request is being parsed: share its answer
            return (await asyncio.shield(self._parsing[choice])).value
        task = asyncio.ensure_future(self._fresh(
            self._known.get(choice), lambda: _document(self.project, self.clinic, choice)))
        self._parsing[choice] = task
        try:
            known = await asyncio.shield(task)
        finally:
            self._parsing.pop(choice, None)
        _remember(self._known, choice, known, MAX_KNOWN)
        return known.value

    async def rendered(self, choice: Choice, prepared_for: str | None, as_png: bool
                       ) -> tuple[Job, bytes]:
        """The document's PDF (or page 1 as PNG) with its job: from the build, the cache or
        a worker. Raises :class:`DocumentRefused` if the policy refuses it, and
        :class:`DeskBusy` when no worker can take it."""
        if prepared_for:
            printed_name("prepared_for", prepared_for, MAX_PREPARED_FOR)
        document = await self.document(choice)
        job = document.job
        if document.problems:  # refused by the project's policy: no worker needed
            raise DocumentRefused(document.problems)
        if prepared_for:  # a named document is never cached
            return job, await self._render_now(document, prepared_for, as_png)
        key = f"{document.key}.{'png' if as_png else 'pdf'}"
        if key in self._cache:
            self.stats.cache_hits += 1
            self._cache.move_to_end(key)
            return job, self._cache[key]
        if key in self._in_flight:  # the same document is being made: wait for it
            self.stats.cache_hits += 1
            return job, await asyncio.shield(self._in_flight[key])
        task = asyncio.ensure_future(self._produce(key, document, as_png))
        self._in_flight[key] = task
        try:
            data = await asyncio.shield(task)
        finally:
            self._in_flight.pop(key, None)
        self._keep(key, data)
        return job, data

    def _keep(self, key: str, data: bytes) -> None:
        """Cache ``data`` in memory, forgetting the least recently used past the byte limit."""
        self._cache_size += len(data) - len(self._cache.pop(key, b""))
        self._cache[key] = data
        while self._cache_size > self.limits.cache_bytes and len(self._cache) > 1:
            self._cache_size -= len(self._cache.popitem(last=False)[1])

    async def _produce(self, key: str, document: DeskDocument, as_png: bool) -> bytes:
        """From the build folder if `handout build` made it, from the shared cache folder if
        another desk (or this one) did, else rendered and left there for the others."""
        built = await asyncio.to_thread(lambda: from_build(
            self.build_dir, self._build_manifest(), document.job, document.key))
        if built is not None:
            self.stats.build_hits += 1
            if as_png:
                from .rendered import first_page_png

                return await asyncio.to_thread(first_page_png, built)
            return built
        shared = self.cache_dir / key if self.cache_dir else None
        if shared is not None:
            data = await asyncio.to_thread(read_shared, shared, key)
            if data is not None:
                self.stats.cache_hits += 1
                self.stats.shared_hits += 1
                return data
        data = await self._render_now(document, None, as_png)
        if shared is not None:
            await asyncio.to_thread(write_shared, shared, key, data)
        return data

    def _submit(self, function: Callable[..., T], *arguments: Any) -> Future[T]:
        """``function`` on a render worker. Workers start as the pool needs them, here: each
        without the program's main script, which they do not need and which, in a launcher
        without an ``if __name__ == "__main__"`` guard, would run the whole command again
        in every worker."""
        import sys

        main = sys.modules["__main__"]
        hidden = {name: main.__dict__.pop(name) for name in ("__file__",)
                  if name in main.__dict__}
        spec, main.__spec__ = getattr(main, "__spec__", None), None
        try:
            return self._executor().submit(function, *arguments)
        finally:
            main.__dict__.update(hidden)
            main.__spec__ = spec

    def _executor(self) -> ProcessPoolExecutor:
        if not self.pools:
            import multiprocessing

            from .pipeline import RENDER_MODULES
            from .workers import die_with_parent

            # Not fork: the desk has threads. A fork server that has imported what a render
            # needs starts each worker (and each replacement) warm, for a fork's cost; it
            # ends when the desk does.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__, *RENDER_MODULES])
            self.pools.append(ProcessPoolExecutor(
                self.limits.workers, mp_context=context,
                initializer=die_with_parent, initargs=(os.getpid(),)))
        return self.pools[0]

    async def _render_now(self, document: DeskDocument, prepared_for: str | None,
                          as_png: bool) -> bytes:
        if self._pending.locked():
            self.stats.rejected_busy += 1
            raise DeskBusy()
        async with self._pending:
            arguments = (str(self.project.root), document.job,
                         str(self.clinic_path) if self.clinic_path else None,
                         prepared_for or None, as_png, document.policy)
            try:
                data, problems = await asyncio.wrap_future(self._submit(_render_pdf, *arguments))
            except BrokenProcessPool:
                # A worker died (killed, out of memory): replace the pool, try once more.
                self.stats.pools_replaced += 1
                self.pools.pop().shutdown(wait=False, cancel_futures=True)
                data, problems = await asyncio.wrap_future(self._submit(_render_pdf, *arguments))
        self.stats.renders += 1
        if data is None:  # refused after layout (too long, a glyph missing)
            raise DocumentRefused(problems)
        return data

    def shutdown(self) -> None:
        """Stop the workers and the parsing thread (queued renders are cancelled)."""
        for workers in self.pools:
            workers.shutdown(cancel_futures=True)
        self._parser.shutdown(cancel_futures=True)


#: What starts every entry of the shared cache folder: its key and its payload's SHA-256.
CACHE_HEADER = "handoutkit-cache 1 {key} {digest}\n"
#: An entry larger than this is not one the desk wrote (a PDF or page image is far smaller).
MAX_CACHE_ENTRY = 32 * 1024 * 1024
_distrusted: set[str] = set()


def read_shared(path: Path, key: str) -> bytes | None:
    """An entry of the shared cache folder, only if it is what a desk wrote for ``key``.

    The folder is shared, so nothing in it is trusted: the entry is opened without following
    a link and without waiting on a pipe, must be a regular file of bounded size, and must
    carry ``key`` and its payload's digest. Anything else (a link, a pipe, a folder, an
    unreadable, truncated or empty file, another document's entry) is ignored, logged once,
    and the document is rendered afresh.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        _distrust(path, exc.strerror or "cannot be opened")
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        _distrust(path, "not a regular file")
        return None
    with os.fdopen(fd, "rb") as entry:
        data = entry.read(MAX_CACHE_ENTRY + 1)
    header, newline, payload = data.partition(b"\n")
    expected = CACHE_HEADER.format(key=key, digest=hashlib.sha256(payload).hexdigest())
    if len(data) > MAX_CACHE_ENTRY or not newline or header + newline != expected.encode():
        _distrust(path, "not the entry a desk wrote for this document (its key or digest "
                        "does not match)")
        return None
    return payload


def _distrust(path: Path, why: str) -> None:
    if path.name not in _distrusted:
        _distrusted.add(path.name)
        logging.getLogger("handoutkit.serve").warning(
            "cache folder: ignoring %s: %s; rendering afresh", path.name, why)


def write_shared(path: Path, key: str, data: bytes) -> None:
    """Leave a rendered document in the shared folder, marked with its key and digest; a desk
    that cannot write there still serves it."""
    from .output import write_atomic

    header = CACHE_HEADER.format(key=key, digest=hashlib.sha256(data).hexdigest())
    try:
        write_atomic(path, header.encode() + data)
    except OSError as exc:
        logging.getLogger("handoutkit.serve").warning("cache folder: %s", exc)
