"""The translator's workflow: regenerate templates, start and update catalogs, report
coverage, check translations, and compile ``.mo`` files for other tools.

``.po`` files are rewritten atomically, and ``update`` never drops a translation: a string whose
English text changed keeps its translation marked fuzzy (so it stops printing until a
translator confirms it), and a string that left the source is kept as an obsolete ``#~`` entry.
Every catalog is written as GNU gettext writes it (:mod:`.pofile`), and ``update`` merges as
``msgmerge`` does, so neither gettext's tools nor a translation platform rewrites a line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural

from .catalog import MAX_PO_BYTES, catalog_from, load_catalog, parse_po, plural_forms_line
from .checks import Finding, check_messages
from .errors import InputError, Problem
from .extract import DATE_FORMAT, template_header, templates
from .merge import merge
from .output import write_atomic
from .pofile import Header, plural_count, po_bytes, read_header, singular_id
from .project import (
    BUILTIN_LOCALES,
    REGIONS_DOMAIN,
    SOURCE_LANGUAGE,
    TEMPLATE_DOMAIN,
    Project,
)
from .review import Review, fingerprint, read_review, with_review
from .theme import TEMPLATE_NAME
from .yamlfile import read_text

if TYPE_CHECKING:
    from .glossary import Term

_SLAVIC = ("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
           "(n%100<10 || n%100>=20) ? 1 : 2);")
#: Plural rules as gettext's tools write them: msginit's table (the gettext manual's rules),
#: and the manual's Arabic rule, which Weblate writes too. CLDR (Babel) gives some of these
#: languages a form for millions or for fractions that gettext and Weblate do not use (Spanish:
#: 3 forms instead of 2); for every other language Babel's CLDR rule is used, where CLDR,
#: msginit and Weblate agree (one form for Chinese, Indonesian, Malay, Thai).
GETTEXT_PLURALS = {
    **dict.fromkeys(("ja", "vi", "ko", "th"), "nplurals=1; plural=0;"),
    **dict.fromkeys(("en", "de", "nl", "sv", "da", "no", "nb", "nn", "fo", "es", "pt", "it",
                     "bg", "el", "fi", "et", "he", "eo", "hu", "tr", "ca"),
                    "nplurals=2; plural=(n != 1);"),
    **dict.fromkeys(("pt_BR", "fr"), "nplurals=2; plural=(n > 1);"),
    "lv": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n != 0 ? 1 : 2);",
    "ga": "nplurals=3; plural=n==1 ? 0 : n==2 ? 1 : 2;",
    "ro": "nplurals=3; plural=n==1 ? 0 : (n==0 || (n%100 > 0 && n%100 < 20)) ? 1 : 2;",
    "lt": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && (n%100<10 || n%100>=20) "
          "? 1 : 2);",
    **dict.fromkeys(("ru", "uk", "be", "sr", "hr"), _SLAVIC),
    **dict.fromkeys(("cs", "sk"), "nplurals=3; plural=(n==1) ? 0 : (n>=2 && n<=4) ? 1 : 2;"),
    "pl": "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : "
          "2);",
    "sl": "nplurals=4; plural=(n%100==1 ? 0 : n%100==2 ? 1 : n%100==3 || n%100==4 ? 2 : 3);",
    "ar": "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
          "n%100>=11 ? 4 : 5;",
}


def plural_forms(lang: str) -> str:
    """The ``Plural-Forms`` rule gettext's tools write for ``lang`` (a Babel locale code)."""
    locale = Locale.parse(lang)
    known = GETTEXT_PLURALS.get(str(locale)) or GETTEXT_PLURALS.get(locale.language)
    if known:
        return known
    if not locale.plural_form.rules:  # CLDR has "other" only (Haitian Creole): one form,
        return "nplurals=1; plural=0;"  # never Babel's two-form default
    plural = get_plural(locale)
    return f"nplurals={plural.num_plurals}; plural={plural.plural_expr};"


def write_templates(project: Project) -> list[Path]:
    """Write one ``.pot`` per domain under ``locales/``; return the paths that changed.

    The theme's words get a template in the project too (``locales/handoutkit.pot``), even
    when the theme comes from an installed package: translation platforms see only the
    project's files, and the page's own words are strings to translate like any other.
    """
    written = []
    for domain, catalog in templates(project).items():
        path = project.template_path(domain)
        if not path.is_relative_to(project.root):
            path = project.locales_dir / path.name
        changed = _write_if_changed(project, path,
                                    po_bytes(catalog, template_header(catalog)))
        if changed:
            written.append(changed)
    return written


def _write_if_changed(project: Project, path: Path, data: bytes) -> Path | None:
    """Write only a change, and only into the project (an installed theme's catalog is
    copied in first: see ``Project.writable``); the path written, or ``None``."""
    if path.is_file() and path.read_bytes() == data:
        return None
    written = project.writable(path)
    _write_catalog(written, data)
    return written


def _write_catalog(path: Path, data: bytes) -> None:
    """Write a catalog no larger than every command reads: one a merge grew past the limit
    would be refused by every command after it."""
    if len(data) > MAX_PO_BYTES:
        raise InputError.at(f"the merged catalog would be {len(data):,} bytes, over the "
                            f"limit of {MAX_PO_BYTES:,} bytes every command reads", path,
                            hint="remove obsolete (#~) entries, or split the topic") from None
    write_atomic(path, data)


def init_language(project: Project, lang: str, topic: str | None = None) -> list[Path]:
    """Start a language's catalogs (all, or one topic's plus the shared ones it needs).

    Catalogs that exist already are left alone, so adding a language to a new topic works
    the same as starting a language.
    """
    from .languages import canonical_locale

    typed, code = lang, canonical_locale(lang)
    if code is None:
        raise InputError.at(f"{lang!r} is not a locale Babel knows",
                            hint="use a code such as es, th, pt_BR, pt-BR or zh_Hans") from None
    lang = code
    if lang == SOURCE_LANGUAGE:
        raise InputError.at(f"{lang!r} is the source language; it needs no catalog")
    if topic is not None and topic not in project.handout_ids():
        raise InputError.at(f"unknown handout {topic!r}; handouts: "
                            f"{', '.join(project.handout_ids()) or 'none'}")
    wanted = None if topic is None else {topic, TEMPLATE_DOMAIN, REGIONS_DOMAIN}
    folder = project.locale_folders().get(lang) or project.locales_dir / _folder_name(
        project, lang, typed)
    written = []
    for domain, template in templates(project).items():
        path = folder / "LC_MESSAGES" / f"{domain}.po"
        # The theme's words are read from the package's translation while the project has
        # none of its own: starting a language the theme speaks adds no empty copy.
        if (wanted is None or domain in wanted) and not project.catalog_path(
                lang, domain).exists():
            write_atomic(path, _new_language_catalog(lang, domain, template))
            written.append(path)
    if not written:
        raise InputError.at(f"every {lang} catalog{' for ' + topic if topic else ''} exists "
                            "already", folder,
                            hint="use `handout i18n update` to merge new strings into them")
    return written


def _folder_name(project: Project, lang: str, typed: str) -> str:
    """A new language's folder, in the style of the project's folders: POSIX (``pt_BR``) or
    BCP 47 (``pt-BR``, as Pontoon and Crowdin name them). With no folder that shows a style,
    or both styles present, ``[i18n] folder_style`` decides (POSIX by default)."""
    from .languages import bcp47
    from .plan import read_settings

    styles = {"bcp47" if "-" in folder.name else "posix"
              for folder in project.locale_folders().values()
              if "-" in folder.name or "_" in folder.name}
    style = styles.pop() if len(styles) == 1 else read_settings(project).i18n.folder_style
    if style == "posix":
        return lang
    return typed if "-" in typed else bcp47(lang)


#: A reviewer's name, as printed in the footer.
MAX_REVIEWER = 80


def review_catalogs(project: Project, lang: str, by: str, on: dt.date,
                    topic: str | None = None) -> list[tuple[Path, int]]:
    """Record a reviewer's sign-off of every current translation in ``lang``'s catalogs.

    Each catalog's header gets the reviewer, the date and a fingerprint of each entry signed
    off; only translated, non-fuzzy entries are covered. Returns each file and its count.
    """
    lang = project.canonical(lang)
    from .plan import printed_name

    printed_name("--by", by, MAX_REVIEWER)
    if any(char in by for char in "\"\\"):  # kept in the header's quoted string
        raise InputError.at(f"reviewer name {by!r} has a quote or backslash",
                            hint='pass --by "First Last"')
    if on > dt.date.today():
        raise InputError.at(f"review date {on.isoformat()} is in the future",
                            hint="a sign-off records a review that happened: pass --date for "
                                 "a past day, or leave it out for today")
    if topic is not None and topic not in project.handout_ids():
        raise InputError.at(f"unknown handout {topic!r}; handouts: "
                            f"{', '.join(project.handout_ids()) or 'none'}")
    # A topic's sign-off covers what its documents print: its own catalog, and the page's
    # and the regions' words (the theme's desk and preview words are no handout's).
    topics = [topic] if topic else project.handout_ids()
    domains = [*topics, TEMPLATE_DOMAIN, REGIONS_DOMAIN]
    paths = {d: project.catalog_path(lang, d) for d in domains
             if project.catalog_path(lang, d).exists()}
    if not paths.keys() - {TEMPLATE_DOMAIN, REGIONS_DOMAIN}:
        raise InputError.at(f"no {lang} catalog{' of ' + topic if topic else ''} to review",
                            project.locale_folder(lang),
                            hint=f"start one with `handout i18n init {lang}"
                                 f"{' --topic ' + topic if topic else ''}`")
    # Which of the theme's words a handout page prints (not the desk's or the preview's):
    # only a topic's sign-off needs to know, and finding out extracts the templates.
    page_words = {(m.context, m.id) for m in templates(project)[TEMPLATE_DOMAIN]
                  if any(TEMPLATE_NAME in str(file) for file, _ in m.locations)} if topic else set()
    done = []
    for domain, path in paths.items():
        catalog = load_catalog(path)
        entries = frozenset(fingerprint(context, msgid, translation)
                            for (context, msgid), translation in catalog.translations.items()
                            if domain != TEMPLATE_DOMAIN or topic is None
                            or (context, msgid) in page_words)
        text = read_text(path, MAX_PO_BYTES, "catalog")
        earlier = read_review(text)
        if topic and domain in (TEMPLATE_DOMAIN, REGIONS_DOMAIN) and earlier:
            entries |= earlier.entries  # what an earlier sign-off covered stays covered
        header = with_review(read_header(text), Review(by.strip(), on, entries))
        target = project.writable(path)
        _write_catalog(target, po_bytes(catalog.catalog, header))
        done.append((target, len(entries)))
    return done


def _new_language_catalog(lang: str, domain: str, template: Catalog) -> bytes:
    """A new catalog as msginit writes one: the template's entries, the language's plural
    rule, and revised now (not when the template was made: translators' tools show it)."""
    catalog = Catalog(locale=Locale.parse(lang), domain=domain,
                      header_comment=template.header_comment, fuzzy=False)
    catalog.update(template, no_fuzzy_matching=True)
    fields = dict(template_header(template))
    header: Header = (
        *[(name, fields[name]) for name in ("Project-Id-Version", "Report-Msgid-Bugs-To",
                                            "POT-Creation-Date")],
        ("PO-Revision-Date", dt.datetime.now(dt.UTC).strftime(DATE_FORMAT)),
        ("Last-Translator", fields["Last-Translator"]),
        ("Language-Team", f"{lang} <LL@li.org>"), ("Language", lang),
        *[(name, fields[name]) for name in ("MIME-Version", "Content-Type",
                                            "Content-Transfer-Encoding")],
        ("Plural-Forms", plural_forms(lang)))
    return po_bytes(catalog, header)


@dataclass
class UpdateResult:
    #: The catalog, as reports name it (``Project.label``).
    path: str
    added: int = 0
    now_fuzzy: list[str] = field(default_factory=list)
    obsoleted: int = 0


def update_catalogs(project: Project, langs: list[str] | None = None) -> list[UpdateResult]:
    """Merge the current templates into every language's catalogs."""
    langs = [project.canonical(lang) for lang in langs] if langs else None
    fresh = templates(project)
    results = []
    for lang in langs or project.languages()[1:]:
        for domain, template in fresh.items():
            path = project.catalog_path(lang, domain)
            if not path.exists() and domain not in (TEMPLATE_DOMAIN, REGIONS_DOMAIN):
                continue  # a topic joins a language by `i18n init LANG --topic ID` only
            if not path.exists():  # a shared domain added since the language started
                write_atomic(path, _new_language_catalog(lang, domain, template))
                results.append(UpdateResult(project.label(path), added=len(template)))
            else:
                results.append(_update_one(project, path, template))
    return results


def _update_one(project: Project, path: Path, template: Catalog) -> UpdateResult:
    text = read_text(path, MAX_PO_BYTES, "catalog")
    own = read_header(text)
    merged = merge(parse_po(path, text), template, plural_count(own))
    result = UpdateResult(project.label(path), added=len(merged.added),
                          now_fuzzy=list(merged.now_fuzzy), obsoleted=merged.obsoleted)
    written = _write_if_changed(project, path,
                                po_bytes(merged.catalog, _merged_header(own, template)))
    return replace(result, path=project.label(written)) if written else result


#: The header fields msgmerge knows, in the order it writes them; it writes the others after
#: them (Plural-Forms, a reviewer's sign-off, a platform's fields) as they were.
_KNOWN_FIELDS = ("Project-Id-Version", "Report-Msgid-Bugs-To", "POT-Creation-Date",
                 "PO-Revision-Date", "Last-Translator", "Language-Team", "Language",
                 "MIME-Version", "Content-Type", "Content-Transfer-Encoding")
#: The header fields msgmerge takes from the template.
_FROM_TEMPLATE = ("Report-Msgid-Bugs-To", "POT-Creation-Date")


def _merged_header(own: Header, template: Catalog) -> Header:
    """The catalog's own header as msgmerge merges it with the template's."""
    fields = dict(own) | {name: value for name, value in template_header(template)
                          if name in _FROM_TEMPLATE}
    if "Content-Type" in fields:  # msgmerge writes the charset by its canonical name
        fields["Content-Type"] = re.sub(r"charset=utf-?8\b", "charset=UTF-8",
                                        fields["Content-Type"], flags=re.IGNORECASE)
    return (*[(name, fields[name]) for name in _KNOWN_FIELDS if name in fields],
            *[(name, value) for name, value in own if name not in _KNOWN_FIELDS])


def _key(message: Message) -> tuple[str | None, str]:
    return message.context, singular_id(message)


def check_catalog(path: Path, terms: tuple[Term, ...] = (), lang: str = "") -> list[Finding]:
    """Every problem in one ``.po`` file that would break or mislead a build, and where its
    translations leave a term of ``lang`` in the glossary ``terms``.

    A syntax error raises :class:`InputError`; a bad Plural-Forms rule is found by reading
    the catalog as a build would. The file is read and parsed once for all of it.
    """
    text = read_text(path, MAX_PO_BYTES, "catalog")
    catalog = parse_po(path, text)
    checked = check_messages(catalog, path)
    findings = [*(_glossary_findings(terms, lang, catalog, path) if terms else []), *checked,
                *_plural_rule_findings(lang, catalog, path, text)]
    if not any(f.blocks_build for f in findings):
        try:
            catalog_from(path, text, catalog, checked)
        except InputError as exc:
            findings += [Finding(p, True) for p in exc.problems]
    return findings


def _plural_rule_findings(lang: str, catalog: Catalog, path: Path, text: str
                          ) -> list[Finding]:
    """A Plural-Forms with another number of forms than gettext's rule for the language
    (Russian's three, written as English's two): every plural prints a wrong form. It fails
    the check (a CI job); a build, which cannot know better, still prints."""
    if not lang:
        return []
    try:
        expected = plural_forms(lang)
    except (ValueError, LookupError):
        return []
    forms = int(re.search(r"nplurals=(\d+)", expected)[1])  # type: ignore[index]
    if catalog.num_plurals == forms:
        return []
    return [Finding(Problem(
        f"Plural-Forms gives {lang} {catalog.num_plurals} plural form(s); gettext's rule "
        f"for it has {forms}", path, plural_forms_line(text),
        hint=f"write Plural-Forms: {expected}"), False)]


def _glossary_findings(terms: tuple[Term, ...], lang: str, catalog: Catalog, path: Path
                       ) -> list[Finding]:
    from .glossary import glossary_problems

    findings = []
    for message in catalog:
        if message.id and isinstance(message.string, str) and message.string:
            for text, error in glossary_problems(terms, lang, str(message.id), message.string):
                # The glossary is the check's, not the build's: an error here fails
                # `i18n check` (a CI job), never a build.
                findings.append(Finding(Problem(
                    f"msgctxt {message.context!r}: {text}", path, message.lineno,
                    "keep the term, or change the glossary" if error else
                    "use the project's word, or change the glossary"), False,
                    advice=not error))
    return findings


def check_project(project: Project, langs: list[str] | None = None) -> list[Finding]:
    """Every catalog problem of ``langs`` (all languages by default)."""
    from .glossary import GLOSSARY_FILE, load_glossary

    langs = [project.canonical(lang) for lang in langs] if langs else None
    # Two folders for one language (a platform wrote pt-BR beside pt_BR): one is never read.
    findings = [Finding(problem, False) for problem in project.shadowed_locale_folders()
                if langs is None or (problem.file is not None
                                     and project.canonical(problem.file.name) in langs)]
    terms = load_glossary(project.locales_dir / GLOSSARY_FILE)
    for lang in langs or project.languages()[1:]:
        for path in project.catalog_files(lang):
            # the theme's own catalogs are not the project's to keep to its glossary
            own = terms if path.is_relative_to(project.root) else ()
            try:
                findings.extend(check_catalog(path, own, lang))
            except InputError as exc:
                findings.extend(Finding(p, True) for p in exc.problems)
    return findings


# --- status and compile ---------------------------------------------------------------------

@dataclass
class CatalogStatus:
    lang: str
    domain: str
    path: str
    translated: int
    fuzzy: int
    untranslated: int
    obsolete: int
    percent: float
    errors: int
    #: ``reviewed`` (every current translation signed off), ``draft``, or ``none`` (no catalog).
    review: str = "draft"
    reviewed_by: str | None = None
    reviewed_on: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def status(project: Project, langs: list[str] | None = None) -> list[CatalogStatus]:
    """Coverage per language and domain, counted by polib (which counts plural entries right)."""
    langs = [project.canonical(lang) for lang in langs] if langs else None
    import polib

    domains = [*project.handout_ids(), TEMPLATE_DOMAIN, REGIONS_DOMAIN]
    shared = (TEMPLATE_DOMAIN, REGIONS_DOMAIN)
    known = project.languages()[1:]
    for lang in langs or ():
        if lang not in known:
            raise InputError.at(f"no {lang!r} catalogs in this project; languages: "
                                f"{', '.join(known) or 'none'}",
                                hint=f"start one with `handout i18n init {lang}`")
    fresh: dict[str, Catalog] = {}  # extracted only if some language lacks a catalog
    rows = []
    for lang in langs or project.languages()[1:]:
        for domain in domains:
            path = project.catalog_path(lang, domain)
            if not path.exists() and domain not in shared:
                continue  # the topic is not translated into this language (yet)
            if not path.exists():
                fresh = fresh or templates(project)
                total = len(fresh[domain])  # the header is not counted in a Catalog's len
                rows.append(CatalogStatus(lang, domain, project.label(path),
                                          0, 0, total, 0, 0.0, 0, "none"))
                continue
            errors = sum(f.blocks_build for f in _findings_or_error(path))
            try:
                po = polib.pofile(str(path), wrapwidth=0)
            except (OSError, ValueError):  # not UTF-8, or beyond polib: the errors say why
                po = polib.POFile()
            translated = len(po.translated_entries())
            fuzzy = len(po.fuzzy_entries())
            untranslated = len(po.untranslated_entries())
            total = translated + fuzzy + untranslated
            review = _review_state(path) if not errors else None
            # A catalog with an error prints nothing: a build stops on it.
            done = 0.0 if errors else round(100 * translated / total, 1) if total else 100.0
            rows.append(CatalogStatus(
                lang, domain, project.label(path), translated, fuzzy,
                untranslated, len(po.obsolete_entries()), done, errors,
                "reviewed" if review else "draft", review.by if review else None,
                review.on.isoformat() if review else None))
    return rows


def _review_state(path: Path) -> Review | None:
    """The catalog's review, if it covers every current translation in it."""
    catalog = load_catalog(path)
    review = catalog.review
    if review is None or not catalog.translations or not all(
            review.covers(context, msgid, translation)
            for (context, msgid), translation in catalog.translations.items()):
        return None
    return review


def _findings_or_error(path: Path) -> list[Finding]:
    try:
        return check_catalog(path)
    except InputError as exc:
        return [Finding(p, True) for p in exc.problems]


def compile_catalogs(project: Project) -> list[Path]:
    """Write ``.mo`` files beside the ``.po`` files, for tools that want them (builds don't).

    polib writes them as GNU msgfmt does: entries sorted by their whole key (context and
    text), which GNU gettext's lookup needs, and the catalog's header as it is. (Babel's
    write_mo sorts by the text alone, so most entries with a context were never found.)
    """
    import polib

    written = []
    for lang in project.languages()[1:]:
        for po_path in project.catalog_files(lang):
            text = read_text(po_path, MAX_PO_BYTES, "catalog")  # not UTF-8: named, line too
            parse_po(po_path, text)  # a broken catalog stops here, named, as for a build
            # Beside the project's catalogs, also for the theme's built-in ones.
            mo_path = project.locale_folder(lang) / "LC_MESSAGES" / f"{po_path.stem}.mo"
            write_atomic(mo_path, polib.pofile(text).to_binary())
            written.append(mo_path)
    return written


#: The theme's translations that were shipped and later corrected (see its "about").
SUPERSEDED = BUILTIN_LOCALES / "superseded.json"


def superseded_translations(project: Project, langs: list[str] | None = None) -> list[Problem]:
    """Entries of a project's own copy of the theme's catalog that still keep a translation
    the built-in catalog has since corrected: the correction would never reach its prints."""
    import json

    corrections = json.loads(SUPERSEDED.read_text("utf-8"))["corrections"]
    found = []
    for lang in langs or project.languages()[1:]:
        own = project.locale_folder(lang) / "LC_MESSAGES" / f"{TEMPLATE_DOMAIN}.po"
        wrong = corrections.get(lang)
        if not wrong or not own.is_file():
            continue
        translations = load_catalog(own).translations
        builtin = load_catalog(BUILTIN_LOCALES / lang / "LC_MESSAGES" / f"{TEMPLATE_DOMAIN}.po")
        for key, old in wrong.items():
            context, msgid = key.split("\x04", 1)
            kept = translations.get((context, msgid))
            if kept in old:
                fixed = builtin.translations.get((context, msgid))
                found.append(Problem(
                    f"msgctxt {context!r} msgid {msgid!r} keeps the translation {kept!r}, "
                    f"which handoutkit has corrected to {fixed!r}", own,
                    hint="take the correction into this catalog (or delete the file to use "
                         "the built-in one)"))
    return found
