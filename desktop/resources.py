"""The one place that finds `resources/` (source checkout, installed package or bundle)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from domain.catalogue import Catalogue, parse_catalogue


class ResourcesMissing(FileNotFoundError):
    """This installation has no resources folder (a broken or partial install): nothing can be
    classified, drawn or printed without the catalogue."""


def resources_dir() -> Path:
    """`resources/` beside the packages (a checkout, an editable install), as ``desktop/_resources``
    in an installed wheel (installer/wheel_resources.py), or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = []
    if bundle:
        candidates.append(Path(bundle) / "resources")
    here = Path(__file__).resolve().parent
    candidates += [here.parent / "resources", here / "_resources"]
    for c in candidates:
        if (c / "catalogue" / "muscles.csv").is_file():
            return c
    raise ResourcesMissing("this Motorchart installation is incomplete: its resources folder was not found "
                           "(looked in: " + ", ".join(str(c) for c in candidates) + "); install Motorchart again")


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


FALLBACK_FONT = ("fonts", "DroidSansFallback.ttf")
"""The font for the letters DejaVu lacks (CJK): the reports embed it where a text needs it
(:mod:`desktop.reports.fonts`) and the window adds it to Qt's fonts (:mod:`desktop.ui.fonts`)."""


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Read and validate the shipped catalogue (muscles, reflexes, signs)."""
    d = resource_path("catalogue")
    return parse_catalogue(
        (d / "muscles.csv").read_text(encoding="utf-8"),
        (d / "reflexes.csv").read_text(encoding="utf-8"),
        (d / "signs.csv").read_text(encoding="utf-8"),
    )


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def catalogue_version() -> str:
    """The catalogue's version: SHA-256 over its three files (muscles, reflexes, signs), so a
    signed result names the exact catalogue it was computed with (read once: the files are
    part of the program, and the bulk paths sign thousands of visits)."""
    import hashlib

    h = hashlib.sha256()
    d = resource_path("catalogue")
    for name in ("muscles.csv", "reflexes.csv", "signs.csv"):
        h.update(name.encode() + b"\0" + (d / name).read_bytes() + b"\0")
    return h.hexdigest()
