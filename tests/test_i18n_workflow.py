"""The translator's workflow: extract, init, update, status, check, compile, and fallbacks."""

from __future__ import annotations

import gettext
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from typer.testing import CliRunner

from handoutkit.catalog import TranslationRecord, load_catalog
from handoutkit.cli import app
from handoutkit.pipeline import load_handouts
from handoutkit.plan import Job
from handoutkit.project import TEMPLATE_DOMAIN, Project
from handoutkit.render import render_html
from handoutkit.translate import catalogs_for, translate

from .conftest import HANDOUT, LANGUAGES, ROOT, pdf_text, set_msgstr

runner = CliRunner()


def invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


def _po(project: Project, lang: str, domain: str = HANDOUT) -> Path:
    return project.catalog_path(lang, domain)


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_extract_writes_templates_with_context_reference_and_note(project: Project) -> None:
    result = invoke(project, "i18n", "extract")
    assert result.exit_code == 0, result.output
    pot = project.template_path(HANDOUT)
    catalog = read_po(pot.open("rb"))
    message = catalog.get("Get help now", context="get-help.heading")
    assert message is not None
    assert message.locations == [(f"handouts/{HANDOUT}/handout.yaml",
                                  _line_of(project.handout_path(HANDOUT), "heading: Get help now"))]
    note = load_handouts(project, [HANDOUT])[HANDOUT].handout.sections[
        _section_index(project, "get-help")].note
    assert " ".join(message.auto_comments) == note  # the author's note, wrapped
    words = read_po(project.template_path(TEMPLATE_DOMAIN).open("rb"))
    page = words.get("Page %(page)s of %(pages)s", context="footer")
    assert page is not None and "python-format" in page.flags
    assert any("page numbers" in c for c in page.auto_comments)


def test_shipped_templates_are_up_to_date(project: Project) -> None:
    """The committed .pot files match a fresh extraction: nobody forgot to run extract."""
    def read() -> dict[str, list[str]]:
        # A topic added since (its template not yet extracted) may move the creation date.
        return {p.name: [line for line in p.read_text().splitlines()
                         if not line.startswith('"POT-Creation-Date:')]
                for p in project.locales_dir.glob("*.pot")}

    before = read()
    assert invoke(project, "i18n", "extract").exit_code == 0
    after = read()
    assert before == {name: after[name] for name in before}


def test_pybabel_finds_the_same_messages(project: Project, tmp_path: Path) -> None:
    pybabel = Path(sys.executable).with_name("pybabel")
    out = tmp_path / "all.pot"
    subprocess.run([str(pybabel), "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(out),
                    "."], cwd=project.root, check=True, capture_output=True)
    catalog = read_po(out.open("rb"))
    assert catalog.get("What is kratom?", context="what-is-it.heading") is not None
    assert catalog.get("Sources", context="sources") is not None


def test_init_new_language_takes_its_plural_rule(project: Project) -> None:
    result = invoke(project, "i18n", "init", "ru")
    assert result.exit_code == 0, result.output
    catalog = read_po(_po(project, "ru").open("rb"))
    assert catalog.num_plurals == 3
    assert invoke(project, "i18n", "init", "ru").exit_code == 2  # never overwrites
    assert invoke(project, "i18n", "init", "xx_NOPE").exit_code == 2


def test_status_json_and_a_deleted_translation(project: Project, tmp_path: Path) -> None:
    status = json.loads(invoke(project, "i18n", "status", "--json").stdout)
    assert status["format"] == "handoutkit.status/1"
    data = [row for row in status["catalogs"] if row["lang"] in LANGUAGES]
    assert {row["lang"] for row in data} == set(LANGUAGES)
    assert all(row["percent"] == 100.0 and row["review"] == "draft" for row in data
               if row["domain"] in (HANDOUT, TEMPLATE_DOMAIN, "regions"))

    set_msgstr(_po(project, "th"), "risks.seizures.easy", "")

    rows = json.loads(invoke(project, "i18n", "status", "--json", "--lang", "th").stdout)
    row = next(r for r in rows["catalogs"] if r["domain"] == HANDOUT)
    assert row["untranslated"] == 1 and row["percent"] < 100.0

    out = tmp_path / "out"
    normal = invoke(project, "build", "--lang", "th", "-l", "easy", "-o", str(out))
    assert normal.exit_code == 0
    assert "1 string(s) not translated" in normal.stderr
    assert f"{HANDOUT}:risks.seizures.easy" in normal.stderr
    assert "Some people have had seizures after using kratom." in pdf_text(
        out / HANDOUT / "th" / f"{HANDOUT}.th.easy.a4.pdf")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outputs"][0]["fallbacks"] == [f"{HANDOUT}:risks.seizures.easy"]

    strict = invoke(project, "build", "--lang", "th", "-l", "easy", "--strict", "-o",
                    str(tmp_path / "strict"))
    assert strict.exit_code == 1
    assert f"{HANDOUT}:risks.seizures.easy" in strict.stderr
    assert not (tmp_path / "strict" / HANDOUT).exists()


def test_broken_placeholder_is_reported_by_check_and_build(project: Project,
                                                           tmp_path: Path) -> None:
    path = _po(project, "es", TEMPLATE_DOMAIN)
    text = path.read_text()
    assert '"Página %(page)s de %(pages)s"' in text
    path.write_text(text.replace('"Página %(page)s de %(pages)s"', '"Página %(pagina)s"'))
    line = _line_of(path, "Page %(page)s of %(pages)s")

    check = invoke(project, "i18n", "check")
    assert check.exit_code == 2
    assert f"{path}:{line}:" in check.stderr
    assert "unknown placeholder %(pagina)" in check.stderr
    assert "drops %(page), %(pages)" in check.stderr

    build = invoke(project, "build", "--lang", "es", "-o", str(tmp_path))
    assert build.exit_code == 2
    assert f"{path}:{line}:" in build.stderr and "Traceback" not in build.output
    assert not any(tmp_path.rglob("*.pdf"))


def test_po_syntax_error_names_file_and_line(project: Project, tmp_path: Path) -> None:
    path = _po(project, "vi")
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("msgstr ") and i > 30)
    lines[index] = 'msgstr "unterminated\n'
    path.write_text("".join(lines))

    check = invoke(project, "i18n", "check")
    assert check.exit_code == 2 and f"{path}:" in check.stderr and "syntax" in check.stderr
    build = invoke(project, "build", "--lang", "vi", "-o", str(tmp_path))
    assert build.exit_code == 2
    reported = int(build.stderr.split(f"{path}:")[1].split(":")[0])
    assert abs(reported - (index + 1)) <= 1
    assert "Traceback" not in build.output


def test_html_in_a_translation_is_reported_and_printed_literally(project: Project,
                                                                tmp_path: Path) -> None:
    path = _po(project, "es")
    text = path.read_text()
    old = '"¿Qué es el kratom?"'
    path.write_text(text.replace(old, '"<b>¿Qué es?</b> {{ 7*7 }}"', 1))
    check = invoke(project, "i18n", "check")
    assert check.exit_code == 2 and "HTML, CSS or template syntax" in check.stderr
    build = invoke(project, "build", "--lang", "es", "-l", "easy", "-o", str(tmp_path))
    assert build.exit_code == 0, build.output
    text = pdf_text(tmp_path / HANDOUT / "es" / f"{HANDOUT}.es.easy.a4.pdf")
    assert "<b>¿Qué es?</b> {{ 7*7 }}" in text


def test_update_marks_a_changed_string_fuzzy_everywhere(project: Project,
                                                        tmp_path: Path) -> None:
    source = project.handout_path(HANDOUT)
    old = str(load_handouts(project, [HANDOUT])[HANDOUT].handout.sections[
        _section_index(project, "risks")].points[_point_index(project, "risks", "seizures")]
        .text["easy"])  # type: ignore[index]
    new = old.replace("had seizures", "had fits (seizures)", 1)
    assert new != old and source.read_text().count("had seizures after") == 1
    source.write_text(source.read_text().replace("had seizures after", "had fits (seizures) after"))
    result = invoke(project, "i18n", "update")
    assert result.exit_code == 0, result.output
    assert result.output.count("1 now fuzzy (risks.seizures.easy)") == len(LANGUAGES)
    for lang in LANGUAGES:
        catalog = read_po(_po(project, lang).open("rb"))
        message = catalog.get(new, context="risks.seizures.easy")
        assert message is not None and message.fuzzy and message.string
        import polib  # reads #| lines as GNU gettext does

        [entry] = [e for e in polib.pofile(str(_po(project, lang))) if e.msgctxt ==
                   "risks.seizures.easy"]
        assert entry.previous_msgid == old
    # A fuzzy translation never prints: the build falls back to the new English text.
    build = invoke(project, "build", "--lang", "es", "-l", "easy", "-o", str(tmp_path))
    assert build.exit_code == 0 and "risks.seizures.easy" in build.stderr
    assert "fits (seizures)" in pdf_text(tmp_path / HANDOUT / "es" / f"{HANDOUT}.es.easy.a4.pdf")


def _section_index(project: Project, section: str) -> int:
    sections = load_handouts(project, [HANDOUT])[HANDOUT].handout.sections
    return next(i for i, s in enumerate(sections) if s.id == section)


def _point_index(project: Project, section: str, point: str) -> int:
    points = load_handouts(project, [HANDOUT])[HANDOUT].handout.sections[
        _section_index(project, section)].points
    return next(i for i, p in enumerate(points) if p.id == point)


def test_update_keeps_removed_strings_as_obsolete(project: Project) -> None:
    source = project.handout_path(HANDOUT)
    text = source.read_text()
    start = text.index("      - id: seizures\n")
    end = text.index("      - id:", start + 1)
    source.write_text(text[:start] + text[end:])
    translated = next(str(value) for (context, _), value in load_catalog(
        _po(project, "id")).translations.items() if context == "risks.seizures.easy")
    assert invoke(project, "i18n", "update").exit_code == 0
    obsolete = read_po(_po(project, "id").open("rb")).obsolete.values()
    assert any(m.context == "risks.seizures.easy" and m.string == translated for m in obsolete)


def test_compile_writes_mo_files_gettext_reads(project: Project) -> None:
    result = invoke(project, "i18n", "compile")
    assert result.exit_code == 0
    with _po(project, "es").with_suffix(".mo").open("rb") as mo:
        translations = gettext.GNUTranslations(mo)
    assert translations.pgettext("what-is-it.heading", "What is kratom?") == "¿Qué es el kratom?"


def test_unknown_language_lists_the_available_ones(project: Project, tmp_path: Path) -> None:
    result = invoke(project, "build", "--lang", "fr", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown language 'fr'" in result.stderr
    assert "available: en, " in result.stderr and ", es, " in result.stderr


def test_preview_marks_untranslated_strings(project: Project) -> None:
    set_msgstr(_po(project, "th"), "get-help.heading", "")
    sources = load_handouts(project, [HANDOUT])
    job = Job(HANDOUT, "th", "easy")
    catalogs = catalogs_for(project, "th", [HANDOUT, TEMPLATE_DOMAIN])
    doc = translate(sources[HANDOUT], job, catalogs)
    draft = TranslationRecord("th", "draft", 0, ())
    preview = render_html(doc, catalogs, project.theme, draft, preview=True).html
    assert '<span class="fallback">Get help now</span>' in preview
    plain = render_html(doc, catalogs, project.theme, draft).html
    assert 'class="fallback"' not in plain and "Get help now" in plain


BAD_LINES = {
    'msgstr "unterminated': "unterminated string",
    "garbage here": "expected a keyword",
    "msgstr": "expected a keyword",
    'msgstr[0] "a"': "msgstr[0] where msgstr belongs",
}


def test_po_lines_babel_would_misread_are_syntax_errors(tmp_path: Path) -> None:
    """Babel silently accepts each of these; GNU msgfmt and handoutkit reject them."""
    from handoutkit.catalog import parse_po
    from handoutkit.errors import InputError

    for bad, message in BAD_LINES.items():
        path = tmp_path / "bad.po"
        path.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                        f'msgctxt "a"\nmsgid "hello"\n{bad}\n')
        try:
            parse_po(path)
        except InputError as exc:
            problem = exc.problems[0]
            assert problem.line == 7 and message in problem.message, bad
        else:
            raise AssertionError(f"accepted {bad!r}")
