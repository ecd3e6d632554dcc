"""Reading the user's files: regular files only, bounded while reading.

A pipe would hang a command and ``/dev/zero`` would never end: everything handoutkit reads
from a project (content, catalogs, clinic profiles, logos, theme overrides) comes through
here, and every way it can fail is an :class:`~handoutkit.errors.InputError`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError


def read_limited(path: Path, max_bytes: int, kind: str) -> bytes:
    """A file's bytes, every way it can fail an :class:`InputError`. Only a regular file is
    read, and its size is checked while reading, not from what ``stat`` said beforehand."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        _require_regular(fd, path, kind)
        with os.fdopen(fd, "rb") as stream:
            data = stream.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError.at(f"{kind} not found", path) from None
    except IsADirectoryError:
        raise InputError.at(f"{kind} is a folder, not a file", path) from None
    except OSError as exc:
        raise InputError.at(f"cannot read {kind}: {exc.strerror}", path) from None
    if len(data) > max_bytes:
        raise InputError.at(f"{kind} is over the limit of {max_bytes:,} bytes", path,
                            hint="split it, or check that this is the right file")
    return data


def _require_regular(fd: int, path: Path, kind: str) -> None:
    """Go on with a regular file; otherwise close ``fd`` and raise an input error."""
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise InputError.at(f"{kind} is a folder, not a file", path)
    raise InputError.at(f"{kind} is not a regular file (a pipe, a device or a socket)", path,
                        hint="replace it with the file itself")
