"""Headless Chromium and axe-core for the tests that check web pages: the online version
(`tests/test_site.py`) and the documentation site (`tests/test_docs.py`).

Debian's chromium and chromium-driver drive the pages (`make test` installs them; a test that
needs them is marked ``needs_chromium`` and skipped without them); axe-core comes from npm into
``.venv/axe/`` (`make setup-test`).
"""

from __future__ import annotations

import functools
import shutil
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

AXE = Path(sys.executable).parent.parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@dataclass(frozen=True)
class Device:
    """A screen a page is checked on: its width, and whether it is touched (no hover, a
    coarse pointer, as a phone) or used with a mouse (hover, a fine pointer, as a desktop)."""

    name: str
    width: int
    touch: bool


#: A phone and a desktop, both checked in one browser (see ``as_device``).
DEVICES = (Device("phone", 390, touch=True), Device("desktop", 1280, touch=False))
#: WCAG 2.2 A and AA, as axe-core tags them.
WCAG = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

needs_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="Debian's chromium and chromium-driver are not installed (`make test` installs them)")


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """A headless Chromium with its profile in ``profile``, quit on the way out: a desktop
    until ``as_device`` makes it another device.

    Headless, Chromium has no pointer at all; it is told it has a mouse (``(hover: hover)``,
    ``(pointer: fine)``), as a desktop does, and touch emulation takes that away again for a
    phone, so one browser (one start) serves both."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Blink's HoverType 2 is "hover", its PointerType 4 is "fine"
    options.add_argument("--blink-settings=primaryHoverType=2,availableHoverTypes=2,"
                         "primaryPointerType=4,availablePointerTypes=4")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_script_timeout(60)  # a hang guard
        # axe-core in every page as it loads: the browser compiles it once and keeps the code,
        # where a script sent with each page (half a megabyte) is compiled again each time.
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                               {"source": _axe_source()})
        as_device(driver, DEVICES[-1])
        yield driver
    finally:
        driver.quit()


def as_device(driver: WebDriver, device: Device) -> None:
    """Make the browser ``device`` for the pages loaded from now on: its width, and touch
    (``(hover: none)``, ``(pointer: coarse)``) or the mouse it was started with."""
    driver.set_window_size(device.width, 900)
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                           {"enabled": device.touch, "maxTouchPoints": 5 if device.touch else 1})


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on a free local port: the base URL, ending in ``/``.

    For a site whose pages use root-relative links (MkDocs' 404 page does), which a
    ``file://`` URL would leave unstyled."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@functools.cache
def _axe_source() -> str:
    assert AXE.is_file(), "axe-core is not installed: run `make setup-test`"
    return AXE.read_text()


def axe_violations(driver: WebDriver, url: str, tags: Sequence[str],
                   disable: Sequence[str] = ()) -> list[tuple[str, int, list[str]]]:
    """Load ``url`` and run axe-core with the rules of ``tags`` (less ``disable``): each
    violation as its rule, how many elements break it and (up to three of) their selectors."""
    driver.get(url)
    if not driver.execute_script("return typeof axe === 'object'"):
        driver.execute_script(_axe_source())
    found = driver.execute_async_script(
        "const [tags, disable, done] = arguments;"
        "const rules = Object.fromEntries(disable.map(id => [id, {enabled: false}]));"
        # two frames, for the page's own scripts to finish laying it out
        "new Promise(next => requestAnimationFrame(() => requestAnimationFrame(next)))"
        ".then(() => axe.run(document, {runOnly: {type: 'tag', values: tags}, rules}))"
        ".then(r => done(r.violations.map(v => [v.id, v.nodes.length,"
        " v.nodes.slice(0, 3).map(n => n.target.join(' '))])))"
        ".catch(e => done([['axe failed', 0, [String(e)]]]));", list(tags), list(disable))
    return [(rule, count, targets) for rule, count, targets in found]
