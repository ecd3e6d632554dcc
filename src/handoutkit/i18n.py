"""The translator's workflow: regenerate templates, start and update catalogs, report
coverage, check translations, and compile ``.mo`` files for other tools.

``.po`` files are rewritten atomically, and ``update`` never drops a translation: a string whose
English text changed keeps its translation marked fuzzy (so it stops printing until a
translator confirms it), and a string that left the source is kept as an obsolete ``#~`` entry.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo

from . import __version__
from .catalog import MAX_PO_BYTES, load_catalog, parse_po
from .checks import Finding, check_messages
from .errors import InputError
from .extract import po_bytes, templates
from .output import write_atomic
from .project import REGIONS_DOMAIN, SOURCE_LANGUAGE, TEMPLATE_DOMAIN, Project
from .review import Review, fingerprint, read_review, with_review
from .yamlfile import read_text


def write_templates(project: Project) -> list[Path]:
    """Write one ``.pot`` per domain under ``locales/``; return the paths written."""
    written = []
    for domain, catalog in templates(project).items():
        path = project.template_path(domain)
        write_atomic(path, po_bytes(catalog))
        written.append(path)
    return written


def init_language(project: Project, lang: str, topic: str | None = None) -> list[Path]:
    """Start a language's catalogs (all, or one topic's plus the shared ones it needs).

    Catalogs that exist already are left alone, so adding a language to a new topic works
    the same as starting a language.
    """
    try:
        Locale.parse(lang)
    except (ValueError, UnknownLocaleError):
        raise InputError.at(f"{lang!r} is not a locale Babel knows",
                            hint="use a code such as es, th, pt_BR or zh_Hans") from None
    if lang == SOURCE_LANGUAGE:
        raise InputError.at(f"{lang!r} is the source language; it needs no catalog")
    if topic is not None and topic not in project.handout_ids():
        raise InputError.at(f"unknown handout {topic!r}; handouts: "
                            f"{', '.join(project.handout_ids()) or 'none'}")
    wanted = None if topic is None else {topic, TEMPLATE_DOMAIN, REGIONS_DOMAIN}
    written = []
    for domain, template in templates(project).items():
        path = project.catalog_path(lang, domain)
        if (wanted is None or domain in wanted) and not path.exists():
            write_atomic(path, po_bytes(_new_language_catalog(lang, domain, template)))
            written.append(path)
    if not written:
        raise InputError.at(f"every {lang} catalog{' for ' + topic if topic else ''} exists "
                            "already", project.locales_dir / lang,
                            hint="use `handout i18n update` to merge new strings into them")
    return written


def review_catalogs(project: Project, lang: str, by: str, on: dt.date,
                    topic: str | None = None) -> list[tuple[Path, int]]:
    """Record a reviewer's sign-off of every current translation in ``lang``'s catalogs.

    Each catalog's header gets the reviewer, the date and a fingerprint of each entry signed
    off; only translated, non-fuzzy entries are covered. Returns each file and its count.
    """
    if not by.strip() or any(c in by for c in "\n\r\"\\"):
        raise InputError.at(f"reviewer name {by!r} is empty or has a quote or line break",
                            hint='pass --by "First Last"')
    if topic is not None and topic not in project.handout_ids():
        raise InputError.at(f"unknown handout {topic!r}; handouts: "
                            f"{', '.join(project.handout_ids()) or 'none'}")
    domains = [topic] if topic else [*project.handout_ids(), TEMPLATE_DOMAIN, REGIONS_DOMAIN]
    paths = [project.catalog_path(lang, d) for d in domains
             if project.catalog_path(lang, d).exists()]
    if not paths:
        raise InputError.at(f"no {lang} catalog to review", project.locales_dir / lang,
                            hint=f"start one with `handout i18n init {lang}`")
    done = []
    for path in paths:
        catalog = load_catalog(path)
        entries = frozenset(fingerprint(context, msgid, translation)
                            for (context, msgid), translation in catalog.translations.items())
        text = read_text(path, MAX_PO_BYTES, "catalog")
        write_atomic(path, with_review(text, Review(by.strip(), on, entries)).encode("utf-8"))
        done.append((path, len(entries)))
    return done


def _new_language_catalog(lang: str, domain: str, template: Catalog) -> Catalog:
    catalog = Catalog(locale=Locale.parse(lang), domain=domain, project="handoutkit",
                      version=__version__, header_comment=template.header_comment, fuzzy=False,
                      creation_date=template.creation_date)
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    return catalog


@dataclass
class UpdateResult:
    path: str
    added: int = 0
    now_fuzzy: list[str] = field(default_factory=list)
    obsoleted: int = 0


def update_catalogs(project: Project, langs: list[str] | None = None) -> list[UpdateResult]:
    """Merge the current templates into every language's catalogs."""
    fresh = templates(project)
    results = []
    for lang in langs or project.languages()[1:]:
        for domain, template in fresh.items():
            path = project.catalog_path(lang, domain)
            if not path.exists() and domain not in (TEMPLATE_DOMAIN, REGIONS_DOMAIN):
                continue  # a topic joins a language by `i18n init LANG --topic ID` only
            if not path.exists():  # a shared domain added since the language started
                write_atomic(path, po_bytes(_new_language_catalog(lang, domain, template)))
                results.append(UpdateResult(str(path), added=len(template)))
            else:
                results.append(_update_one(path, template))
    return results


def _update_one(path: Path, template: Catalog) -> UpdateResult:
    catalog = parse_po(path)
    before = {_key(m) for m in catalog if m.id}
    obsolete_before = len(catalog.obsolete)
    # Babel matches by (msgid, msgctxt) and moves the rest to obsolete; its difflib guess
    # across contexts is off, because our contexts are stable ids and match better.
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    result = UpdateResult(str(path))
    by_context: dict[str | None, list[tuple[Any, Message]]] = {}
    for key, old in catalog.obsolete.items():
        by_context.setdefault(old.context, []).append((key, old))
    for message in catalog:
        if not message.id or _key(message) in before:
            continue
        candidates = by_context.get(message.context, [])
        if message.context and len(candidates) == 1 and candidates[0][1].string:
            key, old = candidates.pop()
            message.string = old.string
            message.flags.add("fuzzy")
            message.previous_id = [old.id] if isinstance(old.id, str) else list(old.id)
            del catalog.obsolete[key]
            result.now_fuzzy.append(message.context)
        else:
            result.added += 1
    result.obsoleted = len(catalog.obsolete) - obsolete_before
    # Babel drops header fields it does not know: carry the reviewer's sign-off over.
    review = read_review(read_text(path, MAX_PO_BYTES, "catalog"))
    text = po_bytes(catalog).decode("utf-8")
    write_atomic(path, (with_review(text, review) if review else text).encode("utf-8"))
    return result


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def check_catalog(path: Path) -> list[Finding]:
    """Every problem in one ``.po`` file that would break or mislead a build.

    A syntax error raises :class:`InputError`; a bad Plural-Forms rule is found by loading
    the catalog as a build would.
    """
    findings = check_messages(parse_po(path), path)
    if not any(f.blocks_build for f in findings):
        try:
            load_catalog(path)
        except InputError as exc:
            findings += [Finding(p, True) for p in exc.problems]
    return findings


def check_project(project: Project, langs: list[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for lang in langs or project.languages()[1:]:
        for path in sorted((project.locales_dir / lang / "LC_MESSAGES").glob("*.po")):
            try:
                findings.extend(check_catalog(path))
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
    import polib

    domains = [*project.handout_ids(), TEMPLATE_DOMAIN, REGIONS_DOMAIN]
    shared = (TEMPLATE_DOMAIN, REGIONS_DOMAIN)
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
                rows.append(CatalogStatus(lang, domain, str(path.relative_to(project.root)),
                                          0, 0, total, 0, 0.0, 0, "none"))
                continue
            errors = sum(f.blocks_build for f in _findings_or_error(path))
            po = polib.pofile(str(path), wrapwidth=0)
            translated = len(po.translated_entries())
            fuzzy = len(po.fuzzy_entries())
            untranslated = len(po.untranslated_entries())
            total = translated + fuzzy + untranslated
            review = _review_state(path) if not errors else None
            rows.append(CatalogStatus(
                lang, domain, str(path.relative_to(project.root)), translated, fuzzy,
                untranslated, len(po.obsolete_entries()),
                round(100 * translated / total, 1) if total else 100.0, errors,
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
    """Write ``.mo`` files beside the ``.po`` files, for tools that want them (builds don't)."""
    written = []
    for lang in project.languages()[1:]:
        for po_path in sorted((project.locales_dir / lang / "LC_MESSAGES").glob("*.po")):
            catalog = parse_po(po_path)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            mo_path = po_path.with_suffix(".mo")
            write_atomic(mo_path, buffer.getvalue())
            written.append(mo_path)
    return written
