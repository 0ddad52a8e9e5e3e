"""Store figures on a demo clinic (20,000 patients; 2,000 with ``--quick``).

The clinic is built once into a cache file under the system temp folder and reused while the
schema and the demo generator are unchanged (:func:`demo_chart`). The encryption figures
(issue 18) measure the same work on an encrypted copy of it (:func:`encrypted_demo_chart`,
converted once by ``keys.encrypt_chart`` and cached beside it) and print encrypted / plain
ratios, plus the time from passphrase to usable chart (Argon2id at its production parameters,
then the open).
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from desktop.bench import figure, in_fresh_process, interleaved_median_ms, median_ms

BENCH_PATIENTS = 20_000
QUICK_PATIENTS = 2_000
SEED = 2026
DEMO_VERSION = 8  # bump when the demo generator changes, so cached charts are rebuilt
# (3: issue 18's audit links changed m010 while the schema number stayed 11; 4: each demo
# patient from its own seed, made in the helpers; 5: a patient's weight follows its course; 6: a pure
# LMN course's reflexes fade as its muscles waste; 7: the frozen results compressed at zlib level 3;
# 8: written 25 patients at a time, which orders the audit rows differently)
IMPORT_PATIENTS = 2_100
"""The bulk figures' clinic (issue 20): 2,100 demo patients, about 10,300 visits (at least
10,000), most of them signed."""


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
    for ext in ("-wal", "-shm", ".lock", ".head"):
        Path(str(partial) + ext).unlink(missing_ok=True)
    if n >= 5000:
        print(f"  built {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return path


def _open(quick: bool):
    from .chart import ChartStore

    n = QUICK_PATIENTS if quick else BENCH_PATIENTS
    return ChartStore.open(demo_chart(n), readonly=True, check=False), n


BENCH_PASSPHRASE = "motorchart bench passphrase"
ENCRYPTED_VERSION = 1  # bump when the encrypted copy's making changes


def encrypted_demo_chart(n: int = QUICK_PATIENTS, seed: int = SEED) -> Path:
    """An encrypted copy of :func:`demo_chart` (passphrase :data:`BENCH_PASSPHRASE`, production
    Argon2 parameters), converted on first use with ``keys.encrypt_chart`` and cached beside it
    with its key file."""
    from . import keys
    from .audit_chain import head_path

    plain = demo_chart(n, seed)
    path = plain.with_name(f"{plain.stem}-encrypted{ENCRYPTED_VERSION}{plain.suffix}")
    if path.exists() and keys.key_file(path).exists():
        return path
    partial = plain.with_name(f"{path.stem}-{os.getpid()}.partial.sqlite")
    t0 = time.perf_counter()
    shutil.copyfile(plain, partial)
    try:
        keys.encrypt_chart(partial, BENCH_PASSPHRASE)
        if head_path(partial).exists():
            os.replace(head_path(partial), head_path(path))
        os.replace(keys.key_file(partial), keys.key_file(path))  # the key file first, then the chart
        os.replace(partial, path)
    finally:
        for ext in ("", "-wal", "-shm", ".lock", ".key", ".head"):
            Path(str(partial) + ext).unlink(missing_ok=True)
    if n >= 5000:
        print(f"  encrypted a copy in {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return path


_UNLOCKED: dict[Path, object] = {}


def _open_encrypted(quick: bool):
    """The encrypted copy, open read-only as :func:`_open` opens the plain one (unlocked once per
    run)."""
    from . import keys
    from .chart import ChartStore

    n = QUICK_PATIENTS if quick else BENCH_PATIENTS
    path = encrypted_demo_chart(n)
    if path not in _UNLOCKED:
        _UNLOCKED[path] = keys.unlock(path, BENCH_PASSPHRASE)
    return ChartStore.open(path, readonly=True, check=False, key=_UNLOCKED[path]), n


PREFIXES = ("ko", "Łu", "cô", "ив", "sa", "mü", "Zof", "Kier", "ya", "Dmi", "Nak", "o'p", "DEMO-0012")


@figure("store.search_name_prefix", target=20, unit="ms",
        description="patient search by a name or MRN prefix (50 rows), median")
def _search(quick: bool):
    store, n = _open(quick)
    try:
        fn, note = _search_work(store, n, quick)
        ms = median_ms(fn, repeat=5 if quick else 20)
    finally:
        store.close()
    return ms / len(PREFIXES), "ms", note


def _search_work(store, n: int, quick: bool):
    """What the search figures time on ``store``: every prefix of :data:`PREFIXES` searched."""
    hits = [len(store.search_patients(q)) for q in PREFIXES]
    return (lambda: [store.search_patients(q) for q in PREFIXES],
            f"{n} patients, {sum(hits)} rows over {len(PREFIXES)} prefixes")


@figure("store.load_history_classified", target=50, unit="ms",
        description="load one patient's full history and classify it (get_case + classify_case), median")
def _history(quick: bool):
    store, n = _open(quick)
    try:
        fn, note = _history_work(store, n, quick)
        ms = median_ms(fn, repeat=_history_repeat(quick))
    finally:
        store.close()
    return ms, "ms", note


def _history_repeat(quick: bool) -> int:
    return (40 if quick else 200) - 3


def _history_work(store, n: int, quick: bool):
    """What the history figures time on ``store``: one patient's history loaded and classified,
    the next of the same seeded patients each time."""
    rng = random.Random(1)
    ids = [f"DEMO-{rng.randint(1, n):06d}" for _ in range(_history_repeat(quick) + 3)]
    it = iter(ids * 10)
    visits = sum(len(store.visit_dates(i)) for i in ids)
    return (lambda: store.classify(next(it))), f"{n} patients, {visits / len(ids):.1f} visits per patient on average"


@figure("store.bytes_per_visit", target=12000, unit="bytes",
        description="chart file size (with audit trail, signed snapshots and search index) per visit")
def _size(quick: bool, opener=_open):
    store, n = opener(quick)
    try:
        visits = store.db.execute("SELECT count(*) FROM visits").fetchone()[0]
        path = store.path
    finally:
        store.close()
    size = path.stat().st_size
    return size / visits, "bytes", f"{n} patients, {visits} visits, {size / 2**20:.0f} MiB"


# ------------------------------------------------------------------------------ writes at scale

SCALE_VISITS = 30
"""New visits each chart of :func:`_write_scale` takes (after its warm-up)."""


def _visit_writer(path: Path, n: int):
    """The chart at ``path`` (a copy in a temporary folder the caller removes), open, and what
    the figure times on it: the next of demo patients 1 to ``n`` gets a new visit, copied
    forward, and signed (its carried cells kept), as a clinician's visit is written and signed.
    Demo patient k is the same in every demo chart, so both charts are given the same patients,
    in the same order (histories of 1 to 12 visits: the signing classifies them)."""
    import datetime as dt

    from .chart import ChartStore

    store = ChartStore.open(path, user="bench", daily_backup=False, check=False)
    rng = random.Random(3)
    ids = iter([f"DEMO-{rng.randint(1, n):06d}" for _ in range(SCALE_VISITS + 3)])

    def write() -> None:
        pid = next(ids)
        date = max(store.visit_dates(pid)) + dt.timedelta(days=1)
        store.new_visit(pid, date, copy_forward=True, today=date)  # (whatever the machine's clock says)
        store.sign_visit(pid, date, clinician="Dr Bench", carried="keep")

    return store, write


@figure("store.write_scale_ratio", target=1.5, unit="x",
        description="a new visit written and signed on the 20,000-patient chart / on the 2,000-patient "
                    "chart (medians, timed in turn): writing does not slow as the chart grows")
def _write_scale(quick: bool):
    small_n, big_n = (200, QUICK_PATIENTS) if quick else (QUICK_PATIENTS, BENCH_PATIENTS)
    with tempfile.TemporaryDirectory() as d:
        stores = []
        try:
            writers = []
            for n in (small_n, big_n):
                copy = Path(d) / f"chart-{n}.sqlite"
                shutil.copyfile(demo_chart(n), copy)
                store, write = _visit_writer(copy, small_n)
                stores.append(store)
                writers.append(write)
            visits = [s.db.execute("SELECT count(*) FROM visits").fetchone()[0] for s in stores]
            small, big = interleaved_median_ms(writers, SCALE_VISITS)
        finally:
            for store in stores:
                store.close(backup=False)
    return big / small, "x", (f"{big_n} patients ({visits[1]} visits) {big:.2f} ms / {small_n} patients "
                              f"({visits[0]} visits) {small:.2f} ms; the same {SCALE_VISITS} patients each get a "
                              f"new visit copied forward, then signed (each chart copied first)")


# ------------------------------------------------------------------------------ encryption (issue 18)

def _timed_ratio(work, quick: bool, repeat: int, per: int = 1) -> tuple[float, str]:
    """Encrypted copy / plain chart for the same ``work`` (:func:`_search_work`,
    :func:`_history_work`), both charts open and timed in turn (:func:`interleaved_median_ms`)."""
    plain, n = _open(quick)
    encrypted, _ = _open_encrypted(quick)
    try:
        fp, note = work(plain, n, quick)
        fe, _ = work(encrypted, n, quick)
        p, e = interleaved_median_ms([fp, fe], repeat)
    finally:
        plain.close()
        encrypted.close()
    return e / p, f"encrypted {e / per:.3f} ms / plain {p / per:.3f} ms (timed in turn); {note}"


@figure("store.encrypted.search_ratio", target=1.5, unit="x",
        description="patient search on the encrypted copy / on the plain chart (medians, same run)")
def _encrypted_search(quick: bool):
    ratio, note = _timed_ratio(_search_work, quick, repeat=5 if quick else 20, per=len(PREFIXES))
    return ratio, "x", note


@figure("store.encrypted.history_ratio", target=1.5, unit="x",
        description="load and classify one patient's history, encrypted copy / plain chart (medians)")
def _encrypted_history(quick: bool):
    ratio, note = _timed_ratio(_history_work, quick, repeat=_history_repeat(quick))
    return ratio, "x", note


@figure("store.encrypted.size_ratio", target=1.1, unit="x",
        description="encrypted chart file size / plain chart file size")
def _encrypted_size(quick: bool):
    plain, encrypted = _size(quick), _size(quick, opener=_open_encrypted)
    return encrypted[0] / plain[0], "x", (f"encrypted {encrypted[0]:.3f} bytes / plain {plain[0]:.3f} bytes; "
                                          f"{plain[2]}")


@figure("store.encrypted.argon2", target=1000, unit="ms",
        description="Argon2id key derivation at the production parameters (64 MiB, 3 passes, 4 lanes), median")
def _argon2(quick: bool):
    from . import keys

    kdf = {"name": "argon2id", **keys.KDF_DEFAULTS, "salt": "AAAAAAAAAAAAAAAAAAAAAA=="}
    ms = median_ms(lambda: keys._argon2(BENCH_PASSPHRASE, kdf), repeat=3 if quick else 7, warmup=1)
    return ms, "ms", "unlocking runs it once; the window runs it after its first paint"


@figure("store.encrypted.passphrase_to_chart", target=1200, unit="ms",
        description="from passphrase to usable chart: unlock (Argon2id) + open for writing + first patient list")
def _passphrase_to_chart(quick: bool):
    from . import keys
    from .chart import ChartStore

    n = QUICK_PATIENTS if quick else BENCH_PATIENTS
    path = encrypted_demo_chart(n)
    times, open_times = [], []
    for _ in range(3 if quick else 5):
        keys.forget_keys()
        t0 = time.perf_counter()
        key = keys.unlock(path, BENCH_PASSPHRASE)
        t1 = time.perf_counter()
        store = ChartStore.open(path, key=key, user="bench", daily_backup=False, check_in_background=True)
        try:
            store.search_patients("", limit=60)
            t2 = time.perf_counter()
        finally:
            store.close(backup=False)
        times.append((t2 - t0) * 1000)
        open_times.append((t2 - t1) * 1000)
    keys.forget_keys()
    times.sort()
    open_times.sort()
    return times[len(times) // 2], "ms", (f"{n} patients; of which the open and first list "
                                         f"{open_times[len(open_times) // 2]:.1f} ms (the rest is Argon2id)")


# ------------------------------------------------------------------------------ bulk (issue 20)

def case_files(n: int = IMPORT_PATIENTS) -> list[str]:
    """The demo clinic of ``n`` patients as case files, one per patient, as ``motorchart export``
    writes them (signed visits carry their signature and frozen result); made once beside the
    cached chart."""
    from domain.case import case_to_data

    from desktop.present.terminal import json_text

    from .chart import ChartStore

    chart = demo_chart(n)
    folder = chart.with_name(f"{chart.stem}-cases")
    done = folder / "complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        store = ChartStore.open(chart, readonly=True, check=False)
        try:
            for pid in store.all_patient_ids():
                (folder / f"{pid}.json").write_text(json_text(case_to_data(store.export_case(pid))) + "\n",
                                                    encoding="utf-8")
        finally:
            store.close()
        done.touch()
    return sorted(str(f) for f in folder.glob("*.json"))


@figure("store.demo_build_visits_per_s", target=2000, unit="/s", higher_is_better=True,
        description="building the demo clinic (2,100 patients: generating, classifying and signing "
                    "most visits, one bulk write; helper processes make, classify and sign the "
                    "patients while this one writes): visits per second")
def _demo_build(quick: bool):
    return in_fresh_process(__name__, "demo_build_rate", quick)


def demo_build_rate(quick: bool):
    """What ``store.demo_build_visits_per_s`` measures, in the process that runs it."""
    from .chart import ChartStore
    from .demo import build_demo

    with tempfile.TemporaryDirectory() as d:
        store = ChartStore.open(Path(d) / "demo.sqlite", user="bench", daily_backup=False)
        try:
            t0 = time.perf_counter()
            build_demo(store, IMPORT_PATIENTS, SEED)
            seconds = time.perf_counter() - t0
            visits = store.db.execute("SELECT count(*) FROM visits").fetchone()[0]
        finally:
            store.close(backup=False)
    return visits / seconds, "/s", f"{IMPORT_PATIENTS} patients, {visits} visits in {seconds:.1f} s"
