"""Store figures on a demo clinic (20,000 patients; 2,000 with ``--quick``).

The clinic is built once into a cache file under the system temp folder and reused while the
schema and the demo generator are unchanged (:func:`demo_chart`).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

from desktop.bench import figure, median_ms

BENCH_PATIENTS = 20_000
QUICK_PATIENTS = 2_000
SEED = 2026
DEMO_VERSION = 2  # bump when the demo generator changes, so cached charts are rebuilt


def demo_chart(n: int = QUICK_PATIENTS, seed: int = SEED) -> Path:
    """A cached demo chart of ``n`` patients (built on first use; open it read-only)."""
    from .migrations import SCHEMA_VERSION

    folder = Path(tempfile.gettempdir()) / "motorchart-bench"
    path = folder / f"demo-{n}-seed{seed}-schema{SCHEMA_VERSION}-v{DEMO_VERSION}.sqlite"
    if path.exists():
        return path
    from .chart import ChartStore
    from .demo import build_demo

    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}-{os.getpid()}.partial.sqlite")
    t0 = time.perf_counter()

    def progress(done, total):
        if done % 2000 == 0:
            print(f"  building demo chart: {done}/{total} patients", file=sys.stderr, flush=True)

    store = ChartStore.open(partial, user="demo", daily_backup=False)
    try:
        build_demo(store, n, seed, progress=progress if n >= 5000 else None)
    finally:
        store.close(backup=False)
    os.replace(partial, path)
    for ext in ("-wal", "-shm", ".lock"):
        Path(str(partial) + ext).unlink(missing_ok=True)
    if n >= 5000:
        print(f"  built {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return path


def _open(quick: bool):
    from .chart import ChartStore

    n = QUICK_PATIENTS if quick else BENCH_PATIENTS
    return ChartStore.open(demo_chart(n), readonly=True, check=False), n


PREFIXES = ("ko", "Łu", "cô", "ив", "sa", "mü", "Zof", "Kier", "ya", "Dmi", "Nak", "o'p", "DEMO-0012")


@figure("store.search_name_prefix", target=20, unit="ms",
        description="patient search by a name or MRN prefix (50 rows), median")
def _search(quick: bool):
    store, n = _open(quick)
    try:
        queries = list(PREFIXES)
        hits = [len(store.search_patients(q)) for q in queries]
        ms = median_ms(lambda: [store.search_patients(q) for q in queries], repeat=5 if quick else 20)
    finally:
        store.close()
    return ms / len(queries), "ms", f"{n} patients, {sum(hits)} rows over {len(queries)} prefixes"


@figure("store.load_history_classified", target=50, unit="ms",
        description="load one patient's full history and classify it (get_case + classify_case), median")
def _history(quick: bool):
    store, n = _open(quick)
    try:
        rng = random.Random(1)
        ids = [f"DEMO-{rng.randint(1, n):06d}" for _ in range(40 if quick else 200)]
        it = iter(ids * 10)
        visits = sum(len(store.visit_dates(i)) for i in ids)
        ms = median_ms(lambda: store.classify(next(it)), repeat=len(ids) - 3)
    finally:
        store.close()
    return ms, "ms", f"{n} patients, {visits / len(ids):.1f} visits per patient on average"


@figure("store.bytes_per_visit", target=20000, unit="bytes",
        description="chart file size (with audit trail and search index) per visit")
def _size(quick: bool):
    store, n = _open(quick)
    try:
        visits = store.db.execute("SELECT count(*) FROM visits").fetchone()[0]
        path = store.path
    finally:
        store.close()
    size = path.stat().st_size
    return size / visits, "bytes", f"{n} patients, {visits} visits, {size / 2**20:.0f} MiB"
