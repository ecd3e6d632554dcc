"""The print desk: API through the ASGI test client, and once end to end in headless Chromium."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from pypdf import PdfReader

from handoutkit import Choice, Limits, Project, choice_values
from handoutkit.serve import _ScrubPreparedFor, create_app, server_config

from .conftest import HANDOUT, ROOT, SECOND_HANDOUT, children, set_msgstr, squash

#: What the desk answers does not depend on how long the leaflet is: its `project` is the short
#: copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


# Made at run time, so the name stands in no file of the tree unless the desk writes it there.
NAME = f"Zeb {uuid.uuid4().hex[:12]}"
#: A hang guard for a socket read, far above what the desk takes; never a measure of it.
GUARD_SECONDS = 120


#: The repository's own build/ may hold PDFs from `make build`: desks on it that count renders
#: look in a build folder that has none.
NO_BUILD = Path("/nonexistent/handoutkit-build")


def text_of(data: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Project(ROOT), build_dir=NO_BUILD,
                     limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


@contextmanager
def running(app: FastAPI, root_path: str = "") -> Iterator[str]:
    """``app`` served by uvicorn as ``handout serve`` configures it, on a loopback port.

    The socket listens before the server starts: early requests wait in its backlog.
    """
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, root_path))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


def settled(project: Project) -> Project:
    """``project`` with every file and folder dated an hour ago, as a deployed project is:
    the desk does not trust what it computed from files changed a moment ago."""
    past = time.time() - 3600
    for folder, _, names in os.walk(project.root, topdown=False):
        for name in names:
            os.utime(Path(folder) / name, (past, past))
        os.utime(folder, (past, past))
    return project


def resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict), ref
    return node


def conforms(value: Any, schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    """``value`` has the shape ``schema`` documents (the JSON Schema the document uses)."""
    if "$ref" in schema:
        return conforms(value, resolve(spec, schema["$ref"]), spec)
    if "anyOf" in schema:
        return any(conforms(value, branch, spec) for branch in schema["anyOf"])
    if "enum" in schema and value not in schema["enum"]:
        return False
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return (isinstance(value, dict) and set(schema.get("required", [])) <= set(value)
                and (not properties or set(value) <= set(properties))
                and all(conforms(v, properties[k], spec) for k, v in value.items()
                        if k in properties))
    if kind == "array":
        return isinstance(value, list) and all(conforms(v, schema["items"], spec)
                                               for v in value)
    types: dict[str, Any] = {"string": str, "boolean": bool, "null": type(None),
                             "integer": int, "number": (int, float)}
    return kind is None or isinstance(value, types[kind])


def documented(spec: dict[str, Any], response: httpx.Response, path: str) -> None:
    """The OpenAPI document promises ``response``: its status, media type and body shape."""
    operation = spec["paths"][path][response.request.method.lower()]
    assert str(response.status_code) in operation["responses"], response.status_code
    content = operation["responses"][str(response.status_code)].get("content", {})
    media = response.headers["content-type"].split(";")[0]
    assert media in content, (response.status_code, media, list(content))
    if media == "application/json":
        assert conforms(response.json(), content[media]["schema"], spec), response.text


def test_healthz_and_openapi(client: TestClient, spec: dict[str, Any]) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert {"/api/render", "/api/preview", "/api/handouts", "/healthz", "/"} <= set(
        spec["paths"])


def test_the_openapi_document_is_complete_and_names_the_choices(spec: dict[str, Any]) -> None:
    """A structural check (no OpenAPI validator is installed): every reference resolves,
    every operation documents the desk's own answers, and the choices are the project's."""
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"] and spec["info"]["version"]

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            yield from ([node["$ref"]] if "$ref" in node else [])
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(spec):
        resolve(spec, ref)
    # FastAPI's own error shape is promised nowhere: the desk answers in its own.
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])
    field_error = spec["components"]["schemas"]["FieldError"]
    assert set(field_error["required"]) == {"field", "value", "allowed", "message"}
    values = choice_values(Project(ROOT))
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            answers = set(operation["responses"])
            assert {"200", "414", "421", "422", "429"} <= answers, (method, path)
            assert all(r["description"] for r in operation["responses"].values())
            for status in answers - {"200"}:
                if status.startswith("3"):  # a redirect (the infobutton's text/html) has no body
                    continue
                [(media, body)] = operation["responses"][status]["content"].items()
                assert media == "application/json", (method, path, status)
                assert "$ref" in body["schema"]
            if path in ("/api/render", "/api/preview"):
                assert {"409", "503"} <= answers
            if method == "post":
                assert {"413", "415"} <= answers
                body_schema = operation["requestBody"]["content"][
                    "application/x-www-form-urlencoded"]["schema"]
                form = resolve(spec, body_schema["$ref"])
                assert form["properties"]["handout"]["enum"] == values["handout"]
                assert "prepared_for" in form["properties"]
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                branches = schema.get("anyOf", [schema])
                if parameter["name"] in values:
                    assert [b["enum"] for b in branches if b.get("type") == "string"] == [
                        values[parameter["name"]]], parameter
                assert parameter["name"] != "prepared_for"  # never in a URL
    render = spec["paths"]["/api/render"]["get"]
    level = next(p for p in render["parameters"] if p["name"] == "level")
    assert level["schema"]["enum"] == ["easy", "standard"]


def test_handouts_lists_languages_in_their_own_names(client: TestClient) -> None:
    data = client.get("/api/handouts").json()
    names = {lang["code"]: lang["name"] for lang in data["languages"]}
    assert names["es"] == "español" and names["th"] == "ไทย" and names["ar"] == "العربية"
    assert {"US-AL", "TH"} <= {r["code"] for r in data["regions"]}
    [topic] = [h for h in data["handouts"] if h["id"] == HANDOUT]
    assert topic["title"] == "Kratom and chronic pain"
    languages = {lang["code"]: lang for lang in topic["languages"]}
    assert languages["en"]["translation"] == "source"
    # Per topic and language: the shipped translations are complete drafts.
    assert all(lang["coverage"] == 100.0 and lang["translation"] == "draft"
               for code, lang in languages.items() if code != "en")


def test_render_returns_the_pdf_in_the_chosen_language(client: TestClient,
                                                       spec: dict[str, Any]) -> None:
    response = client.get("/api/render", params={"handout": HANDOUT, "lang": "es",
                                                 "level": "easy", "region": "US-AL"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'inline; filename="{HANDOUT}.es.easy.US-AL.letter.pdf"')
    assert squash("El kratom está prohibido en Alabama") in squash(text_of(response.content))
    documented(spec, response, "/api/render")


def test_repeat_requests_come_from_the_cache(client: TestClient) -> None:
    params = {"handout": HANDOUT, "lang": "vi", "level": "standard"}
    first = client.get("/api/render", params=params)
    before = client.get("/healthz").json()
    second = client.get("/api/render", params=params)
    after = client.get("/healthz").json()
    assert first.content == second.content
    assert after["cache_hits"] == before["cache_hits"] + 1
    assert after["renders"] == before["renders"]


def test_preview_is_a_png(client: TestClient, spec: dict[str, Any]) -> None:
    response = client.get("/api/preview", params={"handout": HANDOUT, "lang": "th"})
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    documented(spec, response, "/api/preview")


BAD_CHOICES = [
    ({"handout": "no-such", "lang": "en"}, "handout"),
    ({"handout": HANDOUT, "lang": "fr"}, "lang"),
    ({"handout": HANDOUT, "level": "expert"}, "level"),
    ({"handout": HANDOUT, "region": "ZZ"}, "region"),
    ({"handout": HANDOUT, "paper": "a5"}, "paper"),
    ({"handout": "../../../etc/passwd"}, "handout"),
    ({"handout": HANDOUT, "lang": "../../../../etc"}, "lang"),
    ({"handout": HANDOUT, "region": "../regions/US"}, "region"),
    ({"handout": HANDOUT, "large_print": "maybe"}, "large_print"),
    ({"lang": "es"}, "handout"),
]


@pytest.mark.parametrize(("params", "field"), BAD_CHOICES)
def test_bad_choices_get_422_naming_field_and_allowed(
        client: TestClient, spec: dict[str, Any], params: dict[str, str], field: str) -> None:
    response = client.get("/api/render", params=params)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["field"] == field and detail["message"]
    assert detail["allowed"] == choice_values(Project(ROOT)).get(field, [])
    documented(spec, response, "/api/render")
    # The same words whichever way the choice is sent.
    for sent in ({"data": params}, {"json": params}):
        posted = client.post("/api/render", **sent)
        assert posted.status_code == 422 and posted.json()["detail"] == [detail]
        documented(spec, posted, "/api/render")
    assert client.get("/healthz").status_code == 200  # still serving


def test_a_choice_sent_twice_is_refused_and_a_regional_code_finds_its_language(
        client: TestClient, spec: dict[str, Any]) -> None:
    """``lang=es&lang=en`` does not pick one for the sender; ``es-MX`` (a browser's or a
    record system's code) is the project's Spanish, ``zh-TW`` never its Simplified Chinese."""
    twice = [("handout", HANDOUT), ("lang", "es"), ("lang", "en")]
    response = client.get("/api/render", params=twice)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "lang"
    documented(spec, response, "/api/render")
    posted = client.post("/api/render", content=urlencode(twice),
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert posted.status_code == 422 and posted.json()["detail"][0]["field"] == "lang"
    for code in ("es-MX", "spa"):
        served = client.get("/api/render", params={"handout": HANDOUT, "lang": code})
        assert served.status_code == 200, served.text
        assert f"{HANDOUT}.es.easy.a4.pdf" in served.headers["content-disposition"]
    other_script = client.get("/api/render", params={"handout": HANDOUT, "lang": "zh-TW"})
    assert other_script.status_code == 422, other_script.text


def test_long_requests_odd_bodies_and_other_methods_are_refused(
        client: TestClient, spec: dict[str, Any]) -> None:
    long = client.get("/api/render?handout=" + "a" * 5000)
    assert long.status_code == 414
    documented(spec, long, "/api/render")
    assert client.put("/api/render").status_code == 405
    large = client.post("/api/render", data={"handout": HANDOUT, "also": "a" * 5000})
    assert large.status_code == 413
    documented(spec, large, "/api/render")
    plain = client.post("/api/render", content=b"handout", headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    documented(spec, plain, "/api/render")
    not_json = client.post("/api/render", content=b"[1]",
                           headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and "JSON object" in not_json.text
    documented(spec, not_json, "/api/render")
    head = client.head("/healthz")
    assert head.status_code == 200 and head.content == b""


def test_a_foreign_host_is_refused(client: TestClient, spec: dict[str, Any]) -> None:
    """DNS rebinding: a page elsewhere makes the browser call the desk under its own name."""
    foreign = client.get("/healthz", headers={"host": "evil.example:8000"})
    assert foreign.status_code == 421
    documented(spec, foreign, "/healthz")
    assert client.get("/healthz", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/healthz", headers={"host": "[::1]:8000"}).status_code == 200


@pytest.mark.parametrize("field", ["handout", "lang", "level", "region", "paper", "also"])
def test_the_page_refuses_paths_in_every_parameter(client: TestClient, field: str) -> None:
    params = {"handout": HANDOUT, "lang": "es", "level": "easy", field: "../../../etc/passwd"}
    api = client.get("/api/render", params=params)
    assert api.status_code == 422
    for page in (client.get("/", params=params), client.post("/", data=params)):
        assert page.status_code == 200
        assert "unknown" in page.text and "etc/passwd" in page.text  # the choice, not a file
        assert str(ROOT) not in page.text and "root:" not in page.text
        assert str(escape(api.json()["detail"][0]["message"])) in page.text  # the same words


def test_page_and_api_name_the_same_file(client: TestClient) -> None:
    params = {"handout": HANDOUT, "lang": "es", "level": "easy", "also": "es"}
    page = client.post("/", data=params).text
    response = client.get("/api/render", params=params)
    name = response.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert name == f"{HANDOUT}.es.easy.a4.pdf" and name in page
    assert "unknown paper size &#39;a5&#39;" in client.post("/", data={**params,
                                                                       "paper": "a5"}).text


@pytest.mark.parametrize("killed", ["worker", "worker and fork server"])
def test_a_killed_worker_is_replaced(killed: str) -> None:
    """Killed workers (and the fork server that starts them) are replaced, and the request
    that found them dead is served."""
    import signal

    app = create_app(Project(ROOT), build_dir=NO_BUILD,
                     limits=Limits(workers=1), allowed_hosts=["testserver"])
    params = {"handout": HANDOUT, "lang": "en", "level": "easy"}
    with TestClient(app) as desk:
        assert desk.get("/api/render", params=params).status_code == 200
        pool = app.state.service.pools[0]
        workers = [process.pid for process in pool._processes.values()]
        if killed != "worker":  # the fork server, not this process, is each worker's parent
            if not Path("/proc/self/task").is_dir():
                pytest.skip("reads /proc (Linux)")
            parents = {pid for pid in children(os.getpid()) if children(pid) & set(workers)}
            assert parents and not children(os.getpid()) & set(workers)
            for pid in parents:
                os.kill(pid, signal.SIGKILL)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        response = desk.get("/api/render", params={**params, "level": "standard"})
        assert response.status_code == 200
        assert desk.get("/healthz").json()["pools_replaced"] == 1


def test_a_name_with_bidi_controls_is_refused_and_never_echoed(client: TestClient) -> None:
    for name in ("Ann\u202eeliF", "x" * 150):
        response = client.post("/api/render", data={"handout": HANDOUT, "lang": "en",
                                                    "level": "easy", "prepared_for": name})
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "prepared_for"
        assert name not in response.text and "eliF" not in response.text
        # The page says so at once, and offers no Print button that would be refused.
        page = client.post("/", data={"handout": HANDOUT, "lang": "en", "level": "easy",
                                      "prepared_for": name})
        assert page.status_code == 200 and "without control" in page.text
        assert "eliF" not in page.text and "x" * 150 not in page.text
        assert 'id="download"' not in page.text


def test_a_form_is_read_as_utf8_and_bytes_that_are_not_are_refused(client: TestClient) -> None:
    """"José" sent as a form's raw UTF-8 bytes printed as "Jos��"; bytes that are not UTF-8
    are a 422, never replacement characters on a patient's handout."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    choice = f"handout={HANDOUT}&lang=en&level=easy&prepared_for="
    named = client.post("/api/render", content=(choice + "José Núñez").encode(), headers=form)
    assert named.status_code == 200, named.text
    assert "José Núñez" in text_of(named.content)
    for body in ((choice + "Jos").encode() + b"\xe9", (choice + "%FF%FE").encode()):
        refused = client.post("/api/render", content=body, headers=form)
        assert refused.status_code == 422 and "UTF-8" in refused.text, refused.text


def test_rate_limit(spec: dict[str, Any]) -> None:
    app = create_app(Project(ROOT), build_dir=NO_BUILD,
                     limits=Limits(workers=1, rate_per_second=0.001, burst=3),
                     allowed_hosts=["testserver"])
    with TestClient(app) as limited:
        responses = [limited.get("/healthz") for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    documented(spec, responses[-1], "/healthz")


def forged(http: httpx.Client | TestClient, count: int) -> list[int]:
    """``count`` requests, each claiming another client address in X-Forwarded-For."""
    return [http.get("/healthz", headers={"x-forwarded-for": f"203.0.113.{n}"}).status_code
            for n in range(count)]


def test_forwarded_addresses_count_only_from_a_trusted_proxy() -> None:
    """A client that forges X-Forwarded-For is still one client; behind a trusted proxy,
    each forwarded address has its own bucket."""
    limits = Limits(workers=1, rate_per_second=0.001, burst=3)
    untrusted = create_app(Project(ROOT), build_dir=NO_BUILD,
                           limits=limits, allowed_hosts=["testserver"])
    with TestClient(untrusted) as desk:
        assert forged(desk, 6) == [200, 200, 200, 429, 429, 429]
    # The test client connects as "testclient": here it plays the configured proxy.
    behind = create_app(Project(ROOT), build_dir=NO_BUILD,
                        limits=limits, allowed_hosts=["testserver"],
                        trusted_proxies=["testclient"])
    with TestClient(behind) as desk:
        assert forged(desk, 6) == [200] * 6
        same = [desk.get("/healthz", headers={"x-forwarded-for": "203.0.113.0"}).status_code
                for _ in range(4)]
        assert same == [200, 200, 429, 429]  # one forwarded client is still limited


def test_the_served_desk_trusts_no_forwarded_header_from_loopback() -> None:
    """Under uvicorn as ``handout serve`` runs it, a client on loopback (where a reverse
    proxy also sits) cannot escape the rate limit by rotating forged addresses; the desk
    lives under --root-path with relative links."""
    app = create_app(Project(ROOT), build_dir=NO_BUILD,
                     limits=Limits(workers=1, rate_per_second=0.001, burst=5))
    with running(app, root_path="/desk") as base, httpx.Client(base_url=base) as http:
        spec = http.get("/openapi.json").json()
        page = http.get("/")
        codes = forged(http, 20)
    assert codes == [200] * 3 + [429] * 17
    assert spec["servers"] == [{"url": "/desk"}]
    assert page.status_code == 200
    assert not re.search(r'(href|src|action)="/', page.text)  # every link is relative


def test_prepared_for_is_posted_printed_and_kept_nowhere(
        client: TestClient, spec: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    params = {"handout": HANDOUT, "lang": "en", "level": "easy"}
    in_url = client.get("/api/render", params={**params, "prepared_for": NAME})
    assert in_url.status_code == 422 and NAME not in in_url.text
    assert "POST body, never in a URL" in in_url.json()["detail"][0]["message"]
    documented(spec, in_url, "/api/render")
    assert client.get("/", params={**params, "prepared_for": NAME}).status_code == 422
    before = client.get("/healthz").json()
    response = client.post("/api/render", data={**params, "prepared_for": NAME})
    assert response.status_code == 200
    assert f"Prepared for: {NAME}" in text_of(response.content)
    assert response.headers["cache-control"] == "no-store"
    documented(spec, response, "/api/render")
    as_json = client.post("/api/render", json={**params, "prepared_for": NAME, "download": True})
    assert as_json.headers["content-disposition"].startswith("attachment;")
    assert f"Prepared for: {NAME}" in text_of(as_json.content)
    after = client.get("/healthz").json()
    assert after["cached"] == before["cached"]  # never cached
    needle = NAME.encode()
    for path in ROOT.rglob("*"):
        if path.is_file() and ".venv" not in path.parts and ".git" not in path.parts:
            assert needle not in path.read_bytes(), path
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "GET", f"/api/render?prepared_for={NAME}&x=1",
                                "1.1", 200), None)
    _ScrubPreparedFor().filter(record)
    assert NAME.split()[1] not in record.getMessage()
    assert "prepared_for=[removed]&x=1" in record.getMessage()


def test_page_is_translated_and_shows_relative_links(client: TestClient) -> None:
    page = client.get("/", params={"ui": "th", "handout": HANDOUT, "lang": "ar",
                                   "level": "easy"}).text
    assert "จุดพิมพ์เอกสาร" in page and 'lang="th"' in page
    # The topics and regions by the names their catalogs give them in the page's language.
    spanish = client.get("/", params={"ui": "es"}).text
    titles = {str(m.context): str(m.string) for m in read_po(
        (ROOT / "locales/es/LC_MESSAGES" / f"{HANDOUT}.po").open("rb")) if m.context}
    assert f">{titles['title.standard']}</option>" in spanish
    assert ">TH · Tailandia</option>" in spanish and "Thailand" not in spanish
    assert 'id="download"' in page and 'src="api/preview?' in page
    assert 'action="api/render"' in page and 'method="post" action="./"' in page
    assert not re.search(r'(href|src|action)="/', page)


def test_the_page_posts_a_name_and_never_links_it(client: TestClient) -> None:
    page = client.post("/", data={"handout": HANDOUT, "lang": "es", "level": "easy",
                                  "prepared_for": NAME}).text
    forms = re.findall(r'<form method="(\w+)" action="api/render"', page)
    assert forms == ["post", "post"]  # print and download
    assert page.count(f'value="{NAME}"') == 3  # the form's field, and print's and download's
    links = re.findall(r'(?:href|src)="([^"]*)"', page)
    assert links and not any(NAME.split()[1] in link for link in links)
    unnamed = client.post("/", data={"handout": HANDOUT, "lang": "es", "level": "easy"}).text
    assert re.findall(r'<form method="(\w+)" action="api/render"', unnamed) == ["get", "get"]


def test_status_and_keys_are_kept_until_their_files_change(project: Project) -> None:
    """The page and /api/handouts parse the catalogs once; a request's key is remembered
    while its files keep their identity and change time, and recomputed when they move."""
    app = create_app(settled(project), limits=Limits(workers=1), allowed_hosts=["testserver"])
    service = app.state.service
    vi = {"handout": HANDOUT, "lang": "vi", "level": "easy"}

    def languages() -> set[str]:
        topic = next(h for h in desk.get("/api/handouts").json()["handouts"]
                     if h["id"] == HANDOUT)
        return {lang["code"] for lang in topic["languages"]}

    with TestClient(app) as desk:
        assert "vi" in languages()
        first = desk.get("/healthz").json()["parsed"]
        for _ in range(3):
            assert desk.get("/").status_code == 200
            assert desk.get("/api/handouts").status_code == 200
        assert desk.get("/healthz").json()["parsed"] == first  # served from the cached status
        choice = Choice(handout=HANDOUT, lang="es", level="easy")
        before = asyncio.run(service.document(choice))
        assert asyncio.run(service.document(choice)) is before  # stat only, nothing parsed
        set_msgstr(project.catalog_path("es", HANDOUT), "title.easy", "Kratom y el dolor")
        changed = asyncio.run(service.document(choice))
        assert changed.key != before.key and changed.job == before.job
        # The page keys the document (without rendering it); then its catalog goes away.
        assert f"{HANDOUT}.vi.easy.a4.pdf" in desk.post("/", data=vi).text
        project.catalog_path("vi", HANDOUT).unlink()
        assert "vi" not in languages()
        gone = desk.get("/api/render", params=vi)
        assert gone.status_code == 422 and gone.json()["detail"][0]["field"] == "lang"


def test_desks_share_a_cache_folder_and_bound_their_memory(tmp_path: Path) -> None:
    """A second desk serves what the first rendered, from the shared folder, rendering
    nothing; the memory cache keeps to its byte limit."""
    params = {"handout": HANDOUT, "lang": "ms", "level": "easy"}
    first = create_app(Project(ROOT), build_dir=NO_BUILD, limits=Limits(workers=1, cache_bytes=1),
                       allowed_hosts=["testserver"], cache_dir=tmp_path)
    with TestClient(first) as desk:
        pdf = desk.get("/api/render", params=params)
        png = desk.get("/api/preview", params=params)
        health = desk.get("/healthz").json()
    assert pdf.status_code == png.status_code == 200
    assert health["renders"] == 2 and health["cached"] == 1  # over the limit: one kept
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [Path(n).suffix for n in names] == [".pdf", ".png"]
    assert all(re.fullmatch(r"[0-9a-f]{64}\.(pdf|png)", n) for n in names)  # no leftovers
    second = create_app(Project(ROOT), build_dir=NO_BUILD, limits=Limits(workers=1),
                        allowed_hosts=["testserver"], cache_dir=tmp_path)
    with TestClient(second) as desk:
        assert desk.get("/api/render", params=params).content == pdf.content
        assert desk.get("/api/preview", params=params).content == png.content
        health = desk.get("/healthz").json()
    assert health["renders"] == 0 and health["shared_hits"] == 2


def test_a_cache_hit_parses_and_renders_nothing(project: Project) -> None:
    """30 identical requests after the first, over HTTP to uvicorn: nothing is parsed or
    rendered again (how quick that is, beside /healthz, is bench/serve_load.py's to say:
    a test never times anything)."""
    app = create_app(settled(project), limits=Limits(workers=1))
    params = {"handout": HANDOUT, "lang": "id", "level": "easy"}
    with running(app) as base, httpx.Client(base_url=base, timeout=120) as http:
        first = http.get("/api/render", params=params)
        assert first.status_code == 200
        before = http.get("/healthz").json()
        for _ in range(30):
            again = http.get("/api/render", params=params)
            assert again.status_code == 200 and again.content == first.content
        after = http.get("/healthz").json()
    assert after["renders"] == before["renders"] and after["parsed"] == before["parsed"]
    assert after["cache_hits"] == before["cache_hits"] + 30


# --- end to end: a real server, a real browser ------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                    reason="Debian's chromium and chromium-driver are not installed "
                           "(`make test` installs them)")
def test_end_to_end_in_headless_chromium(tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    port = _free_port()
    handout = Path(sys.executable).with_name("handout")
    cache = tmp_path / "cache"
    server = subprocess.Popen([str(handout), "serve", "--port", str(port), "--workers", "1",
                               "--cache-dir", str(cache), "--build-dir", str(NO_BUILD),
                               "-C", str(ROOT)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None
        assert f"http://127.0.0.1:{port}/" in server.stdout.readline()  # prints its URL
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)  # polling a server that gives no readiness event
        else:
            raise AssertionError("the desk did not answer /healthz within 10 s")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={tmp_path / 'profile'}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.get(f"{base}/?handout={HANDOUT}")
            Select(driver.find_element(By.ID, "lang")).select_by_value("ar")
            Select(driver.find_element(By.ID, "level")).select_by_value("easy")
            driver.find_element(By.ID, "prepared_for").send_keys(NAME)
            driver.find_element(By.ID, "show").click()
            WebDriverWait(driver, 60).until(
                lambda d: d.find_elements(By.ID, "download") or d.find_elements(By.CLASS_NAME,
                                                                                "fail"))
            assert NAME.split()[1] not in driver.current_url  # the form was posted
            form = driver.find_element(By.ID, "download").find_element(By.XPATH,
                                                                       "./ancestor::form")
            method, action = form.get_attribute("method"), form.get_attribute("action")
            fields = {str(field.get_attribute("name")): field.get_attribute("value")
                      for field in form.find_elements(By.CSS_SELECTOR, "input[type=hidden]")}
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                "return document.querySelector('.result img').complete"))
            preview = driver.find_element(By.CSS_SELECTOR, ".result img")
            assert driver.execute_script("return arguments[0].naturalWidth", preview) > 100
        finally:
            driver.quit()
        assert method == "post" and action == urljoin(base, "/api/render")
        assert fields["prepared_for"] == NAME and fields["download"] == "1"
        response = httpx.post(action, data=fields, timeout=60)
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment;")
        text = text_of(response.content)
        assert "ما هو الكراتوم؟" in text and NAME in text
        assert [p.suffix for p in cache.iterdir()] == [".png"]  # the preview; never the name
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert NAME not in output  # not in the server's log either


def test_the_rate_limit_table_stays_bounded() -> None:
    from handoutkit import RenderService
    from handoutkit.deskservice import MAX_CLIENTS

    service = RenderService(Project(ROOT), None, Limits(burst=1, rate_per_second=0.001))
    for number in range(MAX_CLIENTS + 500):
        assert service.admit(f"10.0.{number // 256}.{number % 256}")
    assert len(service._buckets) == MAX_CLIENTS
    assert not service.admit("10.0.39.16")  # a recent client is still remembered, and limited


def test_errors_cross_a_process_boundary_intact() -> None:
    """What a render worker raises reaches the desk as it was (not a BrokenProcessPool)."""
    import pickle

    from handoutkit import DocumentRefused, InputError, InvalidChoice, Problem

    refused = pickle.loads(pickle.dumps(DocumentRefused(("too hard", "a draft"))))
    assert refused.problems == ("too hard", "a draft")
    bad = pickle.loads(pickle.dumps(InputError.at("broken", Path("x.yaml"), 3, "fix it")))
    assert bad.problems == [Problem("broken", Path("x.yaml"), 3, "fix it")]
    choice = pickle.loads(pickle.dumps(InvalidChoice("paper", "legal", ["a4", "letter"])))
    assert (choice.field_name, choice.value, choice.allowed) == ("paper", "legal",
                                                                 ["a4", "letter"])


ATTACKS = ["symlink", "fifo", "folder", "truncated", "empty", "other-document"]
SHARED_PARAMS = {"handout": HANDOUT, "lang": "es", "level": "easy"}


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, bytes, bytes]:
    """A shared cache folder as two desk requests left it: the entry for SHARED_PARAMS (its
    name, its PDF) and another document's PDF beside it."""
    cache = tmp_path_factory.mktemp("shared") / "cache"
    with _cache_desk(cache) as client:
        right = client.get("/api/render", params=SHARED_PARAMS).content
        [entry] = {p.name for p in cache.iterdir()}
        wrong = client.get("/api/render", params={**SHARED_PARAMS, "lang": "en"}).content
    return cache, entry, right, wrong


def _cache_desk(cache: Path) -> TestClient:
    return TestClient(create_app(Project(ROOT), build_dir=NO_BUILD, limits=Limits(workers=1),
                                 allowed_hosts=["testserver"], cache_dir=cache))


def _attacked(shared_cache: tuple[Path, str, bytes, bytes], folder: Path, attack: str
              ) -> tuple[Path, Path]:
    """A copy of the shared folder whose entry for SHARED_PARAMS is replaced by ``attack``;
    returns the entry's path and a file a link points at."""
    cache = shutil.copytree(shared_cache[0], folder / "cache")
    path = cache / shared_cache[1]
    [other_entry] = [p for p in cache.iterdir() if p != path]
    secret = folder / "secret.pdf"
    secret.write_bytes(b"%PDF-1.7 not yours")
    path.unlink()
    if attack == "symlink":
        path.symlink_to(secret)
    elif attack == "fifo":
        os.mkfifo(path)
    elif attack == "folder":
        path.mkdir()
    elif attack == "truncated":
        other_entry.rename(path)  # a whole file of the wrong length: cut it
        path.write_bytes(path.read_bytes()[:-1000])
    elif attack == "empty":
        path.write_bytes(b"")
    else:
        shutil.copyfile(other_entry, path)
    return path, secret


@pytest.mark.xdist_group("shared-cache")
@pytest.mark.parametrize("attack", ATTACKS)
def test_a_shared_cache_entry_is_read_only_if_a_desk_wrote_it_for_that_document(
        shared_cache: tuple[Path, str, bytes, bytes], tmp_path: Path, attack: str) -> None:
    """Whatever stands under an entry's name, it is read only if a desk wrote it for that
    document: a link is not followed, a pipe not waited on (the call returns at once)."""
    from handoutkit.deskservice import read_shared

    _, entry, right, _ = shared_cache
    assert read_shared(shared_cache[0] / entry, entry) == right
    path, secret = _attacked(shared_cache, tmp_path, attack)
    assert read_shared(path, entry) is None
    assert secret.read_bytes() == b"%PDF-1.7 not yours"


@pytest.mark.xdist_group("shared-cache")
@pytest.mark.parametrize("attack", ["symlink", "other-document"])
def test_a_shared_cache_folder_cannot_lie(shared_cache: tuple[Path, str, bytes, bytes],
                                          tmp_path: Path, attack: str) -> None:
    """A desk given a folder that lies renders the right document, answers 200, never hangs
    (the unit test above covers each kind of lie; these two go through the desk)."""
    _, _, right, wrong = shared_cache
    path, secret = _attacked(shared_cache, tmp_path, attack)
    with _cache_desk(path.parent) as client:
        served = client.get("/api/render", params=SHARED_PARAMS)
        health = client.get("/healthz").json()
    assert served.status_code == 200
    assert served.content == right and served.content != wrong
    assert health["shared_hits"] == 0 and health["renders"] == 1
    assert secret.read_bytes() == b"%PDF-1.7 not yours"  # a link is replaced, never followed


def test_every_spelling_of_the_name_is_scrubbed_from_the_log() -> None:
    from handoutkit.serve import scrub

    for spelling in ("prepared_for", "prepared%5Ffor", "prepared_fo%72", "prepared%5ffor"):
        line = f'"GET /api/render?lang=es&{spelling}=Ana%20P%C3%A9rez&level=easy HTTP/1.1" 422'
        assert "Ana" not in scrub(line) and "level=easy" in scrub(line), spelling


def test_names_with_line_separators_are_refused_and_the_rule_is_in_the_schema(
        client: TestClient, spec: dict[str, Any]) -> None:
    response = client.post("/api/render", data={"handout": HANDOUT, "lang": "en",
                                                "level": "easy", "prepared_for": "Ana\u2028B"})
    assert response.status_code == 422 and "Ana" not in response.text
    field = spec["components"]["schemas"]["RenderForm"]["properties"]["prepared_for"]
    schema = next(branch for branch in field.get("anyOf", [field]) if branch.get("type"))
    assert schema["maxLength"] == 80 and "\\u2028" in schema["pattern"]


def test_a_deeply_nested_json_body_is_refused_cleanly(client: TestClient) -> None:
    body = "[" * 1900 + "]" * 1900
    response = client.post("/api/render", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_identical_cold_requests_share_one_parse() -> None:
    from handoutkit import RenderService

    service = RenderService(Project(ROOT), None, Limits(workers=1))

    async def many() -> list[Any]:
        choice = Choice(handout=HANDOUT, lang="vi", level="standard")
        return await asyncio.gather(*[service.document(choice) for _ in range(20)])

    try:
        documents = asyncio.run(many())
    finally:
        service.shutdown()
    assert service.stats.parsed == 1 and len({id(d) for d in documents}) == 1


def test_a_request_that_never_finishes_arriving_is_cut_off(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that sends half its headers (or body) and waits is disconnected, and the desk
    goes on answering others."""
    import handoutkit.serve as desk

    monkeypatch.setattr(desk, "REQUEST_SECONDS", 0.5)
    app = create_app(project, limits=Limits(workers=1))
    with running(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        port = int(base.rsplit(":", 1)[1])
        slow = socket.create_connection(("127.0.0.1", port), timeout=GUARD_SECONDS)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert http.get("/healthz").status_code == 200
        assert slow.recv(1024) == b""  # closed by the desk (a hang guard bounds the wait)
        slow.close()


def test_a_desk_whose_clock_is_behind_the_files_parses_once(project: Project) -> None:
    """Files stamped in the desk's future (another machine's clock) are judged by content:
    repeated requests parse nothing; a change of content, though its stat is put back, is
    seen."""
    future = time.time() + 86400
    for folder, _, names in os.walk(project.root):
        for name in names:
            os.utime(Path(folder) / name, (future, future))
    app = create_app(project, limits=Limits(workers=1), allowed_hosts=["testserver"])
    params = {"handout": HANDOUT, "lang": "es", "level": "easy"}
    with TestClient(app) as desk:
        assert desk.get("/api/render", params=params).status_code == 200
        parsed = desk.get("/healthz").json()["parsed"]
        for _ in range(5):
            assert desk.get("/api/render", params=params).status_code == 200
        assert desk.get("/healthz").json()["parsed"] == parsed
        catalog = project.catalog_path("es", HANDOUT)
        info = catalog.stat()
        text = catalog.read_text()
        changed = text.replace("kratom", "kratum", 1)
        assert len(changed) == len(text)
        catalog.write_text(changed)
        os.utime(catalog, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert desk.get("/api/render", params=params).status_code == 200
        assert desk.get("/healthz").json()["parsed"] == parsed + 1


def test_the_desk_answers_with_what_the_build_made(project: Project) -> None:
    """A plan document built by `handout build` is served from build/ without a render, when
    its key matches and the file is the one recorded; a PDF changed since is rendered."""
    from typer.testing import CliRunner

    from handoutkit.cli import app as cli

    built = CliRunner().invoke(cli, ["build", HANDOUT, "--lang", "en", "-q", "--paper", "a4",
                                     "--project", str(project.root)])
    assert built.exit_code == 0, built.output
    easy = project.root / "build" / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf"
    standard = easy.with_name(f"{HANDOUT}.en.standard.a4.pdf")
    standard.write_bytes(standard.read_bytes() + b"\n%changed")  # no longer what was recorded
    app = create_app(project, limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(app) as desk:
        deadline = time.monotonic() + 120  # a hang guard: workers warm up at launch
        while not desk.get("/healthz").json()["ready"]:
            assert time.monotonic() < deadline, "the desk's workers never got ready"
            time.sleep(0.05)
        served = desk.get("/api/render", params={"handout": HANDOUT, "lang": "en",
                                                  "level": "easy", "paper": "a4"})
        assert served.status_code == 200 and served.content == easy.read_bytes()
        health = desk.get("/healthz").json()
        assert health["renders"] == 0 and health["build_hits"] == 1
        rendered = desk.get("/api/render", params={"handout": HANDOUT, "lang": "en",
                                                    "level": "standard", "paper": "a4"})
        assert rendered.status_code == 200 and b"%changed" not in rendered.content
        health = desk.get("/healthz").json()
        assert health["renders"] == 1 and health["build_hits"] == 1


def test_a_broken_project_file_is_a_409_naming_it_and_busy_is_a_quiet_503(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog broken while the desk runs: the request was fine, the project is not (409),
    and the answer names the file and line, not a server path. A refusal for lack of a free
    worker is answered without the server logging it as a crash (its own handler)."""
    from handoutkit.deskservice import DeskBusy

    catalog = project.catalog_path("es", HANDOUT)
    lines = catalog.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("msgstr ") and i > 30)
    lines[index] = 'msgstr "unterminated\n'
    catalog.write_text("".join(lines))
    app = create_app(settled(project), limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(app) as desk:
        broken = desk.get("/api/render", params={"handout": HANDOUT, "lang": "es",
                                                 "level": "easy"})
        assert broken.status_code == 409, broken.text
        [problem] = broken.json()["detail"]
        assert problem["message"].startswith(
            f"locales/es/LC_MESSAGES/{HANDOUT}.po:{index + 1}: catalog syntax error")
        assert str(project.root) not in broken.text

        async def busy(*_: object) -> bytes:
            raise DeskBusy()

        monkeypatch.setattr(app.state.service, "_render_now", busy)
        answer = desk.get("/api/render", params={"handout": HANDOUT, "lang": "en",
                                                 "level": "easy"})  # raised here, if a crash
        assert answer.status_code == 503 and answer.headers["retry-after"] == "2"


def test_a_name_no_installed_font_draws_is_refused_not_printed_as_a_box(
        client: TestClient) -> None:
    response = client.post("/api/render", data={"handout": HANDOUT, "lang": "en",
                                                "level": "easy", "prepared_for": "Ana \U0001F642"})
    assert response.status_code == 409, response.text
    [problem] = response.json()["detail"]
    assert "U+1F642" in problem["message"] and "'prepared_for'" in problem["message"]


def test_the_page_offers_as_second_language_only_the_topics_own(project: Project) -> None:
    project.catalog_path("es", SECOND_HANDOUT).unlink()
    app = create_app(settled(project), limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(app) as desk:
        for topic, has_spanish in ((HANDOUT, True), (SECOND_HANDOUT, False)):
            page = desk.get("/", params={"handout": topic}).text
            offered = page[page.index('<select id="also"'):]
            offered = offered[:offered.index("</select>")]
            assert ('value="es"' in offered) == has_spanish, topic


def test_the_page_names_files_broken_while_the_desk_runs_and_keeps_serving(
        project: Project) -> None:
    """A topic's catalog broken: the Spanish page was a 409 in JSON; a topic's YAML broken:
    the page dropped the topic and said nothing. Both are named on the page (no server
    path), and the page still works."""
    desk = create_app(project, limits=Limits(workers=1), build_dir=NO_BUILD,
                      allowed_hosts=["testserver"])
    catalog = project.catalog_path("es", HANDOUT)
    catalog.write_text(catalog.read_text() + 'msgid "x\n')
    topic = project.handout_path(SECOND_HANDOUT)
    topic.write_text(topic.read_text().replace("sections:", "sections: [", 1))
    with TestClient(desk) as client:
        page = client.get("/", params={"ui": "es"})
        assert page.status_code == 200, page.text
        assert f"{HANDOUT}.po:" in page.text and "handout.yaml:" in page.text
        assert str(project.root) not in page.text
        assert 'name="handout"' in page.text
