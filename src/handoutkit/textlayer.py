"""The PDF's text layer: what copying, searching and a screen reader get for each glyph drawn.

A PDF maps each glyph of a font to one text (its ToUnicode map). WeasyPrint gives a glyph the
text of the cluster it was first drawn in, all of it on the cluster's last glyph and nothing
on the others. Where shaping draws one character as several glyphs, or several characters
as one cluster, that first text then stands for the glyph everywhere:

- Thai SARA AM (ำ) is drawn as NIKHAHIT and SARA AA. NIKHAHIT gets no text, and SARA AA
  gets "ำ", so every later SARA AA (า) reads as SARA AM, or SARA AM as SARA AA: "น้ำ"
  (water) came out as "น้า" (aunt).
- An Arabic lam-alef ligature first drawn before a mark gets no text, so every later "لا"
  (no) vanished from the text.

``give_glyphs_their_text`` maps each glyph that is the font's own glyph for a character (its
``cmap`` says so) to that character, in its compatibility form (the ligature "ﻻ" as "لا").
The rest keep WeasyPrint's text: glyphs no character maps to (a substituted form), and a
mirrored parenthesis in right-to-left text, which stands for its mirror. SARA AM then reads
as NIKHAHIT and SARA AA, the form Unicode decomposes it to.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from math import ceil
from typing import Any


def give_glyphs_their_text(document: Any, pdf: Any) -> None:
    """WeasyPrint's finisher: rewrite each font's ToUnicode map where a glyph's recorded text
    is not the character the glyph is drawn for."""
    streams = _to_unicode_streams(pdf)
    for font in document.fonts.values():
        stream = streams.get(font.name)
        # A glyph is misread only after a cluster drawn with more glyphs than characters
        # (one glyph got the text, the others none) or fewer (a ligature). A font whose map
        # shows neither is left as it is, its cmap unread (a CJK font's takes 0.1 s).
        if stream is None or all(len(text) == 1 for text in font.to_unicode.values()):
            continue
        nominal = _nominal_characters(font.glyph_count, _cmap_table(font))
        mapping = {glyph: _text_of(glyph, text, nominal) for glyph, text in
                   font.to_unicode.items()}
        if mapping != font.to_unicode:
            _rewrite(stream, mapping)


def _text_of(glyph: int, recorded: str, nominal: dict[int, tuple[str, ...]]) -> str:
    characters = nominal.get(glyph)
    if not characters or recorded in characters:
        return recorded
    composed = unicodedata.normalize("NFKC", recorded)
    if any(unicodedata.normalize("NFKC", c) == composed for c in characters):
        return recorded  # a ligature or presentation form, already as its letters
    if len(recorded) == 1 and unicodedata.mirrored(recorded) and any(
            unicodedata.mirrored(c) for c in characters):
        return recorded  # "(" drawn as ")" in right-to-left text: it stands for "("
    return unicodedata.normalize("NFKC", min(characters))


def _to_unicode_streams(pdf: Any) -> dict[bytes, Any]:
    """Each Type0 font's ToUnicode stream, by the font's PDF name (``b"/ABCDEF+Noto-Sans"``,
    as WeasyPrint names the font and pydyf keeps the name; a reference is ``b"12 0 R"``)."""
    return {obj["BaseFont"]: pdf.objects[int(obj["ToUnicode"].split()[0])]
            for obj in pdf.objects
            if isinstance(obj, dict) and obj.get("Subtype") == "/Type0" and "ToUnicode" in obj}


def _cmap_table(font: Any) -> bytes:
    """The font's ``cmap`` table, as the file has it (before subsetting)."""
    from weasyprint.text.ffi import ffi, harfbuzz

    blob = harfbuzz.hb_face_reference_table(font.hb_face,
                                            harfbuzz.hb_tag_from_string(b"cmap", -1))
    try:
        length = ffi.new("unsigned int *")
        data = harfbuzz.hb_blob_get_data(blob, length)
        return b"" if data == ffi.NULL else bytes(ffi.unpack(data, int(length[0])))
    finally:
        harfbuzz.hb_blob_destroy(blob)


@lru_cache(maxsize=64)
def _nominal_characters(glyph_count: int, cmap: bytes) -> dict[int, tuple[str, ...]]:
    """Each glyph's characters, from the font's ``cmap`` (kept per process and font file:
    a face drawn at several sizes is read once)."""
    from fontTools.ttLib import TTFont, newTable

    if not cmap:
        return {}
    holder = TTFont()
    holder.setGlyphOrder([f"g{index}" for index in range(glyph_count)])
    table = newTable("cmap")
    table.decompile(cmap, holder)
    characters: dict[int, list[str]] = {}
    for code, name in (table.getBestCmap() or {}).items():
        characters.setdefault(holder.getGlyphID(name), []).append(chr(code))
    return {glyph: tuple(found) for glyph, found in characters.items()}


def _rewrite(stream: Any, mapping: dict[int, str]) -> None:
    """Replace the stream's character mappings, keeping its header and trailer."""
    lines = list(stream.stream)
    start = lines.index(b"endcodespacerange") + 1
    end = lines.index(b"endcmap")
    items = sorted(mapping.items())
    body = []
    for batch in range(ceil(len(items) / 100)):
        chunk = items[batch * 100:(batch + 1) * 100]
        body.append(f"{len(chunk)} beginbfchar".encode())
        body += [f"<{glyph:04x}> <{text.encode('utf-16-be').hex()}>".encode()
                 for glyph, text in chunk]
        body.append(b"endbfchar")
    stream.stream = lines[:start] + body + lines[end:]
