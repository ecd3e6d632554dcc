"""Worker processes: a build's render workers, and how every worker (a build's or the desk's)
ends with the process that started it.

A build imports this only when it has two or more documents to render on two or more cores,
so a no-op never loads multiprocessing. The workers are forked: each inherits the parsed
inputs rather than parsing them again, and returns bytes; only the build writes.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from .output import STOP_SIGNALS, raise_if_stopped, signals_held

Result = TypeVar("Result")

#: What the workers render with, and the build that asked: set before the pool forks, so
#: they inherit it loaded.
_WORKER: tuple[Callable[[int], Any], int] | None = None


def render_parallel(render: Callable[[int], Result], todo: list[int], workers: int,
                    started: Callable[[int], None], finish: Callable[[int, Result], bool],
                    lock_fd: int | None = None) -> None:
    """``render`` each index of ``todo`` in up to ``workers`` forked processes. ``started``
    is told of each as it is handed out; ``finish`` gets each result here, in this process,
    and says whether to go on (``--fail-fast`` stops after a failure)."""
    global _WORKER
    _WORKER = (render, os.getpid())
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # What the workers inherit is never garbage to them: frozen, their collections skip it
    # (and leave its memory shared with this process, not copied).
    gc.freeze()
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context,
                               initializer=die_with_parent, initargs=(os.getpid(), lock_fd))
    try:
        queue = list(todo)
        pending: set[Future[tuple[int, Result]]] = set()
        # Hand out no more than the workers can take, so --fail-fast stops promptly.
        while queue or pending:
            while queue and len(pending) < workers:
                index = queue.pop(0)
                started(index)
                # The first submits fork the workers. A stop signal handled in an at-fork
                # hook raises where Python drops the exception, and in logging's hook it
                # leaves logging's lock held: any other thread that logs then hangs, and
                # the build with it. Held here, the signal ends the build after the fork.
                with signals_held():
                    pending.add(pool.submit(_worker_render, index))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            raise_if_stopped()
            for future in done:
                if not finish(*future.result()):
                    queue.clear()
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM, SIGHUP): stop the workers now rather than wait for
        # the documents they are making; nothing they make is written.
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(OSError):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown()
    finally:
        _WORKER = None
        gc.unfreeze()


def _worker_render(index: int) -> tuple[int, Any]:
    assert _WORKER is not None
    render, parent = _WORKER
    if os.getppid() != parent:  # the build that asked for this is gone: do nothing
        os._exit(1)
    return index, render(index)


#: Linux's prctl option that sends the child a signal when its parent dies.
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, lock_fd: int | None = None) -> None:
    """First thing in each worker process (of a build or the desk): let go of the build
    folder's lock, which is the build's alone, and die with ``parent``, however it ends
    (``kill -9`` included): an orphaned worker would hold the lock, and its memory.

    A build's workers are its children. The desk's are a fork server's, which lives as long
    as they do, so they watch the desk itself."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held while it was forked
    if lock_fd is not None:
        with contextlib.suppress(OSError):
            os.close(lock_fd)
    if os.getppid() == parent:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # it died before the signal was asked for
                    os._exit(1)
                return
        except (OSError, AttributeError):  # not Linux
            pass
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """Wait for ``parent`` to end (on Linux, an event on its pidfd), then end this process."""
    import select

    try:
        handle = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux, or before 5.3)
        while _alive(parent):
            time.sleep(0.5)  # no portable event for another process's end
        os._exit(1)
    select.select([handle], [], [])  # readable when the process ends
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        pass
    return True
