"""The command line's figure (issue 20): ``motorchart import`` of a clinic's case files, timed
through the command itself (:func:`desktop.cli.main`), so the figure is what a clinic's registry
import costs: reading and checking every file, then one transaction per file."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from desktop.bench import figure, in_fresh_process
from desktop.store.benchmarks import case_files


@figure("store.import_visits_per_s", target=2000, unit="/s", higher_is_better=True,
        description="`motorchart import` of 2,100 case files (one patient each, most visits signed) "
                    "into a new chart: visits per second")
def _import(quick: bool):
    return in_fresh_process(__name__, "import_rate", quick)


def import_rate(quick: bool):
    """What ``store.import_visits_per_s`` measures, in the process that runs it."""
    import contextlib
    import io

    from desktop.cli import main

    files = case_files()
    with tempfile.TemporaryDirectory() as d:
        chart = Path(d) / "import.sqlite"
        from desktop.store.chart import ChartStore

        ChartStore.open(chart, user="bench", daily_backup=False).close(backup=False)
        out = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["import", "--db", str(chart), *files])
        seconds = time.perf_counter() - t0
        if code != 0:
            raise RuntimeError(f"the import failed ({code}): {out.getvalue()[-500:]}")
        store = ChartStore.open(chart, readonly=True, check=False)
        try:  # (the chart started empty: what it holds now is what was imported)
            visits = store.db.execute("SELECT count(*) FROM visits").fetchone()[0]
        finally:
            store.close()
        size = chart.stat().st_size
    return visits / seconds, "/s", (f"{len(files)} files, {visits} visits in {seconds:.1f} s "
                                     f"(every file read, checked and turned into rows by helper processes, then one "
                                     f"transaction per file; all held within HELD_BYTES, so the re-reading past it is "
                                     f"not timed); "
                                     f"{size / visits:,.0f} bytes per visit")
