"""The live preview: one document in a browser, rebuilt whenever its sources change.

``handout preview`` serves the document (PDF, and page 1 as an image) beside what a translator
or author needs to act on: the translation record (coverage, fallbacks with their catalog
lines), the readability report, and why a build would refuse the document. Sources are polled
by modification time (no file-watching dependency); a bad file while someone is typing is
shown with its file and line, and the last good page stays on screen.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import socket
import threading
import time
import webbrowser
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .catalog import Lookup
from .errors import InputError, Problem
from .languages import language
from .pipeline import DOMAINS, BuildOptions, DocumentResult, Inputs, render_document
from .plan import PLAN_FILE, Job, choose_job, read_settings
from .pofile import singular_id
from .project import Project
from .render import environment
from .serve import LOOPBACK_HOSTS, host_name
from .theme import BUILTIN_THEME, OVERRIDES_FOLDER, file_label
from .translate import catalogs_for

PAGE_TEMPLATE = "preview.html.j2"
#: Seconds between two looks at the sources' modification times.
POLL_SECONDS = 0.5
#: Folders of the project whose files the document is made from.
WATCHED = ("handouts", "locales", OVERRIDES_FOLDER)
HOST = "127.0.0.1"

log = logging.getLogger("handoutkit.preview")

#: Reloads the page when a newer build is ready; served as a file so the page's CSP allows
#: no inline script.
SCRIPT = """\
"use strict";
const shown = Number(document.body.dataset.generation);
const status = document.getElementById("status");
async function poll() {
  try {
    const answer = await fetch("/generation", {cache: "no-store"});
    const state = await answer.json();
    if (state.generation !== shown) {
      location.reload();
      return;
    }
    status.textContent = state.building ? "rebuilding…" : "";
  } catch (error) {
    status.textContent = "the preview server is not answering";
  }
  setTimeout(poll, 700);
}
poll();
"""
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; "
       "object-src 'self'; frame-src 'self'; style-src 'unsafe-inline'")


@dataclass(frozen=True)
class Choice:
    """The document to preview; checked against the project by :func:`choose_job`."""

    #: ``None``: the project's first topic.
    handout: str | None = None
    lang: str = "en"
    level: str = "easy"
    region: str | None = None
    paper: str | None = None

    def job(self, project: Project) -> Job:
        """The document as a translator's preview: untranslated strings highlighted."""
        handout = self.handout or first_topic(project)
        return replace(choose_job(project, handout, self.lang, self.level, self.region,
                                  self.paper), preview=True)


def first_topic(project: Project) -> str:
    ids = project.handout_ids()
    if not ids:
        raise InputError.at(f"no topics in {project.handouts_dir}",
                            hint="add handouts/<topic>/handout.yaml")
    return ids[0]


@dataclass(frozen=True)
class Build:
    """One rebuild's outcome, swapped in whole: requests never see half of one."""

    generation: int = 0
    seconds: float = 0.0
    built_at: dt.datetime | None = None
    #: Translation record, readability, warnings of the document (none after an input error).
    result: DocumentResult | None = None
    #: Why a build would refuse the document; the page is shown anyway when it can be made.
    refusals: tuple[str, ...] = ()
    #: Input errors (a broken .po, YAML or template): no document this time.
    errors: tuple[Problem, ...] = ()
    pdf: bytes | None = None
    png: bytes | None = None
    #: The generation ``pdf`` and ``png`` come from: an earlier one when this build made none.
    page_generation: int = 0

    def summary(self) -> str:
        if self.errors:
            return f"input error: {self.errors[0]}"
        verdict = (f"a build would refuse it: {self.refusals[0].splitlines()[0]}"
                   if self.refusals else "ok")
        page = "" if self.page_generation == self.generation else " (no page made)"
        return f"build {self.generation} in {self.seconds:.1f} s: {verdict}{page}"


def rebuild(project: Project, choice: Choice, previous: Build) -> Build:
    """The next build: the document, or what stops it, keeping the last page on failure."""
    started = time.monotonic()
    failed = replace(previous, generation=previous.generation + 1, result=None, refusals=(),
                     built_at=dt.datetime.now())
    try:
        result, pdf, refusals = _render(project, choice.job(project))
    except InputError as exc:
        errors = tuple(exc.problems)
    except jinja2.TemplateSyntaxError as exc:  # an author's template override, mid-edit
        errors = (Problem(f"template syntax error: {exc.message}",
                          Path(exc.filename) if exc.filename else None, exc.lineno),)
    except Exception as exc:  # a bug: say so on the page, and keep serving
        log.exception("preview build failed")
        errors = (Problem(f"internal error (a bug in handoutkit, please report it): "
                          f"{type(exc).__name__}: {exc}"),)
    else:
        built = replace(failed, result=result, refusals=refusals, errors=())
        if pdf is not None:
            built = replace(built, pdf=pdf, png=page_png(pdf),
                            page_generation=built.generation)
        return replace(built, seconds=time.monotonic() - started)
    return replace(failed, errors=errors, seconds=time.monotonic() - started)


def _render(project: Project, job: Job) -> tuple[DocumentResult, bytes | None, tuple[str, ...]]:
    """The document under the project's build policy; if that refuses it, once more without
    the gates so the page can still be shown (too hard, too little translated, a draft)."""
    options = BuildOptions.under(read_settings(project).policy, out_dir=project.root / "build")
    inputs = Inputs(project, [job])
    result, pdf = render_document(inputs, job, options)
    if pdf is not None:
        return result, pdf.data, ()
    shown, pdf = render_document(inputs, job, replace(
        options, min_coverage=0.0, require_review=False, allow_hard=True))
    return shown, pdf.data if pdf else None, tuple(dict.fromkeys(result.problems
                                                                 + shown.problems))


def page_png(pdf: bytes, scale: float = 1.5) -> bytes:
    """Page 1 as a PNG image, for browsers that show no PDF."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def watched_roots(project: Project) -> list[Path]:
    return [project.root / name for name in WATCHED] + [BUILTIN_THEME,
                                                        project.root / PLAN_FILE]


def snapshot(project: Project) -> dict[Path, tuple[int, int]]:
    """Each source file's modification time and size; editors' swap and backup files and
    handoutkit's own temporary files (hidden, ``#…``, ``…~``) are left out."""
    found: dict[Path, tuple[int, int]] = {}

    def note(path: str) -> None:
        name = os.path.basename(path)
        if name.startswith((".", "#")) or name.endswith("~"):
            return
        try:
            stat = os.stat(path)
        except OSError:  # removed between the listing and the look
            return
        found[Path(path)] = (stat.st_mtime_ns, stat.st_size)

    for root in watched_roots(project):
        if root.is_file():
            note(str(root))
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in files:
                note(os.path.join(folder, name))
    return found


class LivePreview:
    """The preview's state: the latest :class:`Build`, remade when a source changes."""

    def __init__(self, project: Project, choice: Choice):
        self.project, self.choice = project, choice
        self.build = Build()
        self.building = False
        self._seen: dict[Path, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._built = threading.Condition()

    def refresh(self) -> list[Path]:
        """Rebuild now if any source changed since the last build (or none was made); the
        files that changed, empty when nothing did. Safe to call from any thread."""
        with self._lock:
            now = snapshot(self.project)
            changed = sorted(path for path in now.keys() | self._seen.keys()
                             if now.get(path) != self._seen.get(path))
            if not changed and self.build.generation:
                return []
            self._seen = now
            # Jinja2 notices an edited template, not a new override hiding a built-in one.
            environment.cache_clear()
            self.building = True
            try:
                build = rebuild(self.project, self.choice, self.build)
            finally:
                self.building = False
            with self._built:
                self.build = build
                self._built.notify_all()
            return changed

    def wait(self, after: int, timeout: float) -> Build:
        """The first build newer than generation ``after``, or the current one on timeout."""
        with self._built:
            self._built.wait_for(lambda: self.build.generation > after, timeout)
            return self.build

    def watch(self, stop: threading.Event, seconds: float = POLL_SECONDS,
              echo: Callable[[str], None] | None = None) -> None:
        """Poll until ``stop`` is set, saying what changed and how the build went."""
        while not stop.wait(seconds):
            changed = self.refresh()
            if changed and echo:
                names = ", ".join(file_label(p, self.project.root) for p in changed[:3])
                more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
                echo(f"{names}{more} changed; {self.build.summary()}")


# --- the page ---------------------------------------------------------------------------------

def render_page(preview: LivePreview) -> str:
    """The preview page for the current build (every value escaped by the template)."""
    project, build = preview.project, preview.build
    result = build.result
    job = result.job if result else None
    choice = preview.choice
    lang = language(job.lang if job else choice.lang)
    page: str = environment(project.theme).get_template(PAGE_TEMPLATE).render(
        build=build, job=job, choice=choice, lang=lang, result=result,
        translation=result.translation if result else None,
        readability=result.readability if result else None,
        fallbacks=fallback_places(project, job, result.fallbacks) if job and result else [],
        refusals=[project.public(text) for text in build.refusals],
        errors=[_where(problem, project) for problem in build.errors])
    return page


def _where(problem: Problem, project: Project) -> dict[str, str | None]:
    place = None
    if problem.file is not None:
        place = file_label(problem.file, project.root) + (f":{problem.line}" if problem.line
                                                         else "")
    return {"place": place, "message": project.public(problem.message),
            "hint": problem.hint}


def fallback_places(project: Project, job: Job, fallbacks: tuple[str, ...]
                    ) -> list[tuple[str, str]]:
    """Each string printed in English, with where a translator fixes it (catalog:line)."""
    if not fallbacks:
        return []
    places: dict[str, str] = {}
    for domain, catalog in catalogs_for(project, job.lang, [job.handout, *DOMAINS]).items():
        label = file_label(catalog.path, project.root)
        for message in catalog.catalog:
            if not message.id:
                continue
            msgid = singular_id(message)
            state = "fuzzy: the English changed" if message.fuzzy else "untranslated"
            places[Lookup(domain, message.context, msgid, None).id] = (
                f"{label}:{message.lineno} ({state})")
    missing = "no entry in the catalog: run `handout i18n update`"
    return [(ident, places.get(ident, missing)) for ident in fallbacks]


# --- the app ----------------------------------------------------------------------------------

def create_app(preview: LivePreview, watch_seconds: float | None = POLL_SECONDS,
               echo: Callable[[str], None] | None = None) -> FastAPI:
    """The preview's routes; with ``watch_seconds`` a background thread polls the sources."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        watcher = None
        if watch_seconds is not None:
            watcher = threading.Thread(target=preview.watch, args=(stop, watch_seconds, echo),
                                       name="handoutkit-preview-watch", daemon=True)
            watcher.start()
        yield
        stop.set()
        if watcher:
            watcher.join(timeout=10)

    app = FastAPI(title="handoutkit live preview", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        # Another site's page must not read the drafts through this browser (DNS rebinding).
        if host_name(request.headers.get("host", "")) not in LOOPBACK_HOSTS:
            return JSONResponse({"detail": "unknown host"}, status_code=421)
        if request.method != "GET":
            return JSONResponse({"detail": "only GET is served"}, status_code=405)
        response: Response = await call_next(request)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(render_page(preview), headers={"Content-Security-Policy": CSP})

    @app.get("/generation")
    def generation() -> dict[str, Any]:
        return {"generation": preview.build.generation, "building": preview.building}

    @app.get("/preview.js")
    def script() -> Response:
        return Response(SCRIPT, media_type="text/javascript")

    def page_file(data: bytes | None, media_type: str) -> Response:
        if data is None:
            return JSONResponse({"detail": "no page yet: see the errors on /"}, status_code=404)
        return Response(data, media_type=media_type,
                        headers={"Content-Disposition": "inline"})

    @app.get("/document.pdf")
    def document() -> Response:
        return page_file(preview.build.pdf, "application/pdf")

    @app.get("/page1.png")
    def first_page() -> Response:
        return page_file(preview.build.png, "image/png")

    return app


def serve_preview(project: Project, choice: Choice, port: int = 8000,
                  open_browser: bool = True, echo: Callable[[str], None] | None = None,
                  access_log: bool = False) -> None:
    """Build once, then serve on the loopback address until interrupted; ``echo`` (the
    CLI's) gets the address and a line per rebuild."""
    import uvicorn

    choice.job(project)  # a wrong topic, language or level is an input error now, not a page
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
    except OSError as exc:
        listener.close()
        raise InputError.at(f"cannot listen on {HOST}:{port}: {exc.strerror}",
                            hint="is a preview already running? choose another --port") from None
    preview = LivePreview(project, choice)
    preview.refresh()
    url = f"http://{HOST}:{port}/"
    say = echo or (lambda line: None)
    say(f"handoutkit live preview: {url}  (Ctrl+C to stop)")
    say(preview.build.summary())
    server = uvicorn.Server(uvicorn.Config(create_app(preview, echo=say),
                                           log_level="info" if access_log else "warning"))
    if open_browser:
        threading.Thread(target=_open_when_listening, args=(server, url), daemon=True).start()
    server.run(sockets=[listener])


def _open_when_listening(server: Any, url: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.started:
            webbrowser.open(url)
            return
        time.sleep(0.1)
