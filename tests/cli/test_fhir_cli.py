"""`motorchart export --format fhir` and `motorchart import` of a bundle, with real chart files:
what they write and print, and user errors as one line and exit status 2, nothing written."""

from __future__ import annotations

import json

import pytest

from desktop.cli import main
from desktop.store import ChartStore
from tests.interop.fhir_support import PID, rich_chart


@pytest.fixture(scope="module")
def chart(tmp_path_factory):
    path = tmp_path_factory.mktemp("fhir-cli") / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        rich_chart(store)
    finally:
        store.close(backup=False)
    return path


@pytest.fixture
def run(capsys):
    def go(*argv):
        rc = main([str(a) for a in argv])
        cap = capsys.readouterr()
        return rc, cap.out, cap.err
    return go


def test_export_fhir_writes_the_bundle_and_says_what_it_holds(chart, tmp_path, run):
    out = tmp_path / "b.json"
    rc, stdout, err = run("export", "--db", chart, "--patient", PID, "--format", "fhir", "-o", out)
    assert rc == 0, err
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    assert "a FHIR R4B transaction bundle of" in stdout and "2 visit(s)" in stdout and "2 report PDF(s)" in stdout
    assert "not encrypted" in stdout
    assert sum(e["resource"]["resourceType"] == "Encounter" for e in bundle["entry"]) == 2
    assert oct(out.stat().st_mode & 0o777) == "0o600"  # patient data: the owner's only


def test_include_drafts_no_reports_and_the_mrn_system(chart, tmp_path, run):
    out = tmp_path / "d.json"
    rc, stdout, err = run("export", "--db", chart, "--patient", PID, "--format", "fhir", "-o", out,
                          "--include-drafts", "--no-reports", "--mrn-system", "urn:oid:1.2.3.4")
    assert rc == 0, err
    assert "3 visit(s), 1 of them draft (preliminary), 0 report PDF(s)" in stdout
    bundle = json.loads(out.read_text(encoding="utf-8"))
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["resource"]["identifier"][0]["system"] == "urn:oid:1.2.3.4"


def test_the_chart_setting_names_the_mrn_system(tmp_path, run):
    path = tmp_path / "c.sqlite"
    store = ChartStore.open(path, user="dr.test")
    try:
        rich_chart(store)
        store.set_setting("fhir_mrn_system", "https://hospital.example/mrn")
    finally:
        store.close(backup=False)
    rc, stdout, _ = run("export", "--db", path, "--patient", PID, "--format", "fhir", "--no-reports")
    assert rc == 0
    assert '"system":"https://hospital.example/mrn","value":"MRN 42|A&B,c$"' in stdout


def test_export_fhir_to_standard_output(chart, run):
    rc, stdout, _ = run("export", "--db", chart, "--patient", PID, "--format", "fhir", "--no-reports")
    assert rc == 0 and json.loads(stdout)["resourceType"] == "Bundle"


@pytest.mark.parametrize("extra, message", [
    (["--patient", "NOPE"], "no patient NOPE"),
    (["--patient", PID, "-o", "/no/such/folder/b.json"], "/no/such/folder: no such folder"),
    (["--patient", PID, "--mrn-system", "urn:a b"], "--mrn-system 'urn:a b': give a URI without spaces"),
    (["--patient", PID, "--patient", "MRN-2"], "one --patient at a time"),
])
def test_export_fhir_user_errors_are_one_line_and_exit_2(chart, run, extra, message):
    rc, stdout, err = run("export", "--db", chart, "--format", "fhir", *extra)
    assert rc == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_invalid_bundle_is_not_written_and_exits_2(chart, tmp_path, run, monkeypatch):
    import desktop.interop.fhir_export as fx

    real = fx.build_bundle

    def broken(*a, **k):
        bundle, counts = real(*a, **k)
        bundle["entry"][0]["request"]["method"] = "UPSERT"
        return bundle, counts

    monkeypatch.setattr(fx, "build_bundle", broken)
    out = tmp_path / "never.json"
    rc, _, err = run("export", "--db", chart, "--patient", PID, "--format", "fhir", "--no-reports", "-o", out)
    assert rc == 2 and "the FHIR bundle is not valid, so it was not written" in err and "UPSERT" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_import_detects_a_bundle_and_restores_the_patient(chart, tmp_path, run):
    out = tmp_path / "b.json"
    assert run("export", "--db", chart, "--patient", PID, "--format", "fhir", "--include-drafts",
               "--no-reports", "-o", out)[0] == 0
    new = tmp_path / "new.sqlite"
    rc, stdout, err = run("import", "--db", new, out)
    assert rc == 0, err
    assert f"new patient {PID}: 3 visit(s) added" in stdout
    rc, stdout, _ = run("import", "--db", new, "--format", "fhir", out)
    assert rc == 0 and "0 visit(s) added, 3 already there" in stdout
    a, b = ChartStore.open(chart, readonly=True), ChartStore.open(new, readonly=True)
    try:
        assert a.export_case(PID) == b.export_case(PID)
        assert a.classify(PID).as_json() == b.classify(PID).as_json()
    finally:
        a.close(backup=False)
        b.close(backup=False)


def test_import_refuses_a_foreign_bundle_and_a_case_file_given_as_fhir(tmp_path, run):
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": []}), encoding="utf-8")
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"format": "motorchart-case/1", "patient": {"id": "X"}, "visits": []}),
                    encoding="utf-8")
    new = tmp_path / "new.sqlite"
    rc, _, err = run("import", "--db", new, foreign)
    assert rc == 2 and "type 'searchset' is not supported" in err and "nothing was imported" in err
    rc, _, err = run("import", "--db", new, "--format", "fhir", case)
    assert rc == 2 and 'not a FHIR Bundle (resourceType must be "Bundle")' in err
    dup = tmp_path / "dup.json"
    dup.write_text('{"resourceType": "Bundle", "type": "transaction", "type": "batch"}', encoding="utf-8")
    rc, _, err = run("import", "--db", new, dup)
    assert rc == 2 and 'the key "type" is written twice' in err and "Traceback" not in err
    assert not new.exists()  # every file is read and checked before the chart is opened


def test_the_fhir_options_go_with_the_fhir_format(chart, run):
    rc, stdout, err = run("export", "--db", chart, "--patient", PID, "--no-reports")
    assert rc == 2 and err.strip() == "export: --no-reports goes with --format fhir" and stdout == ""


def test_fhir_resources_is_loaded_only_by_the_export_that_validates(chart, tmp_path):
    """fhir.resources costs about half a second: not at start-up, not for an import."""
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "b.json"
    code = (
        "import sys\n"
        "from desktop.cli import main, build_parser, _load_extra_commands\n"
        "_load_extra_commands(); build_parser()\n"
        "assert not any(m.startswith('fhir') for m in sys.modules), 'at start-up'\n"
        f"assert main(['export', '--db', {str(chart)!r}, '--patient', {PID!r}, '--format', 'fhir', "
        f"'--no-reports', '-o', {str(out)!r}]) == 0\n"
        "assert 'fhir.resources.R4B.bundle' in sys.modules\n"
        "for m in [m for m in sys.modules if m.startswith('fhir')]: del sys.modules[m]\n"
        f"assert main(['import', '--db', {str(tmp_path / 'new.sqlite')!r}, {str(out)!r}]) == 0\n"
        "assert not any(m.startswith('fhir') for m in sys.modules), 'by the import'\n"
    )
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
