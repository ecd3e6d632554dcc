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
from dataclasses import dataclass

from .pofile import Header, read_header

HEADER_BY = "X-Reviewed-By"
HEADER_ON = "X-Reviewed-On"
HEADER_ENTRIES = "X-Review-Entries"
_FIELDS = (HEADER_BY, HEADER_ON, HEADER_ENTRIES)


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


def read_review(text: str) -> Review | None:
    """The review recorded in a catalog's text, or ``None`` (also for a malformed one)."""
    fields = dict(read_header(text))
    by, on = fields.get(HEADER_BY, ""), fields.get(HEADER_ON, "")
    try:
        date = dt.date.fromisoformat(on)
    except ValueError:
        return None
    if not by:
        return None
    return Review(by, date, frozenset(fields.get(HEADER_ENTRIES, "").split()))


def with_review(header: Header, review: Review | None) -> Header:
    """``header`` with its review fields replaced by ``review`` (or removed)."""
    kept = tuple((name, value) for name, value in header if name not in _FIELDS)
    if review is None:
        return kept
    return (*kept, (HEADER_BY, review.by), (HEADER_ON, review.on.isoformat()),
            (HEADER_ENTRIES, " ".join(sorted(review.entries))))
