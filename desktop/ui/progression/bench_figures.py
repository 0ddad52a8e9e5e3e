"""Benchmark figure of the progression views (registered with ``desktop.bench.figure``).

``ui.progression_overview_30_visits``: opening the overview of a 30-visit patient in a view that
is already on screen (as it is beside the visit editor): ``set_patient`` with the case and its
classification, then the pending events, which lay out and paint the shown view (on the
offscreen platform too: the plots' ``paintEvent`` runs once per call, checked), so layout and
painting of every plot and table are counted. Two different 30-visit patients alternate, so
nothing is reused from the previous call; both have a gastrostomy, NIV and a death marked on
every plot. The classification itself is the domain's figure
(``classify.history_30_visits``) and is not counted here. The note gives the one-off cost of
building the view.
"""

from __future__ import annotations

import os
import time

from desktop.bench import figure, median_ms


def _overview_30(quick: bool):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])  # noqa: F841

    from desktop.resources import load_catalogue
    from desktop.ui.progression import ProgressionView
    from desktop.ui.progression.demo import demo_case
    from domain.classify import classify_case

    cat = load_catalogue()
    cases = [demo_case(30, patient_id="BENCH-A", milestones=True),
             demo_case(30, alsfrs=False, patient_id="BENCH-B", milestones=True)]
    pairs = [(c, classify_case(c, cat)) for c in cases]
    t0 = time.perf_counter()
    view = ProgressionView(catalogue=cat)
    view.resize(1600, 1000)
    view.show()
    QApplication.processEvents()
    build_ms = (time.perf_counter() - t0) * 1000
    state = {"i": 0}

    def open_overview():
        case, result = pairs[state["i"] % 2]
        state["i"] += 1
        view.set_patient(case, result)
        QApplication.processEvents()  # layout and paint of the shown view, as the event loop does

    try:
        ms = median_ms(open_overview, 5 if quick else 30)
    finally:
        view.close()
        view.deleteLater()
        QApplication.processEvents()
    return ms, "ms", f"building the view once: {build_ms:.0f} ms"


figure("ui.progression_overview_30_visits", target=150.0, unit="ms",
       description="open the progression overview (plots, region matrix, MRC heatmap) of a 30-visit patient")(_overview_30)
