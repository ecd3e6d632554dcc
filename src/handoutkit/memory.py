"""The cycle collector, paused while a stage makes many objects at once.

Python runs its cycle collector every 700 new objects, and each run traces the objects still
alive. A render makes a few hundred thousand short-lived ones (WeasyPrint's boxes) and the
syllable estimator holds a hundred thousand words while it works: there the collector spends
about a tenth of the CPU finding nothing. Paused for the stage, it runs once after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause the cycle collector for the block (reference counting still frees almost every
    object at once); leave it paused if it already was, by another thread's stage or the
    caller."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
