"""grab_progression_screens writes the overview, body map and comparison PNGs for any patient."""

from __future__ import annotations

import datetime as dt

from PySide6.QtGui import QImage

from desktop.ui.progression import grab_progression_screens
from desktop.ui.progression.demo import demo_case
from desktop.ui.progression.screens import SIZES
from domain.case import Case, Patient
from domain.classify import classify_case


def test_the_three_progression_screenshots_are_written_at_their_sizes(qapp, tmp_path, catalogue):
    case = demo_case(8)
    paths = grab_progression_screens(case, classify_case(case, catalogue), tmp_path / "shots")
    assert [p.name for p in paths] == ["overview.png", "bodymap.png", "compare.png"]
    for p in paths:
        img = QImage(str(p))
        assert not img.isNull()
        assert (img.width(), img.height()) == SIZES[p.stem]


def test_screenshots_of_a_patient_with_one_visit_or_none_are_still_written(qapp, tmp_path, catalogue):
    for n in (1, 0):
        case = demo_case(n) if n else Case(format="motorchart-case/1", patient=Patient(
            id="MRN-0", family_name="Łukasiewicz-Nowak", given_names="Zofia",
            onset_date=dt.date(2024, 1, 1)), visits=())
        paths = grab_progression_screens(case, classify_case(case, catalogue), tmp_path / str(n))
        assert all(p.stat().st_size > 1000 for p in paths)
