"""`motorchart --self-test`: a headless check that an installed or bundled Motorchart works.

It exercises every part a clinic workstation needs, on throw-away data only: the shipped resources
(catalogue, fonts), a temporary chart (the real store), a demo case imported into it, the
classifier, the signed visit report and the progression report (PDF, through the same path as
Export PDF), and Qt (offscreen) drawing every view of the main window on that chart: each tab of
the visit editor and the Progression tab's plots, body map and visit comparison.
The user's own chart is never opened.

One line per step on stdout; exit status 0 when every step passed, 1 (with a line naming the
failed step and the error) otherwise. Every part is required: a module missing from a bundle is
a failure, not a skip.
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
"""A real visit report with embedded DejaVu is tens of kilobytes; an empty PDF is ~600 bytes."""

DEMO_KIND = "limb"
CLINICIAN = "Dr Renée Côté (self-test)"


@dataclass
class _Run:
    tmp: Path
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def chart(self) -> Path:
        return self.tmp / "selftest-chart.sqlite"


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


def _step_chart(run: _Run) -> str:
    from .store import ChartStore
    from .store.demo import demo_case

    case = demo_case(DEMO_KIND)
    store = ChartStore.open(run.chart, user="self-test")
    try:
        report = store.import_case(case)
        if not report.created or len(report.added) != len(case.visits):
            raise RuntimeError(f"the demo case was not imported whole: {report}")
        last = case.visits[-1].date
        store.sign_visit(case.patient.id, last, clinician=CLINICIAN)
        back = store.get_case(case.patient.id)
        if back.patient != case.patient or back.visits != case.visits:
            raise RuntimeError("the case read back from the chart differs from the one imported")
        found = store.search_patients(case.patient.family_name[:3])
        if not any(r.id == case.patient.id for r in found):
            raise RuntimeError("the imported patient is not found by name search")
        run.state.update(case=back, stored=store.classify(case.patient.id),
                         meta=store.visit_meta(case.patient.id, last))
    finally:
        store.close(backup=False)
    return (f"demo case {case.patient.id} ({len(case.visits)} visits) imported into a temporary "
            f"chart, last visit signed, read back")


def _step_bulk_import(run: _Run) -> str:
    """A bulk import's files read, checked and turned into rows by helper processes, as
    ``motorchart import`` of many files does (forked; they die with the command): the bundle
    must carry multiprocessing and ctypes for it."""
    import datetime as dt
    import json

    from domain.case import case_to_data

    from .commands.import_reading import PARALLEL_FROM, import_helpers, read_files

    folder = run.tmp / "bulk-import"
    folder.mkdir()
    data = case_to_data(run.state["case"])
    paths = []
    for i in range(PARALLEL_FROM):
        data["patient"]["id"] = f"SELF-TEST-{i:03d}"
        path = folder / f"case-{i:03d}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        paths.append(str(path))
    with import_helpers(len(paths), workers=2) as helpers:
        problems, prepared = read_files(paths, today=dt.date.today(), helpers=helpers)
        if not prepared.in_helpers:
            raise RuntimeError("the case files were read in this process: the helper processes did not start")
        done = list(prepared)
    wrong = [d.path for d in done if d.problems or isinstance(d.prepared, str)]
    if problems or wrong:
        raise RuntimeError(f"{len(wrong)} case file(s) were not read as valid cases, e.g. {wrong[0]}")
    visits = sum(len(d.prepared.dates) for d in done)
    return f"{len(paths)} case files ({visits} visits) read and checked by 2 helper processes"


def _step_classify(run: _Run) -> str:
    from domain.classify import classify_case
    from domain.criteria import REGISTRY

    case = run.state["case"]
    result = classify_case(case, run.state["catalogue"])
    if run.state["stored"].as_json() != result.as_json():
        raise RuntimeError("the chart's classification differs from the domain's")
    last = result.visits[-1]
    missing = [c for c in REGISTRY if c not in last.criteria]
    if missing:
        raise RuntimeError(f"criteria missing from the result: {', '.join(missing)}")
    run.state["classification"] = result
    cats = ", ".join(f"{c}={last.criteria[c].category or last.criteria[c].met}" for c in REGISTRY)
    return f"{len(result.visits)} visits; last visit: {cats}"


def _step_reports(run: _Run) -> str:
    """Both reports, each through the path Export PDF and Print take (``report_from_chart``):
    the signed last visit's report and the progression report with its charts."""
    import datetime as dt

    from .reports.from_chart import report_from_chart
    from .store import ChartStore

    patient_id = run.state["case"].patient.id
    now = dt.datetime.now(dt.timezone.utc)
    store = ChartStore.open(run.chart, user="self-test")
    try:
        pdfs = {"visit": report_from_chart(store, patient_id, printed_at=now),
                "progression": report_from_chart(store, patient_id, progression=True, printed_at=now)}
    finally:
        store.close(backup=False)
    for name, pdf in pdfs.items():
        if not pdf.startswith(b"%PDF"):
            raise RuntimeError(f"the {name} report does not start with %PDF (starts {pdf[:8]!r})")
        if len(pdf) < MIN_PDF_BYTES:
            raise RuntimeError(f"the {name} report is only {len(pdf)} bytes")
        if b"DejaVu" not in pdf:
            raise RuntimeError(f"the {name} report does not embed the DejaVu fonts")
        (run.tmp / f"selftest-{name}.pdf").write_bytes(pdf)
    return (f"signed visit report {len(pdfs['visit']) // 1024} KiB, progression report "
            f"{len(pdfs['progression']) // 1024} KiB, DejaVu embedded")


def _step_qt(run: _Run) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from . import launch_speed
    from .ui.app import paint_main_window  # Qt stays inside desktop.ui

    painted = paint_main_window(run.chart, run.state["case"].patient.id)
    made = launch_speed.support_compile
    if made is None or made.loaded + made.compiled == 0:
        return painted + "; PySide6's support modules compiled by PySide6 (no cache)"
    return painted + (f"; PySide6's support modules: {made.loaded} loaded compiled from the cache, "
                      f"{made.compiled} compiled")


STEPS: tuple[tuple[str, Callable[[_Run], str]], ...] = (
    ("resources", _step_resources),
    ("chart", _step_chart),
    ("bulk-import", _step_bulk_import),
    ("classify", _step_classify),
    ("reports", _step_reports),
    ("qt", _step_qt),
)


def run_self_test(out=None, steps=STEPS) -> int:
    out = out or sys.stdout
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="motorchart-selftest-") as tmp:
        run = _Run(Path(tmp))
        for name, fn in steps:
            t0 = time.perf_counter()
            try:
                detail = fn(run)
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
    print(f"self-test passed: {len(steps)} steps in {total:.0f} ms", file=out, flush=True)
    return 0
