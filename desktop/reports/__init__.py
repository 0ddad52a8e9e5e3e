"""Printed reports (Qt-free, reportlab): pure functions from a case and its classification to
the bytes of a PDF, with DejaVu fonts embedded.

- :func:`desktop.reports.visit.build_visit_report` (``case, classification, visit_date, *, meta,
  clinic, page_size, printed_at``): one visit; ``meta`` is a
  :class:`desktop.reports.common.ReportMeta` (draft / signed / amended, clinician, signed_at,
  amendment reason; ``ReportMeta.from_visit_meta(store.visit_meta(...))``).
- :func:`desktop.reports.progression.build_progression_report` (``case, classification, *,
  clinic, page_size, printed_at``): the course across visits.

Importing this package loads nothing heavy; the submodules import reportlab and register the
fonts (:mod:`desktop.reports.fonts`) on first import.
"""
