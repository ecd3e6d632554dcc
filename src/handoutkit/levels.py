"""Reading levels: the one place that says what each level means and what it must reach.

Targets are given on each measure's own scale (see ``readability.py`` for the formulas):

* ``flesch-kincaid``, ``smog``: US school grade; at most the level's grade. Health-literacy
  guidance asks for grade 6 or below for patient materials (e.g. CDC Simply Put; AMA), and at
  most grade 8 for general adult readers.
* ``fernandez-huerta``: 0–100, higher is easier. Fernández Huerta's (1959) table puts 70–80 at
  6th grade ("algo fácil") and 60–70 at 7th–8th grade ("normal").
* ``inflesz``: Szigriszt-Pazos perspicuity on the INFLESZ scale (Barrio-Cantalejo et al. 2008):
  65–80 "bastante fácil" (primary school), 55–65 "normal" (secondary school, ESO).
* ``sentence-length``: the language-independent measure for languages with no validated
  formula here: words (or syllables, or characters) per sentence. Targets are provisional:
  plain-language guidance asks for about 10–12 English words per sentence in easy-read text
  and at most 15–17 for general readers; each language's target scales that by how many of its
  units one English word takes (Vietnamese writes one syllable per space-separated unit; Thai
  and Chinese are counted in characters). Revisit them with native-speaking reviewers.

Health-literacy measures (``literacy.py``; SHeLL Health Literacy Editor, Ayre et al. 2023,
JMIR Formative Research 7:e40645), advice except where said:

* ``stigma`` (every level) and ``jargon`` (easy): no unexplained glossary word; these gate.
* ``complex-words``: % of words uncommon in the language (Zipf < 3) or jargon, unexplained.
  SHeLL highlights each; it publishes no threshold, so these are ours, provisional: about one
  word in twenty-five at easy, one in fifteen at standard.
* ``passive-voice``: % of sentences with a passive. Plain-language guidance (CDC Clear
  Communication Index, item 7; plainlanguage.gov) asks for active voice; SHeLL flags every
  passive. Ours, provisional: one sentence in ten at easy, one in five at standard.
* ``words-per-item``: a list item or paragraph over this many words (scaled like sentence
  length for other units) is flagged: CDC Simply Put asks for short paragraphs and lists.
* ``lexical-density``: % of words outside the language's 150 most frequent; SHeLL reports
  lexical density with no threshold; ours is provisional.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReadingLevel:
    name: str
    #: The highest US school grade the printed text may score.
    max_grade: float
    #: Pages the level must fit on at normal print size; ``None`` for no limit.
    max_pages: int | None
    description: str
    #: Target per measure, on the measure's own scale (see the module docstring).
    targets: dict[str, float] = field(default_factory=dict)


#: The reading levels by name (easy, standard, …), each with its targets and page limit.
LEVELS: dict[str, ReadingLevel] = {
    level.name: level
    for level in (
        ReadingLevel(
            "easy", max_grade=6.0, max_pages=None,
            description="Short words and sentences, US grade 5–6.",
            targets={"flesch-kincaid": 6.0, "smog": 6.0, "fernandez-huerta": 70.0,
                     "inflesz": 65.0, "words-per-sentence": 12.0,
                     "syllables-per-sentence": 16.0, "characters-per-sentence": 22.0,
                     "characters-per-phrase": 40.0, "complex-words": 4.0,
                     "passive-voice": 10.0, "words-per-item": 25.0,
                     "lexical-density": 60.0}),
        ReadingLevel(
            "standard", max_grade=8.0, max_pages=2,
            description="Plain language for most adults, US grade 7–8; one sheet.",
            targets={"flesch-kincaid": 8.0, "smog": 8.0, "fernandez-huerta": 60.0,
                     "inflesz": 55.0, "words-per-sentence": 16.0,
                     "syllables-per-sentence": 22.0, "characters-per-sentence": 30.0,
                     "characters-per-phrase": 55.0, "complex-words": 7.0,
                     "passive-voice": 20.0, "words-per-item": 40.0,
                     "lexical-density": 65.0}),
    )
}
LEVEL_NAMES: tuple[str, ...] = tuple(LEVELS)
