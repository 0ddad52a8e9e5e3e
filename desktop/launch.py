"""The ``motorchart`` entry point.

``motorchart [--demo] [--db PATH]`` opens the app straight away, without building the command
line's parser and its subcommands (about 4 ms of the launch); anything else goes to
:func:`desktop.cli.main`. Standard library only until the app itself is chosen.
"""

from __future__ import annotations

import sys


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
        from desktop.ui.app import run_app

        return run_app(**launch)
    from desktop.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
