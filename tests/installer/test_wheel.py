"""``pip install .`` installs a Motorchart that finds its resources: the wheel carries
``resources/`` as ``desktop/_resources`` and the sdist carries ``resources/`` and the build hook
(installer/wheel_resources.py). Built from a copy of the checkout, without build isolation (the
test extras bring setuptools with bdist_wheel), so nothing is downloaded and the checkout is
left as it was."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hooks():
    """installer/wheel_resources.py, loaded from its file (installer/ is not a package)."""
    spec = importlib.util.spec_from_file_location("wheel_resources", ROOT / "installer" / "wheel_resources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SHIPPED = [Path(f).relative_to("resources").as_posix() for f in _hooks().resource_files(ROOT)]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The checkout's files a build reads, copied (a build writes build/ and egg-info beside them)."""
    dest = tmp_path_factory.mktemp("project")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("domain", "desktop", "resources", "installer"):
        shutil.copytree(ROOT / name, dest / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _build(project: Path, hook: str, out: Path) -> Path:
    code = f"from setuptools import build_meta as b; print(b.{hook}({str(out)!r}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out / done.stdout.strip().splitlines()[-1]


def test_the_wheel_carries_every_resource_and_an_install_of_it_finds_them(project, tmp_path):
    wheel = _build(project, "build_wheel", tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert SHIPPED and "catalogue/muscles.csv" in SHIPPED
    assert sorted(n[len("desktop/_resources/"):] for n in names if n.startswith("desktop/_resources/")) == sorted(SHIPPED)
    assert not [n for n in names if "__pycache__" in n or n.startswith(("resources/", "installer/"))]

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = ("import desktop, desktop.resources as r; print(desktop.__file__); print(r.resources_dir()); "
             "print(len(r.load_catalogue().muscles))")
    env = dict(os.environ, PYTHONPATH=str(site))
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    module, folder, muscles = done.stdout.split("\n")[:3]
    assert Path(module).is_relative_to(site)  # the installed copy, not the checkout
    assert Path(folder) == site / "desktop" / "_resources"
    assert int(muscles) > 50


def test_the_sdist_carries_the_resources_and_the_build_hook(project, tmp_path):
    sdist = _build(project, "build_sdist", tmp_path)
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {f"resources/{f}" for f in SHIPPED} <= names
    assert "installer/wheel_resources.py" in names
