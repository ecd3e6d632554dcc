"""Loading and validating content sources: the real handout, and every kind of mistake."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from handoutkit import InputError, Project
from handoutkit.content import load_handout
from handoutkit.levels import LEVEL_NAMES

from .conftest import ROOT


def test_shipped_handout_is_valid_and_has_every_required_section() -> None:
    source = load_handout(Project(ROOT).handout_path("kratom-chronic-pain"))
    ids = [s.id for s in source.handout.sections]
    assert {"what-is-it", "risks", "legal", "what-to-do", "get-help"} <= set(ids)
    kinds = {s.id: s.kind for s in source.handout.sections}
    assert kinds["get-help"] == "help" and kinds["legal"] == "legal"
    assert len(source.handout.sources) >= 3
    assert all(src.accessed is not None for src in source.handout.sources)


def test_message_contexts_are_unique_and_point_at_their_lines() -> None:
    source = load_handout(Project(ROOT).handout_path("kratom-chronic-pain"))
    messages = list(source.messages())
    contexts = [m.context for m in messages]
    assert len(contexts) == len(set(contexts))
    assert "what-is-it.plant.easy" in contexts and "risks.heading.easy" in contexts
    assert "what-is-it.heading" in contexts  # one text for every level: no level suffix
    lines = source.path.read_text().splitlines()
    for message in messages:
        line = lines[source.doc.line_of(message.loc) - 1]
        # The referenced line holds the start of the text (folded scalars start a line later).
        assert message.text.split()[0] in line or line.rstrip().endswith((">-", ":"))


def test_no_dosing_advice_in_any_text() -> None:
    source = load_handout(Project(ROOT).handout_path("kratom-chronic-pain"))
    text = " ".join(m.text.lower() for m in source.messages())
    for word in ("gram", " mg", "dose", "dosage", "teaspoon"):
        assert word not in text
    assert "never mix" in text and "alcohol" in text and "opioids" in text


def _write(project: Project, text: str) -> Path:
    path = project.handout_path("kratom-chronic-pain")
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_handout(path)
    return info.value


def _replace(project: Project, old: str, new: str) -> Path:
    path = project.handout_path("kratom-chronic-pain")
    text = path.read_text(encoding="utf-8")
    assert old in text
    return _write(project, text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_yaml_syntax_error_names_file_and_line(project: Project) -> None:
    path = _replace(project, "  - id: how-taken\n", "  - id: how-taken\n   bad: [unclosed\n")
    problem = _error(path).problems[0]
    assert problem.file == path
    assert "YAML syntax error" in problem.message
    assert problem.line is not None and abs(problem.line - _line_of(path, "bad: [unclosed")) <= 1


def test_missing_field_names_field_and_line(project: Project) -> None:
    line = next(row for row in project.handout_path("kratom-chronic-pain").read_text()
                .splitlines() if row.startswith("review_by: "))
    path = _replace(project, f"{line}\n", "")
    problem = _error(path).problems[0]
    assert "review_by" in problem.message and "missing" in problem.message
    assert problem.hint and "review_by" in problem.hint
    assert problem.line == _line_of(path, "id: kratom-chronic-pain")  # the mapping it belongs in


def test_missing_point_text_points_at_the_point(project: Project) -> None:
    path = _replace(project, "      - id: tradition\n        text:\n",
                    "      - id: tradition\n        txt:\n")
    messages = [p.message for p in _error(path).problems]
    assert any("sections[0].points[1].text" in m and "missing" in m for m in messages)
    assert any("sections[0].points[1].txt" in m and "unknown field" in m for m in messages)
    lines = {p.line for p in _error(path).problems}
    assert _line_of(path, "txt:") in lines


def test_wrong_type_is_reported(project: Project) -> None:
    path = _replace(project, "    year: 2024\n", "    year: last year\n")
    problem = _error(path).problems[0]
    assert "sources[0].year" in problem.message
    assert problem.line == _line_of(path, "year: last year")


def test_duplicate_id_is_reported_with_both_lines(project: Project) -> None:
    path = _replace(project, "      - id: tradition\n", "      - id: plant\n")
    problem = _error(path).problems[0]
    assert "duplicate point" in problem.message and "'plant'" in problem.message
    first, second = [i for i, line in enumerate(path.read_text().splitlines(), 1)
                     if "id: plant" in line]
    assert problem.line == second and f"line {first}" in problem.message


def test_unknown_level_lists_known_levels(project: Project) -> None:
    path = _replace(project, "  easy: Kratom and pain that does not go away\n",
                    "  easy: Kratom and pain that does not go away\n  expert: Mitragyna\n")
    problem = _error(path).problems[0]
    assert "'expert'" in problem.message
    assert all(level in problem.message for level in LEVEL_NAMES)
    assert problem.line == _line_of(path, "title:")


def test_duplicate_yaml_key_is_an_error(project: Project) -> None:
    version = next(line for line in project.handout_path("kratom-chronic-pain").read_text()
                   .splitlines() if line.startswith("version: "))
    path = _replace(project, f"{version}\n", f"{version}\nversion: 1.0.1\n")
    problem = _error(path).problems[0]
    assert "duplicate key 'version'" in problem.message
    assert problem.line == _line_of(path, "version: 1.0.1")


def test_not_utf8_names_the_line(project: Project) -> None:
    path = project.handout_path("kratom-chronic-pain")
    path.write_bytes(b"id: kratom-chronic-pain\ntitle: caf\xe9\n")
    problem = _error(path).problems[0]
    assert "UTF-8" in problem.message and problem.line == 2


def test_empty_file_is_an_error(project: Project) -> None:
    path = _write(project, "")
    [problem] = _error(path).problems
    assert problem.message == "handout: empty: its fields are missing", problem


def test_errors_speak_the_authors_language_not_pydantics(project: Project) -> None:
    """No "Value error, " prefix, no class name, no regular expression; a number where text
    belongs is told to take quotes."""
    path = _replace(project, "version: ", "version: 2\nold_version: ")
    messages = [str(p) for p in _error(path).problems]
    path = _replace(project, "publisher: National Institute on Drug Abuse (NIDA)\n",
                    "publisher: 12\n")
    messages += [str(p) for p in _error(path).problems]
    path = _replace(project, "sources:\n", "sources: []\nold_sources:\n")
    messages += [str(p) for p in _error(path).problems]
    for text in messages:
        assert not any(word in text for word in ("Value error", "Handout", "pattern", "^",
                                                 "after validation", "README"))
    assert any("sources: needs at least 1 item(s), has 0" in text for text in messages)

    assert any("12 is read as a number" in text and 'put it in quotes: "12"' in text
               for text in messages), messages


def test_an_id_the_topics_own_strings_use_is_refused(project: Project) -> None:
    """A point named `heading` would share its section heading's message context; a section
    named `title`, the title's."""
    path = _replace(project, "      - id: plant\n", "      - id: heading\n")
    [problem] = _error(path).problems
    assert "id 'heading' is taken" in problem.message
    assert problem.line == _line_of(path, "- id: heading")


@pytest.mark.parametrize("field", ["reviewed", "    accessed"])
def test_a_date_of_something_done_cannot_be_in_the_future(project: Project, field: str) -> None:
    """A review or a visit dated ahead would print as done, and keep the topic from going
    stale; two days ahead is refused (one is slack for a time zone already in tomorrow)."""
    ahead = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    path = _replace_line(project, f"{field}: ", f"{field}: {ahead}")
    [problem] = _error(path).problems
    assert f"{ahead} is in the future" in problem.message, problem
    assert problem.line == _line_of(path, f"{field}: {ahead}")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    load_handout(_replace_line(project, f"{field}: ", f"{field}: {tomorrow}"))


def test_a_review_date_before_the_review_names_its_own_line(project: Project) -> None:
    path = _replace_line(project, "review_by: ", "review_by: 2001-01-01")
    [problem] = _error(path).problems
    assert problem.message.startswith("review_by: 2001-01-01 must come after reviewed "), problem
    assert problem.line == _line_of(path, "review_by: 2001-01-01")


def _replace_line(project: Project, start: str, new: str) -> Path:
    """The topic with the first line starting with ``start`` replaced by ``new``."""
    path = project.handout_path("kratom-chronic-pain")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(start))
    lines[index] = new + "\n"
    return _write(project, "".join(lines))


def test_a_key_left_empty_is_one_problem(project: Project) -> None:
    """`title:` with nothing after it: one problem, not one per form a title may take (text,
    or a text per level), one of which spoke of "fields"."""
    text = project.handout_path("kratom-chronic-pain").read_text("utf-8")
    [empty] = _error(_write(project, re.sub(r"(?m)^title:\n(?:  .*\n)+", "title:\n", text))
                     ).problems
    assert "title: empty" in empty.message and "fields are missing" not in empty.message
    assert empty.line == _line_of(project.handout_path("kratom-chronic-pain"), "title:")
