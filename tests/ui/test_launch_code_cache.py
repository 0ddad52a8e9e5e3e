"""PySide6's support modules are compiled once, not at every launch (issue 20,
desktop.launch_speed.import_pyside): an installed Motorchart loads them from its cache folder,
and every way that cache can be stale, damaged, foreign, unwritable, planted or turned off
falls back to PySide6's own compile.

PySide6 is imported once per process, so each launch here is a child process (the test process
has PySide6 already)."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
import sys
import textwrap
import zlib

import pytest

from desktop import launch_speed

_CHILD = textwrap.dedent("""
    import builtins, json, sys
    real_compile = builtins.compile
    if "--frozen" in sys.argv:  # as a PyInstaller bundle runs
        import os
        sys.frozen, sys._MEIPASS = True, os.environ["MOTORCHART_TEST_MEIPASS"]
    from desktop import launch_speed
    if "--app" in sys.argv:
        import desktop.ui.app  # (the launch's own way in)
        done = launch_speed.support_compile
    else:
        done = launch_speed.import_pyside()
    from PySide6.QtWidgets import QApplication, QWidget
    app = QApplication([])
    try:
        QWidget().resize("wide")
    except TypeError as e:
        message = str(e)
    print(json.dumps({"loaded": done.loaded, "compiled": done.compiled, "written": done.written,
                      "compile_restored": builtins.compile is real_compile, "message": message}))
""")


def _launch(cache_dir, *args: str, python_flags: tuple[str, ...] = (), **env_changes) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env[launch_speed.CACHE_DIR_ENV] = str(cache_dir)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # (no .pyc of another -O level left beside the sources)
    env.pop(launch_speed.CODE_CACHE_ENV, None)
    env.update(env_changes)
    out = subprocess.run([sys.executable, *python_flags, "-c", _CHILD, *args], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cache_file(cache_dir) -> str:
    return launch_speed.code_cache_path({launch_speed.CACHE_DIR_ENV: str(cache_dir)})


def _kept(cache_dir) -> dict:
    with open(_cache_file(cache_dir), "rb") as f:
        return marshal.loads(f.read())["modules"]


def _keep(cache_dir, modules: dict, magic: bytes = importlib.util.MAGIC_NUMBER) -> None:
    with open(_cache_file(cache_dir), "wb") as f:
        f.write(marshal.dumps({"magic": magic, "modules": modules}))


@pytest.fixture
def cache_dir(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    return folder


def test_the_first_launch_compiles_and_keeps_them_and_the_next_loads_them(cache_dir):
    first = _launch(cache_dir)
    assert first["compiled"] >= 10 and first["loaded"] == 0 and first["written"]
    path = _cache_file(cache_dir)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    second = _launch(cache_dir)
    assert second["loaded"] == first["compiled"] and second["compiled"] == 0 and not second["written"]
    # PySide6's signature machinery (the support modules) answers as it does compiled afresh
    plain = _launch(cache_dir, **{launch_speed.CODE_CACHE_ENV: "0"})
    assert "Supported signatures" in second["message"]
    assert second["message"] == first["message"] == plain["message"]
    assert first["compile_restored"] and second["compile_restored"]


def test_the_launch_itself_imports_pyside6_this_way(tmp_path):
    folder = tmp_path / "made by the launch"  # (and the folder is made private)
    first = _launch(folder, "--app")
    assert first["compiled"] >= 10 and first["written"]
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    assert _launch(folder, "--app")["loaded"] == first["compiled"]


def test_kept_code_is_what_compile_makes_of_the_same_source_under_the_callers_flags(cache_dir):
    _launch(cache_dir)
    kept = _kept(cache_dir)
    assert "signature_bootstrap.py" in kept and "shibokensupport/signature/loader.py" in kept
    bootstrap_source = kept["signature_bootstrap.py"][1].decode()
    # shiboken6's loader calls compile() from signature_bootstrap, whose __future__ imports the
    # compiled modules inherit; the bootstrap itself is compiled from C (no caller's flags)
    inherited = 0
    if "from __future__ import annotations" in bootstrap_source:
        inherited = __import__("__future__").annotations.compiler_flag
    for name, (flags, source, code, crc) in kept.items():
        assert flags == (0 if name == "signature_bootstrap.py" else inherited), name
        assert zlib.crc32(code) == crc
        # (code objects compare by their bytecode, constants, names and flags; the marshalled
        # bytes also record which strings the writing process had interned)
        assert marshal.loads(code) == compile(source, name, "exec", flags, True), name


def test_other_compile_calls_meanwhile_keep_their_own_callers_flags(cache_dir, tmp_path):
    # a module imported with PySide6 compiles some code: it has no `from __future__ import
    # annotations` (launch_speed has), so neither may the code it compiles; another module that
    # has it passes it on
    (tmp_path / "compile_probe_future.py").write_text(textwrap.dedent("""
        from __future__ import annotations
        import __future__
        WITH_THE_FLAG = bool(compile("pass", "<probe>", "exec").co_flags & __future__.annotations.compiler_flag)
    """))
    probe = tmp_path / "compile_probe.py"
    probe.write_text(textwrap.dedent("""
        import __future__
        import PySide6.QtCore
        import compile_probe_future
        code = compile("pass", "<probe>", "exec")
        WITHOUT_THE_FLAG = not code.co_flags & __future__.annotations.compiler_flag
    """))
    child = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from desktop import launch_speed
        launch_speed.import_pyside("compile_probe")
        print(sys.modules["compile_probe"].WITHOUT_THE_FLAG, sys.modules["compile_probe_future"].WITH_THE_FLAG)
    """)
    env = dict(os.environ, **{launch_speed.CACHE_DIR_ENV: str(cache_dir)})
    out = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_a_module_whose_source_changed_is_compiled_again_and_replaced(cache_dir):
    first = _launch(cache_dir)
    kept = _kept(cache_dir)
    name = "shibokensupport/signature/parser.py"
    flags, source, code, crc = kept[name]
    kept[name] = (flags, source + b"\n# another PySide6\n", code, crc)  # as if PySide6 had been upgraded
    _keep(cache_dir, kept)
    again = _launch(cache_dir)
    assert again["compiled"] == 1 and again["loaded"] == first["compiled"] - 1 and again["written"]
    assert _kept(cache_dir)[name][1] == source


@pytest.mark.parametrize("damage", [b"", b"not marshal at all", b"\x00" * 64])
def test_a_damaged_cache_file_is_compiled_over(cache_dir, damage):
    first = _launch(cache_dir)
    with open(_cache_file(cache_dir), "wb") as f:
        f.write(damage)
    again = _launch(cache_dir)
    assert again["loaded"] == 0 and again["compiled"] == first["compiled"] and again["written"]
    assert _launch(cache_dir)["loaded"] == first["compiled"]


def test_damaged_or_malformed_entries_are_compiled_over(cache_dir):
    first = _launch(cache_dir)
    kept = _kept(cache_dir)
    names = sorted(kept)
    kept[names[0]] = 7
    kept[names[1]] = (0, "text, not bytes", b"", 0)
    flags, source, code, crc = kept[names[2]]
    flipped = code[:40] + bytes([code[40] ^ 0x40]) + code[41:]
    kept[names[2]] = (flags, source, flipped, crc)  # a flipped bit: the CRC tells
    flags, source, _, _ = kept[names[3]]
    not_code = marshal.dumps(7)
    kept[names[3]] = (flags, source, not_code, zlib.crc32(not_code))  # whole, but not code
    flags, source, _, _ = kept[names[4]]
    other = marshal.dumps(compile("x = 1", "elsewhere.py", "exec"))
    kept[names[4]] = (flags, source, other, zlib.crc32(other))  # code, but another file's
    _keep(cache_dir, kept)
    again = _launch(cache_dir)
    assert again["compiled"] == 5 and again["loaded"] == first["compiled"] - 5 and again["written"]
    assert "Supported signatures" in again["message"]
    assert _launch(cache_dir)["loaded"] == first["compiled"]


def test_a_cache_written_by_another_python_is_not_loaded(cache_dir):
    first = _launch(cache_dir)
    _keep(cache_dir, _kept(cache_dir), magic=b"\x00\x00\r\n")
    again = _launch(cache_dir)
    assert again["loaded"] == 0 and again["compiled"] == first["compiled"]


def test_python_dash_o_keeps_a_file_of_its_own(cache_dir):
    plain = _launch(cache_dir)
    optimized = _launch(cache_dir, python_flags=("-O",))
    assert optimized["loaded"] == 0 and optimized["compiled"] == plain["compiled"] and optimized["written"]
    assert _launch(cache_dir, python_flags=("-O",))["loaded"] == plain["compiled"]
    assert _launch(cache_dir)["loaded"] == plain["compiled"]
    assert len([p for p in cache_dir.iterdir() if p.suffix == ".marshal"]) == 2


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_cache_file_or_folder_owned_by_another_user_is_not_used(cache_dir):
    first = _launch(cache_dir)
    os.chown(_cache_file(cache_dir), 65534, 65534)
    again = _launch(cache_dir)
    assert again["loaded"] == 0 and again["compiled"] == first["compiled"]
    os.chown(cache_dir, 65534, 65534)
    os.unlink(_cache_file(cache_dir))
    assert not _launch(cache_dir)["written"] and not os.path.exists(_cache_file(cache_dir))


def test_a_folder_others_can_write_to_is_not_used(cache_dir):
    first = _launch(cache_dir)
    os.chmod(cache_dir, 0o777)
    again = _launch(cache_dir)
    assert again["loaded"] == 0 and again["compiled"] == first["compiled"] and not again["written"]


def test_a_link_planted_where_the_cache_is_written_is_not_followed(cache_dir, tmp_path):
    target = tmp_path / "someone else's file"
    target.write_text("untouched")
    path = _cache_file(cache_dir)
    os.symlink(target, path)
    assert launch_speed._write_code_cache(path, {})
    assert target.read_text() == "untouched"
    assert not os.path.islink(path) and launch_speed._read_code_cache(path) == {}
    assert sorted(os.listdir(cache_dir)) == [os.path.basename(path)]  # (no temporary file left)


def test_a_temporary_file_left_by_a_killed_write_is_removed_by_the_next_write(cache_dir, tmp_path):
    """A launch killed between writing the cache's temporary file and renaming it leaves that
    file; the next write removes it once it is old enough not to be another launch's, being
    written now. Nothing else in the folder is touched."""
    import time

    path = _cache_file(cache_dir)
    name = os.path.basename(path)
    old, young = cache_dir / f"{name}.k1ll3d.tmp", cache_dir / f"{name}.wr1t1ng.tmp"
    other, elsewhere = cache_dir / "notes.tmp", tmp_path / "someone else's.tmp"
    for f in (old, young, other, elsewhere):
        f.write_bytes(b"x" * 1000)
    linked = cache_dir / f"{name}.l1nk.tmp"
    os.symlink(elsewhere, linked)
    hour_ago = time.time() - 3600
    for f in (old, other):
        os.utime(f, (hour_ago, hour_ago))
    os.utime(linked, (hour_ago, hour_ago), follow_symlinks=False)
    assert launch_speed._write_code_cache(path, {})
    assert not old.exists()
    assert young.exists() and other.exists() and elsewhere.exists() and os.path.islink(linked)
    assert launch_speed._read_code_cache(path) == {}


def test_turned_off_it_is_a_plain_import(cache_dir):
    off = _launch(cache_dir, **{launch_speed.CODE_CACHE_ENV: "0"})
    assert off == {**off, "loaded": 0, "compiled": 0, "written": False}
    assert not os.path.exists(_cache_file(cache_dir))


def test_a_packaged_app_reads_only_the_cache_built_into_it(cache_dir, tmp_path):
    first = _launch(cache_dir)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    # no cache in the bundle: the user's cache folder is not read, nor written
    frozen = _launch(cache_dir, "--frozen", MOTORCHART_TEST_MEIPASS=str(bundle))
    assert (frozen["loaded"], frozen["compiled"], frozen["written"]) == (0, 0, False)
    assert "Supported signatures" in frozen["message"]
    # the one the build makes (the PyInstaller spec's call; this process has PySide6 already)
    assert launch_speed.write_bundled_code_cache(str(bundle / launch_speed.BUNDLED_CODE_CACHE)) == first["compiled"]
    os.chmod(bundle / launch_speed.BUNDLED_CODE_CACHE, 0o644)  # (installed by root: not the user's, read anyway)
    os.chmod(bundle, 0o755)
    if hasattr(os, "getuid") and os.getuid() == 0:
        os.chown(bundle / launch_speed.BUNDLED_CODE_CACHE, 65534, 65534)
    before = sorted(p.name for p in cache_dir.iterdir())
    frozen = _launch(cache_dir, "--frozen", MOTORCHART_TEST_MEIPASS=str(bundle))
    assert (frozen["loaded"], frozen["compiled"], frozen["written"]) == (first["compiled"], 0, False)
    assert sorted(p.name for p in cache_dir.iterdir()) == before and sorted(p.name for p in bundle.iterdir()) == [
        launch_speed.BUNDLED_CODE_CACHE]


def test_kept_even_when_python_writes_no_bytecode(cache_dir):
    # (the file is the app's cache, not a .pyc beside PySide6)
    told = _launch(cache_dir, PYTHONDONTWRITEBYTECODE="1")
    assert told["compiled"] >= 10 and told["written"]
    assert _launch(cache_dir, PYTHONDONTWRITEBYTECODE="1")["loaded"] == told["compiled"]


def test_a_cache_folder_that_cannot_be_made_changes_nothing_but_speed(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    launched = _launch(blocker / "cache")
    assert launched["compiled"] >= 10 and not launched["written"]
    assert "Supported signatures" in launched["message"]
    assert [p.name for p in tmp_path.iterdir()] == ["a file"]


def test_the_cache_lives_in_the_user_cache_folder_platformdirs_names(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv(launch_speed.CACHE_DIR_ENV, raising=False)
    for xdg in (str(tmp_path / "xdg"), None):
        if xdg is None:
            monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        path = launch_speed.code_cache_path()
        assert os.path.dirname(path) == platformdirs.user_cache_dir("motorchart", appauthor=False)
        assert os.path.basename(path).startswith(f"pyside-support-{sys.implementation.cache_tag}-")
    monkeypatch.setenv(launch_speed.CACHE_DIR_ENV, str(tmp_path / "portable"))
    assert os.path.dirname(launch_speed.code_cache_path()) == str(tmp_path / "portable")


def test_once_pyside6_is_imported_it_is_a_plain_import_and_the_first_record_stands(cache_dir, monkeypatch):
    import PySide6.QtCore  # noqa: F401  (the test process has it)

    first = launch_speed.SupportCompile()
    first.loaded = 14
    monkeypatch.setattr(launch_speed, "support_compile", first)
    done = launch_speed.import_pyside("PySide6.QtWidgets", environ={launch_speed.CACHE_DIR_ENV: str(cache_dir)})
    assert (done.loaded, done.compiled, done.written) == (0, 0, False)
    assert launch_speed.support_compile is first
    assert not any(cache_dir.iterdir())
