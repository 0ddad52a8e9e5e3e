"""`motorchart screenshots DIR [--demo]`: a PNG of each main view of the charting window."""

from __future__ import annotations

from desktop.cli import UserError, arguments, command


def _args(p):
    p.add_argument("dir", help="folder for the PNG files")
    p.add_argument("--demo", action="store_true", help="use the demo clinic (created on first use)")


@command("screenshots", "write a PNG of each main view of the charting window")
@arguments(_args)
def cmd_screenshots(args) -> int:
    import os
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.store import StoreError
    from desktop.ui.app import open_store, resolve_chart
    from desktop.ui.screenshots import write_screenshots

    out = Path(args.dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file, not a folder")
    try:
        store = open_store(resolve_chart(getattr(args, "db", None), args.demo))
    except StoreError as e:
        raise UserError(str(e)) from None
    try:
        for p in write_screenshots(store, out):
            print(p)
    finally:
        store.close(backup=False)
    return 0
