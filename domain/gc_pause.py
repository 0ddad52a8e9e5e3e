"""Pausing Python's cyclic garbage collector around work that makes many objects at once.

The collector runs every few hundred allocations and traverses every young object again; work
that builds large trees of fresh objects (a classification, a case file read, a bulk write) pays
for that over and over, and those objects are freed by reference counting anyway (issue 20).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block; the collector is restored as it was, whatever
    happens (one paused by someone else stays theirs), and then looks at what the block made
    as usual."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
