"""Which host names a local web page answers to: the desk and the live preview refuse a
request naming any other (a page on another site could otherwise reach them through the
browser, by DNS rebinding)."""

from __future__ import annotations

import socket

from .errors import InputError

#: The names of this machine's loopback address, which every local page answers to.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:8000`` → ``::1``)."""
    if header.startswith("["):
        return header[1:].split("]")[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def listening_socket(host: str, port: int, hint: str) -> socket.socket:
    """A socket bound to ``host:port`` before the address is announced: a port another
    program holds is an input error naming it, not a server failing after it said where it
    was (where another desk, maybe another project's, answers)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                             socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise InputError.at(f"cannot listen on {host}:{port}: {exc.strerror}",
                            hint=hint) from None
    return listener
