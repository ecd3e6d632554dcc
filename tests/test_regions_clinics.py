"""Regions, legal facts, clinics, large print, bilingual prints, QR codes and the plan file."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
import yaml
import zxingcpp
from pypdf import PdfReader
from typer.testing import CliRunner

from handoutkit import (
    BuildOptions,
    InputError,
    Job,
    Project,
    build_documents,
    language,
    load_clinic,
    load_region,
    make_plan,
    plan_jobs,
    read_settings,
)
from handoutkit.catalog import load_catalog
from handoutkit.cli import app
from handoutkit.content import load_handout

from .conftest import HANDOUT, ROOT, pdf_pages, pdf_text, squash
from .test_translations import comparable

#: What a region or a clinic adds to the page does not depend on how long the leaflet is: its
#: `project` is the short copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


runner = CliRunner()
CLINIC = ROOT / "examples" / "clinic" / "clinic.toml"


def invoke(project: Project, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--project", str(project.root)])


def build_one(project: Project, out: Path, job: Job, **options: object) -> Path:
    report = build_documents(project, [job], BuildOptions(out_dir=out, **options))  # type: ignore[arg-type]
    assert not report.failed, report.failed[0].problems
    return report.results[0].path


def test_alabama_in_spanish_is_letter_with_the_law_its_date_source_and_911(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", HANDOUT, "--region", "US-AL", "--lang", "es", "--level",
                                 "easy", "-o", str(tmp_path), "--project", str(ROOT)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / HANDOUT / "es" / f"{HANDOUT}.es.easy.US-AL.letter.pdf"
    page = PdfReader(pdf).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)
    text = squash(pdf_text(pdf))
    project = Project(ROOT)
    fact = load_handout(project.handout_path(HANDOUT)).facts.facts.facts["US-AL"]  # type: ignore[union-attr]
    status = load_catalog(project.catalog_path("es", HANDOUT)).translations[
        ("legal.US-AL.status.easy", fact.status["easy"])]  # type: ignore[index]
    assert squash(str(status)) in text
    assert squash(language("es").format_date(fact.as_of)) in text  # as of, in Spanish
    assert squash(language("es").format_date(fact.checked)) in text  # when it was checked
    assert squash(str(fact.source.section)) in text  # the exact section of the law
    assert "911" in text
    assert "SAMHSA" in text  # a help line inherited from the US profile


def test_thailand_in_thai_is_a4_with_thai_legal_facts(plan_build: Path) -> None:
    tmp_path = plan_build  # handout.toml's plan builds Thailand's leaflets in its languages
    for level in ("easy", "standard"):
        pdf = tmp_path / HANDOUT / "th" / f"{HANDOUT}.th.{level}.TH.a4.pdf"
        page = PdfReader(pdf).pages[0]
        assert round(float(page.mediabox.width) * 25.4 / 72) == 210
        text = comparable(pdf_text(pdf))
        assert comparable("กระท่อม") in text and "2564" in text and "1669" in text
    easy = comparable(pdf_text(tmp_path / HANDOUT / "th" / f"{HANDOUT}.th.easy.TH.a4.pdf"))
    assert comparable("กระท่อมถูกกฎหมายในประเทศไทย") in easy


def test_sub_region_inherits_and_overrides(project: Project) -> None:
    region = load_region(project.handouts_dir, "US-AL")
    assert (region.name, region.paper, region.emergency) == ("Alabama", "letter", "911")
    assert [line.id for line in region.help_lines] == ["samhsa", "poison", "crisis"]
    (project.handouts_dir / "regions" / "US-CA.yaml").write_text(
        "code: US-CA\nname: California\npaper: a4\nemergency: '112'\n")
    california = load_region(project.handouts_dir, "US-CA")
    assert (california.paper, california.emergency) == ("a4", "112")
    assert california.languages == ("en", "es")


def _region_without_facts(project: Project) -> None:
    (project.handouts_dir / "regions" / "NZ.yaml").write_text(
        "code: NZ\nname: New Zealand\nlanguages: [en]\npaper: a4\nemergency: '111'\n")


def test_region_without_facts_prints_the_neutral_box(project: Project, tmp_path: Path) -> None:
    _region_without_facts(project)
    pdf = build_one(project, tmp_path, Job(HANDOUT, "en", "easy", "a4", "NZ"))
    text = squash(pdf_text(pdf))
    legal = next(s for s in load_handout(project.handout_path(HANDOUT)).handout.sections
                 if s.kind == "legal")
    for point in legal.points:  # the legal section's own points, not a fact
        assert squash(point.text if isinstance(point.text, str) else point.text["easy"]) in text
    assert "111" in text


def test_region_without_facts_is_an_error_when_the_author_says_so(project: Project,
                                                                  tmp_path: Path) -> None:
    _region_without_facts(project)
    facts = project.handouts_dir / HANDOUT / "regions.yaml"
    facts.write_text(facts.read_text().replace("without_facts: neutral", "without_facts: error"))
    result = invoke(project, "build", HANDOUT, "--region", "NZ", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "no legal facts for region 'NZ'" in result.stderr and "without_facts" in result.stderr


def test_unknown_region_lists_the_known_ones(project: Project, tmp_path: Path) -> None:
    result = invoke(project, "build", "--region", "US-XX", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown region 'US-XX'" in result.stderr and "US-AL" in result.stderr


def test_malformed_region_profile_names_file_and_line(project: Project, tmp_path: Path) -> None:
    path = project.handouts_dir / "regions" / "TH.yaml"
    path.write_text(path.read_text().replace("paper: a4", "paper: A5"))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "A5" in row)
    result = invoke(project, "build", "--region", "TH", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert f"{path}:{line}:" in result.stderr and "paper" in result.stderr


def _make_fact_stale(project: Project) -> None:
    facts = project.handouts_dir / HANDOUT / "regions.yaml"
    text = facts.read_text()
    start = text.index("  GB:")
    stale = re.sub(r"checked: \S+", "checked: 2019-06-01", text[start:], count=1)
    facts.write_text(text[:start] + re.sub(r"review_by: \S+", "review_by: 2020-01-01", stale,
                                           count=1))


def test_stale_fact_warns_fails_strict_and_is_listed(project: Project, tmp_path: Path) -> None:
    _make_fact_stale(project)
    normal = invoke(project, "build", HANDOUT, "--region", "GB", "-l", "easy", "-o",
                    str(tmp_path / "a"))
    assert normal.exit_code == 0
    assert "stale: legal fact GB: review was due 2020-01-01" in normal.stderr
    strict = invoke(project, "build", HANDOUT, "--region", "GB", "-l", "easy", "--strict", "-o",
                    str(tmp_path / "b"))
    assert strict.exit_code == 1 and "past their review date" in strict.stderr
    assert strict.stderr.count("review was due 2020-01-01") == 1  # an error, not also a warning
    listed = invoke(project, "list", "--stale")
    assert listed.exit_code == 1 and "legal fact GB" in listed.stdout
    fresh = runner.invoke(app, ["list", "--stale", "--project", str(ROOT)])
    assert fresh.exit_code == 0 and "0 item(s)" in fresh.stdout
    topic = project.handout_path(HANDOUT)
    topic.write_text(re.sub(r"(?m)^reviewed: .*$", "reviewed: 2019-01-01", re.sub(
        r"(?m)^review_by: .*$", "review_by: 2020-01-01", topic.read_text())))
    listed = invoke(project, "list", "--stale")
    assert listed.exit_code == 1 and f"topic {HANDOUT}: medical review" in listed.stdout


def test_stale_is_judged_against_the_given_date(tmp_path: Path) -> None:
    project = Project(ROOT)
    later = dt.date(2030, 1, 1)
    report = build_documents(project, [Job(HANDOUT, "en", "easy", "a4", "GB")],
                             BuildOptions(out_dir=tmp_path, today=later))
    assert any("legal fact GB" in w for w in report.results[0].warnings)
    assert any("help line FRANK" in w for w in report.results[0].warnings)
    # The topic's own medical review is due too, and a leaflet of no region says so as well.
    neutral = build_documents(project, [Job(HANDOUT, "en", "easy")],
                              BuildOptions(out_dir=tmp_path, today=later))
    for result in (*report.results, *neutral.results):
        assert any(f"topic {HANDOUT}: medical review" in w for w in result.warnings)


def test_clinic_name_and_phone_on_every_page(tmp_path: Path) -> None:
    project = Project(ROOT)
    clinic = load_clinic(CLINIC)
    job = Job(HANDOUT, "es", "easy", "a4", "US-AL", large_print=True)
    pdf = build_one(project, tmp_path, job, clinic=clinic)
    pages = pdf_pages(pdf)
    assert len(pages) > 2
    for page in pages:
        assert "Riverside Community Clinic" in page
        assert "(555) 010-2000" in page
    assert PdfReader(pdf).metadata.author == "Riverside Community Clinic"  # type: ignore[union-attr]


@pytest.mark.parametrize(("change", "message"), [
    ('logo = "logo.svg"', "logo file not found"),
    ('logo = "logo.gif"', "is not SVG or PNG"),
    ('colour = "red"', "colour: unknown key"),
    ('name = ', "TOML syntax error"),
    # pydantic's name for a union member ("note.dict[str,constrained-str].en") and no line
    ('note = { en = 5 }', "note.en: 5 is read as a number"),
    # a note under a misspelled language was never printed, and nothing said so
    ('note = { english = "Open daily" }', "'english' is not a language code"),
    ('phone = "call the front desk"', "has no phone number in it"),
])
def test_bad_clinic_profile_is_a_clear_error(tmp_path: Path, change: str, message: str) -> None:
    profile = tmp_path / "clinic.toml"
    text = CLINIC.read_text().replace('logo = "logo.svg"', "")
    key = change.split(" ")[0]
    text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} ="))
    profile.write_text(text + "\n" + change + "\n")
    with pytest.raises(InputError) as info:
        load_clinic(profile)
    problem = info.value.problems[0]
    assert message in problem.message and problem.file == profile
    if "syntax" not in message:  # the line that says it
        assert problem.line == len(text.splitlines()) + 1, problem
    result = runner.invoke(app, ["build", "--clinic", str(profile), "-l", "easy", "--lang",
                                 "en", "-o", str(tmp_path / "out"), "--project", str(ROOT)])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def _font_sizes(pdf: Path) -> list[float]:
    """The size of every printed character, in points.

    pdfium reports the text matrix's size; WeasyPrint writes CSS pixels (0.75 pt each).
    """
    document = pypdfium2.PdfDocument(pdf)
    sizes = []
    for page in document:
        text_page = page.get_textpage()
        for index in range(text_page.count_chars()):
            char = pdfium_c.FPDFText_GetUnicode(text_page.raw, index)
            if chr(char).strip():
                sizes.append(pdfium_c.FPDFText_GetFontSize(text_page.raw, index) * 0.75)
    document.close()
    return sizes


def test_large_print_has_no_text_below_16pt(tmp_path: Path) -> None:
    project = Project(ROOT)
    normal = build_one(project, tmp_path, Job(HANDOUT, "en", "standard", "a4", "US"))
    large = build_one(project, tmp_path, Job(HANDOUT, "en", "standard", "a4", "US", True),
                      clinic=load_clinic(CLINIC))
    normal_sizes = _font_sizes(normal)
    assert min(normal_sizes) >= 9.9, sorted(normal_sizes)[:5]  # nothing below 10 pt
    assert min(normal_sizes) < 12  # footer and sources are smaller than the body
    sizes = _font_sizes(large)
    assert min(sizes) >= 15.9, sorted(sizes)[:5]
    assert len(PdfReader(large).pages) > len(PdfReader(normal).pages)


def test_bilingual_print_has_both_languages_headings(tmp_path: Path) -> None:
    project = Project(ROOT)
    pdf = build_one(project, tmp_path, Job(HANDOUT, "ar", "easy", "a4", None, False, "en"))
    text = pdf_text(pdf)
    assert "ما هو الكراتوم؟" in text and "What is kratom?" in text
    assert "Get help now" in text and "اطلب المساعدة الآن" in text


def test_qr_code_decodes_to_the_configured_url(tmp_path: Path) -> None:
    project = Project(ROOT)
    pdf = build_one(project, tmp_path, Job(HANDOUT, "th", "easy"), clinic=load_clinic(CLINIC))
    url = "https://riverside.example.org/handouts/kratom-chronic-pain/th/easy"
    assert url.removeprefix("https://") in squash(pdf_text(pdf))  # printed as one types it
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=4).to_pil()
        found += [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    document.close()
    assert found == [url]


def test_plan_file_drives_a_bare_build(project: Project) -> None:
    (project.root / "handout.toml").write_text(
        f'[plan]\nhandouts = ["{HANDOUT}"]\nlevels = ["easy"]\nlanguages = ["en"]\n'
        'regions = ["", "US-RI"]\n')
    listed = invoke(project, "list", "--plan", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert data["count"] == 2
    assert {d["output"] for d in data["documents"]} == {
        f"{HANDOUT}/en/{HANDOUT}.en.easy.a4.pdf",
        f"{HANDOUT}/en/{HANDOUT}.en.easy.US-RI.letter.pdf"}
    built = invoke(project, "build", "-o", str(project.root / "out"))
    assert built.exit_code == 0, built.output
    assert "2 built, 0 up to date, 0 failed" in built.stdout


def test_shipped_plan_lists_its_documents() -> None:
    result = runner.invoke(app, ["list", "--plan", "--project", str(ROOT)])
    assert result.exit_code == 0
    project = Project(ROOT)
    jobs = plan_jobs(project, read_settings(project).plan)  # type: ignore[arg-type]
    assert f"{len(jobs)} document(s)" in result.stdout
    # Every topic in the languages it has, for the regions the plan names.
    assert all(job.lang in project.topic_languages(job.handout) for job in jobs)
    assert {job.region for job in jobs} >= {None, "US-AL", "TH", "MY"}


def test_region_names_and_help_lines_are_translated(tmp_path: Path) -> None:
    project = Project(ROOT)
    pdf = build_one(project, tmp_path, Job(HANDOUT, "zh_Hans", "easy", "a4", "AU"))
    text = pdf_text(pdf)
    words = load_catalog(project.catalog_path("zh_Hans", "regions")).translations
    assert "澳大利亚" in text and "000" in text
    assert str(words[("help.poisons.name", "Poisons Information Centre")]) in text
    assert "131 450" in text  # the interpreter line, on leaflets in other languages only
    english = pdf_text(build_one(project, tmp_path, Job(HANDOUT, "en", "easy", "a4", "AU")))
    assert "131 450" not in english
    jobs = make_plan(project, [HANDOUT], regions=["AU"])
    assert [j.lang for j in jobs][::2] == ["en", "vi", "zh_Hans", "ar"]


def test_on_a_right_to_left_page_each_source_keeps_its_number_beside_the_qr_code(
        tmp_path: Path) -> None:
    """The clinic's QR code beside an Arabic leaflet's left-to-right list of sources: the
    first citation used to start below the code, its number stranded beside it."""
    pdf = build_one(Project(ROOT), tmp_path, Job(HANDOUT, "ar", "easy"),
                    clinic=load_clinic(CLINIC))
    content = yaml.safe_load((ROOT / "handouts" / HANDOUT / "handout.yaml").read_text())
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                            text=True, check=True).stdout
    layout = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", layout)  # bidi marks
    for number, source in enumerate(content["sources"], 1):
        start = rf"^\s*{number}\.\s+{re.escape(source['publisher'][:20])}"
        assert re.search(start, layout, re.MULTILINE), (number, layout[-1500:])


@pytest.mark.parametrize(("key", "line", "value", "named"), [
    ("languages", 3, '["en", "klingon"]', "unknown language 'klingon'"),
    ("regions", 3, '["", "ZZ"]', "unknown region 'ZZ'"),
    ("levels", 3, '["easy", "expert"]', "unknown reading level 'expert'"),
    ("clinic", 3, '"clinics/ours.toml"', "[plan] clinic: no clinic profile at "
                                         "'clinics/ours.toml'"),
])
def test_a_plan_naming_what_does_not_exist_names_its_line(project: Project, key: str,
                                                         line: int, value: str,
                                                         named: str) -> None:
    (project.root / "handout.toml").write_text(f'[plan]\nhandouts = ["{HANDOUT}"]\n'
                                               f"{key} = {value}\n")
    for command in (["build"], ["list", "--plan"]):
        result = invoke(project, *command)
        assert result.exit_code == 2, result.output
        assert f"handout.toml:{line}: {named}" in result.stderr, result.stderr


def test_a_stale_inherited_number_is_blamed_on_the_file_that_gives_it() -> None:
    from handoutkit.regions import load_region, stale_items

    region = load_region(ROOT / "handouts", "US-AL")  # its number and lines come from US
    items = stale_items(region, None, dt.date(2100, 1, 1))
    assert items and {item.path.name for item in items} == {"US.yaml"}, items


@pytest.mark.parametrize(("old", "new", "named"), [
    ("languages: [en, es]", "languages: [en, klingon]", "'klingon' is not a language code"),
    ("  review_by: ", "  review_by: 2020-01-01\n  old_review_by: ",
     "review_by: 2020-01-01 must come after checked"),
    ("  checked: ", "  checked: 2100-01-01\n  old_checked: ",
     "checked: 2100-01-01 is in the future"),
])
def test_a_region_profile_with_impossible_values_is_refused(project: Project, old: str,
                                                            new: str, named: str) -> None:
    profile = project.handouts_dir / "regions" / "US.yaml"
    text = profile.read_text()
    assert old in text
    profile.write_text(text.replace(old, new, 1).replace("  old_review_by: ", "  # ", 1))
    result = invoke(project, "list", "--plan")
    assert result.exit_code == 2 and named in result.stderr, result.stderr
    line = profile.read_text().splitlines().index(new.split("\n")[0]) + 1  # the field's own
    assert f"US.yaml:{line}: " in result.stderr and "Value error" not in result.stderr


def test_a_long_clinic_header_in_large_print_stays_on_the_paper(tmp_path: Path) -> None:
    """Four lines of header at 16 pt, and the draft mark under them: the top margin grows to
    hold them (it was sized for shorter headers, and the name ran off the top edge). A long
    name or address wraps between words (each was kept on one line and ran off both edges);
    a word wider than the page is refused, named."""
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'name = "Community Health Centre of Saint Bartholomew and the Riverside '
        'Neighbourhoods Cooperative Health Association Inc"\n'
        'address = "1234 Martin Luther King Jr. Boulevard, Building C, Suite 200, East Palo '
        'Alto, CA 94303"\n'
        'phone = "+1 514-555-0199 poste 2"\nwebsite = "https://clinique-st-eloi.example.ca"\n')
    job = Job(HANDOUT, "es", "easy", "a4", None, large_print=True)
    pdf = build_one(Project(ROOT), tmp_path / "out", job, clinic=load_clinic(clinic))
    boxes = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    width = float(re.search(r'<page width="([^"]+)"', boxes)[1])  # type: ignore[index]
    words = [tuple(map(float, found)) for found in re.findall(
        r'<word xMin="([^"]+)" yMin="([^"]+)" xMax="([^"]+)"', boxes)]
    assert words and all(left >= 0 and top >= 0 and right <= width
                         for left, top, right in words)
    assert "Bartholomew" in boxes and "94303" in boxes
    clinic.write_text(f'name = "{"Gesundheitszentrum" * 6}"\n')
    report = build_documents(Project(ROOT), [job], BuildOptions(
        out_dir=tmp_path / "wide", clinic=load_clinic(clinic)))
    [failed] = report.failed
    assert any("within-margins" in problem for problem in failed.problems), failed.problems


def test_a_clinic_name_keeps_its_own_order_on_a_right_to_left_page(tmp_path: Path) -> None:
    """"24 Hour Clinic" on an Arabic page, in the header and as "Published by …": a name
    starting with a number, left unisolated, printed as "Hour Clinic 24"."""
    clinic = tmp_path / "clinic.toml"
    clinic.write_text('name = "24 Hour Clinic"\nphone = "(555) 010-2000"\n')
    job = Job(HANDOUT, "ar", "easy", "a4", None)
    pdf = build_one(Project(ROOT), tmp_path / "out", job, clinic=load_clinic(clinic))
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    seen = 0
    for page in boxes.split("<page ")[1:]:
        words = re.findall(r'<word xMin="([^"]+)" yMin="([^"]+)"[^>]*>([^<]+)</word>', page)
        for x, y in [(float(x), float(y)) for x, y, word in words if word == "Hour"]:
            seen += 1  # the digits' font sits a little higher on the line
            [number] = [float(nx) for nx, ny, word in words
                        if word == "24" and abs(float(ny) - y) < 5]
            assert number < x, (y, number, x)
    assert seen >= 3  # each page's header, and the closing "Published by"



_LINE = """  - id: {id}
    name: Drug help line
    phone: "0800 000 000"
    url: https://help.example.net
    hours: {hours}
{sources}    checked: 2026-11-28
    review_by: 2027-05-28
"""
_SOURCES = ("    sources:\n"
            "      - {title: Ministry page, url: \"https://gov.example.net/lines\"}\n")


@pytest.mark.parametrize(("lines", "named"), [
    # A number no one could open a source for would print (the docs say it never may).
    (_LINE.format(id="a", hours="Every day", sources=""), "sources: required field is missing"),
    (_LINE.format(id="a", hours="Every day", sources=_SOURCES)
     + _LINE.format(id="a", hours="Weekdays", sources=_SOURCES), "help line id 'a' is used twice"),
    (_LINE.format(id="a", hours="x" * 400, sources=_SOURCES), "hours: "),
])
def test_a_help_line_without_sources_twice_or_too_long_is_refused(project: Project,
                                                                    lines: str,
                                                                    named: str) -> None:
    profile = project.handouts_dir / "regions" / "NZ.yaml"
    profile.write_text("code: NZ\nname: New Zealand\nlanguages: [en]\npaper: a4\n"
                       'emergency: "111"\nhelp_lines:\n' + lines)
    result = invoke(project, "list")
    assert result.exit_code == 2 and named in result.stderr, result.stderr
    assert "NZ.yaml:" in result.stderr and "Traceback" not in result.output
    assert "US-AL  Alabama" in result.stdout  # the other regions are still listed


def test_a_sub_region_without_its_parent_names_its_own_file(project: Project) -> None:
    profile = project.handouts_dir / "regions" / "ZZ-AB.yaml"
    profile.write_text("code: ZZ-AB\nname: Nowhere\n")
    result = invoke(project, "list")
    assert result.exit_code == 2, result.output
    assert f"{profile}:1: region 'ZZ-AB' is part of 'ZZ', which has no profile" in result.stderr
    assert "US-AL  Alabama" in result.stdout


def test_a_regions_language_the_topic_lacks_is_said_not_silently_dropped(
        project: Project, tmp_path: Path) -> None:
    """A Germany leaflet came out in English only and nothing said why: the topic has no
    German catalog yet."""
    profile = project.handouts_dir / "regions" / "GB.yaml"
    profile.write_text(profile.read_text().replace("languages: [en]", "languages: [en, cy]", 1))
    built = invoke(project, "build", HANDOUT, "--region", "GB", "-l", "easy", "-o",
                   str(tmp_path))
    assert built.exit_code == 0, built.output
    assert f"note: {HANDOUT} for GB: no cy translation, so made in en" in built.stderr
