"""The signed visit is the record (issue 13): frozen conclusions, one version per amendment,
carried cells, marks kept with their visit, signed export and import, tamper evidence."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from desktop.reports.from_chart import report_from_chart
from desktop.signed import shown_visit
from desktop.store import ChartStore, StoreError
from desktop.store.migrations import migrations
from domain.case import Case, MuscleFinding, ReflexFinding, Visit, VisitMarks, case_from_data, case_to_data
from domain.options import Options
from domain.signature import signature_sha256, verify
from tests.reports.pdf_helpers import text as pdf_text
from tests.store.conftest import write_outside

D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 7, 10)
PRINTED = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)


def sensitive_visit(date: dt.date) -> Visit:
    """Clinically possible by default; clinically probable once weakness alone counts as
    clinical LMN (clinical_lmn_rule=weakness_or_wasting puts LMN in the legs, caudal to the arm UMN)."""
    return Visit(
        date=date, progressive_by_history=True, alternatives_excluded=True,
        muscles=(MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4", wasting="moderate"),
                 MuscleFinding(muscle="quadriceps", side="left", mrc="4", wasting="none")),
        reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),),
    )


@pytest.fixture
def signed(store, patient_factory):
    """A patient with one visit, signed with the default options."""
    p = patient_factory()
    store.import_case(Case(format="motorchart-case/1", patient=p, visits=(sensitive_visit(D2),)))
    store.sign_visit(p.id, D2, clinician="Dr Ewa Kowalczyk")
    return p.id


def shown(store, pid, date):
    case = store.get_case(pid)
    upto = case.model_copy(update={"visits": tuple(v for v in case.visits if v.date <= date)})
    today = store.classify(pid).visits[[v.date for v in case.visits].index(date)]
    return shown_visit(store, upto, today, store.criteria_options())


def test_signing_freezes_the_classification_options_versions_and_hash(store, signed):
    sig = store.signature(signed, D2)
    assert sig.signed_by == "Dr Ewa Kowalczyk" and sig.version == 1 and sig.previous_sha256 is None
    assert sig.options == Options().model_dump(mode="json")
    assert sig.classification == store.classify(signed).visits[-1].as_json()
    assert sig.classification["criteria"]["el_escorial"]["category"] == "possible"
    assert sig.program_version and len(sig.catalogue_version) == 64
    visit = store.get_visit(signed, D2)
    assert sig.sha256 == signature_sha256(visit, sig.fields())
    assert verify(visit, sig.as_signature())
    # Compact: the snapshot is stored compressed.
    size = store.db.execute("SELECT length(snapshot) FROM signatures").fetchone()[0]
    assert size < len(json.dumps(sig.classification)) / 3


def test_an_option_change_keeps_the_signed_conclusion_and_says_recomputed(store, signed):
    store.set_criteria_options(Options(clinical_lmn_rule="weakness_or_wasting"))
    assert store.classify(signed).visits[-1].criteria["el_escorial"].category == "probable"  # today
    sv = shown(store, signed, D2)
    assert sv.classification.criteria["el_escorial"].category == "possible"  # as signed
    assert sv.options["clinical_lmn_rule"] == "wasting_required"
    assert sv.recomputed[0].startswith(
        "Recomputed today: Revised El Escorial probable (signed: possible); Awaji-shima probable (signed: possible)")
    assert "Clinical LMN sign in a muscle (El Escorial, Awaji): wasting required -> weakness or wasting" in sv.recomputed[1]
    text = pdf_text(report_from_chart(store, signed, visit_date=D2, printed_at=PRINTED))
    assert "Conclusion (as signed): Revised El Escorial: Clinically possible" in " ".join(text.split())
    assert "Recomputed today" in text and "weakness or wasting" in " ".join(text.split())
    assert "Clinical LMN sign in a muscle (El Escorial, Awaji) wasting required" in " ".join(text.split())
    assert "Criteria options" in text


def test_a_draft_added_before_a_signed_visit_does_not_change_its_signed_figures(store, signed, visit_factory):
    before = store.signature(signed, D2).classification["staging"]
    earlier = visit_factory("2025-01-15")
    store.save_visit(signed, earlier)
    sv = shown(store, signed, D2)
    assert sv.classification.kings_clinical == before["kings_clinical"]
    assert sv.classification.as_json()["staging"] == before
    if sv.recomputed:
        assert "an earlier visit was added since signing (2025-01-15)" in sv.recomputed[1]


def test_the_report_of_a_signed_visit_prints_its_options_with_non_defaults_highlighted(store, patient_factory):
    p = patient_factory()
    store.set_criteria_options(Options(root_rule="disjoint"))
    store.import_case(Case(format="motorchart-case/1", patient=p, visits=(sensitive_visit(D2),)))
    store.sign_visit(p.id, D2, clinician="Dr B")
    text = " ".join(pdf_text(report_from_chart(store, p.id, visit_date=D2, printed_at=PRINTED)).split())
    assert "1 option(s) differ from the defaults (highlighted)" in text
    assert ("Two EMG muscles must differ in their roots no root in common at all differs from the default "
            "(no main root in common)") in text
    assert "Reading of 'clinically probable' distributed default" in text


def test_an_amendment_is_one_draft_version_signed_once(store, signed):
    store.begin_amendment(signed, D2)
    assert store.visit_status(signed, D2) == "amending"
    v = store.get_visit(signed, D2)
    for ch in "abcdef":  # typing six characters into the notes
        v = v.model_copy(update={"notes": (v.notes or "") + ch})
        store.save_visit(signed, v)
    store.sign_amendment(signed, D2, clinician="Dr Ewa Kowalczyk", reason="notes completed")
    versions = store.visit_versions(signed, D2)
    assert [m.version for m, _ in versions] == [1, 2]
    assert versions[1][1].notes == "abcdef" and versions[0][1].notes is None
    sigs = [e for e in store.audit_trail(signed) if e.table == "signatures"]
    assert [e.new["version"] for e in sigs] == [1, 2]
    assert sigs[1].new["amendment_reason"] == "notes completed"
    assert store.signature(signed, D2).previous_sha256 == sigs[0].new["sha256"]
    assert store.verify_signatures() == []


def test_an_amendment_needs_a_reason_and_can_be_discarded(store, signed):
    with pytest.raises(StoreError, match="no amendment open"):
        store.sign_amendment(signed, D2, clinician="Dr B", reason="x")
    store.begin_amendment(signed, D2)
    with pytest.raises(StoreError, match="already has an amendment open"):
        store.begin_amendment(signed, D2)
    with pytest.raises(StoreError, match="needs a reason"):
        store.sign_amendment(signed, D2, clinician="Dr B", reason="  ")
    with pytest.raises(StoreError, match="discard the amendment"):
        store.delete_visit(signed, D2)
    store.discard_amendment(signed, D2)
    assert store.visit_status(signed, D2) == "signed"
    assert len(store.visit_versions(signed, D2)) == 1


def test_signing_with_cells_not_reviewed_needs_a_choice(store, patient_factory):
    p = patient_factory()
    store.import_case(Case(format="motorchart-case/1", patient=p, visits=(sensitive_visit(D1), sensitive_visit(D2))))
    cells = (("muscle", "quadriceps", "left", "mrc"), ("reflex", "biceps", "right", "grade"))
    store.set_visit_marks(p.id, D2, VisitMarks(not_reviewed=cells, carried_from=D1))
    with pytest.raises(StoreError, match="2 cell\\(s\\) copied from 2025-03-01 and not reviewed"):
        store.sign_visit(p.id, D2, clinician="Dr B")
    assert store.visit_status(p.id, D2) == "draft"
    store.sign_visit(p.id, D2, clinician="Dr B", carried="drop")
    v = store.get_visit(p.id, D2)
    quadriceps = v.muscles[1]
    assert (quadriceps.muscle, quadriceps.mrc, quadriceps.wasting) == ("quadriceps", None, "none")
    assert v.reflexes == ()
    assert store.visit_marks(p.id, D2) == VisitMarks()


def test_cells_signed_as_carried_are_part_of_the_signed_record(store, patient_factory):
    p = patient_factory()
    store.import_case(Case(format="motorchart-case/1", patient=p, visits=(sensitive_visit(D1), sensitive_visit(D2))))
    cells = (("muscle", "quadriceps", "left", "mrc"),)
    store.set_visit_marks(p.id, D2, VisitMarks(not_reviewed=cells, carried_from=D1))
    store.sign_visit(p.id, D2, clinician="Dr B", carried="keep")
    marks = store.visit_marks(p.id, D2)
    assert marks.carried == cells and marks.carried_from == D1 and not marks.not_reviewed
    exported = store.export_case(p.id).visits[1]
    assert exported.marks.carried == cells and verify(exported, exported.signature)
    # Marking another cell carried would change what was signed: the hash no longer matches.
    other = exported.model_copy(update={"marks": VisitMarks(carried=(), carried_from=D1)})
    assert not verify(other, exported.signature)
    text = pdf_text(report_from_chart(store, p.id, visit_date=D2, printed_at=PRINTED))
    assert "carried from the visit of 2025-03-01: not re-examined at this visit" in " ".join(text.split())


def test_marks_live_with_their_visit_are_exported_imported_deleted_and_audited(store, patient_factory, tmp_path):
    p = patient_factory()
    store.import_case(Case(format="motorchart-case/1", patient=p, visits=(sensitive_visit(D1), sensitive_visit(D2))))
    marks = VisitMarks(not_reviewed=(("muscle", "quadriceps", "left", "mrc"),), carried_from=D1,
                       alsfrs_draft={"speech": 3, "walking": 2})
    store.set_visit_marks(p.id, D2, marks)
    assert store.visit_marks(p.id, D2) == marks
    assert not any(k.startswith(("unreviewed:", "alsfrs_draft:")) for k in store.settings())
    audit = [e for e in store.audit_trail(p.id) if e.table == "visit_marks"]
    assert {e.row_key for e in audit} == {"2025-07-10 v1 not_reviewed", "2025-07-10 v1 alsfrs_draft"}
    exported = store.export_case(p.id)
    assert exported.visits[1].marks == marks
    other = ChartStore.open(tmp_path / "other.sqlite", user="dr.other")
    try:
        other.import_case(case_from_data(case_to_data(exported), other.catalogue))
        assert other.visit_marks(p.id, D2) == marks
    finally:
        other.close(backup=False)
    store.delete_visit(p.id, D2)
    assert store.db.execute("SELECT count(*) FROM visit_marks").fetchone()[0] == 0


def test_a_signed_visit_survives_export_and_import_with_its_signature(store, signed, tmp_path):
    store.set_criteria_options(Options(gcc_reading="same_region"))  # the signature keeps its own
    data = case_to_data(store.export_case(signed))
    sig = data["visits"][0]["signature"]
    assert set(sig) >= {"signed_by", "signed_at", "version", "options", "classification", "sha256"}
    other = ChartStore.open(tmp_path / "other.sqlite", user="dr.other")
    try:
        report = other.import_case(case_from_data(json.loads(json.dumps(data)), other.catalogue))
        assert report.added == (D2,)
        assert other.visit_status(signed, D2) == "signed"
        back = other.signature(signed, D2)
        assert back.sha256 == sig["sha256"] and back.options["gcc_reading"] == "literal"
        assert other.verify_signatures() == []
        assert case_to_data(other.export_case(signed)) == data
        with pytest.raises(StoreError, match="signed"):
            other.save_visit(signed, other.get_visit(signed, D2).model_copy(update={"notes": "x"}))
    finally:
        other.close(backup=False)
    # Importing its own export again changes nothing.
    assert store.import_case(case_from_data(data, store.catalogue)).unchanged == (D2,)


def test_an_export_whose_signed_content_was_edited_is_refused_whole(store, signed, tmp_path):
    data = case_to_data(store.export_case(signed))
    data["visits"][0]["muscles"][0]["mrc"] = "5"
    other = ChartStore.open(tmp_path / "other.sqlite", user="dr.other")
    try:
        with pytest.raises(StoreError, match="does not match its signature"):
            other.import_case(case_from_data(data, other.catalogue))
        assert other.counts()["patients"] == 0
    finally:
        other.close(backup=False)


def test_check_names_a_signed_visit_changed_outside_the_app(store, signed, chart_path):
    store.close(backup=False)
    write_outside(chart_path, "DROP TRIGGER muscle_findings_signed_no_update",
                  "UPDATE muscle_findings SET mrc = '5' WHERE muscle = 'first_dorsal_interosseous'")
    again = ChartStore.open(chart_path, user="dr.test", readonly=True)
    try:
        problems = again.verify_signatures()
    finally:
        again.close(backup=False)
    assert len(problems) == 1
    assert problems[0].startswith(f"patient {signed}: the signed visit of 2025-07-10 (version 1) no longer matches")


def test_older_charts_move_their_marks_from_the_settings_to_the_visit(tmp_path):
    from desktop.store._lean import Database

    path = tmp_path / "v6.sqlite"
    db = Database(path)
    migrations.apply(db, stop_before="m007_signatures_and_visit_marks")
    db["patients"].insert({"id": "MRN-1"})
    for i, d in enumerate(("2025-01-01", "2025-04-01"), start=1):
        db.execute("INSERT INTO visits (id, patient_id, date) VALUES (?, 'MRN-1', ?)", [i, d])
    db.execute("INSERT INTO settings (key, value_json) VALUES (?, ?)",
               ["unreviewed:MRN-1:2025-04-01", json.dumps([["muscle", "deltoid", "left", "mrc"]])])
    db.execute("INSERT INTO settings (key, value_json) VALUES (?, ?)",
               ["alsfrs_draft:MRN-1:2025-04-01", json.dumps({"speech": 2})])
    db.conn.commit()
    db.conn.close()
    store = ChartStore.open(path, user="dr.test")
    try:
        marks = store.visit_marks("MRN-1", dt.date(2025, 4, 1))
        assert marks.not_reviewed == (("muscle", "deltoid", "left", "mrc"),)
        assert marks.carried_from == dt.date(2025, 1, 1) and marks.alsfrs_draft == {"speech": 2}
        assert not [k for k in store.settings() if ":" in k]
    finally:
        store.close(backup=False)


def test_the_report_names_the_study_date_of_a_carried_emg(store, patient_factory):
    from domain.case import Emg

    p = patient_factory()
    v = sensitive_visit(D2).model_copy(update={"muscles": (
        MuscleFinding(muscle="deltoid", side="left", emg=Emg(fibrillations=2, mup_large=True, study_date=D1)),)})
    store.import_case(Case(format="motorchart-case/1", patient=p, visits=(v,)))
    text = " ".join(pdf_text(report_from_chart(store, p.id, visit_date=D2, printed_at=PRINTED)).split())
    assert "Deltoid (EMG of 2025-03-01)" in text


def test_visits_signed_before_schema_7_are_counted_not_called_tampered(tmp_path):
    from desktop.store._lean import Database

    path = tmp_path / "v6.sqlite"
    db = Database(path)
    migrations.apply(db, stop_before="m007_signatures_and_visit_marks")
    db["patients"].insert({"id": "MRN-1"})
    db.execute("INSERT INTO visits (id, patient_id, date, status, clinician, signed_at_utc) "
               "VALUES (1, 'MRN-1', '2025-01-01', 'signed', 'Dr Old', '2025-01-01T10:00:00Z')")
    db.conn.commit()
    db.conn.close()
    store = ChartStore.open(path, user="dr.test")
    try:
        assert store.verify_signatures() == [] and store.signature_counts() == (0, 1)
        assert store.signature("MRN-1", dt.date(2025, 1, 1)) is None
        # A signature removed outside the app (triggers dropped) is not mistaken for an old one.
        store.save_visit("MRN-1", Visit(date=dt.date(2025, 2, 1)))
        store.sign_visit("MRN-1", dt.date(2025, 2, 1), clinician="Dr New")
    finally:
        store.close(backup=False)
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER signatures_no_delete")
    con.execute("DELETE FROM signatures")
    con.commit()
    con.close()
    store = ChartStore.open(path, user="dr.test", readonly=True)
    try:
        assert store.verify_signatures() == [
            "patient MRN-1: the signed visit of 2025-02-01 (version 1) has no signature record: "
            "its signature was removed outside Motorchart"]
    finally:
        store.close(backup=False)
