"""Any topic in its own languages: languages per topic, the coverage gate, sign-off, strict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoutkit import Project
from handoutkit.catalog import load_catalog
from handoutkit.cli import app
from handoutkit.project import TEMPLATE_DOMAIN

from .conftest import HANDOUT, ROOT, own_catalog, pdf_text, set_msgstr, squash

#: How topics are added, built and signed off does not depend on how long a leaflet is: its
#: `project` is the short copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


runner = CliRunner()

SCRATCH = """\
id: scratch-topic
version: 0.1.0
reviewed: 2026-11-01
review_by: 2027-11-01
publisher: Test clinic
title: Washing your hands
summary: Clean hands stop germs. Wash them often.
disclaimer: This sheet gives general facts.
sections:
  - id: when
    heading: When to wash
    kind: steps
    points:
      - {id: before, text: Wash before you eat.}
      - {id: after, text: Wash after you use the toilet.}
  - id: help
    kind: help
    heading: Get help now
    points:
      - {id: lead, text: "Call your emergency number if someone:"}
      - {id: faint, text: faints and does not wake up}
sources:
  - {title: Handwashing, publisher: CDC, year: 2024, url: "https://www.cdc.gov/clean-hands/",
     accessed: 2026-11-01}
"""


def invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


def _manifest(out: Path) -> dict[str, dict[str, object]]:
    data = json.loads((out / "manifest.json").read_text())
    return {entry["path"]: entry for entry in data["outputs"]}


@pytest.fixture
def scratch(project: Project) -> Project:
    folder = project.handouts_dir / "scratch-topic"
    folder.mkdir()
    (folder / "handout.yaml").write_text(SCRATCH)
    return project


def test_a_topic_without_catalogs_builds_in_english_only(scratch: Project, tmp_path: Path
                                                         ) -> None:
    result = invoke(scratch, "build", "scratch-topic", "-o", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)["documents"]
    assert {d["lang"] for d in documents} == {"en"} and len(documents) == 2
    assert all(d["translation"]["status"] == "source" for d in documents)
    text = pdf_text(tmp_path / "scratch-topic" / "en" / "scratch-topic.en.easy.a4.pdf")
    assert "Wash before you eat." in text and "Get help now" in text
    assert not (tmp_path / "scratch-topic" / "es").exists()

    check = invoke(scratch, "check", "scratch-topic", "--json")
    assert check.exit_code == 0, check.output
    assert {r["lang"] for r in json.loads(check.stdout)["documents"]} == {"en"}


def test_asking_for_a_language_the_topic_lacks_is_an_input_error(scratch: Project,
                                                                  tmp_path: Path) -> None:
    result = invoke(scratch, "build", "scratch-topic", "--lang", "es", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "scratch-topic has no es translation" in result.stderr
    assert "Traceback" not in result.output
    # With --json the program reading the output gets the error as JSON too.
    shape = json.loads(invoke(scratch, "build", "scratch-topic", "--lang", "es", "--json",
                              "-o", str(tmp_path)).stdout)
    assert shape["format"] == "handoutkit.error/1" and not shape["ok"]
    assert "no es translation" in shape["problems"][0]["message"]


def test_a_scratch_topic_does_not_break_a_regional_build(scratch: Project, tmp_path: Path
                                                        ) -> None:
    """The region's languages the topic lacks are left out; English stands in for none."""
    result = invoke(scratch, "build", "scratch-topic", "--region", "TH", "-l", "easy",
                    "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    [pdf] = tmp_path.rglob("*.pdf")
    assert pdf.name == "scratch-topic.en.easy.TH.a4.pdf"


def test_an_incomplete_translation_is_not_built_and_says_why(project: Project,
                                                             tmp_path: Path) -> None:
    catalog = project.catalog_path("es", HANDOUT)
    text = catalog.read_text()
    # Blank every translation of the topic: the document would be English filed as Spanish.
    blanked = "\n".join('msgstr ""' if line.startswith('msgstr "') and i > 20 else line
                        for i, line in enumerate(text.splitlines()))
    catalog.write_text(blanked + "\n")
    result = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "easy", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "not built: only" in result.stderr and "printed strings" in result.stderr
    assert not list(tmp_path.rglob("*.pdf"))
    strict = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "easy", "--strict",
                    "-o", str(tmp_path))
    assert strict.exit_code == 1
    # As a second language it is held back just the same: English filed as Spanish.
    bilingual = invoke(project, "build", HANDOUT, "--lang", "en", "--also", "es", "-l", "easy",
                       "-o", str(tmp_path))
    assert bilingual.exit_code == 0 and "current es translation" in bilingual.stderr
    assert not list(tmp_path.rglob("*.pdf"))
    # A preview is what a translator builds to see what is missing: it is never held back.
    preview = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "easy", "--preview",
                     "-o", str(tmp_path))
    assert preview.exit_code == 0, preview.output
    [made] = tmp_path.rglob("*.preview.pdf")
    assert "Draft translation" in pdf_text(made)


def test_a_bilingual_print_is_held_to_its_second_languages_review(project: Project,
                                                                  tmp_path: Path) -> None:
    """English with draft Spanish under it: marked as a draft, and refused where the policy
    wants reviewed translations, as the Spanish print alone is."""
    args = ["build", HANDOUT, "--lang", "en", "--also", "es", "-l", "easy", "-o", str(tmp_path)]
    made = invoke(project, *args)
    assert made.exit_code == 0, made.output
    [pdf] = tmp_path.rglob(f"{HANDOUT}.en+es.easy.a4.pdf")
    text = squash(pdf_text(pdf))
    assert squash("Draft translation: not yet checked by a medical translator") in text
    # ...and in the words of the reader it warns
    spanish = load_catalog(Project(ROOT).catalog_path("es", TEMPLATE_DOMAIN)).translations[
        ("draft", "Draft translation: not yet checked by a medical translator")]
    assert squash(str(spanish)) in text
    refused = invoke(project, *args, "--require-review")
    assert refused.exit_code == 1 and "review es --topic" in refused.stderr, refused.output


def test_a_missing_template_word_is_a_fallback_and_strict_refuses_it(project: Project,
                                                                     tmp_path: Path) -> None:
    heading = "Sources (accessed %(date)s)"
    set_msgstr(own_catalog(project, "es", TEMPLATE_DOMAIN), "sources", "", msgid=heading)
    fallback = f'handoutkit:sources:"{heading}"'
    out = tmp_path / "out"
    result = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "standard", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert fallback in result.stderr
    [entry] = _manifest(out).values()
    assert fallback in entry["fallbacks"]  # type: ignore[operator]
    assert squash("Sources (accessed") in squash(pdf_text(out / entry["path"]))  # type: ignore[operator]
    # Up to date, and still refused: --strict is part of what decides a document.
    strict = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "standard", "--strict",
                    "-o", str(out))
    assert strict.exit_code == 1
    assert fallback in strict.stderr


def test_sign_off_makes_documents_reviewed_until_an_entry_changes(project: Project,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("build", HANDOUT, "--lang", "en", "--lang", "es", "-l", "easy", "-o", str(out))
    assert invoke(project, *args).exit_code == 0
    manifest = _manifest(out)
    english = f"{HANDOUT}/en/{HANDOUT}.en.easy.a4.pdf"
    spanish = f"{HANDOUT}/es/{HANDOUT}.es.easy.a4.pdf"
    assert manifest[english]["translation"]["status"] == "source"  # type: ignore[index]
    assert manifest[spanish]["translation"]["status"] == "draft"  # type: ignore[index]
    assert squash("Draft translation: not yet checked by a medical translator") in squash_text(
        out / spanish)
    refused = invoke(project, *args, "--require-review")
    assert refused.exit_code == 1 and "draft translation" in refused.stderr

    review = invoke(project, "i18n", "review", "es", "--by", "Ana Pérez", "--date",
                    "2026-11-28")
    assert review.exit_code == 0, review.output
    assert invoke(project, *args, "--require-review").exit_code == 0
    entry = _manifest(out)[spanish]["translation"]
    assert entry["status"] == "reviewed" and entry["reviewed_by"] == "Ana Pérez"  # type: ignore[index]
    assert entry["reviewed_on"] == "2026-11-28"  # type: ignore[index]
    printed = squash_text(out / spanish)
    assert squash("Ana Pérez") in printed and squash("Draft translation") not in printed

    # A later edit of an entry every document prints makes them drafts again.
    set_msgstr(project.catalog_path("es", HANDOUT), "title.easy", "El kratom y el dolor")
    again = invoke(project, *args, "--require-review")
    assert again.exit_code == 1 and "draft translation" in again.stderr
    drafted = invoke(project, *args)
    assert drafted.exit_code == 0
    assert _manifest(out)[spanish]["translation"]["status"] == "draft"  # type: ignore[index]
    # A sign-off that no longer holds is said, with what it does not cover.
    assert "signed off by Ana Pérez, but printed as a draft" in drafted.stderr
    assert f"{HANDOUT}:title.easy" in drafted.stderr


def test_a_sign_off_kept_from_print_by_its_own_credit_line_says_so(project: Project,
                                                                   tmp_path: Path) -> None:
    """Every string reviewed but the line that credits the reviewer, untranslated: the
    handout stayed a draft and nothing said why (its record named no string)."""
    credit = "Translation checked by %(name)s on %(date)s."
    set_msgstr(own_catalog(project, "es", TEMPLATE_DOMAIN), "footer", "", credit)
    assert invoke(project, "i18n", "review", "es", "--by", "Ana Pérez").exit_code == 0
    built = invoke(project, "build", HANDOUT, "--lang", "es", "-l", "easy", "-o",
                   str(tmp_path))
    assert built.exit_code == 0, built.output
    assert "signed off by Ana Pérez, but printed as a draft" in built.stderr
    assert credit in built.stderr
    [entry] = _manifest(tmp_path).values()
    assert any(credit in name for name in entry["translation"]["unreviewed"])  # type: ignore[index]


def squash_text(path: Path) -> str:
    return squash(pdf_text(path))


def test_preview_is_written_beside_the_print_pdf(project: Project, tmp_path: Path) -> None:
    args = ("build", HANDOUT, "--lang", "es", "-l", "easy", "-o", str(tmp_path))
    assert invoke(project, *args).exit_code == 0
    pdf = tmp_path / HANDOUT / "es" / f"{HANDOUT}.es.easy.a4.pdf"
    before = pdf.read_bytes()
    assert invoke(project, *args, "--preview").exit_code == 0
    assert pdf.read_bytes() == before
    assert (tmp_path / HANDOUT / "es" / f"{HANDOUT}.es.easy.a4.preview.pdf").exists()


def test_a_fact_for_an_unknown_region_names_its_line(project: Project, tmp_path: Path) -> None:
    facts = project.handouts_dir / HANDOUT / "regions.yaml"
    text = facts.read_text()
    facts.write_text(text.replace("\n  US-LA:", "\n  US-XX:", 1))
    result = invoke(project, "build", "-l", "easy", "--lang", "en", "-o", str(tmp_path))
    # Only the topic whose facts name the unknown region fails (1); the others are built.
    assert result.exit_code == 1, result.output
    line = next(i for i, row in enumerate(facts.read_text().splitlines(), 1) if "US-XX:" in row)
    assert f"regions.yaml:{line}: facts for unknown region 'US-XX'" in result.stderr
    assert "Traceback" not in result.output
    built = {pdf.relative_to(tmp_path).parts[0] for pdf in tmp_path.rglob("*.pdf")}
    assert built == set(project.handout_ids()) - {HANDOUT}
    listing = invoke(project, "list", "--json")
    assert listing.exit_code == 1 and "US-XX" in listing.stderr
    listed = {h["id"] for h in json.loads(listing.stdout)["handouts"]}
    assert listed == set(project.handout_ids()) - {HANDOUT}


def test_init_adds_a_language_to_a_new_topic(scratch: Project) -> None:
    result = invoke(scratch, "i18n", "init", "es", "--topic", "scratch-topic")
    assert result.exit_code == 0, result.output
    assert scratch.catalog_path("es", "scratch-topic").exists()
    assert "es" in scratch.topic_languages("scratch-topic")
    shutil.rmtree(scratch.handouts_dir / "scratch-topic")


def test_update_keeps_a_sign_off(project: Project) -> None:
    from handoutkit.catalog import load_catalog

    assert invoke(project, "i18n", "review", "es", "--by", "Ana Pérez").exit_code == 0
    before = load_catalog(project.catalog_path("es", HANDOUT)).review
    assert before is not None and before.by == "Ana Pérez" and before.entries
    assert invoke(project, "i18n", "update", "--lang", "es").exit_code == 0
    assert load_catalog(project.catalog_path("es", HANDOUT)).review == before
    status = invoke(project, "i18n", "status", "--lang", "es")
    assert "reviewed by Ana Pérez" in status.stdout
