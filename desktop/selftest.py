"""`motorchart --self-test`: a headless check that an installed or bundled Motorchart works.

It exercises every part a clinic workstation needs, on throw-away data only: the shipped resources
(catalogue, fonts), a temporary chart (the real store), a demo case imported into it, the
classifier, a PDF visit report, and Qt (offscreen) with the main window when the UI offers one.
The user's own chart is never opened.

One line per step on stdout; exit status 0 when every step passed, 1 (with a line naming the
failed step and the error) otherwise. Steps whose part of the app is not in this build yet say
"skipped" and do not fail the run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

MIN_PDF_BYTES = 2_000
"""A real one-page report with embedded DejaVu is tens of kilobytes; an empty PDF is ~600 bytes."""

# A fictional case in the motorchart-case/1 format, used until desktop.store.demo is available.
_BUILTIN_CASE = {
    "format": "motorchart-case/1",
    "patient": {"id": "SELFTEST-0001", "family_name": "Kierkegård-Ølund", "given_names": "Søren",
                "birth_date": "1958-11-05", "sex": "male", "onset_date": "2024-05-01",
                "onset_region": "lower_limb", "onset_side": "left"},
    "visits": [
        {"date": "2025-01-15", "progressive_by_history": True, "alternatives_excluded": True,
         "muscles": [
             {"muscle": "tibialis_anterior", "side": "left", "mrc": "4-", "wasting": "moderate",
              "fasciculations": True,
              "emg": {"fibrillations": 2, "positive_sharp_waves": 1, "mup_large": True}},
             {"muscle": "first_dorsal_interosseous", "side": "right", "mrc": "4", "wasting": "mild",
              "emg": {"fibrillations": 1, "mup_large": True}},
         ],
         "reflexes": [{"reflex": "knee", "side": "left", "grade": 4},
                      {"reflex": "biceps", "side": "right", "grade": 3}],
         "signs": [{"sign": "babinski", "side": "left", "present": True}],
         "alsfrs_r": {"speech": 4, "salivation": 4, "swallowing": 4, "handwriting": 4,
                      "cutting_food": 4, "gastrostomy": False, "dressing_hygiene": 4,
                      "turning_in_bed": 4, "walking": 3, "climbing_stairs": 2, "dyspnea": 4,
                      "orthopnea": 4, "respiratory_insufficiency": 4},
         "fvc_percent": 92, "weight_kg": 80.0},
    ],
}


class Skip(Exception):
    """This part of the app is not in this build: the step is reported as skipped."""


@dataclass
class _Run:
    tmp: Path
    state: dict[str, Any] = field(default_factory=dict)


def _optional(module: str):
    """Import ``module``; Skip if that very module (not one of its imports) does not exist."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and (module == e.name or module.startswith(e.name + ".")):
            raise Skip(f"{module} is not part of this build") from None
        raise


# ------------------------------------------------------------------------------------ steps

def _step_resources(run: _Run) -> str:
    from domain import __version__

    from .resources import load_catalogue, resources_dir

    cat = load_catalogue()
    fonts = sorted(p.name for p in (resources_dir() / "fonts").glob("*.ttf"))
    if not fonts:
        raise RuntimeError(f"no report fonts in {resources_dir() / 'fonts'}")
    run.state["catalogue"] = cat
    frozen = "bundle" if getattr(sys, "frozen", False) else "source"
    return (f"motorchart {__version__} ({frozen}), {len(cat.muscles)} muscles, "
            f"{len(cat.reflexes)} reflexes, {len(cat.signs)} signs, {len(fonts)} fonts")


def _step_case(run: _Run) -> str:
    from domain.case import case_from_data

    try:
        demo = _optional("desktop.store.demo")
        case = demo.demo_case("als")
        source = "desktop.store.demo"
    except (Skip, AttributeError, TypeError, KeyError, ValueError):
        case = case_from_data(_BUILTIN_CASE, run.state["catalogue"])
        source = "built-in case"
    run.state["case"] = case
    return f"{source}: {len(case.visits)} visit(s)"


def _step_chart(run: _Run) -> str:
    store_pkg = _optional("desktop.store")
    if not hasattr(store_pkg, "ChartStore"):
        raise Skip("desktop.store.ChartStore is not part of this build")
    case = run.state["case"]
    path = run.tmp / "selftest-chart.sqlite"
    store = store_pkg.ChartStore.open(path, user="self-test")
    try:
        store.add_patient(case.patient)
        for visit in case.visits:
            store.save_visit(case.patient.id, visit)
        back = store.get_case(case.patient.id)
        if back.patient != case.patient or len(back.visits) != len(case.visits):
            raise RuntimeError("the case read back from the chart differs from the one imported")
        found = store.search_patients(case.patient.family_name[:3])
        if not any(r.id == case.patient.id for r in found):
            raise RuntimeError("the imported patient is not found by name search")
        run.state["case"] = back
        run.state["classification"] = store.classify(case.patient.id)
    finally:
        store.close()
    size = path.stat().st_size
    return f"temporary chart {size // 1024} KiB, patient + {len(case.visits)} visit(s) imported and read back"


def _step_classify(run: _Run) -> str:
    from domain.classify import classify_case
    from domain.criteria import REGISTRY

    case = run.state["case"]
    result = classify_case(case, run.state["catalogue"])
    stored = run.state.get("classification")
    if stored is not None and stored.as_json() != result.as_json():
        raise RuntimeError("the chart's classification differs from the domain's")
    last = result.visits[-1]
    missing = [c for c in REGISTRY if c not in last.criteria]
    if missing:
        raise RuntimeError(f"criteria missing from the result: {', '.join(missing)}")
    run.state["classification"] = result
    cats = ", ".join(f"{c}={getattr(last.criteria[c], 'category', None) or last.criteria[c].met}"
                     for c in REGISTRY)
    return f"{len(result.visits)} visit(s); last visit: {cats}"


def _step_report(run: _Run) -> str:
    visit = _optional("desktop.reports.visit")
    if not hasattr(visit, "build_visit_report"):
        raise Skip("desktop.reports.visit.build_visit_report is not part of this build")
    import datetime as dt

    case = run.state["case"]
    visit_date = case.visits[-1].date
    pdf = visit.build_visit_report(
        case, run.state["classification"], visit_date,
        meta=None, clinic="Motorchart self-test", page_size="A4",
        printed_at=dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone.utc),
    )
    if not pdf.startswith(b"%PDF"):
        raise RuntimeError(f"the visit report does not start with %PDF (starts {pdf[:8]!r})")
    if len(pdf) < MIN_PDF_BYTES:
        raise RuntimeError(f"the visit report is only {len(pdf)} bytes")
    if b"DejaVu" not in pdf:
        raise RuntimeError("the visit report does not embed the DejaVu fonts")
    out = run.tmp / "selftest-visit.pdf"
    out.write_bytes(pdf)
    return f"visit report {len(pdf) // 1024} KiB, DejaVu embedded"


def _step_qt(run: _Run) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["motorchart-self-test"])
    platform = app.platformName()
    detail = f"PySide6 {pyside_version}, platform {platform}"
    try:
        ui = _optional("desktop.ui.app")
    except Skip:
        ui = None
    factory = getattr(ui, "create_main_window", None) if ui else None
    if factory is None:
        from PySide6.QtWidgets import QLabel

        w = QLabel("Motorchart self-test")
        w.show()
        app.processEvents()
        w.grab()
        w.close()
        return detail + ", a widget shown (the UI has no create_main_window yet)"
    window = factory(db=run.tmp / "selftest-chart.sqlite")
    try:
        window.show()
        app.processEvents()
        image = window.grab()
        if image.isNull() or image.width() < 100:
            raise RuntimeError("the main window painted nothing")
        detail += f", main window {image.width()}x{image.height()} painted"
    finally:
        window.close()
        app.processEvents()
    return detail


STEPS: tuple[tuple[str, Callable[[_Run], str]], ...] = (
    ("resources", _step_resources),
    ("demo case", _step_case),
    ("chart", _step_chart),
    ("classify", _step_classify),
    ("report", _step_report),
    ("qt", _step_qt),
)


def run_self_test(out=None, steps=STEPS) -> int:
    out = out or sys.stdout
    t_all = time.perf_counter()
    skipped = 0
    with tempfile.TemporaryDirectory(prefix="motorchart-selftest-") as tmp:
        run = _Run(Path(tmp))
        for name, fn in steps:
            t0 = time.perf_counter()
            try:
                detail = fn(run)
            except Skip as e:
                skipped += 1
                print(f"self-test: {name:<10} skipped ({e})", file=out, flush=True)
                continue
            except Exception as e:  # noqa: BLE001 - the point is to report any failure in one line
                if os.environ.get("MOTORCHART_SELFTEST_TRACEBACK"):
                    traceback.print_exc()
                msg = str(e).splitlines()[0] if str(e) else ""
                print(f"self-test: {name:<10} FAILED: {type(e).__name__}: {msg}", file=out, flush=True)
                print(f"self-test FAILED at step '{name}' (set MOTORCHART_SELFTEST_TRACEBACK=1 "
                      "for the traceback)", file=out, flush=True)
                return 1
            ms = (time.perf_counter() - t0) * 1000
            print(f"self-test: {name:<10} ok ({detail}; {ms:.0f} ms)", file=out, flush=True)
    total = (time.perf_counter() - t_all) * 1000
    note = f", {skipped} skipped" if skipped else ""
    print(f"self-test passed: {len(steps) - skipped} steps{note} in {total:.0f} ms", file=out, flush=True)
    return 0
