"""Issue 19 point 3 and its Done-when: the FHIR round trip. Every patient of the default demo
clinic (200), exported with drafts, imported into a new chart with `motorchart import`, gives the
same classification; signed visits come back signed and keep their UUIDs; a validator the
project does not write accepts the bundles; bundles from other systems are refused naming what
is not supported. Real chart files; export and import run in this process (one import command
for every file), and fhir.resources validates in one separate interpreter."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time

import pytest

from desktop.cli import main
from desktop.interop.fhir_export import export_fhir
from desktop.interop.fhir_import import FhirImportError, case_from_bundle
from desktop.store import ChartStore
from desktop.store.demo import KINDS, build_demo
from tests.interop.fhir_support import PID, entries, rich_chart, validate_elsewhere


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """The default demo clinic (200 patients) and the rich patient, each exported with drafts
    (without report PDFs, a second apiece: the PDFs are tested in test_fhir_bundle), then all
    imported into a new chart by one `motorchart import`."""
    root = tmp_path_factory.mktemp("fhir-clinic")
    chart, copy_chart, out = root / "clinic.sqlite", root / "copy.sqlite", root / "bundles"
    out.mkdir()
    store = ChartStore.open(chart, user="dr.test")
    timings = {}
    try:
        t = time.perf_counter()
        build_demo(store)
        rich_chart(store)
        timings["demo"] = time.perf_counter() - t
        ids = [r[0] for r in store.db.execute("SELECT id FROM patients ORDER BY id")]
        files = {}
        t = time.perf_counter()
        for pid in ids:
            done = export_fhir(store, pid, include_drafts=True, reports=False, models=False)
            files[pid] = out / f"{len(files):04d}.json"
            files[pid].write_text(done.text, encoding="utf-8")
        timings["export"] = time.perf_counter() - t
    finally:
        store.close(backup=False)
    t = time.perf_counter()
    rc = main(["import", "--db", str(copy_chart), *map(str, files.values())])
    timings["import"] = time.perf_counter() - t
    assert rc == 0
    return chart, copy_chart, files, timings


def test_every_demo_patient_comes_back_with_the_same_classification(clinic):
    chart, copy_chart, files, timings = clinic
    src = ChartStore.open(chart, readonly=True)
    dst = ChartStore.open(copy_chart, readonly=True)
    try:
        options = src.criteria_options()
        assert len(files) == 201 and dst.count_patients() == 201
        differ = []
        for pid in files:
            if src.classify(pid, options).as_json() != dst.classify(pid, options).as_json():
                differ.append(pid)
        assert differ == []
    finally:
        src.close(backup=False)
        dst.close(backup=False)


def test_the_round_trip_restores_the_record_signatures_and_visit_uuids(clinic):
    chart, copy_chart, files, _ = clinic
    src = ChartStore.open(chart, readonly=True)
    dst = ChartStore.open(copy_chart, readonly=True)
    try:
        for pid in files:
            assert dst.export_case(pid) == src.export_case(pid), pid  # content, marks, signatures
            assert dst.visit_uuids(pid) == src.visit_uuids(pid), pid
        assert dst.verify_signatures() == []
        assert dst.visit_status(PID, dt.date(2025, 7, 10)) == "amended"
        assert dst.visit_status(PID, dt.date(2025, 11, 1)) == "draft"
    finally:
        src.close(backup=False)
        dst.close(backup=False)


def test_importing_the_same_bundle_again_changes_nothing(clinic, capsys):
    chart, copy_chart, files, _ = clinic
    rc = main(["import", "--db", str(copy_chart), "--format", "fhir", str(files[PID])])
    out = capsys.readouterr().out
    assert rc == 0 and "0 visit(s) added, 3 already there" in out


def test_a_validator_the_project_does_not_write_accepts_one_bundle_of_each_course(clinic):
    """The demo's first patients are one of each course (limb, bulbar, PLS, PMA, flail arm, fast,
    slow); with the rich patient they use every kind of entry. All 201: test below, -m slow."""
    _, _, files, _ = clinic
    chosen = [files[f"DEMO-{i + 1:06d}"] for i in range(len(KINDS))] + [files[PID]]
    result = validate_elsewhere(chosen)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok, ") == len(chosen)


@pytest.mark.slow
def test_a_validator_the_project_does_not_write_accepts_every_demo_bundle(clinic):
    _, _, files, _ = clinic
    result = validate_elsewhere(files.values(), timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count(": ok, ") == len(files)


# ------------------------------------------------------------------------------ other systems

@pytest.fixture(scope="module")
def ours(clinic):
    _, _, files, _ = clinic
    return json.loads(files[PID].read_text(encoding="utf-8"))


def refused(bundle, catalogue) -> list[str]:
    with pytest.raises(FhirImportError) as e:
        case_from_bundle(bundle, catalogue)
    return e.value.problems


def test_bundles_from_other_systems_are_refused_naming_what_is_unsupported(ours):
    from desktop.resources import load_catalogue

    cat = load_catalogue()
    b = copy.deepcopy(ours)
    b["entry"].append({"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
                       "resource": {"resourceType": "MedicationRequest", "status": "active"},
                       "request": {"method": "POST", "url": "MedicationRequest"}})
    assert any("a MedicationRequest is not supported" in p for p in refused(b, cat))

    b = copy.deepcopy(ours)
    obs = entries(b, "Observation")[0]["resource"]
    obs["code"] = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}
    assert any("an Observation of http://loinc.org|8867-4 is not supported" in p for p in refused(b, cat))

    b = copy.deepcopy(ours)
    b["type"] = "collection"
    assert refused(b, cat) == ["the bundle: type 'collection' is not supported (Motorchart imports the "
                               "transaction bundles it writes)"]

    b = copy.deepcopy(ours)
    weight = next(e["resource"] for e in entries(b, "Observation")
                  if e["resource"]["code"]["coding"][0]["code"] == "29463-7")
    weight["valueQuantity"] = {"value": 150, "unit": "lb", "system": "http://unitsofmeasure.org", "code": "[lb_av]"}
    assert any("a quantity in '[lb_av]' is not supported" in p for p in refused(b, cat))

    assert refused({"resourceType": "Patient"}, cat) == ['not a FHIR Bundle (resourceType must be "Bundle")']


def test_a_bundle_whose_signed_content_was_changed_is_refused_whole(ours, tmp_path, capsys):
    b = copy.deepcopy(ours)
    fvc = next(e["resource"] for e in entries(b, "Observation")
               if e["resource"]["code"]["coding"][0]["code"] == "19872-1")
    fvc["valueQuantity"]["value"] = 99.0
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(b), encoding="utf-8")
    rc = main(["import", "--db", str(tmp_path / "new.sqlite"), str(path)])
    err = capsys.readouterr().err
    assert rc == 2 and "does not match its signature" in err and "Traceback" not in err
