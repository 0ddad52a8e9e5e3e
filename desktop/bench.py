"""`motorchart bench`: speed and memory figures printed beside their targets.

Figures register themselves with :func:`figure` in modules named ``benchmarks`` (this file for
the domain, ``desktop.store.benchmarks``, ``desktop.commands.benchmarks``, ``desktop.reports.benchmarks``,
``desktop.ui.benchmarks``).
A figure function returns ``(value, unit)`` or ``(value, unit, note)``; ``target`` is the
upper bound (or, with ``ratio=True``, a ratio against a baseline measured in the same run), or
the lower bound of a figure registered with ``higher_is_better=True`` (a rate), which the JSON
output marks ``"higher_is_better": true``.
"""

from __future__ import annotations

import gc
import importlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Figure:
    name: str
    target: float
    unit: str
    fn: Callable[[bool], tuple]
    description: str
    higher_is_better: bool = False

    def met(self, value: float) -> bool:
        return value >= self.target if self.higher_is_better else value <= self.target


FIGURES: dict[str, Figure] = {}


def figure(name: str, *, target: float, unit: str, description: str, higher_is_better: bool = False):
    def register(fn):
        FIGURES[name] = Figure(name, target, unit, fn, description, higher_is_better)
        return fn

    return register


def median_ms(fn: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    return interleaved_median_ms([fn], repeat, warmup)[0]


def interleaved_median_ms(fns: list[Callable[[], object]], repeat: int, warmup: int = 3) -> list[float]:
    """The median milliseconds of each of ``fns``, timed in turn round after round: a ratio of
    two of them is then not moved by a busy moment of the machine that one of them alone met."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    return [statistics.median(t) for t in times]


def in_fresh_process(module: str, function: str, quick: bool) -> tuple:
    """``module.function(quick)`` (a figure's measurement) run in a new Python process, as the
    command it measures runs, and its ``(value, unit, note)``. For the bulk figures, whose helper
    processes are forked from the process that measures: forked from the bench's own, which has
    by then opened the 20,000-patient charts and run every other figure, the demo build ran about
    10% slower than alone (1,387 against 1,523 visits/s in one hour)."""
    from desktop.fresh_process import call_in_fresh_process

    return tuple(call_in_fresh_process(module, function, quick))


def _load() -> None:
    for mod in ("desktop.domain_benchmarks", "desktop.store.benchmarks", "desktop.commands.benchmarks",
                "desktop.reports.benchmarks", "desktop.ui.benchmarks"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise


RUN_ORDER = ("classify.", "reports.", "ui.", "store.")
"""Figures run lightest first: the store's build and load charts of tens of thousands of
patients, and a process that has held them runs the classifier's figures markedly slower
(43 ms against 21 ms for ``classify.history_30_visits`` on the same machine)."""


def _run_rank(name: str) -> int:
    return next((i for i, prefix in enumerate(RUN_ORDER) if name.startswith(prefix)), len(RUN_ORDER))


def run_bench(*, json_out: bool, only: list[str], quick: bool) -> int:
    _load()
    results = {}
    for name, fig in sorted(FIGURES.items(), key=lambda item: _run_rank(item[0])):
        if only and not any(name.startswith(p) for p in only):
            continue
        gc.collect()  # what the figure before left is not this one's to collect
        out = fig.fn(quick)
        value, unit = out[0], out[1]
        note = out[2] if len(out) > 2 else ""
        results[name] = {"value": round(value, 3), "unit": unit, "target": fig.target}
        if fig.higher_is_better:
            results[name]["higher_is_better"] = True
        if note:
            results[name]["note"] = note
        if not json_out:
            ok = "ok  " if fig.met(value) else "MISS"
            bound = ">=" if fig.higher_is_better else "<="
            print(f"{ok} {name:<44} {value:>10.3f} {unit:<6} target {bound} {fig.target:g} {unit}"
                  + (f"  ({note})" if note else ""))
            sys.stdout.flush()
    if json_out:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
