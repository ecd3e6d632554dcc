"""The live preview's web page: one document in a browser, rebuilt whenever its sources change.

``handout preview`` serves the document (PDF, and page 1 as an image) beside what a translator
or author needs to act on: the translation record (coverage, fallbacks with their catalog
lines), the readability report, and why a build would refuse the document. The engine that
polls and rebuilds is :class:`LivePreview` (``livepreview.py``); this module is its page,
script, content security policy and loopback-only server.
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from . import LOOPBACK_HOSTS, LivePreview, host_name, listening_socket

if TYPE_CHECKING:
    from . import Choice, Project

HOST = "127.0.0.1"

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


# --- the app ----------------------------------------------------------------------------------

def create_app(preview: LivePreview, watch_seconds: float | None = LivePreview.poll_seconds,
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
        return HTMLResponse(preview.render_page(),
                            headers={"Content-Security-Policy": CSP})

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
    listener = listening_socket(HOST, port, "is a preview already running? choose another "
                                            "--port")
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
