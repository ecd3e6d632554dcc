"""A translatable text and its message, and the dates a text is trusted by: the pieces
content, regions and translation share.

A text is one string for every reading level, or one per level; each printed string is a
:class:`Message` whose ``msgctxt`` is its stable id path, with the level where the wording
differs. Kept apart from the content schema so that region profiles build on it without
building on a topic's schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo, field_validator

from .levels import LEVEL_NAMES
from .yamlfile import Loc


def _check_levels(value: str | dict[str, str]) -> str | dict[str, str]:
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(LEVEL_NAMES))
        if unknown:
            raise ValueError(f"unknown reading level {', '.join(map(repr, unknown))}; "
                             f"known levels: {', '.join(LEVEL_NAMES)}")
        missing = [name for name in LEVEL_NAMES if name not in value]
        if missing:
            raise ValueError(f"no text for level {', '.join(missing)}; give one text for "
                             "every level, or a single text for all levels")
    text_values = [value] if isinstance(value, str) else list(value.values())
    if any(not text.strip() for text in text_values):
        raise ValueError("text is empty")
    return value


#: One text for every level, or a mapping ``level → text`` where the wording differs.
LevelText = Annotated[str | dict[str, str], AfterValidator(_check_levels)]


def _has_happened(value: dt.date) -> dt.date:
    # A day's slack: where the author is, it may already be tomorrow.
    if value > dt.date.today() + dt.timedelta(days=1):
        raise ValueError(f"{value.isoformat()} is in the future: this is the day something was "
                         "done (reviewed, checked, opened), which a reader trusts as past")
    return value


#: The day a topic was reviewed, a fact checked or a source opened: never a day to come, which
#: would print as a review that has not happened and keep the text from ever going stale.
Happened = Annotated[dt.date, AfterValidator(_has_happened)]


def review_after(earlier: str, purpose: str) -> Any:
    """A model's ``review_by`` check: after its field ``earlier`` (the day it was reviewed or
    checked). A field's check, not the model's, so the error points at the review_by line."""
    def check(cls: type, review_by: dt.date, info: ValidationInfo) -> dt.date:
        done = info.data.get(earlier)
        if done is not None and review_by <= done:
            raise ValueError(f"{review_by} must come after {earlier} {done}: it is when "
                             f"{purpose}")
        return review_by

    return field_validator("review_by")(classmethod(check))

@dataclass(frozen=True)
class Message:
    """One translatable string of a handout, as extraction and translation see it."""

    context: str          # msgctxt: the stable id path, with the level where wording differs
    text: str             # msgid: the English text
    loc: Loc              # where it is in the YAML data, for ``#:`` references
    note: str | None      # the author's note to translators


def level_messages(context: str, value: str | dict[str, str], loc: Loc,
                    note: str | None) -> Iterator[Message]:
    """The messages of one text: one, or one per level (``context.easy``, …)."""
    if isinstance(value, str):
        yield Message(context, value, loc, note)
    else:
        for level, text in value.items():
            yield Message(f"{context}.{level}", text, (*loc, level), note)


def text_context(context: str, value: str | dict[str, str], level: str) -> tuple[str, str]:
    """The (msgctxt, English text) that ``value`` prints at ``level``."""
    if isinstance(value, str):
        return context, value
    return f"{context}.{level}", value[level]


