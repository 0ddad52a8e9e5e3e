"""The ``motorchart`` entry point.

``motorchart [--demo] [--db PATH]`` opens the app straight away, without building the command
line's parser and its subcommands (about 4 ms of the launch); anything else goes to
:func:`desktop.cli.main`. Standard library only until the app itself is chosen.

Before Qt starts, :func:`xcb_problem` checks the three X11 helper libraries that Qt's xcb
platform plugin needs and a fresh Debian desktop lacks: without them Qt aborts the process
(qFatal, a core dump and a misleading message), so the app says what to install instead.
"""

from __future__ import annotations

import os
import sys

XCB_LIBRARIES = (
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
)
"""(shared library, Debian package) that Qt's xcb platform plugin links and a fresh Debian
desktop does not have."""

XCB_INSTALL = "sudo apt-get install " + " ".join(pkg for _, pkg in XCB_LIBRARIES)


def _load_library(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` (a dlopen, as Qt's plugin will do; one
    already loaded costs nothing). In a PyInstaller bundle a copy bundled beside the app counts."""
    import ctypes

    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        bundle = getattr(sys, "_MEIPASS", None)
        return bool(bundle) and os.path.exists(os.path.join(bundle, soname))


def xcb_expected(environ=None) -> bool:
    """Whether Qt will start on its xcb (X11) platform plugin: on Linux, with QT_QPA_PLATFORM
    unset (outside a Wayland session) or naming xcb first."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(";")[0].split(":")[0].strip() == "xcb"
    wayland = env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    return not wayland


def xcb_problem(environ=None) -> str | None:
    """What to tell the user when Qt's xcb platform plugin would fail to load for want of
    libxcb-cursor0, libxcb-icccm4 or libxcb-keysyms1 (two lines: what is missing, then the
    install command); None when nothing is missing or another platform is used."""
    if not xcb_expected(environ):
        return None
    missing = [pkg for soname, pkg in XCB_LIBRARIES if not _load_library(soname)]
    if not missing:
        return None
    return (f"motorchart: the window needs X11 libraries that are not installed ({', '.join(missing)}); "
            f"install them with:\n{XCB_INSTALL}")


def app_arguments(argv: list[str]) -> dict | None:
    """``{"db": ..., "demo": ...}`` when ``argv`` only asks to open the app, else None."""
    db, demo = None, False
    it = iter(argv)
    for a in it:
        if a == "--demo":
            demo = True
        elif a == "--db":
            db = next(it, None)
            if db is None or db.startswith("-"):
                return None  # let the full parser say what is wrong
        elif a.startswith("--db="):
            db = a[len("--db="):]
        else:
            return None
    return {"db": db, "demo": demo}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    launch = app_arguments(args)
    if launch is not None:
        problem = xcb_problem()
        if problem:  # before Qt is even imported: Qt would abort the process
            print(problem, file=sys.stderr)
            return 2
        from desktop.launch_speed import pause_gc

        pause_gc()  # until the window is painted (run_app resumes it)
        from desktop.ui.app import run_app

        return run_app(**launch)
    from desktop.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
