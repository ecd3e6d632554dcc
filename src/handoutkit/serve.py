"""The print desk: a local web page and HTTP API that render handouts on demand.

Requests are validated against what the project has (422 names the field and the allowed
values), rendered in a bounded pool of worker processes, and cached by the same key an
incremental build uses, in memory and optionally in a folder several desks share. A request's
job and key are remembered while its input files keep their identity and change time, so a
repeated request parses nothing. A "prepared for" name travels only in a POST body, is printed
on the handout and nowhere else: such documents are never cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import ipaddress
import json
import logging
import os
import re
import stat
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl, unquote_plus

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__
from .clinic import Clinic, load_clinic
from .errors import InputError
from .files import read_limited
from .languages import PAPERS
from .levels import LEVEL_NAMES, LEVELS
from .output import MANIFEST_NAME, Manifest, file_stamp
from .pipeline import DocumentRefused
from .plan import NAME_PATTERN, InvalidChoice, Job, printed_name
from .plan import choose_job as make_job
from .project import Project
from .regions import load_region, region_codes

if TYPE_CHECKING:
    import uvicorn

    from .infobutton import InfoRequest
    from .readability import ReadabilityReport

MAX_PREPARED_FOR = 80
#: Clients whose rate-limit buckets are remembered at once (least recently seen go first).
MAX_CLIENTS = 10_000
#: Requests whose job and build key are remembered at once (least recently used go first).
MAX_KNOWN = 4096
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_URL_BYTES = 4096
MAX_BODY_BYTES = 4096
#: A file changed this recently may change again within the file system's time resolution:
#: what was computed from it is not trusted until it is older (as git does with its index).
SETTLE_NS = 2_000_000_000
#: The value runs to the next parameter; in a whole request line, to " HTTP/".
#: A query parameter in a logged request line: its name (in any spelling a client may send,
#: ``prepared%5Ffor`` too) and its value, up to the next parameter or the line's end.
QUERY_PARAMETER = re.compile(r"(?<=[?&])([^=&\s\"?]+)=(.*?)(?=&|\"| HTTP/|$)")
NAME_IN_URL = ("prepared_for travels in a POST body, never in a URL (proxies, logs and browser "
               "history keep URLs)")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:8000`` → ``::1``)."""
    if header.startswith("["):
        return header[1:].split("]")[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def problem_messages(exc: InputError, project: Project) -> list[str]:
    """What the API and the page both say about bad input: the same words, no server paths."""
    return [project.public(p.message) for p in exc.problems]


def scrub(line: str) -> str:
    """``line`` with the value of every ``prepared_for`` parameter removed, however its name
    is percent-encoded."""
    def removed(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"{name}=[removed]" if unquote_plus(name) == "prepared_for" else match.group(0)

    return QUERY_PARAMETER.sub(removed, line)


class _ScrubPreparedFor(logging.Filter):
    """A name sent in a URL is refused, but the access log has the request line already:
    the name is replaced before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        record.msg = scrub(str(record.msg))
        return True


# --- what requests and answers look like (the OpenAPI document shows these) -----------------

class Choices(BaseModel):
    """Which document: the choices ``handout build`` takes, checked against the project."""

    model_config = ConfigDict(frozen=True)
    handout: str
    lang: str = "en"
    level: str = "easy"
    region: str | None = None
    paper: str | None = None
    large_print: bool = False
    also: str | None = None

    def only_choices(self) -> Choices:
        """The choices alone (a request's other fields do not change the document)."""
        return Choices.model_validate(self.model_dump(include=set(Choices.model_fields)))


class RenderQuery(Choices):
    download: bool = False


class RenderForm(RenderQuery):
    """A POST body (form-encoded or JSON): the choices, and a name printed on the handout."""

    prepared_for: Annotated[str | None, Field(max_length=MAX_PREPARED_FOR,
                                              pattern=NAME_PATTERN)] = None


class FieldError(BaseModel):
    field: str | None
    value: str | None
    allowed: list[str]
    message: str


class FieldErrors(BaseModel):
    detail: list[FieldError]


class Refusal(BaseModel):
    message: str


class Refusals(BaseModel):
    detail: list[Refusal]


class Message(BaseModel):
    detail: str


def _answer(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


#: Answers any route may give, before the route itself runs.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    414: _answer(Message, "The URL is longer than the desk reads."),
    421: _answer(Message, "The Host header names a host the desk is not known by."),
    422: _answer(FieldErrors, "A choice is not one the project has; a name was sent in a URL."),
    429: _answer(Message, "Over the per-client rate limit; see Retry-After."),
}
RENDER_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: _answer(Refusals, "The choice is valid, but the document may not be printed."),
    503: _answer(Message, "Every render worker is busy and the queue is full; see Retry-After."),
}
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: _answer(Message, "The body is longer than the desk reads."),
    415: _answer(Message, "The body is neither form-encoded nor JSON."),
}


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI request body for a handler that parses the body itself (form or JSON)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": schema},
        "application/json": {"schema": schema}}}}


def choice_values(project: Project) -> dict[str, list[str]]:
    """The values each choice may take in ``project``, for the OpenAPI document."""
    languages = project.languages()
    return {"handout": project.handout_ids(), "lang": languages, "also": languages,
            "level": list(LEVEL_NAMES), "paper": list(PAPERS),
            "region": region_codes(project.handouts_dir)}


def _with_choices(spec: dict[str, Any], values: dict[str, list[str]]) -> None:
    """Name the allowed values in ``spec``'s parameters and body schemas (the request is
    still checked by the desk, so a wrong value gets the desk's 422, not a generic one)."""
    def restrict(schema: dict[str, Any], allowed: list[str]) -> None:
        for branch in schema.get("anyOf", [schema]):
            if branch.get("type") == "string":
                branch["enum"] = allowed

    for path in spec["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in values:
                    restrict(parameter["schema"], values[parameter["name"]])
    body = RenderForm.model_json_schema()
    for name, prop in body["properties"].items():
        if name in values:
            restrict(prop, values[name])
    spec["components"]["schemas"][RenderForm.__name__] = body


def field_errors(errors: Iterable[Mapping[str, Any]],
                 values: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Pydantic's errors in the desk's own shape; a name sent is never echoed."""
    shaped = []
    for error in errors:
        name = str(error["loc"][-1]) if error.get("loc") else None
        given = error.get("input")
        value = "" if name == "prepared_for" or not isinstance(given, str | int | float) else (
            str(given)[:40])
        shaped.append({"field": name, "value": value, "allowed": values.get(name or "", []),
                       "message": f"{name}: {error['msg']}" if name else error["msg"]})
    return shaped


class _BodyRefused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


async def read_form(request: Request) -> dict[str, Any]:
    """A POST body, form-encoded or JSON, read no further than ``MAX_BODY_BYTES``."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _BodyRefused(413, "request body too long")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python reads
            data = None
        if not isinstance(data, dict):
            raise InputError.at("the body is not a JSON object of choices")
        return data
    if kind in ("application/x-www-form-urlencoded", ""):
        return dict(parse_qsl(body.decode("ascii", "replace")))
    raise _BodyRefused(415, "send the body form-encoded or as JSON")


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
class Document:
    """What a request names, as the project has it now: the job, its build key (the same an
    incremental build uses) and how readable it is."""

    job: Job
    key: str
    readability: ReadabilityReport
    #: Why the project's policy refuses it, in the CLI's words (empty: it may be printed).
    problems: tuple[str, ...] = ()
    #: The policy it was judged under, as plain data for the render workers.
    policy: tuple[tuple[str, Any], ...] = ()


def _document(project: Project, clinic: Clinic | None, choices: Choices) -> Fresh[Document]:
    """Check ``choices``, key the document they name and judge it under the project's
    policy, as ``handout build`` would (this parses its inputs)."""
    from .builder import document_key
    from .fonts import font_files
    from .languages import language
    from .pipeline import BuildOptions, Inputs, assess
    from .plan import PLAN_FILE, read_settings

    started = time.time_ns()
    job = make_job(project, choices.handout, choices.lang, choices.level, choices.region,
                   choices.paper, choices.large_print, choices.also)
    policy = read_settings(project).policy
    inputs = Inputs(project, [job])
    inputs.require(job)
    options = BuildOptions.under(policy, out_dir=project.root / "build", clinic=clinic)
    key = document_key(inputs, job, options)[0]
    judged = assess(inputs, job, options)
    assert judged.readability is not None
    fonts = [font for lang in filter(None, (job.lang, job.also))
             for font in font_files(language(lang).fonts)]
    document = Document(job, key, judged.readability, judged.problems,
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
    return (first_page_png(data) if as_png else data), ()


def first_page_png(pdf: bytes) -> bytes:
    """Page 1 of a PDF as a PNG, for the desk's preview."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=1.5).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _warm_worker() -> bool:
    """Run in each new worker at launch: the imports and first-use work a render needs, so the
    first request does not pay for them."""
    from .pipeline import render_pdf  # noqa: F401  (imports WeasyPrint, Jinja2, the theme)

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


class _Busy(Exception):
    pass


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
        self._known: OrderedDict[Choices, Fresh[Document]] = OrderedDict()
        self._catalog: Fresh[dict[str, Any]] | None = None
        self._pending = asyncio.Semaphore(limits.workers + limits.queue)
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._in_flight: dict[str, asyncio.Future[bytes]] = {}
        self._parsing: dict[Choices, asyncio.Future[Fresh[Document]]] = {}
        self.build_dir = build_dir or project.root / "build"
        self._built: tuple[list[int], Manifest] | None = None
        self._warming: list[Future[bool]] = []

    def warm(self) -> None:
        """Start the workers now, each importing what a render needs."""
        pool = self._executor()
        self._warming = [pool.submit(_warm_worker) for _ in range(self.limits.workers)]

    @property
    def ready(self) -> bool:
        """Whether the workers started at launch have finished warming up."""
        return all(future.done() for future in self._warming)

    def infobutton(self, request: InfoRequest) -> list[dict[str, Any]]:
        """The entries for an infobutton request, judged under the project's policy (runs on
        the parsing thread: it reads the project's files)."""
        from .content import load_each
        from .infobutton import answer
        from .pipeline import BuildOptions
        from .plan import read_settings

        settings = read_settings(self.project)
        sources, _ = load_each(self.project, self.project.handout_ids())
        options = BuildOptions.under(settings.policy, out_dir=self.build_dir,
                                     clinic=self.clinic)
        site = self.project.root / settings.site.out
        return answer(self.project, sources, request, options, site if site.is_dir() else None)

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

    async def document(self, choices: Choices) -> Document:
        """The document ``choices`` name; raises :class:`InputError` for a bad choice."""
        choices = choices.only_choices()
        if choices in self._parsing:  # the same request is being parsed: share its answer
            return (await asyncio.shield(self._parsing[choices])).value
        task = asyncio.ensure_future(self._fresh(
            self._known.get(choices), lambda: _document(self.project, self.clinic, choices)))
        self._parsing[choices] = task
        try:
            known = await asyncio.shield(task)
        finally:
            self._parsing.pop(choices, None)
        _remember(self._known, choices, known, MAX_KNOWN)
        return known.value

    async def rendered(self, choices: Choices, prepared_for: str | None, as_png: bool
                       ) -> tuple[Job, bytes]:
        if prepared_for:
            printed_name("prepared_for", prepared_for, MAX_PREPARED_FOR)
        document = await self.document(choices)
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

    async def _produce(self, key: str, document: Document, as_png: bool) -> bytes:
        """From the build folder if `handout build` made it, from the shared cache folder if
        another desk (or this one) did, else rendered and left there for the others."""
        built = await asyncio.to_thread(lambda: from_build(
            self.build_dir, self._build_manifest(), document.job, document.key))
        if built is not None:
            self.stats.build_hits += 1
            return await asyncio.to_thread(first_page_png, built) if as_png else built
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

    def _executor(self) -> ProcessPoolExecutor:
        if not self.pools:
            import multiprocessing

            from .builder import die_with_parent

            self.pools.append(ProcessPoolExecutor(
                self.limits.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent, initargs=(os.getpid(),)))
        return self.pools[0]

    async def _render_now(self, document: Document, prepared_for: str | None,
                          as_png: bool) -> bytes:
        if self._pending.locked():
            self.stats.rejected_busy += 1
            raise _Busy()
        async with self._pending:
            arguments = (str(self.project.root), document.job,
                         str(self.clinic_path) if self.clinic_path else None,
                         prepared_for or None, as_png, document.policy)
            try:
                data, problems = await asyncio.wrap_future(
                    self._executor().submit(_render_pdf, *arguments))
            except BrokenProcessPool:
                # A worker died (killed, out of memory): replace the pool, try once more.
                self.stats.pools_replaced += 1
                self.pools.pop().shutdown(wait=False, cancel_futures=True)
                data, problems = await asyncio.wrap_future(
                    self._executor().submit(_render_pdf, *arguments))
        self.stats.renders += 1
        if data is None:  # refused after layout (too long, a glyph missing)
            raise DocumentRefused(problems)
        return data

    def shutdown(self) -> None:
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


# --- the app: routes only ------------------------------------------------------------------

def create_app(project: Project, clinic_path: Path | None = None,
               limits: Limits | None = None, allowed_hosts: list[str] | None = None,
               trusted_proxies: list[str] | None = None,
               cache_dir: Path | None = None, build_dir: Path | None = None) -> FastAPI:
    """The desk's routes. ``X-Forwarded-For`` is believed only from ``trusted_proxies``;
    ``build_dir`` (default: the project's ``build/``) is where `handout build` left PDFs the
    desk may serve as they are."""
    # Long by design: each route is a short closure over the one app and its RenderService,
    # declared where FastAPI reads it; the work is in RenderService and the library.
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    service = RenderService(project, clinic_path, limits or Limits(), cache_dir, build_dir)
    values = choice_values(project)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.warm()
        yield
        service.shutdown()

    # /docs is the desk's own page (FastAPI's loads Swagger UI from a public CDN, blank
    # without internet): the OpenAPI document as HTML, with no script.
    app = FastAPI(title="handoutkit print desk", version=__version__, lifespan=lifespan,
                  description="Render plain-language patient handouts as PDF on demand.",
                  responses=COMMON_RESPONSES, docs_url=None, redoc_url=None)
    app.state.service = service
    # The online version (`handout site`), so a clinic intranet needs nothing else; the
    # folder may be written after the desk starts.
    from fastapi.staticfiles import StaticFiles

    from .plan import read_settings

    site_dir = project.root / read_settings(project).site.out
    app.mount("/site", StaticFiles(directory=site_dir, html=True, check_dir=False), name="site")
    logging.getLogger("uvicorn.access").addFilter(_ScrubPreparedFor())
    hosts = {*LOOPBACK_HOSTS, *(allowed_hosts or [])}

    def errors(status: int, detail: list[dict[str, Any]]) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=status)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if len(str(request.url)) > MAX_URL_BYTES:
            return JSONResponse({"detail": "request too long"}, status_code=414)
        # A page on another site can make a browser send requests here under its own name
        # (DNS rebinding): answer only to the names the desk is known by.
        if host_name(request.headers.get("host", "")) not in hosts:
            return JSONResponse({"detail": "unknown host"}, status_code=421)
        if "prepared_for" in request.query_params:
            return errors(422, [{"field": "prepared_for", "value": "", "allowed": [],
                                 "message": NAME_IN_URL}])
        head = request.method == "HEAD"
        if head:
            request.scope["method"] = "GET"
        if not service.admit(request.client.host if request.client else "?"):
            return JSONResponse({"detail": "too many requests; slow down"}, status_code=429,
                                headers={"Retry-After": "1"})
        response: Response = await call_next(request)
        if head:
            return Response(status_code=response.status_code, headers=dict(response.headers))
        return response

    # Outermost: the client address is the proxy's unless the proxy is trusted.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies or [])

    @app.exception_handler(InvalidChoice)
    async def invalid(request: Request, exc: InvalidChoice) -> JSONResponse:
        return errors(422, [{"field": exc.field_name, "value": exc.value,
                             "allowed": exc.allowed, "message": exc.problems[0].message}])

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        # The document could not be made from the project's files: never show server paths.
        return errors(422, [{"field": None, "value": None, "allowed": [], "message": message}
                            for message in problem_messages(exc, project)])

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)
    async def malformed(request: Request, exc: RequestValidationError | ValidationError
                        ) -> JSONResponse:
        return errors(422, field_errors(exc.errors(), values))

    @app.exception_handler(_BodyRefused)
    async def body_refused(request: Request, exc: _BodyRefused) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(DocumentRefused)
    async def refused(request: Request, exc: DocumentRefused) -> JSONResponse:
        # The choice was valid, but the document may not be printed: a conflict with the
        # project's own state (too hard to read, a draft where review is required), not 422.
        return errors(409, [{"message": project.public(p.split("\n")[0])}
                            for p in exc.problems])

    @app.exception_handler(Exception)
    async def busy_or_bug(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, _Busy):
            return JSONResponse({"detail": "all workers are busy; try again"}, status_code=503,
                                headers={"Retry-After": "2"})
        logging.getLogger("handoutkit.serve").exception("render failed")
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"},
                            status_code=500)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness, whether the render workers are warm (`ready`), render and cache counters."""
        return {"status": "ok", "ready": service.ready, "version": __version__,
                "cached": service.cached, **asdict(service.stats)}

    @app.get("/infobutton", responses={200: {"content": {
        "text/xml": {}, "application/json": {}}, "description": "The entries, as asked"},
        303: {"description": "knowledgeResponseType=text/html: the desk with the topic"}})
    async def infobutton(request: Request) -> Response:
        """A record system's infobutton request (HL7 URL-based implementation guide): the
        handouts whose codes match, in the patient's language where the project has it and
        the release policy allows, else English (said in the entry). Example:
        `/infobutton?mainSearchCriteria.v.c=F11.20&mainSearchCriteria.v.cs=2.16.840.1.113883.6.90&informationRecipient.languageCode.c=sp&knowledgeResponseType=application/json`."""
        from .infobutton import atom_feed, json_feed, parse_request

        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        asked = parse_request(params)
        base = str(request.base_url)
        loop = asyncio.get_running_loop()
        entries = await loop.run_in_executor(service._parser, service.infobutton, asked)
        if asked.response_type == "text/html":
            if not entries:
                return errors(404, [{"field": "mainSearchCriteria.v.c", "value": "",
                                     "allowed": [], "message": "no handout has this code"}])
            first = entries[0]
            return Response(status_code=303, headers={"Location": str(request.url_for(
                "page").include_query_params(handout=first["topic"], lang=first["language"]))})
        if asked.response_type == "application/json":
            return Response(json_feed(entries, asked, base), media_type="application/json")
        return Response(atom_feed(entries, asked, base), media_type="text/xml")

    @app.get("/api/handouts")
    async def handouts() -> dict[str, Any]:
        """Topics, languages (in their own names, with catalog coverage), levels and regions."""
        return await service.catalog()

    def pdf(job: Job, data: bytes, download: bool, named: bool) -> Response:
        disposition = "attachment" if download else "inline"
        return Response(data, media_type="application/pdf", headers={
            "Content-Disposition": f'{disposition}; filename="{job.output.name}"',
            "Cache-Control": "no-store" if named else "private, max-age=300"})

    pdf_response: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}},
                          "description": "The handout, with a stable file name."}}

    @app.get("/api/render", response_class=Response,
             responses={**pdf_response, **RENDER_RESPONSES})
    async def render(query: Annotated[RenderQuery, Query()]) -> Response:
        """The handout as a PDF. A "prepared for" name is sent only with POST."""
        job, data = await service.rendered(query, None, as_png=False)
        return pdf(job, data, query.download, named=False)

    @app.post("/api/render", response_class=Response,
              responses={**pdf_response, **RENDER_RESPONSES, **BODY_RESPONSES},
              openapi_extra=_body_schema(RenderForm))
    async def render_named(request: Request) -> Response:
        """The handout as a PDF, with an optional name printed on it (never cached)."""
        form = RenderForm.model_validate(await read_form(request))
        job, data = await service.rendered(form, form.prepared_for, as_png=False)
        return pdf(job, data, form.download, named=bool(form.prepared_for))

    @app.get("/api/preview", response_class=Response, responses={
        200: {"content": {"image/png": {}}, "description": "Page 1 as a PNG image."},
        **RENDER_RESPONSES})
    async def preview(query: Annotated[Choices, Query()]) -> Response:
        """Page 1 of the handout as a PNG image."""
        _, data = await service.rendered(query, None, as_png=True)
        return Response(data, media_type="image/png")

    async def desk_page(form: Mapping[str, Any]) -> HTMLResponse:
        from .desk import chosen_values, render_desk

        catalog = await service.catalog()
        chosen = chosen_values(form, catalog)
        document: Document | str | None = None
        if "lang" in form:  # the form was sent: show the document, or why not
            try:
                document = await service.document(Choices.model_validate(
                    {k: v for k, v in chosen.items() if v and k in Choices.model_fields}))
            except InputError as exc:
                document = "; ".join(problem_messages(exc, project))
            except ValidationError as exc:
                document = "; ".join(e["message"] for e in field_errors(exc.errors(), values))
        ui = str(form.get("ui", "en"))
        return HTMLResponse(await asyncio.to_thread(render_desk, project, chosen, ui, catalog,
                                                    document))

    page_responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {"text/html": {}}, "description": "The desk page."}}

    # Declared as plain responses: the errors the guard gives here are JSON, not HTML.
    @app.get("/", response_class=Response, responses=page_responses)
    async def page(request: Request, ui: str = Query("en", max_length=20)) -> HTMLResponse:
        """The desk page: choose, preview, print or download. No JavaScript needed."""
        return await desk_page(request.query_params)

    @app.post("/", response_class=Response, responses={**page_responses, **BODY_RESPONSES},
              openapi_extra=_body_schema(RenderForm))
    async def page_sent(request: Request) -> HTMLResponse:
        """The desk page after its form is sent (the form carries the "prepared for" name)."""
        return await desk_page(await read_form(request))

    @app.get("/docs", response_class=Response, include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API's reference, from its OpenAPI document, readable with no network."""
        return HTMLResponse(api_reference(app.openapi()))

    _with_choices(app.openapi(), values)
    return app


def api_reference(spec: dict[str, Any]) -> str:
    """The OpenAPI document as a plain HTML page: each route, its parameters (with the values
    the project allows) and its answers."""
    from markupsafe import Markup

    rows = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            params = "".join(
                Markup("<li><code>{}</code>{}: {}</li>").format(
                    parameter["name"], " (required)" if parameter.get("required") else "",
                    ", ".join(str(v) for v in _allowed(parameter.get("schema", {})))
                    or _kind(parameter.get("schema", {})))
                for parameter in operation.get("parameters", []))
            answers = "".join(Markup("<li><code>{}</code> {}</li>").format(
                status, answer.get("description", ""))
                for status, answer in operation.get("responses", {}).items())
            rows.append(Markup(
                "<section><h2><code>{} {}</code></h2><p>{}</p>{}<h3>Answers</h3><ul>{}</ul>"
                "</section>").format(
                method.upper(), path, operation.get("summary") or "",
                Markup("<h3>Parameters</h3><ul>{}</ul>").format(Markup(params)) if params
                else "", Markup(answers)))
    info = spec["info"]
    return str(Markup(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{} {}</title>'
        "<style>body{{font-family:sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.4}} code{{background:#f2f2f2}} h2{{font-size:1.1rem;margin-top:2rem}}"
        "</style></head><body><main><h1>{}</h1><p>{}</p><p>The machine-readable document: "
        '<a href="openapi.json">openapi.json</a>.</p>{}</main></body></html>').format(
            info["title"], info["version"], info["title"], info.get("description", ""),
            Markup("").join(rows)))


def _allowed(schema: dict[str, Any]) -> list[Any]:
    for branch in schema.get("anyOf", [schema]):
        if "enum" in branch:
            return list(branch["enum"])
    return []


def _kind(schema: dict[str, Any]) -> str:
    kinds = [branch.get("type", "") for branch in schema.get("anyOf", [schema])]
    return " or ".join(kind for kind in kinds if kind) or "any"


def trusted_addresses(proxies: list[str]) -> list[str]:
    """``--trusted-proxy`` values, each an address or a network."""
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise InputError.at(f"--trusted-proxy {proxy!r} is not an IP address or network",
                                hint="e.g. --trusted-proxy 10.0.0.5 or 10.0.0.0/24") from None
    return proxies


#: Seconds a client has to send a whole request (headers and body) once it connects, and to
#: start the next one on a kept-alive connection: a slow client must not hold a connection.
REQUEST_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
#: Descriptors kept free below the process's limit for workers, files and the log.
SPARE_DESCRIPTORS = 128
#: Log lines a second, and the burst, before further lines are dropped (and counted).
LOG_LINES_PER_SECOND = 20.0
LOG_BURST = 100


def guarded_protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request does not arrive whole
    within ``REQUEST_SECONDS`` (uvicorn times out idle kept-alive connections, not slow
    headers or bodies)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._deadline = self.loop.call_later(REQUEST_SECONDS, self._too_slow)

        def handle_events(self) -> None:
            super().handle_events()
            received = self.cycle is not None and not self.cycle.more_body
            if received and self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _too_slow(self) -> None:
            self._deadline = None
            if self.cycle is None or self.cycle.more_body:
                self.transport.close()

    return GuardedH11Protocol


class _RateLimitedLog(logging.Filter):
    """At most ``LOG_LINES_PER_SECOND`` lines (after a burst): a flood of requests must not
    fill the disk with log lines. Dropped lines are counted on the next line let through."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens, self.stamp, self.dropped = float(LOG_BURST), time.monotonic(), 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        self.tokens = min(LOG_BURST, self.tokens + (now - self.stamp) * LOG_LINES_PER_SECOND)
        self.stamp = now
        if self.tokens < 1:
            self.dropped += 1
            return False
        self.tokens -= 1
        if self.dropped:
            record.msg = f"({self.dropped} log lines dropped) {record.msg}"
            self.dropped = 0
        return True


#: One limit for all the desk's log lines, whichever logger writes them.
_LOG_LIMIT = _RateLimitedLog()


def connection_limit() -> int:
    """Connections the desk takes at once: below the descriptor limit, so that a flood of
    idle connections gets 503 rather than silencing the desk, /healthz included."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(16, soft - SPARE_DESCRIPTORS)


def server_config(app: FastAPI, host: str, port: int, root_path: str = "",
                  log_level: str = "warning") -> uvicorn.Config:
    """How uvicorn runs the desk: forwarded headers are left to the app, which believes
    them only from trusted proxies (uvicorn would believe any client on loopback); slow
    requests time out, connections are limited below the descriptor limit, and log lines are
    rate-limited."""
    import uvicorn

    for name in ("uvicorn.error", "uvicorn.access", "handoutkit.serve"):
        logger = logging.getLogger(name)
        if _LOG_LIMIT not in logger.filters:
            logger.addFilter(_LOG_LIMIT)
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                          root_path=root_path.rstrip("/"), http=guarded_protocol(),
                          timeout_keep_alive=KEEP_ALIVE_SECONDS,
                          limit_concurrency=connection_limit(),
                          # https://no-color.org: no colour codes in any log line
                          use_colors=False if os.environ.get("NO_COLOR") else None)


def serve(project: Project, host: str, port: int, clinic_path: Path | None,
          workers: int, allowed_hosts: list[str] | None = None, root_path: str = "",
          trusted_proxies: list[str] | None = None, cache_dir: Path | None = None,
          build_dir: Path | None = None, echo: Callable[[str], None] = print,
          log_level: str = "warning") -> None:
    import uvicorn

    if host not in LOOPBACK_HOSTS and not allowed_hosts:
        raise InputError.at(f"--host {host} serves other machines: name the host names "
                            "clients use with --allow-host",
                            hint="e.g. --allow-host desk.clinic.example")
    if root_path and not root_path.startswith("/"):
        raise InputError.at(f"--root-path {root_path!r} must start with /",
                            hint="e.g. --root-path /desk")
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError.at(f"cannot create the cache folder: {exc.strerror}",
                                cache_dir) from None
        if not os.access(cache_dir, os.W_OK | os.X_OK):
            raise InputError.at("the cache folder is not writable", cache_dir)
    app = create_app(project, clinic_path, Limits(workers=workers), allowed_hosts,
                     trusted_addresses(trusted_proxies or []), cache_dir,
                     project.root / build_dir if build_dir else None)
    echo(f"handoutkit print desk: http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.Server(server_config(app, host, port, root_path, log_level)).run()
