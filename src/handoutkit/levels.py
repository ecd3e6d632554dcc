"""Reading levels: the one place that says what each level means and what it must reach."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadingLevel:
    name: str
    #: The highest US school grade the printed text may score (health-literacy guidance
    #: asks for grade 6 or below for patient materials, grade 8 at most).
    max_grade: float
    #: Pages the level must fit on at normal print size; ``None`` for no limit.
    max_pages: int | None
    description: str


LEVELS: dict[str, ReadingLevel] = {
    level.name: level
    for level in (
        ReadingLevel("easy", max_grade=6.0, max_pages=None,
                     description="Short words and sentences, US grade 5–6."),
        ReadingLevel("standard", max_grade=8.0, max_pages=2,
                     description="Plain language for most adults, US grade 7–8; one sheet."),
    )
}
LEVEL_NAMES: tuple[str, ...] = tuple(LEVELS)
