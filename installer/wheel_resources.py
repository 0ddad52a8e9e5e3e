"""Build hooks (``[tool.setuptools.cmdclass]`` in pyproject.toml): a wheel and an sdist carry
``resources/``.

``resources/`` (catalogue, schema, fonts, body map, icons) sits beside the packages, where a
source checkout and an editable install find it (:func:`desktop.resources.resources_dir`). A
wheel holds only packages, so without these hooks ``pip install .`` installed a Motorchart that
could not find its own catalogue. The wheel now carries the folder as ``desktop/_resources``
(where ``resources_dir`` looks in an installed package); the sdist carries ``resources/`` and this
file, so that a wheel built from it does the same. An editable install is left alone: it reads
the checkout's ``resources/``. The PyInstaller bundle copies the folder itself (motorchart.spec).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

SOURCE = "resources"
"""The folder, relative to the project root."""

TARGET = ("desktop", "_resources")
"""Where a wheel holds it, below the installed packages."""

def resource_files(root: str | os.PathLike = ".") -> list[str]:
    """Every file of ``resources/`` that is shipped, as paths from the project root ``root``:
    all but bytecode (a script in ``resources/`` run in place leaves it there)."""
    out = []
    for folder, dirs, files in os.walk(os.path.join(root, SOURCE)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        out += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(files) if not f.endswith(".pyc")]
    return out


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib).joinpath(*TARGET)
        if target.exists():
            shutil.rmtree(target)
        for f in resource_files():
            dest = target / Path(f).relative_to(SOURCE)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest)


class Sdist(sdist):
    def make_release_tree(self, base_dir, files) -> None:
        extra = [*resource_files(), os.path.join("installer", "wheel_resources.py")]
        super().make_release_tree(base_dir, [*files, *(f for f in extra if f not in files)])
