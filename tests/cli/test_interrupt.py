"""Ctrl+C on the command line: one line and exit status 130 wherever it lands, never a
traceback; a command that writes holds it back until a whole step is done (HeldCtrlC)."""

from __future__ import annotations

import os
import signal

import pytest

import desktop.cli as cli


def test_ctrl_c_while_the_commands_load_is_one_line_and_130(monkeypatch, capsys):
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_load_extra_commands", interrupted)
    assert cli.main(["classify", "nothing.json"]) == cli.EXIT_INTERRUPTED == 130
    out, err = capsys.readouterr()
    assert out == "" and err == "motorchart: interrupted (Ctrl+C)\n"


def test_a_held_ctrl_c_is_noted_a_second_one_stops_at_once_and_the_handler_is_restored():
    before = signal.getsignal(signal.SIGINT)
    assert before is signal.default_int_handler
    with cli.HeldCtrlC() as ctrl_c:
        assert not ctrl_c.pressed
        os.kill(os.getpid(), signal.SIGINT)  # (handled before the next line runs)
        assert ctrl_c.pressed
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_where_ctrl_c_is_not_python_s_a_held_one_changes_nothing():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with cli.HeldCtrlC() as ctrl_c:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert not ctrl_c.pressed and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
