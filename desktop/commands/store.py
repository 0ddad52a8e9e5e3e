"""Chart file subcommands: import, export, check, audit, backup, restore, demo; and the chart's
clinical subcommands: patient show/edit, sign, visit new/redate/delete, options."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.cli import EXIT_INTERRUPTED, HeldCtrlC, UserError, arguments, command
from desktop.commands import import_reading as reading


def _chart(args) -> Path:
    from desktop.store.paths import chart_path

    return chart_path(getattr(args, "db", None))


NEW_HELP = ("start a new, empty chart at --db even though backups of a chart are there (a missing or "
            "empty chart beside its backups is otherwise refused, naming the newest good backup)")


def _open(args, *, readonly: bool = False, existing: bool = False, say_upgrade: bool = True):
    """Open the chart; ``readonly`` or ``existing``: a missing chart is an error (not created).
    A missing or empty chart beside backups of one is refused (naming the newest good backup
    and the restore command) unless the command was given ``--new``. An encrypted chart is
    unlocked here, the one place the commands open charts (MOTORCHART_PASSPHRASE or a prompt:
    :func:`desktop.commands.encryption.unlock_chart`)."""
    from desktop.commands.encryption import unlock_chart
    from desktop.present.terminal import plain
    from desktop.store import ChartStore, StoreError
    from desktop.store.files import missing_chart

    path = _chart(args)
    if not path.exists() and (readonly or existing):
        missing = missing_chart(path, empty=False, creating=not readonly)
        raise UserError(str(missing) if missing is not None
                        else f"{path}: no chart file there (use --db PATH or MOTORCHART_DB)")
    key = unlock_chart(path)
    try:
        store = ChartStore.open(path, readonly=readonly, new=bool(getattr(args, "new", False)), key=key)
        if store.upgrade is not None and say_upgrade:  # (whatever the command then does, the file has changed)
            print(plain(store.upgrade.message(store.path)), file=sys.stderr)
        return store
    except StoreError as e:
        if not hasattr(args, "new"):  # a command without --new: do not suggest it
            retold = missing_chart(path, creating=False) if path.exists() and path.stat().st_size == 0 else None
            if retold is not None:
                raise UserError(str(retold)) from None
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
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="motorchart-case/1 JSON files, or FHIR bundles Motorchart wrote")
    p.add_argument("--format", choices=("auto", "json", "fhir"), default="auto",
                   help="json: case files; fhir: FHIR R4B bundles written by `motorchart export --format "
                        "fhir`; auto (default): a file holding a Bundle is read as FHIR")
    p.add_argument("--new", action="store_true", help=NEW_HELP)


@command("import", "import case files, or FHIR bundles Motorchart wrote, into the chart (each file all "
                   "or nothing; visits merged by date)")
@arguments(_import_args)
@_store_errors
def cmd_import(args) -> int:
    """Every file is read and checked first: one that is not a valid case refuses the run
    (nothing written). Then each file is imported all or nothing: one the chart refuses (it
    conflicts with the chart, or a signed visit no longer matches its signature) is named on
    stderr and the run goes on with the next; a summary line ends the run, and its exit status
    is 2 if any file was refused. Many files are read, checked and turned into rows by helper
    processes, and the chart is written by this one; past a memory bound, the files are only
    checked first and read again for their rows as they are written
    (:func:`desktop.commands.import_reading.read_files`). A file's line is printed once its
    commit is safe on disk, the commits of a few files being flushed together
    (:class:`_HeldLines`, :meth:`desktop.store.files.ChartFile.synced_together`).

    Ctrl+C while the files are read and checked imports nothing; while they are written, it
    stops after the file being written, whose line is printed, and the summary says how many
    were not imported (exit status 130)."""
    import datetime as dt

    from desktop.store import StoreError

    today = dt.date.today()
    format = getattr(args, "format", "auto")
    if len(args.files) >= reading.PARALLEL_FROM and sys.stderr.isatty():
        print(f"reading and checking {len(args.files)} files…", file=sys.stderr, flush=True)
    with reading.import_helpers(len(args.files)) as helpers:
        try:
            problems, prepared = reading.read_files(args.files, today=today, format=format, helpers=helpers)
        except KeyboardInterrupt:
            print("interrupted (Ctrl+C) while the files were read and checked: nothing was imported",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        if problems:
            raise UserError(*problems, "nothing was imported")
        store = _open(args)  # (after the helpers started: they hold no connection to it)
        imported = refused = not_tried = added = already = 0
        interrupted = False
        lines = _HeldLines()
        # (a file is written and reported whole, and the chart closed with its backup: Ctrl+C
        # stops the run before the next file; a file's line is printed once its commit is safe
        # on disk, the commits of a few files being made safe together)
        with HeldCtrlC() as ctrl_c:
            try:
                try:
                    with store.synced_together(then=lines.print) as sync:
                        keys = store.mrn_keys()  # (once: each new patient is not looked for among all of them)
                        for i, item in enumerate(prepared):
                            if ctrl_c.pressed:
                                interrupted, not_tried = True, len(args.files) - i
                                break
                            outcome = _import_one(store, item, keys, today, args, lines.say)
                            if lines.due():
                                sync()  # (then its lines are printed)
                            if outcome == "stop":
                                not_tried = len(args.files) - i
                                break
                            if outcome is None:
                                refused += 1
                                continue
                            imported += 1
                            added += len(outcome.added)
                            already += len(outcome.unchanged)
                except StoreError:  # (a sync failed: the files written since the last one are in the
                    lines.print(unconfirmed=True)  # chart, but maybe not on its disk)
                    raise
                finally:
                    prepared.close()  # (the helpers' work still waiting is dropped; after the last sync)
            finally:
                store.close()
    summary = f"{imported} imported, {refused} refused" + (f", {not_tried} not imported" if not_tried else "")
    print(f"{summary} ({added} visit(s) added, {already} already there)"
          + (" — interrupted (Ctrl+C)" if interrupted else ""))
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_REFUSED if refused or not_tried else 0


class _HeldLines:
    """An import's lines, held until the commits of the files they report are safe on disk
    (:meth:`desktop.store.files.ChartFile.synced_together`), then printed in order: due, when a
    file has been written, once :attr:`FILES` files or :attr:`SECONDS` seconds are held."""

    FILES = 32
    SECONDS = 0.25

    def __init__(self) -> None:
        self._lines: list[tuple[str, bool]] = []
        self._since = 0.0

    def say(self, line: str, error: bool = False) -> None:
        import time

        if not self._lines:
            self._since = time.monotonic()
        self._lines.append((line, error))

    def due(self) -> bool:
        import time

        return len(self._lines) >= self.FILES or (
            bool(self._lines) and time.monotonic() - self._since >= self.SECONDS)

    def print(self, *, unconfirmed: bool = False) -> None:
        """Print the lines held, in order, each let go once printed (a second Ctrl+C midway
        loses none of the others). ``unconfirmed``: the sync failed; each line goes to stderr,
        saying that its file is written but not known to be on the disk."""
        while self._lines:
            line, error = self._lines[0]
            if unconfirmed:
                print(f"{line} (written, but not confirmed safe on disk)", file=sys.stderr, flush=True)
            else:
                print(line, file=sys.stderr if error else sys.stdout, flush=True)
            del self._lines[0]


def _import_one(store, item: reading.PreparedFile, keys, today, args, say):
    """Write one prepared file and ``say`` its line (:class:`_HeldLines`): its
    :class:`ImportResult`, None if the chart refused it (named on stderr), or "stop" if the
    chart itself failed (the run cannot go on)."""
    from desktop.present.terminal import plain
    from desktop.store import StoreError
    from desktop.store.errors import ImportRefused

    f = item.path
    try:
        if item.problems:  # (it changed after it was checked: it no longer reads as a valid case)
            raise ImportRefused("; ".join(item.problems))
        if isinstance(item.prepared, str):  # refused while it was prepared
            raise ImportRefused(item.prepared)
        r = store.import_prepared(item.prepared, case=item.case, visit_uuids=item.uuids, mrn_keys=keys)
        if r is None:  # a patient the chart has: merged from the case, read again here
            try:
                case, uuids = reading._read_for_import(f, today, getattr(args, "format", "auto"))
            except UserError as e:  # (the file changed since it was checked)
                raise ImportRefused("; ".join(e.problems)) from None
            r = store.import_case(case, today=today, visit_uuids=uuids, mrn_keys=keys)
    except ImportRefused as e:
        say(f"{plain(f)}: refused: {plain(e)}", True)
        return None
    except StoreError as e:  # the chart itself, not this file
        say(f"{plain(f)}: {plain(e)}; it and the files after it were not imported", True)
        return "stop"
    what = "new patient" if r.created else "merged into"
    line = f"{plain(f)}: {what} {plain(r.patient_id)}: {len(r.added)} visit(s) added"
    if r.unchanged:
        line += f", {len(r.unchanged)} already there"
    say(line)
    return r


EXIT_REFUSED = 2
"""Some file of an import was refused (the others were imported): the user-input status."""


# ------------------------------------------------------------------------------ export

def _export_args(p: argparse.ArgumentParser):
    p.add_argument("--patient", action="append", metavar="ID",
                   help="the patient's id (MRN); with --deidentified, repeat it to export only those "
                        "patients (default: every patient)")
    p.add_argument("--format", default=None, choices=["json", "csv", "fhir"],
                   help="output format: json (a case file, the default); fhir (a FHIR R4B transaction "
                        "bundle for the hospital record); csv (with --deidentified)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of standard output (with --deidentified: the FOLDER "
                        "the CSV files are written to)")
    from desktop.commands.research import research_export_args

    research_export_args(p)
    from desktop.commands.fhir import fhir_export_args

    fhir_export_args(p)


@command("export", "export one patient as a motorchart-case/1 JSON file, or patients de-identified for "
                   "research (--deidentified --format csv -o FOLDER)")
@arguments(_export_args)
@_store_errors
def cmd_export(args) -> int:
    from desktop.commands.research import one_patient_export, research_export

    if args.deidentified or args.new_ids:
        return research_export(args)
    one_patient_export(args)  # the other exports: one --patient, --format json unless given
    from desktop.commands.fhir import export_fhir_command, refuse_fhir_options

    if args.format == "fhir":
        return export_fhir_command(args)
    refuse_fhir_options(args)
    from domain.case import case_to_data

    store = _open(args, readonly=True)
    try:
        case = store.export_case(args.patient)
    finally:
        store.close()
    from desktop.present.terminal import json_text

    text = json_text(case_to_data(case)) + "\n"
    if args.output:
        from desktop.outfiles import write_atomic

        out = Path(args.output)
        if out.is_dir():
            raise UserError(f"{out}: is a folder; give a file name")
        if not out.parent.is_dir():
            raise UserError(f"{out.parent}: no such folder")
        try:
            write_atomic(out, text)
        except OSError as e:
            raise UserError(f"{out}: cannot write ({e.strerror})") from None
    else:
        sys.stdout.write(text)
    return 0


# ------------------------------------------------------------------------------ check

def _check_args(p: argparse.ArgumentParser):
    p.add_argument("--backups", action="store_true",
                   help="also read back every backup (compressed or not) and say which are whole")


@command("check", "check the chart file: full integrity, foreign keys, safety triggers, signatures, "
                  "schema version, counts and backups")
@arguments(_check_args)
@_store_errors
def cmd_check(args) -> int:
    from desktop.store.driver import sqlite3
    from desktop.store.files import read_only_reason

    store = _open(args, readonly=True)
    try:
        print(f"chart: {store.path}")
        if store.encrypted:
            print(f"encryption: SQLCipher, key {store.key.key_id} (backups are encrypted too)")
            if args.backups:
                from desktop.commands.encryption import unlock_backups

                unlock_backups(store.path)  # older keys the same passphrase opens
        else:
            print("encryption: none (the chart is a plain SQLite file; encrypt it with: motorchart encrypt)")
        reason = read_only_reason(store.path)
        if reason:
            print(f"access: read-only ({reason}); check, export and report work, changes are refused")
        deep = store.full_check()
        problem = "; ".join(deep["integrity"]) or None
        print(f"integrity: {'ok' if problem is None else problem}")
        fk = deep["foreign keys"]
        print("foreign keys: ok" if not fk else f"foreign keys: {len(fk)} problem(s)")
        for line in fk:
            print(f"  {line}")
        missing = deep["triggers"]
        from desktop.store.migrations import EXPECTED_TRIGGERS

        if missing:
            print(f"triggers: {len(missing)} of {len(EXPECTED_TRIGGERS)} missing; nothing can be saved to "
                  "this chart until a backup is restored")
            for line in missing:
                print(f"  {line}")
        else:
            print(f"triggers: ok ({len(EXPECTED_TRIGGERS)})")
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
        audit = deep["audit"]
        chain = "HMAC-SHA-256" if store.chain_key is not None else "SHA-256"
        if audit:
            print(f"audit: {len(audit)} problem(s): the audit trail was changed outside Motorchart ({chain} chain)")
            for line in audit:
                print(f"  {line}")
        else:
            print(f"audit: ok (every row linked in the {chain} chain; none removed, changed or cut off the end)")
        print(f"schema version: {store.schema_version}")
        for k, v in store.counts().items():
            print(f"{k}: {v}")
        damaged_backups = _print_backups(store.path, every=args.backups)
        _print_privacy(store.path)
    finally:
        store.close()
    return 0 if problem is None and not bad and not fk and not missing and not audit and not damaged_backups else 1


def _print_privacy(chart: Path) -> None:
    """The privacy line of ``check``: a warning naming each file of the chart (the chart, its
    -wal and -shm, head and key files, backups) that other accounts can read. A warning, not a
    failure: nothing is wrong with the chart itself."""
    from desktop.store.private import exposed_files

    extra: tuple[Path, ...] = ()
    try:
        from desktop.store.keys import key_file

        extra = (key_file(chart),)
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    exposed = exposed_files(chart, extra)
    if not exposed:
        print("privacy: ok (the chart and its backups are readable by their owner only)")
        return
    print(f"privacy: warning: {len(exposed)} file(s) of the chart can be read by other accounts on this "
          "computer; make them private with chmod 600 (and their folders with chmod 700)")
    for path, mode in exposed:
        print(f"  {path} (mode {mode:04o})")


def _print_backups(chart: Path, *, every: bool) -> int:
    """The backups lines of ``check``: how many of each kind and their size, the newest read
    back, the before-restore copies on a line of their own; with ``every``, one line per
    backup. Returns how many backups were found damaged."""
    from desktop.store.backups import (
        LOCKED, abandoned_partials, backup_infos, backup_problem, file_size, holdings, human_size, summarize)

    infos = backup_infos(chart)
    kinds = summarize(infos)
    listed = [i for i in infos if i.kind != "before-restore"]
    parts = ", ".join(f"{k.count} {name}" for name, k in kinds.items() if k.count and name != "before-restore")
    total = sum(k.size for name, k in kinds.items() if name != "before-restore")
    line = f"backups: {len(listed)}" + (f" ({parts}), {human_size(total)}" if listed else "")
    damaged = 0

    def verdict(i) -> str:
        nonlocal damaged
        problem = backup_problem(i.path)
        if problem == LOCKED:  # not damage: a backup of an older key (before a rekey --new-key)
            return f"not checked: {problem} (made before a rekey --new-key: check it with its passphrase)"
        if problem:
            damaged += 1
            return problem
        held = holdings(i.path)
        fmt = "encrypted" if i.encrypted else "compressed" if i.compressed else "uncompressed"
        return f"ok, {fmt}" + (f", {len(held.patients)} patient(s)" if held is not None else "")

    if listed:
        line += f"; newest {listed[0].path}" + ("" if every else f" ({verdict(listed[0])})")
    print(line)
    restores = kinds["before-restore"]
    print(f"before-restore copies: {restores.count}, {human_size(restores.size)} in total (kept: never removed "
          "automatically; delete old ones by hand once no longer needed)" if restores.count
          else "before-restore copies: none")
    if every:
        for i in infos:
            print(f"  {i.path}: {verdict(i)}")
    cut_short = abandoned_partials(chart)
    if cut_short:
        size = sum(map(file_size, cut_short))
        print(f"unfinished backups: {len(cut_short)}, {human_size(size)} (cut short: Motorchart was stopped while "
              "writing them; not backups, removed at the next change to the chart)")
        for p in cut_short:
            print(f"  {p}")
    return damaged


# ------------------------------------------------------------------------------ audit

def _audit_args(p: argparse.ArgumentParser):
    p.add_argument("--patient", required=True, metavar="ID", help="the patient's id (MRN)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _changed(old: dict | None, new: dict | None) -> str:
    """What an audit row changed, in words ("death date: None -> 2025-08-01")."""
    from desktop.present.words import field_words

    from desktop.present.terminal import plain

    # (the chart's own row ids mean nothing to a reader: an amendment's row key already says
    # which version of which visit it is, "2025-07-10 v2")
    skip = {"id", "visit_id", "patient_id", "pos", "amended_from"}

    def value(v) -> str:
        if isinstance(v, list):  # a visit's findings or marks, stored with it (issue 20)
            return "; ".join(_changed(None, row) for row in v)
        return plain(v)

    if old is None and new is not None:
        return ", ".join(f"{field_words(k)} = {value(v)}" for k, v in new.items() if v is not None and k not in skip)
    if new is None and old is not None:
        return ", ".join(f"{field_words(k)} = {plain(v)}" for k, v in old.items() if v is not None and k not in skip)
    return ", ".join(f"{field_words(k)}: {plain(old.get(k))} -> {plain(new.get(k))}"
                     for k in new if old.get(k) != new.get(k))


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
    from desktop.present.terminal import json_text, plain

    for e in entries:
        if args.json:
            print(json_text({"time_utc": e.time_utc, "user": e.user, "table": e.table,
                             "action": e.action, "row": e.row_key, "old": e.old, "new": e.new}, indent=None))
        else:
            from desktop.present.words import TABLE_WORDS

            table = TABLE_WORDS.get(e.table, e.table.replace("_", " "))
            print(f"{e.time_utc}  {plain(e.user):<14} {e.action:<6} {table:<16} {plain(e.row_key or ''):<40} "
                  f"{_changed(e.old, e.new)}")
    return 0


# ------------------------------------------------------------------------------ upgrade

@command("upgrade", "upgrade a chart written by an older Motorchart to this one's schema (a backup is made "
                    "first; any command that changes the chart, or opening it in the window, does the same)")
@_store_errors
def cmd_upgrade(args) -> int:
    from desktop.present.terminal import plain
    from desktop.store.migrations import SCHEMA_VERSION

    store = _open(args, existing=True, say_upgrade=False)
    try:
        if store.upgrade is None:
            print(f"{store.path}: already at schema {SCHEMA_VERSION}, this Motorchart's; nothing to upgrade")
        else:
            print(plain(store.upgrade.message(store.path)))
    finally:
        store.close()
    return 0


# ------------------------------------------------------------------------------ backup / restore

@command("backup", "make a backup of the chart now, even while the app has it open "
                   "(compressed, beside the automatic ones; a manual backup is never rotated away)")
@_store_errors
def cmd_backup(args) -> int:
    from desktop.commands.encryption import unlock_chart
    from desktop.store.files import backup_chart

    chart = _chart(args)
    key = unlock_chart(chart) if chart.is_file() else None
    print(backup_chart(chart, "manual", key=key))
    return 0


def _restore_args(p: argparse.ArgumentParser):
    p.add_argument("backup", metavar="BACKUP",
                   help="a backup file: compressed (.sqlite.gz), encrypted (.sqlite.enc) or plain (.sqlite) "
                        "(see `motorchart check`)")
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
    from desktop.commands.encryption import unlock_backups, unlock_chart

    if chart.is_file():
        unlock_chart(chart)
    unlock_backups(chart, backup)
    saved = restore_backup(chart, backup)
    print(f"restored {chart} from {backup}")
    if saved:
        print(f"the previous chart was kept as {saved}")
    return 0


# ------------------------------------------------------------------------------ demo

def _demo_args(p: argparse.ArgumentParser):
    p.add_argument("--patients", type=int, default=200, metavar="N", help="how many patients (200)")
    p.add_argument("--seed", type=int, default=2026, metavar="S", help="random seed (2026)")
    p.add_argument("--new", action="store_true", help=NEW_HELP)
    p.add_argument("--encrypt", action="store_true",
                   help="make the new chart encrypted (passphrase from MOTORCHART_PASSPHRASE or the "
                        "terminal; the recovery key is printed once); charts are plain without it")


@command("demo", "build a deterministic demo clinic of fictional patients into --db PATH")
@arguments(_demo_args)
@_store_errors
def cmd_demo(args) -> int:
    from desktop.store.demo import build_demo

    if args.patients < 1 or args.patients > 1_000_000:
        raise UserError(f"--patients: {args.patients} is out of range (1 to 1000000)")
    if args.encrypt:
        _create_encrypted(args)
    store = _open(args)
    try:
        n = build_demo(store, args.patients, args.seed)
        counts = store.counts()
    except BaseException:
        store.close()
        raise
    with HeldCtrlC():  # built: the chart is closed with its backup and the result said, Ctrl+C or not
        store.close()
    print(f"{store.path}: {n} demo patients, {counts['visits']} visits")
    return 0



def _create_encrypted(args) -> None:
    """``demo --encrypt``: a new encrypted chart at --db (its recovery key printed once); an
    encrypted chart already there is used as it is, a plain one is refused."""
    from desktop.commands.encryption import new_passphrase, print_recovery_key
    from desktop.store import keys

    path = _chart(args)
    if keys.is_encrypted(path):
        return
    if path.exists() and path.stat().st_size > 0:
        raise UserError(f"{path}: a plain chart is there; encrypt it with: motorchart encrypt --db {path}")
    setup = keys.create_encrypted(path, new_passphrase(path), user="demo", new=bool(args.new))
    print(f"created the encrypted chart {path} (key file {keys.key_file(path)})")
    print_recovery_key(setup.recovery_key)


# ------------------------------------------------------------------------------ patient

NOT_RECORDED = "not recorded"


def _patient_fields() -> dict[str, tuple]:
    """The case format's patient fields in display order (each milestone's note after its date),
    each with its kind: ``("date",)``, ``("choice", values)`` or ``("text",)``."""
    import datetime as dt
    import typing

    from domain.case import Patient

    def kind(annotation) -> tuple:
        stack = [annotation]
        while stack:
            a = stack.pop()
            if typing.get_origin(a) is typing.Literal:
                return ("choice", typing.get_args(a))
            if a is dt.date:
                return ("date",)
            stack.extend(typing.get_args(a))
        return ("text",)

    names = list(Patient.model_fields)
    order = [n for n in names if not (n.endswith("_note") and n[:-5] + "_date" in names)]
    for n in names:
        if n not in order:
            order.insert(order.index(n[:-5] + "_date") + 1, n)
    return {n: kind(Patient.model_fields[n].annotation) for n in order}


def _shown(value) -> str:
    """A field's value as one printable line (terminal control characters dropped)."""
    from desktop.present.terminal import plain

    if value is None:
        return NOT_RECORDED
    return value.isoformat() if hasattr(value, "isoformat") else plain(value)


def _age(birth, day) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _patient_cmd_args(p: argparse.ArgumentParser):
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help: str, description: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help, description=description)
        a.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                       help="the chart file (default: MOTORCHART_DB or the user data folder)")
        a.add_argument("--patient", required=True, metavar="MRN", help="the patient's id (MRN)")
        return a

    s = action("show", "print a patient's details, milestones and visits",
               "print every field of a patient (milestones and their notes included) and the visits "
               "with their status")
    s.add_argument("--json", action="store_true",
                   help="print {patient: the case-format patient object, visits: [{date, status}]}")
    e = action("edit", "change a patient's details or milestones (--set FIELD=VALUE)",
               "change a patient's details or milestones; FIELD is a patient field of the case format "
               "(id renames the MRN), dates are YYYY-MM-DD, FIELD= clears a field (not id); "
               "all or nothing")
    e.add_argument("--set", action="append", required=True, metavar="FIELD=VALUE",
                   help="a field and its new value, e.g. gastrostomy_date=2025-05-01 or niv_note=refused")


@command("patient", "work on a patient of the chart: `patient show` prints the details and visits, "
                    "`patient edit --set FIELD=VALUE` changes them")
@arguments(_patient_cmd_args)
@_store_errors
def cmd_patient(args) -> int:
    run = {"show": _patient_show, "edit": _patient_edit}.get(args.action)
    if run is None:  # pragma: no cover  (argparse allows only the actions above)
        raise UserError(f"patient: unknown action {args.action}")
    return run(args)


def _patient_show(args) -> int:
    store = _open(args, readonly=True)
    try:
        patient = store.get_patient(args.patient)  # no such patient: one line
        visits = [(d, store.visit_status(patient.id, d)) for d in store.visit_dates(patient.id)]
    finally:
        store.close(backup=False)
    from desktop.present.terminal import json_text, plain

    if args.json:
        out = {"patient": patient.model_dump(mode="json"),
               "visits": [{"date": d.isoformat(), "status": st} for d, st in visits]}
        sys.stdout.write(json_text(out) + "\n")
        return 0
    names = patient.display_name if (patient.given_names or patient.family_name) else "no name recorded"
    head = f"patient {plain(patient.id)}: {plain(names)}"
    if patient.death_date is not None:
        age = (f"age {_age(patient.birth_date, patient.death_date)}" if patient.birth_date
               else "age not known: no birth date")
        head += f", died {patient.death_date.isoformat()} ({age})"
    print(head)
    fields = _patient_fields()
    width = max(len(n) for n in fields) + 1
    for name in fields:
        print(f"  {name + ':':<{width}} {_shown(getattr(patient, name))}")
    print(f"visits ({len(visits)}):" if visits else "visits: none")
    for d, st in visits:
        print(f"  {d.isoformat()}  {st}")
    return 0


def _parse_patient_settings(settings: list[str]) -> dict:
    """``FIELD=VALUE`` settings to new field values (None clears), or UserError with one line
    per bad setting."""
    import datetime as dt
    import re

    fields = _patient_fields()
    changes: dict = {}
    problems: list[str] = []
    for text in settings:
        name, eq, value = text.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name:
            problems.append(f"--set {text}: expected FIELD=VALUE (e.g. gastrostomy_date=2025-05-01)")
            continue
        if name not in fields:
            problems.append(f'--set {text}: unknown field "{name}" (one of {", ".join(fields)})')
            continue
        if name in changes:
            problems.append(f"--set {text}: {name} is set twice")
            continue
        kind = fields[name]
        if value == "":
            if name == "id":
                problems.append(f"--set {text}: the MRN cannot be cleared")
                continue
            changes[name] = None
        elif kind[0] == "date":
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise ValueError
                changes[name] = dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"--set {text}: {value} is not a date (YYYY-MM-DD)")
        elif kind[0] == "choice":
            if value not in kind[1]:
                problems.append(f"--set {text}: {name} must be one of {', '.join(kind[1])}")
                continue
            changes[name] = value
        else:
            changes[name] = value
    if problems:
        raise UserError(*problems)
    return changes


def _patient_edit(args) -> int:
    import datetime as dt

    from pydantic import ValidationError

    from desktop.store import StoreError
    from domain.case import Patient, format_errors
    from domain.patient_rules import patient_problems

    changes = _parse_patient_settings(args.set)  # before the chart is opened
    pid = args.patient
    store = _open(args, existing=True)
    changed: list[str] = []
    saved = False
    try:
        old = store.get_patient(pid)  # no such patient: one line
        new = old.model_copy(update=changes)
        changed = [f"{n}: {_shown(getattr(old, n))} -> {_shown(getattr(new, n))}"
                   for n in _patient_fields() if getattr(old, n) != getattr(new, n)]
        if changed:
            try:
                Patient.model_validate(new.model_dump())
            except ValidationError as e:  # the store's rules name the field as the clinician sees it
                problems = (patient_problems(new, today=dt.date.today(), visit_dates=store.visit_dates(pid))
                            or format_errors(e, "patient."))
                raise UserError(f"patient {pid}: {'; '.join(problems)}; nothing was changed") from None
            try:
                store.update_patient(new, old_id=pid)
            except StoreError as e:
                raise UserError(f"patient {pid}: {e}; nothing was changed") from None
            saved = True
    finally:
        store.close(backup=saved)
    from desktop.present.terminal import plain

    if not changed:
        print(f"patient {plain(pid)} already has those values; nothing changed")
        return 0
    print(f"updated patient {plain(new.id)}" + (f" (was {plain(pid)})" if new.id != pid else "") + ":")
    for line in changed:
        print(f"  {line}")
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
    from desktop.store import StoreError

    pid, day = args.patient, date.isoformat()
    store = _open(args, existing=True)
    signed = False
    try:
        # The store's rules decide (already signed, cells not reviewed without --carried); the
        # marks are read here only to say what signing did with them.
        marks = store.visit_marks(pid, date)  # no such patient or visit: one line
        n = len(marks.not_reviewed)
        source = marks.carried_from.isoformat() if marks.carried_from else "an earlier visit"
        try:
            store.sign_visit(pid, date, clinician=by, carried=args.carried)
        except StoreError as e:
            raise UserError(f"{e}; nothing was changed") from None
        signed = True
    finally:
        store.close(backup=signed)
    from desktop.present.terminal import plain

    line = f"signed the visit of {day} of patient {plain(pid)} as {plain(by)}"
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

    def action(name: str, help: str, description: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help, description=description)
        a.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                       help="the chart file (default: MOTORCHART_DB or the user data folder)")
        return a

    n = action("new", "start a draft visit on a date",
               "start a draft visit on --date: empty, or with --copy-forward the previous visit's "
               "examination copied, its cells marked not reviewed")
    n.add_argument("--patient", required=True, metavar="MRN", help="the patient's id (MRN)")
    n.add_argument("--date", required=True, metavar="DATE", help="the new visit's date (YYYY-MM-DD)")
    n.add_argument("--copy-forward", action="store_true",
                   help="copy the examination of the visit before --date (marked not reviewed)")
    r = action("redate", "move a draft visit to another date (a signed visit keeps its date)",
               "move a draft visit created on the wrong day to another date (a signed visit keeps its date)")
    _visit_args(r)
    r.add_argument("--to", required=True, metavar="DATE", help="the visit's new date (YYYY-MM-DD)")
    d = action("delete", "delete a draft visit (a signed visit cannot be deleted)",
               "delete a draft visit with its findings (a signed visit cannot be deleted)")
    _visit_args(d)


@command("visit", "work on one visit of the chart: `visit new` starts a draft, `visit redate` moves a "
                  "draft to another date, `visit delete` deletes a draft")
@arguments(_visit_cmd_args)
@_store_errors
def cmd_visit(args) -> int:
    run = {"new": _visit_new, "redate": _visit_redate, "delete": _visit_delete}.get(args.action)
    if run is None:  # pragma: no cover  (argparse allows only the actions above)
        raise UserError(f"visit: unknown action {args.action}")
    return run(args)


def _visit_new(args) -> int:
    from desktop.store import StoreError

    date = _visit_date(args.date, "--date")
    pid, day = args.patient, date.isoformat()
    store = _open(args, existing=True)
    made = False
    try:
        store.get_patient(pid)  # no such patient: one line
        try:
            store.new_visit(pid, date, copy_forward=args.copy_forward)
        except StoreError as e:
            raise UserError(f"{e}; nothing was changed") from None
        made = True
        marks = store.visit_marks(pid, date)
        earlier = [d for d in store.visit_dates(pid) if d < date]
    finally:
        store.close(backup=made)
    from desktop.present.terminal import plain

    line = f"started a draft visit on {day} for patient {plain(pid)}"
    if args.copy_forward:
        if marks.not_reviewed:
            source = marks.carried_from.isoformat() if marks.carried_from else "the previous visit"
            line += (f"; {len(marks.not_reviewed)} cell(s) copied from {source}, marked not reviewed "
                     "(review them before signing)")
        elif earlier:
            line += f"; the visit of {earlier[-1].isoformat()} had no examination to copy"
        else:
            line += "; there is no earlier visit to copy from, so it is empty"
    print(line)
    return 0


def _visit_redate(args) -> int:
    from desktop.store import StoreError

    date = _visit_date(args.visit)
    to = _visit_date(args.to, "--to")
    pid, day = args.patient, date.isoformat()
    store = _open(args, existing=True)
    moved = False
    try:
        try:  # the store's rules decide: a signed visit keeps its date; a date that cannot be
            moved = bool(store.redate_visit(pid, date, to))
        except StoreError as e:
            msg = str(e) if str(e).startswith(("patient ", "no patient ")) else f"patient {pid}: {e}"
            raise UserError(f"{msg}; nothing was changed") from None
    finally:
        store.close(backup=moved)
    from desktop.present.terminal import plain

    print(f"moved the draft visit of {day} of patient {plain(pid)} to {to.isoformat()}" if moved
          else f"the visit of {day} of patient {plain(pid)} is already on that date; nothing changed")
    return 0


def _visit_delete(args) -> int:
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
    from desktop.present.terminal import plain

    print(f"deleted the draft visit of {day} of patient {plain(pid)}")
    return 0


def _options_args(p: argparse.ArgumentParser):
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="change a criteria option of the chart (clinical-rules.md), "
                        "e.g. probable_reading=colocated; without --set, list them")


def _option_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _print_options(options) -> None:
    from domain.options import OPTION_NAMES, Options

    from desktop.present.words import option_label, option_value

    default = Options()
    for name in OPTION_NAMES:
        value, base = _option_text(getattr(options, name)), _option_text(getattr(default, name))
        words = option_value(name, getattr(options, name))
        print(f"{name} = {value}" + (f"  (default: {base})" if value != base else "")
              + f"    # {option_label(name)}: {words}")
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
