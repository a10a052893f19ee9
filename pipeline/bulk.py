"""Bulk loading without the cyclic garbage collector walking what is being loaded."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a restore makes millions of records and states
    that are not garbage: each collection would walk every tracked object the process
    holds, a quarter of a restore's time at 1e6 conversations (README, State). Memory is
    still freed by reference counts; the collector resumes after, if it was on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
