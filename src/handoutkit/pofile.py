"""Write gettext catalogs byte for byte as GNU gettext writes them.

``msgcat``, ``msgmerge`` and the platforms built on them (Weblate, Pontoon, Poedit) rewrite a
catalog in GNU's layout; a file written any other way churns on every round trip. GNU wraps
each string at 79 columns where Unicode's line breaking (UAX #14, as libunistring implements
it) allows, counting East Asian wide characters as two columns and combining marks as none,
never inside an escape sequence or a python-format directive, and prints comments and flags in
a fixed order. Babel's ``write_po`` does none of this, so catalogs are written here; Babel still
reads them and holds them in memory.

The line-breaking classes come from ``unicodedata`` plus a table of the characters whose class
it cannot tell (punctuation, symbols, the Kana that do not start a line), checked against
libunistring for the scripts handoutkit's languages use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache

from babel.messages.catalog import Catalog, Message

#: GNU gettext's page width.
WIDTH = 79
#: A header entry: its fields in order, as ``(name, value)``.
Header = tuple[tuple[str, str], ...]

# --- Unicode line breaking ------------------------------------------------------------------

#: Line-breaking classes ``_line_class`` cannot derive from ``unicodedata`` (hex code points).
_EXCEPTIONS = {
    "NS": "203C-203D 2047-2049 3005 301C 303B-303C 3041 3043 3045 3047 3049 3063 3083 3085 3087"
          " 308E 3095-3096 309B-309E 30A0-30A1 30A3 30A5 30A7 30A9 30C3 30E3 30E5 30E7 30EE"
          " 30F5-30F6 30FB-30FE FE54-FE55 FF1A-FF1B FF65 FF67-FF70 FF9E-FF9F",
    "BA": "7C AD 964-965 E5A-E5B 2027 2056 2058-205B 205D-205E 2E0E-2E15 2E19 2E2A-2E2D"
          " 2E30-2E31 2E33-2E34 2E3C-2E3E 2E41 2E43-2E4A 2E4C 2E4E-2E4F",
    "PO": "25 A2 B0 609-60B 66A 9F2-9F3 9F9 D79 2030-2037 20A7 20B6 20BB 20BE 20C0 2103 2109"
          " FE6A FF05 FFE0",
    "AL": "600-605 6DD 70F 2015 2061-2064 2E1A FFE8-FFEE",
    "EX": "21 3F 5C6 61B 61D-61F 6D4 7F9 2E2E 2E53-2E54 FE15-FE16 FE56-FE57 FF01 FF1F",
    "IS": "2C 2E 3A-3B 37E 589 60C-60D 7F8 2044 FE10 FE13-FE14",
    "GL": "A0 34F 35C-362 2007 2011 202F",
    "CL": "3001-3002 FE11-FE12 FE50 FE52 FF0C FF0E FF61 FF64",
    "QU": "22 27 2E00-2E01 2E06-2E08 2E0B",
    "ID": "3030 303F FE31-FE32 FE58 FE63 FF0D",
    "PR": "2B 5C B1 2116 2212-2213",
    "BB": "B4 2C8 2CC 2DF C77 C84",
    "IN": "2024-2026 22EF FE19",
    "OP": "A1 BF 2E18",
    "B2": "2014 2E3A-2E3B",
    "CP": "29 5D",
    "NU": "66B-66C",
    "HY": "2D",
    "SY": "2F",
    "ZW": "200B",
    "ZWJ": "200D",
    "WJ": "2060",
    "CM": "3035",
}
#: Scripts UAX #14 leaves to a dictionary (Thai, Lao, Myanmar, Khmer, Tai): libunistring treats
#: their letters and marks as ordinary letters, so they break only at spaces.
_DICTIONARY_SCRIPTS = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x1950, 0x19DF),
                       (0x1A20, 0x1AAF), (0xA9E0, 0xA9FF), (0xAA60, 0xAADF))
_CLASSES = ("WJ", "GL", "B2", "BA", "BB", "HY", "CL", "CP", "EX", "IN", "NS", "OP", "OPw", "QU",
            "IS", "NU", "PO", "PR", "SY", "AL", "H2", "H3", "ID", "JL", "JV", "JT", "HL", "RI",
            "EB", "EM", "ZWJ")
#: libunistring's pair table: a break between two classes is Direct, Indirect (only after a
#: space) or Prohibited. ``OPw`` is an East Asian wide opening bracket, which may follow a
#: letter or digit directly (UAX #14 rule LB30).
_PAIRS = (
    "PIIIIIPPPIIIIIPIIIPIIIIIIIIIIII"  # WJ
    "PIIIIIPPPIIIIIPIIIPIIIIIIIIIIII"  # GL
    "PIPIDIPPPIIDDIPDDDPDDDDDDDDDDDI"  # B2
    "PDDIDIPPPIIDDIPDDDPDDDDDDDDDDDI"  # BA
    "PIIIIIPPPIIIIIPIIIPIIIIIIIIIIII"  # BB
    "PDDIDIPPPIIDDIPIDDPDDDDDDDDDDDI"  # HY
    "PIDIDIPPPIPDDIPDIIPDDDDDDDDDDDI"  # CL
    "PIDIDIPPPIIDDIPIIIPIDDDDDDIDDDI"  # CP
    "PIDIDIPPPIIDDIPDDDPDDDDDDDDDDDI"  # EX
    "PIDIDIPPPIIDDIPDDDPDDDDDDDDDDDI"  # IN
    "PIDIDIPPPIIDDIPDDDPDDDDDDDDDDDI"  # NS
    "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPI"  # OP
    "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPI"  # OPw
    "PIIIIIPPPIIPPIPIIIPIIIIIIIIIIII"  # QU
    "PIDIDIPPPIIDDIPIDDPDDDDDDDDDDDI"  # IS
    "PIDIDIPPPIIIDIPIIIPIDDDDDDIDDDI"  # NU
    "PIDIDIPPPIIIIIPIDDPIDDDDDDIDDDI"  # PO
    "PIDIDIPPPIIIIIPIDDPIIIIIIIIDIII"  # PR
    "PIDIDIPPPIIDDIPIDDPDDDDDDDIDDDI"  # SY
    "PIDIDIPPPIIIDIPIIIPIDDDDDDIDDDI"  # AL
    "PIDIDIPPPIIDDIPDIDPDDDDDIIDDDDI"  # H2
    "PIDIDIPPPIIDDIPDIDPDDDDDDIDDDDI"  # H3
    "PIDIDIPPPIIDDIPDIDPDDDDDDDDDDDI"  # ID
    "PIDIDIPPPIIDDIPDIDPDIIDIIDDDDDI"  # JL
    "PIDIDIPPPIIDDIPDIDPDDDDDIIDDDDI"  # JV
    "PIDIDIPPPIIDDIPDIDPDDDDDDIDDDDI"  # JT
    "PIDIDIPPPIIIDIPIIIPIDDDDDDIDDDI"  # HL
    "PIDIDIPPPIIDDIPDDDPDDDDDDDDIDDI"  # RI
    "PIDIDIPPPIIDDIPDIDPDDDDDDDDDDII"  # EB
    "PIDIDIPPPIIDDIPDIDPDDDDDDDDDDDI"  # EM
    "PIIIIIPPPIIIIIPIIIPIIIIIIIIIIII"  # ZWJ
)
_PROHIBITED, _POSSIBLE, _MANDATORY = 1, 2, 3


def _exception_classes() -> dict[int, str]:
    classes = {}
    for name, ranges in _EXCEPTIONS.items():
        for part in ranges.split():
            start, _, end = part.partition("-")
            for code in range(int(start, 16), int(end or start, 16) + 1):
                classes[code] = name
    return classes


_EXCEPTION_CLASS = _exception_classes()


@lru_cache(maxsize=4096)
def _line_class(char: str) -> str:
    """The character's UAX #14 class, resolved as libunistring resolves it for UTF-8 text."""
    code = ord(char)
    if code in _EXCEPTION_CLASS:
        return _EXCEPTION_CLASS[code]
    category = unicodedata.category(char)
    if 0xAC00 <= code <= 0xD7A3:  # Hangul syllables: LV or LVT
        return "H2" if (code - 0xAC00) % 28 == 0 else "H3"
    for first, last, jamo in ((0x1100, 0x115F, "JL"), (0xA960, 0xA97C, "JL"),
                              (0x1160, 0x11A7, "JV"), (0xD7B0, 0xD7C6, "JV"),
                              (0x11A8, 0x11FF, "JT"), (0xD7CB, 0xD7FB, "JT")):
        if first <= code <= last:
            return jamo
    if category[0] in "LM" and any(a <= code <= b for a, b in _DICTIONARY_SCRIPTS):
        return "AL"
    simple = {"Mn": "CM", "Mc": "CM", "Me": "CM", "Cf": "CM", "Cc": "CM", "Zl": "BK",
              "Zp": "BK", "Ps": "OP", "Pe": "CL", "Pi": "QU", "Pf": "QU", "Sc": "PR",
              "Pd": "BA"}.get(category)
    if simple:
        return simple
    if category == "Zs":
        return "SP" if code == 0x20 else "BA"
    if unicodedata.east_asian_width(char) in "WFH":
        return "ID"
    if category == "Nd":
        return "NU"
    return "HL" if 0x05D0 <= code <= 0x05FF and category == "Lo" else "AL"


_PAIR = {(before, after): _PAIRS[row * len(_CLASSES) + column]
         for row, before in enumerate(_CLASSES) for column, after in enumerate(_CLASSES)}


def _possible_breaks(chars: Sequence[str]) -> list[int]:
    """Where a line may break before each character (libunistring's u8_possible_linebreaks)."""
    breaks = [_PROHIBITED] * len(chars)
    last, space, hebrew_hyphen, hebrew = "BK", False, False, False
    for index, char in enumerate(chars):
        kind = _line_class(char)
        if kind == "OP" and unicodedata.east_asian_width(char) in "FWH":
            kind = "OPw"
        if kind == "BK":
            breaks[index], last, space = _MANDATORY, "BK", False
            continue
        if kind == "SP":
            space = True
            continue
        if kind == "ZW":
            last, space = "ZW", False
            continue
        if kind == "CM":
            if last == "ZW":
                breaks[index], last = _POSSIBLE, "ID"
                continue
            if not space and last != "BK":
                hebrew = False  # a mark on a Hebrew letter ends rule LB21a
                continue
            # A mark after a space or at the start stands alone, as a letter.
            breaks[index] = _PROHIBITED if last == "BK" else _POSSIBLE
            last, space, hebrew_hyphen, hebrew = "AL", False, False, False
            continue
        if last == "ZW":
            breaks[index] = _POSSIBLE
        elif last != "BK" and not (hebrew_hyphen and not space):
            pair = _PAIR[(last, kind)]
            breaks[index] = _POSSIBLE if pair == "D" or (pair == "I" and space) else _PROHIBITED
        hebrew_hyphen = hebrew and kind in ("HY", "BA") and not space
        hebrew = kind == "HL"
        last, space = kind, False
    return breaks


@lru_cache(maxsize=4096)
def _width(char: str) -> int:
    """Columns on a terminal, as libunistring's uc_width counts them for UTF-8."""
    code = ord(char)
    if unicodedata.category(char) in ("Mn", "Me", "Cf", "Cc") or 0x1160 <= code <= 0x11FF \
            or 0xD7B0 <= code <= 0xD7FF:
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _line_breaks(chars: Sequence[str], width: int, column: int,
                 overrides: Sequence[int | None]) -> set[int]:
    """Where to break so no line passes ``width`` (libunistring's u8_width_linebreaks)."""
    if column + sum(map(_width, chars)) <= width:
        return set()  # it all fits: most strings, found without the UAX #14 classes
    found: set[int] = set()
    last: int | None = None
    piece = 0
    for index, (char, state) in enumerate(zip(chars, _possible_breaks(chars), strict=True)):
        state = overrides[index] or state
        if state in (_POSSIBLE, _MANDATORY) and last is not None and column + piece > width:
            found.add(last)
            column = 0
        if state == _MANDATORY:
            last, column, piece = None, 0, 0
            continue
        if state == _POSSIBLE:
            last, column, piece = index, column + piece, 0
        piece += _width(char)
    if last is not None and column + piece > width:
        found.add(last)
    return found


# --- strings --------------------------------------------------------------------------------

_ESCAPES = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v",
            "\\": "\\", '"': '"'}
#: What follows a python-format directive's ``%`` and its ``(name)``, as GNU's parser reads it.
_PYTHON_SPEC = re.compile(r"[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?([%csrioduxXeEfgG]?)")


def _inside_directives(text: str) -> set[int]:
    """Positions inside a python-format directive (after its ``%``): no line break there.

    Like GNU's parser (format-python.c), this stops at the first invalid directive, or at the
    first that mixes named and unnamed arguments: what follows it is plain text.
    """
    inside: set[int] = set()
    named = unnamed = 0
    start = text.find("%")
    while start >= 0:
        position, name = start + 1, None
        if text.startswith("(", position):
            depth, position = 0, position + 1
            while position < len(text) and (text[position] != ")" or depth):
                depth += {"(": 1, ")": -1}.get(text[position], 0)
                position += 1
            if position == len(text):
                break
            name, position = text[start + 2:position], position + 1
        spec = _PYTHON_SPEC.match(text, position)
        assert spec is not None  # every part of the pattern may be empty
        stars = (spec.group(1) == "*") + (spec.group(2) == "*")
        if not spec.group(3) or (stars and named):
            break
        unnamed += stars
        if name is not None or spec.group(3) != "%":
            if (unnamed if name is not None else named):
                break
            named, unnamed = (named + 1, unnamed) if name is not None else (named, unnamed + 1)
        inside.update(range(start + 1, spec.end()))
        start = text.find("%", spec.end())
    return inside


@lru_cache(maxsize=16384)
def wrap(keyword: str, text: str, prefix: str = "", python_format: bool = False,
         no_wrap: bool = False) -> tuple[str, ...]:
    """``keyword "text"`` as GNU gettext's ``wrap()`` prints it: one quoted line per ``\\n``,
    each wrapped at 79 columns, and an empty first line when the string takes several.

    Kept per process: a msgid is written alike in every language's catalog, at every update."""
    keep_whole = _inside_directives(text) if python_format else set()
    width = (10**9 if no_wrap else WIDTH) - 1 - (len(prefix) + 1)
    portions = re.findall(r"[^\n]*\n|[^\n]+", text) or [""]
    lines: list[str] = []
    first, offset = True, 0
    for number, portion in enumerate(portions):
        chars: list[str] = []
        overrides: list[int | None] = []
        for position, char in enumerate(portion, offset):
            keep = _PROHIBITED if position in keep_whole else None
            if char in _ESCAPES:
                chars += ["\\", _ESCAPES[char]]
                overrides += [keep, _PROHIBITED]
            else:
                chars.append(char)
                overrides.append(keep)
        offset += len(portion)
        if portion.endswith("\n"):
            overrides[-2] = _PROHIBITED  # never break just before the closing \n
        column = len(keyword) + 1 if first else 0
        breaks = _line_breaks(chars, width, column, overrides)
        if first and chars and (number < len(portions) - 1 or column > width or breaks):
            lines.append(f'{prefix}{keyword} ""')
            first = False
            breaks = _line_breaks(chars, width, 0, overrides)
        line = f'{prefix}{keyword} "' if first else f'{prefix}"'
        for index, char in enumerate(chars):
            if index in breaks:
                lines.append(line + '"')
                line = f'{prefix}"'
            line += char
        lines.append(line + '"')
        first = False
    return tuple(lines)


# --- catalogs -------------------------------------------------------------------------------

#: The flags GNU gettext keeps, in the order it prints them (after ``fuzzy``); it drops others.
_FORMATS = ("c", "objc", "python", "python-brace", "java", "java-printf", "csharp", "javascript",
            "scheme", "lisp", "elisp", "librep", "ruby", "sh", "awk", "lua", "pascal",
            "smalltalk", "qt", "qt-plural", "kde", "kde-kuit", "boost", "tcl", "perl",
            "perl-brace", "php", "gcc-internal", "gfc-internal", "ycp")
_FLAG_ORDER = [f"{no}{name}-format" for name in _FORMATS for no in ("", "no-")]


def _comment(mark: str, text: str) -> str:
    return f"{mark} {text}" if text else mark


def message_strings(message: Message) -> list[str]:
    """A message's translations: one, or one per plural form."""
    value = message.string
    return list(value) if isinstance(value, (list, tuple)) else [value or ""]


def singular_id(message: Message) -> str:
    """A message's msgid (the singular, for a plural entry): with msgctxt, its key."""
    return message.id if isinstance(message.id, str) else message.id[0]


#: Babel's Message has no field for the previous msgctxt that ``msgmerge --previous`` writes as
#: ``#| msgctxt``; it rides on the message under this name (see :func:`set_previous`).
_PREVIOUS_CONTEXT = "handoutkit_previous_context"


def previous_context(message: Message) -> str | None:
    """The msgctxt of the English a fuzzy entry was translated from, if it was written."""
    value = getattr(message, _PREVIOUS_CONTEXT, None)
    return value if isinstance(value, str) else None


def set_previous(message: Message, context: str | None, ids: Sequence[str] | None) -> None:
    """Record what a fuzzy entry was translated from (``#| msgctxt``, ``#| msgid``)."""
    message.previous_id = list(ids) if ids else []
    setattr(message, _PREVIOUS_CONTEXT, context if ids else None)


def _message_lines(message: Message, nplurals: int, obsolete: bool = False) -> Iterator[str]:
    prefix = "#~ " if obsolete else ""
    strings = message_strings(message)
    # An obsolete entry keeps the translator's comments only: msgmerge drops the extracted
    # comments and references of a string that no longer is in the source.
    extracted = () if obsolete else message.auto_comments
    for mark, comments in (("#", message.user_comments), ("#.", extracted)):
        yield from (_comment(mark, line) for comment in comments for line in comment.split("\n"))
    if message.locations and not obsolete:
        line = "#:"
        for filename, lineno in message.locations:
            reference = f"{filename}:{lineno}" if lineno is not None else filename
            if len(line) > 2 and len(line) + len(reference) + 1 > WIDTH:
                yield line
                line = "#:"
            line += f" {reference}"
        yield line
    fuzzy = message.fuzzy and bool(strings[0])
    flags = (["fuzzy"] * fuzzy + [f for f in _FLAG_ORDER if f in message.flags]
             + ["no-wrap"] * ("no-wrap" in message.flags))
    if flags:
        yield "#, " + ", ".join(flags)
    options = {"python_format": "python-format" in message.flags,
               "no_wrap": "no-wrap" in message.flags}
    ids = [message.id] if isinstance(message.id, str) else list(message.id)
    context = previous_context(message)
    previous = [("msgctxt", context)] if message.previous_id and context is not None else []
    previous += zip(("msgid", "msgid_plural"), message.previous_id or (), strict=False)
    for keyword, text in previous:
        yield from wrap(keyword, text, "#~| " if obsolete else "#| ", **options)
    if message.context is not None:
        yield from wrap("msgctxt", message.context, prefix, **options)
    yield from wrap("msgid", ids[0], prefix, **options)
    if len(ids) > 1:
        yield from wrap("msgid_plural", ids[1], prefix, **options)
        forms = strings if any(strings) else []  # an untranslated entry takes nplurals forms
        for index, form in enumerate(forms + [""] * (nplurals - len(forms))):
            yield from wrap(f"msgstr[{index}]", form, prefix, **options)
    else:
        yield from wrap("msgstr", strings[0], prefix, **options)


def plural_count(header: Header) -> int:
    """The header's nplurals (2, gettext's default, when it names none)."""
    match = re.search(r"nplurals\s*=\s*(\d+)", dict(header).get("Plural-Forms", ""))
    return int(match.group(1)) if match else 2


def po_text(catalog: Catalog, header: Header) -> str:
    """The catalog as GNU gettext writes it, with ``header`` as its header entry.

    Obsolete entries without a translation are left out, as GNU leaves them out.
    """
    nplurals = plural_count(header)
    entry = [_comment("#", line.removeprefix("#").removeprefix(" "))
             for line in (catalog.header_comment or "").splitlines()]
    entry += ["#, fuzzy"] * bool(catalog.fuzzy) + ['msgid ""']
    entry += wrap("msgstr", "".join(f"{name}: {value}\n" for name, value in header))
    blocks = ["\n".join(entry)]
    blocks += ["\n".join(_message_lines(m, nplurals)) for m in catalog if m.id]
    blocks += ["\n".join(_message_lines(m, nplurals, obsolete=True))
               for m in catalog.obsolete.values() if message_strings(m)[0]]
    return "\n\n".join(blocks) + "\n"


def po_bytes(catalog: Catalog, header: Header) -> bytes:
    return po_text(catalog, header).encode("utf-8")


_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _unescape(text: str) -> str:
    reverse = {value: key for key, value in _ESCAPES.items()}
    return re.sub(r"\\(.)", lambda m: reverse.get(m.group(1), m.group(1)), text)


def read_header(text: str) -> Header:
    """The header entry's fields of a ``.po`` file's text, in order (empty if it has none)."""
    keyword = None
    strings: dict[str, list[str]] = {"msgid": [], "msgstr": []}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            if keyword == "msgstr":
                break
            continue
        word = None if line.startswith('"') else line.split(" ", 1)[0]
        if word is not None:
            if (keyword, word) not in ((None, "msgid"), ("msgid", "msgstr")):
                break
            keyword = word
        found = _STRING.search(line)
        if keyword is None or not found:
            return ()
        strings[keyword].append(_unescape(found.group(1)))
    if keyword != "msgstr" or "".join(strings["msgid"]):
        return ()
    fields = []
    for line in "".join(strings["msgstr"]).split("\n"):
        name, colon, value = line.partition(":")
        if colon:
            fields.append((name.strip(), value.strip()))
    return tuple(fields)
