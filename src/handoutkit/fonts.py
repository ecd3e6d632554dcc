"""The installed fonts a language's font stack resolves to, as fontconfig says.

Kept apart from the checks (verify.py) so that an up-to-date build can ask which files a
language would be set in without loading the renderer.
"""

from __future__ import annotations

import bisect
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class InstalledFont:
    file: Path
    #: The code points the font covers, as sorted, inclusive (start, end) ranges.
    ranges: tuple[tuple[int, int], ...]

    def covers(self, codepoint: int) -> bool:
        index = bisect.bisect_right(self.ranges, (codepoint, 0x10FFFF)) - 1
        return index >= 0 and self.ranges[index][0] <= codepoint <= self.ranges[index][1]


@cache
def installed_font(family: str) -> InstalledFont | None:
    """An installed family's file and coverage, as fontconfig reports them, or ``None``.

    fontconfig's charset is a compact range list: reading a CJK font's cmap with fontTools
    instead would cost each worker process about 40 MB.
    """
    found = _fc_match(f"{family}:style=Regular")
    return found[1] if found and family in found[0] else None


@cache
def fallback_font(codepoint: int) -> InstalledFont | None:
    """The font fontconfig falls back to for a character no family of a stack draws, as the
    renderer (Pango) does, if one is installed that draws it."""
    found = _fc_match(f"sans-serif:style=Regular:charset={codepoint:x}")
    return found[1] if found and found[1].covers(codepoint) else None


@cache
def family_for_language(lang: str) -> str | None:
    """The family fontconfig picks for text in ``lang`` (an ISO 639 code), or ``None``."""
    found = _fc_match(f"sans-serif:style=Regular:lang={lang}")
    return found[0][0] if found else None


def _fc_match(pattern: str) -> tuple[list[str], InstalledFont] | None:
    """fontconfig's best match for ``pattern``: its family names, file and coverage."""
    try:
        found = subprocess.run(
            ["fc-match", "--format=%{family}\n%{file}\n%{charset}", pattern],
            capture_output=True, text=True, check=True, timeout=20).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    if len(found) < 3:
        return None
    ranges = []
    for item in found[2].split():
        first, _, last = item.partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return found[0].split(","), InstalledFont(Path(found[1]), tuple(sorted(ranges)))


def font_files(stack: str) -> list[Path]:
    """The installed files of a font stack, for the incremental build's key."""
    return [font.file for family in families(stack) if (font := installed_font(family))]


def families(stack: str) -> list[str]:
    return [name.strip().strip('"') for name in stack.split(",")
            if name.strip() not in ("sans-serif", "serif")]




#: What changes when fonts are installed or removed, or fontconfig's configuration changes:
#: its configuration files and folders, and the folders of its caches (fc-cache rewrites
#: them when fonts change). Stat-ing them costs a fraction of a millisecond; asking fc-match
#: for every language's fonts costs a subprocess each.
FONTCONFIG_PLACES = ("/etc/fonts/fonts.conf", "/etc/fonts/conf.d", "/etc/fonts/local.conf",
                     "/var/cache/fontconfig", "/usr/lib/fontconfig/cache",
                     "~/.config/fontconfig", "~/.cache/fontconfig", "~/.fonts",
                     "~/.local/share/fonts")


@cache
def fontconfig_stamp() -> str:
    """A fingerprint of fontconfig's state: an up-to-date build compares it before asking
    which files its languages' fonts resolve to now."""
    import hashlib
    import os

    digest = hashlib.sha256()
    for place in FONTCONFIG_PLACES:
        path = Path(os.path.expanduser(place))
        try:
            entries = [path, *sorted(path.iterdir())] if path.is_dir() else [path]
        except OSError:
            entries = [path]
        for entry in entries:
            try:
                info = entry.lstat()
            except OSError:
                continue
            digest.update(f"{entry}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
