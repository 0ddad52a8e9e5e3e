"""The layering rule (practice 1): import-linter contracts in pyproject.toml, checked here."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Contracts: 4 kept, 0 broken." in res.stdout


def test_the_domain_runs_without_qt_sqlite_or_reportlab():
    code = (
        "import sys; sys.modules.update({m: None for m in ('PySide6', 'sqlite_utils', 'sqlite3', 'reportlab')});"
        "import domain.classify, domain.case, domain.criteria;"
        "print('ok')"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.stdout.strip() == "ok", res.stderr


def test_the_shipped_json_schema_is_generated_from_the_models():
    from desktop.schema import SCHEMA_FILE, schema_text
    shipped = ROOT.joinpath("resources", *SCHEMA_FILE).read_text("utf-8")
    assert shipped == schema_text(), "run: python -m desktop.schema"


def test_every_desktop_module_outside_the_ui_is_in_a_qt_contract():
    """No holes (issue 16): a new module under desktop/ must be named in a contract that keeps
    PySide6 out of it (or be the entry point, which reaches Qt only through desktop.ui)."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]["contracts"]
    covered = set()
    for c in cfg:
        if "PySide6" in c.get("forbidden_modules", []):
            covered |= set(c["source_modules"])
    modules = {f"desktop.{p.stem}" for p in (ROOT / "desktop").glob("*.py") if p.stem not in ("__init__", "__main__")}
    modules |= {f"desktop.{p.name}" for p in (ROOT / "desktop").iterdir()
                if p.is_dir() and (p / "__init__.py").exists() and p.name != "ui"}
    assert modules - covered == set()
