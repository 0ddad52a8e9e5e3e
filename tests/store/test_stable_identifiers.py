"""Issue 19: each visit has a random UUID that other systems keep (FHIR Encounter identifier),
made when the visit is first stored and kept through an amendment, a corrected MRN and a
re-dated draft; deleting a draft's last version removes it. Real chart files."""

import datetime as dt
import re

from tests.store.conftest import make_patient, make_visit

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def uuid_of(store, pid, date):
    row = store.db.execute("SELECT uuid FROM visit_identifiers WHERE patient_id = ? AND date = ?",
                           [pid, date]).fetchone()
    return row[0] if row else None


def test_a_visit_keeps_its_uuid_through_amendment_rename_and_redate(store):
    store.add_patient(make_patient())
    store.save_visit("MRN-0042", make_visit("2025-03-01"))
    store.save_visit("MRN-0042", make_visit("2025-06-01"))
    first, second = uuid_of(store, "MRN-0042", "2025-03-01"), uuid_of(store, "MRN-0042", "2025-06-01")
    assert UUID.match(first) and UUID.match(second) and first != second
    store.sign_visit("MRN-0042", dt.date(2025, 3, 1), clinician="Dr Renée Côté")
    store.amend_visit("MRN-0042", dt.date(2025, 3, 1), make_visit("2025-03-01", fvc_percent=70.0),
                      clinician="Dr Renée Côté", reason="FVC misread")
    assert uuid_of(store, "MRN-0042", "2025-03-01") == first  # an amendment is the same visit
    store.redate_visit("MRN-0042", dt.date(2025, 6, 1), dt.date(2025, 6, 2), today=dt.date(2026, 1, 1))
    assert uuid_of(store, "MRN-0042", "2025-06-02") == second and uuid_of(store, "MRN-0042", "2025-06-01") is None
    store.update_patient(make_patient("MRN-0042-B"), old_id="MRN-0042")
    assert uuid_of(store, "MRN-0042-B", "2025-03-01") == first
    assert uuid_of(store, "MRN-0042-B", "2025-06-02") == second
    store.delete_visit("MRN-0042-B", dt.date(2025, 6, 2))
    assert uuid_of(store, "MRN-0042-B", "2025-06-02") is None
    assert store.db.execute("SELECT count(*) FROM visit_identifiers").fetchone()[0] == 1


def test_the_migration_gives_existing_visits_distinct_uuids(tmp_path):
    """A chart from before m011 with visits on record: each (patient, date) gets its own."""
    from desktop.store import ChartStore
    from desktop.store._lean import Database
    from desktop.store.migrations import migrations

    path = tmp_path / "old.sqlite"
    db = Database(path)
    migrations.apply(db, stop_before="m011_stable_identifiers")
    db["patients"].insert({"id": "MRN-1", "family_name": "Côté", "given_names": "Renée"})
    for d in ("2025-01-01", "2025-02-01", "2025-03-01"):
        db["visits"].insert({"patient_id": "MRN-1", "date": d})
    db.conn.close()
    store = ChartStore.open(path, user="dr.test")
    try:
        uuids = [r[0] for r in store.db.execute("SELECT uuid FROM visit_identifiers ORDER BY date")]
    finally:
        store.close(backup=False)
    assert len(set(uuids)) == 3 and all(UUID.match(u) for u in uuids)
