"""Parallel and incremental builds: what gets rebuilt, and that workers change nothing."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from handoutkit import (
    BuildOptions,
    BuildReport,
    Job,
    Project,
    build_documents,
    builder,
    load_clinic,
    make_plan,
)
from handoutkit.cli import app
from handoutkit.theme import BUILTIN_THEME

from .conftest import ROOT, SECOND_HANDOUT, made_once, set_msgstr, short_project, squash

runner = CliRunner()
HANDOUT = "kratom-chronic-pain"
LANGS = ["en", "es"]  # two languages, two levels: enough to show what is left alone

#: What a build rebuilds does not depend on how long its pages are: its `project` is the short copy
#: of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


def build(project: Project, out: Path, **options: object) -> BuildReport:
    jobs = make_plan(project, [HANDOUT], LANGS)
    return build_documents(project, jobs, BuildOptions(out_dir=out, **options))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def first_build(shared: Path) -> Path:
    """The four documents of ``build`` as the unchanged project makes them (one worker), once
    per run."""
    def make(out: Path) -> None:
        source = out.with_name("first-build-project")
        shutil.rmtree(source, ignore_errors=True)  # a worker's earlier failed try
        project = short_project(source)
        assert set(statuses(build(project, out, jobs=1)).values()) == {"built"}

    return made_once(shared, "first-build", make)


@pytest.fixture
def built(first_build: Path, tmp_path: Path) -> Path:
    """A copy of ``first_build`` for the test's own project: up to date, as a build folder
    copied from elsewhere (a CI artefact) is, so a test starts where a first build ends."""
    out = tmp_path / "out"
    shutil.copytree(first_build, out)
    return out


def statuses(report: BuildReport) -> dict[str, str]:
    return {f"{r.job.lang}.{r.job.level}": r.status for r in report.results}


def test_editing_one_entry_rebuilds_exactly_the_documents_that_print_it(project: Project,
                                                                      built: Path) -> None:
    assert set(statuses(build(project, built)).values()) == {"skipped"}

    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.plant.easy",
             "El kratom es un árbol del sudeste de Asia. Es pariente del café.")
    after = statuses(build(project, built))
    assert after == {"en.easy": "skipped", "en.standard": "skipped", "es.easy": "built",
                     "es.standard": "skipped"}


def test_editing_the_template_rebuilds_everything(project: Project, built: Path) -> None:
    css = project.root / "templates" / "handout.css"  # a project's override
    css.write_text((BUILTIN_THEME / "handout.css").read_text() + "\n/* a change */\n")
    assert set(statuses(build(project, built)).values()) == {"built"}


def test_a_failed_document_is_retried_next_time(project: Project, built: Path) -> None:
    path = project.catalog_path("es", HANDOUT)
    good = path.read_text()
    long_sentence = " ".join(["anticonstitucionalmente"] * 40) + "."
    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.plant.easy", long_sentence)
    failed = build(project, built)
    assert statuses(failed)["es.easy"] == "failed"
    assert [r.job.lang + "." + r.job.level for r in failed.failed] == ["es.easy"]
    manifest = json.loads((built / "manifest.json").read_text())
    entry = next(e for e in manifest["outputs"] if e["lang"] == "es" and e["level"] == "easy")
    assert entry["retry"] is True

    path.write_text(good)  # back to the inputs of the PDF on disk: still rebuilt once
    assert statuses(build(project, built))["es.easy"] == "built"
    assert statuses(build(project, built))["es.easy"] == "skipped"


def test_force_rebuilds_all(project: Project, built: Path) -> None:
    assert set(statuses(build(project, built)).values()) == {"skipped"}
    assert set(statuses(build(project, built, force=True)).values()) == {"built"}


def test_two_workers_give_the_same_bytes_as_one(project: Project, first_build: Path,
                                               tmp_path: Path) -> None:
    parallel = build(project, tmp_path / "two", jobs=2)  # `first_build` was made by one
    assert set(statuses(parallel).values()) == {"built"}
    for result in parallel.results:
        serial = first_build / result.path.relative_to(tmp_path / "two")
        assert serial.read_bytes() == result.path.read_bytes(), result.job
    manifest_one = json.loads((first_build / "manifest.json").read_text())
    manifest_two = json.loads((tmp_path / "two" / "manifest.json").read_text())
    for manifest in (manifest_one, manifest_two):  # each file's own identity differs
        for entry in manifest["outputs"]:
            assert len(entry.pop("stamp")) == 4
    assert manifest_one == manifest_two


def test_one_failure_does_not_stop_the_others_unless_fail_fast(project: Project,
                                                             tmp_path: Path) -> None:
    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.plant.easy",
             " ".join(["anticonstitucionalmente"] * 40) + ".")
    for jobs in (1, 2):
        report = build(project, tmp_path / f"all{jobs}", jobs=jobs)
        assert statuses(report)["es.easy"] == "failed"
        assert report.count("built") == len(report.results) - 1
    stopped = build(project, tmp_path / "fast", fail_fast=True, jobs=1)
    assert statuses(stopped)["es.easy"] == "failed"
    assert statuses(stopped)["es.standard"] == "not built"
    # Two workers: a document made stops nothing (a render's own result is never `ok`, only
    # its written PDF makes it so); the failure stops what was not handed out yet.
    parallel = statuses(build(project, tmp_path / "fast2", fail_fast=True, jobs=2))
    assert parallel["en.easy"] == parallel["en.standard"] == "built"
    assert parallel["es.easy"] == "failed"
    result = runner.invoke(app, ["build", "--lang", "es", "--fail-fast", "-j", "1", "-o",
                                 str(tmp_path / "cli"), "--project", str(project.root)])
    assert result.exit_code == 1 and "not built: --fail-fast" in result.stderr


def test_help_and_list_load_nothing_they_do_not_use() -> None:
    code = ("import json, sys; from typer.testing import CliRunner; "
            "from handoutkit.cli import app; "
            "r = CliRunner(); r.invoke(app, ['--help']); shown = sorted(sys.modules); "
            "r.invoke(app, ['list']); print(json.dumps([shown, sorted(sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    shown, listed = map(set, json.loads(out.stdout))
    # --help: no schema at all; list: the content's and regions' schemas, not the plan's or
    # a clinic's, and not the renderer.
    assert not shown & {"pydantic", "handoutkit.content", "handoutkit.regions",
                        "handoutkit.plan", "weasyprint"}
    assert {"handoutkit.content", "handoutkit.regions"} <= listed
    assert not listed & {"handoutkit.plan", "handoutkit.clinic", "handoutkit.pipeline",
                         "weasyprint"}


def test_loading_the_renderer_runs_no_other_program() -> None:
    """WeasyPrint's library lookups ran ldconfig, gcc and ld in every process that rendered."""
    code = ("import json, subprocess\n"
            "started = []\n"
            "class Spy(subprocess.Popen):\n"
            "    def __init__(self, args, *rest, **options):\n"
            "        started.append(str(args)); super().__init__(args, *rest, **options)\n"
            "subprocess.Popen = Spy\n"
            "import handoutkit.pdf; handoutkit.pdf.font_configuration()\n"
            "print(json.dumps(started))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == []


def _build_in_a_process(out: Path, *extra: str) -> tuple[int, set[str], list[bool]]:
    """`handout build` of the topic's easy documents in a new process: its exit status, the
    modules it loaded, and for each process it forked whether the stop signals were held."""
    argv = ["handout", "build", HANDOUT, "-l", "easy", "-j", "2", "-q", "-o", str(out),
            "--project", str(ROOT), *extra]
    code = ("import json, os, signal, sys\n"
            "held = []\n"
            "os.register_at_fork(before=lambda: held.append({signal.SIGINT, signal.SIGTERM, "
            "signal.SIGHUP} <= signal.pthread_sigmask(signal.SIG_BLOCK, [])))\n"
            "from handoutkit.cli import app\n"
            f"sys.argv = {argv!r}\n"
            "try: app()\n"
            "except SystemExit as end: print(json.dumps([end.code, sorted(sys.modules), held]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    status, loaded, held = json.loads(done.stdout)
    return status, set(loaded), held


def test_a_build_process_loads_only_what_it_uses(tmp_path: Path) -> None:
    """A parallel build forks its workers with Ctrl-C, SIGTERM and SIGHUP held (one handled in
    an at-fork hook left logging's lock held, and the build hung), and reads what they send
    without loading WeasyPrint; a no-op loads no renderer, no workers, no process pool, and
    neither the catalogs nor the content's schemas (it reads the manifest's records)."""
    out = tmp_path / "out"
    status, loaded, held = _build_in_a_process(out, "--lang", "en", "--lang", "es")
    assert status == 0 and len(list(out.rglob("*.pdf"))) == 2
    assert "handoutkit.workers" in loaded and held and all(held)
    assert "weasyprint" not in loaded
    status, loaded, held = _build_in_a_process(out, "--lang", "en")
    assert status == 0 and not held
    assert not loaded & {"weasyprint", "handoutkit.workers", "handoutkit.pdf",
                         "multiprocessing", "concurrent.futures", "handoutkit.catalog",
                         "handoutkit.content", "babel.messages", "babel.dates"}


def _refuse_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("an up-to-date build loaded its inputs")

    monkeypatch.setattr(builder, "Inputs", refuse)


def _manifest_state(out: Path) -> tuple[bytes, int, int]:
    info = (out / "manifest.json").stat()
    return (out / "manifest.json").read_bytes(), info.st_ino, info.st_mtime_ns


def test_a_noop_parses_nothing_and_leaves_the_manifest_untouched(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = make_plan(project, [HANDOUT], ["en", "es"], ["easy"])
    options = BuildOptions(out_dir=tmp_path)
    assert {r.status for r in build_documents(project, jobs, options).results} == {"built"}
    before = _manifest_state(tmp_path)
    # A document depends on its own language's catalogs, not on every one the theme has.
    catalogs = {e["lang"]: {label for label in e["inputs"] if "/LC_MESSAGES/" in label}
                for e in json.loads(before[0])["outputs"]}
    assert not catalogs["en"]
    assert all("/es/LC_MESSAGES/" in label for label in catalogs["es"])
    assert {label.rsplit("/", 1)[1] for label in catalogs["es"]} >= {"handoutkit.po",
                                                                     f"{HANDOUT}.po"}
    _refuse_to_parse(monkeypatch)
    noop = build_documents(project, jobs, options)
    assert [r.status for r in noop.results] == ["skipped", "skipped"]
    assert _manifest_state(tmp_path) == before  # not rewritten: same bytes, inode and time


def test_an_edit_after_a_noop_is_still_seen(project: Project, tmp_path: Path) -> None:
    jobs = make_plan(project, [HANDOUT], ["en", "es"], ["easy"])
    options = BuildOptions(out_dir=tmp_path)
    build_documents(project, jobs, options)
    assert set(statuses(build_documents(project, jobs, options)).values()) == {"skipped"}
    # An edit that keeps the catalog's size: hashes, not sizes, decide.
    catalog = project.catalog_path("es", HANDOUT)
    text = catalog.read_text("utf-8")
    edited = text.replace("un árbol del sudeste de Asia", "un árbol del Sudeste de Asia", 1)
    assert edited != text and len(edited.encode()) == len(text.encode())
    catalog.write_text(edited, "utf-8")
    assert statuses(build_documents(project, jobs, options)) == {"en.easy": "skipped",
                                                                 "es.easy": "built"}
    assert set(statuses(build_documents(project, jobs, options)).values()) == {"skipped"}


def test_each_input_file_rebuilds_exactly_the_documents_made_from_it(project: Project,
                                                                     tmp_path: Path) -> None:
    jobs = [Job(HANDOUT, "en", "easy", "letter", "US-AL"), Job(HANDOUT, "en", "easy", "a4", "TH"),
            Job(SECOND_HANDOUT, "en", "easy", "a4")]
    options = BuildOptions(out_dir=tmp_path)
    assert {r.status for r in build_documents(project, jobs, options).results} == {"built"}
    handouts = project.handouts_dir
    for changed, rebuilt in [
            (handouts / "regions" / "US.yaml", {"US-AL"}),  # a parent region's profile
            (handouts / SECOND_HANDOUT / "handout.yaml", {None}),
            (handouts / HANDOUT / "regions.yaml", {"US-AL", "TH"}),  # the topic's legal facts
            (project.catalog_path("es", "regions"), set())]:  # another language's
        changed.write_text(changed.read_text("utf-8") + "\n# edited\n", "utf-8")
        report = build_documents(project, jobs, options)
        assert {r.job.region for r in report.results if r.status == "built"} == rebuilt, changed
        assert report.count("built") + report.count("skipped") == len(jobs)


def test_a_clinic_added_edited_or_dropped_rebuilds(project: Project, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "clinic", tmp_path / "clinic")
    profile = tmp_path / "clinic" / "clinic.toml"
    jobs = make_plan(project, [HANDOUT], ["en"], ["easy"])

    def status(with_clinic: bool) -> str:
        clinic = load_clinic(profile) if with_clinic else None
        [result] = build_documents(project, jobs, BuildOptions(out_dir=tmp_path / "out",
                                                               clinic=clinic)).results
        return result.status

    assert [status(False), status(True), status(True)] == ["built", "built", "skipped"]
    profile.write_text(profile.read_text("utf-8") + "\n# edited\n", "utf-8")
    assert [status(True), status(False), status(False)] == ["built", "built", "skipped"]


def test_the_build_policy_in_handout_toml_counts(project: Project, tmp_path: Path) -> None:
    settings = project.root / "handout.toml"
    settings.write_text(f'[plan]\nhandouts = ["{HANDOUT}"]\nlanguages = ["en"]\n'
                        'levels = ["easy"]\n')

    def status() -> list[str]:
        result = runner.invoke(app, ["build", "--json", "-o", str(tmp_path), "-C",
                                     str(project.root)])
        return [d["status"] for d in json.loads(result.stdout)["documents"]]

    assert [status(), status()] == [["built"], ["skipped"]]
    settings.write_text(settings.read_text() + "[build]\nmin_coverage = 0.5\n")
    assert [status(), status()] == [["built"], ["skipped"]]


def test_an_up_to_date_leaflet_goes_stale_by_the_dates_its_manifest_keeps(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job, later = Job(HANDOUT, "en", "easy", "a4", "GB"), dt.date(2030, 1, 1)
    [fresh] = build_documents(project, [job], BuildOptions(out_dir=tmp_path / "fresh",
                                                           today=later)).results
    stale = [w for w in fresh.warnings if w.startswith("stale: ")]
    assert any("legal fact GB" in w for w in stale) and any("help line" in w for w in stale)
    [built] = build_documents(project, [job], BuildOptions(out_dir=tmp_path, strict=True)).results
    assert built.status == "built" and not built.warnings
    _refuse_to_parse(monkeypatch)
    [noop] = build_documents(project, [job], BuildOptions(out_dir=tmp_path, strict=True,
                                                          today=later)).results
    assert noop.status == "failed" and list(noop.warnings) == stale
    assert "facts past their review date" in noop.problems[0]


def test_every_theme_file_a_page_reaches_is_keyed(project: Project, tmp_path: Path) -> None:
    """A template pulled in with {% include %}, a stylesheet pulled in with @import and an
    image it loads rebuild the documents that use them; the desk serves the new PDF."""
    from fastapi.testclient import TestClient

    from handoutkit.serve import create_app

    overrides = project.root / "templates"
    overrides.mkdir(exist_ok=True)
    page = (BUILTIN_THEME / "handout.html.j2").read_text()
    assert "</main>" in page
    (overrides / "handout.html.j2").write_text(
        page.replace("</main>", '{% include "partials/extra.html.j2" %}</main>', 1))
    (overrides / "partials").mkdir()
    (overrides / "partials" / "extra.html.j2").write_text('<p class="extra">Extra one</p>\n')
    (overrides / "handout.css").write_text(
        '@import "more.css";\n' + (BUILTIN_THEME / "handout.css").read_text())
    (overrides / "more.css").write_text(
        ".extra { background: url(images/dot.svg) no-repeat; padding-left: 1em; }\n")
    (overrides / "images").mkdir()
    dot = overrides / "images" / "dot.svg"
    dot.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
                   '<circle cx="4" cy="4" r="4" fill="#000"/></svg>')
    out = tmp_path / "out"

    def build_english() -> dict[str, str]:  # the theme is every language's: one shows it
        jobs = make_plan(project, [HANDOUT], ["en"])
        return statuses(build_documents(project, jobs, BuildOptions(out_dir=out)))

    every = {"en.easy": "built", "en.standard": "built"}
    assert build_english() == every
    assert build_english() == dict.fromkeys(every, "skipped")
    for path, old, new in ((overrides / "partials" / "extra.html.j2", "Extra one", "Extra two"),
                           (overrides / "more.css", "1em", "1.2em"),
                           (dot, 'fill="#000"', 'fill="#333"')):
        path.write_text(path.read_text().replace(old, new))
        assert build_english() == every, path.name
    # The desk keys by the same files: it serves the new PDF without a restart.
    app = create_app(project, allowed_hosts=["testserver"])
    params = {"handout": HANDOUT, "lang": "en", "level": "easy"}
    with TestClient(app) as desk:
        first = desk.get("/api/render", params=params)
        assert first.status_code == 200 and "Extratwo" in squash(pdf_bytes_text(first.content))
        extra = overrides / "partials" / "extra.html.j2"
        extra.write_text(extra.read_text().replace("Extra two", "Extra three"))
        again = desk.get("/api/render", params=params)
        assert again.status_code == 200
        assert "Extrathree" in squash(pdf_bytes_text(again.content))


def pdf_bytes_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_pdf_edited_in_place_is_rebuilt_though_the_manifest_was_touched(
        project: Project, built: Path) -> None:
    import os

    out = built
    pdf = out / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf"
    data = bytearray(pdf.read_bytes())
    data[-100] ^= 0xFF  # same size, other bytes
    pdf.write_bytes(bytes(data))
    manifest = out / "manifest.json"
    os.utime(manifest)  # newer than the edit: proves nothing
    statuses_after = statuses(build(project, out))
    assert statuses_after["en.easy"] == "built"
    assert {k: v for k, v in statuses_after.items() if k != "en.easy"} == dict.fromkeys(
        ["en.standard", "es.easy", "es.standard"], "skipped")


def test_a_font_change_rebuilds_and_the_manifest_names_the_fonts_used(
        project: Project, built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import handoutkit.fonts as fonts

    out = built
    entry = json.loads((out / "manifest.json").read_text())["outputs"][0]
    assert any(name.startswith("Noto") for name in entry["fonts"]), entry["fonts"]
    assert set(statuses(build(project, out)).values()) == {"skipped"}
    # While fontconfig's state is as recorded, a no-op asks it nothing (no fc-match).
    monkeypatch.setattr(fonts, "font_files", lambda stack: pytest.fail("asked fc-match"))
    assert set(statuses(build(project, out)).values()) == {"skipped"}
    # A font installed or removed (fontconfig's state changes), and fc-match now picks
    # another file for the same family: the documents are rebuilt.
    real = fonts.installed_font.__wrapped__
    other = tmp_path / "OtherSans.ttf"
    other.write_bytes(b"not really a font")
    monkeypatch.setattr(builder, "fontconfig_stamp", lambda: "changed")
    monkeypatch.setattr(fonts, "font_files", lambda stack: [other, *(
        found.file for family in fonts.families(stack) if (found := real(family)))][:2])
    assert "built" in set(statuses(build(project, out)).values())
