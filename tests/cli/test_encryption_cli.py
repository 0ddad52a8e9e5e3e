"""Issue 18, point 1 on the command line: `demo --encrypt`, `encrypt`, `rekey [--new-key]`, and
every command that opens a chart working on an encrypted one with MOTORCHART_PASSPHRASE. Without
a passphrase (no terminal here: pytest's stdin is not one) a command stops in one line, exit 2;
a wrong passphrase says so. Each `main` call forgets the keys first, as a new process would."""

from __future__ import annotations

import pytest

from desktop.cli import main
from desktop.store import keys
from desktop.store.driver import file_kind
from desktop.store.paths import backups_dir
from tests.store.conftest import make_case

PASS = "correct horse battery"


@pytest.fixture
def run(capsys, monkeypatch, cheap_kdf):
    """``run(*argv, passphrase=PASS, **env)``: (exit status, stdout, stderr lines), in a fresh
    process's state (no key remembered)."""

    def go(*argv: str, passphrase: str | None = PASS, **env: str):
        keys.forget_keys()
        if passphrase is None:
            monkeypatch.delenv("MOTORCHART_PASSPHRASE", raising=False)
        else:
            monkeypatch.setenv("MOTORCHART_PASSPHRASE", passphrase)
        for name in ("MOTORCHART_NEW_PASSPHRASE", "MOTORCHART_BACKUP_PASSPHRASE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        rc = main(list(argv))
        cap = capsys.readouterr()
        return rc, cap.out, cap.err.splitlines()

    return go


@pytest.fixture
def encrypted(tmp_path, run):
    path = tmp_path / "clinic.sqlite"
    rc, out, err = run("demo", "--encrypt", "--db", str(path), "--patients", "3")
    assert rc == 0, err
    assert "recovery key: " in out and "shown once" in out
    assert file_kind(path) == "encrypted" and keys.is_encrypted(path)
    return path


def _recovery(out: str) -> str:
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("recovery key: "))


def test_every_chart_command_works_on_an_encrypted_chart_with_the_passphrase(encrypted, run, tmp_path):
    db = ["--db", str(encrypted)]
    rc, out, err = run("check", *db, "--backups")
    assert rc == 0, err
    assert "encryption: SQLCipher" in out and "ok, encrypted" in out
    for argv in (["export", "--patient", "DEMO-000001"],
                 ["audit", "--patient", "DEMO-000001"],
                 ["patient", "show", "--patient", "DEMO-000001"],
                 ["classify", "--patient", "DEMO-000001", "--json"],
                 ["options"],
                 ["report", "--patient", "DEMO-000001", "-o", str(tmp_path / "r.pdf")],
                 ["visit", "new", "--patient", "DEMO-000001", "--date", "2026-07-01"],
                 ["sign", "--patient", "DEMO-000001", "--visit", "2026-07-01", "--by", "Dr B"],
                 ["backup"]):
        at = 2 if argv[0] in ("patient", "visit") else 1
        rc, out, err = run(*argv[:at], *db, *argv[at:])
        assert rc == 0, (argv, err)
    case = tmp_path / "case.json"
    import json

    from domain.case import case_to_data

    case.write_text(json.dumps(case_to_data(make_case("MRN-0099"))))
    rc, out, err = run("import", *db, str(case))
    assert rc == 0, err
    made = sorted(backups_dir(encrypted).glob("*-manual.sqlite.enc"))
    assert made and not list(backups_dir(encrypted).glob("*.gz"))
    rc, out, err = run("restore", str(made[-1]), *db, "--yes")
    assert rc == 0, err
    assert "before-restore.sqlite.enc" in out


@pytest.mark.parametrize("argv", [["check"], ["export", "--patient", "DEMO-000001"], ["backup"],
                                  ["audit", "--patient", "DEMO-000001"]])
def test_no_passphrase_or_a_wrong_one_is_one_line_and_exit_2(encrypted, run, argv):
    rc, out, err = run(argv[0], "--db", str(encrypted), *argv[1:], passphrase=None)
    assert rc == 2 and len(err) == 1
    assert "the chart is encrypted: give the chart's passphrase in MOTORCHART_PASSPHRASE" in err[0]
    rc, out, err = run(argv[0], "--db", str(encrypted), *argv[1:], passphrase="not the passphrase")
    assert rc == 2 and len(err) == 1
    assert "the passphrase is wrong" in err[0]


def test_the_recovery_key_opens_the_chart(tmp_path, run):
    path = tmp_path / "clinic.sqlite"
    rc, out, err = run("demo", "--encrypt", "--db", str(path), "--patients", "2")
    assert rc == 0, err
    rc, out, err = run("check", "--db", str(path), passphrase=_recovery(out))
    assert rc == 0, err


def test_charts_made_on_the_command_line_are_plain_unless_asked(tmp_path, run):
    path = tmp_path / "plain.sqlite"
    rc, out, err = run("demo", "--db", str(path), "--patients", "2", passphrase=None)
    assert rc == 0, err
    assert file_kind(path) == "plain" and not keys.key_file(path).exists()
    rc, out, err = run("check", "--db", str(path), passphrase=None)
    assert rc == 0 and "encryption: none" in out
    rc, out, err = run("demo", "--encrypt", "--db", str(path), "--patients", "2")
    assert rc == 2 and "a plain chart is there; encrypt it with: motorchart encrypt" in err[0]
    rc, out, err = run("demo", "--encrypt", "--db", str(tmp_path / "weak.sqlite"), passphrase="short")
    assert rc == 2 and "too short" in err[0]


def test_encrypt_converts_a_plain_chart_and_its_backups(tmp_path, run):
    path = tmp_path / "clinic.sqlite"
    assert run("demo", "--db", str(path), "--patients", "3", passphrase=None)[0] == 0
    assert run("backup", "--db", str(path), passphrase=None)[0] == 0
    names = [f for f in backups_dir(path).iterdir() if f.name.endswith(".gz")]
    assert len(names) == 2
    rc, out, err = run("encrypt", "--db", str(path), passphrase=None)
    assert rc == 2 and "give the new passphrase in MOTORCHART_PASSPHRASE" in err[0]
    assert file_kind(path) == "plain"
    rc, out, err = run("encrypt", "--db", str(path))
    assert rc == 0, err
    assert "recovery key: " in out and "2 plain backup(s) converted" in out
    assert file_kind(path) == "encrypted"
    assert not list(backups_dir(path).glob("*.gz")) and len(list(backups_dir(path).glob("*.sqlite.enc"))) == 2
    rc, out, err = run("check", "--db", str(path), "--backups")
    assert rc == 0, err
    assert out.count("ok, encrypted") == 2
    rc, out, err = run("encrypt", "--db", str(path))
    assert rc == 2 and "encrypted already" in err[0]


def test_rekey_changes_the_passphrase_and_new_key_keeps_old_backups_on_the_old_one(encrypted, run):
    db = ["--db", str(encrypted)]
    assert run("backup", *db)[0] == 0
    rc, out, err = run("rekey", *db)
    assert rc == 2 and "MOTORCHART_NEW_PASSPHRASE" in err[0]
    rc, out, err = run("rekey", *db, MOTORCHART_NEW_PASSPHRASE="second passphrase")
    assert rc == 0, err
    assert "changed the passphrase" in out
    assert run("check", *db)[0] == 2
    assert run("check", *db, passphrase="second passphrase")[0] == 0
    old_backups = sorted(backups_dir(encrypted).glob("*.sqlite.enc"))
    rc, out, err = run("rekey", "--new-key", *db, passphrase="second passphrase",
                       MOTORCHART_NEW_PASSPHRASE="third passphrase")
    assert rc == 0, err
    assert "backups made before keep opening with the old passphrase" in out and "recovery key: " in out
    rc, out, err = run("check", *db, "--backups", passphrase="third passphrase")
    assert "not checked: encrypted with a key not unlocked here" in out
    assert rc == 0, err  # a backup of an older key is not damage
    rc, out, err = run("check", *db, "--backups", passphrase="third passphrase",
                       MOTORCHART_BACKUP_PASSPHRASE="second passphrase")
    assert "not checked" not in out and rc == 0
    # an old backup restores with the passphrase of its time; the chart then opens with it
    rc, out, err = run("restore", str(old_backups[-1]), *db, "--yes", passphrase="third passphrase")
    assert rc == 2 and "MOTORCHART_BACKUP_PASSPHRASE" in err[0]
    rc, out, err = run("restore", str(old_backups[-1]), *db, "--yes", passphrase="third passphrase",
                       MOTORCHART_BACKUP_PASSPHRASE="second passphrase")
    assert rc == 0, err
    assert run("check", *db, passphrase="second passphrase")[0] == 0
