"""Write build outputs so that a crash or a failed build never leaves a half-written file.

Every file is written to a temporary file in the same folder, flushed to disk, and renamed
over the old one: readers see the old file or the new one, never a partial one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 3


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files a killed build left behind; finished files are never touched."""
    if folder.is_dir():
        for leftover in folder.rglob(".*.tmp"):
            leftover.unlink(missing_ok=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    return sha256(path.read_bytes())


@dataclass
class ManifestEntry:
    """What one PDF is, and what it was made from."""

    path: str
    handout: str
    lang: str
    level: str
    paper: str
    region: str | None
    large_print: bool
    also: str | None
    pages: int
    sha256: str
    bytes: int
    inputs: dict[str, str]
    #: One hash of everything the document depends on: unchanged means "skip it".
    key: str = ""
    #: Set when the last attempt to rebuild this document failed (the PDF is the older one).
    retry: bool = False
    fallbacks: list[str] = field(default_factory=list)
    readability: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    tool_version: str
    entries: dict[str, ManifestEntry] = field(default_factory=dict)

    @classmethod
    def read(cls, build_dir: Path, tool_version: str) -> Manifest:
        """The manifest of an earlier build, or an empty one if there is none we can use."""
        try:
            raw = json.loads((build_dir / MANIFEST_NAME).read_text("utf-8"))
            if raw.get("format") != MANIFEST_FORMAT:
                return cls(tool_version)
            entries = {e["path"]: ManifestEntry(**e) for e in raw["outputs"]}
        except (OSError, ValueError, KeyError, TypeError):
            return cls(tool_version)
        return cls(tool_version, entries)

    def write(self, build_dir: Path) -> None:
        outputs = [asdict(self.entries[key]) for key in sorted(self.entries)]
        text = json.dumps({"format": MANIFEST_FORMAT, "tool_version": self.tool_version,
                           "outputs": outputs}, indent=2, ensure_ascii=False)
        write_atomic(build_dir / MANIFEST_NAME, text.encode("utf-8") + b"\n")
