"""Screenshots of the progression views for ``motorchart screenshots`` and the README."""

from __future__ import annotations

from pathlib import Path

from domain.case import Case
from domain.classify import CaseClassification

SIZES = {"overview": (1600, 1000), "bodymap": (900, 900), "compare": (900, 760)}


def grab_progression_screens(case: Case, classification: CaseClassification, out_dir: Path | str) -> list[Path]:
    """Render the overview, the body map (latest visit) and the comparison of the last two
    visits offscreen and write ``overview.png``, ``bodymap.png`` and ``compare.png`` into
    ``out_dir`` (created if missing). Returns the paths written."""
    from PySide6.QtWidgets import QApplication

    from .bodymap_view import BodyMapView
    from .compare_view import CompareView
    from .overview import OverviewView

    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive while grabbing)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, cls in (("overview", OverviewView), ("bodymap", BodyMapView), ("compare", CompareView)):
        w = cls()
        try:
            w.resize(*SIZES[name])
            w.set_patient(case, classification)
            w.show()
            QApplication.processEvents()
            path = out / f"{name}.png"
            if not w.grab().save(str(path)):
                raise OSError(f"could not write {path}")
            written.append(path)
        finally:
            w.close()
            w.deleteLater()
    QApplication.processEvents()
    return written
