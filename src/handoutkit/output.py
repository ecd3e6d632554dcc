"""Write build outputs so that a crash or a failed build never leaves a half-written file.

Every file is written to a temporary file in the same folder, flushed to disk, and renamed
over the old one: readers see the old file or the new one, never a partial one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 4
LOCK_NAME = ".handoutkit.lock"
#: Every temporary file this tool writes starts with this, so cleanup never touches others'.
TEMP_PREFIX = ".handoutkit-"
TEMP_SUFFIX = ".tmp"


def _default_mode() -> int:
    """The mode a new file gets under the process's umask (0644 under umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so readers see the old or the new file, never a partial one.

    The file keeps its mode if it exists, and gets the umask's mode if it is new (a temporary
    file is private to its writer, 0600, until renamed).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = _default_mode()
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.",
                                    suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fchmod(tmp.fileno(), mode)
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def remove_leftovers(out_dir: Path, folders: set[Path]) -> None:
    """Delete temporary files a killed build of ours left in the folders it writes.

    Only our own prefix, only those folders, never recursively: ``-o ~`` must not touch a
    user's ``.notes.odt.tmp``. Call it holding the build lock, so no running build of ours
    is writing them.
    """
    for folder in {out_dir, *folders}:
        if folder.is_dir():
            for leftover in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
                if leftover.is_file() and not leftover.is_symlink():
                    leftover.unlink(missing_ok=True)


def check_writable(out_dir: Path) -> None:
    """Fail before any work if the build folder cannot be made or written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError.at("the build folder is a file, not a folder", out_dir,
                            hint="pass another --out, or move the file") from None
    except OSError as exc:
        raise InputError.at(f"cannot create the build folder: {exc.strerror}", out_dir,
                            hint="pass another --out") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise InputError.at("the build folder is not writable", out_dir,
                            hint="pass another --out, or fix its permissions")


class BuildLock:
    """One build at a time per build folder; a second one waits, then gives up clearly."""

    def __init__(self, out_dir: Path, timeout: float):
        self.path = out_dir / LOCK_NAME
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, _default_mode())
        except OSError as exc:
            raise InputError.at(f"cannot lock the build folder: {exc.strerror}",
                                self.path.parent, hint="pass another --out") from None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise BuildBusy(self.path.parent, self.timeout) from None
                time.sleep(0.1)  # polling: flock has no timeout of its own
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class BuildBusy(Exception):
    """Another build holds the build folder's lock for longer than we may wait."""

    def __init__(self, out_dir: Path, timeout: float):
        super().__init__(f"another handout build is writing to {out_dir}; gave up after "
                         f"waiting {timeout:g} s (try again when it has finished)")


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
    preview: bool = False
    #: One hash of everything the document depends on: unchanged means "skip it".
    key: str = ""
    #: Set when the last attempt to rebuild this document failed (the PDF is the older one).
    retry: bool = False
    fallbacks: list[str] = field(default_factory=list)
    #: ``{"status": "source" | "reviewed" | "draft", "reviewed_by", "reviewed_on", …}``
    translation: dict[str, Any] = field(default_factory=dict)
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
