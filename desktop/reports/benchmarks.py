"""Report figures for `motorchart bench`: build times after imports (fonts registered, modules
loaded), on full visits (every muscle both sides with EMG, every reflex and sign)."""

from __future__ import annotations

import datetime as dt
import statistics
import time

from desktop.bench import figure, median_ms
from desktop.domain_benchmarks import full_case
from desktop.resources import load_catalogue
from domain.classify import classify_case

from .common import ReportMeta
from .progression import build_progression_report
from .visit import build_visit_report

_PRINTED = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def _cpu_ms(fn, repeat: int) -> float:
    """Median process CPU time: what the build costs when other work shares the cores."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


@figure("reports.visit_pdf", target=300.0, unit="ms",
        description="build the PDF visit report of a full visit (every muscle, EMG, reflexes, signs)")
def _visit(quick: bool):
    case = full_case(2)
    cl = classify_case(case, load_catalogue())
    date = case.visits[-1].date
    meta = ReportMeta("signed", "Dr Bench", _PRINTED)
    build = lambda: build_visit_report(case, cl, date, meta=meta, clinic="Bench clinic", printed_at=_PRINTED)  # noqa: E731
    pages = len(build().split(b"/Type /Page\n")) - 1
    wall = median_ms(build, 3 if quick else 15, warmup=1)
    return wall, "ms", f"{pages} pages; CPU {_cpu_ms(build, 2 if quick else 5):.0f} ms"


@figure("reports.progression_pdf_30_visits", target=1000.0, unit="ms",
        description="build the PDF progression report of a 30-visit history")
def _progression(quick: bool):
    case = full_case(30)
    cl = classify_case(case, load_catalogue())
    build = lambda: build_progression_report(case, cl, clinic="Bench clinic", printed_at=_PRINTED)  # noqa: E731
    wall = median_ms(build, 2 if quick else 9, warmup=1)
    return wall, "ms", f"CPU {_cpu_ms(build, 2 if quick else 5):.0f} ms"
