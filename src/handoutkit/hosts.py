"""Which host names a local web page answers to: the desk and the live preview refuse a
request naming any other (a page on another site could otherwise reach them through the
browser, by DNS rebinding)."""

from __future__ import annotations

#: The names of this machine's loopback address, which every local page answers to.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:8000`` → ``::1``)."""
    if header.startswith("["):
        return header[1:].split("]")[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
