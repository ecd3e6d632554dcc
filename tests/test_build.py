"""The build end to end: real PDFs, read back and checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from handoutkit import BuildOptions, Job, Project, build_documents, make_plan
from handoutkit.content import load_handout

from .conftest import ROOT, copy_project, made_once, pdf_pages, pdf_text, squash

#: How a build writes, keeps and repeats its files does not depend on how long the leaflet is: its
#: `project` is the short copy of the first topic (see `short_project`).
pytestmark = pytest.mark.short_topic


HANDOUT = "kratom-chronic-pain"


@pytest.fixture(scope="session")
def english_build(shared: Path) -> Path:
    """The first topic in English, both levels, A4 and Letter: built once per run."""
    def make(out: Path) -> None:
        project = Project(ROOT)
        jobs = make_plan(project, [HANDOUT], ["en"], None, ["a4", "letter"])
        report = build_documents(project, jobs, BuildOptions(out_dir=out))
        assert not report.failed, [r.problems for r in report.failed]

    return made_once(shared, "english-build", make)


@pytest.mark.parametrize("level", ["easy", "standard"])
def test_pdf_has_title_every_heading_and_the_help_box(english_build: Path, level: str) -> None:
    pdf = english_build / HANDOUT / "en" / f"{HANDOUT}.en.{level}.a4.pdf"
    text = squash(pdf_text(pdf))
    handout = load_handout(Project(ROOT).handout_path(HANDOUT)).handout

    def at_level(value: str | dict[str, str]) -> str:
        text = value if isinstance(value, str) else value[level]
        return text.replace("*", "")  # *Mitragyna speciosa* prints in italics

    assert squash(at_level(handout.title)) in text
    for section in handout.sections:
        assert squash(at_level(section.heading)) in text, section.id
        for point in section.points:
            assert squash(at_level(point.text)) in text, f"{section.id}.{point.id}"
    assert squash("Get help now") in text
    assert squash("Call your emergency number right away") in text
    for source in handout.sources:
        assert squash(source.title) in text


def test_standard_level_fits_one_sheet(english_build: Path) -> None:
    for paper in ("a4", "letter"):
        pdf = english_build / HANDOUT / "en" / f"{HANDOUT}.en.standard.{paper}.pdf"
        assert len(PdfReader(pdf).pages) <= 2


def test_paper_sizes(english_build: Path) -> None:
    a4 = PdfReader(english_build / HANDOUT / "en" / f"{HANDOUT}.en.easy.a4.pdf").pages[0]
    letter = PdfReader(english_build / HANDOUT / "en" / f"{HANDOUT}.en.easy.letter.pdf").pages[0]
    mm = 25.4 / 72
    assert (round(float(a4.mediabox.width) * mm),
            round(float(a4.mediabox.height) * mm)) == (210, 297)
    assert (float(letter.mediabox.width), float(letter.mediabox.height)) == (612, 792)


def test_footer_on_every_page(english_build: Path) -> None:
    pages = pdf_pages(english_build / HANDOUT / "en" / f"{HANDOUT}.en.standard.a4.pdf")
    handout = load_handout(Project(ROOT).handout_path(HANDOUT)).handout
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in page
        # The provenance on every page: a sheet read alone says how current it is.
        assert (f"Version {handout.version}." in page and "Next review by" in squash(page)) or (
            "Nextreviewby" in squash(page))


def test_pdf_metadata_comes_from_the_content(english_build: Path) -> None:
    reader = PdfReader(english_build / HANDOUT / "en" / f"{HANDOUT}.en.standard.a4.pdf")
    info = reader.metadata
    assert info is not None
    assert info.title == "Kratom and chronic pain"
    assert info.author == ""  # no publisher set: the tool never names itself the publisher
    assert info.creation_date is not None
    reviewed = load_handout(Project(ROOT).handout_path(HANDOUT)).handout.reviewed
    assert info.creation_date.date() == reviewed  # the content's review date, not the clock
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_manifest_lists_every_output_with_inputs(english_build: Path) -> None:
    manifest = json.loads((english_build / "manifest.json").read_text())
    outputs = {entry["path"]: entry for entry in manifest["outputs"]}
    assert len(outputs) == 4
    entry = outputs[f"{HANDOUT}/en/{HANDOUT}.en.standard.a4.pdf"]
    assert entry["pages"] <= 2 and len(entry["sha256"]) == 64
    assert f"handouts/{HANDOUT}/handout.yaml" in entry["inputs"]
    assert "handoutkit/theme/handout.html.j2" in entry["inputs"]


def test_same_inputs_give_the_same_bytes(project: Project, tmp_path: Path) -> None:
    jobs = [Job(HANDOUT, "en", "standard")]
    first = build_documents(project, jobs, BuildOptions(out_dir=tmp_path / "one")).results[0]
    second = build_documents(project, jobs, BuildOptions(out_dir=tmp_path / "two")).results[0]
    assert first.path.read_bytes() == second.path.read_bytes()


def _make_standard_too_long(project: Project) -> None:
    path = project.handout_path(HANDOUT)
    extra = "".join(f"      - id: extra-{i}\n        text: This is one more line of text that "
                    f"makes the handout far too long to fit. It goes on and on, line after line, "
                    f"until even a compact setting of the page cannot hold it all on two sheets "
                    f"of paper.\n" for i in range(35))
    text = path.read_text()
    assert "      - id: tradition\n" in text
    path.write_text(text.replace("      - id: tradition\n", extra + "      - id: tradition\n"))


def test_failed_document_keeps_the_previous_good_pdf(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")  # whole: its standard leaflet is two pages
    out = tmp_path / "build"
    jobs = [Job(HANDOUT, "en", "standard")]
    good = build_documents(project, jobs, BuildOptions(out_dir=out)).results[0]
    before = good.path.read_bytes()

    _make_standard_too_long(project)
    report = build_documents(project, jobs, BuildOptions(out_dir=out))
    assert report.failed and "must fit on 2" in report.failed[0].problems[0]
    assert good.path.read_bytes() == before
    assert [p.name for p in good.path.parent.iterdir()] == [good.path.name]


def test_crash_while_writing_leaves_no_partial_file(project: Project, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    jobs = [Job(HANDOUT, "en", "easy")]
    good = build_documents(project, jobs, BuildOptions(out_dir=out)).results[0]
    before = good.path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("handoutkit.output.os.fsync", disk_full)
    with pytest.raises(OSError, match="disk full"):  # forced: a no-op would write nothing
        build_documents(project, jobs, BuildOptions(out_dir=out, force=True))
    assert good.path.read_bytes() == before
    assert sorted(p.name for p in good.path.parent.iterdir()) == [good.path.name]
