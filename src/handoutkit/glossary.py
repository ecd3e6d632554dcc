"""The project's glossary: terms translators keep as they are, or translate one agreed way.

One CSV file, ``locales/glossary.csv``, that Weblate imports as a glossary and any
spreadsheet edits: a ``term`` column (the English), a ``note`` for translators, a
``translate`` column (``no`` for a term every language keeps, such as "7-OH" or "Narcan"), and
one column per language code with its preferred translation. ``handout i18n check`` holds
the catalogs to it: a kept term that a translation drops is an error, a preferred one it does
not use a warning.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Problem
from .files import read_limited

GLOSSARY_FILE = "glossary.csv"
MAX_GLOSSARY_BYTES = 1024 * 1024
_COLUMNS = ("term", "note", "translate")


@dataclass(frozen=True)
class Term:
    english: str
    note: str
    #: Every language keeps it as it is (a product name, an abbreviation).
    keep: bool
    #: Language code → the translation the project prefers.
    preferred: tuple[tuple[str, str], ...]
    line: int

    def in_text(self, text: str) -> bool:
        """Whether ``text`` uses the term (as a whole word, any case)."""
        return re.search(rf"(?<!\w){re.escape(self.english)}(?!\w)", text, re.I) is not None


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
    languages = [name.strip() for name in rows[0][3:]]
    terms, problems = [], []
    for number, row in enumerate(rows[1:], 2):
        if not row or not row[0].strip():
            continue
        keep = (row[2].strip().lower() if len(row) > 2 else "yes")
        if keep not in ("yes", "no", ""):
            problems.append(Problem(f"translate is {keep!r}: write yes or no", path, number))
            continue
        preferred = tuple((lang, value.strip()) for lang, value in zip(languages, row[3:],
                                                                         strict=False)
                          if value.strip())
        terms.append(Term(row[0].strip(), row[1].strip() if len(row) > 1 else "",
                          keep == "no", preferred, number))
    if problems:
        raise InputError(problems)
    return tuple(terms)


def glossary_problems(terms: tuple[Term, ...], lang: str, english: str, translation: str
                      ) -> list[tuple[str, bool]]:
    """What ``translation`` of ``english`` does against the glossary: (message, is an error)."""
    found = []
    for term in terms:
        if not term.in_text(english):
            continue
        if term.keep and term.english.lower() not in translation.lower():
            found.append((f"glossary term {term.english!r} is kept as it is in every "
                          f"language, but this translation drops it", True))
        wanted = dict(term.preferred).get(lang)
        if wanted and wanted.lower() not in translation.lower():
            found.append((f"glossary: {term.english!r} is translated {wanted!r} in this "
                          "project", False))
    return found


def to_tbx(terms: tuple[Term, ...], lang: str) -> bytes:
    """The glossary for ``lang`` as TBX, which Weblate imports as a glossary (one bilingual
    file per language, its language from the file name; a kept term marked "Translation
    needed: No", which Weblate imports as untranslatable; the note as the explanation)."""
    from xml.etree import ElementTree as ET

    from .languages import bcp47

    root = ET.Element("martif", {"type": "TBX", "xml:lang": "en"})
    body = ET.SubElement(ET.SubElement(root, "text"), "body")
    for term in terms:
        wanted = term.english if term.keep else dict(term.preferred).get(lang)
        entry = ET.SubElement(body, "termEntry", {"id": f"term-{term.line}"})
        if term.note:
            ET.SubElement(entry, "descrip").text = term.note
        if term.keep:
            ET.SubElement(entry, "descrip", {"type": "Translation needed"}).text = "No"
        source = ET.SubElement(entry, "langSet", {"xml:lang": "en"})
        ET.SubElement(ET.SubElement(source, "tig"), "term").text = term.english
        if wanted:
            target = ET.SubElement(entry, "langSet", {"xml:lang": bcp47(lang)})
            ET.SubElement(ET.SubElement(target, "tig"), "term").text = wanted
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="unicode").encode("utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + document + b"\n"
