"""The print desk: API through the ASGI test client, and once end to end in headless Chromium."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from pypdf import PdfReader

from handoutkit.project import Project
from handoutkit.serve import Limits, _ScrubPreparedFor, create_app

from .conftest import HANDOUT, ROOT, squash

# Made at run time, so the name stands in no file of the tree unless the desk writes it there.
NAME = f"Zeb {uuid.uuid4().hex[:12]}"


def text_of(data: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Project(ROOT), limits=Limits(workers=1), allowed_hosts=["testserver"])
    with TestClient(app) as test_client:
        yield test_client


def test_healthz_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert {"/api/render", "/api/preview", "/api/handouts", "/healthz"} <= set(spec["paths"])


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


def test_render_returns_the_pdf_in_the_chosen_language(client: TestClient) -> None:
    response = client.get("/api/render", params={"handout": HANDOUT, "lang": "es",
                                                 "level": "easy", "region": "US-AL"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'inline; filename="{HANDOUT}.es.easy.US-AL.letter.pdf"')
    assert squash("El kratom está prohibido en Alabama") in squash(text_of(response.content))


def test_repeat_requests_come_from_the_cache(client: TestClient) -> None:
    params = {"handout": HANDOUT, "lang": "vi", "level": "standard"}
    first = client.get("/api/render", params=params)
    before = client.get("/healthz").json()
    second = client.get("/api/render", params=params)
    after = client.get("/healthz").json()
    assert first.content == second.content
    assert after["cache_hits"] == before["cache_hits"] + 1
    assert after["renders"] == before["renders"]


def test_preview_is_a_png(client: TestClient) -> None:
    response = client.get("/api/preview", params={"handout": HANDOUT, "lang": "th"})
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(("params", "field"), [
    ({"handout": "no-such", "lang": "en"}, "handout"),
    ({"handout": HANDOUT, "lang": "fr"}, "lang"),
    ({"handout": HANDOUT, "level": "expert"}, "level"),
    ({"handout": HANDOUT, "region": "ZZ"}, "region"),
    ({"handout": HANDOUT, "paper": "a5"}, "paper"),
    ({"handout": "../../../etc/passwd"}, "handout"),
    ({"handout": HANDOUT, "lang": "../../../../etc"}, "lang"),
    ({"handout": HANDOUT, "region": "../regions/US"}, "region"),
    ({"handout": HANDOUT, "prepared_for": "x" * 120}, "prepared_for"),
])
def test_bad_choices_get_422_naming_field_and_allowed(client: TestClient,
                                                      params: dict[str, str], field: str) -> None:
    response = client.get("/api/render", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail.get("field", detail.get("loc", [None, None])[-1]) == field
    assert client.get("/healthz").status_code == 200  # still serving


def test_long_requests_and_other_methods_are_refused(client: TestClient) -> None:
    assert client.get("/api/render?handout=" + "a" * 5000).status_code == 414
    assert client.post("/api/render").status_code == 405
    head = client.head("/healthz")
    assert head.status_code == 200 and head.content == b""


def test_a_foreign_host_is_refused(client: TestClient) -> None:
    """DNS rebinding: a page elsewhere makes the browser call the desk under its own name."""
    assert client.get("/healthz", headers={"host": "evil.example:8000"}).status_code == 421
    assert client.get("/healthz", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/healthz", headers={"host": "[::1]:8000"}).status_code == 200


@pytest.mark.parametrize("field", ["handout", "lang", "level", "region", "paper", "also"])
def test_the_page_refuses_paths_in_every_parameter(client: TestClient, field: str) -> None:
    params = {"handout": HANDOUT, "lang": "es", "level": "easy", field: "../../../etc/passwd"}
    page = client.get("/", params=params)
    assert page.status_code == 200
    assert "unknown" in page.text and "etc/passwd" in page.text  # the choice, not a file
    assert str(ROOT) not in page.text and "root:" not in page.text
    api = client.get("/api/render", params=params)
    assert api.status_code == 422
    assert str(escape(api.json()["detail"][0]["message"])) in page.text  # the same words


def test_page_and_api_name_the_same_file(client: TestClient) -> None:
    params = {"handout": HANDOUT, "lang": "es", "level": "easy", "also": "es"}
    page = client.get("/", params=params).text
    response = client.get("/api/render", params=params)
    name = response.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert name == f"{HANDOUT}.es.easy.a4.pdf" and name in page
    assert "unknown paper size &#39;a5&#39;" in client.get("/", params={**params,
                                                                      "paper": "a5"}).text


def test_a_killed_worker_is_replaced(tmp_path: Path) -> None:
    import signal

    app = create_app(Project(ROOT), limits=Limits(workers=1), allowed_hosts=["testserver"])
    params = {"handout": HANDOUT, "lang": "en", "level": "easy"}
    with TestClient(app) as desk:
        assert desk.get("/api/render", params=params).status_code == 200
        pool = app.state.service.pools[0]
        for process in list(pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
        started = time.monotonic()
        response = desk.get("/api/render", params={**params, "level": "standard"})
        assert response.status_code == 200 and time.monotonic() - started < 10
        assert desk.get("/healthz").json()["pools_replaced"] == 1


def test_a_name_with_bidi_controls_is_refused_and_never_echoed(client: TestClient) -> None:
    for name in ("Ann\u202eeliF", "x" * 150):
        response = client.get("/api/render", params={"handout": HANDOUT, "lang": "en",
                                                     "level": "easy", "prepared_for": name})
        assert response.status_code == 422
        assert name not in response.text and "eliF" not in response.text


def test_rate_limit(tmp_path: Path) -> None:
    app = create_app(Project(ROOT), limits=Limits(workers=1, rate_per_second=0.001, burst=3),
                     allowed_hosts=["testserver"])
    with TestClient(app) as limited:
        codes = [limited.get("/healthz").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_prepared_for_is_printed_and_kept_nowhere(client: TestClient,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    before = client.get("/healthz").json()
    response = client.get("/api/render", params={"handout": HANDOUT, "lang": "en",
                                                 "level": "easy", "prepared_for": NAME})
    assert response.status_code == 200
    assert f"Prepared for: {NAME}" in text_of(response.content)
    assert response.headers["cache-control"] == "no-store"
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


def test_page_is_translated_and_shows_links(client: TestClient) -> None:
    page = client.get("/", params={"ui": "th", "handout": HANDOUT, "lang": "ar",
                                   "level": "easy"}).text
    assert "จุดพิมพ์เอกสาร" in page and 'lang="th"' in page
    assert 'id="download"' in page and "/api/render?" in page and "/api/preview?" in page


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
    server = subprocess.Popen([str(handout), "serve", "--port", str(port), "--workers", "1",
                               "-C", str(ROOT)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
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
            link = driver.find_element(By.ID, "download").get_attribute("href")
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                "return document.querySelector('.result img').complete"))
            preview = driver.find_element(By.CSS_SELECTOR, ".result img")
            assert driver.execute_script("return arguments[0].naturalWidth", preview) > 100
        finally:
            driver.quit()
        assert link is not None
        response = httpx.get(link, timeout=60)
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith("attachment;")
        text = text_of(response.content)
        assert "ما هو الكراتوم؟" in text and NAME in text
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert NAME not in output  # not in the server's log either


def test_the_rate_limit_table_stays_bounded() -> None:
    from handoutkit.serve import MAX_CLIENTS, RenderService

    service = RenderService(Project(ROOT), None, Limits(burst=1, rate_per_second=0.001))
    for number in range(MAX_CLIENTS + 500):
        assert service.admit(f"10.0.{number // 256}.{number % 256}")
    assert len(service._buckets) == MAX_CLIENTS
    assert not service.admit("10.0.39.16")  # a recent client is still remembered, and limited
