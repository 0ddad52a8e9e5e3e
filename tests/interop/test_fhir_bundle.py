"""Issue 19 point 1: the FHIR R4B transaction bundle, built from a real chart file. What it holds,
its identifiers and conditional requests, its statuses, and the checks that refuse an invalid
bundle; and a validator the project does not write (fhir.resources R4B in a separate,
isolated interpreter) accepts it."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import urllib.parse

import pytest

from desktop.interop import fhir_terms as T
from desktop.interop.fhir_export import FhirExportError, build_bundle, conditional_url, export_fhir
from desktop.interop.fhir_validate import check_bundle, validate_bundle
from desktop.store import ChartStore
from tests.interop.fhir_support import PID, entries, rich_chart, validate_elsewhere

AT = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def chart(tmp_path_factory):
    path = tmp_path_factory.mktemp("fhir") / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        rich_chart(store)
    finally:
        store.close(backup=False)
    return path


@pytest.fixture(scope="module")
def store(chart):
    s = ChartStore.open(chart, readonly=True, user="dr.test")
    yield s
    s.close(backup=False)


@pytest.fixture(scope="module")
def signed_only(store):
    return export_fhir(store, PID, printed_at=AT)


@pytest.fixture(scope="module")
def with_drafts(store):
    return export_fhir(store, PID, include_drafts=True, printed_at=AT)


def by_code(bundle, code, system=T.OBS):
    return [e["resource"] for e in entries(bundle, "Observation")
            if any(c["system"] == system and c["code"] == code for c in e["resource"]["code"]["coding"])]


def test_the_bundle_is_one_transaction_of_urn_uuid_entries_each_with_a_conditional_put(with_drafts):
    b = with_drafts.bundle
    assert b["resourceType"] == "Bundle" and b["type"] == "transaction"
    full_urls = [e["fullUrl"] for e in b["entry"]]
    assert len(set(full_urls)) == len(full_urls) and all(u.startswith("urn:uuid:") for u in full_urls)
    for e in b["entry"]:
        req, res = e["request"], e["resource"]
        assert req["method"] == "PUT" and req["url"].startswith(res["resourceType"] + "?")
        assert "id" not in res
    assert check_bundle(b) == [] and validate_bundle(b) == []


def test_the_patient_is_matched_by_the_mrn_with_its_separators_escaped(with_drafts, store):
    (patient,) = [e for e in entries(with_drafts.bundle, "Patient")]
    ident = patient["resource"]["identifier"][0]
    assert (ident["system"], ident["value"]) == (T.DEFAULT_MRN_SYSTEM, PID)
    query = urllib.parse.urlsplit(patient["request"]["url"]).query
    token = urllib.parse.parse_qs(query)["identifier"][0]
    assert token == "urn:motorchart:mrn|MRN 42\\|A&B\\,c\\$"  # FHIR search escapes, then percent-encoding
    assert "&B" not in patient["request"]["url"]  # an & would start a new parameter
    r = patient["resource"]
    assert r["deceasedDateTime"] == "2025-12-01" and r["gender"] == "female" and r["birthDate"] == "1961-04-02"
    assert r["name"][0]["family"] == "Łukasiewicz-Nowak"
    other = export_fhir(store, PID, mrn_system="urn:oid:1.2.3.4", reports=False, printed_at=AT)
    (p2,) = entries(other.bundle, "Patient")
    assert p2["resource"]["identifier"][0]["system"] == "urn:oid:1.2.3.4"
    assert p2["request"]["url"].startswith("Patient?identifier=urn:oid:1.2.3.4|")


def test_every_visit_is_a_finished_ambulatory_encounter_identified_by_its_chart_uuid(with_drafts, store):
    uuids = store.visit_uuids(PID)
    encounters = [e for e in entries(with_drafts.bundle, "Encounter")]
    assert [e["resource"]["period"]["start"] for e in encounters] == ["2025-03-01", "2025-07-10", "2025-11-01"]
    for e in encounters:
        r = e["resource"]
        day = dt.date.fromisoformat(r["period"]["start"])
        assert r["status"] == "finished" and r["class"]["code"] == "AMB"
        assert r["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuids[day]}"}]
        assert e["fullUrl"] == f"urn:uuid:{uuids[day]}"
        assert e["request"]["url"] == f"Encounter?identifier=urn:ietf:rfc:3986|urn:uuid:{uuids[day]}"


def test_identifiers_are_the_same_at_every_export_so_resending_creates_nothing(store, with_drafts):
    again = export_fhir(store, PID, include_drafts=True, printed_at=AT + dt.timedelta(days=3))

    def keys(b):
        return [(e["fullUrl"], e["request"]["url"]) for e in b["entry"]]

    assert keys(again.bundle) == keys(with_drafts.bundle)
    urls = [e["request"]["url"] for e in with_drafts.bundle["entry"]]
    assert len(set(urls)) == len(urls)  # no two entries match the same resource


def test_drafts_are_left_out_unless_asked_and_then_preliminary(signed_only, with_drafts):
    assert (signed_only.visits, signed_only.drafts) == (2, 0)
    assert (with_drafts.visits, with_drafts.drafts) == (3, 1)
    statuses = {}
    for r in (e["resource"] for e in entries(with_drafts.bundle, "Observation")):
        enc = r["encounter"]["reference"]
        statuses.setdefault(enc, set()).add(r["status"])
    assert sorted(map(frozenset, statuses.values()), key=sorted) == sorted(
        [frozenset({"final"}), frozenset({"amended"}), frozenset({"preliminary"})], key=sorted)
    qr = {r["resource"]["authored"]: r["resource"]["status"] for r in entries(with_drafts.bundle, "QuestionnaireResponse")}
    assert qr == {"2025-03-01": "completed", "2025-07-10": "amended", "2025-11-01": "in-progress"}


def test_signed_visits_carry_their_report_pdf_and_signature_record(with_drafts, store):
    docs = [e["resource"] for e in entries(with_drafts.bundle, "DocumentReference")]
    assert [d["docStatus"] for d in docs] == ["final", "amended"]  # none for the draft
    for d in docs:
        pdf, record = d["content"]
        assert pdf["attachment"]["contentType"] == "application/pdf"
        assert base64.b64decode(pdf["attachment"]["data"]).startswith(b"%PDF")
        sig = json.loads(base64.b64decode(record["attachment"]["data"]))
        assert d["authenticator"]["display"] == sig["signed_by"]
    assert json.loads(base64.b64decode(docs[1]["content"][1]["attachment"]["data"]))["amendment_reason"] == "FVC misread"
    lean = export_fhir(store, PID, reports=False, printed_at=AT)
    assert [len(e["resource"]["content"]) for e in entries(lean.bundle, "DocumentReference")] == [1, 1]
    assert lean.reports == 0 and len(lean.text) < len(with_drafts.text) / 3


def test_the_condition_gives_snomed_and_icd10_onset_diagnosis_and_the_highest_criteria(with_drafts, store):
    (cond,) = [e["resource"] for e in entries(with_drafts.bundle, "Condition")]
    codes = {(c["system"], c["code"]) for c in cond["code"]["coding"]}
    label = store.classify(PID).visits[-1].phenotype.label
    icd = T.ICD10[label][0]
    assert (T.ICD10CM, icd) in codes
    assert ((T.SNOMED, "86044005") in codes) == (label in T.ALS_LABELS)
    assert cond["onsetDateTime"] == "2024-09-01"
    assert cond["extension"] == [{"url": T.ASSERTED_DATE_EXT, "valueDateTime": "2025-03-01"}]
    assert cond["bodySite"][0]["coding"][0]["code"] == "upper_limb"
    assert {s["type"]["coding"][0]["code"] for s in cond["stage"]} <= {"el_escorial", "awaji", "gold_coast"}
    assert cond["stage"] and all(s["summary"]["text"] for s in cond["stage"])
    assert cond["verificationStatus"]["coding"][0]["code"] in ("provisional", "confirmed")


@pytest.mark.parametrize("label, icd, als", [
    ("classic", "G12.21", True), ("flail_arm", "G12.21", True), ("umn_predominant", "G12.21", True),
    ("pls_probable", "G12.23", False), ("pls_definite", "G12.23", False), ("pma", "G12.25", False),
    ("progressive_bulbar_palsy", "G12.22", False), ("umn_only", "G12.20", False),
    ("undetermined", "G12.20", False)])
def test_each_phenotype_label_has_its_icd10_code(label, icd, als):
    assert T.ICD10[label][0] == icd and (label in T.ALS_LABELS) == als


def test_a_provisional_phenotype_gives_a_provisional_condition(store, monkeypatch):
    import desktop.interop.fhir_export as fx

    real = fx._Bundle.condition

    def provisional(self, classification):
        classification = copy.deepcopy(classification)
        classification["visits"][-1]["phenotype"] = {"label": "pls_probable", "provisional": True}
        return real(self, classification)

    monkeypatch.setattr(fx._Bundle, "condition", provisional)
    bundle, _ = build_bundle(store, PID, reports=False, printed_at=AT)
    (cond,) = [e["resource"] for e in entries(bundle, "Condition")]
    assert cond["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert [c["code"] for c in cond["code"]["coding"][:1]] == ["G12.23"]


def test_alsfrs_r_is_a_questionnaire_response_and_a_total_with_subscores(with_drafts, store):
    (q,) = [e["resource"] for e in entries(with_drafts.bundle, "Questionnaire")]
    assert q["url"] == T.ALSFRS_QUESTIONNAIRE and {i["linkId"] for i in q["item"]} >= {"5a", "5b", "12"}
    qrs = {r["resource"]["authored"]: r["resource"] for r in entries(with_drafts.bundle, "QuestionnaireResponse")}
    assert all(r["questionnaire"] == f"{T.ALSFRS_QUESTIONNAIRE}|1" for r in qrs.values())
    assert [i["linkId"] for i in qrs["2025-03-01"]["item"]][4] == "5a"
    assert [i["linkId"] for i in qrs["2025-11-01"]["item"]][4] == "5b"  # with a gastrostomy
    totals = by_code(with_drafts.bundle, T.ALSFRS_TOTAL)
    frs = store.get_visit(PID, dt.date(2025, 3, 1)).alsfrs_r
    first = next(t for t in totals if t["effectiveDateTime"] == "2025-03-01")
    assert first["valueQuantity"]["value"] == frs.total
    subs = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in first["component"]}
    assert subs == {"alsfrs-r-bulbar": frs.bulbar, "alsfrs-r-fine-motor": frs.fine_motor,
                    "alsfrs-r-gross-motor": frs.gross_motor, "alsfrs-r-respiratory": frs.respiratory}
    assert first["derivedFrom"][0]["reference"] in {e["fullUrl"] for e in entries(with_drafts.bundle)}


def test_fvc_and_weight_use_loinc_and_ucum(with_drafts):
    fvc = by_code(with_drafts.bundle, T.FVC_LOINC, T.LOINC)
    assert sorted(o["valueQuantity"]["value"] for o in fvc) == [70.0, 86.0]  # the amended value; none for the draft
    assert all(o["valueQuantity"]["code"] == "%" and o["valueQuantity"]["system"] == T.UCUM for o in fvc)
    weight = by_code(with_drafts.bundle, T.WEIGHT_LOINC, T.LOINC)
    assert len(weight) == 2  # the copied-forward draft has no weight
    assert all(o["valueQuantity"] == {"value": 71.5, "unit": "kg", "system": T.UCUM, "code": "kg"} for o in weight)
    assert all(o["category"][0]["coding"][0]["code"] == "vital-signs" for o in weight)


def test_muscles_and_emg_are_observations_with_body_site_and_laterality(with_drafts):
    first = "2025-03-01"
    exams = [o for o in by_code(with_drafts.bundle, T.MUSCLE_EXAM) if o["effectiveDateTime"] == first]
    sites = [(o["bodySite"]["coding"][0]["code"], o["bodySite"]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"])
             for o in exams]
    assert sites == [("first_dorsal_interosseous", "24028007"), ("biceps", "7771000"), ("tongue", "399488007")]
    fdi = exams[0]
    assert fdi["valueCodeableConcept"]["coding"][0] == {"system": T.MRC_GRADE, "code": "4-", "display": "MRC 4-"}
    biceps = exams[1]
    comps = {c["code"]["coding"][0]["code"]: c for c in biceps["component"]}
    assert comps["other-cause"]["valueBoolean"] is True
    assert comps["other-cause-reason"]["valueString"] == "C5 radiculopathy"
    emg = {o["bodySite"]["coding"][0]["code"]: o for o in by_code(with_drafts.bundle, T.NEEDLE_EMG)
           if o["encounter"] == fdi["encounter"]}
    assert set(emg) == {"first_dorsal_interosseous", "tibialis_anterior"}  # EMG only: no exam Observation
    assert emg["first_dorsal_interosseous"]["effectiveDateTime"] == "2025-02-20"  # the EMG study's date
    comps = {c["code"]["coding"][0]["code"]: c for c in emg["first_dorsal_interosseous"]["component"]}
    assert comps["fibrillations"]["valueInteger"] == 2
    assert comps["fasciculation-potentials"]["valueCodeableConcept"]["coding"][0]["code"] == "complex"


def test_reflexes_signs_stages_and_milestones(with_drafts, store):
    b = with_drafts.bundle
    reflexes = by_code(b, T.TENDON_REFLEX)
    assert {(o["bodySite"]["coding"][0]["code"], o["valueInteger"]) for o in reflexes} == {("biceps", 4)}
    signs = by_code(b, "babinski", T.SIGN)
    assert signs and all(o["valueBoolean"] is True for o in signs)
    staging = store.classify(PID).as_json()["visits"][0]["staging"]
    kings = [o for o in by_code(b, T.KINGS_CLINICAL) if o["effectiveDateTime"] == "2025-03-01"]
    assert kings[0]["valueCodeableConcept"]["coding"][0]["code"] == str(staging["kings_clinical"])
    mitos = [o for o in by_code(b, T.MITOS_STAGE) if o["effectiveDateTime"] == "2025-03-01"]
    assert mitos[0]["valueCodeableConcept"]["coding"][0]["code"] == str(staging["mitos"])
    assert len(by_code(b, T.MITOS_STAGE)) == 3 and len(by_code(b, T.KINGS_ALSFRS)) == 3
    procedures = {p["resource"]["code"]["coding"][0]["code"]: p["resource"] for p in entries(b, "Procedure")}
    assert procedures["gastrostomy"]["status"] == "not-done"  # its note records a refusal
    assert procedures["gastrostomy"]["performedDateTime"] == "2025-08-01"
    assert procedures["niv"]["status"] == "completed" and procedures["niv"]["performedDateTime"] == "2025-09-01"
    assert procedures["tracheostomy"]["status"] == "unknown" and "performedDateTime" not in procedures["tracheostomy"]
    assert procedures["tracheostomy"]["note"] == [{"text": "discussed, not wanted yet"}]


# ------------------------------------------------------------------------------ validation

def test_references_must_resolve_inside_the_bundle(signed_only):
    b = copy.deepcopy(signed_only.bundle)
    obs = entries(b, "Observation")[0]["resource"]
    obs["encounter"] = {"reference": "Encounter/123"}
    problems = check_bundle(b)
    assert any("'Encounter/123' resolves to no entry of the bundle" in p for p in problems)


def test_required_codes_requests_and_conditional_urls_are_checked(signed_only):
    b = copy.deepcopy(signed_only.bundle)
    entries(b, "Observation")[0]["resource"]["status"] = "done"  # the models let this through
    entries(b, "Encounter")[0]["resource"]["status"] = "completed"
    del entries(b, "Condition")[0]["request"]
    entries(b, "Procedure")[0]["request"]["method"] = "UPSERT"
    entries(b, "Patient")[0]["request"]["url"] = conditional_url("Patient", {"system": "x", "value": "y"})
    b["entry"].append(copy.deepcopy(b["entry"][0]))
    problems = check_bundle(b)
    text = "\n".join(problems)
    assert "(Observation).status: 'done' is not one of registered" in text
    assert "(Encounter).status: 'completed' is not one of" in text
    assert "(Condition).request: missing" in text
    assert "request.method: 'UPSERT' is not an HTTP verb code" in text
    assert "matches identifier x|y, which the resource does not carry" in text
    assert "is also entry[0]'s" in text
    b2 = copy.deepcopy(signed_only.bundle)
    b2["type"] = "collection"
    assert check_bundle(b2) == ["type: 'collection': a Motorchart export is a transaction bundle"]


def test_the_models_catch_what_they_check(signed_only):
    b = copy.deepcopy(signed_only.bundle)
    entries(b, "Patient")[0]["resource"]["birthDate"] = "1961-13-45"
    entries(b, "Observation")[0]["resource"]["valueBoolean"] = True  # a second value[x]
    problems = validate_bundle(b)
    assert problems and all("fhir.resources R4B" in p for p in problems)
    assert any("birthDate" in p for p in problems)


def test_an_invalid_bundle_is_refused_naming_the_problem(store, monkeypatch):
    import desktop.interop.fhir_export as fx

    real = fx.build_bundle

    def broken(*a, **k):
        bundle, counts = real(*a, **k)
        entries(bundle, "Encounter")[0]["resource"]["status"] = "done"
        return bundle, counts

    monkeypatch.setattr(fx, "build_bundle", broken)
    with pytest.raises(FhirExportError) as e:
        export_fhir(store, PID, reports=False, printed_at=AT)
    assert e.value.problems[0].startswith(f"patient {PID}: the FHIR bundle is not valid, so it was not written: ")
    assert "(Encounter).status: 'done'" in e.value.problems[0]


# ------------------------------------------------------------------------------ elsewhere

def test_a_validator_the_project_does_not_write_accepts_the_bundles(tmp_path, signed_only, with_drafts, store):
    """fhir.resources R4B in a separate, isolated interpreter, which imports none of our code."""
    files = []
    for name, done in (("signed.json", signed_only), ("drafts.json", with_drafts)):
        (tmp_path / name).write_text(done.text, encoding="utf-8")
        files.append(tmp_path / name)
    empty = ChartStore.open(tmp_path / "empty.sqlite", user="dr.test")
    try:
        from tests.store.conftest import make_patient

        empty.add_patient(make_patient("MRN-EMPTY"))
        (tmp_path / "no-visits.json").write_text(export_fhir(empty, "MRN-EMPTY").text, encoding="utf-8")
        files.append(tmp_path / "no-visits.json")
    finally:
        empty.close(backup=False)
    result = validate_elsewhere(files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok, ") == 3
