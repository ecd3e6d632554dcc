"""Facts about languages and papers, in one place: script, direction, fonts, measure, dates.

What CLDR knows (a language's script, direction, own name, month names) comes from Babel;
what it does not (which installed fonts draw a script, whether the script has italics, which
readability measure is valid for the language) is one entry per script or language below.
A language whose script has no entry still works: the installed Noto family named for its
script, or the family fontconfig picks for the language, and the labelled, provisional
sentence-length measure counted in words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from .errors import InputError

#: Paper name → CSS page size. Adding a paper is one entry here.
PAPERS: dict[str, str] = {"a4": "A4", "letter": "Letter"}


@dataclass(frozen=True)
class ScriptFacts:
    #: CSS font stack: the script's own Noto family first, so fontconfig picks right forms.
    fonts: str
    #: Whether the script has real italic faces; without them the renderer would slant glyphs.
    italics: bool = True
    #: The readability unit when the language has no validated formula (see readability.py).
    unit: str = "words"
    #: What ends a sentence the page completes (a help line's hours): none in Thai, which
    #: ends a phrase with a space; the ideographic full stop in Chinese and Japanese.
    full_stop: str = "."


_LATIN = ScriptFacts('"Noto Sans", "DejaVu Sans", sans-serif')
SCRIPTS: dict[str, ScriptFacts] = {
    "Latn": _LATIN,
    "Cyrl": _LATIN,
    "Grek": _LATIN,
    "Thai": ScriptFacts('"Noto Sans Thai", "Noto Sans", sans-serif', italics=False,
                        unit="phrase-characters", full_stop=""),
    "Hans": ScriptFacts('"Noto Sans CJK SC", "Noto Sans", sans-serif', italics=False,
                        unit="characters", full_stop="。"),
    "Hant": ScriptFacts('"Noto Sans CJK TC", "Noto Sans", sans-serif', italics=False,
                        unit="characters", full_stop="。"),
    "Arab": ScriptFacts('"Noto Sans Arabic", "Noto Naskh Arabic", "Noto Sans", sans-serif',
                        italics=False),
    "Jpan": ScriptFacts('"Noto Sans CJK JP", "Noto Sans", sans-serif', italics=False,
                        unit="characters", full_stop="。"),
    "Kore": ScriptFacts('"Noto Sans CJK KR", "Noto Sans", sans-serif', italics=False),
}

#: Scripts with no entry above that do not space their words apart: sentences are measured
#: in characters between spaces, as Thai's are.
_UNSPACED = frozenset(("Laoo", "Khmr", "Mymr", "Tibt"))


@cache
def script_facts(script: str, lang: str) -> ScriptFacts:
    """The entry for ``script``, or one made for a script without an entry: the installed
    Noto family named for the script (Noto Sans Devanagari, Noto Sans Ethiopic) or else the
    family fontconfig picks for ``lang`` (its orthographies cover some 250 languages), then
    Noto Sans for the Latin text every page holds (URLs, sources). No faux italics."""
    if script in SCRIPTS:
        return SCRIPTS[script]
    from .fonts import family_for_language, installed_font

    named = f"Noto Sans {Locale('en').scripts.get(script, script)}"
    family = named if installed_font(named) else family_for_language(lang)
    stack = dict.fromkeys(filter(None, (family, "Noto Sans", "DejaVu Sans")))
    return ScriptFacts(", ".join(f'"{name}"' for name in stack) + ", sans-serif",
                       italics=False, unit="phrase-characters" if script in _UNSPACED else "words")


#: Languages whose readability has a validated formula here (readability.py), or whose
#: script's default unit is wrong for them (Vietnamese spaces syllables, not words).
MEASURES: dict[str, str] = {"en": "english", "es": "spanish", "vi": "syllables"}


#: Languages whose word-frequency list (the ``wordfreq`` package) splits words at spaces and
#: punctuation, as our word counts do: the health-literacy check's complex words and lexical
#: density. Chinese, Japanese, Korean and Thai need extra tokenisers wordfreq does not ship,
#: so they are "not measured".
FREQUENCY_LISTS = frozenset((
    "ar", "bg", "bn", "bs", "ca", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fil", "fr",
    "he", "hi", "hr", "hu", "id", "is", "it", "lt", "lv", "mk", "ms", "nb", "nl", "pl", "pt",
    "ro", "ru", "sk", "sl", "sr", "sv", "ta", "tr", "uk", "ur", "vi"))


def frequency_list(lang: str) -> str | None:
    """The wordfreq list for ``lang`` (by its base language), or None where there is none."""
    base = lang.replace("-", "_").split("_")[0].lower()
    return base if base in FREQUENCY_LISTS else None


@dataclass(frozen=True)
class DateStyle:
    """How a leaflet writes a date: a CLDR pattern, and the era's year offset."""

    pattern: str = "long"
    #: Added to the Gregorian year (543 for the Thai Buddhist era), printed with ``era``.
    year_offset: int = 0
    era: str = ""
    #: The pattern where space is short (the one-line footer): CLDR's medium format.
    short: str = "medium"


#: Dates a language's readers expect where CLDR's long format is not it.
DATE_STYLES: dict[str, DateStyle] = {
    # Thai readers count years in the Buddhist era: 28 พฤศจิกายน พ.ศ. 2569.
    "th": DateStyle("d MMMM", 543, "พ.ศ.", short="d MMM"),
    # "ngày 1 tháng 2 năm 2022", not CLDR's "1 tháng 2, 2022"; short, "1/2/2022".
    "vi": DateStyle("'ngày' d 'tháng' M 'năm' y", short="d/M/y"),
}


def text_direction(text: str) -> str:
    """``rtl`` or ``ltr``: the direction of ``text``'s first letter of a strong direction, as
    the Unicode bidi rules take a paragraph's (a name in Arabic is read right to left on any
    page); ``ltr`` for a text of digits and punctuation only."""
    import unicodedata

    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


@dataclass(frozen=True)
class Language:
    """Everything the pipeline needs to know about one language."""

    code: str          # our catalog folder name, e.g. ``zh_Hans``
    html_lang: str     # BCP 47 tag for ``<html lang>``, e.g. ``zh-CN``
    direction: str     # ``ltr`` or ``rtl``
    name: str          # the language's name in itself, e.g. "العربية"
    locale: Locale
    script: str        # ISO 15924 code, e.g. ``Thai``
    #: ``english``, ``spanish`` (validated formulas) or a unit for sentence length:
    #: ``words``, ``syllables``, ``characters``, ``phrase-characters``.
    measure: str
    date_style: DateStyle

    @property
    def fonts(self) -> str:
        return script_facts(self.script, self.locale.language).fonts

    @property
    def italics(self) -> bool:
        return script_facts(self.script, self.locale.language).italics

    @property
    def full_stop(self) -> str:
        return script_facts(self.script, self.locale.language).full_stop

    def format_date(self, date: dt.date, short: bool = False) -> str:
        """``date`` as the language's readers write it (``short``: where space is tight)."""
        from babel.dates import format_date  # only where a page is made: a no-op prints none

        style = self.date_style
        text = format_date(date, style.short if short else style.pattern, locale=self.locale)
        if style.year_offset:
            text = f"{text} {style.era} {date.year + style.year_offset}"
        return text


@cache
def canonical_locale(name: str) -> str | None:
    """The one code handoutkit uses for a locale however a folder or a platform writes it
    (``pt-BR`` and ``pt_BR`` → ``pt_BR``; ``zh-CN``, ``zh_Hans``, ``zh-Hans`` → ``zh_Hans``),
    or ``None`` for a name Babel does not know. File names and the manifest use it; HTML and
    PDFs use the BCP 47 tag (``Language.html_lang``)."""
    try:
        locale = Locale.parse(name.replace("-", "_"))
    except (ValueError, LookupError, UnknownLocaleError):
        return None
    if locale.language == "zh":  # Chinese is written in a script, whichever the country
        likely = _likely_subtags(locale)
        script = locale.script or (likely[1] if len(likely) == 3 else "Hans")
        return f"zh_{script}"
    return str(locale)


def closest_language(asked: str, available: Sequence[str]) -> str | None:
    """The language of ``available`` a code from elsewhere names (a record system's, a
    browser's, a link's): ``sp`` (MedlinePlus Connect's Spanish), ISO 639-1 or -2 (``es``,
    ``spa``), BCP 47 (``es-MX`` finds ``es``, ``zh-CN`` ``zh_Hans``; ``zh-TW`` never finds
    ``zh_Hans``, as its script differs), or ``None``."""
    code = asked.strip().replace("_", "-")
    if code.lower() == "sp":
        code = "es"
    aliases: Mapping[str, str] = get_global("language_aliases")
    code = aliases.get(code.lower(), code)
    canonical = canonical_locale(code) if code else None
    for candidate in filter(None, (canonical, canonical and canonical.split("_")[0])):
        if candidate in available:
            return candidate
    return None


def bcp47(code: str) -> str:
    """The BCP 47 spelling of a canonical code, as Pontoon and Crowdin name folders."""
    return code.replace("_", "-")


@cache
def language(code: str) -> Language:
    """The facts about the language of catalog folder ``code`` (``es``, ``zh_Hans``)."""
    try:
        locale = Locale.parse(code)
    except (ValueError, LookupError, UnknownLocaleError):
        raise InputError.at(
            f"{code!r} is not a language Babel knows",
            hint="name catalog folders by locale code, such as es, th or zh_Hans") from None
    likely = _likely_subtags(locale)
    script = locale.script or (likely[1] if len(likely) == 3 else "Latn")
    tag = locale.language
    if locale.script:
        # A bare "zh" or "zh-Hans" makes Pango pick Japanese glyph forms; name the region
        # the script implies (zh_Hans → zh-CN) as browsers and fonts expect.
        territory = likely[-1] if len(likely) == 3 else None
        tag = f"{tag}-{territory}" if territory else f"{tag}-{locale.script}"
    elif locale.territory:
        tag = f"{tag}-{locale.territory}"
    direction = "rtl" if locale.text_direction == "rtl" else "ltr"
    measure = MEASURES.get(locale.language) or script_facts(script, locale.language).unit
    return Language(code, tag, direction, locale.get_display_name(locale) or code, locale,
                    script, measure, DATE_STYLES.get(locale.language) or _date_style(locale))


#: Dates for a language whose month names CLDR lacks (it would print "2026 M12 7"): day,
#: month and year in numbers, which need no names.
NUMERIC_DATES = DateStyle("d.M.y", short="d.M.y")


def _date_style(locale: Locale) -> DateStyle:
    months = locale.months.get("format", {}).get("wide", {})
    named = months and not str(months.get(12, "")).startswith("M")
    return DateStyle() if named else NUMERIC_DATES


def _likely_subtags(locale: Locale) -> list[str]:
    """CLDR's likely ``language_Script_TERRITORY`` for ``locale``, split."""
    subtags = get_global("likely_subtags")
    key = f"{locale.language}_{locale.script}" if locale.script else locale.language
    return str(subtags.get(key) or subtags.get(locale.language, "")).split("_")
