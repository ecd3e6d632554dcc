"""gettext catalogs: read ``.po`` files directly and translate by message context.

Builds read the translators' ``.po`` files, not compiled ``.mo`` files, so an edit shows on the
next build with nothing to compile. Fuzzy and obsolete entries never print: a string without a
current translation falls back to English and is recorded, so the build can report it and
``--strict`` can refuse it.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from .checks import Finding, check_messages
from .errors import InputError
from .output import file_sha256
from .pofile import set_previous
from .project import TEMPLATE_DOMAIN
from .rendered import TranslationRecord
from .review import Review, read_review
from .yamlfile import read_text

#: A handout's catalog is tens of KiB; refuse what could only be a mistake or an attack.
MAX_PO_BYTES = 5 * 1024 * 1024

Key = tuple[str | None, str]  # (msgctxt, msgid)


@dataclass(frozen=True)
class MessageCatalog:
    """The current translations of one ``.po`` file."""

    path: Path
    catalog: Catalog
    translations: dict[Key, str | tuple[str, ...]]
    plural: gettext._PluralFunc  # type: ignore[name-defined]
    #: The sign-off recorded in the header, if a reviewer gave one.
    review: Review | None = None


#: A header's date fields, and one Babel can read.
_DATE_FIELD = re.compile(r'^"\s*[\w-]*Date:')
_GOOD_DATE_FIELD = re.compile(r'^"[\w-]+Date: \d{4}-\d{2}-\d{2} \d{2}:\d{2}')
_PO_STRING = r'"(?:[^"\\]|\\.)*"'
_PO_LINE = re.compile(rf"^(?:(msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+)?{_PO_STRING}$")


def _check_po_lines(path: Path, text: str) -> None:
    """Reject what Babel's lenient parser would silently misread.

    Babel accepts an unterminated string (dropping its last character), a bare ``msgstr``, and
    ``msgstr[0]`` without ``msgid_plural``; GNU msgfmt rejects all three, and so do we. It
    also keeps only the last of two entries with the same context and English text, dropping
    a translation without a word; msgfmt calls that a duplicate definition, and so do we.
    """
    if text.startswith("\ufeff"):
        raise InputError.at("the file starts with a byte-order mark (U+FEFF), which gettext's "
                            "tools refuse", path, 1,
                            hint="save it as UTF-8 without a byte-order mark (BOM)")
    plural = False
    entry: dict[str, str] = {}  # the current entry's keyword → its string so far
    current = ""
    seen: dict[tuple[str | None, str], int] = {}
    starts = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _PO_LINE.match(line)
        if not match:
            problem = ("unterminated string" if line.count('"') % 2 or line.endswith('\\"')
                       else 'expected a keyword and a "quoted string"')
            raise InputError.at(f"catalog syntax error: {problem}", path, number,
                                hint='every line is a comment, `keyword "text"` or `"text"`')
        keyword = match.group(1)
        if keyword in ("msgctxt", "msgid") and (not entry or "msgstr" in current):
            entry, starts = {}, number  # a new entry begins
        if keyword:
            current = keyword
        entry[current] = entry.get(current, "") + line[line.index('"'):]
        if keyword and keyword.startswith("msgstr") and "msgid" in entry and not any(
                name.startswith("msgstr") for name in entry if name != keyword):
            key = (entry.get("msgctxt"), entry["msgid"])
            if key in seen and key[1] != '""':
                raise InputError.at(
                    f"duplicate entry: the same msgctxt and msgid as the entry on line "
                    f"{seen[key]} (a translation would be lost)", path, starts,
                    hint="keep one of the two entries (msgfmt calls this a duplicate "
                         "message definition)")
            seen.setdefault(key, starts)
        if keyword == "msgid":
            plural = False
        elif keyword == "msgid_plural":
            plural = True
        elif keyword and keyword.startswith("msgstr") and (keyword != "msgstr") != plural:
            expected = "msgstr[N]" if plural else "msgstr"
            raise InputError.at(f"catalog syntax error: {keyword} where {expected} belongs",
                                path, number,
                                hint="plural entries (msgid_plural) take msgstr[0], msgstr[1], …")


def parse_po(path: Path, text: str | None = None) -> Catalog:
    """Parse a ``.po`` file, reporting a syntax error with its file and line."""
    if text is None:
        text = read_text(path, MAX_PO_BYTES, "catalog")
    _check_po_lines(path, text)
    try:
        return _with_previous(_with_written_flags(
            read_po(io.StringIO(text), abort_invalid=True), text.splitlines()))
    except PoFileError as exc:
        message = str(exc).rsplit(" on ", 1)[0]
        if "num_plurals" in message or "invalid literal for int()" in message:
            raise InputError.at(
                "plural forms: this entry's msgstr[N] and the header's Plural-Forms (nplurals="
                "N) do not agree", path, exc.lineno + 1,
                hint="nplurals is a number and each plural entry has that many msgstr[…]; "
                     "`handout i18n init` writes gettext's rule for a language") from None
        raise InputError.at(f"catalog syntax error: {message}", path, exc.lineno + 1,
                            hint="fix the quoting or keyword on this line") from None
    except AttributeError:  # Babel's header parser, on a date field it cannot read
        line = next((number for number, row in enumerate(text.splitlines(), 1)
                     if _DATE_FIELD.match(row) and not _GOOD_DATE_FIELD.match(row)), None)
        raise InputError.at("catalog header: a date field is not `YYYY-MM-DD HH:MM+ZZZZ` at "
                            "the start of its line", path, line,
                            hint='e.g. "PO-Revision-Date: 2026-12-07 10:00+0000\\n", with no '
                                 "space before the field's name") from None
    except (ValueError, SyntaxError, LookupError) as exc:
        raise InputError.at(f"catalog error: {exc}", path,
                            hint="check the header (Plural-Forms, Content-Type charset)") from None


def _with_written_flags(catalog: Catalog, lines: list[str]) -> Catalog:
    """Babel flags every msgid with a ``%(name)s`` as python-format, written or not; msgmerge
    keeps an obsolete entry's flags as the file has them, so take them from the file."""
    for message in [*catalog, *catalog.obsolete.values()]:
        if not message.id or not message.lineno:
            continue
        flags: set[str] = set()
        index = message.lineno - 2  # the line above msgid, counting from 0
        while index >= 0 and lines[index].startswith(("#", "msgctxt", '"')):
            if lines[index].startswith("#,"):
                flags.update(flag.strip() for flag in lines[index][2:].split(","))
            index -= 1
        message.flags = flags - {""}
    return catalog


def _with_previous(catalog: Catalog) -> Catalog:
    """Babel reads ``#| msgid "…"`` (the English a fuzzy entry was translated from, which
    Poedit and Weblate show as a diff) as a translator comment, and would write it back as
    ``# | msgid``: take it back out as the previous msgid. Only a fuzzy entry keeps one, as
    with msgmerge."""
    from babel.messages.pofile import unescape

    for message in [*catalog, *catalog.obsolete.values()]:
        previous = [c for c in message.user_comments if c.startswith("|")]
        if not previous:
            continue
        message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
        fields: dict[str, str] = {}
        keyword = ""
        for line in (c[1:].strip() for c in previous):
            if line.startswith('"'):
                fields[keyword] = fields.get(keyword, "") + unescape(line)
            else:
                keyword, _, value = line.partition(" ")
                fields[keyword] = unescape(value.strip()) if value.strip() else ""
        if message.fuzzy and fields.get("msgid"):
            set_previous(message, fields.get("msgctxt"), [fields["msgid"]] + (
                [fields["msgid_plural"]] if "msgid_plural" in fields else []))
    return catalog


#: Each catalog file's latest parse and the hash of what was parsed: one entry per file, so
#: every catalog of a project of any size stays parsed.
_parsed: dict[Path, tuple[str, MessageCatalog]] = {}


def load_catalog(path: Path) -> MessageCatalog:
    """The catalog at ``path``, parsed once per process while the file stays the same."""
    known = _parsed.get(path)
    try:
        if known is not None and known[0] == file_sha256(path):
            return known[1]
    except OSError:
        pass  # gone or unreadable: read_text says which
    text = read_text(path, MAX_PO_BYTES, "catalog")
    return catalog_from(path, text, parse_po(path, text))


def catalog_from(path: Path, text: str, catalog: Catalog,
                 findings: list[Finding] | None = None) -> MessageCatalog:
    """What a build reads of ``catalog`` (parsed from ``text``), or the
    :class:`InputError` a build would stop on; ``findings``: its messages' checks, where the
    caller already ran them. It is kept as :func:`load_catalog`'s parse of ``path`` while the
    file holds ``text``: `i18n status` checks a catalog, then reads its review, from one parse."""
    if findings is None:
        findings = check_messages(catalog, path)
    blocking = [f.problem for f in findings if f.blocks_build]
    if blocking:
        raise InputError(blocking)
    translations: dict[Key, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = tuple(message.string or ())
            if len(forms) == catalog.num_plurals and all(forms):
                translations[(message.context, message.id[0])] = forms
        elif isinstance(message.string, str) and message.string:
            translations[(message.context, str(message.id))] = message.string
    plural = _plural_function(catalog, path, text)
    made = MessageCatalog(path, catalog, translations, plural, read_review(text))
    _parsed[path] = (hashlib.sha256(text.encode()).hexdigest(), made)
    return made


def plural_forms_line(text: str) -> int | None:
    """The line of a catalog's ``Plural-Forms`` header, which its errors point at."""
    return next((i for i, row in enumerate(text.splitlines(), 1) if "Plural-Forms:" in row),
                None)


def _plural_function(catalog: Catalog, path: Path, text: str
                     ) -> gettext._PluralFunc:  # type: ignore[name-defined]
    """The catalog's plural rule, checked to pick an existing form for every count."""
    line = plural_forms_line(text)
    hint = "copy the Plural-Forms line for this language from the gettext manual"
    try:
        plural = gettext.c2py(catalog.plural_expr)
        forms = {int(plural(n)) for n in range(1001)}
    except (ValueError, ArithmeticError, RecursionError):
        raise InputError.at(f"invalid Plural-Forms expression {catalog.plural_expr!r}", path,
                            line, hint=hint) from None
    if not forms <= set(range(catalog.num_plurals)):
        raise InputError.at(
            f"Plural-Forms picks form {max(forms)} but nplurals={catalog.num_plurals}", path,
            line, hint=hint)
    return plural


Translation = str | tuple[str, ...]


@dataclass(frozen=True)
class Lookup:
    """One string a document prints, and its translation (``None``: printed in English)."""

    domain: str
    context: str | None
    msgid: str
    translation: Translation | None

    @property
    def id(self) -> str:
        """``domain:context``; the template's words share contexts, so theirs adds the text."""
        if self.domain == TEMPLATE_DOMAIN:
            return f'{self.domain}:{self.context}:"{self.msgid}"'
        return f"{self.domain}:{self.context}"


@dataclass
class Translator:
    """Looks strings up in one language's catalogs, noting every lookup and what it gave.

    Each document (and each rendering of a template) gets its own: the lookups become that
    document's immutable :class:`TranslationRecord`.
    """

    lang: str
    catalogs: dict[str, MessageCatalog]
    #: The source language prints the English text itself: nothing is a fallback.
    source: bool = False
    lookups: dict[tuple[str, str | None, str], Translation | None] = field(default_factory=dict)

    def pgettext(self, domain: str, context: str | None, msgid: str) -> str:
        found = self._lookup(domain, context, msgid)
        if isinstance(found, str):
            return found
        return msgid

    def npgettext(self, domain: str, context: str | None, singular: str, plural: str,
                  n: int) -> str:
        found = self._lookup(domain, context, singular)
        if isinstance(found, tuple):
            return found[int(self.catalogs[domain].plural(n))]
        return singular if n == 1 else plural

    def is_fallback(self, domain: str, context: str | None, msgid: str) -> bool:
        return not self.source and self.lookups.get((domain, context, msgid)) is None

    def _lookup(self, domain: str, context: str | None, msgid: str) -> Translation | None:
        catalog = self.catalogs.get(domain)
        found = catalog.translations.get((context, msgid)) if catalog else None
        if not self.source:
            self.lookups[(domain, context, msgid)] = found
        return found

    def recorded(self) -> tuple[Lookup, ...]:
        return tuple(Lookup(*key, value) for key, value in self.lookups.items())


def translation_record(lang: str, lookups: tuple[Lookup, ...],
                       catalogs: dict[str, MessageCatalog], source: bool) -> TranslationRecord:
    """The record of a document that made ``lookups`` (each string counted once)."""
    unique = {lookup.id + "\x00" + lookup.msgid: lookup for lookup in lookups}.values()
    if source:
        return TranslationRecord(lang, "source", len(unique), ())
    fallbacks = tuple(dict.fromkeys(lk.id for lk in unique if lk.translation is None))
    reviews: dict[str, Review] = {}
    unreviewed = []
    for lookup in unique:
        if lookup.translation is None:
            continue
        review = catalogs[lookup.domain].review
        if review and review.covers(lookup.context, lookup.msgid, lookup.translation):
            reviews[lookup.domain] = review
        else:
            unreviewed.append(lookup.id)
    if fallbacks or unreviewed or not reviews:
        return TranslationRecord(lang, "draft", len(unique), fallbacks, tuple(unreviewed))
    names = ", ".join(dict.fromkeys(r.by for r in reviews.values()))
    return TranslationRecord(lang, "reviewed", len(unique), (), (), names,
                             max(r.on for r in reviews.values()))
