"""The launch-speed tricks of desktop.launch_speed hold (issue 16): they are guarded for speed
by ``motorchart bench``; these tests check that each still does what it is there for."""

import subprocess
import sys

from desktop.launch_speed import LOAD_STEPS, import_step


def test_the_store_opens_a_chart_without_importing_numpy_or_pandas(tmp_path):
    code = (
        "import sys\n"
        "from desktop.store import ChartStore\n"
        f"s = ChartStore.open({str(tmp_path / 'c.sqlite')!r}); s.close(backup=False)\n"
        "print([m for m in ('numpy', 'pandas') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_numpy_stays_importable_after_sqlite_utils_was_imported_without_it():
    code = "import desktop.store._lean, numpy; print(numpy.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "numpy"


def test_every_required_load_step_names_a_module_that_exists():
    """A renamed module would make the loader fail behind the window; optional (?) steps may be
    missing in other library versions and are skipped."""
    import importlib.util

    for name in LOAD_STEPS:
        if name.startswith("?") or name.startswith("desktop.ui"):
            continue
        assert importlib.util.find_spec(name) is not None, name
    import_step("?no_such_module_anywhere")()  # an optional step that is missing is skipped
