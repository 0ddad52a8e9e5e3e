"""Pausing Python's cyclic garbage collector around work that makes many objects at once.

The collector runs every few hundred allocations and traverses every young object again; work
that builds large trees of fresh objects (a classification, a case file read, a bulk write) pays
for that over and over, and those objects are freed by reference counting anyway (issue 20).
"""

from __future__ import annotations

import gc


class paused_gc:  # noqa: N801  (used as a function: ``with paused_gc():``)
    """No cyclic collection inside the block; the collector is restored as it was, whatever
    happens (one paused by someone else stays theirs).

    A class, not a generator: a generator-based context manager allocates (its StopIteration)
    just after the collector is back on, and that allocation set off at once the collection
    the pause had put off, over every object the block made (about 3 ms after a 30-visit
    classification). Restored last thing, the collector runs when the caller next allocates,
    as it would have without the pause."""

    __slots__ = ("_paused",)

    def __enter__(self) -> None:
        self._paused = gc.isenabled()
        if self._paused:
            gc.disable()

    def __exit__(self, *exc) -> bool:
        if self._paused:
            gc.enable()
        return False
