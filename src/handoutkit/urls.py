"""The web addresses a leaflet prints and its QR code encodes: a topic's ``online_url`` or a
clinic's ``handout_url``, a template filled in for each document."""

from __future__ import annotations

import re

#: What an address may have filled in for each document.
URL_FIELDS = ("handout", "lang", "level", "region")
_URL_FIELD = re.compile(r"\{(\w*)\}")


def url_template(url: str) -> str:
    """``url`` if every ``{name}`` in it is one that is filled in (a schema's validator): a
    typo would print as it is written, and the QR code lead nowhere."""
    unknown = sorted(set(_URL_FIELD.findall(url)) - set(URL_FIELDS))
    if unknown:
        raise ValueError(f"{', '.join('{' + name + '}' for name in unknown)} is never filled "
                         "in: only {handout}, {lang}, {level} and {region} are")
    return url


def fill_url(template: str, **values: str) -> str:
    """``template`` with ``{handout}``, ``{lang}``, ``{level}`` and ``{region}`` (empty for
    a leaflet of no region) replaced, as plain text.

    Never ``str.format``: a profile's URL is user input, and format would evaluate
    ``{handout.__class__}`` and friends. Any other ``{name}`` is left as written.
    """
    return _URL_FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)
