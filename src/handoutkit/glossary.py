"""The project's glossary: terms translators keep or translate one agreed way, and words
authors should not use.

One CSV file, ``locales/glossary.csv``, that Weblate imports as a glossary and any
spreadsheet edits: a ``term`` column, a ``note`` for translators, a ``translate`` column
(``no`` for a term every language keeps, such as "7-OH" or "Narcan"), then columns named by a
language code (that language's preferred translation) and these optional ones:

* ``lang``: the term's own language (``en`` when empty), for words to avoid in one language;
* ``avoid``: ``stigma`` for a word that labels people (NIDA's "Words Matter"), ``jargon`` for
  a term a patient may not know: the health-literacy check (:mod:`.literacy`) flags either
  where it prints, unexplained, and the easy level fails on it;
* ``plain``: the person-first or plain alternative, in the term's language;
* ``source``: where the advice comes from.

``handout i18n check`` holds the catalogs to it: a kept term that a translation drops is an
error, a preferred one it does not use a warning.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, Problem
from .files import read_limited

if TYPE_CHECKING:
    from .project import Project

GLOSSARY_FILE = "glossary.csv"
MAX_GLOSSARY_BYTES = 1024 * 1024
_COLUMNS = ("term", "note", "translate")
#: Named columns after the first three; any other column is a language code.
_NAMED = ("lang", "avoid", "plain", "source")
AVOID_KINDS = ("stigma", "jargon")


@dataclass(frozen=True)
class Term:
    #: The term as written in its language (``lang``).
    text: str
    note: str
    #: Every language keeps it as it is (a product name, an abbreviation).
    keep: bool
    #: Language code → the translation the project prefers.
    preferred: tuple[tuple[str, str], ...]
    line: int
    lang: str = "en"
    #: "stigma", "jargon", or "" for a term that is fine to use.
    avoid: str = ""
    plain: str = ""
    source: str = ""

    def in_text(self, text: str) -> bool:
        """Whether ``text`` uses the term (as a whole word, any case)."""
        return self.pattern().search(text) is not None

    def pattern(self, plural: bool = False) -> re.Pattern[str]:
        """The term as a whole word or phrase, any case, any run of spaces between words;
        with ``plural``, its plural too (addict, addicts; adicto, adictos)."""
        return _whole_words(self.text, plural)


@functools.lru_cache(maxsize=4096)  # each term is looked for in every message of a catalog
def _whole_words(text: str, plural: bool) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in text.split())
    ending = "(?:s|es)?" if plural else ""
    return re.compile(rf"(?<!\w){words}{ending}(?!\w)", re.I)


def load_glossary(path: Path) -> tuple[Term, ...]:
    """The terms of ``path`` (none if there is no glossary); bad rows name their line."""
    if not path.exists():
        return ()
    text = read_limited(path, MAX_GLOSSARY_BYTES, "glossary").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [name.strip().lower() for name in rows[0][:3]] != list(_COLUMNS):
        raise InputError.at("the glossary's first row must name its columns: term, note, "
                            "translate, then one language code per column", path, 1,
                            hint="e.g. term,note,translate,es,th")
    names = [name.strip() for name in rows[0]]
    terms, problems = [], []
    for number, row in enumerate(rows[1:], 2):
        if not row or not row[0].strip():
            continue
        cells = {name: value.strip() for name, value in zip(names, row, strict=False)}
        keep = cells.get("translate", "yes").lower()
        avoid = cells.get("avoid", "").lower()
        if keep not in ("yes", "no", ""):
            problems.append(Problem(f"translate is {keep!r}: write yes or no", path, number))
            continue
        if avoid not in ("", *AVOID_KINDS):
            problems.append(Problem(f"avoid is {avoid!r}: write {' or '.join(AVOID_KINDS)}, "
                                    "or leave it empty", path, number))
            continue
        preferred = tuple((name, value) for name, value in cells.items()
                          if name not in (*_COLUMNS, *_NAMED) and value)
        terms.append(Term(cells["term"], cells.get("note", ""), keep == "no", preferred,
                          number, lang=cells.get("lang") or "en", avoid=avoid,
                          plain=cells.get("plain", ""), source=cells.get("source", "")))
    if problems:
        raise InputError(problems)
    return tuple(terms)


def glossary_problems(terms: tuple[Term, ...], lang: str, english: str, translation: str
                      ) -> list[tuple[str, bool]]:
    """What ``translation`` of ``english`` does against the glossary: (message, is an error)."""
    found = []
    folded = english.casefold()
    for term in terms:
        # A term whose letters are not in the text at all needs no whole-word search: most
        # are not, and a check asks this of every message of every catalog.
        if (term.lang != "en" or term.text.split()[0].casefold() not in folded
                or not term.in_text(english)):
            continue
        if term.keep and term.text.lower() not in translation.lower():
            found.append((f"glossary term {term.text!r} is kept as it is in every "
                          f"language, but this translation drops it", True))
        wanted = dict(term.preferred).get(lang)
        if wanted and wanted.lower() not in translation.lower():
            found.append((f"glossary: {term.text!r} is translated {wanted!r} in this "
                          "project", False))
    return found


def export_tbx(project: Project, langs: list[str] | None = None) -> list[Path]:
    """Write ``locales/glossary/<lang>.tbx`` from the project's glossary for each language
    (default: every language but English), for a translation platform; the files written."""
    from .output import write_atomic

    source = project.locales_dir / GLOSSARY_FILE
    terms = load_glossary(source)
    if not terms:
        raise InputError.at("no glossary terms", source,
                            hint="write the CSV first (columns: term, note, translate, "
                                 "then one language code each)")
    written = []
    for code in [project.canonical(c) for c in langs] if langs else project.languages()[1:]:
        path = project.locales_dir / "glossary" / f"{code}.tbx"
        write_atomic(path, to_tbx(terms, code))
        written.append(path)
    return written


def to_tbx(terms: tuple[Term, ...], lang: str) -> bytes:
    """The glossary for ``lang`` as TBX, which Weblate imports as a glossary (one bilingual
    file per language, its language from the file name; a kept term marked "Translation
    needed: No", which Weblate imports as untranslatable; the note as the explanation)."""
    from xml.etree import ElementTree as ET

    from .languages import bcp47

    root = ET.Element("martif", {"type": "TBX", "xml:lang": "en"})
    body = ET.SubElement(ET.SubElement(root, "text"), "body")
    for term in (t for t in terms if t.lang == "en"):
        wanted = term.text if term.keep else dict(term.preferred).get(lang)
        entry = ET.SubElement(body, "termEntry", {"id": f"term-{term.line}"})
        if term.note:
            ET.SubElement(entry, "descrip").text = term.note
        if term.keep:
            ET.SubElement(entry, "descrip", {"type": "Translation needed"}).text = "No"
        source = ET.SubElement(entry, "langSet", {"xml:lang": "en"})
        ET.SubElement(ET.SubElement(source, "tig"), "term").text = term.text
        if wanted:
            target = ET.SubElement(entry, "langSet", {"xml:lang": bcp47(lang)})
            ET.SubElement(ET.SubElement(target, "tig"), "term").text = wanted
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="unicode").encode("utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + document + b"\n"
