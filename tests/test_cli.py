"""The ``handout`` command through Typer's runner, and once as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoutkit import Project, __version__
from handoutkit.cli import app

from .conftest import ROOT, pdf_text

#: What the commands do does not depend on how long the leaflet is: its `project` is the short copy
#: of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


runner = CliRunner()
HANDOUT = "kratom-chronic-pain"


def invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"handout {__version__}"


def test_help_explains_with_examples() -> None:
    result = runner.invoke(app, ["build", "--help"])
    assert result.exit_code == 0
    assert "handout build TOPIC --level standard" in result.output
    assert "--paper" in result.output and "--strict" in result.output


def test_list_json(project: Project) -> None:
    result = invoke(project, "list", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert HANDOUT in [h["id"] for h in data["handouts"]]
    assert [lvl["name"] for lvl in data["levels"]] == ["easy", "standard"]
    assert "en" in data["languages"]


def test_build_one_level_json(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(project, "build", HANDOUT, "--level", "easy", "--lang", "en",
                    "--paper", "letter", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [doc] = data["documents"]
    assert doc["ok"] and doc["paper"] == "letter" and doc["level"] == "easy"
    pdf = out / HANDOUT / "en" / f"{HANDOUT}.en.easy.letter.pdf"
    assert Path(doc["path"]) == pdf
    # The title's last two words are held together by a no-break space.
    assert "Kratom and pain that does not go away" in " ".join(pdf_text(pdf).split())


def test_unknown_level_is_an_input_error(project: Project, tmp_path: Path) -> None:
    result = invoke(project, "build", "--level", "expert", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown reading level 'expert'" in result.stderr
    assert "available: easy, standard" in result.stderr


def test_unknown_handout_is_an_input_error(project: Project, tmp_path: Path) -> None:
    result = invoke(project, "build", "no-such-topic", "--out", str(tmp_path))
    assert result.exit_code == 2 and "no-such-topic" in result.stderr


def test_a_folder_without_a_readable_topic_is_named_not_skipped_silently(
        project: Project, tmp_path: Path) -> None:
    (project.handouts_dir / "draft-topic").mkdir()
    (project.handouts_dir / "moved-topic").mkdir()
    (project.handouts_dir / "moved-topic" / "handout.yaml").symlink_to(tmp_path / "gone.yaml")
    result = runner.invoke(app, ["check", "--project", str(project.root)])
    for name in ("draft-topic", "moved-topic"):
        assert f"warning: handouts/{name}: no readable handout.yaml" in result.stderr


def test_bad_yaml_exits_2_naming_file_and_line(project: Project, tmp_path: Path) -> None:
    path = project.handout_path(HANDOUT)
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("summary:"))
    lines[index] = "summary: [broken\n"
    path.write_text("".join(lines))
    result = invoke(project, "build", "--lang", "en", "-l", "easy", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and "YAML syntax error" in result.stderr
    assert "Traceback" not in result.output
    # The fault stays with its topic: nothing of it is written, the other topics are built.
    built = {pdf.relative_to(tmp_path).parts[0] for pdf in tmp_path.rglob("*.pdf")}
    assert built == set(project.handout_ids()) - {HANDOUT}


def test_missing_field_exits_2_naming_file_and_line(project: Project, tmp_path: Path) -> None:
    path = project.handout_path(HANDOUT)
    text = path.read_text()
    path.write_text(re.sub(r"(?m)^version: .*\n", "", text, count=1))
    result = invoke(project, "list")
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and "version: required field is missing" in result.stderr


def test_real_process_builds_and_reports_errors(project: Project, tmp_path: Path) -> None:
    """Once as a user runs it: the installed console script, in its own process."""
    handout = Path(sys.executable).with_name("handout")
    env = {**os.environ, "COLUMNS": "100"}
    ok = subprocess.run([str(handout), "build", HANDOUT, "-l", "standard", "--lang", "en", "-o",
                         str(tmp_path / "b")], cwd=project.root, capture_output=True,
                        text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "1 built, 0 up to date, 0 failed" in ok.stdout
    assert (tmp_path / "b" / HANDOUT / "en" / f"{HANDOUT}.en.standard.a4.pdf").exists()

    project.handout_path(HANDOUT).write_text("id: [\n")
    bad = subprocess.run([str(handout), "list"], cwd=project.root, capture_output=True,
                         text=True, env=env, timeout=60)
    assert bad.returncode == 2
    assert "handout.yaml:" in bad.stderr and "Traceback" not in bad.stderr


def test_the_docs_python_snippet_runs_as_written(project: Project) -> None:
    readme = (ROOT / "docs" / "developers.md").read_text()
    section = readme.split("## Use it from Python", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    ran = subprocess.run([sys.executable, "-c", snippet], cwd=project.root, capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert "built" in ran.stdout and "written nowhere" in ran.stdout
    assert (project.root / "build" / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf").exists()


def test_the_public_api_is_exported_at_the_package_root() -> None:
    import handoutkit

    assert sorted(handoutkit.__all__) == sorted(["__version__", *handoutkit._EXPORTS])
    for name in handoutkit.__all__:
        assert getattr(handoutkit, name) is not None


def test_a_build_from_a_subfolder_writes_into_the_project(project: Project) -> None:
    handout = Path(sys.executable).with_name("handout")
    subfolder = project.handouts_dir / HANDOUT
    ran = subprocess.run([str(handout), "build", HANDOUT, "--lang", "en", "-l", "easy", "-q"],
                         cwd=subfolder, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert (project.root / "build" / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf").exists()
    assert not (subfolder / "build").exists()  # no stray build folder where it was run


def test_a_relative_out_folder_is_in_the_project(project: Project,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    subfolder = project.handouts_dir / HANDOUT
    monkeypatch.chdir(subfolder)
    result = CliRunner().invoke(app, ["build", HANDOUT, "--lang", "en", "-l", "easy", "-q",
                                      "-o", "print-run"])
    assert result.exit_code == 0, result.output
    assert (project.root / "print-run" / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf").exists()
    assert not (subfolder / "print-run").exists()


def test_list_says_a_project_has_no_regions_yet(tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    listed = runner.invoke(app, ["list", "--project", str(tmp_path / "p")])
    assert listed.exit_code == 0
    assert "Regions: none (handouts/regions/<code>.yaml adds one)" in listed.stdout


def test_check_scores_the_good_topics_and_names_the_broken_one(tmp_path: Path) -> None:
    """As a build does: a broken topic fails only its own documents (exit 2, named)."""
    import shutil

    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    topics = tmp_path / "p" / "handouts"
    shutil.copytree(topics / "hand-washing", topics / "hw-copy")  # its id is not its folder's
    checked = runner.invoke(app, ["check", "--project", str(tmp_path / "p")])
    assert checked.exit_code == 2
    assert re.search(r"hw-copy/handout.yaml:\d+: id 'hand-washing' does not match", checked.stderr)
    assert re.search(r"pass\s+hand-washing\s+en\s+easy", checked.stdout), checked.stdout
    as_json = json.loads(runner.invoke(app, ["check", "--json", "--project",
                                             str(tmp_path / "p")]).stdout)
    assert not as_json["ok"] and as_json["documents"] and len(as_json["problems"]) == 1
