"""Renumber the glyphs of an embedded CID-keyed CFF font: drop the empty slots WeasyPrint keeps.

WeasyPrint subsets a font but keeps every glyph at its original id, and a PDF names glyphs by
those ids (its CIDs). A Chinese page draws about 450 glyphs of Noto Sans CJK, the highest of
them near id 63,000, so each face carried 63,000 glyph slots: 160–200 KB of a 395 KB page.

In a CID-keyed CFF font the charset says which CID each glyph is, and a PDF viewer finds a
CID's glyph through it (PDF 2.0, 9.7.4.2). So the used glyphs can be packed as glyphs 0..n
with a charset that keeps each one's CID, as a bare ``CIDFontType0C`` program: the way
Acrobat and print workflows have always embedded CJK subsets (poppler, MuPDF and pdf.js draw
the page pixel for pixel as before, pdfium the same glyphs with a little other anti-aliasing).
Nothing is re-drawn: each glyph's charstring, font dict and private dict are copied as is.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

# Top DICT and Font DICT operators that hold offsets (``12 x`` is 1200 + x).
CHARSET, CHARSTRINGS, PRIVATE, SUBRS = 15, 17, 18, 19
ROS, CID_COUNT, FD_ARRAY, FD_SELECT = 1230, 1234, 1236, 1237
#: CIDCount when the Top DICT does not say (CFF spec, Table 10).
DEFAULT_CID_COUNT = 8720


@dataclass(frozen=True)
class _Index:
    """A CFF INDEX read where it lies, ``data[start:end]``; item ``i`` read on demand."""

    data: bytes
    start: int
    count: int
    off_size: int
    base: int  # where the items start, less one: offsets count from 1
    end: int

    @classmethod
    def at(cls, data: bytes, start: int) -> _Index:
        count = int.from_bytes(data[start:start + 2], "big")
        if not count:
            return cls(data, start, 0, 0, start + 2, start + 2)
        off_size = data[start + 2]
        base = start + 2 + (count + 1) * off_size
        index = cls(data, start, count, off_size, base, 0)
        return replace(index, end=base + index._offset(count))

    def _offset(self, i: int) -> int:
        at = self.start + 3 + i * self.off_size
        return int.from_bytes(self.data[at:at + self.off_size], "big")

    def __getitem__(self, i: int) -> bytes:
        return self.data[self.base + self._offset(i):self.base + self._offset(i + 1)]

    @property
    def raw(self) -> bytes:
        return self.data[self.start:self.end]


def _index(items: list[bytes]) -> bytes:
    if not items:
        return b"\0\0"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = max(1, (offsets[-1].bit_length() + 7) // 8)
    return (struct.pack(">HB", len(items), size)
            + b"".join(offset.to_bytes(size, "big") for offset in offsets) + b"".join(items))


#: One DICT entry: its operator, its operands' bytes as written, their integer values.
_Entry = tuple[int, bytes, list[int]]


def _parse_dict(data: bytes) -> list[_Entry]:
    entries: list[_Entry] = []
    start = i = 0
    numbers: list[int] = []
    while i < len(data):
        b0 = data[i]
        if b0 <= 21:
            op, size = (1200 + data[i + 1], 2) if b0 == 12 else (b0, 1)
            entries.append((op, data[start:i], numbers))
            i += size
            start, numbers = i, []
        elif b0 == 28 or b0 == 29:
            size = 3 if b0 == 28 else 5
            numbers.append(int.from_bytes(data[i + 1:i + size], "big", signed=True))
            i += size
        elif b0 == 30:  # a real number: nibbles up to an 0xf one; never an offset
            i += 1
            while data[i] >> 4 != 0xF and data[i] & 0xF != 0xF:
                i += 1
            i += 1
            numbers.append(0)
        elif 32 <= b0 <= 246:
            numbers.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 254:
            magnitude = (b0 - 247 if b0 <= 250 else b0 - 251) * 256 + data[i + 1] + 108
            numbers.append(magnitude if b0 <= 250 else -magnitude)
            i += 2
        else:
            raise ValueError(f"reserved byte {b0} in a CFF DICT")
    return entries


def _dict(entries: list[_Entry], numbers: dict[int, list[int]]) -> bytes:
    """A DICT with the operands of ``numbers``' operators rewritten, each as a 5-byte integer
    (so a DICT's size is known before the offsets it holds)."""
    out = bytearray()
    for op, operands, _ in entries:
        if op in numbers:
            operands = b"".join(b"\x1d" + struct.pack(">i", n) for n in numbers[op])
        out += operands + (bytes([12, op - 1200]) if op >= 1200 else bytes([op]))
    return bytes(out)


def _font_dict_of(cff: bytes, start: int) -> Callable[[int], int] | None:
    """Which font dict each glyph uses, from an FDSelect of format 0 or 3 (CFF's only two)."""
    if cff[start] == 0:
        return lambda glyph: cff[start + 1 + glyph]
    if cff[start] != 3:
        return None
    ranges = range(start + 3, start + 3 + 3 * int.from_bytes(cff[start + 1:start + 3], "big"), 3)
    firsts = [int.from_bytes(cff[at:at + 2], "big") for at in ranges]
    return lambda glyph: cff[ranges[bisect.bisect_right(firsts, glyph) - 1] + 2]


def compact_cff(font: bytes, cids: Iterable[int]) -> bytes | None:
    """The CFF of OpenType ``font`` holding only the glyphs ``cids`` (.notdef always), each
    named by its old glyph id as its CID; ``None`` if the font is not a CID-keyed CFF one."""
    if font[:4] != b"OTTO":
        return None
    tables = {font[12 + 16 * t:16 + 16 * t]: struct.unpack(">II", font[20 + 16 * t:28 + 16 * t])
              for t in range(int.from_bytes(font[4:6], "big"))}
    if b"CFF " not in tables:
        return None
    offset, length = tables[b"CFF "]
    cff = font[offset:offset + length]
    names = _Index.at(cff, cff[2])
    tops = _Index.at(cff, names.end)
    strings = _Index.at(cff, tops.end)
    global_subrs = _Index.at(cff, strings.end)
    top = _parse_dict(tops[0])
    operands = {op: numbers for op, _, numbers in top}
    if ROS not in operands or FD_ARRAY not in operands or FD_SELECT not in operands:
        return None
    font_dict_of = _font_dict_of(cff, operands[FD_SELECT][0])
    if font_dict_of is None:
        return None
    charstrings = _Index.at(cff, operands[CHARSTRINGS][0])
    glyphs = sorted({0, *(cid for cid in cids if 0 <= cid < charstrings.count)})
    fd_of = [font_dict_of(glyph) for glyph in glyphs]
    used_fds = sorted(set(fd_of))
    font_dicts = _Index.at(cff, operands[FD_ARRAY][0])
    fd_entries = [_parse_dict(font_dicts[fd]) for fd in used_fds]
    privates = [_private(cff, entries) for entries in fd_entries]

    charset = b"\0" + b"".join(struct.pack(">H", glyph) for glyph in glyphs[1:])
    fd_select = b"\0" + bytes(used_fds.index(fd) for fd in fd_of)
    charstring_index = _index([charstrings[glyph] for glyph in glyphs])
    cid_count = max(operands.get(CID_COUNT, [DEFAULT_CID_COUNT])[0], glyphs[-1] + 1)
    if CID_COUNT not in operands:  # ROS comes first in a CID-keyed Top DICT
        top.insert(1, (CID_COUNT, b"", [cid_count]))

    def top_index(at: dict[int, int]) -> bytes:
        return _index([_dict(top, {op: [offset] for op, offset in at.items()}
                             | {CID_COUNT: [cid_count]})])

    def font_dict_index(private_at: list[int]) -> bytes:
        return _index([_dict(entries, {PRIVATE: [size, at]}) for entries, (size, _), at
                       in zip(fd_entries, privates, private_at, strict=True)])

    head = cff[:cff[2]] + names.raw
    at = {CHARSET: len(head) + len(top_index(dict.fromkeys((CHARSET, CHARSTRINGS, FD_ARRAY,
                                                            FD_SELECT), 0)))
          + len(strings.raw) + len(global_subrs.raw)}
    at[FD_SELECT] = at[CHARSET] + len(charset)
    at[CHARSTRINGS] = at[FD_SELECT] + len(fd_select)
    at[FD_ARRAY] = at[CHARSTRINGS] + len(charstring_index)
    private_at = [at[FD_ARRAY] + len(font_dict_index([0] * len(privates)))]
    for _, block in privates[:-1]:
        private_at.append(private_at[-1] + len(block))
    return b"".join((head, top_index(at), strings.raw, global_subrs.raw, charset, fd_select,
                     charstring_index, font_dict_index(private_at),
                     *(block for _, block in privates)))


def _private(cff: bytes, font_dict: list[_Entry]) -> tuple[int, bytes]:
    """A font dict's private dict, with its local subrs after it: (the dict's size, both)."""
    size, start = next(numbers for op, _, numbers in font_dict if op == PRIVATE)
    entries = _parse_dict(cff[start:start + size])
    subrs = next((numbers[0] for op, _, numbers in entries if op == SUBRS), None)
    if subrs is None:
        return size, cff[start:start + size]
    own_size = len(_dict(entries, {SUBRS: [0]}))  # local subrs follow the dict directly
    return own_size, _dict(entries, {SUBRS: [own_size]}) + _Index.at(cff, start + subrs).raw
