"""The chart file's schema, built and upgraded by numbered sqlite-utils migrations.

Never edit a migration that has shipped: add ``m00N_...`` below it. ``SCHEMA_VERSION`` is the
number of migrations; it is also written to ``PRAGMA user_version`` so that a file from a newer
Motorchart is recognised (and refused) before anything touches it.

Rules enforced by SQLite itself, not only by Python:
- a signed (or amended) visit and its findings cannot be updated or deleted (``RAISE(ABORT)``);
- the ``audit`` table is append-only; every insert, update and delete of a clinical row adds
  an audit row with the time, the user of the writing session and the old and new values;
  from m010 the rows are covered by a hash chain (:mod:`desktop.store.audit_chain`), and the
  user is the operating-system account of the Motorchart that wrote them, not a row of the file;
- even with foreign keys off, a patient who has visits cannot be deleted, a changed MRN takes
  its visits along, and a visit or signature cannot point at a patient or visit that is not
  there (m009).

``EXPECTED_TRIGGERS`` (below the migrations) lists every trigger a chart must have: ``check``
verifies it and a chart missing one refuses every write.
"""

from __future__ import annotations

import json
import re

from ._lean import Database, Migrations
from .driver import sqlite3
from .patient_index import SCHEMA_VERSION as _LIGHT_SCHEMA_VERSION

migrations = Migrations("motorchart")

SIGNED_MESSAGE = "this visit is signed and cannot be changed; amend it instead"
FINDING_MESSAGE = "the findings of a signed visit cannot be changed; amend the visit instead"
AUDIT_MESSAGE = "the audit trail is append-only"

AUDITED = ("patients", "visits", "muscle_findings", "reflex_findings", "sign_findings", "settings")
FINDING_TABLES = ("muscle_findings", "reflex_findings", "sign_findings")
VISIT_CHILD_TABLES = (*FINDING_TABLES, "visit_marks")
"""Tables whose rows belong to one visit (``visit_id``): audited with the visit's patient."""
SIGNATURE_MESSAGE = "a signature is permanent: it cannot be changed or removed"
PATIENT_DELETE_MESSAGE = "a patient who has visits cannot be deleted"
ORPHAN_VISIT_MESSAGE = "a visit must belong to a patient of the chart"
ORPHAN_SIGNATURE_MESSAGE = "a signature must belong to a visit of the chart"

_BOOL = "IN (0, 1)"
_DATE = "GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"


@migrations()
def m001_create_tables(db: Database) -> None:
    _script(db, f"""
    CREATE TABLE patients (
        id TEXT PRIMARY KEY CHECK (length(trim(id)) > 0),
        family_name TEXT,
        given_names TEXT,
        birth_date TEXT CHECK (birth_date {_DATE}),
        sex TEXT CHECK (sex IN ('female', 'male', 'other', 'unknown')),
        onset_date TEXT CHECK (onset_date {_DATE}),
        onset_region TEXT,
        onset_side TEXT CHECK (onset_side IN ('left', 'right', 'bilateral')),
        diagnosis_date TEXT CHECK (diagnosis_date {_DATE}),
        gastrostomy_date TEXT CHECK (gastrostomy_date {_DATE}),
        niv_date TEXT CHECK (niv_date {_DATE}),
        death_date TEXT CHECK (death_date {_DATE})
    ) STRICT;

    -- One row per version of a visit: an amendment is a new row (version + 1, amended_from =
    -- the signed row it corrects); the current version of a visit is its highest version.
    CREATE TABLE visits (
        id INTEGER PRIMARY KEY,
        patient_id TEXT NOT NULL REFERENCES patients(id),
        date TEXT NOT NULL CHECK (date {_DATE}),
        version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed', 'amended')),
        clinician TEXT,
        signed_at_utc TEXT,
        amended_from INTEGER REFERENCES visits(id),
        amendment_reason TEXT,
        progressive_by_history INTEGER CHECK (progressive_by_history {_BOOL}),
        alternatives_excluded INTEGER CHECK (alternatives_excluded {_BOOL}),
        alsfrs_r_json TEXT CHECK (alsfrs_r_json IS NULL OR json_valid(alsfrs_r_json)),
        fvc_percent REAL CHECK (fvc_percent BETWEEN 0 AND 200),
        weight_kg REAL CHECK (weight_kg BETWEEN 1 AND 400),
        notes TEXT,
        UNIQUE (patient_id, date, version),
        CHECK (status = 'draft' OR (clinician IS NOT NULL AND signed_at_utc IS NOT NULL)),
        CHECK ((version = 1) = (amended_from IS NULL))
    ) STRICT;
    CREATE INDEX visits_amended_from ON visits(amended_from) WHERE amended_from IS NOT NULL;

    CREATE TABLE muscle_findings (
        visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        muscle TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('left', 'right', 'midline')),
        pos INTEGER NOT NULL,
        mrc TEXT,
        wasting TEXT CHECK (wasting IN ('none', 'mild', 'moderate', 'severe')),
        fasciculations INTEGER CHECK (fasciculations {_BOOL}),
        other_cause INTEGER NOT NULL DEFAULT 0 CHECK (other_cause {_BOOL}),
        emg_json TEXT CHECK (emg_json IS NULL OR json_valid(emg_json)),
        PRIMARY KEY (visit_id, muscle, side)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE reflex_findings (
        visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        reflex TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('left', 'right', 'midline')),
        pos INTEGER NOT NULL,
        grade INTEGER NOT NULL CHECK (grade BETWEEN 0 AND 4),
        spread INTEGER NOT NULL DEFAULT 0 CHECK (spread {_BOOL}),
        PRIMARY KEY (visit_id, reflex, side)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE sign_findings (
        visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        sign TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('left', 'right', 'midline')),
        pos INTEGER NOT NULL,
        present INTEGER NOT NULL CHECK (present {_BOOL}),
        PRIMARY KEY (visit_id, sign, side)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value_json TEXT NOT NULL CHECK (json_valid(value_json))
    ) STRICT;

    -- The user of the one writing session (the chart lock allows one writer); audit triggers
    -- read it. Not clinical data, not audited.
    CREATE TABLE session (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        user TEXT NOT NULL,
        opened_utc TEXT NOT NULL
    ) STRICT;

    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        time_utc TEXT NOT NULL,
        user TEXT NOT NULL,
        table_name TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
        patient_id TEXT,
        row_key TEXT,
        old_json TEXT,
        new_json TEXT
    ) STRICT;
    CREATE INDEX audit_patient ON audit(patient_id, id);

    -- The current version of every visit (the highest version for a patient and a date).
    CREATE VIEW current_visits AS
        SELECT v.* FROM visits v
        WHERE NOT EXISTS (SELECT 1 FROM visits w WHERE w.amended_from = v.id);
    """)


@migrations()
def m002_signed_visits_are_immutable(db: Database) -> None:
    _script(db, f"""
    CREATE TRIGGER visits_signed_no_update BEFORE UPDATE ON visits
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END;

    CREATE TRIGGER visits_signed_no_delete BEFORE DELETE ON visits
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END;
    """)
    for t in FINDING_TABLES:
        _script(db, f"""
        CREATE TRIGGER {t}_signed_no_insert BEFORE INSERT ON {t}
        WHEN (SELECT status FROM visits WHERE id = NEW.visit_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{FINDING_MESSAGE}'); END;

        CREATE TRIGGER {t}_signed_no_update BEFORE UPDATE ON {t}
        WHEN (SELECT status FROM visits WHERE id = OLD.visit_id) <> 'draft'
          OR (SELECT status FROM visits WHERE id = NEW.visit_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{FINDING_MESSAGE}'); END;

        CREATE TRIGGER {t}_signed_no_delete BEFORE DELETE ON {t}
        WHEN (SELECT status FROM visits WHERE id = OLD.visit_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{FINDING_MESSAGE}'); END;
        """)


@migrations()
def m003_audit_trail(db: Database) -> None:
    _script(db, f"""
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END;
    """)
    for table in AUDITED:
        create_audit_triggers(db, table, user=_USER)


@migrations()
def m004_full_text_search(db: Database) -> None:
    db["patients"].enable_fts(
        ["id", "family_name", "given_names"], create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )
    db["visits"].enable_fts(["notes"], create_triggers=True, tokenize="unicode61 remove_diacritics 2")


@migrations(transactional=False)
def m005_write_ahead_log(db: Database) -> None:
    db.enable_wal()


@migrations()
def m006_tracheostomy_and_milestone_notes(db: Database) -> None:
    """Tracheostomy (invasive ventilation, King's 4B) and a note per milestone (exam-format:
    patient; "refused" counts for King's)."""
    _script(db, f"""
    ALTER TABLE patients ADD COLUMN tracheostomy_date TEXT CHECK (tracheostomy_date {_DATE});
    ALTER TABLE patients ADD COLUMN gastrostomy_note TEXT;
    ALTER TABLE patients ADD COLUMN niv_note TEXT;
    ALTER TABLE patients ADD COLUMN tracheostomy_note TEXT;
    ALTER TABLE patients ADD COLUMN death_note TEXT;
    """)
    create_audit_triggers(db, "patients", user=_USER)


@migrations()
def m007_signatures_and_visit_marks(db: Database) -> None:
    """Issue 13: each signed version's frozen result and hash (one row per signature, never
    changed); marks kept with their visit instead of in the settings (deleted with the visit,
    exported, audited with the patient). Marks of a signed visit are as immutable as its
    findings. Existing ``unreviewed:`` and ``alsfrs_draft:`` settings move to the new table."""
    _script(db, f"""
    CREATE TABLE signatures (
        visit_id INTEGER PRIMARY KEY REFERENCES visits(id),
        signed_by TEXT NOT NULL,
        signed_at_utc TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        amendment_reason TEXT,
        options_json TEXT NOT NULL CHECK (json_valid(options_json)),
        program_version TEXT,
        catalogue_version TEXT,
        snapshot BLOB NOT NULL,
        context_json TEXT CHECK (context_json IS NULL OR json_valid(context_json)),
        previous_sha256 TEXT,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64)
    ) STRICT;

    CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
    BEGIN SELECT RAISE(ABORT, '{SIGNATURE_MESSAGE}'); END;
    CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
    BEGIN SELECT RAISE(ABORT, '{SIGNATURE_MESSAGE}'); END;
    CREATE TRIGGER signatures_audit_insert AFTER INSERT ON signatures
    BEGIN
        INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json)
        VALUES ({_NOW}, {_USER}, 'signatures', 'insert',
                (SELECT patient_id FROM visits WHERE id = NEW.visit_id),
                (SELECT date || ' v' || version FROM visits WHERE id = NEW.visit_id), NULL,
                json_object('signed_by', NEW.signed_by, 'signed_at_utc', NEW.signed_at_utc,
                            'version', NEW.version, 'amendment_reason', NEW.amendment_reason,
                            'options', json(NEW.options_json), 'sha256', NEW.sha256));
    END;

    -- Visits signed before signatures were recorded: they have no frozen result or hash, and
    -- `check` counts them rather than calling them tampered with.
    CREATE TABLE legacy_signed (visit_id INTEGER PRIMARY KEY REFERENCES visits(id)) STRICT;
    INSERT INTO legacy_signed (visit_id) SELECT id FROM visits WHERE status <> 'draft';

    CREATE TABLE visit_marks (
        visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('not_reviewed', 'carried', 'alsfrs_draft')),
        value_json TEXT NOT NULL CHECK (json_valid(value_json)),
        PRIMARY KEY (visit_id, kind)
    ) STRICT, WITHOUT ROWID;

    CREATE TRIGGER visit_marks_signed_no_insert BEFORE INSERT ON visit_marks
    WHEN (SELECT status FROM visits WHERE id = NEW.visit_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{FINDING_MESSAGE}'); END;
    CREATE TRIGGER visit_marks_signed_no_update BEFORE UPDATE ON visit_marks
    WHEN (SELECT status FROM visits WHERE id = OLD.visit_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{FINDING_MESSAGE}'); END;
    CREATE TRIGGER visit_marks_signed_no_delete BEFORE DELETE ON visit_marks
    WHEN (SELECT status FROM visits WHERE id = OLD.visit_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{FINDING_MESSAGE}'); END;
    """)
    create_audit_triggers(db, "visit_marks", user=_USER)
    # Move the marks kept in the settings by earlier versions, onto the current version of
    # their visit; a mark of a visit that is gone or signed is dropped.
    moved = []
    for key, value in db.execute(
            "SELECT key, value_json FROM settings WHERE key LIKE 'unreviewed:%' OR key LIKE 'alsfrs_draft:%'"
    ).fetchall():
        kind, _, rest = key.partition(":")
        patient_id, _, date = rest.rpartition(":")
        row = db.execute(
            "SELECT id, status FROM visits WHERE patient_id = ? AND date = ? ORDER BY version DESC LIMIT 1",
            [patient_id, date]).fetchone()
        if row is not None and row[1] == "draft" and value not in ("null", "[]", "{}"):
            if kind == "unreviewed":  # a list of cells, copied from the visit before this one
                before = db.execute(
                    "SELECT max(date) FROM visits WHERE patient_id = ? AND date < ?", [patient_id, date]
                ).fetchone()[0]
                value = json.dumps({"cells": json.loads(value), "from": before}, separators=(",", ":"))
            db.execute("INSERT OR REPLACE INTO visit_marks (visit_id, kind, value_json) VALUES (?, ?, ?)",
                       [row[0], "not_reviewed" if kind == "unreviewed" else "alsfrs_draft", value])
        moved.append(key)
    for key in moved:
        db.execute("DELETE FROM settings WHERE key = ?", [key])


@migrations()
def m008_rename_patients_and_other_cause_reasons(db: Database) -> None:
    """Issue 14. A patient's MRN can be corrected: a signed visit may change its patient_id and
    nothing else (the old MRN is kept in ``patient_aliases`` so the audit trail follows the
    patient). A muscle attributed to another cause may say which (``other_cause_reason``)."""
    cols = [c.name for c in db["visits"].columns if c.name != "patient_id"]
    other = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols)
    _script(db, f"""
    DROP TRIGGER visits_signed_no_update;
    CREATE TRIGGER visits_signed_no_update BEFORE UPDATE ON visits
    WHEN OLD.status <> 'draft' AND ({other})
    BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END;

    CREATE TABLE patient_aliases (
        old_id TEXT NOT NULL,
        new_id TEXT NOT NULL,
        renamed_utc TEXT NOT NULL,
        PRIMARY KEY (old_id, renamed_utc)
    ) STRICT;
    CREATE INDEX patient_aliases_new ON patient_aliases(new_id);

    ALTER TABLE muscle_findings ADD COLUMN other_cause_reason TEXT;
    """)
    create_audit_triggers(db, "muscle_findings", user=_USER)


@migrations()
def m009_the_chart_protects_its_patients(db: Database) -> None:
    """Issue 17. With foreign keys off (the sqlite3 default in any other program) nothing else
    stops an orphaned signed visit: a patient who has visits cannot be deleted; a changed MRN
    moves its visits with it; a visit or a signature needs its patient or visit to exist."""
    _script(db, f"""
    CREATE TRIGGER patients_no_delete_with_visits BEFORE DELETE ON patients
    WHEN EXISTS (SELECT 1 FROM visits WHERE patient_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, '{PATIENT_DELETE_MESSAGE}'); END;

    CREATE TRIGGER patients_rename_moves_visits AFTER UPDATE OF id ON patients
    WHEN OLD.id IS NOT NEW.id
    BEGIN UPDATE visits SET patient_id = NEW.id WHERE patient_id = OLD.id; END;

    CREATE TRIGGER visits_need_a_patient_insert BEFORE INSERT ON visits
    WHEN NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id)
    BEGIN SELECT RAISE(ABORT, '{ORPHAN_VISIT_MESSAGE}'); END;

    CREATE TRIGGER visits_need_a_patient_update BEFORE UPDATE OF patient_id ON visits
    WHEN NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id)
    BEGIN SELECT RAISE(ABORT, '{ORPHAN_VISIT_MESSAGE}'); END;

    CREATE TRIGGER signatures_need_a_visit BEFORE INSERT ON signatures
    WHEN NOT EXISTS (SELECT 1 FROM visits WHERE id = NEW.visit_id)
    BEGIN SELECT RAISE(ABORT, '{ORPHAN_SIGNATURE_MESSAGE}'); END;
    """)


@migrations()
def m010_tamper_evident_audit(db: Database) -> None:
    """Issue 18. The audit rows are covered by a hash chain kept in the append-only table
    ``audit_links`` (:mod:`desktop.store.audit_chain`); the existing rows are linked here, in
    order, as they are (each keeps the user it names). The audit triggers no longer read the
    user from the writable ``session`` row (dropped): they write an empty user, and the link
    Motorchart adds at the end of each write records who wrote the rows (the operating-system
    account), under the hash. The chain key of an encrypted chart comes through
    :func:`migrate` (``chain_key``)."""
    from . import audit_chain

    _script(db, audit_chain.LINKS_SCHEMA + f"""
    CREATE TRIGGER audit_links_no_update BEFORE UPDATE ON audit_links
    BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END;
    CREATE TRIGGER audit_links_no_delete BEFORE DELETE ON audit_links
    BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END;
    DROP TRIGGER signatures_audit_insert;
    CREATE TRIGGER signatures_audit_insert AFTER INSERT ON signatures
    BEGIN
        INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json)
        VALUES ({_NOW}, {_LINKED_USER}, 'signatures', 'insert',
                (SELECT patient_id FROM visits WHERE id = NEW.visit_id),
                (SELECT date || ' v' || version FROM visits WHERE id = NEW.visit_id), NULL,
                json_object('signed_by', NEW.signed_by, 'signed_at_utc', NEW.signed_at_utc,
                            'version', NEW.version, 'amendment_reason', NEW.amendment_reason,
                            'options', json(NEW.options_json), 'sha256', NEW.sha256));
    END;
    DROP TABLE session;
    """)
    for table in (*AUDITED, "visit_marks"):
        create_audit_triggers(db, table)
    audit_chain.seal(db.conn, 0, None, getattr(db, "motorchart_chain_key", None))


_UUID4 = ("(SELECT lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' "
          "|| substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12)) "
          "FROM (SELECT hex(randomblob(16)) AS h))")
"""A random (version 4) UUID in SQL, for identifiers made by a trigger."""


@migrations()
def m011_stable_identifiers(db: Database) -> None:
    """Issue 19. Identifiers that other systems keep: a random UUID per visit (the FHIR
    Encounter's identifier, so sending the same export twice creates nothing new), made when a
    visit is first stored and kept through amendments, a corrected MRN and a re-dated draft;
    and a random research subject id per patient (the mapping that only the chart holds, so the
    clinic can re-identify a de-identified export and nobody else can)."""
    import uuid

    _script(db, """
    CREATE TABLE visit_identifiers (
        patient_id TEXT NOT NULL,
        date TEXT NOT NULL,
        uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),
        PRIMARY KEY (patient_id, date)
    ) STRICT;
    CREATE TABLE research_subjects (
        patient_id TEXT PRIMARY KEY,
        subject_id TEXT NOT NULL UNIQUE,
        assigned_utc TEXT NOT NULL
    ) STRICT;
    """)
    rows = db.execute("SELECT DISTINCT patient_id, date FROM visits ORDER BY patient_id, date").fetchall()
    db.conn.executemany("INSERT INTO visit_identifiers (patient_id, date, uuid) VALUES (?, ?, ?)",
                        [(pid, date, str(uuid.uuid4())) for pid, date in rows])
    _script(db, f"""
    CREATE TRIGGER visits_identifier_insert AFTER INSERT ON visits
    BEGIN
        INSERT OR IGNORE INTO visit_identifiers (patient_id, date, uuid)
        VALUES (NEW.patient_id, NEW.date, {_UUID4});
    END;
    CREATE TRIGGER visits_identifier_redate AFTER UPDATE OF date ON visits
    WHEN OLD.date IS NOT NEW.date
    BEGIN
        UPDATE visit_identifiers SET date = NEW.date
        WHERE patient_id = NEW.patient_id AND date = OLD.date
          AND NOT EXISTS (SELECT 1 FROM visits WHERE patient_id = NEW.patient_id AND date = OLD.date);
    END;
    CREATE TRIGGER visits_identifier_delete AFTER DELETE ON visits
    WHEN NOT EXISTS (SELECT 1 FROM visits WHERE patient_id = OLD.patient_id AND date = OLD.date)
    BEGIN
        DELETE FROM visit_identifiers WHERE patient_id = OLD.patient_id AND date = OLD.date;
    END;
    CREATE TRIGGER patients_rename_moves_identifiers AFTER UPDATE OF id ON patients
    WHEN OLD.id IS NOT NEW.id
    BEGIN
        UPDATE visit_identifiers SET patient_id = NEW.id WHERE patient_id = OLD.id;
        UPDATE research_subjects SET patient_id = NEW.id WHERE patient_id = OLD.id;
    END;
    """)



@migrations()
def m012_compact_audit(db: Database) -> None:
    """Issue 20: the audit trail as compact diffs, about a quarter of its former size.

    - An update records only the columns it changed (their old and their new values); an insert
      or a delete records the row's non-empty columns (a column left out was empty, NULL).
      :func:`expand_audit` gives readers the old and new values of every changed column.
    - A visit stored with its findings and marks in one write is one audit row, not one per
      finding: inserting a visit adds it to ``audit_pending`` instead of writing its row, the
      triggers of its findings, marks and the visit itself stay silent while it is pending, and
      :func:`flush_pending_audit` (called by every write of Motorchart before its commit, and
      before a visit is signed in the same write) writes the visit's row from what the tables
      hold then (``audit_pending_rows``: the visit's columns with its findings and marks
      nested) and empties ``audit_pending``. A visit another program inserts stays pending
      (nothing flushes it): ``check`` names it.
    Rows written before this migration keep their full before and after values; the hash chain
    covers every row as stored, so nothing is re-linked."""
    _script(db, """
    CREATE TABLE audit_pending (visit_id INTEGER PRIMARY KEY) STRICT;
    """)
    for table in (*AUDITED, "visit_marks"):
        create_diff_audit_triggers(db, table)
    create_pending_audit_view(db)


def _compact(obj: str) -> str:
    """A JSON object without its null members (a JSON merge patch of ``{}`` drops them)."""
    return f"json_patch('{{}}', {obj})"


def create_diff_audit_triggers(db: Database, table: str) -> None:
    """(Re)create the audit triggers of ``table`` from its current columns, writing compact
    diffs (m012); the triggers of a visit's findings, marks and the visit itself stay silent
    while the visit is pending (its one audit row is written by :func:`flush_pending_audit`).
    A migration that adds columns to an audited table must call this again, and
    :func:`create_pending_audit_view` for a visit or a visit's child table."""
    cols = [c.name for c in db[table].columns]

    def patient(r: str) -> str:
        return _audit_patient(table, r)

    def key(r: str) -> str:
        return _audit_key(table, r)

    def row_json(r: str) -> str:
        return _compact("json_object(" + ", ".join(f"'{c}', {r}.{c}" for c in cols) + ")")

    def diff_json(r: str) -> str:
        return _compact("json_object(" + ", ".join(
            f"'{c}', CASE WHEN OLD.{c} IS NOT NEW.{c} THEN {r}.{c} END" for c in cols) + ")")

    def not_pending(r: str) -> str:
        vid = f"{r}.id" if table == "visits" else f"{r}.visit_id"
        return f"NOT EXISTS (SELECT 1 FROM audit_pending WHERE visit_id = {vid})"

    quiet = table in VISIT_CHILD_TABLES or table == "visits"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols)
    insert = "INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json)"
    for action in ("insert", "update", "delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {table}_audit_{action}")
    if table == "visits":
        on_insert = "INSERT INTO audit_pending (visit_id) VALUES (NEW.id);"
    else:
        on_insert = (f"{insert} SELECT {_NOW}, {_LINKED_USER}, '{table}', 'insert', {patient('NEW')}, "
                     f"{key('NEW')}, NULL, {row_json('NEW')}" + (f" WHERE {not_pending('NEW')}" if quiet else "") + ";")
    on_delete = (f"{insert} SELECT {_NOW}, {_LINKED_USER}, '{table}', 'delete', {patient('OLD')}, {key('OLD')}, "
                 f"{row_json('OLD')}, NULL" + (f" WHERE {not_pending('OLD')}" if quiet else "") + ";")
    if table == "visits":  # a visit deleted in the write that stored it leaves no trace
        on_delete += "\n        DELETE FROM audit_pending WHERE visit_id = OLD.id;"
    _script(db, f"""
    CREATE TRIGGER {table}_audit_insert AFTER INSERT ON {table}
    BEGIN
        {on_insert}
    END;
    CREATE TRIGGER {table}_audit_update AFTER UPDATE ON {table}
    WHEN ({changed}){f" AND {not_pending('NEW')}" if quiet else ""}
    BEGIN
        {insert}
        VALUES ({_NOW}, {_LINKED_USER}, '{table}', 'update', {patient('NEW')}, {key('NEW')},
                {diff_json('OLD')}, {diff_json('NEW')});
    END;
    CREATE TRIGGER {table}_audit_delete AFTER DELETE ON {table}
    BEGIN
        {on_delete}
    END;
    """)


PENDING_VIEW = "audit_pending_rows"


def _value(r: str, column: str) -> str:
    """A column's value in an audit row: a JSON text column nested as JSON, not escaped."""
    return f"json({r}.{column})" if column.endswith("_json") else f"{r}.{column}"


def create_pending_audit_view(db: Database) -> None:
    """(Re)create ``audit_pending_rows``: for each pending visit, the audit row of its insert
    (``visit_id`` first, then the audit columns): the visit's non-empty columns, and under each
    child table's name (findings, marks) a table of its rows, ``{"columns": [...], "rows":
    [[...], ...]}`` without ``visit_id`` (:func:`expand_audit` turns it back into rows)."""
    order = {"muscle_findings": "pos, muscle, side", "reflex_findings": "pos, reflex, side",
             "sign_findings": "pos, sign, side", "visit_marks": "kind"}

    def child(t: str) -> str:
        cols = [c.name for c in db[t].columns if c.name != "visit_id"]
        names = ", ".join(f"'{c}'" for c in cols)
        row = "json_array(" + ", ".join(_value("c", c) for c in cols) + ")"
        return (f"'{t}', json((SELECT CASE WHEN count(*) THEN json_object('columns', json_array({names}), "
                f"'rows', json_group_array(json(j))) END FROM "
                f"(SELECT {row} AS j FROM {t} c WHERE c.visit_id = v.id ORDER BY {order[t]})))")

    visit = ", ".join(f"'{c.name}', {_value('v', c.name)}" for c in db["visits"].columns)
    nested = ", ".join(child(t) for t in VISIT_CHILD_TABLES)
    db.execute(f"DROP VIEW IF EXISTS {PENDING_VIEW}")
    db.execute(f"""
    CREATE VIEW {PENDING_VIEW} AS
    SELECT v.id AS visit_id, {_NOW} AS time_utc, {_LINKED_USER} AS user, 'visits' AS table_name,
           'insert' AS action, v.patient_id AS patient_id, v.date || ' v' || v.version AS row_key,
           NULL AS old_json, {_compact(f"json_object({visit}, {nested})")} AS new_json
    FROM audit_pending p JOIN visits v ON v.id = p.visit_id
    """)


FLUSH_AUDIT = (
    "INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json) "
    "SELECT r.time_utc, r.user, r.table_name, r.action, r.patient_id, r.row_key, r.old_json, r.new_json "
    f"FROM audit_pending p CROSS JOIN {PENDING_VIEW} r ON r.visit_id = p.visit_id")
"""What :func:`flush_pending_audit` runs (then its ``WHERE`` on ``p`` and ``ORDER BY``): each pending
visit's row of :data:`PENDING_VIEW`. ``CROSS JOIN``: the pending visits are read first, in
order, and each is looked up by its id (issue 20). Selected from the view alone, SQLite's
planner scanned every visit of the chart in id order and looked each up among the pending
ones, to spare a sort for the ``ORDER BY``: every write that stores a visit (a new visit, an
amendment, each file of an import) read the whole ``visits`` table, 13 ms a new visit on the
20,000-patient chart (100,000 visits). The view, and so the rows it gives, are unchanged."""


def flush_pending_audit(conn, keep: tuple[int, ...] = ()) -> int:
    """Write the audit row of every pending visit (:func:`m012_compact_audit`), in visit order,
    except those in ``keep`` (left pending by another program before this write began: ``check``
    names them); returns how many."""
    skip = f" WHERE p.visit_id NOT IN ({', '.join(map(str, keep))})" if keep else ""
    if conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM audit_pending p{skip})").fetchone()[0]:
        return 0  # (the usual case after the first flush of a write: no view to run)
    cur = conn.execute(FLUSH_AUDIT + skip + " ORDER BY p.visit_id")
    n = cur.rowcount
    if n:
        conn.execute(f"DELETE FROM audit_pending AS p{skip}")
    return n


def pending_visits(conn) -> tuple[int, ...]:
    """Visits stored without their audit row yet (normally none between writes)."""
    try:
        return tuple(r[0] for r in conn.execute("SELECT visit_id FROM audit_pending ORDER BY visit_id"))
    except sqlite3.OperationalError:  # a chart from before m012 (read-only, not migrated)
        return ()


def expand_audit(action: str, old: dict | None, new: dict | None) -> tuple[dict | None, dict | None]:
    """An audit row's values for readers: an update's old and new values of every column it
    changed (m012 stores a column set to or from empty on one side only); inserts and deletes
    as stored (the row's non-empty columns; rows from before m012 also list the empty ones),
    a visit's nested findings and marks (m012) as a list of rows each."""
    if action == "insert" and new is not None and any(isinstance(new.get(t), dict) for t in VISIT_CHILD_TABLES):
        new = dict(new)
        for t in VISIT_CHILD_TABLES:
            table = new.get(t)
            if isinstance(table, dict):
                new[t] = [{c: v for c, v in zip(table["columns"], row) if v is not None} for row in table["rows"]]
    if action != "update" or old is None or new is None:
        return old, new
    keys = list(dict.fromkeys([*old, *new]))
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}


_IN_LIST = re.compile(r"(?<![.\w\"\]])(\w+) IN \(((?:'[^']*'|\d+)(?:, *(?:'[^']*'|\d+)){2,})\)")
"""A column checked against a list of three or more constants: ``side IN ('left', 'right', 'midline')``."""
_CHECKED_TABLES = ("patients", "visits", "muscle_findings", "reflex_findings", "sign_findings", "audit",
                   "visit_marks")


def checks_without_in_lists(sql: str) -> str:
    """A table's ``CREATE TABLE`` text with each ``column IN (a, b, c...)`` written as
    ``(column = a OR column = b OR ...)``: the same rule for every value, NULL included (both
    forms are NULL, which a CHECK lets pass, for a NULL column). (m013)"""
    def as_or(m: re.Match) -> str:
        column, values = m.group(1), re.findall(r"'[^']*'|\d+", m.group(2))
        if column.upper() == "NOT":  # pragma: no cover  (no chart has a NOT IN list)
            raise ValueError(f"cannot rewrite a NOT IN list: {m.group(0)}")
        return "(" + " OR ".join(f"{column} = {v}" for v in values) + ")"
    return _IN_LIST.sub(as_or, sql)


@migrations()
def m013_checks_without_in_lists(db: Database) -> None:
    """Issue 20: the CHECK constraints that compare a column with three or more constants
    (``side IN ('left', 'right', 'midline')``, ``status``, ``wasting``, ``sex``, ``onset_side``,
    the audit's ``action``, a mark's ``kind``) are written as ``OR`` chains.

    The rules are the same, but SQLite builds a small table for an ``IN`` list of three or more
    values each time a prepared insert runs again, about 1.6 µs per list per row: 0.06 ms of the
    0.11 ms a visit's 22 muscle rows cost. Only the constraints' text in ``sqlite_master``
    changes (SQLite's documented way to change a CHECK, "PRAGMA writable_schema", within this
    migration's transaction, with the schema version raised); no row is rewritten, and every
    stored row met the old rule, which is the new one. An SQLite built "defensive", which
    refuses to write ``sqlite_master``, keeps the lists: the same rules, only slower."""
    names = ", ".join("?" * len(_CHECKED_TABLES))
    tables = db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ({names})",
                        _CHECKED_TABLES).fetchall()
    changed = [(new, name) for name, sql in tables if (new := checks_without_in_lists(sql)) != sql]
    if not changed:
        return
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute(WRITABLE_SCHEMA_ON)
    try:
        db.conn.executemany(SCHEMA_TEXT_UPDATE, changed)
    except sqlite3.DatabaseError as e:
        if "may not be modified" not in str(e):  # (only the refusal; a full disk, say, is the caller's)
            raise
        return  # nothing was written: the UPDATE was refused before it ran
    else:
        db.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")


WRITABLE_SCHEMA_ON = "PRAGMA writable_schema = ON"
"""What lets m013 write ``sqlite_master``; a "defensive" SQLite ignores it, and its ``UPDATE``
of ``sqlite_master`` is then refused ("table sqlite_master may not be modified")."""

SCHEMA_TEXT_UPDATE = "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?"
"""m013's one write: a table's new ``CREATE TABLE`` text."""


SCHEMA_VERSION = len(migrations._migrations)
if SCHEMA_VERSION != _LIGHT_SCHEMA_VERSION:  # pragma: no cover  (a developer's slip, caught by any test)
    raise RuntimeError(f"desktop.store.patient_index.SCHEMA_VERSION is {_LIGHT_SCHEMA_VERSION} but there are "
                       f"{SCHEMA_VERSION} migrations: update it with the new migration")
KNOWN_MIGRATIONS = tuple(m.name for m in migrations._migrations)


# ------------------------------------------------------------------------ expected triggers

EXPECTED_TRIGGERS: tuple[str, ...] = (
    # m002, m007: a signed visit, its findings and its marks cannot change
    "visits_signed_no_update", "visits_signed_no_delete",
    *(f"{t}_signed_no_{a}" for t in VISIT_CHILD_TABLES for a in ("insert", "update", "delete")),
    # m003, m007: the audit trail is append-only and follows every clinical table
    "audit_no_update", "audit_no_delete",
    *(f"{t}_audit_{a}" for t in (*AUDITED, "visit_marks") for a in ("insert", "update", "delete")),
    # m004: full-text search (sqlite-utils' names)
    *(f"{t}_{a}" for t in ("patients", "visits") for a in ("ai", "ad", "au")),
    # m007: a signature is permanent and audited
    "signatures_no_update", "signatures_no_delete", "signatures_audit_insert",
    # m009: no orphaned visits or signatures, even with foreign keys off
    "patients_no_delete_with_visits", "patients_rename_moves_visits",
    "visits_need_a_patient_insert", "visits_need_a_patient_update", "signatures_need_a_visit",
    # m010: the audit's hash chain is append-only too
    "audit_links_no_update", "audit_links_no_delete",
    # m011: a visit's identifier follows it (created, re-dated, renamed, deleted with its last version)
    "visits_identifier_insert", "visits_identifier_redate", "visits_identifier_delete",
    "patients_rename_moves_identifiers",
    # (m012 recreated the audit triggers under the same names)
)
"""Every trigger a chart of this schema must have: the one list ``check`` verifies and a
writable open requires (:func:`missing_triggers`). A migration that adds or renames a trigger
updates it (``tests/store/test_migrations.py`` compares it with a freshly migrated chart)."""


def missing_triggers(conn: sqlite3.Connection) -> list[str]:
    """The expected triggers this chart does not have (in the order of ``EXPECTED_TRIGGERS``)."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return [t for t in EXPECTED_TRIGGERS if t not in have]


# ------------------------------------------------------------------------ audit triggers

_ROW_KEY = {
    "patients": ("{r}.id", "{r}.id"),
    "visits": ("{r}.patient_id", "{r}.date || ' v' || {r}.version"),
    "muscle_findings": (None, "{r}.muscle || ' ' || {r}.side"),
    "reflex_findings": (None, "{r}.reflex || ' ' || {r}.side"),
    "sign_findings": (None, "{r}.sign || ' ' || {r}.side"),
    "settings": ("NULL", "{r}.key"),
    "visit_marks": (None, "{r}.kind"),
}

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_USER = "coalesce((SELECT user FROM session WHERE id = 1), 'unknown')"
"""Who the audit triggers of m003 to m009 named: the writable ``session`` row (m010 dropped it)."""
_LINKED_USER = "''"
"""Who the audit triggers name from m010 on: nobody (an empty user); the link Motorchart adds to
the rows records who wrote them (:func:`desktop.store.audit_chain.user_sql` reads it)."""


def _audit_patient(table: str, r: str) -> str:
    """SQL for the patient an audit row of ``table``'s row ``r`` (NEW or OLD) belongs to."""
    patient_expr = _ROW_KEY[table][0]
    if patient_expr is not None:
        return patient_expr.format(r=r)
    return f"(SELECT patient_id FROM visits WHERE id = {r}.visit_id)"


def _audit_key(table: str, r: str) -> str:
    """SQL for an audit row's ``row_key``: a visit's child rows lead with the visit's date and
    version."""
    k = _ROW_KEY[table][1].format(r=r)
    if table in VISIT_CHILD_TABLES:
        k = f"(SELECT date || ' v' || version FROM visits WHERE id = {r}.visit_id) || ' ' || {k}"
    return k


def create_audit_triggers(db: Database, table: str, *, user: str = _LINKED_USER) -> None:
    """(Re)create the insert/update/delete audit triggers of ``table`` from its current columns.

    A migration that adds columns to an audited table must call this again. ``user`` is the SQL
    the rows' user comes from (the migrations before m010 passed the old ``session`` row's).
    """
    cols = [c.name for c in db[table].columns]

    def row_json(r: str) -> str:
        return "json_object(" + ", ".join(f"'{c}', {r}.{c}" for c in cols) + ")"

    def patient(r: str) -> str:
        return _audit_patient(table, r)

    def key(r: str) -> str:
        return _audit_key(table, r)

    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols)
    for action in ("insert", "update", "delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {table}_audit_{action}")
    _script(db, f"""
    CREATE TRIGGER {table}_audit_insert AFTER INSERT ON {table}
    BEGIN
        INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json)
        VALUES ({_NOW}, {user}, '{table}', 'insert', {patient('NEW')}, {key('NEW')}, NULL, {row_json('NEW')});
    END;
    CREATE TRIGGER {table}_audit_update AFTER UPDATE ON {table}
    WHEN {changed}
    BEGIN
        INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json)
        VALUES ({_NOW}, {user}, '{table}', 'update', {patient('NEW')}, {key('NEW')},
                {row_json('OLD')}, {row_json('NEW')});
    END;
    CREATE TRIGGER {table}_audit_delete AFTER DELETE ON {table}
    BEGIN
        INSERT INTO audit (time_utc, user, table_name, action, patient_id, row_key, old_json, new_json)
        VALUES ({_NOW}, {user}, '{table}', 'delete', {patient('OLD')}, {key('OLD')}, {row_json('OLD')}, NULL);
    END;
    """)


def _script(db: Database, script: str) -> None:
    """Run several statements inside the migration's transaction (``executescript`` would
    commit it first)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            db.execute(buf)
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement: {buf!r}")


def migrate(db: Database, *, chain_key: bytes | None = None) -> None:
    """Apply pending migrations and record the schema version in ``PRAGMA user_version``;
    ``chain_key``: an encrypted chart's audit chain key (m010 links the existing rows with it)."""
    db.motorchart_chain_key = chain_key  # (read by m010; migrations take only the database)
    migrations.apply(db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
