"""The page rules, read from the PDFs of the project's whole plan: numbered steps on one page,
no last page of closing matter alone, a one-line footer, host names never broken, and a help
box whose danger signs and "while you wait" actions are two lists under their own headings.
The build refuses a document that breaks a rule, naming it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from handoutkit import Project, plan_jobs, read_settings
from handoutkit.catalog import load_catalog
from handoutkit.cli import app
from handoutkit.pipeline import Inputs
from handoutkit.project import TEMPLATE_DOMAIN
from handoutkit.rendered import FetchLog, PageLayout, RenderedPdf
from handoutkit.translate import PrintedHandout
from handoutkit.verify import layout_problems

from .conftest import ROOT, pdf_pages, pdf_text, squash
from .test_translations import comparable

runner = CliRunner()
@pytest.fixture(scope="module")
def plan(plan_build: Path) -> list[tuple[PrintedHandout, Path]]:
    """Every document of the plan in handout.toml (the run's shared build of it), each with
    what it prints."""
    project = Project(ROOT)
    request = read_settings(project).plan
    assert request is not None
    jobs = plan_jobs(project, request)
    inputs = Inputs(project, jobs)
    return [(inputs.printed(job, None), plan_build / str(job.output)) for job in jobs]


def _page_of(pages: list[str], text: str) -> list[int]:
    """The pages that hold all of ``text`` (a point never splits across pages)."""
    needle = squash(text)
    return [number for number, page in enumerate(pages, 1) if needle in squash(page)]


def test_every_steps_list_lies_on_one_page(plan: list[tuple[PrintedHandout, Path]]) -> None:
    checked = 0
    for doc, path in plan:
        pages = pdf_pages(path)
        for section in doc.sections:
            if section.kind == "steps":
                # A short step may also stand elsewhere ("Call the emergency number" in the
                # help box): the steps share one page, the one the first and last are on.
                found = [set(_page_of(pages, point.value)) for point in section.points]
                assert found[0] and found[-1], (path.name, section.id)
                common = set.intersection(*[pages_of for pages_of in found if pages_of])
                assert len(common) == 1, (path.name, section.id, found)
                checked += 1
    assert checked


def test_no_last_page_holds_only_the_closing_matter(
        plan: list[tuple[PrintedHandout, Path]]) -> None:
    for doc, path in plan:
        pages = pdf_pages(path)
        body = [section.heading.value for section in doc.sections] + [
            point.value for section in doc.sections for point in section.points]
        last = squash(pages[-1])
        assert any(squash(text)[:24] in last for text in body), path.name


def test_the_footer_is_one_line_on_every_page(plan: list[tuple[PrintedHandout, Path]]) -> None:
    for doc, path in plan:
        review_year = re.findall(r"\d{4}", doc.format_date(doc.review_by, short=True))[-1]
        for number, page in enumerate(pdf_pages(path), 1):
            lines = [line for line in page.splitlines() if doc.version in line]
            assert lines, (path.name, number)
            # The version and the next review's year stand on one line: it did not wrap.
            assert review_year in lines[-1], (path.name, number, lines)


def test_no_url_breaks_inside_its_host_name(plan: list[tuple[PrintedHandout, Path]]) -> None:
    for doc, path in plan:
        lines = [squash(line) for page in pdf_pages(path) for line in page.splitlines()]
        urls = [source.url for source in doc.sources]
        urls += [line.url for line in doc.region.help_lines] if doc.region else []
        for url in urls:
            host = url.removeprefix("https://").removeprefix("www.").split("/")[0]
            assert any(host in line for line in lines), (path.name, host)


def test_the_help_box_has_signs_and_actions_under_their_own_headings(
        plan: list[tuple[PrintedHandout, Path]]) -> None:
    squash = comparable  # as the text layer spells Thai and Arabic

    checked = 0
    for doc, path in plan:
        first = squash(pdf_pages(path)[0])
        for section in doc.sections:
            if section.kind != "help" or not section.help_items(True):
                continue
            # The opening words of each (a line of mixed directions may be extracted out of
            # order further on).
            signs = [first.find(squash(p.value)[:10]) for _, p in section.help_items(False)]
            actions = [first.find(squash(p.value)[:10]) for _, p in section.help_items(True)]
            words = load_catalog(Project(ROOT).catalog_path(doc.job.lang, TEMPLATE_DOMAIN)
                                 ) if doc.job.lang != "en" else None
            heading = (words.translations.get(("help", "While you wait for help"))
                       if words else None) or "While you wait for help"
            lead = first.find(squash(section.points[0].value)[:10])
            where = first.find(squash(str(heading)))
            actions = [first.find(squash(p.value)[:10], where + len(squash(str(heading))))
                       for _, p in section.help_items(True)]
            assert -1 not in (*signs, *actions, lead, where), path.name
            assert lead < min(signs) and max(signs) < where < min(actions), path.name
            checked += 1
    assert checked


def test_what_the_review_found_is_gone(plan: list[tuple[PrintedHandout, Path]]) -> None:
    texts = {path.name: pdf_text(path) for _, path in plan}
    for name, text in texts.items():
        assert "Published by handoutkit" not in text and "Publicado por handoutkit" not in text
        assert "nida.nih.gov/es" not in squash(text), name
    alabama = "opioid-overdose-naloxone.es.easy.US-AL.letter.pdf"
    assert "Situaciónal" in squash(texts[alabama]) and "Vigente" not in texts[alabama]
    australia = texts["kratom-chronic-pain.ar.easy.AU.a4.pdf"]
    assert squash("اعتبارًا من") in squash(australia) and "حتى تاريخ" not in australia


def test_each_region_has_the_opioid_leaflet_in_its_languages(
        plan: list[tuple[PrintedHandout, Path]]) -> None:
    made = {(doc.job.handout, doc.job.region, doc.job.lang) for doc, _ in plan}
    for region, lang in (("TH", "th"), ("MY", "ms"), ("ID", "id")):
        assert ("opioid-overdose-naloxone", region, lang) in made


def test_every_legal_fact_cites_a_section_and_a_primary_source_or_says_why_not() -> None:
    primary = re.compile(r"https://([\w-]+\.)*(gov|gov\.uk|govinfo\.gov|legislature\.[\w.]+|"
                         r"legis\.[\w.]+|rilegislature\.gov|legislation\.gov\.uk)(/|$)")
    for path in sorted((ROOT / "handouts").glob("*/regions.yaml")):
        text = path.read_text()
        facts = yaml.safe_load(text)["facts"]
        blocks = re.split(r"\n  (?=[A-Z][A-Z-]*:\n)", text)
        for code, fact in facts.items():
            block = next(b for b in blocks if b.startswith(f"{code}:")).lower()
            assert fact["source"].get("section") or "no section" in block, (path, code)
            assert primary.match(fact["source"]["url"]) or "primary" in block, (path, code)


# --- the rules themselves, and the build refusing a document that breaks one ---------------------

def _pdf(*pages: PageLayout) -> RenderedPdf:

    return RenderedPdf(b"", len(pages), (), (), FetchLog(), pages)


def test_each_rule_is_named_when_broken() -> None:
    body = ("title", "summary", "section:a", "opens:a")
    assert layout_problems(_pdf(PageLayout(body, 0.9, (1,)), PageLayout(("closing",), 0.3, (1,))
                                )) == ["page rule no-closing-page: page 2 holds only the "
                                       "disclaimer and sources"]
    # Run on from a page of text: allowed; starting a page of its own, though it runs on: not.
    assert layout_problems(_pdf(PageLayout((*body, "closing"), 0.9, (1,)),
                                PageLayout(("closing",), 0.3, (1,)))) == []
    assert layout_problems(_pdf(PageLayout(body, 0.9, (1,)), PageLayout(("closing",), 1.0, (1,)),
                                PageLayout(("closing",), 0.3, (1,)))) == [
        "page rule no-closing-page: page 2 holds only the disclaimer and sources"]
    steps = layout_problems(_pdf(PageLayout((*body, "steps:s"), 1.0, (1,)),
                                 PageLayout(("section:s", "steps:s", "closing"), 0.5, (1,))))
    assert steps == ["page rule steps-on-one-page: the numbered steps of section 's' run over "
                     "pages 1–2"]
    early = PageLayout(("section:b", "opens:b", "item", "item", "closing"), 0.6, (1,),
                       (("section:b", 0, 0.3), ("opens:b", 0, 0.05), ("item", 0.05, 0.05),
                        ("item", 0.1, 0.05)))
    assert layout_problems(_pdf(PageLayout(body, 0.5, (1,)), early)) == [
        "page rule no-early-break: section 'b' starts on page 2 while 50% of page 1 is empty"]
    # Too little room for its heading and two points: the section rightly moved on.
    assert not layout_problems(_pdf(PageLayout(body, 0.88, (1,)), early))
    wrapped = _pdf(PageLayout((*body, "closing"), 0.9, (2,)))
    assert layout_problems(wrapped) == ["page rule footer-one-line: the footer wraps on page 1"]
    assert not layout_problems(wrapped, large_print=True)  # its page number has its own line


def test_the_build_refuses_steps_that_cannot_stay_on_one_page(project: Project,
                                                              tmp_path: Path) -> None:
    topic = project.handout_path("opioid-overdose-naloxone")
    content = yaml.safe_load(topic.read_text())
    steps = next(s for s in content["sections"] if s.get("kind") == "steps")
    steps["points"] = [{"id": f"step-{n}", "text": "Stay with the person and keep checking "
                        "that they breathe. Call again if nobody has come yet. Keep calm. "
                        "Tell the ambulance crew what happened and what you gave."}
                       for n in range(20)]
    topic.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False))
    result = runner.invoke(app, ["build", "opioid-overdose-naloxone", "--lang", "en", "-l",
                                 "easy", "--large-print", "--allow-hard", "-o", str(tmp_path),
                                 "--project", str(project.root)])
    assert result.exit_code == 1, result.output
    assert "page rule steps-on-one-page" in result.stderr
    assert not list(tmp_path.rglob("*.pdf"))


def test_the_build_refuses_text_that_would_run_off_the_paper(project: Project,
                                                            tmp_path: Path) -> None:
    """A word longer than a line cannot break: it would be cut off at the paper's edge, and
    the build refuses the document, naming the page and the word."""
    topic = project.handout_path("kratom-chronic-pain")
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
    topic.write_text(topic.read_text().replace("Kratom is a tree", f"{word} is a tree", 1))
    result = runner.invoke(app, ["build", "kratom-chronic-pain", "--lang", "en", "-l", "easy",
                                 "--allow-hard", "-o", str(tmp_path), "--project",
                                 str(project.root)])
    assert result.exit_code == 1, result.output
    assert f"page rule within-margins: on page 1, {word[:40]!r}" in result.stderr
    assert not list(tmp_path.rglob("*.pdf"))


def test_a_clinic_note_prints_in_the_leaflets_language(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", "kratom-chronic-pain", "--lang", "es", "-l", "easy",
                                 "--clinic", str(ROOT / "examples/clinic/clinic.toml"), "-o",
                                 str(tmp_path), "--project", str(ROOT)])
    assert result.exit_code == 0, result.output
    [pdf] = tmp_path.rglob("*.pdf")
    text = squash(pdf_text(pdf))
    assert squash("Pida en la recepción esta hoja en otro idioma.") in text
    assert squash("Publicado por Riverside Community Clinic.") in text
    assert "Ask at the front desk" not in text


def test_a_project_copy_keeping_a_corrected_translation_is_warned(project: Project) -> None:
    from .conftest import own_catalog, set_msgstr

    words = own_catalog(project, "es", TEMPLATE_DOMAIN)
    set_msgstr(words, "legal", "Vigente desde el %(date)s. Fuente: %(source)s",
               msgid="As of %(date)s. Source: %(source)s")
    result = runner.invoke(app, ["check", "kratom-chronic-pain", "--lang", "es", "-l", "easy",
                                 "--project", str(project.root)])
    assert "warning:" in result.stderr and "Situación al" in result.stderr
    assert "handoutkit.po" in result.stderr



def test_the_projects_publisher_is_printed_and_a_clinic_replaces_it(project: Project,
                                                                    tmp_path: Path) -> None:
    (project.root / "handout.toml").write_text('[project]\npublisher = "Harbour Health Trust"\n')
    result = runner.invoke(app, ["build", "opioid-overdose-naloxone", "--lang", "en", "-l",
                                 "easy", "-o", str(tmp_path), "--project", str(project.root)])
    assert result.exit_code == 0, result.output
    [pdf] = tmp_path.rglob("*.pdf")
    assert "PublishedbyHarbourHealthTrust." in squash(pdf_text(pdf))
    from pypdf import PdfReader

    metadata = PdfReader(pdf).metadata
    assert metadata is not None and metadata.author == "Harbour Health Trust"


def test_large_print_leaflets_with_long_closing_matter_build_and_run_it_on(
        tmp_path: Path) -> None:
    """Large print in the US, where a legal section and six sources end the leaflet: the
    closing matter, too long to stand whole beside the last text, used to be pushed to a page
    of its own and the leaflet refused (a clinic's large print answered 409). Now it starts
    beside the text and only its sources run on."""
    result = runner.invoke(app, ["build", "opioid-overdose-naloxone", "--lang", "en", "--lang",
                                 "es", "--lang", "ar", "--lang", "id", "-l", "easy", "-r", "US",
                                 "--large-print", "--json", "-o", str(tmp_path), "--project",
                                 str(ROOT)])
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)["documents"]
    assert len(documents) == 4
    content = yaml.safe_load(
        (ROOT / "handouts" / "opioid-overdose-naloxone" / "handout.yaml").read_text())
    for document in documents:
        pages = [squash(page) for page in pdf_pages(Path(document["path"]))]
        title = squash(content["sources"][-1]["title"])[:20]
        assert title in pages[-1], document["path"]  # the sources end the leaflet
        starts = min(n for n, page in enumerate(pages) if squash(
            content["sources"][0]["title"])[:20] in page)
        assert starts >= len(pages) - 2, document["path"]  # on the last page or the one before


def test_no_title_ends_on_a_line_of_one_word(tmp_path: Path) -> None:
    """The review found "away" alone under a large-print title: the last two words of a title
    keep together (a no-break space), whatever the language and print size."""
    result = runner.invoke(app, ["build", "kratom-chronic-pain", "--lang", "en", "-l", "easy",
                                 "--large-print", "--json", "-o", str(tmp_path), "--project",
                                 str(ROOT)])
    assert result.exit_code == 0, result.output
    [document] = json.loads(result.stdout)["documents"]
    title = yaml.safe_load((ROOT / "handouts" / "kratom-chronic-pain" / "handout.yaml"
                            ).read_text())["title"]
    title = title if isinstance(title, str) else title["easy"]
    lines = pdf_pages(Path(document["path"]))[0].splitlines()
    last = next(line for line in lines if line.split() and title.endswith(line.split()[-1]))
    assert len(last.split()) >= 2, lines[:4]  # "go away", never "away" alone


def test_a_heading_with_a_pictogram_starts_at_the_margin_on_a_right_to_left_page(
        plan: list[tuple[PrintedHandout, Path]]) -> None:
    """WeasyPrint indents a right-to-left line from its left end: a heading hung beside its
    pictogram started 20 mm in from the right margin. Now only the pictogram (under 10 mm)
    stands between the margin and the words."""
    import subprocess

    for printed, pdf in plan:
        if printed.language.direction != "rtl" or printed.job.region or printed.job.also:
            continue
        layout = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"],
                                capture_output=True, text=True, check=True).stdout
        lines = [(float(right), set(re.findall(r">([^<]+)</word>", words)))
                 for right, words in re.findall(r'<line xMin="[^"]+" yMin="[^"]+" xMax="([^"]+)"'
                                                r'[^>]*>(.*?)</line>', layout, re.S)]
        rights = {}
        for section in printed.sections:
            # pdftotext gives right-to-left words with their letters in visual order
            wanted = {word[::-1] for word in section.heading.value.split()}
            found = [right for right, words in lines if words == wanted]
            if found:
                rights[section.id] = found[0]
        with_icon = {s.id for s in printed.sections if s.icon} & set(rights)
        assert with_icon and len(rights) > len(with_icon), (pdf.name, rights)
        # Under 12 mm (34 pt): a pictogram and its gap, not the 20 mm indent on top of them.
        assert max(rights.values()) - min(rights.values()) < 34, (pdf.name, rights)


def test_a_help_line_ends_its_sentence_once_and_in_its_own_script(
        plan: list[tuple[PrintedHandout, Path]]) -> None:
    """Hours that end with a full stop got one more ("Opening hours not confirmed.. 1413"),
    and Thai, which ends a phrase with a space, got a Latin one ("ทุกวัน.")."""
    for _, pdf in plan:
        text = pdf_text(pdf)
        assert not re.search(r"(?<!\.)\.\.(?!\.)", text), (pdf.name, re.findall(
            r".{30}(?<!\.)\.\.(?!\.).{10}", text))
    thai = [pdf for printed, pdf in plan if printed.language.code == "th" and printed.job.region]
    assert thai and "ทุกวัน." not in squash(pdf_text(thai[0]))
