"""The build plan: which documents to make, as plain values the build maps over.

A plan comes from the command line, or from the project's ``handout.toml`` when the command
line names nothing: ``[plan]`` lists handouts, languages, levels, regions, papers and a clinic.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import InputError
from .levels import LEVEL_NAMES
from .project import Project
from .regions import load_region, region_codes

PAPERS = ("a4", "letter")
PLAN_FILE = "handout.toml"


@dataclass(frozen=True, order=True)
class Job:
    """One PDF to make."""

    handout: str
    lang: str
    level: str
    paper: str = "a4"
    region: str | None = None
    large_print: bool = False
    #: A second language printed below each section, for bilingual prints.
    also: str | None = None

    @property
    def output(self) -> PurePosixPath:
        """Where the PDF goes, relative to the build folder."""
        parts = [self.handout, self.lang + (f"+{self.also}" if self.also else ""), self.level]
        if self.region:
            parts.append(self.region)
        parts.append(self.paper)
        if self.large_print:
            parts.append("large")
        return PurePosixPath(self.handout, self.lang, ".".join(parts) + ".pdf")

    def __str__(self) -> str:
        extras = [x for x in (self.region, "large print" if self.large_print else None,
                              f"+{self.also}" if self.also else None) if x]
        return f"{self.handout} [{', '.join([self.lang, self.level, self.paper, *extras])}]"


@dataclass(frozen=True)
class PlanRequest:
    """What was asked for; an empty list means "all there is" (or the region's defaults)."""

    handouts: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    papers: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    large_print: bool = False
    also: str | None = None
    clinic: Path | None = None


def make_plan(project: Project, handouts: list[str] | None = None,
              langs: list[str] | None = None, levels: list[str] | None = None,
              papers: list[str] | None = None, regions: list[str] | None = None,
              large_print: bool = False, also: str | None = None) -> list[Job]:
    """Every combination asked for. Without languages or paper, a region picks its own."""
    available_langs = project.languages()
    handouts = _choose("handout", handouts, project.handout_ids(), "handout list")
    levels = _choose("reading level", levels, list(LEVEL_NAMES), "handout list")
    if papers:
        _choose("paper size", papers, list(PAPERS), "handout build --help")
    if langs:
        _choose("language", langs, available_langs, "handout i18n status")
    if also:
        _choose("language", [also], available_langs, "handout i18n status")
    jobs = []
    region_codes_asked: list[str | None] = [*regions] if regions else [None]
    for region_code in region_codes_asked:
        region = load_region(project.handouts_dir, region_code) if region_code else None
        region_langs = ([lang for lang in region.languages if lang in available_langs]
                        if region else [])
        chosen_langs = langs or region_langs or available_langs
        chosen_papers = papers or [region.paper if region else "a4"]
        for handout, lang, level, paper in product(handouts, chosen_langs, levels, chosen_papers):
            jobs.append(Job(handout, lang, level, paper, region_code, large_print,
                            also if also != lang else None))
    return jobs


def _choose(what: str, asked: list[str] | None, available: list[str], command: str) -> list[str]:
    if not asked:
        return available
    unknown = [name for name in asked if name not in available]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise InputError.at(f"unknown {what} {names}; available: {', '.join(available) or 'none'}",
                            hint=f"`{command}` shows what there is")
    return list(dict.fromkeys(asked))


def read_plan_file(project: Project) -> PlanRequest | None:
    """The ``[plan]`` table of ``handout.toml``, or ``None`` if the project has none."""
    path = project.root / PLAN_FILE
    if not path.exists():
        return None
    data = load_toml(path, "plan file")
    plan = data.get("plan")
    if not isinstance(plan, dict):
        raise InputError.at("no [plan] table", path, hint="start the file with a [plan] table")
    allowed = {"handouts", "languages", "levels", "papers", "regions", "large_print", "also",
               "clinic"}
    unknown = sorted(set(plan) - allowed)
    if unknown:
        raise InputError.at(f"unknown key(s) in [plan]: {', '.join(unknown)}", path,
                            hint=f"allowed keys: {', '.join(sorted(allowed))}")
    for key in ("handouts", "languages", "levels", "papers", "regions"):
        value = plan.get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise InputError.at(f"[plan] {key} must be a list of strings", path)
    clinic = plan.get("clinic")
    return PlanRequest(
        handouts=plan.get("handouts", []), langs=plan.get("languages", []),
        levels=plan.get("levels", []), papers=plan.get("papers", []),
        regions=plan.get("regions", []), large_print=bool(plan.get("large_print", False)),
        also=plan.get("also"), clinic=(path.parent / clinic) if clinic else None)


def plan_jobs(project: Project, request: PlanRequest) -> list[Job]:
    """Expand a request; the region ``""`` means the neutral, region-less leaflet."""
    if request.regions:
        unknown = [c for c in request.regions if c and c not in region_codes(project.handouts_dir)]
        if unknown:
            raise InputError.at(f"unknown region {', '.join(map(repr, unknown))}; known regions: "
                                f"{', '.join(region_codes(project.handouts_dir))}")
    jobs: list[Job] = []
    for region in request.regions or [""]:
        jobs += make_plan(project, request.handouts, request.langs, request.levels,
                          request.papers, [region] if region else None, request.large_print,
                          request.also)
    return jobs


def load_toml(path: Path, kind: str) -> dict[str, Any]:
    from .yamlfile import read_text

    text = read_text(path, 256 * 1024, kind)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = None
        if "(at line " in message:
            line = int(message.split("(at line ")[1].split(",")[0])
            message = message.split(" (at line ")[0]
        raise InputError.at(f"TOML syntax error: {message}", path, line,
                            hint="check quotes, brackets and `key = value` on this line") from None
