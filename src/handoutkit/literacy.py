"""Health-literacy checks beyond the formulas: the measures of the SHeLL Health Literacy Editor
(Ayre et al. 2023, JMIR Formative Research 7:e40645), per language, each finding on the
sentence it belongs to.

* **Stigmatising words** ("addict", "abuser"): the glossary's ``avoid=stigma`` rows, with the
  person-first wording to use (NIDA, "Words Matter"). Any level fails on one.
* **Jargon**: the glossary's ``avoid=jargon`` rows, and **uncommon words**: a Zipf frequency
  below :data:`UNCOMMON_ZIPF` in the language's word-frequency list (the ``wordfreq``
  package; on the Zipf scale of van Heuven et al. 2014, Q. J. Exp. Psychol. 67(6), 1–3 is
  low frequency). A word is *explained* when the document puts it in
  brackets after plain words, gives it a bracketed gloss, or defines it ("X is a …",
  "X, a …"; "X es un …"). Proper names (capitalised inside a sentence), acronyms the
  glossary keeps, numbers and URLs are never complex. The easy level fails on unexplained
  glossary jargon; uncommon words are reported against a target.
* **Acronyms** (FDA): unexplained all-capital words, reported.
* **Passive voice** (English, Spanish): by rule (:mod:`.passive`), validated on published
  sentences labelled by hand.
* **Long list items** over the level's length, and **lexical density** (the share of words
  outside the language's most frequent ones, a stand-in for content words that needs no
  part-of-speech tagger).

A language with no frequency list (Thai, Chinese: ``wordfreq`` needs extra tokenisers for
them) reads "not measured" for the measures that need one, never "passed".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache

from . import frequencies
from .glossary import Term
from .languages import frequency_list
from .levels import LEVELS
from .passive import passive_phrases
from .readability import (
    SCORERS,
    Finding,
    Measure,
    ReadabilityReport,
    Sentence,
    score,
    sentences_of,
)
from .translate import PrintedHandout, Text

#: Below this Zipf frequency a word is uncommon: about once in three million words. At 3 (once
#: per million) everyday words of care instructions were flagged (toser 2.9, frotar 2.8,
#: drowsy 2.8, breastfeed 2.8); at 2.5 drug names and technical terms still are (gabapentin
#: 2.3, benzodiazepinas 2.1, hepatotoxicity 1.9).
UNCOMMON_ZIPF = 2.5
#: The most frequent words of a language that count as function words for lexical density.
FUNCTION_WORDS = 150

#: Words that open a definition of the word before them, per language.
_DEFINES = {
    "en": r"(?:is|are|was|means|mean|is called|are called)\s+(?:a|an|the|one|any|when|how)\b",
    "es": r"(?:es|son|significa|quiere decir|se llama)\s+(?:un|una|el|la|los|las|cuando)\b",
}


@dataclass(frozen=True)
class LiteracyReport:
    measures: tuple[Measure, ...]
    findings: tuple[Finding, ...]


def score_document(doc: PrintedHandout, glossary: Iterable[Term] = ()) -> ReadabilityReport:
    """The readability formulas' report on ``doc``, with the health-literacy measures and
    findings of the text printed in its language added."""
    report = score(doc)
    texts = doc.body_texts()
    own = [t for t in texts if not t.fallback] or texts
    literacy = check(own, doc.language.measure, doc.language.code, report.level, glossary)
    frequencies.save()  # the words looked up, for the next process
    return replace(report, measures=report.measures + literacy.measures,
                   findings=literacy.findings)


def check(texts: list[Text], measure: str, lang: str, level: str,
          glossary: Iterable[Term]) -> LiteracyReport:
    """The health-literacy measures and findings of one document's printed text."""
    targets = LEVELS[level].targets
    text = _Text(texts, measure, lang.split("_")[0], tuple(glossary), level == "easy")
    wordlist = frequency_list(lang)
    findings = text.glossary_findings()
    findings += text.complex_findings(wordlist, {f.words.lower() for f in findings})
    passive = text.passive_findings()
    findings += passive or []
    findings += text.long_items(targets["words-per-item"] * _unit_scale(measure))

    def count(*kinds: str) -> float:
        return float(sum(f.kind in kinds for f in findings))

    n_words = max(1, sum(len(s.units) for s in text.sentences))
    measures = (
        Measure("stigma", "stigmatising words", count("stigma"), 0.0, False, True, gating=True),
        Measure("jargon", "unexplained jargon", count("jargon"), 0.0, False, True,
                gating=text.easy),
        _measured("complex-words", "complex words, % of words",
                  100 * count("jargon", "acronym", "uncommon") / n_words,
                  targets["complex-words"], wordlist is not None),
        _measured("passive-voice", "passive voice, % of sentences",
                  100 * count("passive") / max(1, len(text.sentences)),
                  targets["passive-voice"], passive is not None),
        Measure("long-items", "list items over the length", count("long-item"), 0.0, False,
                False, gating=False),
        _measured("lexical-density", "lexical density, % of words",
                  _density(text.sentences, wordlist), targets["lexical-density"],
                  wordlist is not None),
    )
    return LiteracyReport(measures, tuple(findings))


class _Text:
    """One document's printed text, as the checks read it: sentences, the whole text (for
    explanations anywhere in it), the language and the glossary."""

    def __init__(self, texts: list[Text], measure: str, base: str, terms: tuple[Term, ...],
                 easy: bool):
        self.texts, self.measure, self.base, self.terms, self.easy = (
            texts, measure, base, terms, easy)
        self.sentences = sentences_of(texts, measure, syllables=False)
        self.whole = " ".join(t.value for t in texts)
        self._explained: dict[str, bool] = {}

    def explained(self, word: str) -> bool:
        key = word.lower()
        if key not in self._explained:
            self._explained[key] = _explained(word, self.whole, self.base)
        return self._explained[key]

    def glossary_findings(self) -> list[Finding]:
        """The glossary's words to avoid in this language: stigma anywhere, jargon unless
        explained (failing the easy level)."""
        found = []
        for term in (t for t in self.terms if t.avoid and t.lang.split("_")[0] == self.base):
            pattern = term.pattern(plural=True)
            if not pattern.search(self.whole):
                continue  # most terms are in no sentence: one search of the whole text says so
            for sentence in self.sentences:
                for match in pattern.finditer(sentence.text):
                    if term.avoid == "jargon" and self.explained(match.group(0)):
                        continue
                    found.append(Finding(term.avoid, sentence.context, sentence.text,
                                         match.group(0), term.plain,
                                         term.avoid == "stigma" or self.easy))
        return found

    def complex_findings(self, wordlist: str | None, flagged: set[str]) -> list[Finding]:
        """Unexplained acronyms and uncommon words (none where there is no word list)."""
        if not wordlist:
            return []
        kept = {t.text.lower() for t in self.terms if t.keep or t.preferred}
        found = []
        for sentence in self.sentences:
            for index, word in enumerate(sentence.units):
                if word.lower() in flagged or word.lower() in kept or not _checkable(
                        word, index, sentence):
                    continue
                word = re.sub(r"['’]s$", "", word)  # "Kratom's" is kratom
                if word.isupper():
                    if len(word) > 2 and not self.explained(word):  # FDA; "US" reads as a word
                        found.append(Finding("acronym", sentence.context, sentence.text, word,
                                             "", False))
                elif _zipf(word.lower(), wordlist) < UNCOMMON_ZIPF and not self.explained(word):
                    found.append(Finding("uncommon", sentence.context, sentence.text, word,
                                         _plain(word, self.terms, self.base), False))
        return found

    def passive_findings(self) -> list[Finding] | None:
        """A finding per sentence with a passive, or ``None`` where the language has no rule."""
        if passive_phrases("", self.base) is None:
            return None
        found = []
        for sentence in self.sentences:
            phrases = passive_phrases(sentence.text, self.base)
            if phrases:
                found.append(Finding("passive", sentence.context, sentence.text, phrases[0],
                                     "", False))
        return found

    def long_items(self, limit: float) -> list[Finding]:
        found = []
        for item in (t for t in self.texts if _is_item(t)):
            size = sum(len(s.units) for s in sentences_of([item], self.measure, syllables=False))
            if size > limit:
                found.append(Finding("long-item", item.context, item.value, "",
                                     f"split it: {size} units, aim for {limit:g} or fewer",
                                     False))
        return found


def _measured(key: str, label: str, value: float, target: float, available: bool) -> Measure:
    """An advisory measure, or "not measured" where the language lacks what it needs."""
    if not available:
        return Measure(key, f"{label} (not measured for this language)", float("nan"), target,
                       False, False, gating=False)
    return Measure(key, label, value, target, False, False, gating=False)


def _checkable(word: str, index: int, sentence: Sentence) -> bool:
    """A word the complex-word measures judge: not a number, URL, or a name in a sentence."""
    if not any(c.isalpha() for c in word) or "/" in word or "." in word or "@" in word:
        return False
    if any(c.isdigit() for c in word):
        return False
    # A capitalised word inside a sentence is a name (a place, an organisation, a help line).
    return not (index > 0 and word[:1].isupper() and not word.isupper())


def _explained(word: str, document: str, base: str) -> bool:
    """Whether the document glosses ``word`` (or its singular): in brackets after plain words,
    with a bracketed explanation after it, or a definition ("X is a …", "X, a …", "In a X,
    …")."""
    singular = {word[:-2], word[:-1]} if word.lower().endswith("es") else (
        {word[:-1]} if word.lower().endswith("s") else set())
    return any(_glossed(form, document, base) for form in {word, *singular} if len(form) > 2)


def _glossed(word: str, document: str, base: str) -> bool:
    escaped = re.escape(word)
    if re.search(rf"\([^)]*(?<!\w){escaped}(?!\w)[^)]*\)", document, re.I):
        return True
    if re.search(rf"(?<!\w){escaped}(?:s|es)?\s*\(", document, re.I):
        return True
    defines = _DEFINES.get(base)
    if defines and re.search(rf"(?<!\w){escaped}(?:s|es)?\s+{defines}", document, re.I):
        return True
    article = {"en": r"(?:a|an)", "es": r"(?:un|una)"}.get(base)
    if not article:
        return False
    # "X, a …" (an apposition) and "In a X, …" (a description of what happens in one)
    return bool(re.search(rf"(?<!\w){escaped}(?:s|es)?,\s+{article}\s", document, re.I)
                or re.search(rf"\b(?:in|during|en|durante)\s+{article}\s+{escaped},", document,
                             re.I))


def _plain(word: str, terms: tuple[Term, ...], base: str) -> str:
    for term in terms:
        if term.plain and term.lang.split("_")[0] == base and term.text.lower() == word.lower():
            return term.plain
    return ""


def _is_item(text: Text) -> bool:
    """A list item or paragraph: a section's point or the summary, not a heading or title."""
    first = text.context.split(".")[0]
    return first == "summary" or (text.context.count(".") >= 1 and ".heading" not in
                                  text.context and first != "title")


def _unit_scale(measure: str) -> float:
    """How many of a measure's units one English word takes, as levels.py's sentence-length
    targets have it (Chinese characters, Thai characters per phrase, Vietnamese syllables)."""
    easy = LEVELS["easy"].targets
    return easy[SCORERS[measure].length_key] / easy["words-per-sentence"]


def _density(sentences: list[Sentence], wordlist: str | None) -> float:
    if not wordlist:
        return float("nan")
    common = _most_frequent(wordlist)
    units = [u.lower() for s in sentences for u in s.units if any(c.isalpha() for c in u)]
    return 100 * sum(u not in common for u in units) / max(1, len(units))


def _most_frequent(wordlist: str) -> frozenset[str]:
    return frequencies.most_frequent(wordlist, FUNCTION_WORDS)


#: Pronouns Spanish writes onto a verb ("frótelo", "láveselas", "pararlos"): a frequency
#: list counts each spelling apart, so the verb is looked up without them too.
_SPANISH_CLITICS = re.compile(r"(?:me|te|se|nos|os|le|les|lo|los|la|las)+$")


def _forms(word: str, wordlist: str) -> set[str]:
    """The word as printed and the forms a frequency list is likelier to hold."""
    forms = {word, re.sub(r"['’]s$", "", word)}  # "person's" is listed as "person"
    if wordlist == "en" and word.endswith("s"):
        forms.add(word[:-1])  # "relaxants": the plural is rarer than the word
    if wordlist == "es":
        bare = _SPANISH_CLITICS.sub("", word)
        if len(bare) > 2 and bare != word:
            # the stress accent the pronouns needed goes with them: frót(elo) → frote
            plain = unicodedata.normalize("NFD", bare)
            forms |= {bare, unicodedata.normalize("NFC", re.sub("\u0301", "", plain))}
    return forms


@cache
def _zipf(word: str, wordlist: str) -> float:
    return frequencies.zipf(_forms(word, wordlist), wordlist)


