"""Locale codes as translation platforms write them: folders named pt_BR or pt-BR, zh_Hans,
zh-Hans or zh-CN are one language to every command; an unknown folder is a warning."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from handoutkit import Project, language
from handoutkit.cli import app
from handoutkit.languages import bcp47, canonical_locale
from handoutkit.project import BUILTIN_LOCALES

from .conftest import HANDOUT, pdf_text, squash

#: How a language is added and built does not depend on how long the leaflet is: its `project` is
#: the short copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


runner = CliRunner()


def invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


def test_one_code_for_every_spelling() -> None:
    for spelling in ("pt_BR", "pt-BR", "pt_br"):
        assert canonical_locale(spelling) == "pt_BR"
    for spelling in ("zh_Hans", "zh-Hans", "zh-CN", "zh_CN", "zh", "zh-SG"):
        assert canonical_locale(spelling) == "zh_Hans"
    assert canonical_locale("zh-TW") == "zh_Hant" and canonical_locale("klingon") is None
    assert bcp47("pt_BR") == "pt-BR" and language("pt_BR").html_lang == "pt-BR"
    assert language("zh_Hans").html_lang == "zh-CN"


def test_a_bcp47_folder_builds_beside_the_others(project: Project, tmp_path: Path) -> None:
    # A platform's folder (its text Spanish here: what matters is that it is read).
    shutil.copytree(project.locales_dir / "es", project.locales_dir / "pt-BR")
    shutil.copyfile(BUILTIN_LOCALES / "es" / "LC_MESSAGES" / "handoutkit.po",
                    project.locales_dir / "pt-BR" / "LC_MESSAGES" / "handoutkit.po")
    (project.locales_dir / "klingon" / "LC_MESSAGES").mkdir(parents=True)
    out = tmp_path / "out"
    result = invoke(project, "build", HANDOUT, "-l", "easy", "--lang", "es", "--lang", "pt-BR",
                    "--lang", "zh_Hans", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "locales/klingon: not a locale code" in result.stderr
    made = sorted(p.name for p in out.rglob("*.pdf"))
    assert made == sorted(f"{HANDOUT}.{lang}.easy.a4.pdf" for lang in ("es", "pt_BR", "zh_Hans"))
    listed = invoke(project, "list", "--json")  # the topic has it beside the others
    assert listed.exit_code == 0, listed.output
    [topic] = [t for t in json.loads(listed.stdout)["handouts"] if t["id"] == HANDOUT]
    assert {"pt_BR", "es", "zh_Hans"} <= set(topic["languages"]) and len(topic["languages"]) >= 9
    pdf = PdfReader(out / HANDOUT / "pt_BR" / f"{HANDOUT}.pt_BR.easy.a4.pdf")
    assert pdf.trailer["/Root"]["/Lang"] == "pt-BR"
    # The platform's spelling works wherever a language is named.
    assert invoke(project, "i18n", "status", "--lang", "pt-BR").exit_code == 0
    assert invoke(project, "build", HANDOUT, "--lang", "pt-BR", "-l", "easy", "-o",
                  str(out)).exit_code == 0
    # Both styles are present here (zh_Hans, pt-BR): [i18n] folder_style decides.
    (project.root / "handout.toml").write_text('[i18n]\nfolder_style = "bcp47"\n')
    made_mx = invoke(project, "i18n", "init", "es_MX", "--topic", HANDOUT)
    assert made_mx.exit_code == 0, made_mx.output
    assert (project.locales_dir / "es-MX" / "LC_MESSAGES" / f"{HANDOUT}.po").is_file()


def test_init_takes_either_spelling_and_the_build_uses_it(tmp_path: Path) -> None:
    made = runner.invoke(app, ["init", str(tmp_path / "p")])
    assert made.exit_code == 0, made.output
    project = Project(tmp_path / "p")
    (project.root / "handout.toml").write_text("[build]\nmin_coverage = 0.0\n")
    started = invoke(project, "i18n", "init", "zh-CN", "--topic", "hand-washing")
    assert started.exit_code == 0, started.output
    # ...and with no folder that shows a style, POSIX ([i18n] folder_style's default).
    assert (project.locales_dir / "zh_Hans" / "LC_MESSAGES" / "hand-washing.po").is_file()
    built = invoke(project, "build", "hand-washing", "--lang", "zh-CN", "-l", "easy",
                   "--allow-hard", "-o", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    assert (tmp_path / "out" / "hand-washing" / "zh_Hans" /
            "hand-washing.zh_Hans.easy.a4.pdf").is_file()
    # A project whose folders are spelled BCP 47 gets its new ones so spelled.
    (project.locales_dir / "zh_Hans").rename(project.locales_dir / "zh-CN")
    assert invoke(project, "i18n", "init", "pt_BR", "--topic", "hand-washing").exit_code == 0
    assert (project.locales_dir / "pt-BR" / "LC_MESSAGES" / "hand-washing.po").is_file()
    assert invoke(project, "i18n", "status", "--lang", "zh_Hans").exit_code == 0


def test_a_language_cldr_knows_little_about_gets_plain_dates_and_one_plural(
        tmp_path: Path) -> None:
    from handoutkit.pofile import read_header

    from .conftest import pdf_text

    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    project = Project(tmp_path / "p")
    (project.root / "handout.toml").write_text("[build]\nmin_coverage = 0.0\n")
    assert invoke(project, "i18n", "init", "ht", "--topic", "hand-washing").exit_code == 0
    catalog = project.locales_dir / "ht" / "LC_MESSAGES" / "hand-washing.po"
    assert dict(read_header(catalog.read_text()))["Plural-Forms"] == "nplurals=1; plural=0;"
    built = invoke(project, "build", "hand-washing", "--lang", "ht", "-l", "easy",
                   "--allow-hard", "-o", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    [pdf] = (tmp_path / "out").rglob("*.ht.*.pdf")
    text = pdf_text(pdf)
    assert "M12" not in text and "M11" not in text and re.search(r"\b\d{1,2}\.\d{1,2}\.20\d\d",
                                                                   text)


def _fill(project: Project, lang: str, word: str) -> None:
    """Every entry of ``lang``'s catalogs translated: ``word`` before the English (a draft
    that shows the script, its placeholders intact)."""
    from babel.messages.pofile import read_po

    from handoutkit.pofile import po_bytes, read_header

    for path in (project.locales_dir / lang / "LC_MESSAGES").glob("*.po"):
        text = path.read_text("utf-8")
        catalog = read_po(io.StringIO(text))
        for message in catalog:
            if message.id and isinstance(message.id, str):
                message.string = f"{word} {message.id}"
        path.write_bytes(po_bytes(catalog, read_header(text)))


def test_a_script_without_an_entry_is_set_in_its_own_noto_family(tmp_path: Path) -> None:
    """Hindi's script has no entry in languages.SCRIPTS: the installed Noto family named for
    the script (or else the one fontconfig picks for the language) sets it; Japanese has its
    own CJK family, no longer the Latin fonts. A Japanese word
    in an English leaflet is drawn by the font the renderer falls back to; characters no
    installed font draws are one problem for the document, not one per character."""
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    project = Project(tmp_path / "p")
    for lang, word in (("hi", "नमस्ते"), ("ja", "手洗い")):
        assert invoke(project, "i18n", "init", lang).exit_code == 0
        _fill(project, lang, word)
    out = tmp_path / "out"
    built = invoke(project, "build", "hand-washing", "-l", "easy", "--allow-hard", "--lang",
                   "hi", "--lang", "ja", "-o", str(out))
    assert built.exit_code == 0, built.output
    fonts = {e["lang"]: e["fonts"] for e in json.loads((out / "manifest.json").read_text())[
        "outputs"]}
    assert "Noto-Sans-Devanagari" in fonts["hi"] and "Noto-Sans-CJK-JP" in fonts["ja"], fonts

    content = project.handouts_dir / "hand-washing" / "handout.yaml"
    english = content.read_text("utf-8")
    content.write_text(english.replace("Wet your hands", "Wet (手洗い) your hands"), "utf-8")
    assert invoke(project, "build", "hand-washing", "-l", "easy", "--lang", "en", "-o",
                  str(out)).exit_code == 0
    content.write_text(english.replace("Wet your hands", "Wet \U0001F9EA your \U0001FAE7 hands"),
                       "utf-8")
    refused = invoke(project, "build", "hand-washing", "-l", "easy", "--lang", "en", "-o",
                     str(out))
    assert refused.exit_code == 1
    assert refused.stderr.count("no installed font draws 2 character(s)") == 1, refused.stderr
    assert "U+1F9EA" in refused.stderr and "how.wet" in refused.stderr


def test_two_folders_for_one_language_are_named_not_one_dropped_silently(
        project: Project, tmp_path: Path) -> None:
    """A platform writes pt-BR beside the pt_BR a translator started: only one is read, and
    every command that reads catalogs says which is ignored."""
    for spelling in ("pt_BR", "pt-BR"):
        shutil.copytree(project.locales_dir / "es", project.locales_dir / spelling)
    check = invoke(project, "i18n", "check")
    assert check.exit_code == 2
    assert "locales/pt-BR: the same language as locales/pt_BR" in check.stderr
    built = invoke(project, "build", HANDOUT, "--lang", "pt_BR", "-l", "easy", "-o",
                   str(tmp_path))
    assert built.exit_code == 0, built.output
    assert "warning: locales/pt-BR: the same language as locales/pt_BR" in built.stderr


def test_a_date_that_ends_a_sentence_takes_the_full_stop_after_it(tmp_path: Path) -> None:
    """Russian writes "7 дек. 2026 г." and Korean "2026. 12. 7.": the footer's own full stop
    after the date printed as "г.." (a translator's preview shows the footer as printed)."""
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0
    project = Project(tmp_path / "p")
    assert invoke(project, "i18n", "init", "ru").exit_code == 0
    built = invoke(project, "build", "hand-washing", "-l", "easy", "--lang", "ru", "--preview",
                   "-o", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    text = squash(pdf_text(next((tmp_path / "out").rglob("*.pdf"))))
    assert squash("г. Next review by") in text and "г.." not in text, text
