"""``motorchart export --deidentified --format csv -o FOLDER``: the de-identified research
export (issue 19 point 2; :mod:`desktop.interop.research`). Every option is checked before the
chart is opened: a wrong one is one line, exit status 2, and no file or subject id is written."""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.cli import UserError


def research_export_args(p: argparse.ArgumentParser) -> None:
    """The research export's options, on ``export``."""
    p.add_argument("--deidentified", action="store_true",
                   help="export patients de-identified for research (HIPAA Safe Harbor): one CSV file "
                        "per domain and a data dictionary in the folder -o FOLDER, keyed by a random "
                        "subject id the chart keeps; times are days from the first visit, never dates")
    p.add_argument("--new-ids", action="store_true",
                   help="with --deidentified: give the exported patients new subject ids; their old "
                        "ids are forgotten, so an earlier export can no longer be linked to them")
    if "--include-drafts" not in p._option_string_actions:  # the FHIR export may declare it too
        p.add_argument("--include-drafts", action="store_true",
                       help="also export draft (unsigned) visits; by default only signed visits are "
                            "exported (a JSON case file always holds every visit)")


def one_patient_export(args) -> None:
    """The exports of one patient (a case file, FHIR): exactly one --patient, and not a
    research option; ``args.patient`` becomes that MRN and ``args.format`` json unless given."""
    patients = args.patient or []
    if args.format == "csv":
        raise UserError("export: --format csv is the de-identified research export: add --deidentified "
                        "and -o FOLDER")
    if not patients:
        raise UserError("export: give --patient MRN (or --deidentified to export patients for research)")
    if len(patients) > 1:
        raise UserError("export: one --patient at a time (several only with --deidentified)")
    args.patient = patients[0]
    if args.format is None:
        args.format = "json"


def research_export(args) -> int:
    from desktop.commands.store import _chart, _open
    from desktop.interop.research import export_research, folder_problem
    from desktop.present.terminal import plain
    from desktop.store import StoreError

    if not args.deidentified:
        raise UserError("export: --new-ids goes with --deidentified (the research export)")
    if args.format not in (None, "csv"):
        raise UserError(f"export: --deidentified writes CSV files, not {args.format}: use --format csv "
                        "(or leave --format out)")
    if not args.output:
        raise UserError("export: --deidentified needs -o FOLDER, the folder the CSV files go to")
    folder = Path(args.output)
    problem = folder_problem(folder)
    if problem:
        raise UserError(f"export: {problem}; nothing was written")
    patients = list(dict.fromkeys(p.strip() for p in args.patient or []))
    if any(not p for p in patients):
        raise UserError("export: --patient needs an MRN")

    from desktop.store.files import read_only_reason

    chart = _chart(args)
    read_only = chart.exists() and read_only_reason(chart) is not None
    store = _open(args, readonly=read_only, existing=True)
    wrote = False
    try:
        known = set(store.all_patient_ids())
        unknown = [p for p in patients if p not in known]
        if unknown:
            raise UserError(*[f"export: no patient {p} in this chart" for p in unknown],
                            "nothing was written")
        try:
            done = export_research(store, folder, patient_ids=patients or None, new_ids=args.new_ids,
                                   include_drafts=bool(getattr(args, "include_drafts", False)))
        except StoreError as e:
            if read_only:
                raise UserError(f"export: {e} (the chart is read-only: it cannot keep new subject ids)") from None
            raise UserError(f"export: {e}") from None
        except OSError as e:
            raise UserError(f"export: {plain(e.filename or folder)}: cannot write ({e.strerror}); "
                            "nothing was written") from None
        wrote = bool(done.new_ids)
    finally:
        store.close(backup=wrote)
    print(done.summary())
    print(f"  {', '.join(done.files)}")
    print(f"  {done.seconds:.2f} s; the subject ids' mapping to patients is kept only in this chart")
    return 0
