"""Issue 19, point 2: the de-identified research export (``motorchart export --deidentified
--format csv -o FOLDER``). Real chart files, the real command line; no Qt.

The identifier scan reads every identifier the chart holds (names, MRNs old and new, visit and
milestone notes, other-cause and amendment reasons, clinicians, the chart's users, every date in
any format) and finds none of them, nor any calendar date, in any exported file: on the demo
clinic (accented and non-Latin names) plus patients aged 90 or more and a note that holds a name
and dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.store import ChartStore
from desktop.store.demo import build_demo
from domain.case import AlsfrsR, MuscleFinding, Patient, Visit

SUBJECT_ID = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
FILES = {"demographics.csv", "als_history.csv", "visits.csv", "alsfrs_r.csv", "fvc.csv", "weight.csv",
         "diagnostic_criteria.csv", "staging.csv", "milestones.csv", "death.csv", "muscle_mrc.csv",
         "data_dictionary.csv"}
NOTE = "Seen with her daughter Noémie Brightwater on 3 March 2024; call back 14/06/2024 (Dr Quatermass)."
CLINICIAN = "Dr Ximena Quatermass"
AMEND_REASON = "FVC misread, corrected by Dr Ximena Quatermass on 2024-03-06"
OTHER_CAUSE = "L5 radiculopathy, MRI of Wiśniewski 2023-11-20"
REFUSAL = "refused on 2024-05-20 after a talk with Ingrid"


def alsfrs(**kw) -> AlsfrsR:
    base = {"speech": 4, "salivation": 4, "swallowing": 4, "handwriting": 3, "cutting_food": 3,
            "gastrostomy": False, "dressing_hygiene": 4, "turning_in_bed": 4, "walking": 3,
            "climbing_stairs": 3, "dyspnea": 4, "orthopnea": 4, "respiratory_insufficiency": 4}
    return AlsfrsR(**{**base, **kw})


def visit(date: str, **kw) -> Visit:
    base = {"date": dt.date.fromisoformat(date), "progressive_by_history": True, "alsfrs_r": alsfrs(),
            "fvc_percent": 88.5, "weight_kg": 70,
            "muscles": (MuscleFinding(muscle="biceps", side="right", mrc="4", wasting="mild"),
                        MuscleFinding(muscle="tibialis_anterior", side="left", mrc="3"))}
    return Visit(**{**base, **kw})


def add_signed(store, patient: Patient, *dates: str, **visit_kw) -> None:
    store.add_patient(patient)
    for d in dates:
        store.save_visit(patient.id, visit(d, **visit_kw))
        store.sign_visit(patient.id, dt.date.fromisoformat(d), clinician=CLINICIAN)


def add_special_patients(store) -> None:
    """A note holding a name and dates, every other free text, a renamed MRN, and three
    patients near or over 90."""
    p = Patient(id="MRN-OLD-77", family_name="Håkonsen", given_names="Ingrid", birth_date=dt.date(1950, 2, 14),
                sex="female", onset_date=dt.date(2023, 6, 10), onset_region="lower_limb", onset_side="left",
                diagnosis_date=dt.date(2024, 1, 20), gastrostomy_date=dt.date(2024, 5, 20),
                gastrostomy_note=REFUSAL, niv_date=dt.date(2024, 8, 2), niv_note="started at Dr Côté's clinic",
                death_date=dt.date(2024, 11, 30), death_note="died at home, Ó Dúnlaing hospice team present")
    store.add_patient(p)
    muscles = (MuscleFinding(muscle="biceps", side="right", mrc="4"),
               MuscleFinding(muscle="tibialis_anterior", side="left", mrc="2", other_cause=True,
                             other_cause_reason=OTHER_CAUSE))
    store.save_visit(p.id, visit("2024-03-05", notes=NOTE, muscles=muscles))
    store.sign_visit(p.id, dt.date(2024, 3, 5), clinician=CLINICIAN)
    store.amend_visit(p.id, dt.date(2024, 3, 5), visit("2024-03-05", notes=NOTE, muscles=muscles, fvc_percent=71.0),
                      clinician=CLINICIAN, reason=AMEND_REASON)
    store.save_visit(p.id, visit("2024-07-01", notes="Draft: Ingrid Håkonsen seen 2024-07-01."))
    store.sign_visit(p.id, dt.date(2024, 7, 1), clinician="Dr Amara Okonkwo-Bell")
    store.update_patient(p.model_copy(update={"id": "MRN-NOTE-7"}), old_id="MRN-OLD-77")
    # 88 at the first visit, 90 at the second: 90+
    add_signed(store, Patient(id="MRN-9090", family_name="Varga-Minta", given_names="Eero",
                              birth_date=dt.date(1933, 5, 10), sex="male", onset_date=dt.date(2021, 9, 1),
                              onset_region="bulbar"), "2022-04-01", "2023-06-01")
    # 88 at the only visit, 90 at death: 90+
    add_signed(store, Patient(id="MRN-9191", family_name="Ferreira-Demo", given_names="Léa",
                              birth_date=dt.date(1935, 1, 1), sex="female", onset_date=dt.date(2023, 3, 1),
                              onset_region="upper_limb", onset_side="right", death_date=dt.date(2025, 2, 1)),
               "2023-12-01")
    # 88 then 89 at every time point: a number
    add_signed(store, Patient(id="MRN-8989", family_name="Duarte", given_names="Hana",
                              birth_date=dt.date(1935, 6, 1), sex="female", onset_date=dt.date(2023, 10, 1),
                              onset_region="lower_limb", onset_side="right"), "2024-01-01", "2024-12-01")


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("ascii"), newline="")))


def export(chart: Path, out: Path, *extra: str) -> int:
    return main(["export", "--db", str(chart), "--deidentified", "--format", "csv", "-o", str(out), *extra])


# ------------------------------------------------------------------------------- the scan

def _fold(text: str) -> str:
    """Case-folded, accents stripped (Côté -> cote), so a name is found however it is written."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]+", _fold(text)))


MONTHS = r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?)"
CALENDAR_DATE = re.compile("|".join((
    r"(?<!\d)(1[89]|20)\d\d[-/. ](0?[1-9]|1[0-2])[-/. ](0?[1-9]|[12]\d|3[01])(?!\d)",  # 2024-03-05, 2024/3/5
    r"(?<!\d)(0?[1-9]|[12]\d|3[01])[-/.](0?[1-9]|[12]\d|3[01])[-/.](\d{4}|\d\d)(?!\d)",  # 05/03/2024, 3.5.24, 12/31/24
    r"(?<!\d)(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)",  # 20240305
    rf"\b{MONTHS}\b\.?,?\s*\d",  # March 3, Mar 2024
    rf"\d(st|nd|rd|th)?[-\s]*{MONTHS}\b",  # 3 March, 3rd Mar, 05-Mar
    r"\d\d:\d\d",  # a time of day
)), re.IGNORECASE)


def date_formats(d: dt.date) -> set[str]:
    return {d.isoformat(), f"{d:%d/%m/%Y}", f"{d:%m/%d/%Y}", f"{d:%d.%m.%Y}", f"{d:%Y%m%d}", f"{d:%d-%m-%Y}",
            f"{d:%Y/%m/%d}", f"{d.day}/{d.month}/{d.year}", f"{d.month}/{d.day}/{d.year}",
            f"{d.day}.{d.month}.{d.year}", f"{d:%d/%m/%y}", f"{d.day} {d:%B %Y}", f"{d:%B} {d.day}, {d.year}",
            f"{d:%d-%b-%Y}", f"{d:%b %d %Y}"}


def chart_identifiers(chart: Path) -> dict[str, set[str]]:
    """Every identifier the chart holds, read straight from its tables (not through the export's
    own code): names, MRNs (old ones too), free text, clinicians, users, dates."""
    import sqlite3

    conn = sqlite3.connect(f"file:{chart}?mode=ro", uri=True)
    q = lambda sql: [v for (v,) in conn.execute(sql) if v]  # noqa: E731
    try:
        names = q("SELECT family_name FROM patients") + q("SELECT given_names FROM patients")
        clinicians = (q("SELECT clinician FROM visits") + q("SELECT signed_by FROM signatures")
                      + q("SELECT user FROM audit"))
        mrns = q("SELECT id FROM patients") + q("SELECT old_id FROM patient_aliases")
        texts = (q("SELECT notes FROM visits") + q("SELECT amendment_reason FROM visits")
                 + q("SELECT amendment_reason FROM signatures") + q("SELECT other_cause_reason FROM muscle_findings")
                 + [n for c in ("gastrostomy", "niv", "tracheostomy", "death") for n in q(f"SELECT {c}_note FROM patients")])
        every_text = " ".join(str(v) for t in ("patients", "visits", "signatures", "patient_aliases", "audit")
                              for row in conn.execute(f"SELECT * FROM {t}") for v in row if isinstance(v, str))
        births = {dt.date.fromisoformat(b) for b in q("SELECT birth_date FROM patients")}
    finally:
        conn.close()
    dates = {dt.date.fromisoformat(m) for m in re.findall(r"\d{4}-\d\d-\d\d", every_text)}
    return {"names": set(names), "clinicians": set(clinicians), "mrns": set(mrns), "texts": set(texts),
            "dates": dates, "births": births}


def scan(folder: Path, ids: dict[str, set[str]]) -> list[str]:
    """Every identifier, or calendar date, found in a file of ``folder`` (one line each)."""
    found = []
    name_words = {w for n in ids["names"] | ids["clinicians"] for w in _words(n) if len(w) >= 3} - {"dr"}
    for path in sorted(folder.iterdir()):
        raw = path.read_bytes()
        if not raw.isascii():
            found.append(f"{path.name}: not ASCII")
        text = raw.decode("utf-8", "replace")
        folded = _fold(text)
        for w in sorted(_words(text) & name_words):
            found.append(f"{path.name}: the name {w!r}")
        for value in ids["names"] | ids["clinicians"] | ids["mrns"] | ids["texts"]:
            if _fold(value.strip()) in folded:
                found.append(f"{path.name}: {value!r}")
        for m in CALENDAR_DATE.finditer(text):  # every chart date in every format (test below)
            found.append(f"{path.name}: a calendar date {m.group()!r}")
    return found


# ------------------------------------------------------------------------------- the clinic

@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """The default demo clinic (200 patients) plus the special patients, exported once."""
    root = tmp_path_factory.mktemp("clinic")
    chart = root / "clinic.sqlite"
    store = ChartStore.open(chart, user="dr.tester")
    try:
        build_demo(store)
        add_special_patients(store)
    finally:
        store.close(backup=False)
    out = root / "research"
    assert export(chart, out) == 0
    return chart, out


def test_the_export_of_the_demo_clinic_holds_no_identifier_and_no_calendar_date(clinic):
    chart, out = clinic
    ids = chart_identifiers(chart)
    assert "Noémie Brightwater" not in ids["names"] and NOTE in ids["texts"]  # the scan sees the note
    assert {"MRN-OLD-77", "MRN-NOTE-7"} <= ids["mrns"] and CLINICIAN in ids["clinicians"]
    assert any(not n.isascii() and not _fold(n).isascii() for n in ids["names"])  # non-Latin names
    assert {p.name for p in out.iterdir()} == FILES
    assert scan(out, ids) == []


def test_the_scan_would_find_what_it_looks_for(clinic, tmp_path):
    """The scan itself is not blind: planted identifiers and dates are found, and its calendar
    date pattern matches every date of the chart in every format."""
    chart, _ = clinic
    ids = chart_identifiers(chart)
    assert len(ids["dates"]) > 1000 and ids["births"] <= ids["dates"]
    for d in ids["dates"]:
        for f in date_formats(d):
            assert CALENDAR_DATE.search(f"x,{f},y"), f
    for i, leak in enumerate(("Ingrid", "mrn-note-7", "Riluzole started.", "3 March 2024", "14/06/2024",
                              "20240305", "Quatermass", "Kowalczyk", "Mar 5")):
        (tmp_path / f"{i}.csv").write_text(f"subject_id,x\nBBBB-CCCC-DDDD,{leak}\n", "utf-8")
    found = scan(tmp_path, ids)
    assert len({line.split(":")[0] for line in found}) == 9, found


def test_every_file_is_keyed_by_subject_id_and_every_column_is_in_the_data_dictionary(clinic):
    _, out = clinic
    dictionary = read_csv(out / "data_dictionary.csv")
    described = {(r["file"], r["column"]): r for r in dictionary}
    assert set(dictionary[0]) == {"file", "column", "type", "unit", "description", "allowed_values"}
    assert {f for f, _ in described} == FILES
    for name in FILES:
        with (out / name).open(newline="", encoding="ascii") as fh:
            header = next(csv.reader(fh))
        assert [c for f, c in described if f == name] == header
        if name != "data_dictionary.csv":
            assert header[0] == "subject_id"
        for row in read_csv(out / name):
            for col, value in row.items():
                d = described[(name, col)]
                assert d["description"]
                if value and d["allowed_values"]:
                    assert value in d["allowed_values"].split(" | "), (name, col, value)
                if value and d["type"] == "integer":
                    int(value)
                if value and d["type"] == "number":
                    float(value)
    assert not any("birth" in c or "year" in c or "date" in c for _, c in described)


def test_ages_are_in_years_at_the_first_visit_and_90_or_over_at_any_time_point_is_90_plus(clinic):
    chart, out = clinic
    subjects = ChartStore.open(chart, readonly=True)
    try:
        sid = subjects.research_subject_ids()
    finally:
        subjects.close()
    ages = {r["subject_id"]: r["age_at_first_visit"] for r in read_csv(out / "demographics.csv")}
    assert ages[sid["MRN-9090"]] == "90+"  # 88 at the first visit, 90 at the second
    assert ages[sid["MRN-9191"]] == "90+"  # 88 at the only visit, 90 at death
    assert ages[sid["MRN-8989"]] == "88"  # under 90 at every exported time point
    assert ages[sid["MRN-NOTE-7"]] == "74"
    numbers = [int(a) for a in ages.values() if a != "90+"]
    assert numbers and max(numbers) < 90 and all(a == "90+" or a.isdigit() for a in ages.values())


def test_times_are_days_from_the_first_visit_with_onset_and_diagnosis_before_it(clinic):
    chart, out = clinic
    store = ChartStore.open(chart, readonly=True)
    try:
        sid = store.research_subject_ids()["MRN-NOTE-7"]
    finally:
        store.close()
    rows = lambda f: [r for r in read_csv(out / f) if r["subject_id"] == sid]  # noqa: E731
    first = dt.date(2024, 3, 5)
    assert rows("als_history.csv") == [{"subject_id": sid, "onset_region": "lower_limb", "onset_side": "left",
                                        "onset_day": str((dt.date(2023, 6, 10) - first).days),
                                        "diagnosis_day": str((dt.date(2024, 1, 20) - first).days)}]
    assert [(r["visit_day"], r["visit_status"], r["results"]) for r in rows("visits.csv")] == [
        ("0", "amended", "signed"), ("118", "signed", "signed")]
    assert rows("milestones.csv") == [
        {"subject_id": sid, "milestone": "gastrostomy", "milestone_day": "76", "refused": "yes"},
        {"subject_id": sid, "milestone": "niv", "milestone_day": "150", "refused": "no"}]
    assert rows("death.csv") == [{"subject_id": sid, "died": "yes", "death_day": "270"}]
    assert [r["fvc_percent_predicted"] for r in rows("fvc.csv")] == ["71", "88.5"]  # the amended value
    mrc = rows("muscle_mrc.csv")
    assert [(r["visit_day"], r["muscle"], r["side"], r["region"], r["mrc"], r["other_cause"]) for r in mrc] == [
        ("0", "biceps", "right", "cervical", "4", "no"), ("0", "tibialis_anterior", "left", "lumbosacral", "2", "yes"),
        ("118", "biceps", "right", "cervical", "4", "no"), ("118", "tibialis_anterior", "left", "lumbosacral", "3", "no")]
    frs = rows("alsfrs_r.csv")[0]
    assert (frs["q5a_cutting_food"], frs["q5b_cutting_food_gastrostomy"], frs["total"], frs["bulbar"]) == ("3", "", "44", "12")


def test_criteria_and_stages_of_a_signed_visit_are_those_it_was_signed_with(clinic):
    chart, out = clinic
    store = ChartStore.open(chart, readonly=True)
    try:
        sid = store.research_subject_ids()
        pid = "DEMO-000001"
        case = store.export_case(pid)
    finally:
        store.close()
    signed = [v for v in case.visits if v.signature is not None]
    crit = [r for r in read_csv(out / "diagnostic_criteria.csv") if r["subject_id"] == sid[pid]]
    stages = [r for r in read_csv(out / "staging.csv") if r["subject_id"] == sid[pid]]
    assert len(crit) == len(stages) == len(signed) > 0
    for row, stage, v in zip(crit, stages, signed):
        frozen = v.signature.classification
        assert row["el_escorial"] == frozen["criteria"]["el_escorial"]["category"]
        assert row["awaji"] == frozen["criteria"]["awaji"]["category"]
        assert row["gold_coast"] == ("met" if frozen["criteria"]["gold_coast"]["met"] else "not_met")
        assert row["phenotype"] == frozen["phenotype"]["label"]
        assert stage["kings_clinical"] == frozen["staging"]["kings_clinical"]
        assert stage["mitos"] == str(frozen["staging"]["mitos"])


def test_rows_are_in_subject_id_order_so_their_order_says_nothing_of_the_mrns(clinic):
    _, out = clinic
    for name in FILES - {"data_dictionary.csv"}:
        ids = [r["subject_id"] for r in read_csv(out / name)]
        assert ids == sorted(ids) and all(SUBJECT_ID.match(i) for i in ids)


# ------------------------------------------------------------------------------- subject ids

@pytest.fixture
def small(tmp_path):
    chart = tmp_path / "small.sqlite"
    store = ChartStore.open(chart, user="dr.tester")
    try:
        build_demo(store, 12)
    finally:
        store.close(backup=False)
    return chart


def mapping(chart: Path) -> dict[str, str]:
    store = ChartStore.open(chart, readonly=True)
    try:
        return store.research_subject_ids()
    finally:
        store.close()


def subject_ids_in(out: Path) -> set[str]:
    return {r["subject_id"] for r in read_csv(out / "demographics.csv")}


def test_a_patient_keeps_the_same_random_subject_id_in_every_export(small, tmp_path, capsys):
    assert export(small, tmp_path / "a") == 0
    first = mapping(small)
    assert export(small, tmp_path / "b") == 0
    assert mapping(small) == first and subject_ids_in(tmp_path / "a") == subject_ids_in(tmp_path / "b")
    assert subject_ids_in(tmp_path / "a") == set(first.values())
    assert all(SUBJECT_ID.match(s) for s in first.values()) and len(set(first.values())) == len(first)
    for a in (tmp_path / "a").iterdir():
        assert (tmp_path / "b" / a.name).read_bytes() == a.read_bytes()  # the same export, byte for byte
    out = capsys.readouterr().out
    assert "research export:" in out and "DEMO-" not in out


def test_subject_ids_are_not_derived_from_the_mrn(tmp_path):
    """The same MRNs in two charts get different ids."""
    charts = []
    for name in ("one", "two"):
        chart = tmp_path / f"{name}.sqlite"
        store = ChartStore.open(chart, user="dr.tester")
        try:
            build_demo(store, 3)
        finally:
            store.close(backup=False)
        assert export(chart, tmp_path / name) == 0
        charts.append(mapping(chart))
    assert charts[0].keys() == charts[1].keys()
    assert not set(charts[0].values()) & set(charts[1].values())


def test_a_subject_id_follows_a_corrected_mrn(small, tmp_path):
    assert export(small, tmp_path / "a", "--patient", "DEMO-000002") == 0
    before = mapping(small)["DEMO-000002"]
    store = ChartStore.open(small, user="dr.tester")
    try:
        store.update_patient(store.get_patient("DEMO-000002").model_copy(update={"id": "DEMO-000002-B"}),
                             old_id="DEMO-000002")
    finally:
        store.close(backup=False)
    assert export(small, tmp_path / "b", "--patient", "DEMO-000002-B") == 0
    assert mapping(small) == {"DEMO-000002-B": before}
    assert subject_ids_in(tmp_path / "b") == {before}


def test_new_ids_replace_the_ids_of_the_exported_patients_only(small, tmp_path, capsys):
    assert export(small, tmp_path / "a") == 0
    old = mapping(small)
    assert export(small, tmp_path / "b", "--new-ids", "--patient", "DEMO-000001", "--patient", "DEMO-000003") == 0
    new = mapping(small)
    assert new["DEMO-000001"] != old["DEMO-000001"] and new["DEMO-000003"] != old["DEMO-000003"]
    assert {k: v for k, v in new.items() if k not in ("DEMO-000001", "DEMO-000003")} == \
        {k: v for k, v in old.items() if k not in ("DEMO-000001", "DEMO-000003")}
    assert subject_ids_in(tmp_path / "b") == {new["DEMO-000001"], new["DEMO-000003"]}
    assert not subject_ids_in(tmp_path / "b") & set(old.values())
    assert "2 new subject id(s)" in capsys.readouterr().out


def test_only_exported_patients_get_a_subject_id(small, tmp_path):
    assert export(small, tmp_path / "a", "--patient", "DEMO-000004") == 0
    assert set(mapping(small)) == {"DEMO-000004"}


def test_drafts_are_left_out_unless_asked_for(tmp_path):
    chart = tmp_path / "c.sqlite"
    store = ChartStore.open(chart, user="dr.tester")
    try:
        add_signed(store, Patient(id="MRN-1", birth_date=dt.date(1960, 1, 1), sex="male"), "2024-01-10")
        store.new_visit("MRN-1", dt.date(2024, 4, 10), copy_forward=True)
        store.add_patient(Patient(id="MRN-2", birth_date=dt.date(1970, 1, 1)))
        store.save_visit("MRN-2", visit("2024-02-01"))
    finally:
        store.close(backup=False)
    assert export(chart, tmp_path / "signed") == 0
    assert [r["visit_day"] for r in read_csv(tmp_path / "signed" / "visits.csv")] == ["0"]
    assert set(mapping(chart)) == {"MRN-1"}  # MRN-2 has no signed visit: left out, no id
    assert export(chart, tmp_path / "all", "--include-drafts") == 0
    rows = read_csv(tmp_path / "all" / "visits.csv")
    assert sorted((r["visit_day"], r["visit_status"], r["results"]) for r in rows) == [
        ("0", "draft", "computed"), ("0", "signed", "signed"), ("91", "draft", "computed")]
    carried = [r for r in read_csv(tmp_path / "all" / "muscle_mrc.csv") if r["visit_day"] == "91"]
    assert carried and all(r["carried"] == "yes" for r in carried)  # copied forward, not reviewed


# ------------------------------------------------------------------------------- wrong options

@pytest.mark.parametrize("argv, says", [
    (["--deidentified", "--format", "json", "-o", "{out}"], "--deidentified writes CSV files"),
    (["--new-ids", "--patient", "DEMO-000001", "-o", "{out}"], "--new-ids goes with --deidentified"),
    (["--deidentified"], "needs -o FOLDER"),
    (["--deidentified", "-o", "{file}"], "is a file, not a folder"),
    (["--deidentified", "-o", "{missing}/out"], "no such folder"),
    (["--deidentified", "-o", "{out}", "--patient", "DEMO-000001", "--patient", "NOPE-1"], "no patient NOPE-1"),
    (["--format", "csv", "-o", "{out}", "--patient", "DEMO-000001"], "add --deidentified"),
    (["--patient", "DEMO-000001", "--patient", "DEMO-000002", "-o", "{file}"], "one --patient at a time"),
    (["--deidentified", "--format", "xlsx", "-o", "{out}"], "invalid choice"),
])
def test_a_wrong_option_is_one_line_exit_2_and_writes_nothing(small, tmp_path, capsys, argv, says):
    out, file = tmp_path / "out", tmp_path / "taken.txt"
    file.write_text("mine")
    argv = [a.format(out=out, file=file, missing=tmp_path / "missing") for a in argv]
    assert main(["export", "--db", str(small), *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip() and line != "nothing was written"]) == 1
    assert not out.exists() and file.read_text() == "mine" and not (tmp_path / "missing").exists()
    assert mapping(small) == {}


def test_an_export_that_cannot_be_written_leaves_the_ids_as_they_were(small, tmp_path, monkeypatch, capsys):
    assert export(small, tmp_path / "a") == 0
    before = mapping(small)
    from desktop import outfiles

    def full(path, data):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(outfiles, "write_atomic", full)
    assert export(small, tmp_path / "b", "--new-ids") == 2
    assert "No space left on device" in capsys.readouterr().err
    assert mapping(small) == before and not (tmp_path / "b").exists()


def test_a_read_only_chart_exports_when_every_patient_already_has_an_id(small, tmp_path, capsys):
    assert export(small, tmp_path / "a") == 0
    small.chmod(0o444)
    try:
        assert export(small, tmp_path / "b") == 0
        assert subject_ids_in(tmp_path / "b") == subject_ids_in(tmp_path / "a")
        assert export(small, tmp_path / "c", "--new-ids") == 2
        assert "read-only" in capsys.readouterr().err and not (tmp_path / "c").exists()
    finally:
        small.chmod(0o644)


def test_the_files_are_private_and_an_earlier_export_is_replaced(small, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "demographics.csv").write_text("old")
    (out / "notes-of-mine.txt").write_text("kept")
    assert export(small, out) == 0
    assert (out / "demographics.csv").read_text().startswith("subject_id,")
    assert (out / "notes-of-mine.txt").read_text() == "kept"
    assert all((out / f).stat().st_mode & 0o077 == 0 for f in FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES | {"notes-of-mine.txt"})  # no staging left
