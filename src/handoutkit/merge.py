"""Merge a catalog with a new template exactly as ``msgmerge --previous`` does.

Translators' platforms (Weblate's msgmerge add-on, Pontoon's sync) and the GNU tools merge with
msgmerge; if ``handout i18n update`` merged any other way, each tool would rewrite what the
other wrote. The rules, from GNU gettext's ``msgl-merge.c`` and ``msgl-fsearch.c``:

* an entry is found by its msgctxt and msgid, obsolete ``#~`` entries included (a string
  that comes back gets its old translation back);
* an entry not found takes the translation of the most similar translated entry (any
  context, obsolete ones too), marked fuzzy, with the English it was translated from kept
  as ``#| msgctxt``/``#| msgid``; similar means fstrcmp ≥ 0.6, a tie going to the same context,
  then to the entry sharing the most 4-grams, then to the earlier one;
* the translation and the translator's comments come from the catalog; references, extracted
  comments and format flags from the template; what nothing used becomes obsolete, without
  references or extracted comments.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from babel.messages.catalog import Catalog, Message

from .pofile import message_strings, previous_context, set_previous, singular_id

#: msgmerge's FUZZY_THRESHOLD: below this similarity a guess would mislead more than help.
FUZZY_THRESHOLD = 0.6
#: msgmerge's small advantage for a proposal from the same context (or none).
_SAME_CONTEXT_BONUS = 0.00001
#: Strings shorter than this many characters have no 4-gram; msgmerge compares them with
#: every translated string of a length that could reach the threshold.
_GRAM = 4


@dataclass(frozen=True)
class Merged:
    """A merge's catalog and what happened to its entries (contexts, for the report)."""

    catalog: Catalog
    #: Entries new to the catalog with no translation to propose.
    added: tuple[str, ...]
    #: Entries that now carry a fuzzy proposal (a changed or a similar string).
    now_fuzzy: tuple[str, ...]
    #: Entries of the catalog no template entry uses any more.
    obsoleted: int


def similarity(first: str, second: str) -> float:
    """GNU's fstrcmp: twice the longest common subsequence of the UTF-8 bytes over both lengths."""
    x, y = first.encode(), second.encode()
    if not x and not y:
        return 1.0
    return 2 * _common_subsequence(x, y) / (len(x) + len(y))


def _common_subsequence(x: bytes, y: bytes) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyrö 2004): one big-integer
    step per byte of ``y`` instead of a table of ``len(x) × len(y)`` cells."""
    masks: dict[int, int] = {}
    for index, byte in enumerate(x):
        masks[byte] = masks.get(byte, 0) | (1 << index)
    everything = (1 << len(x)) - 1
    row = everything
    for byte in y:
        matches = row & masks.get(byte, 0)
        row = ((row + matches) | (row - matches)) & everything
    return len(x) - row.bit_count()


def _grams(text: str) -> Iterator[str]:
    return (text[i:i + _GRAM] for i in range(len(text) - _GRAM + 1))


class _Proposals:
    """The translated entries of a catalog, indexed by 4-grams as msgmerge indexes them."""

    def __init__(self, definitions: Sequence[Message]) -> None:
        self.messages = [m for m in definitions if message_strings(m)[0]]
        self.by_gram: dict[str, list[int]] = {}
        for index, message in enumerate(self.messages):
            for gram in set(_grams(singular_id(message))):
                self.by_gram.setdefault(gram, []).append(index)

    def best(self, context: str | None, msgid: str) -> Message | None:
        """The most similar translated entry, or None when none reaches the threshold."""
        if len(msgid) >= _GRAM:
            shared: Counter[int] = Counter()
            for gram in _grams(msgid):  # a gram the string repeats counts each time
                shared.update(self.by_gram.get(gram, ()))
            # most shared grams first, then file order: the order msgmerge tries them in
            order = sorted(shared, key=lambda index: (-shared[index], index))
        else:
            size = len(msgid.encode())
            shortest = math.ceil(size / (2 / FUZZY_THRESHOLD - 1))
            longest = int(size * (2 / FUZZY_THRESHOLD - 1))
            order = sorted((i for i, m in enumerate(self.messages)
                            if shortest <= len(singular_id(m).encode()) <= longest),
                           key=lambda i: (len(singular_id(self.messages[i]).encode()), i))
        best, best_weight = None, FUZZY_THRESHOLD
        size = len(msgid.encode())
        for index in order:
            candidate = self.messages[index]
            bonus = _SAME_CONTEXT_BONUS if candidate.context in (None, context) else 0.0
            other = len(singular_id(candidate).encode())
            if 2 * min(size, other) / ((size + other) or 1) + bonus <= best_weight:
                continue  # cannot beat the best even if one string held the other
            weight = similarity(msgid, singular_id(candidate)) + bonus
            if weight > best_weight:
                best, best_weight = candidate, weight
        return best


def _merged(definition: Message, reference: Message, force_fuzzy: bool,
            nplurals: int) -> Message:
    """``message_merge``: the catalog's translation and comments on the template's entry."""
    strings = message_strings(definition)
    plural = not isinstance(reference.id, str)
    fuzzy = definition.fuzzy or force_fuzzy
    if plural and isinstance(definition.id, str):
        strings, fuzzy = [strings[0]] * max(nplurals, 1), True
    elif not plural:
        fuzzy = fuzzy or not isinstance(definition.id, str)
        strings = strings[:1]
    flags = {f for f in reference.flags if f != "fuzzy"} | ({"fuzzy"} if fuzzy else set())
    message = Message(reference.id, tuple(strings) if plural else strings[0],
                      locations=list(reference.locations), flags=flags,
                      auto_comments=list(reference.auto_comments),
                      user_comments=list(definition.user_comments),
                      context=reference.context)
    if fuzzy and strings[0]:
        if definition.fuzzy:
            set_previous(message, previous_context(definition), definition.previous_id)
        else:
            ids = [definition.id] if isinstance(definition.id, str) else list(definition.id)
            set_previous(message, definition.context, ids)
    return message


def _obsolete(definition: Message) -> Message:
    message = Message(definition.id, definition.string,
                      user_comments=list(definition.user_comments),
                      context=definition.context)
    message.flags = set(definition.flags)  # as written: Babel's constructor adds python-format
    set_previous(message, previous_context(definition), definition.previous_id)
    return message


def merge(catalog: Catalog, template: Catalog, nplurals: int = 2) -> Merged:
    """The catalog merged with the template, in the template's order, obsolete entries last."""
    definitions = [m for m in catalog if m.id] + list(catalog.obsolete.values())
    exact: dict[tuple[str | None, str], int] = {}
    for index, message in enumerate(definitions):
        exact.setdefault((message.context, singular_id(message)), index)
    proposals = _Proposals(definitions)
    merged = Catalog(locale=catalog.locale, domain=catalog.domain,
                     header_comment=catalog.header_comment, fuzzy=catalog.fuzzy)
    used: set[int] = set()
    added, now_fuzzy = [], []
    for reference in template:
        if not reference.id:
            continue
        found = exact.get((reference.context, singular_id(reference)))
        proposal = None if found is not None else proposals.best(reference.context,
                                                                 singular_id(reference))
        if found is not None:
            message = _merged(definitions[found], reference, False, nplurals)
            used.add(found)
        elif proposal is not None:
            message = _merged(proposal, reference, True, nplurals)
            used.add(next(i for i, m in enumerate(definitions) if m is proposal))
            now_fuzzy.append(reference.context or singular_id(reference))
        else:
            message = Message(reference.id, "" if isinstance(reference.id, str) else
                              ("",) * max(nplurals, 1),
                              locations=list(reference.locations),
                              flags={f for f in reference.flags if f != "fuzzy"},
                              auto_comments=list(reference.auto_comments),
                              context=reference.context)
            added.append(reference.context or singular_id(reference))
        merged[message.id] = message  # Babel keys by id and context itself
    active = sum(1 for m in catalog if m.id)
    for index, definition in enumerate(definitions):
        if index not in used:
            msgid, context = singular_id(definition), definition.context
            merged.obsolete[msgid if context is None else (msgid, context)] = \
                _obsolete(definition)
    obsoleted = sum(1 for index in range(active) if index not in used)
    return Merged(merged, tuple(added), tuple(now_fuzzy), obsoleted)
