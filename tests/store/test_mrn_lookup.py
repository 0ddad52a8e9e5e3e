"""A patient is found by the key its MRN is compared by (trimmed, normalised, case-folded)
through a narrowing query instead of making every MRN's key in Python at each save (issue 20):
it must find exactly the patients the full comparison finds, whatever the chart holds."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.store import ChartStore, StoreError
from domain.patient_rules import mrn_key

IN_CHART = [
    "DEMO-000001", " demo-000002 ", "ÉMILE-4", "ＤＥＭＯ-3", "ß-5", "\u212a-6", "MRN\u200b-7", "ﬁle-8",
    "山田-9", "mrn\t10", "Ödegård-11", "ıi-12",
]
"""MRNs as a chart may hold them: plain, padded, accented, full-width, ß, the Kelvin sign, a
zero-width space, a ligature, CJK, a tab (an older chart or another program may have one),
a dotless i."""

PROBES = [
    "demo-000001", "DEMO-000001 ", "Demo-000002", "émile-4", "Émile-4", "demo-3", "DEMO-3", "SS-5", "ss-5",
    "k-6", "K-6", "mrn-7", "FILE-8", "山田-9", "MRN\t10", "mrn 10", "ödegård-11", "ODEGARD-11", "II-12",
    "nobody", "", " ",
]


@pytest.fixture
def store(tmp_path):
    s = ChartStore.open(tmp_path / "chart.sqlite", user="dr.test", daily_backup=False)
    with s._write() as db:  # (as stored; add_patient would refuse the tab)
        for mrn in IN_CHART:
            db.execute("INSERT INTO patients (id, family_name, given_names) VALUES (?, 'Nowak', 'Zoë')", [mrn])
    yield s
    s.close(backup=False)


def test_the_narrowed_lookup_finds_exactly_what_comparing_every_key_finds(store):
    ids = [pid for (pid,) in store.db.execute("SELECT id FROM patients")]
    assert sorted(ids) == sorted(IN_CHART)
    found_any = 0
    for probe in IN_CHART + PROBES:
        key = mrn_key(probe)
        expected = sorted(pid for pid in ids if mrn_key(pid) == key)
        assert store._ids_with_mrn_key(key) == expected, repr(probe)
        assert store._find_patient_id(probe) == (probe if probe in ids else (expected[0] if expected else None))
        found_any += bool(expected)
    # (the probes that only a full comparison matches: ß, full-width, Kelvin, ligature, zero width)
    assert found_any >= 20
    for probe, pid in (("SS-5", "ß-5"), ("demo-3", "ＤＥＭＯ-3"), ("k-6", "\u212a-6"), ("FILE-8", "ﬁle-8"),
                       ("mrn-7", "MRN\u200b-7")):
        assert store._find_patient_id(probe) == pid


def test_a_new_patient_whose_mrn_only_differs_in_form_is_refused_naming_the_other(store, patient_factory):
    for mrn, other in (("ss-5", "ß-5"), ("Demo-3", "ＤＥＭＯ-3"), ("DEMO-000002", " demo-000002 ")):
        with pytest.raises(StoreError, match="is already used by patient"):
            store.add_patient(patient_factory(mrn), today=dt.date(2026, 12, 3))
        with pytest.raises(StoreError) as e:
            store.add_patient(patient_factory(mrn), today=dt.date(2026, 12, 3))
        assert other in str(e.value)
    store.add_patient(patient_factory("MRN-NEW-1"), today=dt.date(2026, 12, 3))
    with pytest.raises(StoreError, match="already exists"):
        store.add_patient(patient_factory("MRN-NEW-1"), today=dt.date(2026, 12, 3))
