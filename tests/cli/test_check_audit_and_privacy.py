"""Issue 18, points 3 and 4 on the command line: `check` names where the audit chain breaks
(exit 1) and warns about chart files other accounts can read (a warning: exit 0); everything
the commands write is private under umask 022; `audit` still reads the trail."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from desktop.cli import main
from desktop.store import list_backups
from desktop.store.audit_chain import head_path

PID = "DEMO-000001"


@pytest.fixture(autouse=True)
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def demo_chart(tmp_path, capsys):
    path = tmp_path / "clinic" / "clinic.sqlite"
    assert main(["demo", "--db", str(path), "--patients", "20"]) == 0  # over 256 audit rows: two links
    capsys.readouterr()
    return path


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def check(path, capsys) -> tuple[int, list[str]]:
    code = main(["check", "--db", str(path)])
    return code, capsys.readouterr().out.splitlines()


def tamper(path, *sql, triggers: tuple[str, ...] = ()) -> None:
    """Change the chart as another program would, putting dropped triggers back after."""
    conn = sqlite3.connect(path)
    saved = [conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [t]).fetchone()[0] for t in triggers]
    for t in triggers:
        conn.execute(f"DROP TRIGGER {t}")
    for s in sql:
        conn.execute(s)
    for t in saved:
        conn.execute(t)
    conn.commit()
    conn.close()


def trail(path):
    """(max id, {id: time}, [(first, last) of each link])."""
    conn = sqlite3.connect(path)
    try:
        n, = conn.execute("SELECT max(id) FROM audit").fetchone()
        return (n, dict(conn.execute("SELECT id, time_utc FROM audit")),
                conn.execute("SELECT first_id, last_id FROM audit_links ORDER BY last_id").fetchall())
    finally:
        conn.close()


def test_check_says_the_audit_chain_and_the_privacy_are_ok(demo_chart, capsys):
    code, out = check(demo_chart, capsys)
    assert code == 0
    assert "audit: ok (every row linked in the SHA-256 chain; none removed, changed or cut off the end)" in out
    assert "privacy: ok (the chart and its backups are readable by their owner only)" in out


def test_everything_the_commands_write_is_private(demo_chart, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", "--db", str(demo_chart), "--patient", PID, "-o", str(out / "one.json")]) == 0
    assert main(["report", "--db", str(demo_chart), "--patient", PID, "-o", str(out / "one.pdf")]) == 0
    assert main(["backup", "--db", str(demo_chart)]) == 0
    capsys.readouterr()
    assert (out / "one.pdf").read_bytes().startswith(b"%PDF")
    files = [demo_chart, demo_chart.with_name(demo_chart.name + ".lock"), head_path(demo_chart),
             out / "one.json", out / "one.pdf", *list_backups(demo_chart)]
    assert len(files) == 7
    assert {str(f): oct(mode(f)) for f in files} == {str(f): "0o600" for f in files}
    assert mode(demo_chart.parent) == 0o700 and mode(demo_chart.parent / "clinic-backups") == 0o700


def test_check_warns_naming_each_file_others_can_read_but_does_not_fail(demo_chart, capsys):
    backup = list_backups(demo_chart)[0]
    os.chmod(demo_chart, 0o644)
    os.chmod(backup, 0o604)
    code, out = check(demo_chart, capsys)
    assert code == 0
    warning = [line for line in out if line.startswith("privacy:")]
    listed = out[out.index(warning[0]) + 1:]
    # the chart, the -wal and -shm SQLite made beside it with its mode (reading it), the backup
    assert warning == [f"privacy: warning: {len(listed)} file(s) of the chart can be read by other accounts on this "
                       "computer; make them private with chmod 600 (and their folders with chmod 700)"]
    assert listed[0] == f"  {demo_chart} (mode 0644)" and listed[-1] == f"  {backup} (mode 0604)"
    assert all(line.startswith(f"  {demo_chart}-") and line.endswith("(mode 0644)") for line in listed[1:-1])


@pytest.mark.parametrize("case", ["edited", "removed", "inserted", "outside", "cut"])
def test_check_fails_naming_where_the_audit_chain_breaks(demo_chart, capsys, case):
    n, time, links = trail(demo_chart)
    if case == "edited":
        tamper(demo_chart, "UPDATE audit SET new_json = json_set(new_json, '$.family_name', 'Smith') WHERE id = 7",
               triggers=("audit_no_update",))
        first, last = next(link for link in links if link[0] <= 7 <= link[1])
        expect = f"  audit rows {first} to {last} ({time[first]} to {time[last]}, written by "
    elif case == "removed":
        tamper(demo_chart, "DELETE FROM audit WHERE id = 9", triggers=("audit_no_delete",))
        expect = f"  audit row 9 is missing (between row 8 of {time[8]} and row 10 of {time[10]}): removed outside Motorchart"
    elif case == "inserted":
        tamper(demo_chart, "INSERT INTO audit (time_utc, user, table_name, action, patient_id) VALUES "
                           "('2020-01-01T00:00:00.000Z', 'dr.x', 'patients', 'delete', 'DEMO-000009')")
        expect = (f"  audit row {n + 1} (2020-01-01T00:00:00.000Z, patients delete): no link covers it: "
                  "written outside Motorchart")
    elif case == "outside":
        tamper(demo_chart, f"UPDATE patients SET given_names = 'Eve' WHERE id = '{PID}'")
        expect = f"  audit row {n + 1} ("
    else:
        keep = links[-2][1]  # the last write, rows and link, cut off the end
        tamper(demo_chart, f"DELETE FROM audit WHERE id > {keep}", f"DELETE FROM audit_links WHERE last_id > {keep}",
               triggers=("audit_no_delete", "audit_links_no_delete"))
        expect = (f"  the audit trail ends at row {keep} of {time[keep]}, but the head file {head_path(demo_chart)} "
                  f"records row {n} of {time[n]}: rows {keep + 1} to {n} were cut off the end outside Motorchart")
    code, out = check(demo_chart, capsys)
    assert code == 1
    # rows cut off the end: the head file says so, and so does the day's backup
    title = (f"audit: {2 if case == 'cut' else 1} problem(s): the audit trail was changed outside Motorchart "
             "(SHA-256 chain)")
    line = out[out.index(title) + 1]
    assert line.startswith(expect), line
    assert "triggers: ok (" in " ".join(out)


def test_check_finds_rows_cut_off_the_end_by_the_backups_when_the_head_file_was_removed(demo_chart, capsys):
    n, time, links = trail(demo_chart)
    keep = links[-2][1]
    tamper(demo_chart, f"DELETE FROM audit WHERE id > {keep}", f"DELETE FROM audit_links WHERE last_id > {keep}",
           triggers=("audit_no_delete", "audit_links_no_delete"))
    head_path(demo_chart).unlink()
    code, out = check(demo_chart, capsys)
    assert code == 1
    backup = list_backups(demo_chart)[0]
    assert f"  the audit trail ends at row {keep} of {time[keep]}, but the backup {backup.name} (made " in "\n".join(out)


def test_check_fails_naming_a_dropped_audit_trigger(demo_chart, capsys):
    tamper(demo_chart, "DROP TRIGGER audit_no_update")
    code, out = check(demo_chart, capsys)
    assert code == 1
    assert "  missing trigger audit_no_update" in out


def test_the_audit_command_still_reads_the_trail(demo_chart, capsys):
    assert main(["audit", "--db", str(demo_chart), "--patient", PID, "--json"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert entries and entries[0]["table"] == "patients" and entries[0]["action"] == "insert"
    import pwd

    assert {e["user"] for e in entries} == {pwd.getpwuid(os.getuid()).pw_name}


def test_the_audit_of_an_amendment_names_the_version_not_a_row_id(demo_chart, capsys):
    """A tryout read "amends = 314": the id of a row of the file. The row key says "v2"."""
    from desktop.store import ChartStore

    store = ChartStore.open(demo_chart, user="dr.test", daily_backup=False)
    try:
        date = next(d for d in store.visit_dates(PID) if store.visit_status(PID, d) == "signed")
        visit = store.get_visit(PID, date).model_copy(update={"notes": "weight corrected"})
        store.amend_visit(PID, date, visit, clinician="Dr Renée Côté", reason="weight corrected")
    finally:
        store.close(backup=False)
    assert main(["audit", "--db", str(demo_chart), "--patient", PID]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if f"{date.isoformat()} v2" in line]
    assert lines and "weight corrected" in " ".join(lines)
    assert not [line for line in lines if "amends" in line]
