"""PySide6's support modules are compiled once, not at every launch (issue 20,
desktop.launch_speed.import_pyside): the launch loads them from the user cache folder, and
every way that cache can be stale, damaged, foreign, unwritable or turned off falls back to
PySide6's own compile.

PySide6 is imported once per process, so each launch here is a child process (the test process
has PySide6 already)."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import textwrap

import pytest

from desktop import launch_speed

_CHILD = textwrap.dedent("""
    import builtins, json, sys
    real_compile = builtins.compile
    from desktop.launch_speed import import_pyside
    done = import_pyside()
    from PySide6.QtWidgets import QApplication, QWidget
    app = QApplication([])
    try:
        QWidget().resize("wide")
    except TypeError as e:
        message = str(e)
    print(json.dumps({"loaded": done.loaded, "compiled": done.compiled, "written": done.written,
                      "compile_restored": builtins.compile is real_compile, "message": message}))
""")


def _launch(cache_home, **env_changes) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CACHE_HOME=str(cache_home))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop(launch_speed.CODE_CACHE_ENV, None)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cache_file(cache_home) -> str:
    return launch_speed.code_cache_path({"XDG_CACHE_HOME": str(cache_home)})


def _kept(cache_home) -> dict:
    with open(_cache_file(cache_home), "rb") as f:
        return marshal.loads(f.read())["modules"]


def test_the_first_launch_compiles_and_keeps_them_and_the_next_loads_them(tmp_path):
    first = _launch(tmp_path)
    assert first["compiled"] >= 10 and first["loaded"] == 0 and first["written"]
    path = _cache_file(tmp_path)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    second = _launch(tmp_path)
    assert second["loaded"] == first["compiled"] and second["compiled"] == 0 and not second["written"]
    # PySide6's signature machinery (the support modules) answers as it does compiled afresh
    plain = _launch(tmp_path, **{launch_speed.CODE_CACHE_ENV: "0"})
    assert "Supported signatures" in second["message"]
    assert second["message"] == first["message"] == plain["message"]
    assert first["compile_restored"] and second["compile_restored"]


def test_kept_code_is_what_compile_makes_of_the_same_source_under_the_callers_flags(tmp_path):
    _launch(tmp_path)
    kept = _kept(tmp_path)
    assert "signature_bootstrap.py" in kept and "shibokensupport/signature/loader.py" in kept
    bootstrap_source = kept["signature_bootstrap.py"][1].decode()
    # shiboken6's loader calls compile() from signature_bootstrap, whose __future__ imports the
    # compiled modules inherit; the bootstrap itself is compiled from C (no caller's flags)
    inherited = 0
    if "from __future__ import annotations" in bootstrap_source:
        inherited = __import__("__future__").annotations.compiler_flag
    for name, (flags, source, code) in kept.items():
        assert flags == (0 if name == "signature_bootstrap.py" else inherited), name
        assert marshal.loads(code) == compile(source, name, "exec", flags, True), name  # (code objects compare
        # by their bytecode, constants, names and flags; the marshalled bytes also record which
        # strings the writing process had interned)


def test_a_module_whose_source_changed_is_compiled_again_and_replaced(tmp_path):
    first = _launch(tmp_path)
    kept = _kept(tmp_path)
    name = "shibokensupport/signature/parser.py"
    flags, source, code = kept[name]
    kept[name] = (flags, source + b"\n# another PySide6\n", code)  # as if PySide6 had been upgraded
    with open(_cache_file(tmp_path), "wb") as f:
        f.write(marshal.dumps({"magic": __import__("importlib.util").util.MAGIC_NUMBER, "modules": kept}))
    again = _launch(tmp_path)
    assert again["compiled"] == 1 and again["loaded"] == first["compiled"] - 1 and again["written"]
    assert _kept(tmp_path)[name][1] == source


@pytest.mark.parametrize("damage", [b"", b"not marshal at all", b"\x00" * 64])
def test_a_damaged_cache_file_is_compiled_over(tmp_path, damage):
    first = _launch(tmp_path)
    with open(_cache_file(tmp_path), "wb") as f:
        f.write(damage)
    again = _launch(tmp_path)
    assert again["loaded"] == 0 and again["compiled"] == first["compiled"] and again["written"]
    assert _launch(tmp_path)["loaded"] == first["compiled"]


def test_malformed_entries_are_compiled_over(tmp_path):
    first = _launch(tmp_path)
    kept = _kept(tmp_path)
    names = sorted(kept)
    kept[names[0]] = 7
    kept[names[1]] = (0, "text, not bytes", b"")
    kept[names[2]] = (kept[names[2]][0], kept[names[2]][1], b"not marshal")  # (unloadable code: compiled again)
    with open(_cache_file(tmp_path), "wb") as f:
        f.write(marshal.dumps({"magic": __import__("importlib.util").util.MAGIC_NUMBER, "modules": kept}))
    again = _launch(tmp_path)
    assert again["compiled"] == 3 and again["loaded"] == first["compiled"] - 3 and again["written"]
    assert "Supported signatures" in again["message"]


def test_a_cache_written_by_another_python_is_not_loaded(tmp_path):
    first = _launch(tmp_path)
    kept = _kept(tmp_path)
    with open(_cache_file(tmp_path), "wb") as f:
        f.write(marshal.dumps({"magic": b"\x00\x00\r\n", "modules": kept}))
    again = _launch(tmp_path)
    assert again["loaded"] == 0 and again["compiled"] == first["compiled"]


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_cache_file_owned_by_another_user_is_not_loaded(tmp_path):
    first = _launch(tmp_path)
    os.chown(_cache_file(tmp_path), 65534, 65534)
    again = _launch(tmp_path)
    assert again["loaded"] == 0 and again["compiled"] == first["compiled"]


def test_turned_off_it_is_a_plain_import(tmp_path):
    off = _launch(tmp_path, **{launch_speed.CODE_CACHE_ENV: "0"})
    assert off == {**off, "loaded": 0, "compiled": 0, "written": False}
    assert not os.path.exists(_cache_file(tmp_path))


def test_kept_even_when_python_writes_no_bytecode(tmp_path):
    # (a PyInstaller bundle runs that way: the file is the app's cache, not a .pyc)
    told = _launch(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert told["compiled"] >= 10 and told["written"]
    assert _launch(tmp_path, PYTHONDONTWRITEBYTECODE="1")["loaded"] == told["compiled"]


def test_a_cache_folder_that_cannot_be_made_changes_nothing_but_speed(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    launched = _launch(blocker)
    assert launched["compiled"] >= 10 and not launched["written"]
    assert "Supported signatures" in launched["message"]
    assert not [p for p in tmp_path.iterdir() if p.name != "a file"]


def test_the_cache_lives_in_the_user_cache_folder_platformdirs_names(tmp_path, monkeypatch):
    import platformdirs

    for xdg in (str(tmp_path / "xdg"), None):
        if xdg is None:
            monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        folder = platformdirs.user_cache_dir("motorchart", appauthor=False)
        path = launch_speed.code_cache_path()
        assert os.path.dirname(path) == folder
        assert os.path.basename(path) == f"pyside-support-{sys.implementation.cache_tag}.marshal"


def test_once_pyside6_is_imported_it_is_a_plain_import(tmp_path):
    import PySide6.QtCore  # noqa: F401  (the test process has it)

    done = launch_speed.import_pyside("PySide6.QtWidgets", environ={"XDG_CACHE_HOME": str(tmp_path)})
    assert (done.loaded, done.compiled, done.written) == (0, 0, False)
    assert not any(tmp_path.iterdir())
