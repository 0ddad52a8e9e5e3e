"""Chart file subcommands: import, export, check, audit, backup, restore, demo; and the chart's
clinical subcommands: sign, visit delete, options."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.cli import UserError, arguments, command


def _chart(args) -> Path:
    from desktop.store.paths import chart_path

    return chart_path(getattr(args, "db", None))


def _open(args, *, readonly: bool = False, existing: bool = False):
    """Open the chart; ``readonly`` or ``existing``: a missing chart is an error (not created)."""
    from desktop.store import ChartStore, StoreError

    path = _chart(args)
    if not path.exists() and (readonly or existing):
        raise UserError(f"{path}: no chart file there (use --db PATH or MOTORCHART_DB)")
    try:
        return ChartStore.open(path, readonly=readonly)
    except StoreError as e:
        raise UserError(str(e)) from None


def _store_errors(fn):
    """StoreError from a subcommand becomes one line and exit status 2."""
    import functools

    @functools.wraps(fn)
    def run(args):
        from desktop.store import StoreError

        try:
            return fn(args)
        except StoreError as e:
            raise UserError(str(e)) from None

    return run


# ------------------------------------------------------------------------------ import

def _import_args(p: argparse.ArgumentParser):
    p.add_argument("files", nargs="+", metavar="FILE", help="motorchart-case/1 JSON files")


@command("import", "import case files into the chart (each file all or nothing; visits merged by date)")
@arguments(_import_args)
@_store_errors
def cmd_import(args) -> int:
    from desktop.cli import read_case_file

    cases = []
    problems: list[str] = []
    for f in args.files:
        try:
            cases.append((f, read_case_file(f)))
        except UserError as e:
            problems += e.problems
    if problems:
        raise UserError(*problems, "nothing was imported")
    store = _open(args)
    conflicts = 0
    try:
        for f, case in cases:
            r = store.import_case(case)
            what = "new patient" if r.created else "merged into"
            line = f"{f}: {what} {r.patient_id}: {len(r.added)} visit(s) added"
            if r.unchanged:
                line += f", {len(r.unchanged)} already there"
            print(line)
            for d in r.conflicts:
                conflicts += 1
                print(f"{f}: conflict: {r.patient_id} already has a different visit on {d.isoformat()}; "
                      "not imported", file=sys.stderr)
            if r.patient_conflicts:
                conflicts += 1
                print(f"{f}: conflict: {r.patient_id} differs in {', '.join(r.patient_conflicts)}; "
                      "the chart's values were kept", file=sys.stderr)
    finally:
        store.close()
    return 1 if conflicts else 0


# ------------------------------------------------------------------------------ export

def _export_args(p: argparse.ArgumentParser):
    p.add_argument("--patient", required=True, metavar="ID", help="the patient's id (MRN)")
    p.add_argument("--format", default="json", choices=["json"], help="output format (json)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


@command("export", "export one patient as a motorchart-case/1 JSON file")
@arguments(_export_args)
@_store_errors
def cmd_export(args) -> int:
    from domain.case import case_to_data

    store = _open(args, readonly=True)
    try:
        case = store.export_case(args.patient)
    finally:
        store.close()
    text = json.dumps(case_to_data(case), ensure_ascii=False, indent=2) + "\n"
    if args.output:
        out = Path(args.output)
        if out.is_dir():
            raise UserError(f"{out}: is a folder; give a file name")
        tmp = out.with_name(out.name + ".tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(out)
        except OSError as e:
            raise UserError(f"{out}: cannot write ({e.strerror})") from None
    else:
        sys.stdout.write(text)
    return 0


# ------------------------------------------------------------------------------ check

@command("check", "check the chart file: integrity, signatures, schema version and counts")
@_store_errors
def cmd_check(args) -> int:
    import sqlite3

    from desktop.store import list_backups

    store = _open(args, readonly=True)
    try:
        problem = store.integrity()
        print(f"chart: {store.path}")
        print(f"integrity: {'ok' if problem is None else problem}")
        try:
            signed, legacy = store.signature_counts()
            bad = store.verify_signatures()
        except sqlite3.Error as e:
            signed, legacy, bad = 0, 0, [f"the signatures could not be read ({e})"]
        if bad:
            print(f"signatures: {len(bad)} problem(s) ({signed} signed versions)")
            for line in bad:
                print(line)
        else:
            print(f"signatures: ok ({signed} signed versions)")
        if legacy:
            print(f"signed before signatures were recorded: {legacy} visit(s) (no hash to verify)")
        print(f"schema version: {store.schema_version}")
        for k, v in store.counts().items():
            print(f"{k}: {v}")
        backups = list_backups(store.path)
        print(f"backups: {len(backups)}" + (f" (newest {backups[0]})" if backups else ""))
    finally:
        store.close()
    return 0 if problem is None and not bad else 1


# ------------------------------------------------------------------------------ audit

def _audit_args(p: argparse.ArgumentParser):
    p.add_argument("--patient", required=True, metavar="ID", help="the patient's id (MRN)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _changed(old: dict | None, new: dict | None) -> str:
    skip = {"id", "visit_id", "patient_id", "pos"}
    if old is None and new is not None:
        return ", ".join(f"{k}={v}" for k, v in new.items() if v is not None and k not in skip)
    if new is None and old is not None:
        return ", ".join(f"{k}={v}" for k, v in old.items() if v is not None and k not in skip)
    return ", ".join(f"{k}: {old.get(k)} -> {new.get(k)}" for k in new if old.get(k) != new.get(k))


@command("audit", "print a patient's history of changes")
@arguments(_audit_args)
@_store_errors
def cmd_audit(args) -> int:
    store = _open(args, readonly=True)
    try:
        store.get_patient(args.patient)
        entries = store.audit_trail(args.patient)
    finally:
        store.close()
    for e in entries:
        if args.json:
            print(json.dumps({"time_utc": e.time_utc, "user": e.user, "table": e.table,
                              "action": e.action, "row": e.row_key, "old": e.old, "new": e.new},
                             ensure_ascii=False))
        else:
            print(f"{e.time_utc}  {e.user:<14} {e.action:<6} {e.table:<16} {e.row_key or '':<40} "
                  f"{_changed(e.old, e.new)}")
    return 0


# ------------------------------------------------------------------------------ backup / restore

@command("backup", "make a backup of the chart now, even while the app has it open "
                   "(kept with the rotating backups)")
@_store_errors
def cmd_backup(args) -> int:
    from desktop.store.files import backup_chart

    print(backup_chart(_chart(args), "manual"))
    return 0


def _restore_args(p: argparse.ArgumentParser):
    p.add_argument("backup", metavar="BACKUP", help="a backup file (see `motorchart check`)")
    p.add_argument("--yes", action="store_true", help="confirm replacing the chart with the backup")


@command("restore", "replace the chart with a backup (the current chart is kept aside)")
@arguments(_restore_args)
@_store_errors
def cmd_restore(args) -> int:
    from desktop.store import restore_backup

    chart = _chart(args)
    backup = Path(args.backup)
    if not backup.is_file():
        raise UserError(f"{backup}: no such backup file")
    if not args.yes:
        raise UserError(f"restoring replaces {chart} with {backup}; add --yes to confirm")
    saved = restore_backup(chart, backup)
    print(f"restored {chart} from {backup}")
    if saved:
        print(f"the previous chart was kept as {saved}")
    return 0


# ------------------------------------------------------------------------------ demo

def _demo_args(p: argparse.ArgumentParser):
    p.add_argument("--patients", type=int, default=200, metavar="N", help="how many patients (200)")
    p.add_argument("--seed", type=int, default=2026, metavar="S", help="random seed (2026)")


@command("demo", "build a deterministic demo clinic of fictional patients into --db PATH")
@arguments(_demo_args)
@_store_errors
def cmd_demo(args) -> int:
    from desktop.store.demo import build_demo

    if args.patients < 1 or args.patients > 1_000_000:
        raise UserError(f"--patients: {args.patients} is out of range (1 to 1000000)")
    store = _open(args)
    try:
        n = build_demo(store, args.patients, args.seed)
        counts = store.counts()
    finally:
        store.close()
    print(f"{store.path}: {n} demo patients, {counts['visits']} visits")
    return 0



# ------------------------------------------------------------------------------ sign / visit / options

def _visit_date(text: str, flag: str = "--visit"):
    """A YYYY-MM-DD date, else one line naming the flag."""
    import datetime as dt
    import re

    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise UserError(f"{flag} {text}: not a date (YYYY-MM-DD)")


def _visit_args(p: argparse.ArgumentParser):
    p.add_argument("--patient", required=True, metavar="MRN", help="the patient's id (MRN)")
    p.add_argument("--visit", required=True, metavar="DATE", help="the visit's date (YYYY-MM-DD)")


def _sign_args(p: argparse.ArgumentParser):
    _visit_args(p)
    p.add_argument("--by", required=True, metavar="NAME", help="the signing clinician's name")
    p.add_argument("--carried", choices=("keep", "drop"),
                   help="cells copied forward and still not reviewed: keep them, marked as carried, "
                        "or drop them from this visit")


@command("sign", "sign a draft visit (its findings, options and classification are frozen)")
@arguments(_sign_args)
@_store_errors
def cmd_sign(args) -> int:
    date = _visit_date(args.visit)
    by = (args.by or "").strip()
    if not by:
        raise UserError("--by: give the signing clinician's name")
    pid, day = args.patient, date.isoformat()
    store = _open(args, existing=True)
    signed = False
    try:
        status = store.visit_status(pid, date)  # no such patient or visit: one line
        if status in ("signed", "amended"):
            raise UserError(f"patient {pid}: the visit of {day} is already signed; nothing was changed")
        marks = store.visit_marks(pid, date)
        n = len(marks.not_reviewed)
        source = marks.carried_from.isoformat() if marks.carried_from else "an earlier visit"
        if n and args.carried is None and status == "draft":
            raise UserError(
                f"patient {pid}: the visit of {day} has {n} cell(s) copied from {source} and not reviewed; "
                "review them in the app, or pass --carried keep (sign them marked as carried) or "
                "--carried drop (remove them from this visit); nothing was signed")
        store.sign_visit(pid, date, clinician=by, carried=args.carried)
        signed = True
    finally:
        store.close(backup=signed)
    line = f"signed the visit of {day} of patient {pid} as {by}"
    if n and args.carried == "drop":
        line += f"; {n} cell(s) copied from {source} and not reviewed were dropped from this visit"
    elif n and args.carried == "keep":
        line += f"; {n} cell(s) copied from {source} and not reviewed were signed marked as carried"
    elif args.carried:
        line += "; no cells were waiting for review, so --carried changed nothing"
    print(line)
    return 0


def _visit_cmd_args(p: argparse.ArgumentParser):
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    d = actions.add_parser("delete", help="delete a draft visit (a signed visit cannot be deleted)",
                           description="delete a draft visit with its findings (a signed visit cannot be deleted)")
    d.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                   help="the chart file (default: MOTORCHART_DB or the user data folder)")
    _visit_args(d)


@command("visit", "work on one visit of the chart: `visit delete` deletes a draft")
@arguments(_visit_cmd_args)
@_store_errors
def cmd_visit(args) -> int:
    if args.action != "delete":  # pragma: no cover  (argparse allows only the actions above)
        raise UserError(f"visit: unknown action {args.action}")
    date = _visit_date(args.visit)
    pid, day = args.patient, date.isoformat()
    store = _open(args, existing=True)
    deleted = False
    try:
        status = store.visit_status(pid, date)  # no such patient or visit: one line
        if status in ("signed", "amended"):
            raise UserError(f"patient {pid}: the visit of {day} is signed and cannot be deleted; "
                            "nothing was changed (amend it in the app instead)")
        store.delete_visit(pid, date)
        deleted = True
    finally:
        store.close(backup=deleted)
    print(f"deleted the draft visit of {day} of patient {pid}")
    return 0


def _options_args(p: argparse.ArgumentParser):
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="change a criteria option of the chart (clinical-rules.md), "
                        "e.g. probable_reading=colocated; without --set, list them")


def _option_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _print_options(options) -> None:
    from domain.options import OPTION_NAMES, Options

    default = Options()
    for name in OPTION_NAMES:
        value, base = _option_text(getattr(options, name)), _option_text(getattr(default, name))
        print(f"{name} = {value}" + (f"  (default: {base})" if value != base else ""))
    print("These options apply to drafts, reports and `classify --patient`; "
          "signed visits keep the options they were signed with.")


@command("options", "list the chart's criteria options, or change them with --set NAME=VALUE")
@arguments(_options_args)
@_store_errors
def cmd_options(args) -> int:
    from domain.options import parse_option_settings

    if not args.set:
        store = _open(args, readonly=True)
        try:
            options = store.criteria_options()
        finally:
            store.close(backup=False)
        print(f"criteria options of {store.path}:")
        _print_options(options)
        return 0
    _, problems = parse_option_settings(args.set)
    if problems:
        raise UserError(*problems, "nothing was saved")
    store = _open(args, existing=True)
    saved = False
    try:
        before = store.criteria_options()
        options, problems = parse_option_settings(args.set, base=before)
        if problems:  # pragma: no cover  (the same settings were checked above)
            raise UserError(*problems, "nothing was saved")
        if options != before:
            store.set_criteria_options(options)
            saved = True
    finally:
        store.close(backup=saved)
    print(f"saved the criteria options of {store.path}:" if saved
          else f"the criteria options of {store.path} were already so; nothing changed:")
    _print_options(options)
    return 0
