"""Helper processes for the bulk paths (issue 20): a bulk import's files are read, checked and
turned into rows in them, and the demo clinic's patients made, classified and signed; the
chart is written by the process that has it open. One place says how they start and end."""

from __future__ import annotations

import os


def helper_pool(workers: int):
    """A pool of ``workers`` helper processes, or None where they cannot be started (no fork,
    no semaphores). Forked: they inherit what is loaded (the catalogue) and never touch the
    parent's chart connection; each dies with the process that made it and leaves Ctrl+C to
    it (:func:`_helper_start`). The bulk paths use them only for large jobs (a bulk import of
    64 files or more, a demo clinic of 500 patients or more), never the window's own work."""
    if workers < 2:
        return None
    try:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_helper_start, initargs=(os.getpid(),))
    except (OSError, ValueError, ImportError):
        return None
    try:
        _start(pool)
    except (OSError, BrokenProcessPool):
        return None
    return pool


def _start(pool) -> None:
    """Start ``pool``'s helpers with Ctrl+C held back until they run. CPython's pool forks its
    helpers, then starts the thread that feeds and ends them; a Ctrl+C that landed between the
    two left helpers that nothing ends, and the interpreter's exit waited on them for ever (seen
    once in CI). Held back, it is raised the moment the pool is whole, and the pool is shut down
    on the way out. Any other failure to start shuts it down too."""
    import signal
    import threading

    hold = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hold else None
        try:
            pool.submit(os.getpid).result()
        finally:
            if hold:
                signal.pthread_sigmask(signal.SIG_SETMASK, before)  # (a held Ctrl+C is raised here)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def cores() -> int:
    """How many helpers a bulk path starts: one a core, at most eight."""
    return min(os.cpu_count() or 1, 8)


def _helper_start(parent: int) -> None:
    """A helper's first step: it dies with the process that made it (Linux: the kernel kills it
    when that process ends, even by SIGKILL; elsewhere a thread watches for that), so a killed
    bulk path leaves no helper behind, and it leaves Ctrl+C to that process."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL) != 0:  # PR_SET_PDEATHSIG
            raise OSError("prctl")
    except (OSError, AttributeError, ImportError):
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="motorchart-helper-watch", daemon=True).start()
    if os.getppid() != parent:  # (the parent ended before the line above took effect)
        os._exit(1)


def chunks(items, size: int):
    """``items`` (any iterable, read as the chunks are taken) in lists of ``size``, the last
    one shorter: a helper's job is a chunk, so each send costs one message, not one an item."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def in_order(pool, fn, jobs, *, ahead: int, keep: bool = False):
    """``fn(job)`` of every job in ``jobs`` (an iterator, read as the results are taken) by the
    helpers in ``pool``, yielded in order; at most ``ahead`` jobs are out at once, so memory
    stays bounded however many jobs there are. Stopping (an error, Ctrl+C, the generator
    closed) cancels what is still waiting and shuts the pool down; so does the end, unless
    ``keep`` (the pool has more to do)."""
    from collections import deque

    out: deque = deque()
    jobs = iter(jobs)
    try:
        for job in jobs:
            out.append(pool.submit(fn, job))
            if len(out) >= ahead:
                yield out.popleft().result()
        while out:
            yield out.popleft().result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    if not keep:
        pool.shutdown()
