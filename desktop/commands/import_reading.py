"""Reading an import's files: every file read, checked and turned into rows before anything is
written (:func:`read_files`), by helper processes when there are many (:func:`import_helpers`),
within a memory bound (:data:`HELD_BYTES`). The ``import`` command itself, which writes the
chart one file at a time, is :func:`desktop.commands.store.cmd_import`."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generator, Iterator

from desktop.cli import UserError


@dataclass
class PreparedFile:
    """One import file after :func:`prepare_file`: the lines saying why it is not a valid case
    (``problems``), or its rows (a :class:`desktop.store.rows.PreparedImport`, or the reason
    the chart must refuse it), the UUIDs of its visits (a FHIR bundle's) and, when it was read
    in this process, the case itself."""

    path: str
    problems: list[str] | None = None
    prepared: object = None
    uuids: dict | None = None
    case: object = None


def _read_for_import(path: str, today, format: str):
    from desktop.commands.fhir import read_import_file

    return read_import_file(path, today=today, format=format)


def prepare_file(path: str, today, format: str = "auto", *, keep_case: bool = True, rows: bool = True
                 ) -> PreparedFile:
    """Read, check and turn into rows one import file (:func:`desktop.store.rows.prepare_import`;
    without ``rows``, only read and checked);
    the cyclic garbage collector is paused meanwhile (a case file is a large tree of fresh
    objects that reference counting frees)."""
    from desktop.store.errors import ImportRefused
    from desktop.store.rows import prepare_import
    from domain.gc_pause import paused_gc

    with paused_gc():
        try:
            case, uuids = _read_for_import(path, today, format)
        except UserError as e:
            return PreparedFile(path, problems=list(e.problems))
        if not rows:  # (only checked)
            return PreparedFile(path)
        try:
            prepared = prepare_import(case, today)
        except ImportRefused as e:
            prepared = str(e)
        return PreparedFile(path, prepared=prepared, uuids=uuids, case=case if keep_case else None)


def _read_one(path: str, today, format: str, keep: bool) -> tuple[list[str] | None, bytes | None]:
    """One file read by an import: why it is not a valid case (or None) and, if ``keep`` and
    it is one, its :class:`PreparedFile` pickled (its rows, compact until they are written);
    without ``keep``, the file is only checked."""
    import pickle

    item = prepare_file(path, today, format, keep_case=False, rows=keep)
    return item.problems, (pickle.dumps(item, pickle.HIGHEST_PROTOCOL) if keep and not item.problems else None)


def _read_in_helper(job) -> list[tuple[list[str] | None, bytes | None]]:
    paths, today, format, keep = job
    return [_read_one(path, today, format, keep) for path in paths]


PARALLEL_FROM = 64
"""Files from which an import reads them in helper processes (fewer: in this one, where
starting the helpers would cost more than it saves)."""

CHUNK = 8
"""Files in one helper job."""

HELD_BYTES = 256 * 2**20
"""How much of an import's rows its first pass holds (pickled, about 4.4 kB a visit: some
60,000 visits). The files after that are only checked, and read again for their rows while
the chart is written, so a registry of any size is imported in bounded memory."""


@dataclass
class Helpers:
    """An import's helper processes (:func:`import_helpers`): the pool, and how many."""

    pool: object
    workers: int


@contextmanager
def import_helpers(n_files: int, workers: int | None = None) -> Iterator[Helpers | None]:
    """The helper processes an import of ``n_files`` files reads them with (one a core, from
    :data:`PARALLEL_FROM` files), or None (this process reads them); shut down on the way out,
    whatever is still waiting for them dropped. Start them before the chart is opened: forked
    then, they hold no connection to it."""
    from desktop.store.helpers import cores, helper_pool

    workers = workers if workers is not None else cores()
    pool = None
    if workers > 1 and n_files >= PARALLEL_FROM:
        from desktop.resources import load_catalogue

        load_catalogue()  # (read once, here: the helpers inherit it)
        pool = helper_pool(workers)
    try:
        yield None if pool is None else Helpers(pool, workers)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class PreparedFiles:
    """An import's files turned into rows (:class:`PreparedFile`), in order, as they are taken
    (:func:`read_files`). ``held``: how many of them the first pass held, the rest being read
    again as they are taken; ``in_helpers``: whether helper processes did the first pass."""

    def __init__(self, files: Generator[PreparedFile, None, None], held: int, in_helpers: bool):
        self._files = files
        self.held = held
        self.in_helpers = in_helpers

    def __iter__(self) -> Iterator[PreparedFile]:
        return self._files

    def close(self) -> None:
        """Stop: what the helpers still had to do is dropped."""
        self._files.close()


def read_files(paths: list[str], *, today, format: str = "auto", helpers: Helpers | None = None,
               held_bytes: int | None = None) -> tuple[list[str], PreparedFiles]:
    """Every file read and checked: the lines saying why files are not valid cases (none:
    the import may go on), then the files turned into rows (:func:`prepare_file`), in order,
    as they are taken.

    The first pass holds the rows of the first files, pickled, up to ``held_bytes``
    (:data:`HELD_BYTES`); the files after those are only checked, and read again for their rows
    as they are taken (while the chart is written; a file changed in between is then refused
    alone: :func:`desktop.commands.store._import_one`). ``helpers`` (:func:`import_helpers`)
    read the files, in order; should one be killed (out of memory?), this process reads the
    files they had not given back yet, on the same terms."""
    held_bytes = HELD_BYTES if held_bytes is None else held_bytes
    held: list[bytes] = []
    size = 0
    holding = held_bytes > 0  # (a prefix of the files: once one is not held, the rest are read again)
    problems: list[str] = []
    reader = _Reader(paths, today, format, helpers)
    for lines, blob in reader.read(lambda: holding):
        problems += lines or ()
        if holding and blob is not None:
            held.append(blob)
            size += len(blob)
            holding = size < held_bytes
        else:
            holding = False  # (from here on, the files are only checked)
    return problems, PreparedFiles(_rows(reader, held), len(held), reader.helpers is not None)


class _Reader:
    """Reads an import's files in order, by its helpers or, without them (or once one was
    killed), in this process."""

    def __init__(self, paths: list[str], today, format: str, helpers: Helpers | None):
        self.paths, self.today, self.format, self.helpers = paths, today, format, helpers

    def read(self, keep, start: int = 0) -> Iterator[tuple[list[str] | None, bytes | None]]:
        """:func:`_read_one` of each file from ``start``, ``keep()`` asked as each is sent."""
        from concurrent.futures.process import BrokenProcessPool

        from desktop.store.helpers import chunks, in_order

        paths, done = self.paths[start:], 0
        if self.helpers is not None:
            jobs = ((chunk, self.today, self.format, keep()) for chunk in chunks(paths, CHUNK))
            try:
                for made in in_order(self.helpers.pool, _read_in_helper, jobs, ahead=4 * self.helpers.workers,
                                     keep=True):
                    for result in made:
                        done += 1
                        yield result
                return
            except BrokenProcessPool:  # (the pool is shut down: this process goes on)
                self.helpers = None
        for path in paths[done:]:
            yield _read_one(path, self.today, self.format, keep())


def _rows(reader: _Reader, held: list[bytes]) -> Generator[PreparedFile, None, None]:
    """The prepared files: the first ones from ``held`` (pickled), the rest read again."""
    import pickle

    for i in range(len(held)):
        blob, held[i] = held[i], b""  # (let each go once it is taken)
        yield pickle.loads(blob)
    paths = reader.paths
    for i, (lines, blob) in enumerate(reader.read(lambda: True, start=len(held)), start=len(held)):
        yield pickle.loads(blob) if blob is not None else PreparedFile(paths[i], problems=lines)
