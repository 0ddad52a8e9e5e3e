"""The demo clinic: valid, deterministic, plausible courses."""

from __future__ import annotations

import pytest

from desktop.store.demo import KINDS, build_demo, demo_case, demo_cases
from domain.case import case_from_data, case_to_data


@pytest.mark.parametrize("kind", KINDS)
def test_each_demo_course_is_a_valid_case_with_a_declining_alsfrs_r(kind, catalogue):
    case = demo_case(kind)
    assert case_from_data(case_to_data(case), catalogue) == case
    assert len(case.visits) >= 3
    totals = [v.alsfrs_r.total for v in case.visits]
    assert totals[-1] <= totals[0]
    assert all(later <= earlier + 2 for earlier, later in zip(totals, totals[1:]))
    assert any(m.emg is not None for m in case.visits[0].muscles)


def test_a_pls_course_has_brisk_reflexes_and_no_wasting():
    case = demo_case("pls")
    last = case.visits[-1]
    assert all(m.wasting == "none" for m in last.muscles)
    assert any(r.brisk for r in last.reflexes)


def test_the_demo_clinic_has_fictional_names_in_several_scripts_and_every_course():
    cases = [c for c, _ in demo_cases(300, seed=1)]
    names = " ".join(f"{c.patient.given_names} {c.patient.family_name}" for c in cases)
    assert any("\u0400" <= ch <= "\u04ff" for ch in names)  # Cyrillic
    assert any(ch in names for ch in "łéøöüç")
    assert {c.patient.onset_region for c in cases} >= {"bulbar", "upper_limb", "lower_limb"}
    assert {len(c.visits) for c in cases} >= {1, 12}


def test_building_the_demo_clinic_signs_the_older_visits(store):
    assert build_demo(store, 25, seed=9) == 25
    counts = store.counts()
    assert counts["patients"] == 25
    assert 0 < counts["signed"] < counts["visits"]
    meta = [store.visit_meta(r.id, d) for r in store.search_patients("", limit=25)
            for d in store.visit_dates(r.id)]
    assert all(m.clinician for m in meta if m.status == "signed")
