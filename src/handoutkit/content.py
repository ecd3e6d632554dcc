"""Handout content sources: the schema, loading with file:line errors, and the message list.

A handout lives in ``handouts/<id>/handout.yaml``. Every printed string has a stable id path
(``sections.<section>.<point>``); that path, plus the level where the wording differs, is the
string's gettext ``msgctxt``, so translators' work survives edits to the English text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .errors import InputError, Problem
from .messages import Happened, LevelText, Message, level_messages, review_after
from .urls import url_template
from .yamlfile import Loc, YamlDocument, format_loc, load_yaml, validate

if TYPE_CHECKING:
    from .project import Project
    from .regions import FactsSource, StaleItem

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
#: A handout is a sheet or two; a section with thousands of points is a mistake.
MAX_POINTS = 40


Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=60)]
#: Ids the topic's own strings use as their message contexts (title.easy, mixing.heading):
#: a section or a point of the same name would share its context.
RESERVED_SECTION_IDS = frozenset(("title", "summary", "disclaimer"))
RESERVED_POINT_IDS = frozenset(("heading",))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Point(_Strict):
    id: Id
    text: LevelText
    note: str | None = None
    #: In a help box: something to do while help comes ("stay with them"), printed under its
    #: own heading apart from the danger signs, so that it never reads as a sign.
    action: bool = False


#: Pictograms the default templates draw (``templates/icons/<name>.svg``).
Icon = Literal["emergency", "warning", "do-not-mix", "pregnancy", "ask"]


class Section(_Strict):
    id: Id
    heading: LevelText
    #: ``help`` prints as the "get help now" box on page 1 (its first point is the lead line,
    #: the rest bullets); ``legal`` is replaced by a region's fact; ``steps`` is numbered.
    kind: Literal["points", "help", "legal", "steps"] = "points"
    #: A pictogram beside the heading, for readers who read little (help boxes get one anyway).
    icon: Icon | None = None
    note: str | None = None
    points: list[Point] = Field(min_length=1, max_length=MAX_POINTS)

    @model_validator(mode="after")
    def _help_has_signs(self) -> Section:
        if self.kind == "help" and len([p for p in self.points[1:] if not p.action]) < 1:
            raise ValueError("a help section needs a lead line and at least one sign: its "
                             "first point is the lead, the others print as bullets")
        if self.kind != "help" and any(p.action for p in self.points):
            raise ValueError("only the points of a help section can be actions")
        return self


class Source(_Strict):
    title: str
    publisher: str
    #: The year the page or paper was last updated.
    year: int = Field(ge=1900, le=2100)
    url: str = Field(pattern=r"^https://\S+$")
    #: The day an author last opened it: a web page changes, so readers see how fresh it is.
    accessed: Happened | None = None


class Code(_Strict):
    """A clinical code the topic answers to, for a record system's infobutton request."""

    system: Literal["ICD-10-CM", "SNOMED CT", "RxNorm", "LOINC"]
    code: str = Field(max_length=20)
    #: The code's name in its system, as its browser shows it.
    display: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _shape(self) -> Code:
        from .codes import code_problem

        problem = code_problem(self.system, self.code)
        if problem:
            raise ValueError(problem)
        return self


class Handout(_Strict):
    id: Id
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    reviewed: Happened
    review_by: dt.date
    #: The organisation that publishes the leaflet ("Published by …"); default: the
    #: project's ``[project] publisher``. A clinic print names the clinic instead.
    publisher: str | None = Field(None, max_length=120)
    title: LevelText
    summary: LevelText
    disclaimer: LevelText
    sections: list[Section] = Field(min_length=1, max_length=30)
    sources: list[Source] = Field(min_length=1)
    #: Where the handout is online, for the QR code; ``{lang}`` and ``{level}`` are filled in.
    online_url: Annotated[str, AfterValidator(url_template)] | None = Field(
        None, pattern=r"^https://\S+$")
    #: The problems, medicines and lab tests the topic is about (ICD-10-CM, SNOMED CT, RxNorm,
    #: LOINC), for record systems that ask the desk's /infobutton.
    codes: list[Code] = Field(default_factory=list, max_length=100)

    _review_order = review_after("reviewed", "the topic must be reviewed again")


@dataclass(frozen=True)
class HandoutSource:
    """A validated handout, the file it came from, and its regional facts if it has any."""

    handout: Handout
    doc: YamlDocument
    facts: FactsSource | None = None

    @property
    def id(self) -> str:
        return self.handout.id

    @property
    def path(self) -> Path:
        return self.doc.path

    def stale(self, today: dt.date) -> list[StaleItem]:
        """The topic itself, when its medical review (``review_by``) is due by ``today``."""
        from .regions import StaleItem

        review_by = self.handout.review_by
        return ([StaleItem(f"topic {self.id}: medical review", review_by, self.path)]
                if review_by < today else [])

    def placeholders(self) -> Problem | None:
        """What ``handout new`` wrote that is still there, as one problem: each text in
        [square brackets] and each source at a reserved example address (``example.org``),
        by line. Printed, it would reach patients as it stands."""
        texts: list[tuple[Loc, str]] = [(m.loc, m.text) for m in self.messages()]
        for i, source in enumerate(self.handout.sources):
            texts += [(("sources", i, "title"), source.title),
                      (("sources", i, "publisher"), source.publisher)]
        found = [loc for loc, text in texts if text.startswith("[") and text.endswith("]")]
        found += [("sources", i, "url") for i, source in enumerate(self.handout.sources)
                  if ".".join((urlsplit(source.url).hostname or "").split(".")[-2:]) in (
                      "example.org", "example.com", "example.net")]
        if not found:
            return None
        where = ", ".join(f"line {self.doc.line_of(loc)} ({format_loc(loc)})"
                          for loc in sorted(found, key=self.doc.line_of))
        return Problem(f"placeholders `handout new` wrote are still in the topic: {where}",
                       self.path, hint="write the text patients should read, and the page "
                                       "each fact comes from")

    def messages(self) -> Iterator[Message]:
        """Every translatable string, in reading order."""
        h = self.handout
        yield from level_messages("title", h.title, ("title",), None)
        yield from level_messages("summary", h.summary, ("summary",), None)
        for i, section in enumerate(h.sections):
            loc: Loc = ("sections", i)
            yield from level_messages(f"{section.id}.heading", section.heading,
                                       (*loc, "heading"), section.note)
            for j, point in enumerate(section.points):
                note = "\n".join(n for n in (section.note, point.note) if n) or None
                yield from level_messages(f"{section.id}.{point.id}", point.text,
                                           (*loc, "points", j, "text"), note)
        yield from level_messages("disclaimer", h.disclaimer, ("disclaimer",), None)


def load_handout(path: Path, text: str | None = None) -> HandoutSource:
    """Load a handout and, from the same folder, its regional facts."""
    from .regions import load_facts  # regions builds on content: import here, not at the top

    doc = load_yaml(path, "handout content", text)
    handout: Handout = validate(Handout, doc, "handout")
    problems = _duplicate_ids(doc, handout)
    folder = path.parent.name
    if handout.id != folder:
        problems.append(Problem(f"id {handout.id!r} does not match its folder {folder!r}",
                                path, doc.line_of(("id",)),
                                "rename the folder or the id; outputs are named after the id"))
    if problems:
        raise InputError(problems)
    return HandoutSource(handout, doc, load_facts(path.parent))


def load_handouts(project: Project, ids: list[str]) -> dict[str, HandoutSource]:
    """Every topic of ``ids``; a broken one raises :class:`InputError` for all of them."""
    sources, broken = load_each(project, ids)
    if broken:
        raise InputError([problem for error in broken.values() for problem in error.problems])
    return sources


def load_each(project: Project, ids: list[str]
              ) -> tuple[dict[str, HandoutSource], dict[str, InputError]]:
    """The topics that load, and the error of each one that does not: one broken topic
    (or its regional facts) fails only itself."""
    sources, broken = {}, {}
    for ident in ids:
        try:
            sources[ident] = load_handout(project.handout_path(ident))
        except InputError as exc:
            broken[ident] = exc
    return sources, broken


def _duplicate_ids(doc: YamlDocument, handout: Handout) -> list[Problem]:
    problems: list[Problem] = []

    def check(ids: list[str], loc_of: list[Loc], what: str) -> None:
        seen: dict[str, int] = {}
        for ident, loc in zip(ids, loc_of, strict=True):
            if ident in seen:
                problems.append(Problem(
                    f"duplicate {what} id {ident!r} (first used on line {seen[ident]})",
                    doc.path, doc.line_of(loc),
                    "ids must be unique: they are the translators' message contexts"))
            else:
                seen[ident] = doc.line_of(loc)

    check([s.id for s in handout.sections],
          [("sections", i, "id") for i in range(len(handout.sections))], "section")
    for i, section in enumerate(handout.sections):
        check([p.id for p in section.points],
              [("sections", i, "points", j, "id") for j in range(len(section.points))],
              f"point (in section {section.id!r})")
    reserved: list[tuple[Loc, str]] = [
        (("sections", i, "id"), s.id) for i, s in enumerate(handout.sections)
        if s.id in RESERVED_SECTION_IDS]
    reserved += [(("sections", i, "points", j, "id"), p.id)
                 for i, s in enumerate(handout.sections) for j, p in enumerate(s.points)
                 if p.id in RESERVED_POINT_IDS]
    problems += [Problem(f"id {ident!r} is taken: the topic's own strings use it as their "
                         "message context", doc.path, doc.line_of(loc),
                         "choose another id (translators' catalogs key on it)")
                 for loc, ident in reserved]
    return problems
