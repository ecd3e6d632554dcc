"""Checks on translations that gettext tools would let through.

A broken placeholder would crash the template or print nonsense; a wrong number of plural
forms prints the wrong form; markup in a translation is printed literally (never run), but it
is still a mistake a translator should see, unless the English has it too. Only the
templates' own words are formatted: a topic's or a region's text is printed as written, so
its ``{name}`` or ``%s`` is text, not a placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message

from .errors import Problem

PYTHON_FORMAT = re.compile(r"%(?:\((\w+)\))?[#0 +-]?\d*(?:\.\d+)?[sdifr%]")
#: A named placeholder that lost its type letter ("%(page) von"): printed as it stands (the
#: page fills in only %(name)s and %(name)d, with no flags).
UNFINISHED = re.compile(r"%\((\w+)\)(?![sdifr])")
BRACE_FORMAT = re.compile(r"(?<!\{)\{(\w*)\}(?!\})")
#: Markup or template syntax has no place in a translation: it is printed literally at best.
#: Embeddings, overrides and isolates (U+202A–E, U+2066–9) reorder text on the page; the
#: template isolates left-to-right runs itself. (The plain marks LRM/RLM are allowed.)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?]|\{\{|\{%|\burl\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    problem: Problem
    #: Whether the build must stop for it (a broken placeholder would crash or mislead).
    blocks_build: bool
    #: Advice, not a fault (a glossary's preferred word not used): reported, never failing.
    advice: bool = False


def _placeholders(text: str, python: bool = True) -> list[str]:
    """Named and positional placeholders; ``%`` counts only where the English uses it.

    In a message whose English text has no ``%`` placeholder, a ``%`` is a plain character:
    "50 % off" or "{% … %}" in such a translation is text, not a broken placeholder.
    """
    # A named one (%(page)s) is a placeholder whatever the flags say: the page fills it in.
    names = [m.group(0) for m in PYTHON_FORMAT.finditer(text)
             if m.group(0) != "%%" and (python or m.group(1))
             and not (m.group(1) and UNFINISHED.match(m.group(0)))]
    names += [f"{{{name}}}" for name in BRACE_FORMAT.findall(text)]
    return sorted(names)


def check_messages(catalog: Catalog, path: Path) -> list[Finding]:
    """Every problem in a parsed catalog, each with the line of its entry in ``path``."""
    from .project import TEMPLATE_DOMAIN

    findings: list[Finding] = []
    expected_forms = catalog.num_plurals
    formatted = path.stem == TEMPLATE_DOMAIN  # the templates' words; the rest prints as is
    for message in catalog:
        if not message.id or not message.string:
            continue
        where = f"msgctxt {message.context!r}: " if message.context else ""
        for text, hint, blocks in _message_problems(message, expected_forms, formatted):
            findings.append(Finding(Problem(where + text, path, message.lineno, hint), blocks))
    return findings


def _message_problems(message: Message, expected_forms: int,
                      formatted: bool) -> list[tuple[str, str, bool]]:
    source = " ".join(message.id) if isinstance(message.id, tuple) else str(message.id)
    forms = [str(form) for form in (message.string if isinstance(message.string, tuple | list)
                                    else [message.string])]
    problems = [problem for form in forms if form for problem in _literal_problems(form, source)]
    if not formatted:
        return problems
    python = bool(message.python_format)
    if not isinstance(message.id, tuple):
        wanted = set(_placeholders(str(message.id)))
        return _placeholder_problems(str(message.string), wanted, wanted, python) + problems
    if any(forms) and len(forms) != expected_forms:
        return [(f"{len(forms)} plural forms, but the header's Plural-Forms says "
                 f"{expected_forms}", "give exactly one msgstr[N] per plural form", True)]
    allowed = set(_placeholders(message.id[0])) | set(_placeholders(message.id[1]))
    wanted = set(_placeholders(message.id[1]))
    for index, form in enumerate(forms):
        # Languages with a "one" form may write it without the number ("a source").
        required = wanted if index > 0 or expected_forms == 1 else set()
        if form:
            problems = _placeholder_problems(form, allowed, required, python) + problems
    return problems


def _placeholder_problems(text: str, allowed: set[str], required: set[str],
                          python: bool) -> list[tuple[str, str, bool]]:
    found = set(_placeholders(text, python))
    problems = []
    unfinished = {f"%({name})": next((a for a in sorted(allowed) if a.startswith(
        f"%({name})")), None) for name in UNFINISHED.findall(text)}
    for written, meant in unfinished.items():
        problems.append((f"placeholder {written} has lost its last letter",
                         f"write {meant}" if meant else "write it as the English does", True))
    unknown = {name for name in found if _same(name) not in set(map(_same, allowed))}
    if unknown:
        percent = any(name.startswith("% ") or name[1:2].isdigit() for name in unknown)
        problems.append((f"unknown placeholder {', '.join(sorted(unknown))} in the "
                         "translation", ("a percent sign is written %% in this string; "
                                         if percent else "") + "use exactly the placeholders "
                         f"of the English text: {', '.join(sorted(allowed)) or 'none'}", True))
    dropped = {name for name in required if _same(name) not in set(map(_same, found))
               and name not in unfinished.values()}
    if dropped:
        problems.append((f"the translation drops {', '.join(sorted(dropped))}",
                         "keep every placeholder of the English text, spelled the same", True))
    return problems


def _same(placeholder: str) -> str:
    """What the page fills in: %(n)s and %(n)d are the same placeholder to it."""
    return placeholder[:-1] if placeholder.startswith("%(") and placeholder[-1] in "sd" \
        else placeholder


def _literal_problems(text: str, source: str) -> list[tuple[str, str, bool]]:
    """What is wrong in any translation, formatted or not: characters that reorder the page,
    and markup the English does not have."""
    problems = []
    controls = sorted({f"U+{ord(c):04X}" for c in text if c in BIDI_CONTROLS})
    if controls:
        problems.append((f"bidirectional control character {', '.join(controls)} in the "
                         "translation: it can reorder or mirror the printed text",
                         "remove it; the page sets the text direction itself", True))
    if _markup(text) - _markup(source):
        problems.append(("HTML, CSS or template syntax in the translation",
                         "write plain text only: it is printed literally, never as markup",
                         False))
    return problems


def _markup(text: str) -> set[str]:
    """The markup or template syntax in ``text``, each spelled as one token."""
    return {"".join(found.lower().split()) for found in MARKUP.findall(text)}
