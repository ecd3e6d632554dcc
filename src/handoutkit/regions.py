"""Regions: where the reader lives, and the facts and help lines that are true there.

A region profile (``handouts/regions/<code>.yaml``) carries the place's name, languages, paper
size, emergency number and help lines. Codes follow ISO 3166 (``US``, ``TH``) and ISO 3166-2
(``US-AL``); a sub-region inherits its parent's profile and overrides what differs.

A topic's legal facts per region live beside its content (``handouts/<topic>/regions.yaml``).
Facts are not inherited: a state's law is not its country's, so a region without its own fact
gets the neutral "the law differs by place" box, or an error if the author asks for that.
Every fact and help line carries ``checked`` and ``review_by`` dates, so stale facts are seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .errors import InputError, Problem, UnknownReference
from .languages import PAPERS
from .messages import Happened, LevelText, Message, level_messages, review_after
from .project import REGIONS_FOLDER
from .yamlfile import YamlDocument, load_yaml, validate

CODE_PATTERN = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"
Code = Annotated[str, Field(pattern=CODE_PATTERN)]
FACTS_FILE = "regions.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dated(_Strict):
    checked: Happened
    review_by: dt.date

    _review_after_check = review_after("checked", "the fact must be checked again")

    def stale(self, today: dt.date) -> bool:
        return self.review_by < today


class Source(_Strict):
    """Where a fact or number was checked: the exact page, and the law's section if any."""

    title: str
    url: str = Field(pattern=r"^https://\S+$")
    section: str | None = None


class EmergencyNumber(Dated):
    """The number to call in an emergency, with where it was verified."""

    number: str = Field(min_length=1, max_length=20)
    sources: list[Source] = Field(min_length=1)


class HelpLine(Dated):
    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(min_length=1, max_length=40)
    url: str = Field(pattern=r"^https://\S+$")
    #: What the line offers and when: a line or two in the help box on page 1.
    hours: str = Field(min_length=1, max_length=300)
    #: Where the number was verified (one primary source, or two independent ones): a number
    #: no one could open a source for is never printed.
    sources: list[Source] = Field(min_length=1)
    #: Languages whose leaflets leave this line out (an interpreter line is for the others).
    omit_in: list[str] = Field(default_factory=list)


def _known_language(code: str) -> str:
    from .languages import canonical_locale

    if canonical_locale(code) is None:
        raise ValueError(f"{code[:40]!r} is not a language code (such as es, pt_BR or zh_Hans)")
    return code


def _known_paper(name: str) -> str:
    if name not in PAPERS:
        raise ValueError(f"unknown paper {name!r}; known papers: {', '.join(PAPERS)}")
    return name


def _distinct_ids(lines: list[HelpLine] | None) -> list[HelpLine] | None:
    """A help line's id names its strings in the catalog: two lines of one id would share
    their translations."""
    ids = [line.id for line in lines or ()]
    twice = sorted({found for found in ids if ids.count(found) > 1})
    if twice:
        raise ValueError(f"help line id {', '.join(map(repr, twice))} is used twice: give each "
                         "line an id of its own")
    return lines


class RegionProfile(_Strict):
    """One YAML file as written; a sub-region's file holds only what differs."""

    code: Code
    name: str
    languages: list[Annotated[str, AfterValidator(_known_language)]] | None = None
    paper: Annotated[str, AfterValidator(_known_paper)] | None = None
    #: A plain number (``"911"``), or the number with its sources and review dates.
    emergency: str | EmergencyNumber | None = None
    help_lines: Annotated[list[HelpLine] | None, AfterValidator(_distinct_ids)] = None

    def messages(self) -> Iterator[Message]:
        """The strings translators see in the ``regions`` catalog."""
        yield Message(region_context(self.code), self.name, ("name",), "The region's name.")
        for i, line in enumerate(self.help_lines or ()):
            yield Message(help_line_context(line, "name"), line.name, ("help_lines", i, "name"),
                          f"The name of the help line {line.phone}: translate what it is; keep "
                          "a proper name readers would search for.")
            yield Message(help_line_context(line, "hours"), line.hours,
                          ("help_lines", i, "hours"),
                          f"What {line.name} offers and when it is open.")


def region_context(code: str) -> str:
    return f"region.{code}"


def help_line_context(line: HelpLine, part: Literal["name", "hours"]) -> str:
    return f"help.{line.id}.{part}"


def read_profile(handouts_dir: Path, code: str) -> tuple[RegionProfile, YamlDocument]:
    """One region file, validated, without what it inherits."""
    file = profile_path(handouts_dir, code)
    if not file.exists():
        known = ", ".join(region_codes(handouts_dir)) or "none"
        raise InputError.at(f"unknown region {code!r}; known regions: {known}",
                            hint=f"add {file} or pick a known code")
    doc = load_yaml(file, "region profile")
    profile: RegionProfile = validate(RegionProfile, doc, "region")
    if profile.code != code:
        raise InputError.at(f"code {profile.code!r} does not match the file name", file,
                            doc.line_of(("code",)), hint=f"write `code: {code}`")
    return profile, doc


@dataclass(frozen=True)
class Region:
    """A profile with its parents' values filled in."""

    code: str
    name: str
    languages: tuple[str, ...]
    paper: str
    emergency: str
    #: The emergency number's sources and review dates, when the profile gives them.
    emergency_checked: EmergencyNumber | None
    help_lines: tuple[HelpLine, ...]
    path: Path
    #: This profile's file and its parents', nearest first: what the region is made from.
    paths: tuple[Path, ...]
    #: The files that give the emergency number and the help lines (a parent's, when this
    #: profile inherits them): where a stale date is to be fixed.
    emergency_from: Path | None = None
    help_lines_from: Path | None = None

    def help_lines_for(self, lang: str) -> tuple[HelpLine, ...]:
        return tuple(line for line in self.help_lines if lang not in line.omit_in)


class LegalFact(Dated):
    status: LevelText
    as_of: dt.date
    source: Source


class TopicFacts(_Strict):
    #: What a region without facts gets: the neutral box, or an error.
    without_facts: Literal["neutral", "error"] = "neutral"
    facts: dict[Code, LegalFact] = Field(default_factory=dict)


@dataclass(frozen=True)
class FactsSource:
    facts: TopicFacts
    doc: YamlDocument

    def messages(self) -> Iterator[Message]:
        for code, fact in self.facts.facts.items():
            yield from level_messages(f"legal.{code}.status", fact.status,
                                      ("facts", code, "status"),
                                      f"The legal status of this handout's subject in {code}: "
                                      "translate exactly, keep dates and names of laws.")


def regions_dir(handouts_dir: Path) -> Path:
    return handouts_dir / REGIONS_FOLDER


def region_codes(handouts_dir: Path) -> list[str]:
    """The codes of the project's region profiles (``handouts/regions/<CODE>.yaml``), sorted."""
    return sorted(p.stem for p in regions_dir(handouts_dir).glob("*.yaml"))


def profile_path(handouts_dir: Path, code: str) -> Path:
    return regions_dir(handouts_dir) / f"{code}.yaml"


def lineage(code: str) -> list[str]:
    """``code`` and the regions it inherits from, nearest first (``US-AL``, ``US``)."""
    return [code, *lineage(code.rsplit("-", 1)[0])] if "-" in code else [code]


def load_region(handouts_dir: Path, code: str) -> Region:
    """The region ``code`` with everything it inherits from its parents."""
    chain: list[RegionProfile] = []
    paths: list[Path] = []
    code_line: int | None = None
    for current in lineage(code):
        if chain and not profile_path(handouts_dir, current).exists():
            # The sub-region's own file names a parent that is not there: said at its code.
            raise InputError.at(
                f"region {code!r} is part of {current!r}, which has no profile", paths[0],
                code_line, hint=f"add {profile_path(handouts_dir, current)}, or give {code} "
                                "a code of its own")
        profile, doc = read_profile(handouts_dir, current)
        if not chain:
            code_line = doc.line_of(("code",))
        chain.append(profile)
        paths.append(doc.path)
    path = paths[0]

    def inherited(field: str) -> object:
        return next((getattr(p, field) for p in chain if getattr(p, field) is not None), None)

    def given_in(field: str) -> Path:
        return next((file for p, file in zip(chain, paths, strict=True)
                     if getattr(p, field) is not None), path)

    missing = [f for f in ("languages", "paper", "emergency") if inherited(f) is None]
    if missing:
        raise InputError.at(f"region {code!r} has no {', '.join(missing)}, and no parent gives it",
                            path, hint="add the field to this file or to its parent's")
    emergency = inherited("emergency")
    checked = emergency if isinstance(emergency, EmergencyNumber) else None
    return Region(code=code, name=chain[0].name,
                  languages=tuple(inherited("languages")),  # type: ignore[arg-type]
                  paper=str(inherited("paper")),
                  emergency=checked.number if checked else str(emergency),
                  emergency_checked=checked,
                  help_lines=tuple(inherited("help_lines") or ()),  # type: ignore[arg-type]
                  path=path, paths=tuple(paths), emergency_from=given_in("emergency"),
                  help_lines_from=given_in("help_lines"))


def load_facts(topic_dir: Path) -> FactsSource | None:
    """A topic's legal facts; a fact for a region with no profile is an error (a typo)."""
    path = topic_dir / FACTS_FILE
    if not path.exists():
        return None
    doc = load_yaml(path, "regional facts")
    facts: TopicFacts = validate(TopicFacts, doc, "regional facts")
    known = region_codes(topic_dir.parent)
    problems = [Problem(f"facts for unknown region {code!r}", path,
                        doc.line_of(("facts", code)),
                        f"add {regions_dir(topic_dir.parent) / (code + '.yaml')}, or fix the "
                        f"code (known regions: {', '.join(known) or 'none'})")
                for code in facts.facts if code not in known]
    if problems:
        raise UnknownReference(problems)
    return FactsSource(facts, doc)


@dataclass(frozen=True)
class StaleItem:
    what: str
    review_by: dt.date
    path: Path

    def __str__(self) -> str:
        return f"{self.what}: review was due {self.review_by.isoformat()} ({self.path})"


def stale_items(region: Region | None, facts: FactsSource | None,
                today: dt.date) -> list[StaleItem]:
    """Facts and help lines past their review date, for this region (or all, if ``None``)."""
    items = []
    if facts is not None:
        for code, fact in facts.facts.facts.items():
            if (region is None or code == region.code) and fact.stale(today):
                items.append(StaleItem(f"legal fact {code}", fact.review_by, facts.doc.path))
    if region is not None:
        if region.emergency_checked and region.emergency_checked.stale(today):
            items.append(StaleItem(f"emergency number ({region.code})",
                                   region.emergency_checked.review_by,
                                   region.emergency_from or region.path))
        for line in region.help_lines:
            if line.stale(today):
                items.append(StaleItem(f"help line {line.name} ({region.code})",
                                       line.review_by, region.help_lines_from or region.path))
    return items
