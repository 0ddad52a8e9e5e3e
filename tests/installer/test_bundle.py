"""The installer: build the one-folder bundle and the .deb, then run the bundle the way a clinic
workstation would, with none of the project's Python (slow: a minute or two; run with -m slow)."""

from __future__ import annotations

import configparser
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from domain import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_the_desktop_entry_starts_the_motorchart_command_with_the_shipped_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "installer" / "motorchart.desktop", encoding="utf-8")
    d = entry["Desktop Entry"]
    assert (d["Type"], d["Exec"], d["Icon"], d["Terminal"]) == ("Application", "motorchart", "motorchart", "false")
    for name in ("motorchart.svg", "motorchart-48.png", "motorchart-256.png", "motorchart.ico", "motorchart.icns"):
        assert (ROOT / "resources" / "icons" / name).stat().st_size > 500, name


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is needed to build the .deb")
    out = tmp_path_factory.mktemp("installer")
    env = dict(os.environ, PYTHON=sys.executable, MOTORCHART_DIST=str(out / "dist"),
               MOTORCHART_BUILD=str(out / "build"))
    proc = subprocess.run([str(ROOT / "installer" / "build.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    debs = list((out / "dist").glob("motorchart_*.deb"))
    assert len(debs) == 1, debs
    return out / "dist" / "motorchart", debs[0]


def _without_the_projects_python(cmd: list[str]) -> list[str]:
    """As root with unshare: hide the source tree, the standard library and site-packages behind
    empty tmpfs mounts for this one process, so nothing but the bundle can be imported."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return cmd
    hide = {ROOT, Path(sysconfig.get_paths()["stdlib"]), *map(Path, site.getsitepackages())}
    hide = sorted(str(p) for p in hide if p.is_dir() and not any(q in p.parents for q in hide))
    mounts = " && ".join(f'mount -t tmpfs none "${i + 1}"' for i in range(len(hide)))
    n = len(hide)
    script = f'{mounts} && shift {n} && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", script, "sh", *hide, *cmd]


def _bare_run(args: list[str], cwd: Path, **env):
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8", **env}
    return subprocess.run(args, cwd=cwd, env=clean, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_bundle_passes_its_self_test_with_none_of_the_projects_python(built, tmp_path):
    bundle, _deb = built
    proc = _bare_run(_without_the_projects_python([str(bundle / "motorchart"), "--self-test"]), tmp_path,
                     QT_QPA_PLATFORM="offscreen")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"motorchart {__version__} (bundle)" in proc.stdout
    assert "platform offscreen, main window" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("self-test passed")


@pytest.mark.slow
def test_the_bundle_reports_the_package_version_and_classifies_a_case_file(built, tmp_path):
    bundle, _deb = built
    assert _bare_run([str(bundle / "motorchart"), "--version"], tmp_path).stdout.strip() == f"motorchart {__version__}"
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "motorchart-case/1"}', encoding="utf-8")
    proc = _bare_run([str(bundle / "motorchart"), "classify", str(bad)], tmp_path)
    assert proc.returncode == 2 and "bad.json" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_the_bundle_ships_the_resources_and_no_test_code(built):
    bundle, _deb = built
    internal = bundle / "_internal"
    for rel in ("catalogue/muscles.csv", "fonts/DejaVuSans.ttf", "icons/motorchart.svg"):
        assert (internal / "resources" / rel).is_file(), rel
    shipped = {p.name for p in internal.iterdir()}
    assert not shipped & {"pytest", "_pytest", "hypothesis", "pytestqt", "tests", "scipy"}
    assert not (internal / "PySide6" / "QtQml.abi3.so").exists()


@pytest.mark.slow
def test_the_deb_installs_the_bundle_in_opt_with_a_command_a_desktop_entry_and_its_dependencies(built):
    _bundle, deb = built
    assert deb.name == f"motorchart_{__version__}_amd64.deb"
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.strip().split(": ", 1) for line in info.splitlines() if ": " in line and line.startswith(" "))
    assert fields["Package"] == "motorchart" and fields["Version"] == __version__
    depends = [d.strip() for d in fields["Depends"].split(",")]
    assert depends[0].startswith("libc6 (>= 2.")
    for pkg in ("libgl1", "libegl1", "libxcb1", "fontconfig-config", "libxcb-icccm4", "libxcb-keysyms1",
                "libxcb-cursor0", "libxkbcommon-x11-0"):
        assert pkg in depends, pkg
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                              check=True).stdout
    for entry in ("./opt/motorchart/motorchart", "./usr/bin/motorchart -> /opt/motorchart/motorchart",
                  "./usr/share/applications/motorchart.desktop",
                  "./usr/share/icons/hicolor/scalable/apps/motorchart.svg",
                  "./usr/share/icons/hicolor/256x256/apps/motorchart.png",
                  "./opt/motorchart/_internal/resources/catalogue/muscles.csv"):
        assert entry in contents, entry
    assert "root/root" in contents and "/pytest/" not in contents
