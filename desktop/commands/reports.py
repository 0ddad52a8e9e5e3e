"""`motorchart report`: a patient's visit report or progression report as a PDF, from the chart."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from desktop.cli import UserError, arguments, command


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--patient", required=True, metavar="ID", help="the patient's identifier (MRN)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--visit", metavar="DATE", help="the visit (YYYY-MM-DD; default: the latest)")
    what.add_argument("--progression", action="store_true", help="the progression report across all visits")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="where to write the PDF")
    p.add_argument("--page-size", choices=("a4", "letter"), default="a4", type=str.lower,
                   help="paper size (default: a4)")


@command("report", "write a patient's visit report or progression report as a PDF")
@arguments(_args)
def cmd_report(args) -> int:
    from desktop.store import StoreError
    from desktop.store.paths import chart_path

    out = Path(args.output)
    if out.is_dir():
        raise UserError(f"{out}: is a folder; give the PDF's file name")
    if not out.parent.exists():
        raise UserError(f"{out.parent}: no such folder")
    visit_date = None
    if args.visit:
        try:
            visit_date = dt.date.fromisoformat(args.visit)
        except ValueError:
            raise UserError(f"--visit {args.visit}: not a date (YYYY-MM-DD)") from None
    path = chart_path(getattr(args, "db", None))
    if not path.exists():
        raise UserError(f"{path}: no chart file there")
    from desktop.commands.store import _open  # the one place charts are opened (and unlocked)

    store = _open(args, readonly=True)
    from desktop.reports.common import ReportError
    from desktop.reports.from_chart import report_from_chart, write_pdf

    printed_at = dt.datetime.now().astimezone().replace(microsecond=0)
    try:
        pdf = report_from_chart(store, args.patient, visit_date=visit_date, progression=args.progression,
                                page_size=args.page_size, printed_at=printed_at)
    except (StoreError, ReportError) as e:
        raise UserError(str(e)) from None
    finally:
        store.close(backup=False)
    try:
        write_pdf(out, pdf)
    except OSError as e:
        raise UserError(f"{out}: cannot write ({e.strerror})") from None
    print(f"wrote {out}")
    return 0
