"""Clinic profiles: a clinic's own name, contact details and logo on every page it prints.

A profile is a small TOML file::

    name = "Riverside Community Clinic"
    address = "12 River Road, Springfield"
    phone = "(555) 010-2000"
    website = "https://riverside.example.org"
    logo = "riverside-logo.svg"        # SVG or PNG beside this file, at most 200 KB
    note = "Ask at the front desk for a copy in another language."
    # or one per language, English the default: note = { en = "…", es = "…" }
    handout_url = "https://riverside.example.org/handouts/{handout}/{lang}"   # for the QR code
    emergency = "911"                  # for leaflets with no region (a region's number wins)
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .errors import InputError
from .files import read_limited
from .plan import load_toml, toml_line_of, validate_toml
from .urls import url_template

MAX_LOGO_BYTES = 200 * 1024
MAX_LOGO_PIXELS = 2048 * 2048
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


def _dialable(phone: str) -> str:
    """A number a patient can dial: at least three digits ("ext." and the like may follow)."""
    if sum(char.isdigit() for char in phone) < 3:
        raise ValueError(f"{phone[:40]!r} has no phone number in it: write it as patients "
                         "dial it, e.g. \"+1 555-010-2000\"")
    return phone


def _note_languages(note: Any) -> Any:
    """A note per language is keyed by language codes: one misspelled ("english") was never
    printed, and nothing said so."""
    if isinstance(note, dict):
        from .languages import canonical_locale

        for key in note:
            if canonical_locale(key) is None:
                raise ValueError(f"{key!r} is not a language code: key each note by its "
                                 "language's catalog folder name (en, es, pt_BR)")
    return note


class ClinicProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    address: str | None = Field(None, max_length=200)
    phone: Annotated[str, AfterValidator(_dialable)] | None = Field(None, max_length=40)
    website: str | None = Field(None, pattern=r"^https?://\S+$")
    logo: str | None = None
    #: A line of the clinic's own, in the footer: one text, or one per language (catalog
    #: folder name → text, ``en`` for every language without its own).
    note: Annotated[str | dict[str, Annotated[str, Field(max_length=200)]] | None,
                    AfterValidator(_note_languages)] = Field(None, max_length=200)
    handout_url: Annotated[str, AfterValidator(url_template)] | None = Field(
        None, pattern=r"^https://\S+$")
    #: The number to call in an emergency, printed on leaflets with no region (which have
    #: none of their own); a region's number always wins.
    emergency: str | None = Field(None, max_length=20)

    def note_in(self, lang: str) -> str | None:
        """The note as printed on a ``lang`` leaflet: its own translation, else English."""
        if isinstance(self.note, dict):
            return self.note.get(lang) or self.note.get("en")
        return self.note


@dataclass(frozen=True)
class Clinic:
    """A clinic profile as a build prints it: its validated fields, its file, and its logo
    ready for the page (``BuildOptions(clinic=…)``, ``render_pdf(…, clinic=…)``)."""

    profile: ClinicProfile
    path: Path
    #: The logo as a ``data:`` URL: the renderer never reads a file outside the project.
    logo_data_url: str | None
    logo_path: Path | None


def load_clinic(path: Path) -> Clinic:
    """The clinic profile at ``path``, its logo checked and embedded (nothing is fetched
    when a page prints it); an :class:`InputError` naming the line of what is wrong."""
    profile: ClinicProfile = validate_toml(ClinicProfile, load_toml(path, "clinic profile"), path)
    logo_url, logo_path = None, None
    if profile.logo:
        logo_path = (path.parent / profile.logo).resolve()
        logo_url = _logo_data_url(logo_path, path)
    return Clinic(profile, path, logo_url, logo_path)


def _logo_data_url(logo: Path, profile: Path) -> str:
    line = toml_line_of(profile, ("logo",))
    kind = LOGO_TYPES.get(logo.suffix.lower())
    if kind is None:
        raise InputError.at(f"logo {logo.name!r} is not SVG or PNG", profile, line,
                            hint="convert the logo to .svg or .png")
    if not logo.is_file():
        raise InputError.at(f"logo file not found: {logo}", profile, line,
                            hint="the path is relative to the clinic profile")
    data = read_limited(logo, MAX_LOGO_BYTES, "logo")
    looks_right = data.startswith(b"\x89PNG\r\n\x1a\n") if kind == "image/png" else (
        b"<svg" in data[:2048])
    if not looks_right:
        raise InputError.at(f"logo {logo.name!r} is not a valid {logo.suffix} file", profile,
                            line, hint="export the logo again from your design tool")
    problem = _png_problem(data) if kind == "image/png" else _svg_problem(data)
    if problem:
        raise InputError.at(f"logo {logo.name!r}: {problem}", profile, line,
                            hint="a logo prints 8 mm high: a simple SVG, or a PNG 600 pixels "
                                 "wide, is plenty")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


#: What an SVG logo may draw, checked before anything renders it: a small file can describe
#: a great deal of work (a huge embedded image, or `<use>` elements that copy each other).
MAX_SVG_ELEMENTS = 5000
MAX_SVG_DEPTH = 40
#: Elements drawn once every `<use>` is followed (its copies counted, and theirs).
MAX_SVG_DRAWN = 20_000
#: Elements whose work has no size to check (filters, scripts, embedded documents).
SVG_REFUSED = ("filter", "script", "foreignObject", "iframe", "animate", "set")


def _png_problem(data: bytes) -> str | None:
    """A PNG's declared size, read from its header before anything is decoded: a tiny file
    can declare 12,000 × 12,000 pixels, over a gigabyte to decode."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 24:
        return "not a PNG image"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if width * height > MAX_LOGO_PIXELS:
        return (f"{width:,} × {height:,} pixels, over the limit of {MAX_LOGO_PIXELS:,} "
                "pixels")
    return None


def _svg_problem(data: bytes) -> str | None:
    """What is wrong with an SVG logo for printing, by what it would draw: its elements,
    their nesting, the copies `<use>` makes, and every image embedded in it."""
    import xml.etree.ElementTree as ElementTree

    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return "has a DOCTYPE or entities (a logo needs neither)"
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        return f"is not well-formed SVG ({exc})"
    elements = list(root.iter())
    if len(elements) > MAX_SVG_ELEMENTS:
        return f"{len(elements):,} elements, over the limit of {MAX_SVG_ELEMENTS:,}"
    if _depth(root) > MAX_SVG_DEPTH:
        return f"elements nested over {MAX_SVG_DEPTH} deep"
    by_id: dict[str, Any] = {str(element.get("id")): element for element in elements
                             if element.get("id")}
    for element in elements:
        name = element.tag.rsplit("}", 1)[-1]
        if name in SVG_REFUSED:
            return f"has a <{name}> element, which a printed logo may not use"
        if name == "image":
            problem = _embedded_image_problem(_href(element))
            if problem:
                return problem
    drawn = _drawn(root, by_id, set(), {})
    if drawn > MAX_SVG_DRAWN:
        return (f"draws {drawn:,} elements once its <use> copies are made, over the limit "
                f"of {MAX_SVG_DRAWN:,}")
    return None


def _href(element: Any) -> str:
    return str(element.get("href") or element.get("{http://www.w3.org/1999/xlink}href") or "")


def _depth(element: Any) -> int:
    return 1 + max((_depth(child) for child in element), default=0)


def _drawn(element: Any, by_id: dict[str, Any], following: set[str],
           known: dict[int, int]) -> int:
    """How many elements ``element`` draws, `<use>` copies included (capped, so that a
    copy of a copy of … stops counting once it is over the limit)."""
    if id(element) in known:
        return known[id(element)]
    count = 1
    if element.tag.rsplit("}", 1)[-1] == "use":
        target = _href(element).removeprefix("#")
        if target in following:
            return MAX_SVG_DRAWN + 1  # a use that copies itself: never ends
        if target in by_id:
            count += _drawn(by_id[target], by_id, following | {target}, known)
    for child in element:
        count += _drawn(child, by_id, following, known)
        if count > MAX_SVG_DRAWN:
            break
    known[id(element)] = count
    return count


def _embedded_image_problem(href: str) -> str | None:
    """An image inside an SVG logo: only an embedded (``data:``) PNG of bounded size."""
    if not href.startswith("data:"):
        return "links an image outside the file (embed it, or use a PNG logo)"
    kind, _, payload = href[5:].partition(",")
    if not kind.startswith("image/png") or not kind.endswith(";base64"):
        return "embeds an image other than a base64 PNG"
    try:
        head = base64.b64decode(payload[:64] + "=" * (-len(payload[:64]) % 4))
    except ValueError:
        return "embeds an image that is not valid base64"
    problem = _png_problem(head)
    return f"embeds an image of {problem}" if problem and "pixels" in problem else problem
