"""The print desk's HTTP layer: a local web page and API over :class:`RenderService`.

Requests are validated against what the project has (422 names the field and the allowed
values) and handed to the desk's engine (``deskservice.py``), which renders in a bounded pool
of worker processes and caches by the same key an incremental build uses. This module holds
what is HTTP: the request and answer models (the OpenAPI document shows them), reading a
body, the routes, scrubbing the access log, and running uvicorn. A "prepared for" name
travels only in a POST body, is printed on the handout and nowhere else: such documents are
never cached.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import (
    LOOPBACK_HOSTS,
    MAX_PREPARED_FOR,
    NAME_PATTERN,
    Choice,
    DeskBusy,
    DocumentRefused,
    InputError,
    InvalidChoice,
    Limits,
    Project,
    RenderService,
    __version__,
    choice_values,
    host_name,
    listening_socket,
    printed_name,
)

if TYPE_CHECKING:
    import uvicorn

    from . import DeskDocument, Job

MAX_URL_BYTES = 4096
MAX_BODY_BYTES = 4096
#: The value runs to the next parameter; in a whole request line, to " HTTP/".
#: A query parameter in a logged request line: its name (in any spelling a client may send,
#: ``prepared%5Ffor`` too) and its value, up to the next parameter or the line's end.
QUERY_PARAMETER = re.compile(r"(?<=[?&])([^=&\s\"?]+)=(.*?)(?=&|\"| HTTP/|$)")
NAME_IN_URL = ("prepared_for travels in a POST body, never in a URL (proxies, logs and browser "
               "history keep URLs)")
#: Answers are JSON: ``{"detail": [...]}`` with one entry per problem.
Detail = list[dict[str, Any]]


def problem_messages(exc: InputError, project: Project) -> list[str]:
    """What the API and the page both say about bad input: the same words, a project file by
    its place in the project and its line, no server paths."""
    return [project.public(f"{project.label(p.file)}:{p.line}: {p.message}" if p.file and p.line
                           else f"{project.label(p.file)}: {p.message}" if p.file
                           else p.message) for p in exc.problems]


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

    def choice(self) -> Choice:
        """The document these choices name (a request's other fields do not change it)."""
        return Choice(self.handout, self.lang, self.level, self.region, self.paper,
                      self.large_print, self.also)


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
        try:  # a name that is not UTF-8 would print as "Jos��": refused, not guessed
            items = parse_qsl(body.decode("utf-8"), encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise InputError.at("the form is not UTF-8 text",
                                hint="send it as a browser does: percent-encoded UTF-8") from None
        twice = _repeated(items)
        if twice:
            raise InvalidChoice(twice[0]["field"], "", [], twice[0]["message"])
        return dict(items)
    raise _BodyRefused(415, "send the body form-encoded or as JSON")



# --- the app: routes only ------------------------------------------------------------------

def _online_version(folder: Path) -> Any:
    """The folder ``handout site`` writes, served once it exists (it may be written after
    the desk starts): until then a 404 that says how to make it, not Starlette's 500."""
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException

    class OnlineVersion(StaticFiles):
        async def get_response(self, path: str, scope: Any) -> Response:
            if not folder.is_dir():
                raise HTTPException(404, "the online version is not built: run `handout site`")
            return await super().get_response(path, scope)

        async def check_config(self) -> None:
            if folder.is_dir():
                await super().check_config()

    return OnlineVersion(directory=folder, html=True, check_dir=False)


def create_app(project: Project, clinic_path: Path | None = None,
               limits: Limits | None = None, allowed_hosts: list[str] | None = None,
               trusted_proxies: list[str] | None = None,
               cache_dir: Path | None = None, build_dir: Path | None = None) -> FastAPI:
    """The desk's routes. ``X-Forwarded-For`` is believed only from ``trusted_proxies``;
    ``build_dir`` (default: the project's ``build/``) is where `handout build` left PDFs the
    desk may serve as they are."""
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
    app.mount("/site", _online_version(service.site_dir), name="site")
    logging.getLogger("uvicorn.access").addFilter(_ScrubPreparedFor())
    _guard(app, service, {*LOOPBACK_HOSTS, *(allowed_hosts or [])})
    # Outermost: the client address is the proxy's unless the proxy is trusted.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies or [])
    _error_answers(app, project, values)
    _service_routes(app, service)
    _document_routes(app, service)
    _desk_pages(app, service, project, values)

    @app.get("/docs", response_class=Response, include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API's reference, from its OpenAPI document, readable with no network."""
        return HTMLResponse(api_reference(app.openapi()))

    _with_choices(app.openapi(), values)
    return app


def _errors(status: int, detail: Detail) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _guard(app: FastAPI, service: RenderService, hosts: set[str]) -> None:
    """What every request passes first: its length, its Host, no name in the URL, the
    client's rate limit; HEAD is answered as GET without the body."""

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if len(str(request.url)) > MAX_URL_BYTES:
            return JSONResponse({"detail": "request too long"}, status_code=414)
        # A page on another site can make a browser send requests here under its own name
        # (DNS rebinding): answer only to the names the desk is known by.
        if host_name(request.headers.get("host", "")) not in hosts:
            return JSONResponse({"detail": "unknown host"}, status_code=421)
        if "prepared_for" in request.query_params:
            return _errors(422, [{"field": "prepared_for", "value": "", "allowed": [],
                                  "message": NAME_IN_URL}])
        twice = _repeated(request.query_params.multi_items())
        if twice:
            return _errors(422, twice)
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


def _repeated(items: Iterable[tuple[str, str]]) -> Detail:
    """A field sent twice (``lang=es&lang=en``): which one was meant is not ours to guess."""
    seen: set[str] = set()
    twice: Detail = []
    for name, _ in items:
        if name in seen and name not in (error["field"] for error in twice):
            twice.append({"field": name, "value": "", "allowed": [],
                          "message": f"{name} is given more than once; give it once"})
        seen.add(name)
    return twice


def _error_answers(app: FastAPI, project: Project, values: dict[str, list[str]]) -> None:
    """Each error as the desk answers it: 422 for a bad choice (the field and the allowed
    values), 409 for a refused document, 503 when busy, never a server path."""

    @app.exception_handler(InvalidChoice)
    async def invalid(request: Request, exc: InvalidChoice) -> JSONResponse:
        return _errors(422, [{"field": exc.field_name, "value": exc.value,
                              "allowed": exc.allowed, "message": exc.problems[0].message}])

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        # A project file the document needs is broken (a .po, a YAML file): the request is
        # fine, the project is not, as for a refused document (409), file and line named.
        # Never a server path.
        messages = problem_messages(exc, project)
        if any(p.file is not None for p in exc.problems):
            return _errors(409, [{"message": message} for message in messages])
        return _errors(422, [{"field": None, "value": None, "allowed": [], "message": message}
                             for message in messages])

    @app.exception_handler(DeskBusy)
    async def busy(request: Request, exc: DeskBusy) -> JSONResponse:
        # Its own handler: the catch-all below would have the server log a trace for each.
        return JSONResponse({"detail": "all workers are busy; try again"}, status_code=503,
                            headers={"Retry-After": "2"})

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)
    async def malformed(request: Request, exc: RequestValidationError | ValidationError
                        ) -> JSONResponse:
        return _errors(422, field_errors(exc.errors(), values))

    @app.exception_handler(_BodyRefused)
    async def body_refused(request: Request, exc: _BodyRefused) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(DocumentRefused)
    async def refused(request: Request, exc: DocumentRefused) -> JSONResponse:
        # The choice was valid, but the document may not be printed: a conflict with the
        # project's own state (too hard to read, a draft where review is required), not 422.
        return _errors(409, [{"message": project.public(p.split("\n")[0])}
                             for p in exc.problems])

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("handoutkit.serve").exception("render failed")
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"},
                            status_code=500)


def _service_routes(app: FastAPI, service: RenderService) -> None:
    """/healthz and /infobutton."""

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
        from . import infobutton_feed, parse_infobutton

        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        asked = parse_infobutton(params)
        entries = await service.infobutton(asked)
        if asked.response_type == "text/html":
            if not entries:
                return _errors(404, [{"field": "mainSearchCriteria.v.c", "value": "",
                                      "allowed": [], "message": "no handout has this code"}])
            first = entries[0]
            return Response(status_code=303, headers={"Location": str(request.url_for(
                "page").include_query_params(handout=first["topic"], lang=first["language"]))})
        body, media_type = infobutton_feed(entries, asked, str(request.base_url))
        return Response(body, media_type=media_type)


def _pdf(job: Job, data: bytes, download: bool, named: bool) -> Response:
    disposition = "attachment" if download else "inline"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="{job.output.name}"',
        "Cache-Control": "no-store" if named else "private, max-age=300"})


PDF_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}},
                 "description": "The handout, with a stable file name."}}


def _document_routes(app: FastAPI, service: RenderService) -> None:
    """The API: the project's catalog, a handout as PDF (GET, or POST with a name), page 1."""

    @app.get("/api/handouts")
    async def handouts() -> dict[str, Any]:
        """Topics, languages (in their own names, with catalog coverage), levels and regions."""
        return await service.catalog()

    @app.get("/api/render", response_class=Response,
             responses={**PDF_RESPONSE, **RENDER_RESPONSES})
    async def render(query: Annotated[RenderQuery, Query()]) -> Response:
        """The handout as a PDF. A "prepared for" name is sent only with POST."""
        job, data = await service.rendered(query.choice(), None, as_png=False)
        return _pdf(job, data, query.download, named=False)

    @app.post("/api/render", response_class=Response,
              responses={**PDF_RESPONSE, **RENDER_RESPONSES, **BODY_RESPONSES},
              openapi_extra=_body_schema(RenderForm))
    async def render_named(request: Request) -> Response:
        """The handout as a PDF, with an optional name printed on it (never cached)."""
        form = RenderForm.model_validate(await read_form(request))
        job, data = await service.rendered(form.choice(), form.prepared_for, as_png=False)
        return _pdf(job, data, form.download, named=bool(form.prepared_for))

    @app.get("/api/preview", response_class=Response, responses={
        200: {"content": {"image/png": {}}, "description": "Page 1 as a PNG image."},
        **RENDER_RESPONSES})
    async def preview(query: Annotated[Choices, Query()]) -> Response:
        """Page 1 of the handout as a PNG image."""
        _, data = await service.rendered(query.choice(), None, as_png=True)
        return Response(data, media_type="image/png")


def _desk_pages(app: FastAPI, service: RenderService, project: Project,
                values: dict[str, list[str]]) -> None:
    """The desk page, as first shown and after its form is sent."""

    async def desk_page(form: Mapping[str, Any]) -> HTMLResponse:
        from . import desk_choices, render_desk

        catalog = await service.catalog()
        chosen = desk_choices(form, catalog)
        document: DeskDocument | str | None = None
        if chosen["prepared_for"]:
            try:  # as the API would refuse it when Print is pressed: now, and never echoed
                printed_name("prepared_for", chosen["prepared_for"], MAX_PREPARED_FOR)
            except InvalidChoice as exc:
                document = exc.problems[0].message
                chosen = {**chosen, "prepared_for": ""}
        if document is None and "lang" in form:  # sent: show the document, or why not
            try:
                document = await service.document(Choices.model_validate(
                    {k: v for k, v in chosen.items() if v and k in Choices.model_fields}
                ).choice())
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
    """Run the print desk until interrupted (``handout serve``): check the host, root path
    and cache folder it is given, then serve the routes of :func:`create_app` with uvicorn;
    ``echo`` gets the address."""
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
    listener = listening_socket(host, port, "is a desk already running? choose another --port")
    app = create_app(project, clinic_path, Limits(workers=workers), allowed_hosts,
                     trusted_addresses(trusted_proxies or []), cache_dir,
                     project.root / build_dir if build_dir else None)
    echo(f"handoutkit print desk: http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.Server(server_config(app, host, port, root_path, log_level)).run(sockets=[listener])
