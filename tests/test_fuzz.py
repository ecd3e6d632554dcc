"""Malformed input never crashes: random and mutated files and arguments end in a clear error.

Every case must end with success or an InputError that names the file (exit code 0 or 2 on
the command line), never a traceback. CI runs a fixed, bounded number of examples
(derandomized); `HYPOTHESIS_PROFILE=fuzz pytest tests/test_fuzz.py` runs many more.
The limits they probe, and the cases they found, are kept as regular tests at the bottom.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from handoutkit import InputError, Project, load_clinic, load_region
from handoutkit.catalog import load_catalog, parse_po
from handoutkit.checks import check_messages
from handoutkit.cli import app
from handoutkit.content import load_handout
from handoutkit.project import TEMPLATE_DOMAIN

from .conftest import ROOT

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("fuzz", max_examples=1500, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

HANDOUT_YAML = (ROOT / "handouts" / "kratom-chronic-pain" / "handout.yaml").read_text()
FACTS_YAML = (ROOT / "handouts" / "kratom-chronic-pain" / "regions.yaml").read_text()
REGION_YAML = (ROOT / "handouts" / "regions" / "US.yaml").read_text()
PO = Project(ROOT).catalog_path("ar", TEMPLATE_DOMAIN).read_text()
CLINIC = (ROOT / "examples" / "clinic" / "clinic.toml").read_text()
JUNK = st.sampled_from(["", ":", "- ", "  ", "\t", "'", '"', "[", "]", "{", "}", "&a", "*a",
                        "!!python/object:os.system", "%", "#", "\\", "msgstr", "msgid",
                        "msgstr[9]", "=", "\x00", "\ufeff", "é", "\n", "---", "...", "|",
                        ">-", "2026-13-45", "-1", "1e999", "null", "~", "<<: *a"])


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few lines deleted, duplicated, swapped or salted with junk."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "junk", "cut", "swap"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "junk":
            at = draw(st.integers(0, len(lines[index])))
            lines[index] = lines[index][:at] + draw(JUNK) + lines[index][at:]
        elif action == "cut":
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
    return "".join(lines)


def expect_clean(action, path: Path) -> None:  # type: ignore[no-untyped-def]
    try:
        action()
    except InputError as exc:
        assert all(p.file is None or p.file == path or p.file.parent == path.parent
                   for p in exc.problems), exc
        assert str(exc)


@pytest.fixture
def topic(tmp_path: Path) -> Path:
    folder = tmp_path / "handouts" / "kratom-chronic-pain"
    folder.mkdir(parents=True)
    return folder


@given(text=st.one_of(mutated(HANDOUT_YAML), st.text(max_size=300)))
def test_mutated_handout_yaml(topic: Path, text: str) -> None:
    path = topic / "handout.yaml"
    path.write_text(text, encoding="utf-8")
    (topic / "regions.yaml").unlink(missing_ok=True)
    expect_clean(lambda: load_handout(path), path)


@given(text=mutated(FACTS_YAML))
def test_mutated_regional_facts(topic: Path, text: str) -> None:
    (topic / "handout.yaml").write_text(HANDOUT_YAML)
    (topic / "regions.yaml").write_text(text, encoding="utf-8")
    expect_clean(lambda: load_handout(topic / "handout.yaml"), topic / "regions.yaml")


@given(text=mutated(REGION_YAML))
def test_mutated_region_profile(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "handouts" / "regions"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "US.yaml").write_text(text, encoding="utf-8")
    (folder / "US-AL.yaml").write_text("code: US-AL\nname: Alabama\n")
    expect_clean(lambda: load_region(tmp_path / "handouts", "US-AL"), folder / "US.yaml")


@given(text=st.one_of(mutated(PO), st.text(max_size=300)))
# Saved: a header field indented with spaces (Babel's date parser raised AttributeError), a
# date field Babel cannot read, and a duplicate entry (Babel kept the last, silently).
@example(text=PO.replace('"PO-Revision-Date:', '"  PO-Revision-Date:', 1))
@example(text=PO.replace('"PO-Revision-Date: ', '"PO-Revision-Date: soon ', 1))
@example(text=PO + '\nmsgctxt "x"\nmsgid "y"\nmsgstr "1"\n\nmsgctxt "x"\nmsgid "y"\nmsgstr "2"\n')
def test_mutated_po(tmp_path: Path, text: str) -> None:
    path = tmp_path / "handoutkit.po"
    path.write_text(text, encoding="utf-8")

    def load() -> None:
        catalog = load_catalog(path)
        check_messages(parse_po(path), path)
        assert catalog.plural(3) >= 0

    expect_clean(load, path)


@given(text=st.one_of(mutated(CLINIC), st.text(max_size=200)))
def test_mutated_clinic_profile(tmp_path: Path, text: str) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "logo.svg").write_text((ROOT / "examples" / "clinic" / "logo.svg").read_text())
    expect_clean(lambda: load_clinic(path), path)


WORDS = st.sampled_from([
    "build", "list", "check", "i18n", "status", "--json", "--lang", "es", "xx", "--level",
    "easy", "hard", "--region", "US-AL", "ZZ", "--paper", "a5", "letter", "--jobs", "0", "-j",
    "--stale", "--plan", "--large-print", "--also", "kratom-chronic-pain", "nope", "--strict",
    "-l", "--clinic", "/nonexistent.toml", "--", "-", "--help", "--version", "é", ""])


@given(args=st.lists(WORDS, max_size=6))
def test_random_command_lines(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    from handoutkit import BuildReport
    from handoutkit import builder as build

    # Parsing and planning are what is fuzzed here; rendering has its own tests.
    monkeypatch.setattr(build, "build_documents",
                        lambda project, jobs, options, progress=None: BuildReport([], Path("m")))
    result = CliRunner().invoke(app, [*args, "--project", str(ROOT)] if args else args)
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (args, repr(result.exception))


# --- limits, and the cases the fuzzers found, kept as regular tests ----------------------------

def test_yaml_alias_bomb_is_refused(topic: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefgh":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    path = topic / "handout.yaml"
    path.write_text(bomb)
    with pytest.raises(InputError, match="too many aliases"):
        load_handout(path)


def test_yaml_top_level_list_is_a_clear_error(topic: Path) -> None:
    path = topic / "handout.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(InputError) as info:
        load_handout(path)
    assert info.value.problems[0].file == path


def test_ten_thousand_points_are_refused(topic: Path) -> None:
    points = "".join(f"      - id: p{i}\n        text: Point {i}.\n" for i in range(10_000))
    text = HANDOUT_YAML.replace("    points:\n", "    points:\n" + points, 1)
    path = topic / "handout.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match="at most 40 items"):
        load_handout(path)


def test_control_character_in_yaml_names_its_line(topic: Path) -> None:
    # Found by test_mutated_handout_yaml: PyYAML's reader raised before parsing began.
    path = topic / "handout.yaml"
    path.write_text("id: kratom-chronic-pain\nversion: 1.0.0\x1f\n")
    with pytest.raises(InputError) as info:
        load_handout(path)
    problem = info.value.problems[0]
    assert problem.line == 2 and "U+001F" in problem.message
