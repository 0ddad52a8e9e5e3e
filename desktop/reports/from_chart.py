"""Build a report straight from an open chart: the one path used by `motorchart report` and by
Export PDF / Print in the app, so what is printed is what the chart holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from .common import ReportError, ReportMeta

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore


def report_from_chart(
    store: ChartStore,
    patient_id: str,
    *,
    visit_date: dt.date | None = None,
    progression: bool = False,
    page_size: str = "a4",
    printed_at: dt.datetime,
    options=None,
) -> bytes:
    """A visit report (``visit_date``, default the latest visit) or the progression report.

    ``store`` is an open ``ChartStore``; ``options`` the criteria options (default: the
    chart's preferences). Raises ReportError with one clear line for an unknown visit or a
    patient without visits (the store raises StoreError for an unknown patient)."""
    case = store.get_case(patient_id)
    if not case.visits:
        raise ReportError(f"patient {patient_id} has no visits")
    if options is None:
        options = store.criteria_options()
    from desktop.signed import shown_case

    classification, shown = shown_case(store, case, store.classify(patient_id, options), options)
    clinic = store.settings().get("clinic") or None
    if progression:
        from .progression import build_progression_report

        return build_progression_report(case, classification, clinic=clinic, page_size=page_size,
                                        printed_at=printed_at)
    dates = [v.date for v in case.visits]
    if visit_date is None:
        visit_date = dates[-1]
    elif visit_date not in dates:
        raise ReportError(f"patient {patient_id} has no visit on {visit_date.isoformat()} "
                          f"(visits: {', '.join(d.isoformat() for d in dates)})")
    import dataclasses

    vm = store.visit_meta(patient_id, visit_date)
    sv = shown[visit_date]
    meta = ReportMeta.from_visit_meta(vm)
    if sv.signature is not None:
        meta = dataclasses.replace(meta, version=sv.signature.version, sha256=sv.signature.sha256)
    marks = store.visit_marks(patient_id, visit_date)
    from .visit import build_visit_report

    return build_visit_report(case, classification, visit_date, meta=meta, clinic=clinic,
                              page_size=page_size, printed_at=printed_at, options=sv.options,
                              recomputed=sv.recomputed, carried=marks.carried or marks.not_reviewed,
                              carried_from=marks.carried_from,
                              carried_reviewed=not marks.not_reviewed)


def write_pdf(path: Path, pdf: bytes) -> None:
    """Write atomically through :func:`desktop.outfiles.write_atomic`: a crash never leaves half
    a report under the chosen name, and a file or symlink planted beside it is never followed."""
    from desktop.outfiles import write_atomic

    write_atomic(path, pdf)
