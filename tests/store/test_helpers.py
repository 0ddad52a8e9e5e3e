"""The helper processes of the bulk paths (desktop.store.helpers): how they start and end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktop.store.helpers import chunks, helper_pool, in_order
from tests.store.conftest import process_alive as _alive

ROOT = Path(__file__).resolve().parents[2]


def _square(x: int) -> int:
    return x * x


def test_the_helpers_hand_back_every_result_in_order():
    pool = helper_pool(2)
    if pool is None:
        pytest.skip("helpers cannot start here")
    assert list(in_order(pool, _square, iter(range(50)), ahead=3)) == [x * x for x in range(50)]


def test_one_helper_is_no_pool():
    assert helper_pool(1) is None


def test_chunks_keep_every_item_once_in_order():
    assert list(chunks(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 3)) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_ctrl_c_while_the_helpers_are_forked_ends_them_and_the_program(tmp_path):
    """CPython's pool forks its helpers before it starts the thread that feeds and ends them. A
    Ctrl+C that lands between the two (here: sent by the launch itself, the moment the helpers
    exist) must still end the program and its helpers; it used to leave helpers that nothing
    ended, and the program's exit waited on them for ever (a CI run timed out on it)."""
    script = textwrap.dedent("""
        import os, signal, sys, time
        import concurrent.futures.process as process
        from desktop.store.helpers import helper_pool

        launch = process.ProcessPoolExecutor._launch_processes

        def launch_then_ctrl_c(self):
            launch(self)
            print(*[p.pid for p in self._processes.values()], flush=True)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # (the Ctrl+C arrives before the feeding thread starts)

        process.ProcessPoolExecutor._launch_processes = launch_then_ctrl_c
        try:
            helper_pool(2)
        except KeyboardInterrupt:
            sys.exit(130)
        sys.exit(0)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the program did not end after Ctrl+C while its helpers were forked")
    assert proc.returncode == 130, err
    helpers = [int(pid) for pid in out.split()]
    assert len(helpers) == 2
    deadline = time.monotonic() + 10
    while any(map(_alive, helpers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(_alive, helpers))
