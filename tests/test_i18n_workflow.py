"""The translator's workflow: extract, init, update, status, check, compile, and fallbacks."""

from __future__ import annotations

import datetime as dt
import gettext
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from handoutkit import Job, Project, TranslationRecord
from handoutkit.catalog import load_catalog
from handoutkit.cli import app
from handoutkit.content import load_handouts
from handoutkit.extract import templates
from handoutkit.i18n import plural_forms
from handoutkit.pofile import po_bytes, read_header
from handoutkit.project import BUILTIN_LOCALES, TEMPLATE_DOMAIN
from handoutkit.render import render_html
from handoutkit.translate import catalogs_for, translate

from .conftest import HANDOUT, LANGUAGES, ROOT, own_catalog, pdf_text, set_msgstr

runner = CliRunner()


def invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


def _po(project: Project, lang: str, domain: str = HANDOUT) -> Path:
    return own_catalog(project, lang, domain)


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_extract_writes_templates_with_context_reference_and_note(project: Project) -> None:
    result = invoke(project, "i18n", "extract")
    assert result.exit_code == 0, result.output
    pot = project.template_path(HANDOUT)
    catalog = read_po(pot.open("rb"))
    message = catalog.get("Get help now", context="get-help.heading")
    assert message is not None
    # The file only, as `msgmerge --add-location=file` writes it (msgctxt is the stable id).
    assert message.locations == [(f"handouts/{HANDOUT}/handout.yaml", None)]
    note = load_handouts(project, [HANDOUT])[HANDOUT].handout.sections[
        _section_index(project, "get-help")].note
    # The author's note, wrapped, then where the string prints and the level's aim.
    comments = " ".join(message.auto_comments)
    assert comments.startswith(str(note)) and "Prints in section 'get-help', its heading" in (
        comments)
    words = read_po(project.template_path(TEMPLATE_DOMAIN).open("rb"))
    page = words.get("Page %(page)s of %(pages)s", context="footer")
    assert page is not None and "python-format" in page.flags
    assert any("page numbers" in c for c in page.auto_comments)


def test_shipped_templates_are_up_to_date_and_extract_rewrites_nothing(
        project: Project) -> None:
    """The committed .pot files match a fresh extraction byte for byte (nobody forgot to run
    extract), and extracting again writes no file: no date churns when no message changed."""
    def templates() -> dict[str, tuple[bytes, int]]:
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
                for p in project.locales_dir.glob("*.pot")}

    before = templates()
    # A topic added since the last extraction (none in this repository) gets its first .pot,
    # and so does the theme's words in a project whose theme is the installed package's.
    new = {f"{topic}.pot" for topic in project.handout_ids()} - set(before)
    new |= {"handoutkit.pot"} - set(before)
    first = invoke(project, "i18n", "extract")
    assert first.exit_code == 0, first.output
    assert {Path(line.split()[-1]).name for line in first.stdout.splitlines()} == new
    assert {name: data for name, data in templates().items() if name not in new} == before
    before = templates()
    again = invoke(project, "i18n", "extract")
    assert again.exit_code == 0 and "wrote" not in again.output, again.output
    assert templates() == before
    # A changed message rewrites its template, and only that one.
    source = project.handout_path(HANDOUT)
    source.write_text(source.read_text().replace("heading: Get help now",
                                                 "heading: Get help right now"))
    result = invoke(project, "i18n", "extract")
    assert result.exit_code == 0
    assert result.output.split() == ["wrote", f"locales/{HANDOUT}.pot"]
    assert read_po(project.template_path(HANDOUT).open("rb")).get(
        "Get help right now", context="get-help.heading") is not None


def test_pybabel_finds_every_message_handout_extract_does(tmp_path: Path) -> None:
    """babel.cfg covers every domain: topics, legal facts, region profiles, theme words."""
    pybabel = Path(sys.executable).with_name("pybabel")
    out = tmp_path / "all.pot"
    subprocess.run([str(pybabel), "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(out),
                    "."], cwd=ROOT, check=True, capture_output=True)
    found = _keys(read_po(out.open("rb")))
    ours = set().union(*(_keys(c) for c in templates(Project(ROOT)).values()))
    assert ours and found == ours, (sorted(ours - found)[:5], sorted(found - ours)[:5])
    assert ("region.TH", "Thailand") in found and ("sources", "Sources") in found


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


def test_init_new_language_takes_its_plural_rule(project: Project) -> None:
    result = invoke(project, "i18n", "init", "ru")
    assert result.exit_code == 0, result.output
    catalog = read_po(_po(project, "ru").open("rb"))
    assert catalog.num_plurals == 3
    # Revised when it was started, as msginit writes it (Poedit shows it as the last edit).
    revised = dict(read_header(_po(project, "ru").read_text()))["PO-Revision-Date"]
    started = dt.datetime.strptime(revised, "%Y-%m-%d %H:%M%z")
    assert abs(dt.datetime.now(dt.UTC) - started) < dt.timedelta(hours=1), revised
    assert invoke(project, "i18n", "init", "ru").exit_code == 2  # never overwrites
    assert invoke(project, "i18n", "init", "xx_NOPE").exit_code == 2


#: What gettext's tools and Weblate write (CLDR gives Spanish and French a third form).
GETTEXT_RULES = {
    "es": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "pt_BR": "nplurals=2; plural=(n > 1);",
    "ar": "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
          "n%100>=11 ? 4 : 5;",
    **dict.fromkeys(("id", "ms", "th", "vi", "zh_Hans"), "nplurals=1; plural=0;"),
}


def test_shipped_catalogs_have_gettext_plural_rules() -> None:
    project = Project(ROOT)
    for lang in LANGUAGES:
        for path in project.catalog_files(lang):
            assert dict(read_header(path.read_text()))["Plural-Forms"] == GETTEXT_RULES[lang]
    scaffold = ROOT / "src/handoutkit/scaffold/locales/es/LC_MESSAGES/hand-washing.po"
    fields = dict(read_header(scaffold.read_text()))  # what `handout init` starts a project with
    assert fields["Plural-Forms"] == GETTEXT_RULES["es"]
    assert "EMAIL@ADDRESS" not in fields["Report-Msgid-Bugs-To"]
    spanish = load_catalog(_po(project, "es", TEMPLATE_DOMAIN))
    assert spanish.catalog.num_plurals == 2
    assert [spanish.plural(n) for n in (0, 1, 2, 1_000_000)] == [1, 0, 1, 1]


def test_init_writes_the_gettext_plural_rule_gnu_tools_keep(project: Project) -> None:
    for lang in ("fr", "pt_BR"):
        result = invoke(project, "i18n", "init", lang, "--topic", HANDOUT)
        assert result.exit_code == 0, result.output
        for domain in (HANDOUT, TEMPLATE_DOMAIN, "regions"):
            path = _po(project, lang, domain)
            header = dict(read_header(path.read_text()))
            assert header["Plural-Forms"] == GETTEXT_RULES[lang]
            assert header["Language"] == lang and "EMAIL@ADDRESS" not in header[
                "Report-Msgid-Bugs-To"]
            _assert_gnu_keeps(path, project.template_path(domain))
        french = load_catalog(_po(project, lang))  # the rule passes the build's own check
        assert [french.plural(n) for n in (0, 1, 2)] == [0, 0, 1]
    assert plural_forms("es_MX") == GETTEXT_RULES["es"]  # a regional variant: its language's
    assert plural_forms("sw") == "nplurals=2; plural=(n != 1);"  # from CLDR, via Babel


MSGCAT = shutil.which("msgcat")
gnu_gettext = pytest.mark.skipif(MSGCAT is None or shutil.which("msgmerge") is None,
                                 reason="GNU gettext (msgcat, msgmerge) is not installed")


def _shipped_catalogs() -> list[Path]:
    return sorted(path for locales in (Project(ROOT).locales_dir, BUILTIN_LOCALES)
                  for path in [*locales.glob("*.pot"), *locales.glob("*/LC_MESSAGES/*.po")])


def _gnu(*args: str | Path) -> bytes:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True).stdout


def _assert_gnu_keeps(path: Path, template: Path | None = None) -> None:
    """``msgcat`` reproduces the file, and ``msgmerge`` with its template changes nothing."""
    if MSGCAT is None:
        return
    assert _gnu("msgcat", path) == path.read_bytes(), f"msgcat rewrites {path}"
    if template is not None:
        merged = _gnu("msgmerge", "--quiet", "-o", "-", path, template)
        assert merged == path.read_bytes(), f"msgmerge rewrites {path}"


@gnu_gettext
def test_gnu_msgcat_reproduces_every_shipped_catalog() -> None:
    catalogs = _shipped_catalogs()
    assert len(catalogs) >= 4 + 3 * len(LANGUAGES)
    for path in catalogs:
        _assert_gnu_keeps(path)


@gnu_gettext
def test_gnu_msgmerge_changes_no_shipped_catalog() -> None:
    project = Project(ROOT)
    for path in _shipped_catalogs():
        if path.suffix == ".po":
            _assert_gnu_keeps(path, project.template_path(path.stem))


@gnu_gettext
def test_wrapping_matches_gnu_for_every_script_we_ship(tmp_path: Path) -> None:
    """Long strings built from the shipped translations' words (Arabic, Thai, Chinese,
    Vietnamese, Spanish), with quotes, tabs, line breaks, URLs and format directives, are
    wrapped exactly as msgcat wraps them."""
    words = sorted({word for path in _shipped_catalogs()
                    for message in read_po(path.open("rb")) if isinstance(message.string, str)
                    for word in message.string.split()} | {
        '"quoted"', "\\back", "%(page)s", "50%", "https://example.org/a-long/path?x=1",
        "1-800-662-4357", "24/7", "\t", "e.g.", "(note)", "—", "…", "¿Qué?"})
    rng = random.Random(15)
    catalog = Catalog(locale="es")
    for index in range(400):
        joiner = "" if index % 4 == 0 else " "  # Chinese and Thai run words together
        text = joiner.join(rng.choice(words) for _ in range(rng.randint(1, 40)))
        text = text.replace("\\t", "\t").replace("\\n", "\n")
        if index % 7 == 0:
            text += "\n" + text[: rng.randint(0, 60)]
        catalog.add(text, text[::-1] if index % 3 else "", context=f"c.{index}",
                    flags=["python-format"] if "%(" in text else [],
                    locations=[(f"handouts/{'x' * (index % 50)}/handout.yaml", index)] * 3)
    path = tmp_path / "stress.po"
    path.write_bytes(po_bytes(catalog, (("Content-Type", "text/plain; charset=UTF-8"),)))
    assert _gnu("msgcat", path).decode() == path.read_text()


@gnu_gettext
def test_update_merges_the_header_as_msgmerge_does(project: Project) -> None:
    """A catalog whose header another tool wrote (its own order, an old date, a fake bug
    address, a field of its own) comes out of update exactly as out of msgmerge."""
    path = _po(project, "es", "regions")
    text = path.read_text()
    stale = {"POT-Creation-Date": "2020-01-01 00:00+0000", "Report-Msgid-Bugs-To": "EMAIL@ADDRESS"}
    header = (("Generated-By", "Babel 2.19.0"),
              *[(name, stale.get(name, value)) for name, value in reversed(read_header(text))])
    path.write_bytes(po_bytes(read_po(path.open("rb")), header))
    expected = _gnu("msgmerge", "--quiet", "-o", "-", path, project.template_path("regions"))
    assert expected != path.read_bytes()
    assert invoke(project, "i18n", "update", "--lang", "es").exit_code == 0
    assert path.read_bytes() == expected


def test_report_bugs_to_comes_from_the_plan_file(project: Project) -> None:
    assert dict(read_header(project.template_path(HANDOUT).read_text()))[
        "Report-Msgid-Bugs-To"] == ""  # as xgettext leaves it when nobody said where
    toml = project.root / "handout.toml"
    toml.write_text('[i18n]\nreport_bugs_to = "https://example.org/handouts/issues"\n')
    assert invoke(project, "i18n", "extract").exit_code == 0
    assert invoke(project, "i18n", "update", "--lang", "es").exit_code == 0
    for path in (project.template_path(HANDOUT), _po(project, "es")):
        assert dict(read_header(path.read_text()))[
            "Report-Msgid-Bugs-To"] == "https://example.org/handouts/issues"
        _assert_gnu_keeps(path, project.template_path(HANDOUT) if path.suffix == ".po" else None)
    toml.write_text('[i18n]\nreport_bugs_to = "line\\nbreak"\nreport_to = "x"\n')
    result = invoke(project, "i18n", "extract")
    assert result.exit_code == 2
    assert "i18n.report_bugs_to" in result.stderr and "i18n.report_to: unknown key" in \
        result.stderr


def test_review_fields_survive_update_and_gnu_tools(project: Project) -> None:
    assert invoke(project, "i18n", "review", "es", "--by", "Ana Pérez", "--date",
                  "2026-11-28").exit_code == 0
    path = _po(project, "es")
    header = dict(read_header(path.read_text()))
    assert header["X-Reviewed-By"] == "Ana Pérez" and header["X-Reviewed-On"] == "2026-11-28"
    entries = load_catalog(path).translations
    assert len(header["X-Review-Entries"].split()) == len(entries)
    _assert_gnu_keeps(path, project.template_path(HANDOUT))
    before = path.read_bytes()
    assert invoke(project, "i18n", "update", "--lang", "es").exit_code == 0
    assert path.read_bytes() == before
    assert load_catalog(path).review is not None


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
    assert "unknown placeholder %(pagina)s" in check.stderr
    assert "drops %(page)s, %(pages)s" in check.stderr

    build = invoke(project, "build", "--lang", "es", "-o", str(tmp_path))
    assert build.exit_code == 2
    assert f"{path}:{line}:" in build.stderr and "Traceback" not in build.output
    assert not any(tmp_path.rglob("*.pdf"))


@pytest.mark.parametrize(("english", "translation", "said", "hint"), [
    # The type letter lost: printed as it stands, so the hint gives the whole placeholder.
    ("Page %(page)s of %(pages)s", "Página %(page) de %(pages)",
     "placeholder %(page) has lost its last letter", "write %(page)s"),
    # A placeholder where the English has none: the build would stop on it, not check pass.
    ("Patient information", "Información %(name)s del paciente",
     "unknown placeholder %(name)s", "placeholders of the English text: none"),
    # A percent sign in a string with placeholders is written %%, as gettext's tools want.
    ("Page %(page)s of %(pages)s", "Página %(page)s de %(pages)s, 100% seguro",
     "unknown placeholder % s", "a percent sign is written %%"),
])
def test_a_placeholder_mistake_is_named_with_the_fix(project: Project, english: str,
                                                     translation: str, said: str,
                                                     hint: str) -> None:
    path = _po(project, "es", TEMPLATE_DOMAIN)
    catalog = read_po(path.open("rb"))
    [message] = [m for m in catalog if m.id == english]
    set_msgstr(path, str(message.context), translation, english)
    for command in (["i18n", "check"], ["build", "--lang", "es", "-l", "easy"]):
        result = invoke(project, *command)
        assert result.exit_code == 2, (command, result.output)
        assert f"{path}:{_line_of(path, english)}: " in result.stderr
        assert said in result.stderr and hint in result.stderr, result.stderr


def test_a_percent_sign_written_the_gettext_way_prints_once(project: Project,
                                                            tmp_path: Path) -> None:
    path = _po(project, "es", TEMPLATE_DOMAIN)
    set_msgstr(path, "footer", "Página %(page)s de %(pages)s (100%%)",
               "Page %(page)s of %(pages)s")
    assert invoke(project, "i18n", "check", "--lang", "es").exit_code == 0
    built = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "easy", "-o", str(tmp_path))
    assert built.exit_code == 0, built.output
    text = pdf_text(next(tmp_path.rglob("*.pdf")))
    assert "de 2 (100%)" in text or "de 3 (100%)" in text, text


@pytest.mark.parametrize(("damage", "named"), [
    (lambda text: "\ufeff" + text, "byte-order mark"),
    (lambda text: text.replace("nplurals=2", "nplurals=banana", 1), "plural forms"),
])
def test_a_catalog_a_tool_damaged_is_named_for_what_happened(project: Project, damage: Any,
                                                             named: str) -> None:
    """A byte-order mark (some editors add one) or a Plural-Forms that is not gettext's: said
    in those words, at the line, not as Python's."""
    path = _po(project, "es")
    path.write_text(damage(path.read_text("utf-8")), "utf-8")
    check = invoke(project, "i18n", "check")
    assert check.exit_code == 2 and named in check.stderr, check.stderr
    assert "invalid literal" not in check.stderr and f"{path}:" in check.stderr


def test_po_syntax_error_names_file_and_line(project: Project, tmp_path: Path) -> None:
    path = _po(project, "vi")
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("msgstr ") and i > 30)
    lines[index] = 'msgstr "unterminated\n'
    path.write_text("".join(lines))

    check = invoke(project, "i18n", "check")
    assert check.exit_code == 2 and f"{path}:" in check.stderr and "syntax" in check.stderr
    as_json = invoke(project, "i18n", "check", "--json")
    assert as_json.exit_code == 2 and "Traceback" not in as_json.output
    (found,) = [f for f in json.loads(as_json.stdout)["findings"] if f["file"] == str(path)]
    assert found["severity"] == "error" and found["blocks_build"] and "syntax" in found["message"]
    assert abs(found["line"] - (index + 1)) <= 1
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


def test_what_the_english_has_a_translation_may_keep_and_content_has_no_placeholders(
        tmp_path: Path) -> None:
    """A topic's text is printed as written: its "<b>" or "{{ }}" copied into a translation
    is no fault, and its "{name}" or "%(x)s" is text, not a placeholder (no format flag in
    the template, nothing demanded back). Markup the English lacks is still reported."""
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    project = Project(tmp_path / "p")
    topic = project.handout_path("hand-washing")
    english = "Wet your hands <b>now</b>, {name}, {{ 7*7 }} and %(x)s."
    topic.write_text(topic.read_text().replace(
        "Wet your hands with clean, running water. Turn off the tap.", english, 1))
    assert invoke(project, "i18n", "update").exit_code == 0
    pot = (project.locales_dir / "hand-washing.pot").read_text()
    entry = pot[pot.index('msgctxt "how.wet"') - 200:pot.index('msgctxt "how.wet"')]
    assert "python-format" not in entry.split("#:")[-1] and "brace" not in entry.split("#:")[-1]
    catalog = _po(project, "es", "hand-washing")
    set_msgstr(catalog, "how.wet", "Mójese las manos <b>ya</b>, {{ 7*7 }}.")
    check = invoke(project, "i18n", "check")
    assert check.exit_code == 0, check.output
    set_msgstr(catalog, "how.wet", "Mójese las manos <i>ya</i>.")
    check = invoke(project, "i18n", "check", "--json")
    assert check.exit_code == 2
    [finding] = [f for f in json.loads(check.stdout)["findings"] if "how.wet" in f["message"]]
    assert "HTML, CSS or template syntax" in finding["message"]


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
    """Python reads the whole file; GNU gettext finds an entry by binary search over the keys
    (context and text), which must therefore be sorted as bytes, as msgfmt sorts them."""
    import struct

    result = invoke(project, "i18n", "compile")
    assert result.exit_code == 0
    path = _po(project, "es").with_suffix(".mo")
    with path.open("rb") as mo:
        translations = gettext.GNUTranslations(mo)
    assert translations.pgettext("what-is-it.heading", "What is kratom?") == "¿Qué es el kratom?"
    data = path.read_bytes()
    count, originals = struct.unpack("<2I", data[8:16])
    keys = [data[offset:offset + length] for length, offset in
            (struct.unpack("<2I", data[originals + 8 * i:originals + 8 * i + 8])
             for i in range(count))]
    assert count > 100 and keys == sorted(keys)
    header = translations.info()
    assert "Generated-By" not in header and header["content-type"].endswith("charset=UTF-8")


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
    from handoutkit import InputError
    from handoutkit.catalog import parse_po

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


# --- what translators and their platforms see ---------------------------------------------------

def test_every_entry_says_where_it_prints_and_the_levels_aim() -> None:
    """Each entry of every shipped template: its section (or box), its level and that
    level's target, from the string's own id."""
    from handoutkit import LEVELS

    checked = 0
    for template in sorted((ROOT / "locales").glob("*.pot")):
        for message in read_po(template.open("rb")):
            if not message.id:
                continue
            note = " ".join(message.auto_comments)
            parts = str(message.context).split(".")
            level = LEVELS.get(parts[-1])
            target = (level or LEVELS["easy"]).description
            assert target[1:] in note, (template.name, message.context, note)
            assert (f"the {level.name} level" if level else "every level") in note
            if template.stem not in ("regions",) and parts[0] not in ("legal", "title",
                                                                      "summary", "disclaimer"):
                assert f"section {parts[0]!r}" in note, (message.context, note)
            checked += 1
    assert checked > 200


def test_adding_a_point_adds_only_its_entry(project: Project) -> None:
    """References name the file only: a point added above others changes no other line."""
    import difflib

    topic_catalogs = sorted(project.locales_dir.glob(f"*/LC_MESSAGES/{HANDOUT}.po"))
    others = {p: p.read_bytes() for p in project.locales_dir.rglob("*.po")
              if p.name != f"{HANDOUT}.po"}
    before = {p: p.read_text().splitlines() for p in topic_catalogs}
    content = project.handout_path(HANDOUT)
    text = content.read_text()
    anchor = text.index("      - id: ", text.index("sections:"))
    content.write_text(text[:anchor] + "      - id: brand-new\n        text: A new short "
                       "point.\n" + text[anchor:])
    assert invoke(project, "i18n", "extract").exit_code == 0
    assert invoke(project, "i18n", "update").exit_code == 0
    for path in topic_catalogs:
        diff = [line for line in difflib.unified_diff(before[path],
                                                      path.read_text().splitlines(), n=0)
                if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        assert diff and all(line.startswith("+") for line in diff), (path, diff[:5])
        assert any("brand-new" in line for line in diff) and len(diff) <= 12, diff
    assert {p: p.read_bytes() for p in others} == others


@gnu_gettext
def test_the_previous_english_survives_updates_and_gnu_keeps_it(project: Project) -> None:
    import polib

    content = project.handout_path(HANDOUT)
    old = load_handouts(project, [HANDOUT])[HANDOUT].handout.title
    old_easy = old["easy"] if isinstance(old, dict) else old
    content.write_text(content.read_text().replace(old_easy, old_easy + " today", 1))
    catalog = _po(project, "es")
    for _ in range(3):
        assert invoke(project, "i18n", "extract").exit_code == 0
        assert invoke(project, "i18n", "update", "--lang", "es").exit_code == 0
    entry = next(e for e in polib.pofile(str(catalog)) if e.msgctxt == "title.easy")
    assert "fuzzy" in entry.flags and entry.previous_msgid == old_easy
    assert "# |" not in catalog.read_text()
    merged = _gnu("msgmerge", "--quiet", "--previous", "-o", "-", catalog,
                  project.template_path(HANDOUT))
    assert merged == catalog.read_bytes()


def _mutated_template(template: Catalog, rng: random.Random) -> Catalog:
    """The template as an author's edits leave it: points reworded a little or a lot, moved
    to another id, deleted, and new ones (some close to an old one, some not)."""
    mutated = Catalog(locale=None, domain=template.domain)
    messages = [m for m in template if m.id and isinstance(m.id, str)]
    for index, message in enumerate(messages):
        msgid, context = str(message.id), message.context
        roll = rng.random()
        if roll < 0.1:
            continue  # deleted: becomes obsolete
        if roll < 0.25:
            words = msgid.split(" ")
            words.insert(rng.randrange(len(words) + 1), rng.choice(["now", "today", "—"]))
            msgid = " ".join(words)  # a small edit: proposed back, fuzzy
        elif roll < 0.3:
            msgid = msgid[: len(msgid) // 3] + " and then something else entirely"
        elif roll < 0.35:
            context = f"{context}.moved"  # same English, a new id
        mutated.add(msgid, context=context, locations=list(message.locations),
                    auto_comments=list(message.auto_comments), flags=set(message.flags))
        if rng.random() < 0.05:
            mutated.add(msgid.upper(), context=f"new.{index}", locations=[("x.yaml", None)])
    mutated.add("A sentence nobody ever translated before.", context="new.last")
    return mutated


@gnu_gettext
@pytest.mark.parametrize("seed", range(6))
def test_update_merges_byte_for_byte_as_msgmerge_previous(project: Project, tmp_path: Path,
                                                           seed: int) -> None:
    """The same catalog and an edited template through `i18n update` and through
    `msgmerge --previous --add-location=file`: the same bytes, fuzzy guesses and all."""
    from handoutkit.i18n import _update_one

    rng = random.Random(seed)
    lang = LANGUAGES[seed % len(LANGUAGES)]
    domain = [HANDOUT, "opioid-overdose-naloxone", TEMPLATE_DOMAIN][seed % 3]
    catalog = _po(project, lang, domain)
    for _ in range(2):  # twice: the second merge starts from fuzzy entries the first made
        template = project.template_path(domain)
        edited = _mutated_template(read_po(template.open("rb")), rng)
        pot = tmp_path / f"{domain}.pot"
        pot.write_bytes(po_bytes(edited, read_header(template.read_text())))
        expected = _gnu("msgmerge", "--quiet", "--previous", "--add-location=file", "-o", "-",
                        catalog, pot)
        result = _update_one(project, catalog, read_po(pot.open("rb")))
        assert catalog.read_text().splitlines() == expected.decode().splitlines()
        assert result.now_fuzzy  # the edits made proposals
    text = catalog.read_text()
    assert "#| msgctxt" in text and "#, fuzzy" in text


def test_a_topic_sign_off_covers_what_its_documents_print_and_nothing_else(
        project: Project, tmp_path: Path) -> None:
    review = invoke(project, "i18n", "review", "es", "--topic", HANDOUT, "--by", "Ana Pérez")
    assert review.exit_code == 0, review.output
    other = project.catalog_path("es", "opioid-overdose-naloxone")
    assert "X-Reviewed-By" not in other.read_text()  # another topic's catalog: unsigned
    out = tmp_path / "out"
    for region in ([], ["--region", "US-AL"]):
        built = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "easy",
                       "--require-review", *region, "-o", str(out))
        assert built.exit_code == 0, built.output
    pdf = next(out.rglob(f"{HANDOUT}.es.easy.US-AL.letter.pdf"))
    assert "Ana Pérez" in pdf_text(pdf)
    refused = invoke(project, "build", "opioid-overdose-naloxone", "--lang", "es", "-l",
                     "easy", "--require-review", "-o", str(out))
    assert refused.exit_code == 1
    assert "i18n review es --topic opioid-overdose-naloxone --by NAME" in refused.stderr


def test_the_glossary_holds_catalogs_to_kept_and_preferred_terms(project: Project) -> None:
    glossary = project.locales_dir / "glossary.csv"
    assert glossary.is_file()  # the project's own, shipped with the catalogs
    catalog = _po(project, "es")
    entry = next(m for m in read_po(catalog.open("rb")) if "7-OH" in str(m.id))
    set_msgstr(catalog, str(entry.context), str(entry.string).replace("7-OH", "siete-OH"))
    check = invoke(project, "i18n", "check", "--lang", "es")
    assert check.exit_code == 2
    assert f"msgctxt {entry.context!r}: glossary term '7-OH' is kept" in check.stderr
    as_json = invoke(project, "i18n", "check", "--lang", "es", "--json")
    report = json.loads(as_json.stdout)
    assert as_json.exit_code == 2 and report["format"] == "handoutkit.catalog-check/1"
    (kept,) = [f for f in report["findings"] if "'7-OH' is kept" in f["message"]]
    assert not report["ok"] and kept["severity"] == "error" and kept["file"] == str(catalog)
    assert not kept["blocks_build"]  # the check's rule (a CI job), not the build's
    assert catalog.read_text().splitlines()[kept["line"] - 1].startswith("msgid ")
    # A preferred translation not used is advice: named, never failing.
    set_msgstr(catalog, str(entry.context), str(entry.string))
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(glossary.read_text())))
    rows[0] |= {"term": "kratom", "translate": "yes", "es": "cratom"}  # was 7-OH, kept
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    glossary.write_text(out.getvalue())
    advice = invoke(project, "i18n", "check", "--lang", "es")
    assert advice.exit_code == 0 and "warning:" in advice.stderr and "'cratom'" in advice.stderr
    as_json = invoke(project, "i18n", "check", "--lang", "es", "--json")
    report = json.loads(as_json.stdout)
    assert as_json.exit_code == 0 and report["ok"]
    assert {f["severity"] for f in report["findings"]} == {"warning"}
    assert any("'cratom'" in f["message"] for f in report["findings"])


def test_the_glossary_exports_to_tbx_as_weblate_imports_it(project: Project) -> None:
    from xml.etree import ElementTree

    result = invoke(project, "i18n", "glossary", "--lang", "es")
    assert result.exit_code == 0, result.output
    tbx = ElementTree.parse(project.locales_dir / "glossary" / "es.tbx").getroot()
    entries = {entry.findtext("langSet/tig/term"): entry
               for entry in tbx.iter("termEntry")}
    kept = entries["7-OH"]
    assert kept.find("descrip[@type='Translation needed']").text == "No"  # type: ignore[union-attr]
    targets = {
        term: [s.findtext("tig/term") for s in entry.findall("langSet")
               if s.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"]
        for term, entry in entries.items()}
    assert targets["naloxone"] == ["naloxona"] and targets["7-OH"] == ["7-OH"]


def test_translators_commands_say_what_they_wrote_as_json(project: Project) -> None:
    """For a platform's script (Weblate's add-on, a CI job): each command's files, in a
    shape of its own, and an error as the error shape, on stdout."""
    def report(*args: str) -> dict[str, Any]:
        result = invoke(project, "i18n", *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    started = report("init", "ru")
    assert started["format"] == "handoutkit.written/1" and started["command"] == "i18n init"
    assert f"locales/ru/LC_MESSAGES/{HANDOUT}.po" in started["files"]
    assert all((project.root / name).is_file() for name in started["files"])
    source = project.handout_path(HANDOUT)
    source.write_text(source.read_text().replace("had seizures after", "had fits after", 1))
    [changed] = [c for c in report("update", "--lang", "es")["catalogs"] if c["now_fuzzy"]]
    assert changed == {"path": f"locales/es/LC_MESSAGES/{HANDOUT}.po", "added": 0,
                       "now_fuzzy": ["risks.seizures.easy"], "obsoleted": 0}
    signed = report("review", "ru", "--by", "Ana Pérez", "--date", "2026-12-01")
    assert (signed["format"], signed["by"], signed["date"]) == (
        "handoutkit.review/1", "Ana Pérez", "2026-12-01")
    assert {c["path"] for c in signed["catalogs"]} >= {f"locales/ru/LC_MESSAGES/{HANDOUT}.po"}
    compiled = report("compile")["files"]
    assert f"locales/ru/LC_MESSAGES/{HANDOUT}.mo" in compiled
    again = invoke(project, "i18n", "init", "ru", "--json")
    assert again.exit_code == 2 and json.loads(again.stdout)["format"] == "handoutkit.error/1"


def test_a_plural_rule_with_the_wrong_number_of_forms_fails_the_check(project: Project) -> None:
    """Russian has three plural forms; a catalog copied from an English one says two. Every
    plural would print a wrong form, and i18n check (whose help promises it) said nothing."""
    assert invoke(project, "i18n", "init", "ru").exit_code == 0
    path = _po(project, "ru", TEMPLATE_DOMAIN)
    text = path.read_text()
    start = text.index('"Plural-Forms:')
    end = text.index("\\n\"", start) + 3
    path.write_text(text[:start] + '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"'
                    + text[end:])
    check = invoke(project, "i18n", "check", "--lang", "ru")
    assert check.exit_code == 2, check.output
    assert f"{path}:{_line_of(path, 'Plural-Forms:')}: " in check.stderr
    assert "Plural-Forms gives ru 2 plural form(s); gettext's rule for it has 3" in check.stderr
