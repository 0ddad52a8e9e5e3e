"""ChartStore: patients, visits, signing, amendments, audit, search and settings."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from desktop.store import Changes, ChartStore, StoreError
from desktop.store.demo import KINDS, demo_case
from domain.case import MuscleFinding, case_to_data
from domain.classify import classify_case

D1 = dt.date(2025, 3, 1)


def audit_count(store) -> int:
    return store.db.execute("SELECT count(*) FROM audit").fetchone()[0]


def test_a_case_saved_and_read_back_is_equal(store, case_factory):
    case = case_factory()
    store.add_patient(case.patient)
    for v in case.visits:
        store.save_visit(case.patient.id, v)
    assert store.get_case(case.patient.id) == case
    assert store.visit_dates(case.patient.id) == [v.date for v in case.visits]
    assert store.visit_status(case.patient.id, D1) == "draft"


@pytest.mark.parametrize("kind", KINDS)
def test_every_demo_course_round_trips_through_the_chart(store, kind):
    case = demo_case(kind)
    store.add_patient(case.patient)
    for v in case.visits:
        store.save_visit(case.patient.id, v)
    assert case_to_data(store.get_case(case.patient.id)) == case_to_data(case)


def test_saving_an_unchanged_visit_writes_nothing(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    assert store.save_visit("MRN-0042", visit_factory()) == Changes(visits=True, findings=True, scores=True)
    before = audit_count(store)
    assert store.save_visit("MRN-0042", visit_factory()) == Changes()
    assert audit_count(store) == before


def test_changing_one_grade_writes_one_row_and_one_audit_entry(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    visit = visit_factory()
    store.save_visit("MRN-0042", visit)
    before = audit_count(store)
    muscles = (visit.muscles[0].model_copy(update={"mrc": "3"}),) + visit.muscles[1:]
    changes = store.save_visit("MRN-0042", visit.model_copy(update={"muscles": muscles}))
    assert changes == Changes(findings=True)
    entries = store.audit_trail("MRN-0042")[before:]
    assert [(e.table, e.action) for e in entries] == [("muscle_findings", "update")]
    assert (entries[0].old["mrc"], entries[0].new["mrc"]) == ("4", "3")
    assert entries[0].user == "dr.test"
    assert entries[0].row_key.endswith("first_dorsal_interosseous right")


def test_removing_and_adding_findings_and_scores_report_what_changed(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    visit = visit_factory()
    store.save_visit("MRN-0042", visit)
    new = visit.model_copy(update={
        "muscles": visit.muscles[:2] + (MuscleFinding(muscle="deltoid", side="left", mrc="4+"),),
        "fvc_percent": 80.0,
    })
    assert store.save_visit("MRN-0042", new) == Changes(findings=True, scores=True)
    assert store.get_visit("MRN-0042", D1) == new


def test_a_visit_with_an_unknown_muscle_is_refused_and_nothing_is_written(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    bad = visit_factory(muscles=(MuscleFinding(muscle="wing", side="left", mrc="4"),))
    with pytest.raises(StoreError, match="wing"):
        store.save_visit("MRN-0042", bad)
    assert store.visit_dates("MRN-0042") == []


def test_a_visit_for_an_unknown_patient_is_refused(store, visit_factory):
    with pytest.raises(StoreError, match="no patient MRN-9"):
        store.save_visit("MRN-9", visit_factory())


def test_a_patient_id_can_be_added_only_once(store, patient_factory):
    store.add_patient(patient_factory())
    with pytest.raises(StoreError, match="already exists"):
        store.add_patient(patient_factory(given_names="Someone Else"))
    assert store.get_patient("MRN-0042").given_names == "Zofia"


def test_updating_a_patient_records_old_and_new_values(store, patient_factory):
    store.add_patient(patient_factory())
    assert store.update_patient(patient_factory(niv_date=dt.date(2025, 9, 1))) == Changes(patient=True)
    assert store.update_patient(patient_factory(niv_date=dt.date(2025, 9, 1))) == Changes()
    last = store.audit_trail("MRN-0042")[-1]
    assert (last.action, last.old["niv_date"], last.new["niv_date"]) == ("update", None, "2025-09-01")


def test_a_signed_visit_cannot_be_changed_or_deleted_through_the_store(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    store.save_visit("MRN-0042", visit_factory())
    assert store.sign_visit("MRN-0042", D1, clinician="Dr Renée Côté") == Changes(signing=True)
    meta = store.visit_meta("MRN-0042", D1)
    assert (meta.status, meta.clinician) == ("signed", "Dr Renée Côté")
    with pytest.raises(StoreError, match="signed"):
        store.save_visit("MRN-0042", visit_factory(notes="changed"))
    with pytest.raises(StoreError, match="signed"):
        store.delete_visit("MRN-0042", D1)
    with pytest.raises(StoreError, match="already signed"):
        store.sign_visit("MRN-0042", D1, clinician="Dr X")
    assert store.get_visit("MRN-0042", D1) == visit_factory()


@pytest.mark.parametrize("sql", [
    "UPDATE visits SET notes = 'tampered'",
    "DELETE FROM visits",
    "UPDATE muscle_findings SET mrc = '0'",
    "DELETE FROM reflex_findings",
    "INSERT INTO sign_findings (visit_id, sign, side, pos, present) SELECT id, 'hoffmann', 'left', 9, 1 FROM visits",
])
def test_raw_sql_cannot_change_a_signed_visit(store, chart_path, patient_factory, visit_factory, sql):
    store.add_patient(patient_factory())
    store.save_visit("MRN-0042", visit_factory())
    store.sign_visit("MRN-0042", D1, clinician="Dr Renée Côté")
    raw = sqlite3.connect(chart_path)
    with pytest.raises(sqlite3.IntegrityError, match="signed"):
        raw.execute(sql)
    raw.close()
    assert store.get_visit("MRN-0042", D1) == visit_factory()


@pytest.mark.parametrize("sql", ["UPDATE audit SET user = 'someone'", "DELETE FROM audit"])
def test_the_audit_trail_is_append_only(store, chart_path, patient_factory, sql):
    store.add_patient(patient_factory())
    before = store.audit_trail()
    raw = sqlite3.connect(chart_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute(sql)
    raw.close()
    assert store.audit_trail() == before


def test_an_amendment_keeps_the_signed_original(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    original = visit_factory()
    store.save_visit("MRN-0042", original)
    store.sign_visit("MRN-0042", D1, clinician="Dr Renée Côté")
    corrected = original.model_copy(update={"fvc_percent": 68.0})
    changes = store.amend_visit("MRN-0042", D1, corrected, clinician="Dr Søren Ølund", reason="FVC misread")
    assert changes == Changes(scores=True, signing=True)
    assert store.get_visit("MRN-0042", D1) == corrected
    assert store.get_case("MRN-0042").visits == (corrected,)
    meta = store.visit_meta("MRN-0042", D1)
    assert (meta.status, meta.amended_from, meta.amendment_reason, meta.clinician) == (
        "amended", 1, "FVC misread", "Dr Søren Ølund")
    (m1, v1), (m2, v2) = store.visit_versions("MRN-0042", D1)
    assert (m1.status, m1.clinician, v1) == ("signed", "Dr Renée Côté", original)
    assert (m2.version, v2) == (2, corrected)
    with pytest.raises(StoreError, match="signed"):
        store.save_visit("MRN-0042", original)


def test_an_amendment_needs_a_reason_and_a_signed_visit(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    store.save_visit("MRN-0042", visit_factory())
    with pytest.raises(StoreError, match="draft"):
        store.amend_visit("MRN-0042", D1, visit_factory(), clinician="Dr X", reason="why")
    store.sign_visit("MRN-0042", D1, clinician="Dr X")
    with pytest.raises(StoreError, match="reason"):
        store.amend_visit("MRN-0042", D1, visit_factory(), clinician="Dr X", reason=" ")


def test_a_draft_visit_can_be_deleted_and_the_deletion_is_audited(store, patient_factory, visit_factory):
    store.add_patient(patient_factory())
    store.save_visit("MRN-0042", visit_factory())
    store.delete_visit("MRN-0042", D1)
    assert store.visit_dates("MRN-0042") == []
    deletes = [e for e in store.audit_trail("MRN-0042") if e.action == "delete"]
    assert {e.table for e in deletes} == {"visits", "muscle_findings", "reflex_findings", "sign_findings"}


def test_search_finds_name_prefixes_ignoring_accents_and_case(store, patient_factory, visit_factory):
    store.add_patient(patient_factory("MRN-0042"))
    store.add_patient(patient_factory("MRN-0043", family_name="Côté", given_names="Renée"))
    store.add_patient(patient_factory("MRN-0100", family_name="Иванов", given_names="Дмитрий"))
    store.add_patient(patient_factory("X-7", family_name="Kierkegård-Ølund", given_names="Søren"))
    store.save_visit("X-7", visit_factory(notes="Referred for gastrostomy."))
    ids = lambda q: [r.id for r in store.search_patients(q)]  # noqa: E731
    assert ids("cote") == ["MRN-0043"]
    assert ids("REN") == ["MRN-0043"]
    assert ids("Łukasiewicz") == ["MRN-0042"]
    assert ids("nowak zof") == ["MRN-0042"]
    assert ids("иван") == ["MRN-0100"]
    assert set(ids("MRN-004")) == {"MRN-0042", "MRN-0043"}
    assert ids("gastrost") == ["X-7"]
    assert ids("nobody") == []
    row = store.search_patients("Søren")[0]
    assert (row.n_visits, row.last_visit) == (1, D1)
    assert store.count_patients() == 4


def test_search_finds_letters_that_have_no_accent_to_remove_from_their_plain_spelling(store, patient_factory):
    """A new user's report: "lucja", "odeg" and "nowak odegard" found no Łucja Nowak-Ødegård,
    while "cote" found Côté. ł, ø, đ, ı, æ, ß... do not decompose, so the index keeps them:
    the query looks for them under the plain letters typed for them."""
    store.add_patient(patient_factory("P-1", family_name="Nowak-Ødegård", given_names="Łucja"))
    store.add_patient(patient_factory("P-2", family_name="Yılmaz-Örnek", given_names="Ayşe"))
    store.add_patient(patient_factory("P-3", family_name="Strauß", given_names="Æsa"))
    store.add_patient(patient_factory("P-4", family_name="Đurić", given_names="Þóra"))
    store.add_patient(patient_factory("P-5", family_name="Lund", given_names="Ola"))
    ids = lambda q: sorted(r.id for r in store.search_patients(q))  # noqa: E731
    assert ids("lucja") == ids("Łucja") == ["P-1"]
    assert ids("odeg") == ids("nowak odegard") == ["P-1"]
    assert ids("yilmaz") == ids("yilmaz ornek") == ["P-2"]
    assert ids("strauss") == ids("aesa") == ["P-3"]
    assert ids("duric") == ids("thora") == ["P-4"]
    assert ids("lund") == ["P-5"] and ids("ola") == ["P-5"]  # a plain name is found as before
    assert ids("lx") == []


def test_classify_goes_through_the_domain(store, limb_case, catalogue):
    store.add_patient(limb_case.patient)
    for v in limb_case.visits:
        store.save_visit(limb_case.patient.id, v)
    assert store.classify(limb_case.patient.id).as_json() == classify_case(limb_case, catalogue).as_json()


def test_settings_are_kept_and_audited(store):
    store.set_setting("clinician", "Dr Renée Côté")
    store.set_setting("backup_keep", 3)
    assert store.settings() == {"clinician": "Dr Renée Côté", "backup_keep": 3}
    assert [(e.table, e.action) for e in store.audit_trail()][-2:] == [("settings", "insert")] * 2


def test_setting_a_value_to_none_removes_it_and_is_audited(store):
    store.set_setting("page_size", "letter")
    store.set_setting("page_size", None)
    store.set_setting("never_set", None)
    assert "page_size" not in store.settings() and "never_set" not in store.settings()
    assert [(e.table, e.action) for e in store.audit_trail()][-2:] == [("settings", "insert"), ("settings", "delete")]


def test_a_read_only_store_refuses_writes(store, chart_path, patient_factory):
    store.add_patient(patient_factory())
    ro = ChartStore.open(chart_path, readonly=True)
    try:
        assert ro.get_patient("MRN-0042").given_names == "Zofia"
        with pytest.raises(StoreError, match="read-only"):
            ro.add_patient(patient_factory("MRN-2"))
    finally:
        ro.close()


def test_one_setting_is_read_without_the_rest(store):
    store.set_setting("clinic", "Klinika Łódź")
    assert store.setting("clinic") == "Klinika Łódź" == store.settings()["clinic"]
    assert store.setting("absent") is None and store.setting("absent", 7) == 7
