"""The desk's limits on an open network, and a desk killed with -9 leaving nothing behind."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import handoutkit.serve as desk
from handoutkit import Project

from .conftest import HANDOUT, ROOT, alive, children

#: A hang guard, far above what the desk takes; never a measure of it.
GUARD = 120.0


def test_log_lines_are_rate_limited_and_the_dropped_ones_counted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(desk.time, "monotonic", lambda: now[0])
    limit = desk._RateLimitedLog()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "GET /", (), None)
    passed = sum(limit.filter(record) for _ in range(desk.LOG_BURST + 500))
    assert passed == desk.LOG_BURST  # a flood: the burst, then nothing
    now[0] += 1.0  # a second later: some lines again, the first saying how many were lost
    fresh = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "GET /", (), None)
    assert limit.filter(fresh) and "(500 log lines dropped)" in str(fresh.msg)


def test_connections_are_limited_below_the_descriptor_limit() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = desk.connection_limit()
    assert limit <= max(16, soft - desk.SPARE_DESCRIPTORS)
    config = desk.server_config(desk.create_app(Project(ROOT)), "127.0.0.1", 8000)
    assert config.limit_concurrency == limit
    assert config.timeout_keep_alive == desk.KEEP_ALIVE_SECONDS


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_a_desk_killed_with_sigkill_leaves_no_process(tmp_path: Path) -> None:
    """Started by a launcher without an ``if __name__ == "__main__"`` guard (a hand-made
    one; pip's has the guard): its workers must not run the command again. Then killed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handout = tmp_path / "handout"
    handout.write_text(f"#!{sys.executable}\nfrom handoutkit.cli import app\napp()\n")
    handout.chmod(0o755)
    # A build folder with nothing in it: the render goes to a worker even after `make build`.
    process = subprocess.Popen([str(handout), "serve", "--port", str(port), "--workers", "1",
                                "--build-dir", str(tmp_path / "no-build"),
                                "--project", str(ROOT)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + GUARD  # a hang guard for the port to open
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=GUARD) as client:
            while True:
                try:
                    if client.get("/healthz").json()["ready"]:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)  # another process's port and workers: no event to await
            params = {"handout": HANDOUT, "lang": "en", "level": "easy"}
            assert client.get("/api/render", params=params).status_code == 200
        # The render pool's workers and multiprocessing's resource tracker.
        helpers = set()
        for child in children(process.pid):
            helpers |= {child, *children(child)}
        assert helpers, "the desk started no worker"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=GUARD)
        deadline = time.monotonic() + GUARD
        while any(alive(pid) for pid in helpers):
            assert time.monotonic() < deadline, "a worker outlived the desk"
            time.sleep(0.05)  # polling another process's children: no event to await
    finally:
        if process.poll() is None:
            process.kill()
