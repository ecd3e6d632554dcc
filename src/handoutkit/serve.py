"""The print desk: a local web page and HTTP API that render handouts on demand.

Requests are validated against what the project has (422 names the field and the allowed
values), rendered in a bounded pool of worker processes, and cached by the same key an
incremental build uses. A "prepared for" name is printed on the handout and nowhere else: such
documents are never cached, and the name is scrubbed from the access log.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from . import __version__
from .builder import document_key
from .clinic import Clinic, load_clinic
from .errors import InputError
from .languages import PAPERS
from .levels import LEVELS
from .pipeline import BuildOptions, DocumentRefused, Inputs
from .plan import InvalidChoice, Job
from .plan import choose_job as make_job
from .project import Project
from .regions import load_region, region_codes

MAX_PREPARED_FOR = 80
#: Clients whose rate-limit buckets are remembered at once (least recently seen go first).
MAX_CLIENTS = 10_000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_URL_BYTES = 4096
#: The value runs to the next parameter; in a whole request line, to " HTTP/".
SCRUB = re.compile(r"(prepared_for=).*?(?=&|\"| HTTP/|$)")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:8000`` → ``::1``)."""
    if header.startswith("["):
        return header[1:].split("]")[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def printable_name(name: str) -> bool:
    """A name to print: no control or bidi formatting characters that could reorder a page."""
    return not any(unicodedata.category(c) in ("Cc", "Cf") for c in name)


def public_message(message: str, project: Project) -> str:
    """``message`` without the server's own paths."""
    return message.replace(str(project.root) + "/", "").replace(str(project.root), ".")


class _ScrubPreparedFor(logging.Filter):
    """Access logs keep the request line; the patient's name is replaced before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(SCRUB.sub(r"\1[removed]", a) if isinstance(a, str) else a
                                for a in record.args)
        record.msg = SCRUB.sub(r"\1[removed]", str(record.msg))
        return True


@dataclass
class Limits:
    workers: int = 2
    #: Requests that may wait for a worker; past that the desk answers 503 at once.
    queue: int = 64
    #: Token bucket per client address: a steady rate and a burst.
    rate_per_second: float = 50.0
    burst: int = 200
    cache_entries: int = 256


@dataclass
class Stats:
    renders: int = 0
    pools_replaced: int = 0
    cache_hits: int = 0
    rejected_busy: int = 0
    rejected_rate: int = 0


@dataclass
class _Bucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)


# --- rendering, in worker processes ------------------------------------------------------------

def _render_pdf(root: str, job: Job, clinic_path: str | None, prepared_for: str | None,
                as_png: bool) -> tuple[bytes, dict[str, Any]]:
    """Render one document in memory (nothing is written to disk): PDF, or page 1 as PNG."""
    from .pipeline import render_pdf

    project = Project(Path(root))
    clinic = load_clinic(Path(clinic_path)) if clinic_path else None
    data, result = render_pdf(project, job, clinic, prepared_for)
    readability = result.readability.as_dict() if result.readability else {}
    if as_png:
        import pypdfium2

        document = pypdfium2.PdfDocument(data)
        image = document[0].render(scale=1.5).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        document.close()
        data = buffer.getvalue()
    return data, readability


# --- the service: cache, shared renders, worker pool, limits, counters ---------------------

class RenderService:
    """What the desk does besides routing: renders in a bounded pool of worker processes,
    identical requests sharing one render, a cache keyed like incremental builds, per-client
    rate limits and counters. Nothing slow runs on the event loop."""

    def __init__(self, project: Project, clinic_path: Path | None, limits: Limits):
        self.project, self.clinic_path, self.limits = project, clinic_path, limits
        self.clinic: Clinic | None = load_clinic(clinic_path) if clinic_path else None
        self.stats = Stats()
        self.pools: list[ProcessPoolExecutor] = []
        self._cache: OrderedDict[str, tuple[bytes, dict[str, Any]]] = OrderedDict()
        self._pending = asyncio.Semaphore(limits.workers + limits.queue)
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._in_flight: dict[str, asyncio.Future[tuple[bytes, dict[str, Any]]]] = {}

    @property
    def cached(self) -> int:
        return len(self._cache)

    def admit(self, client: str) -> bool:
        """Take a token from ``client``'s bucket; ``False`` when it is over the rate limit.

        The table is bounded: the least recently seen clients are forgotten first (a
        forgotten client starts again with a full bucket, which is what it would have).
        """
        limits = self.limits
        bucket = self._buckets.pop(client, None) or _Bucket(float(limits.burst))
        self._buckets[client] = bucket
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        now = time.monotonic()
        bucket.tokens = min(limits.burst,
                            bucket.tokens + (now - bucket.stamp) * limits.rate_per_second)
        bucket.stamp = now
        if bucket.tokens < 1:
            self.stats.rejected_rate += 1
            return False
        bucket.tokens -= 1
        return True

    async def rendered(self, job: Job, prepared_for: str | None, as_png: bool
                       ) -> tuple[bytes, dict[str, Any]]:
        if prepared_for is not None and len(prepared_for) > MAX_PREPARED_FOR:
            raise InvalidChoice("prepared_for", "", [], f"prepared_for: at most "
                                f"{MAX_PREPARED_FOR} characters")
        if prepared_for and not printable_name(prepared_for):
            raise InvalidChoice("prepared_for", "", [], "prepared_for: plain text only, "
                                "without control or direction characters")
        key = None
        if not prepared_for:  # a named document is never cached
            options = BuildOptions(out_dir=self.project.root / "build", clinic=self.clinic)
            # Keys read and hash the inputs: off the event loop.
            key = (await asyncio.to_thread(document_key, Inputs(self.project, [job]), job,
                                           options))[0] + (".png" if as_png else ".pdf")
            if key in self._cache:
                self.stats.cache_hits += 1
                self._cache.move_to_end(key)
                return self._cache[key]
            if key in self._in_flight:  # the same document is being rendered: wait for it
                self.stats.cache_hits += 1
                return await asyncio.shield(self._in_flight[key])
        if self._pending.locked():
            self.stats.rejected_busy += 1
            raise _Busy()
        task = asyncio.ensure_future(self._render_now(job, prepared_for, as_png))
        if key is not None:
            self._in_flight[key] = task
        try:
            result = await asyncio.shield(task)
        finally:
            if key is not None:
                self._in_flight.pop(key, None)
        if key is not None:
            self._cache[key] = result
            while len(self._cache) > self.limits.cache_entries:
                self._cache.popitem(last=False)
        return result

    def _executor(self) -> ProcessPoolExecutor:
        if not self.pools:
            import multiprocessing

            self.pools.append(ProcessPoolExecutor(
                self.limits.workers, mp_context=multiprocessing.get_context("spawn")))
        return self.pools[0]

    async def _render_now(self, job: Job, prepared_for: str | None, as_png: bool
                          ) -> tuple[bytes, dict[str, Any]]:
        async with self._pending:
            arguments = (str(self.project.root), job,
                         str(self.clinic_path) if self.clinic_path else None,
                         prepared_for or None, as_png)
            try:
                result = await asyncio.wrap_future(
                    self._executor().submit(_render_pdf, *arguments))
            except BrokenProcessPool:
                # A worker died (killed, out of memory): replace the pool, try once more.
                self.stats.pools_replaced += 1
                self.pools.pop().shutdown(wait=False, cancel_futures=True)
                result = await asyncio.wrap_future(
                    self._executor().submit(_render_pdf, *arguments))
        self.stats.renders += 1
        return result

    def shutdown(self) -> None:
        for workers in self.pools:
            workers.shutdown(cancel_futures=True)


# --- the app: routes only ------------------------------------------------------------------

def create_app(project: Project, clinic_path: Path | None = None,
               limits: Limits | None = None, allowed_hosts: list[str] | None = None) -> FastAPI:
    service = RenderService(project, clinic_path, limits or Limits())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.shutdown()

    app = FastAPI(title="handoutkit print desk", version=__version__, lifespan=lifespan,
                  description="Render plain-language patient handouts as PDF on demand.")
    app.state.service = service
    logging.getLogger("uvicorn.access").addFilter(_ScrubPreparedFor())
    hosts = {*LOOPBACK_HOSTS, *(allowed_hosts or [])}

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if len(str(request.url)) > MAX_URL_BYTES:
            return JSONResponse({"detail": "request too long"}, status_code=414)
        # A page on another site can make a browser send requests here under its own name
        # (DNS rebinding): answer only to the names the desk is known by.
        if host_name(request.headers.get("host", "")) not in hosts:
            return JSONResponse({"detail": "unknown host"}, status_code=421)
        if request.method not in ("GET", "HEAD"):
            return JSONResponse({"detail": "only GET is served"}, status_code=405)
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

    @app.exception_handler(InvalidChoice)
    async def invalid(request: Request, exc: InvalidChoice) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [{
            "field": exc.field_name, "value": exc.value, "allowed": exc.allowed,
            "message": exc.problems[0].message}]})

    @app.exception_handler(DocumentRefused)
    async def refused(request: Request, exc: DocumentRefused) -> JSONResponse:
        # The choice was valid, but the document may not be printed: a conflict with the
        # project's own state (too hard to read, a draft where review is required), not 422.
        return JSONResponse(status_code=409, content={"detail": [
            {"message": public_message(p.split("\n")[0], project)}
            for p in exc.result.problems]})

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        # The document could not be made from the project's files: never show server paths.
        return JSONResponse(status_code=422, content={"detail": [
            {"message": public_message(p.message, project)} for p in exc.problems]})

    def choose_job(handout: str, lang: str, level: str, region: str | None, paper: str | None,
                   large_print: bool, also: str | None) -> Job:
        return make_job(project, handout, lang, level, region, paper, large_print, also)

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
        """Liveness, with render and cache counters."""
        stats = service.stats
        return {"status": "ok", "version": __version__, "renders": stats.renders,
                "cache_hits": stats.cache_hits, "cached": service.cached,
                "rejected_busy": stats.rejected_busy, "rejected_rate": stats.rejected_rate,
                "pools_replaced": stats.pools_replaced}

    @app.get("/api/handouts")
    def handouts() -> dict[str, Any]:
        """Topics, languages (in their own names, with catalog coverage), levels and regions."""
        from .i18n import status
        from .languages import language
        from .pipeline import load_handouts

        rows = {(row.lang, row.domain): row for row in status(project)}
        sources = load_handouts(project, project.handout_ids())

        def topic_language(handout: str, code: str) -> dict[str, Any]:
            row = rows.get((code, handout))
            return {"code": code, "name": language(code).name,
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
                           "direction": language(code).direction}
                          for code in project.languages()],
            "levels": [{"name": lvl.name, "description": lvl.description}
                       for lvl in LEVELS.values()],
            "regions": [{"code": code, "name": load_region(project.handouts_dir, code).name}
                        for code in region_codes(project.handouts_dir)],
            "papers": list(PAPERS),
        }

    params: dict[str, Any] = {
        # Choices are checked against what the project has (same message as the page);
        # the length bounds only stop absurd values before that.
        "handout": Query(..., max_length=200), "lang": Query("en", max_length=200),
        "level": Query("easy", max_length=200), "region": Query(None, max_length=200),
        "paper": Query(None, max_length=200), "large_print": Query(False),
        "also": Query(None, max_length=200), "prepared_for": Query(None, max_length=200)}

    @app.get("/api/render", response_class=Response,
             responses={200: {"content": {"application/pdf": {}}}})
    async def render(handout: str = params["handout"], lang: str = params["lang"],
                     level: str = params["level"], region: str | None = params["region"],
                     paper: str | None = params["paper"],
                     large_print: bool = params["large_print"], also: str | None = params["also"],
                     prepared_for: str | None = params["prepared_for"],
                     download: bool = Query(False)) -> Response:
        """The handout as a PDF, with a stable file name."""
        job = choose_job(handout, lang, level, region, paper, large_print, also)
        data, _ = await service.rendered(job, prepared_for, as_png=False)
        disposition = "attachment" if download else "inline"
        return Response(data, media_type="application/pdf", headers={
            "Content-Disposition": f'{disposition}; filename="{job.output.name}"',
            "Cache-Control": "no-store" if prepared_for else "private, max-age=300"})

    @app.get("/api/preview", response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    async def preview(handout: str = params["handout"], lang: str = params["lang"],
                      level: str = params["level"], region: str | None = params["region"],
                      paper: str | None = params["paper"],
                      large_print: bool = params["large_print"],
                      also: str | None = params["also"]) -> Response:
        """Page 1 of the handout as a PNG image."""
        job = choose_job(handout, lang, level, region, paper, large_print, also)
        data, _ = await service.rendered(job, None, as_png=True)
        return Response(data, media_type="image/png")

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request, ui: str = Query("en", max_length=20)) -> HTMLResponse:
        """The desk page: choose, preview, print or download. No JavaScript needed.

        A plain ``def``: FastAPI runs it in a thread, so its work never blocks the loop.
        """
        from .desk import render_desk

        return HTMLResponse(render_desk(project, dict(request.query_params), ui,
                                        handouts()))

    return app


class _Busy(Exception):
    pass


def serve(project: Project, host: str, port: int, clinic_path: Path | None,
          workers: int, allowed_hosts: list[str] | None = None) -> None:
    import uvicorn

    if host not in LOOPBACK_HOSTS and not allowed_hosts:
        raise InputError.at(f"--host {host} serves other machines: name the host names "
                            "clients use with --allow-host",
                            hint="e.g. --allow-host desk.clinic.example")
    app = create_app(project, clinic_path, Limits(workers=workers), allowed_hosts)
    print(f"handoutkit print desk: http://{host}:{port}/  (Ctrl+C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
