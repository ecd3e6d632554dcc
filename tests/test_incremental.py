"""Parallel and incremental builds: what gets rebuilt, and that workers change nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from handoutkit.builder import BuildOptions, BuildReport, build_documents
from handoutkit.cli import app
from handoutkit.plan import make_plan
from handoutkit.project import Project
from handoutkit.theme import BUILTIN_THEME

from .conftest import set_msgstr

runner = CliRunner()
HANDOUT = "kratom-chronic-pain"
LANGS = ["en", "es", "th"]


def build(project: Project, out: Path, **options: object) -> BuildReport:
    jobs = make_plan(project, [HANDOUT], LANGS)
    return build_documents(project, jobs, BuildOptions(out_dir=out, **options))  # type: ignore[arg-type]


def statuses(report: BuildReport) -> dict[str, str]:
    return {f"{r.job.lang}.{r.job.level}": r.status for r in report.results}


def test_editing_one_entry_rebuilds_exactly_the_documents_that_print_it(project: Project,
                                                                      tmp_path: Path) -> None:
    first = build(project, tmp_path)
    assert set(statuses(first).values()) == {"built"}
    assert set(statuses(build(project, tmp_path)).values()) == {"skipped"}

    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.plant.easy",
             "El kratom es un árbol del sudeste de Asia. Es pariente del café.")
    after = statuses(build(project, tmp_path))
    assert after == {"en.easy": "skipped", "en.standard": "skipped", "es.easy": "built",
                     "es.standard": "skipped", "th.easy": "skipped", "th.standard": "skipped"}


def test_editing_the_template_rebuilds_everything(project: Project, tmp_path: Path) -> None:
    build(project, tmp_path)
    css = project.root / "templates" / "handout.css"  # a project's override
    css.write_text((BUILTIN_THEME / "handout.css").read_text() + "\n/* a change */\n")
    assert set(statuses(build(project, tmp_path)).values()) == {"built"}


def test_a_failed_document_is_retried_next_time(project: Project, tmp_path: Path) -> None:
    build(project, tmp_path)
    path = project.catalog_path("es", HANDOUT)
    good = path.read_text()
    long_sentence = " ".join(["anticonstitucionalmente"] * 40) + "."
    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.plant.easy", long_sentence)
    failed = build(project, tmp_path)
    assert statuses(failed)["es.easy"] == "failed"
    assert [r.job.lang + "." + r.job.level for r in failed.failed] == ["es.easy"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    entry = next(e for e in manifest["outputs"] if e["lang"] == "es" and e["level"] == "easy")
    assert entry["retry"] is True

    path.write_text(good)  # back to the inputs of the PDF on disk: still rebuilt once
    assert statuses(build(project, tmp_path))["es.easy"] == "built"
    assert statuses(build(project, tmp_path))["es.easy"] == "skipped"


def test_force_rebuilds_all(project: Project, tmp_path: Path) -> None:
    build(project, tmp_path)
    assert set(statuses(build(project, tmp_path, force=True)).values()) == {"built"}


def test_two_workers_give_the_same_bytes_as_one(project: Project, tmp_path: Path) -> None:
    serial = build(project, tmp_path / "one", jobs=1)
    parallel = build(project, tmp_path / "two", jobs=2)
    assert [r.job for r in serial.results] == [r.job for r in parallel.results]
    for a, b in zip(serial.results, parallel.results, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes(), a.job
    manifest_one = json.loads((tmp_path / "one" / "manifest.json").read_text())
    manifest_two = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert manifest_one == manifest_two


def test_one_failure_does_not_stop_the_others_unless_fail_fast(project: Project,
                                                             tmp_path: Path) -> None:
    set_msgstr(project.catalog_path("es", HANDOUT), "what-is-it.plant.easy",
             " ".join(["anticonstitucionalmente"] * 40) + ".")
    for jobs in (1, 2):
        report = build(project, tmp_path / f"all{jobs}", jobs=jobs)
        assert statuses(report)["es.easy"] == "failed"
        assert report.count("built") == 5
    stopped = build(project, tmp_path / "fast", fail_fast=True, jobs=1)
    assert statuses(stopped)["es.easy"] == "failed"
    assert statuses(stopped)["es.standard"] == "not built"
    result = runner.invoke(app, ["build", "--lang", "es", "--fail-fast", "-j", "1", "-o",
                                 str(tmp_path / "cli"), "--project", str(project.root)])
    assert result.exit_code == 1 and "not built: --fail-fast" in result.stderr


def test_help_and_list_do_not_import_weasyprint() -> None:
    code = ("import sys; from typer.testing import CliRunner; from handoutkit.cli import app; "
            "r = CliRunner(); r.invoke(app, ['--help']); r.invoke(app, ['list']); "
            "print('weasyprint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
