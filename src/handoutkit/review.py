"""Translation sign-off: who reviewed a catalog, when, and exactly which entries.

A review is recorded in a catalog's header as three fields that gettext tools keep::

    "X-Reviewed-By: Ana Pérez\\n"
    "X-Reviewed-On: 2026-11-28\\n"
    "X-Review-Entries: 3f2a9c01d4e7 90be…\\n"

``X-Review-Entries`` holds a short fingerprint of every entry the reviewer signed off (its
context, English text and translation). An entry edited after the review, or whose English
changed, no longer matches its fingerprint, so every document that prints it is a draft again,
while documents that do not print it stay reviewed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

HEADER_BY = "X-Reviewed-By"
HEADER_ON = "X-Reviewed-On"
HEADER_ENTRIES = "X-Review-Entries"
_FIELDS = (HEADER_BY, HEADER_ON, HEADER_ENTRIES)
#: Header lines are wrapped like GNU gettext wraps them.
_WIDTH = 79


@dataclass(frozen=True)
class Review:
    by: str
    on: dt.date
    entries: frozenset[str]

    def covers(self, context: str | None, msgid: str, translation: str | tuple[str, ...]) -> bool:
        return fingerprint(context, msgid, translation) in self.entries


def fingerprint(context: str | None, msgid: str, translation: str | tuple[str, ...]) -> str:
    """A short, stable hash of one entry as the reviewer saw it."""
    forms = translation if isinstance(translation, tuple) else (translation,)
    data = "\x00".join([context or "", msgid, *forms])
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]


def _header_span(text: str) -> tuple[int, int] | None:
    """Where the header entry's string lines are in a ``.po`` file's text."""
    match = re.search(r'^msgid ""\nmsgstr ""\n((?:".*"\n?)*)', text, re.MULTILINE)
    return (match.start(1), match.end(1)) if match else None


def _header_fields(text: str) -> dict[str, str]:
    span = _header_span(text)
    if span is None:
        return {}
    joined = "".join(line[1:-1] for line in text[span[0]:span[1]].splitlines() if line)
    fields = {}
    for line in joined.replace('\\"', '"').replace("\\\\", "\\").split("\\n"):
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def read_review(text: str) -> Review | None:
    """The review recorded in a catalog's text, or ``None`` (also for a malformed one)."""
    fields = _header_fields(text)
    by, on = fields.get(HEADER_BY, ""), fields.get(HEADER_ON, "")
    try:
        date = dt.date.fromisoformat(on)
    except ValueError:
        return None
    if not by:
        return None
    return Review(by, date, frozenset(fields.get(HEADER_ENTRIES, "").split()))


def with_review(text: str, review: Review | None) -> str:
    """``text`` with its header's review fields replaced by ``review`` (or removed)."""
    span = _header_span(text)
    if span is None:
        raise ValueError("catalog has no header entry")
    start, end = span
    # A field wrapped over several lines continues on lines that do not start a field:
    # drop a review field's continuation lines with it.
    kept, skipping = [], False
    for line in text[start:end].splitlines(keepends=True):
        starts_field = re.match(r'"[A-Za-z-]+:', line) is not None
        if starts_field:
            skipping = line.startswith(tuple(f'"{name}:' for name in _FIELDS))
        if not skipping:
            kept.append(line)
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    if review is not None:
        kept += _field_lines(HEADER_BY, review.by) + _field_lines(HEADER_ON, review.on.isoformat())
        kept += _field_lines(HEADER_ENTRIES, " ".join(sorted(review.entries)))
    return text[:start] + "".join(kept) + text[end:]


def _field_lines(name: str, value: str) -> list[str]:
    """One header field as quoted lines of at most 79 columns, split at spaces."""
    escaped = f"{name}: {value}".replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    words = escaped.split(" ")
    lines, current = [], ""
    for word in words:
        piece = word if not current else f"{current} {word}"
        if len(piece) + 4 > _WIDTH and current:  # quotes and the closing \n
            lines.append(f'"{current} "\n')
            current = word
        else:
            current = piece
    lines.append(f'"{current}\\n"\n')
    return lines
