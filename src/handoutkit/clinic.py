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
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .errors import InputError
from .plan import load_toml, toml_line_of, validate_toml
from .yamlfile import read_limited

MAX_LOGO_BYTES = 200 * 1024
MAX_LOGO_PIXELS = 2048 * 2048
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


class ClinicProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    website: str | None = Field(None, pattern=r"^https?://\S+$")
    logo: str | None = None
    #: A line of the clinic's own, in the footer: one text, or one per language (catalog
    #: folder name → text, ``en`` for every language without its own).
    note: str | dict[str, Annotated[str, Field(max_length=200)]] | None = Field(
        None, max_length=200)
    handout_url: str | None = Field(None, pattern=r"^https://\S+$")
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
    profile: ClinicProfile
    path: Path
    #: The logo as a ``data:`` URL: the renderer never reads a file outside the project.
    logo_data_url: str | None
    logo_path: Path | None


def load_clinic(path: Path) -> Clinic:
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
    if kind == "image/png":
        # A tiny file can declare a huge image (it compresses well): decoding 12,000 × 12,000
        # pixels costs over a gigabyte. The header says the size before anything is decoded.
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if width * height > MAX_LOGO_PIXELS:
            raise InputError.at(f"logo is {width:,} × {height:,} pixels, over the limit of "
                                f"{MAX_LOGO_PIXELS:,} pixels", profile, line,
                                hint="a logo prints 8 mm high: 600 pixels wide is plenty")
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
