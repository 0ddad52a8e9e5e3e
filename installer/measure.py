"""Start-up figures of the bundled app against the same app run from source (median of N runs).

    python installer/measure.py [--bundle dist/motorchart/motorchart] [--runs 7]

Measures, for the bundle and for ``python -m desktop.cli``: ``--version``, ``--self-test``
(offscreen) and, when Xvfb and xwininfo are installed, the time from launch until the main window
is mapped on an X display (``xvfb x11-utils``). The bundle runs with a bare environment (no
PYTHONPATH, PATH=/usr/bin:/bin), as on a clinic workstation. Also prints the bundle and .deb sizes.
Each command runs once to warm the file cache before the measured runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _time_run(cmd, env, cwd) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t0) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout.decode()}{proc.stderr.decode()}")
    return ms


def _window_shown(display: str) -> bool:
    out = subprocess.run(["xwininfo", "-root", "-tree", "-display", display],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return '"Motorchart: ' in out


def _time_window(cmd, env, cwd, display: str, timeout: float = 60.0) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not _window_shown(display):
            if proc.poll() is not None:
                raise SystemExit(f"{' '.join(map(str, cmd))} exited ({proc.returncode}) before showing a window")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"no Motorchart window within {timeout:.0f} s")
            time.sleep(0.005)
        return (time.perf_counter() - t0) * 1000
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        while _window_shown(display):
            time.sleep(0.01)


def _median(fn, runs: int) -> tuple[float, float, float]:
    fn()  # warm-up
    times = [fn() for _ in range(runs)]
    return statistics.median(times), min(times), max(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(ROOT / "dist" / "motorchart" / "motorchart"))
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    bundle = Path(args.bundle).resolve()
    if not bundle.is_file():
        raise SystemExit(f"{bundle}: no bundle (run installer/build.sh first)")

    tmp = Path(tempfile.mkdtemp(prefix="motorchart-measure-"))
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8"}
    dev = dict(os.environ, HOME=str(tmp))
    dev.pop("QT_QPA_PLATFORM", None)
    apps = {
        "bundle": ([str(bundle)], bare),
        "source": ([sys.executable, "-m", "desktop.cli"], dict(dev, PYTHONPATH=str(ROOT))),
    }
    rows = []
    for what, extra, env_extra in (("--version", ["--version"], {}),
                                   ("--self-test", ["--self-test"], {"QT_QPA_PLATFORM": "offscreen"})):
        for name, (cmd, env) in apps.items():
            med, lo, hi = _median(lambda: _time_run(cmd + extra, {**env, **env_extra}, tmp), args.runs)
            rows.append((what, name, med, lo, hi))

    xvfb = shutil.which("Xvfb")
    if xvfb and shutil.which("xwininfo"):
        display = ":97"
        server = subprocess.Popen([xvfb, display, "-nolisten", "tcp", "-screen", "0", "1600x1000x24"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            for name, (cmd, env) in apps.items():
                chart = tmp / f"{name}-chart.sqlite"
                e = {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
                med, lo, hi = _median(lambda: _time_window(cmd + ["--db", str(chart)], e, tmp, display), args.runs)
                rows.append(("launch to window (Xvfb)", name, med, lo, hi))
        finally:
            server.terminate()
            server.wait()
    else:
        print("(launch to window skipped: install xvfb and x11-utils)")

    print(f"\nstart-up, median of {args.runs} runs after one warm-up (ms):")
    print(f"{'what':<26}{'app':<8}{'median':>8}{'min':>8}{'max':>8}")
    for what, name, med, lo, hi in rows:
        print(f"{what:<26}{name:<8}{med:8.0f}{lo:8.0f}{hi:8.0f}")

    size = subprocess.run(["du", "-sm", str(bundle.parent)], stdout=subprocess.PIPE, text=True).stdout.split()[0]
    print(f"\nbundle {bundle.parent}: {size} MiB")
    for deb in sorted(bundle.parent.parent.glob("motorchart_*.deb")):
        print(f"package {deb.name}: {deb.stat().st_size / 2**20:.1f} MiB")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
