"""The demo clinic: valid, deterministic, plausible courses."""

from __future__ import annotations

import pytest

from desktop.store.chart import _case_rows_job as _MAKE_ROWS
from desktop.store.demo import KINDS, build_demo, demo_case, demo_cases, demo_item, demo_patient
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


def test_a_demo_patients_weight_follows_their_course():
    """A patient keeps their own weight, lost as function is: no 30 kg swings between visits
    (each visit used to draw a new weight between 52 and 95 kg)."""
    for case, _ in demo_cases(150, seed=3):
        weights = [v.weight_kg for v in case.visits]
        assert all(abs(b - a) <= 8 for a, b in zip(weights, weights[1:])), (case.patient.id, weights)
        first, last = case.visits[0], case.visits[-1]
        if last.alsfrs_r.total <= first.alsfrs_r.total - 12:
            assert last.weight_kg < first.weight_kg, (case.patient.id, weights)


@pytest.mark.parametrize("seed", range(1, 7))
def test_a_pma_course_looks_like_pma_not_classic_als(seed, catalogue):
    """A pure LMN course's reflexes fade as its muscles waste, so that no reflex is "preserved in a
    weak, wasted muscle" (an UMN sign by clinical-rules): its last visit reads as an LMN
    phenotype, not classic ALS."""
    from domain.classify import classify_case

    result = classify_case(demo_case("pma", seed), catalogue)
    assert result.visits[-1].phenotype.label in {"pma", "flail_arm", "flail_leg"}
    assert result.visits[-1].umn_score == 0


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


def _written(store) -> dict:
    """What a bulk write put in the chart, but the times: every patient exported, the signature
    rows, the audit rows."""
    conn = store.db.conn
    return {
        "cases": {pid: case_to_data(store.export_case(pid)) for pid in store.all_patient_ids()},
        "signatures": conn.execute("SELECT visit_id, signed_by, signed_at_utc, version, options_json, snapshot, "
                                   "context_json, previous_sha256, sha256 FROM signatures ORDER BY visit_id").fetchall(),
        "audit": conn.execute("SELECT table_name, action, patient_id, row_key, old_json, new_json FROM audit "
                              "ORDER BY id").fetchall(),
    }


def _noted_rows_job(job):
    """The bulk path's job, noting which process ran it (a helper inherits the environment)."""
    import os

    with open(os.environ["MOTORCHART_TEST_MAKERS"], "a") as fh:
        fh.write(f"{os.getpid()}\n")
    return _MAKE_ROWS(job)


def test_the_bulk_path_writes_the_same_chart_with_helper_processes(tmp_path, monkeypatch):
    """Issue 20: with helpers making the classifications, signatures and rows, the chart is the
    one this process alone makes: the same rows, signatures (hashes included) and audit."""
    import os

    import desktop.store.chart as chart_module
    from desktop.store import ChartStore

    makers = tmp_path / "makers.txt"
    monkeypatch.setenv("MOTORCHART_TEST_MAKERS", str(makers))
    monkeypatch.setattr(chart_module, "_case_rows_job", _noted_rows_job)
    charts = []
    for workers in (1, 2):
        store = ChartStore.open(tmp_path / f"w{workers}.sqlite", user="dr.test", daily_backup=False)
        items = ((case, {d: (c, f"{d.isoformat()}T17:30:00.000000Z") for d, c in signed.items()})
                 for case, signed in demo_cases(60, 11))
        makers.write_text("")
        assert store.add_cases(items, batch=20, workers=workers) == 60
        by = set(makers.read_text().split())
        assert by == {str(os.getpid())} if workers == 1 else (by and str(os.getpid()) not in by)
        charts.append(_written(store))
        assert store.verify_signatures() == []
        store.close(backup=False)
    assert charts[0] == charts[1]
    assert len(charts[0]["signatures"]) > 100


def test_each_demo_patient_is_made_from_its_own_seed_whoever_makes_it():
    """Issue 20: helper processes make the demo clinic patient by patient, so a patient may not
    depend on those made before it (the clinic used to come from one random stream)."""
    from domain.case import case_to_data

    clinic = list(demo_cases(12, seed=4))
    assert [c.patient.id for c, _ in clinic] == [f"DEMO-{k:06d}" for k in range(1, 13)]
    for k in (12, 3, 1):  # any order, alone
        case, signed = demo_patient(k, seed=4)
        assert (case_to_data(case), signed) == (case_to_data(clinic[k - 1][0]), clinic[k - 1][1])
    assert case_to_data(demo_patient(3, seed=5)[0]) != case_to_data(clinic[2][0])  # the seed matters
    # the first patients take the course kinds in order (a small clinic has every course)
    assert clinic[KINDS.index("bulbar")][0].patient.onset_region == "bulbar"
    assert clinic[KINDS.index("flail_arm")][0].patient.onset_region == "upper_limb"


def test_the_demo_clinic_made_in_helpers_is_the_one_made_here(tmp_path):
    """The demo's own bulk path: patient numbers go to the helpers (``make``), which make the
    cases there; the chart is the one this process alone makes."""
    from desktop.store import ChartStore

    charts = []
    for workers in (1, 2):
        store = ChartStore.open(tmp_path / f"d{workers}.sqlite", user="dr.test", daily_backup=False)
        assert store.add_cases(((k, 8) for k in range(1, 41)), make=demo_item, batch=15, workers=workers) == 40
        assert store.verify_signatures() == []
        charts.append(_written(store))
        store.close(backup=False)
    assert charts[0] == charts[1]
    assert sorted(charts[0]["cases"]) == [f"DEMO-{k:06d}" for k in range(1, 41)]


def test_a_demo_clinic_over_one_already_in_the_chart_is_refused_before_anything_is_written(store):
    from desktop.store import StoreError

    from tests.store.conftest import make_case

    store.import_case(make_case("demo-000005", dates=("2025-03-01",)))  # (another spelling of DEMO-000005)
    before = store.counts()
    with pytest.raises(StoreError, match="already holds demo patient demo-000005"):
        build_demo(store, 10, seed=3)
    assert store.counts() == before
    build_demo(store, 3, seed=2)
    before = store.counts()
    with pytest.raises(StoreError, match="already holds demo patient DEMO-000001"):
        build_demo(store, 10, seed=3)
    assert store.counts() == before


def test_a_bad_case_met_by_the_helpers_refuses_the_whole_batch(store):
    from desktop.store import StoreError
    from tests.store.conftest import make_case

    good = [(case, {}) for case, _ in demo_cases(30, 5)]
    future = make_case("MRN-FUTURE", dates=("2999-01-01",))
    with pytest.raises(StoreError, match="MRN-FUTURE"):
        store.add_cases([*good, (future, {})], batch=10, workers=2)
    assert store.counts()["patients"] == 0


@pytest.mark.parametrize("values", [
    {"muscle": "deltoid", "side": "left", "mrc": "4", "wasting": "mild", "fasciculations": True, "other_cause": False},
    {"muscle": "tongue", "side": "midline"},
])
def test_the_demos_unvalidated_findings_are_what_model_construct_makes(values):
    """The demo's fast maker (``unvalidated``) must give what pydantic's ``model_construct``
    gives: the same fields with defaults, the same set fields, equal and dumped alike."""
    from desktop.store.demo import unvalidated
    from domain.case import Emg, MuscleFinding

    for model, kw in ((MuscleFinding, values),
                      (Emg, {"fibrillations": 2, "positive_sharp_waves": 1, "fasciculation_potentials": "present",
                             "mup_large": True, "mup_unstable": False, "recruitment": "reduced"})):
        fast, slow = unvalidated(model)(**kw), model.model_construct(**kw)
        assert type(fast) is model and fast == slow
        assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
        assert fast.__pydantic_fields_set__ == slow.__pydantic_fields_set__
        assert fast.model_dump(exclude_unset=True) == slow.model_dump(exclude_unset=True)
        assert fast.model_dump() == slow.model_dump()
