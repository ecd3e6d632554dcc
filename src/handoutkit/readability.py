"""Readability: score the printed text, in its own language, against its level's targets.

What is scored is exactly what prints (title, summary, headings and points, after translation),
not the footer or the sources. Every heading and bullet ends a sentence for scoring.

Formulas, each from its published source; an English formula's number is never given for
another language:

* English: Flesch-Kincaid grade (Kincaid, Fishburne, Rogers & Chissom 1975, Naval Technical
  Training Command report 8-75) and SMOG grade (McLaughlin 1969, "SMOG grading: a new
  readability formula", J. of Reading 12(8)), the measure health-literacy guidance prefers.
  Syllables come from the CMU Pronouncing Dictionary, and for words it lacks (drug names)
  from an estimate learned from it (``syllables.py``).
* Spanish: Fernández-Huerta lecturabilidad (Fernández Huerta 1959, "Medidas sencillas de
  lecturabilidad", Consigna 214), in the corrected form 206.84 − 60·syllables/word −
  1.02·words/sentence that textstat and legible.es use; and Szigriszt-Pazos perspicuity
  (Szigriszt Pazos 1993) read on the INFLESZ scale (Barrio-Cantalejo et al. 2008, Anales del
  Sistema Sanitario de Navarra 31(2)). Syllables by the RAE rules of Spanish syllable division
  (``syllables.py``), not pyphen, whose hyphenation points undercount ("agua", "ayuda").
* Indonesian, Vietnamese, Arabic, Thai, Chinese: no validated formula is implemented here, so
  they get a clearly labelled language-independent measure, sentence length, counted in the
  unit the script allows: words (Indonesian, Arabic), syllables (Vietnamese, which spaces
  syllables), characters (Chinese), characters per phrase (Thai, which writes no sentence
  punctuation and ends phrases with a space).

Targets per level live in ``levels.py``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from .levels import LEVELS
from .syllables import cmu_syllables, estimated_syllables
from .syllables import spanish_syllables as rule_spanish_syllables
from .translate import PrintedHandout, Text

SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+|(?<=[。！？；：؟؛])")


@dataclass(frozen=True)
class Sentence:
    text: str
    context: str
    units: tuple[str, ...]
    syllables: tuple[int, ...] = ()


#: Measures that count findings (stigmatising words, jargon, long items), not a rate.
COUNTED = frozenset(("stigma", "jargon", "long-items"))


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    value: float
    target: float
    higher_is_easier: bool
    validated: bool
    #: Whether the level's gate holds the document to it; advice is reported, never failing.
    gating: bool = True

    @property
    def measured(self) -> bool:
        return not math.isnan(self.value)

    @property
    def passed(self) -> bool:
        if not self.measured:
            return False  # "not measured" is never "passed"
        return self.value >= self.target if self.higher_is_easier else self.value <= self.target

    def describe(self) -> str:
        if not self.measured:
            return self.label
        bound = "≥" if self.higher_is_easier else "≤"
        advice = "" if self.gating else ", advice"
        value = f"{self.value:.0f}" if self.key in COUNTED else f"{self.value:.1f}"
        if not self.passed:
            # Rounded, 6.04 would read "6.0 (target ≤ 6)": a failure that looks like a pass.
            value = f"{self.value:.2f}" if float(value) == self.target else value
            advice += ", not met"
        return f"{self.label} {value} (target {bound} {self.target:g}{advice})"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label,
                "value": round(self.value, 2) if self.measured else None,
                "target": self.target, "higher_is_easier": self.higher_is_easier,
                "validated": self.validated, "gating": self.gating,
                "measured": self.measured, "passed": self.passed}


@dataclass(frozen=True)
class HardSentence:
    text: str
    context: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """One thing to rewrite, on the sentence it belongs to."""

    kind: str          # stigma, jargon, uncommon, acronym, passive, long-item
    context: str       # the msgctxt of the string it is in
    sentence: str
    words: str         # the word or phrase found ("" for a whole sentence)
    alternative: str   # what to write instead, when the glossary has it
    blocks: bool       # fails the level's gate

    def describe(self) -> str:
        what = {"stigma": "stigmatising word", "jargon": "jargon", "uncommon": "uncommon word",
                "acronym": "unexplained acronym", "passive": "passive voice",
                "long-item": "long list item"}[self.kind]
        found = f" {self.words!r}" if self.words else ""
        instead = f" → {self.alternative!r}" if self.alternative else ""
        return f"{what}{found}{instead}"

    def spans(self) -> tuple[tuple[str, bool], ...]:
        """The sentence in pieces, the found words marked, for a page to highlight them."""
        at = self.sentence.find(self.words) if self.words else -1
        if at < 0:
            return ((self.sentence, False),)
        end = at + len(self.words)
        return tuple(piece for piece in ((self.sentence[:at], False), (self.words, True),
                                         (self.sentence[end:], False)) if piece[0])

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "msgctxt": self.context, "sentence": self.sentence,
                "words": self.words, "alternative": self.alternative, "blocks": self.blocks}


@dataclass(frozen=True)
class ReadabilityReport:
    """How readable one document's printed text is: an immutable value, all the way down."""

    lang: str
    level: str
    measures: tuple[Measure, ...]
    sentences: int
    units: int
    unit_name: str
    hardest: tuple[HardSentence, ...] = ()
    #: English measures of the strings printed in English for want of a translation.
    fallback_measures: tuple[Measure, ...] = ()
    #: The health-literacy checks' findings (literacy.py), each on its sentence.
    findings: tuple[Finding, ...] = ()
    #: The share of the texts printed in the document's language (the rest fell back to
    #: English): a language just started is English text, which is not its to score.
    translated: float = 1.0

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.measures if m.gating)

    @property
    def formulas_failed(self) -> bool:
        """Whether a readability formula fails (then the hardest sentences say why)."""
        return any(not m.passed for m in self.measures if m.gating and m.key in _FORMULA_KEYS)

    def explain(self) -> str:
        gate = [m for m in self.measures if m.gating]
        lines = [f"{'passes' if self.passed else 'too hard'} for the {self.level} level: "
                 + "; ".join(m.describe() for m in gate)]
        advice = [m for m in self.measures if not m.gating]
        if advice:
            lines.append("  also: " + "; ".join(m.describe() for m in advice))
        if self.formulas_failed:
            lines.append("hardest sentences:")
            lines += [f"  [{h.context}] {h.text!r}: {', '.join(h.reasons)}" for h in self.hardest]
        blocking = [f for f in self.findings if f.blocks]
        if blocking:
            lines.append("must change:")
            lines += [f"  [{f.context}] {f.sentence!r}: {f.describe()}" for f in blocking]
        return "\n".join(lines)

    def advice(self) -> list[str]:
        """The findings that do not fail the gate, one line each, on their sentences."""
        return [f"[{f.context}] {f.sentence!r}: {f.describe()}" for f in self.findings
                if not f.blocks]

    def as_dict(self) -> dict[str, Any]:
        return {
            "lang": self.lang, "level": self.level, "passed": self.passed,
            "translated": round(self.translated, 3),
            "sentences": self.sentences, "units": self.units, "unit": self.unit_name,
            "measures": [m.as_dict() for m in self.measures],
            "findings": [f.as_dict() for f in self.findings],
            "hardest": [{"text": h.text, "context": h.context, "reasons": list(h.reasons)}
                        for h in self.hardest],
            "fallback_measures": [{"key": m.key, "label": m.label, "value": round(m.value, 2),
                                   "target": m.target, "passed": m.passed, "gating": False}
                                  for m in self.fallback_measures],
        }


# --- formulas -------------------------------------------------------------------------------

def flesch_kincaid_grade(words: int, sentences: int, syllables: int) -> float:
    return 0.39 * words / sentences + 11.8 * syllables / words - 15.59


def smog_grade(polysyllables: int, sentences: int) -> float:
    return 1.0430 * math.sqrt(polysyllables * 30 / sentences) + 3.1291


def fernandez_huerta(words: int, sentences: int, syllables: int) -> float:
    return 206.84 - 60 * syllables / words - 1.02 * words / sentences


def szigriszt_pazos(words: int, sentences: int, syllables: int) -> float:
    return 206.835 - 62.3 * syllables / words - words / sentences


# --- syllables and units ------------------------------------------------------------------

def english_syllables(word: str) -> int:
    """Syllables of an English word: the CMU dictionary's count, else the estimate."""
    if "-" in word:  # "long-lasting": a compound is as long as its parts
        return sum(english_syllables(part) for part in word.split("-") if part)
    key = word.lower().strip("'’")
    count = cmu_syllables(key)
    if count:
        return count
    return estimated_syllables(key)


def spanish_syllables(word: str) -> int:
    """Syllables of a Spanish word, by the RAE's syllabification rules (``syllables.py``):
    pyphen's hyphenation points undercount, as a lone vowel is never hyphenated off."""
    parts = [part for part in word.split("-") if part]
    return sum(rule_spanish_syllables(part) for part in parts)


def words(text: str) -> list[str]:
    """Space-separated words, without the punctuation around them, nor the asterisks that
    mark a scientific name (``*Mitragyna speciosa*`` prints as two words in italics)."""
    tokens = (token.strip(".,;:!?¡¿()[]\"'“”‘’«»…—–-·،؛؟*") for token in text.split())
    return [t for t in tokens if any(c.isalnum() for c in t)]


def characters(text: str) -> list[str]:
    """Letters and digits that take up space (combining marks ride on their base letter)."""
    return [c for c in text if c.isalnum() and unicodedata.category(c) != "Mn"]


def split_sentences(text: str, measure: str) -> list[str]:
    if measure == "phrase-characters":  # Thai ends phrases with a space, not punctuation
        return [phrase for phrase in text.split() if characters(phrase)]
    return [s.strip() for s in SENTENCE_END.split(text) if words(s) or characters(s)]


# --- one scorer per measure ---------------------------------------------------------------

@dataclass(frozen=True)
class Scorer:
    unit_name: str
    units: Callable[[str], list[str]]
    syllables: Callable[[str], int] | None = None
    #: Words at least this many syllables long count as long words ("polysyllables").
    long_word_syllables: int = 3
    #: The level target's key for sentence length in this scorer's unit.
    length_key: str = "words-per-sentence"
    length_label: str = "words per sentence"


#: Keyed by ``Language.measure`` (languages.py says which language uses which).
SCORERS: dict[str, Scorer] = {
    "english": Scorer("words", words, english_syllables, 3),
    "spanish": Scorer("words", words, spanish_syllables, 4),
    "words": Scorer("words", words),
    "syllables": Scorer("syllables", words, length_key="syllables-per-sentence",
                        length_label="syllables per sentence"),
    "characters": Scorer("characters", characters, length_key="characters-per-sentence",
                         length_label="characters per sentence"),
    "phrase-characters": Scorer("characters", characters, length_key="characters-per-phrase",
                                length_label="characters per phrase"),
}


def sentences_of(texts: Iterable[Text], measure: str, syllables: bool = True
                 ) -> list[Sentence]:
    """The texts' sentences and their units; with ``syllables``, each unit's syllables too
    (counting them is most of the formulas' cost, and only the formulas need them)."""
    scorer = SCORERS[measure]
    found = []
    for text in texts:
        for sentence in split_sentences(text.value, measure):
            units = tuple(scorer.units(sentence))
            counts = tuple(scorer.syllables(u) for u in units) if (
                syllables and scorer.syllables) else ()
            found.append(Sentence(sentence, text.context, units, counts))
    return found


def score(doc: PrintedHandout) -> ReadabilityReport:
    """Score ``doc``'s printed text against its level's targets, each text in its language.

    Strings printed in English for want of a translation are not scored with the document
    language's measure (a Chinese formula on English text means nothing): they get English
    measures of their own, reported but not gating (a few strings are too few to score).
    """
    level = LEVELS[doc.job.level]
    texts = doc.body_texts()
    own = [t for t in texts if not t.fallback] or texts
    report = _report(own, doc.language.measure, level.targets, doc.language.code, level.name)
    report = replace(report, translated=sum(not t.fallback for t in texts) / max(1, len(texts)))
    fallback = [t for t in texts if t.fallback] if own is not texts else []
    if fallback:
        report = replace(report, fallback_measures=_report(
            fallback, "english", level.targets, "en", level.name).measures)
    return report


def _report(texts: list[Text], measure: str, targets: dict[str, float], lang: str,
            level: str) -> ReadabilityReport:
    scorer = SCORERS[measure]
    sentences = sentences_of(texts, measure)
    n_sent = max(1, len(sentences))
    n_units = max(1, sum(len(s.units) for s in sentences))
    syllables = sum(sum(s.syllables) for s in sentences)
    polysyllables = sum(1 for s in sentences for n in s.syllables
                        if n >= scorer.long_word_syllables)

    def gauge(key: str, label: str, value: float, easier_up: bool, validated: bool) -> Measure:
        return Measure(key, label, value, targets[key], easier_up, validated)

    if measure == "english":
        measures = [
            gauge("flesch-kincaid", "Flesch-Kincaid grade",
                  flesch_kincaid_grade(n_units, n_sent, syllables), False, True),
            gauge("smog", "SMOG grade", smog_grade(polysyllables, n_sent), False, True)]
    elif measure == "spanish":
        measures = [
            gauge("fernandez-huerta", "Fernández-Huerta",
                  fernandez_huerta(n_units, n_sent, syllables), True, True),
            gauge("inflesz", "Szigriszt-Pazos (INFLESZ)",
                  szigriszt_pazos(n_units, n_sent, syllables), True, True)]
    else:
        measures = [gauge(scorer.length_key, f"sentence length, {scorer.length_label} "
                          "(language-independent, provisional)", n_units / n_sent, False, False)]
    return ReadabilityReport(lang, level, tuple(measures), len(sentences), n_units,
                             scorer.unit_name, tuple(_hardest(sentences, scorer, targets)))


def _hardest(sentences: list[Sentence], scorer: Scorer, targets: dict[str, float],
             count: int = 3) -> list[HardSentence]:
    """The sentences to rewrite first, each with why it is hard."""
    length_target = targets[scorer.length_key]

    def difficulty(sentence: Sentence) -> float:
        long_words = sum(n >= scorer.long_word_syllables for n in sentence.syllables)
        return len(sentence.units) / length_target + long_words / 2

    ranked = sorted(sentences, key=difficulty, reverse=True)[:count]
    result = []
    for sentence in ranked:
        reasons = []
        if len(sentence.units) > length_target:
            reasons.append(f"long sentence: {len(sentence.units)} {scorer.unit_name} "
                           f"(aim for {length_target:g} or fewer)")
        long_words = [u for u, n in zip(sentence.units, sentence.syllables, strict=False)
                      if n >= scorer.long_word_syllables]
        if long_words:
            reasons.append(f"long words: {', '.join(long_words)}")
        reasons = reasons or [f"{len(sentence.units)} {scorer.unit_name}"]
        result.append(HardSentence(sentence.text, sentence.context, tuple(reasons)))
    return result


#: The formulas' measures: a failing one is explained with the hardest sentences.
_FORMULA_KEYS = frozenset(("flesch-kincaid", "smog", "fernandez-huerta", "inflesz",
                           *(scorer.length_key for scorer in SCORERS.values())))
