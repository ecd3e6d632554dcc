"""The live preview: the page, the PDF, rebuilds on a changed source, and bad input on the page.

One copy of the project and one preview for the module: each test changes the sources and
asserts on the build it causes, so the module renders four PDFs in all.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from typer.testing import CliRunner

from handoutkit import Choice, InputError, LivePreview, Problem, Project
from handoutkit.cli import app as cli
from handoutkit.content import load_handout
from handoutkit.livepreview import Build
from handoutkit.preview import create_app
from handoutkit.theme import BUILTIN_THEME

from .conftest import HANDOUT, ROOT, set_msgstr, squash

# One worker runs the whole module under xdist: its tests share one preview.
pytestmark = pytest.mark.xdist_group("preview")

CATALOG = f"locales/es/LC_MESSAGES/{HANDOUT}.po"
CONTENT = f"handouts/{HANDOUT}/handout.yaml"
LOCAL = "http://127.0.0.1"


@dataclass(frozen=True)
class Live:
    project: Project
    preview: LivePreview
    client: TestClient


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("preview")
    for name in ("handouts", "locales", "templates"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, root / name)
    project = Project(root)
    preview = LivePreview(project, Choice(HANDOUT, "es", "easy"))
    assert preview.refresh()  # the first build
    # The tests call refresh() themselves: no watcher thread here.
    with TestClient(create_app(preview, watch_seconds=None), base_url=LOCAL) as client:
        yield Live(project, preview, client)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def page_text(client: TestClient) -> str:
    """The page's text, tags removed, entities decoded and spaces collapsed."""
    answer = client.get("/")
    assert answer.status_code == 200
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", answer.text)).split())


def test_page_shows_the_document_its_translation_and_readability(live: Live) -> None:
    answer = live.client.get("/")
    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    text = page_text(live.client)
    assert "español (es)" in text and "[es, easy, a4, preview]" in text
    assert "Coverage: 100 %" in text and "Every printed string is translated." in text
    assert "Status: draft" in text
    assert "passes for the easy level" in text and "Fernández-Huerta" in text
    assert "target ≥ 70" in text and "Hardest sentences" in text
    assert "A build would refuse" not in text and "Cannot build" not in text

    generation = live.client.get("/generation").json()
    assert generation == {"generation": live.preview.build.generation, "building": False}
    pdf = live.client.get("/document.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "El kratom y el dolor que no se quita" in " ".join(pdf_text(pdf.content).split())
    png = live.client.get("/page1.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    script = live.client.get("/preview.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"/generation"' in script.text


def test_only_loopback_names_and_get_are_answered(live: Live) -> None:
    # A page elsewhere must not read the drafts by pointing its own name here.
    assert live.client.get("/", headers={"host": "evil.example"}).status_code == 421
    assert live.client.post("/generation").status_code == 405


def test_a_changed_catalog_rebuilds_with_the_new_text_and_its_fallback(live: Live) -> None:
    preview = live.preview
    before = preview.build.generation
    assert preview.refresh() == [] and preview.build.generation == before  # nothing changed

    catalog = live.project.root / CATALOG
    set_msgstr(catalog, "title.easy", "Kratom: una prueba en vivo")
    set_msgstr(catalog, "what-is-it.heading", "")
    assert preview.refresh() == [catalog]
    build = preview.build
    assert build.generation == before + 1 and build.page_generation == build.generation
    assert not build.errors and not build.refusals

    assert live.client.get("/generation").json()["generation"] == before + 1
    printed = squash(pdf_text(live.client.get("/document.pdf").content))
    assert squash("Kratom: una prueba en vivo") in printed
    assert squash("What is kratom?") in printed  # the fallback prints in English, highlighted
    text = page_text(live.client)
    line = catalog.read_text().splitlines().index('msgctxt "what-is-it.heading"') + 2
    assert "Printed in English (1)" in text and "Coverage: 98 % of 64" in text
    assert f"{HANDOUT}:what-is-it.heading" in text
    assert f"{CATALOG}:{line} (untranslated)" in text  # where the translator fixes it


def test_a_refused_document_is_shown_with_the_reasons(live: Live) -> None:
    """Too little translated to build (a language just started): the page is shown anyway."""
    catalog = live.project.root / CATALOG
    for context in ("what-is-it.heading", "what-is-it.plant.easy", "what-is-it.tradition.easy",
                    "what-is-it.not-approved.easy", "how-taken.heading",
                    "how-taken.forms.easy", "how-taken.strength.easy"):
        set_msgstr(catalog, context, "")
    assert preview_rebuilt(live)
    build = live.preview.build
    assert build.refusals and build.page_generation == build.generation
    text = page_text(live.client)
    assert "A build would refuse this document" in text
    assert "not built: only 89% of its 64 printed strings" in text
    assert "Printed in English (7)" in text
    printed = squash(pdf_text(live.client.get("/document.pdf").content))
    assert squash("Kratom is a tree from Southeast Asia.") in printed


def preview_rebuilt(live: Live) -> bool:
    before = live.preview.build.generation
    return bool(live.preview.refresh()) and live.preview.build.generation == before + 1


def test_the_watcher_shows_broken_files_with_file_and_line_and_keeps_serving(
        live: Live) -> None:
    """Typing in a .po or YAML file: the error, with file and line, beside the last page."""
    preview, root = live.preview, live.project.root
    good_pdf = live.client.get("/document.pdf").content
    catalog, content = root / CATALOG, root / CONTENT
    lines = catalog.read_text().splitlines(keepends=True)
    seen: list[str] = []
    app = create_app(preview, watch_seconds=0.05, echo=seen.append)
    with TestClient(app, base_url=LOCAL) as client:
        start = preview.build.generation
        catalog.write_text("".join([*lines[:29], "this is not po\n", *lines[29:]]))
        build = preview.wait(after=start, timeout=30)
        assert build.generation > start, "the watcher did not rebuild within 30 s"
        assert build.errors and build.page_generation < build.generation
        text = page_text(client)
        assert "Cannot build" in text
        assert f"{CATALOG}:30: catalog syntax error" in text
        assert f"build {build.page_generation}" in text  # the last page stays, labelled
        assert client.get("/document.pdf").content == good_pdf
        assert client.get("/generation").json()["generation"] == build.generation
        assert any(CATALOG in line and "input error" in line for line in seen)

        # Then the content: broken first, so no state in between builds a PDF.
        good_content = content.read_text()
        content.write_text(re.sub(r"^version: ", "version: [", good_content, count=1,
                                  flags=re.MULTILINE))
        catalog.write_text("".join(lines))
        with pytest.raises(InputError) as expected:
            load_handout(content)
        [problem] = expected.value.problems
        assert problem.line
        where = f"{CONTENT}:{problem.line}"
        deadline = build.generation + 2  # the content's change, then the catalog's
        while where not in page_text(client):
            newer = preview.wait(after=build.generation, timeout=30)
            assert newer.generation > build.generation, "the watcher did not rebuild in 30 s"
            assert newer.generation <= deadline, f"no error naming {where}: {newer.errors}"
            build = newer
        assert client.get("/document.pdf").content == good_pdf
    content.write_text(good_content)  # the watcher has stopped: no build for this


def test_a_broken_template_override_names_its_line(live: Live) -> None:
    """An author's template mid-edit is input like any other file, not a crash."""
    override = live.project.root / "templates" / "handout.html.j2"
    override.parent.mkdir(exist_ok=True)
    override.write_text("<p>\n{% if %}\n" + (BUILTIN_THEME / "handout.html.j2").read_text())
    try:
        assert preview_rebuilt(live)
        assert "templates/handout.html.j2:2: template syntax error" in page_text(live.client)
    finally:
        override.unlink()


def test_every_value_on_the_page_is_escaped(live: Live) -> None:
    """File contents reach the page (error messages, sentences): never as markup."""
    hostile = '<img src=x onerror="alert(1)">'
    preview = LivePreview(live.project, Choice(HANDOUT, "es"))
    preview.build = Build(generation=3, errors=(
        Problem(f"bad value {hostile}", live.project.root / CONTENT, 4, hint=hostile),))
    page = preview.render_page()
    assert hostile not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert f"{CONTENT}:4" in page and 'data-generation="3"' in page


def test_cli_help_and_a_wrong_choice() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["preview", "--help"])
    assert result.exit_code == 0
    for option in ("--lang", "--level", "--region", "--paper", "--port", "--open", "--no-open"):
        assert option in result.output
    # A wrong name is an input error at once (exit 2), before anything is served.
    result = runner.invoke(cli, ["preview", "no-such-topic", "--lang", "es", "--no-open",
                                 "-C", str(ROOT)])
    assert result.exit_code == 2
    assert "unknown handout 'no-such-topic'" in result.output


def test_the_page_highlights_plain_language_findings_on_their_sentences(
        project: Project) -> None:
    """A stigmatising word in the English text shows on the page, marked in its sentence,
    with the person-first wording, and fails the level."""
    path = project.handout_path(HANDOUT)
    path.write_text(path.read_text().replace(
        "Kratom is a plant.", "Kratom is a plant. An addict <b>may</b> use it.", 1))
    preview = LivePreview(project, Choice(HANDOUT, "en", "easy"))
    preview.refresh()
    page = preview.render_page()
    assert '<mark>addict</mark>' in page and "&lt;b&gt;may&lt;/b&gt;" in page
    assert "person with a substance use disorder" in page and "(fails the level)" in page


@pytest.mark.parametrize("command", [["serve"], ["preview", "--no-open"]])
def test_a_port_in_use_is_named_before_any_address_is_announced(command: list[str]) -> None:
    """The desk said "print desk: http://127.0.0.1:PORT/" and then failed (exit 3), while
    another program, maybe another project's desk, answered at that address."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = CliRunner().invoke(cli, [*command, "--port", str(port), "--project",
                                          str(ROOT)])
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "http://" not in result.output
