"""On a fresh Linux desktop Qt's xcb platform plugin cannot load without libxcb-cursor0,
libxcb-icccm4 and libxcb-keysyms1, and Qt then aborts the process. `motorchart` checks them
before Qt starts and prints the install line instead, exiting 2. The library loader is
simulated: nothing here starts Qt."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import desktop.launch as launch
from desktop.launch import XCB_INSTALL, main, xcb_expected, xcb_problem

ROOT = Path(__file__).resolve().parents[2]
INSTALL_LINE = "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"


@pytest.fixture
def no_qt(monkeypatch):
    """The app's module cannot be imported: reaching Qt fails the test."""
    monkeypatch.setitem(sys.modules, "desktop.ui.app", None)


def missing(*sonames):
    return lambda soname: soname not in sonames


def test_the_install_line_names_the_three_debian_packages():
    assert XCB_INSTALL == INSTALL_LINE


def test_a_missing_library_prints_the_install_line_and_exits_2_before_qt_starts(monkeypatch, capsys, no_qt):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(launch, "_load_library", missing("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    first, last = err.strip().splitlines()
    assert last == INSTALL_LINE
    assert "libxcb-icccm4, libxcb-keysyms1" in first and "libxcb-cursor0" not in first


@pytest.mark.parametrize("argv", [[], ["--demo"], ["--db", "clinic.sqlite"]])
def test_every_way_of_opening_the_window_is_checked(monkeypatch, capsys, no_qt, argv):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(launch, "_load_library", missing("libxcb-cursor.so.0"))
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == INSTALL_LINE


def test_with_the_three_libraries_present_the_window_opens(monkeypatch):
    calls = []
    fake = types.ModuleType("desktop.ui.app")
    fake.run_app = lambda **kw: calls.append(kw) or 0
    monkeypatch.setitem(sys.modules, "desktop.ui.app", fake)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(launch, "_load_library", lambda soname: True)
    assert main(["--demo"]) == 0
    assert calls == [{"db": None, "demo": True}]


def test_other_platforms_and_the_command_line_do_not_look_for_the_libraries(monkeypatch, capsys):
    def loader(soname):
        raise AssertionError("looked for " + soname)

    monkeypatch.setattr(launch, "_load_library", loader)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert xcb_problem() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert main(["--db"]) == 2  # the full parser's usage error, not the libraries
    assert "libxcb" not in capsys.readouterr().err


@pytest.mark.parametrize("env,expected", [
    ({}, True),
    ({"DISPLAY": ":0"}, True),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb:nograb"}, True),
    ({"QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland", "QT_QPA_PLATFORM": "xcb"}, True),
])
def test_the_check_runs_only_when_qt_will_use_xcb(monkeypatch, env, expected):
    monkeypatch.setattr(sys, "platform", "linux")
    assert xcb_expected(env) is expected


def test_windows_and_macos_are_never_checked(monkeypatch):
    for platform in ("win32", "darwin"):
        monkeypatch.setattr(sys, "platform", platform)
        assert xcb_expected({"QT_QPA_PLATFORM": "xcb"}) is False


def test_the_real_loader_finds_a_present_library_and_not_an_absent_one():
    assert launch._load_library("libc.so.6") is True
    assert launch._load_library("libmotorchart-not-there.so.7") is False


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_entry_point_exits_2_in_a_fresh_process_without_importing_qt():
    res = _run("""
        import sys
        import desktop.launch as launch
        launch._load_library = lambda soname: soname != "libxcb-keysyms.so.1"
        code = launch.main([])
        print("PySide6" in sys.modules)
        sys.exit(code)
    """)
    assert res.returncode == 2, res.stderr
    assert res.stdout.strip() == "False"
    assert res.stderr.strip().splitlines()[-1] == INSTALL_LINE


def test_the_app_refuses_too_when_reached_from_the_command_line_parser():
    res = _run("""
        import sys
        import desktop.launch as launch
        launch._load_library = lambda soname: soname != "libxcb-cursor.so.0"
        from desktop.ui.app import run_app
        sys.exit(run_app(db=None, demo=False))
    """)
    assert res.returncode == 2, res.stderr  # not 134 (Qt's abort)
    assert res.stderr.strip().splitlines()[-1] == INSTALL_LINE
