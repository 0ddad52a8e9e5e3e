"""Chart file subcommands: import, export, check, audit, backup, restore, demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.cli import UserError, arguments, command


def _chart(args) -> Path:
    from desktop.store.paths import chart_path

    return chart_path(getattr(args, "db", None))


def _open(args, *, readonly: bool = False):
    from desktop.store import ChartStore, StoreError

    path = _chart(args)
    if not path.exists() and readonly:
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

@command("check", "check the chart file: integrity, schema version and counts")
@_store_errors
def cmd_check(args) -> int:
    from desktop.store import list_backups

    store = _open(args, readonly=True)
    try:
        problem = store.integrity()
        print(f"chart: {store.path}")
        print(f"integrity: {'ok' if problem is None else problem}")
        print(f"schema version: {store.schema_version}")
        for k, v in store.counts().items():
            print(f"{k}: {v}")
        backups = list_backups(store.path)
        print(f"backups: {len(backups)}" + (f" (newest {backups[0]})" if backups else ""))
    finally:
        store.close()
    return 0 if problem is None else 1


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

@command("backup", "make a backup of the chart now (kept with the rotating backups)")
@_store_errors
def cmd_backup(args) -> int:
    store = _open(args)
    try:
        made = store.backup("manual")
    finally:
        store.close(backup=False)
    print(made)
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
