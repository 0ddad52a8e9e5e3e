"""read_input_file: a named file's bytes, read as far as its size says, never more than the
bound and one byte in memory (issue 17's limit, issue 20's speed). Real files and a real pipe."""

from __future__ import annotations

import os
import threading

import pytest

from desktop.cli import UserError, read_input_file


@pytest.mark.parametrize("n", [0, 1, 99, 100, 4096 * 3 + 7])
def test_a_file_within_the_bound_is_read_whole(tmp_path, n):
    f = tmp_path / "case.json"
    f.write_bytes(bytes(range(256)) * (n // 256) + bytes(range(n % 256)))
    assert read_input_file(str(f), max(n, 100), "a case file") == f.read_bytes()


@pytest.mark.parametrize("n", [101, 102, 10_000])
def test_a_file_over_the_bound_gives_the_bound_and_one_byte(tmp_path, n):
    f = tmp_path / "case.json"
    f.write_bytes(b"x" * n)
    assert read_input_file(str(f), 100, "a case file") == b"x" * 101


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="a named pipe (POSIX)")
@pytest.mark.parametrize("n, expected", [(5_000, 5_000), (70_000, 60_001)])
def test_a_pipe_whose_size_says_nothing_is_read_to_its_end_or_the_bound(tmp_path, n, expected):
    fifo = tmp_path / "case.json"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as w:
            try:
                for i in range(0, n, 1000):
                    w.write(b"y" * min(1000, n - i))
            except BrokenPipeError:  # (the reader stopped at its bound)
                pass

    t = threading.Thread(target=feed)
    t.start()
    try:
        assert read_input_file(str(fifo), 60_000, "a case file") == b"y" * expected
    finally:
        t.join(timeout=10)


def test_a_missing_file_and_a_folder_are_one_line_each(tmp_path):
    with pytest.raises(UserError) as e:
        read_input_file(str(tmp_path / "none.json"), 100, "a case file")
    assert e.value.problems == [f"{tmp_path / 'none.json'}: no such file"]
    with pytest.raises(UserError) as e:
        read_input_file(str(tmp_path), 100, "a case file")
    assert e.value.problems == [f"{tmp_path}: is a folder, not a case file"]
