"""Fixtures for the chart store: real SQLite files in tmp_path, never mocks."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.resources import load_catalogue
from desktop.store import ChartStore
from desktop.store.demo import demo_case
from domain.case import AlsfrsR, Case, MuscleFinding, Patient, ReflexFinding, SignFinding, Visit, case_from_data


@pytest.fixture
def catalogue():
    return load_catalogue()


@pytest.fixture
def chart_path(tmp_path):
    return tmp_path / "chart.sqlite"


@pytest.fixture
def store(chart_path):
    """A freshly migrated chart, open for writing as dr.test."""
    s = ChartStore.open(chart_path, user="dr.test")
    yield s
    s.close(backup=False)


def write_outside(chart, *statements: str) -> None:
    """Another program's write: the statements run through the standard library's sqlite3,
    past Motorchart, and are committed."""
    import sqlite3

    conn = sqlite3.connect(chart)
    try:
        for sql in statements:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def process_alive(pid: int) -> bool:
    """Whether the process runs (a zombie left for its new parent to reap does not; Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def make_visit(date: str = "2025-03-01", **changes) -> Visit:
    """A small plausible visit; keyword arguments replace its fields."""
    base = Visit(
        date=dt.date.fromisoformat(date),
        progressive_by_history=True,
        muscles=(
            MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4", wasting="moderate",
                          fasciculations=True),
            MuscleFinding(muscle="biceps", side="right", mrc="5", wasting="none"),
            MuscleFinding(muscle="tibialis_anterior", side="left",
                          emg={"fibrillations": 2, "mup_large": True}),
        ),
        reflexes=(ReflexFinding(reflex="biceps", side="right", grade=4),),
        signs=(SignFinding(sign="babinski", side="left", present=True),),
        alsfrs_r=AlsfrsR(speech=4, salivation=4, swallowing=4, handwriting=3, cutting_food=3,
                         gastrostomy=False, dressing_hygiene=4, turning_in_bed=4, walking=3,
                         climbing_stairs=3, dyspnea=4, orthopnea=4, respiratory_insufficiency=4),
        fvc_percent=86, weight_kg=71.5, notes="Cramps in the right hand.",
    )
    return base.model_copy(update=changes)


def make_patient(pid: str = "MRN-0042", **changes) -> Patient:
    base = Patient(id=pid, family_name="Łukasiewicz-Nowak", given_names="Zofia",
                   birth_date=dt.date(1961, 4, 2), sex="female", onset_date=dt.date(2024, 9, 1),
                   onset_region="upper_limb", onset_side="right")
    return base.model_copy(update=changes)


def make_case(pid: str = "MRN-0042", dates=("2025-03-01", "2025-07-10")) -> Case:
    return Case(format="motorchart-case/1", patient=make_patient(pid),
                visits=tuple(make_visit(d) for d in dates))


@pytest.fixture
def case_factory():
    return make_case


@pytest.fixture
def limb_case(catalogue):
    case = demo_case("limb")
    return case_from_data(case.model_dump(mode="json", exclude_none=True), catalogue)


@pytest.fixture
def visit_factory():
    return make_visit


@pytest.fixture
def patient_factory():
    return make_patient
