"""The build plan: which documents to make, as plain values the build maps over."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from pathlib import PurePosixPath

from .errors import InputError
from .levels import LEVEL_NAMES
from .project import Project

PAPERS = ("a4", "letter")


@dataclass(frozen=True, order=True)
class Job:
    """One PDF to make."""

    handout: str
    lang: str
    level: str
    paper: str = "a4"

    @property
    def output(self) -> PurePosixPath:
        """Where the PDF goes, relative to the build folder."""
        name = f"{self.handout}.{self.lang}.{self.level}.{self.paper}.pdf"
        return PurePosixPath(self.handout, self.lang, name)

    def __str__(self) -> str:
        return f"{self.handout} [{self.lang}, {self.level}, {self.paper}]"


def make_plan(project: Project, handouts: list[str] | None = None,
              langs: list[str] | None = None, levels: list[str] | None = None,
              papers: list[str] | None = None) -> list[Job]:
    """Every combination asked for; an empty choice means all that exist."""
    handouts = _choose("handout", handouts, project.handout_ids(), "handout list")
    langs = _choose("language", langs, project.languages(), "handout i18n status")
    levels = _choose("reading level", levels, list(LEVEL_NAMES), "handout list")
    papers = _choose("paper size", papers or ["a4"], list(PAPERS), "handout build --help")
    return [Job(*combo) for combo in product(handouts, langs, levels, papers)]


def _choose(what: str, asked: list[str] | None, available: list[str], command: str) -> list[str]:
    if not asked:
        return available
    unknown = [name for name in asked if name not in available]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise InputError.at(f"unknown {what} {names}; available: {', '.join(available) or 'none'}",
                            hint=f"`{command}` shows what there is")
    return list(dict.fromkeys(asked))
