"""Write build outputs so that a crash or a failed build never leaves a half-written file.

Every file is written to a temporary file in the same folder, flushed to disk, and renamed
over the old one: readers see the old file or the new one, never a partial one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import HandoutkitError, InputError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 5
#: Format 4 lacks what a no-op decides from (``context``, ``due``): its entries are checked the
#: slow way once, then written as format 5.
READABLE_FORMATS = (4, MANIFEST_FORMAT)
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
    # SIGTERM and SIGHUP end a build as Ctrl-C does, by an exception: held until the file is
    # whole, so that none lands between making the temporary file and cleaning it up.
    with signals_held():
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


#: Set once a signal asked the build to stop (see :func:`ended_by_signals`).
_stop_asked = threading.Event()
#: What ends a build: Ctrl-C, SIGTERM and SIGHUP.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def ended_by_signals() -> Iterator[None]:
    """Ctrl-C, SIGTERM (a container stopping, `timeout`, a cancelled CI job) and SIGHUP (a
    closed terminal) end a build the same way: a ``KeyboardInterrupt`` that stops the workers
    and removes temporary files. Python drops an exception it cannot raise (in an at-fork
    hook of a fork made outside :func:`signals_held`, in a finaliser), so the request is also
    kept, and the build's loops ask :func:`raise_if_stopped` between documents."""
    def interrupt(signum: int, frame: object) -> None:
        _stop_asked.set()
        raise KeyboardInterrupt

    _stop_asked.clear()
    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        asked = _stop_asked.is_set()
        _stop_asked.clear()  # a later build, or the desk, in this process is not stopped
    if asked:  # the block ended though a signal asked it to stop: its exception was lost
        raise KeyboardInterrupt


def raise_if_stopped() -> None:
    """End the build now if a signal asked it to stop and its exception was lost."""
    if _stop_asked.is_set():
        raise KeyboardInterrupt


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block is done (main thread only: Python
    runs signal handlers there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _default_mode())
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

    @property
    def fd(self) -> int | None:
        """The open lock file: a forked worker must close its copy, so that the lock is the
        build's alone and goes with it (flock belongs to the open file, which forks share)."""
        return self._fd

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class BuildBusy(HandoutkitError):
    """Another build holds the build folder's lock for longer than we may wait."""

    def __init__(self, out_dir: Path, timeout: float):
        super().__init__(f"another handout build is writing to {out_dir}; gave up after "
                         f"waiting {timeout:g} s (try again when it has finished)")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: A file changed this recently may change again within its timestamps' resolution without
#: a visible change (as git's "racily clean" files): its hash is not remembered.
_SETTLE_NS = 2_000_000_000
_hashes: dict[Path, tuple[tuple[int, int, int, int], str]] = {}


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read once per process while the file stays the same
    (same inode, size, modification and change times)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a pipe would hang, a device never end
        raise InputError.at("not a regular file (a pipe, a device or a folder)", path,
                            hint="replace it with the file itself")
    signature = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    known = _hashes.get(path)
    if known is not None and known[0] == signature:
        return known[1]
    digest = sha256(path.read_bytes())
    if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > _SETTLE_NS:
        _hashes[path] = (signature, digest)
    return digest


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
    #: The hash of what besides its files decides the document (the job, the options that
    #: gate it, the tool's version): with ``inputs``, what a no-op checks before parsing.
    context: str = ""
    #: Every dated fact and help line it prints, ``[what, review_by, file]``: an up-to-date
    #: document is judged stale from these, without parsing its region.
    due: list[list[str]] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    #: ``{"status": "source" | "reviewed" | "draft", "reviewed_by", "reviewed_on", …}``
    translation: dict[str, Any] = field(default_factory=dict)
    readability: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: The PDF's identity when it was written (inode, size, modification and change times):
    #: while the file keeps it, it is the PDF recorded; any edit in place changes the change
    #: time, which no one can set back, so the file is hashed again.
    stamp: list[int] = field(default_factory=list)
    #: The fonts embedded in the PDF (their PostScript names), as the PDF says.
    fonts: list[str] = field(default_factory=list)


def file_stamp(path: Path) -> list[int]:
    """``path``'s identity for :attr:`ManifestEntry.stamp`."""
    info = path.stat()
    return [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


@dataclass
class Manifest:
    tool_version: str
    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    #: Whether an entry was added or changed since it was read: only then is it written.
    changed: bool = False
    #: Its file in the build folder: ``manifest.json``, or a shard's part.
    name: str = MANIFEST_NAME

    @classmethod
    def read(cls, build_dir: Path, tool_version: str, name: str = MANIFEST_NAME) -> Manifest:
        """The manifest of an earlier build, or an empty one if there is none we can use."""
        path = build_dir / name
        try:
            raw = json.loads(path.read_bytes())
            if raw.get("format") not in READABLE_FORMATS:
                return cls(tool_version, name=name)
            entries = {e["path"]: ManifestEntry(**e) for e in raw["outputs"]}
            for entry in entries.values():  # what a no-op reads without parsing anything
                for what, on, file in entry.due:
                    dt.date.fromisoformat(on)
                    if not isinstance(what, str) or not isinstance(file, str):
                        raise TypeError("a due row is not three strings")
        # A manifest we cannot use (edited, damaged, of another tool) is no record at all:
        # every document is checked the slow way and the manifest written afresh.
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls(tool_version, name=name)
        return cls(tool_version, entries, raw["format"] != MANIFEST_FORMAT, name)

    def put(self, entry: ManifestEntry) -> None:
        self.entries[entry.path] = entry
        self.changed = True

    def retry(self, path: str) -> None:
        """Note that ``path`` failed to rebuild: its PDF, if any, is the older one."""
        entry = self.entries.get(path)
        if entry is not None and not entry.retry:
            entry.retry = True
            self.changed = True

    def intact(self, entry: ManifestEntry, target: Path) -> bool:
        """Whether ``target`` is the PDF ``entry`` records: hashed unless it keeps the identity
        recorded when it was written (the manifest's own time proves nothing: it can be
        touched)."""
        try:
            stamp = file_stamp(target)
        except OSError:
            return False
        if stamp[1] != entry.bytes:
            return False
        return stamp == entry.stamp or file_sha256(target) == entry.sha256

    def write(self, build_dir: Path) -> None:
        outputs = [vars(self.entries[key]) for key in sorted(self.entries)]  # JSON values
        text = json.dumps({"format": MANIFEST_FORMAT, "tool_version": self.tool_version,
                           "outputs": outputs}, indent=2, ensure_ascii=False)
        path = build_dir / self.name
        if path.is_dir() and not path.is_symlink():
            raise InputError.at("the manifest's place is taken by a folder", path,
                                hint="remove or rename the folder; handoutkit writes a file "
                                     "there")
        write_atomic(path, text.encode("utf-8") + b"\n")
