"""The one `motorchart` command. No argument opens the app; subcommands work headless.

Errors from user input are one clear line each on stderr and exit status 2, never a traceback.
Heavy modules (Qt, reportlab, sqlite-utils) are imported inside the subcommands that need them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""Ctrl+C: the shell's status for a program ended by SIGINT."""


class HeldCtrlC:
    """Ctrl+C held back while a command writes, so that it stops between two whole steps, never
    between a step's commit and the line that reports it: ``with HeldCtrlC() as ctrl_c:`` and
    ``if ctrl_c.pressed: ...`` before each step. A second Ctrl+C stops at once (the step's
    transaction is rolled back). Outside the main thread, or where Ctrl+C is not Python's
    KeyboardInterrupt, it changes nothing (``pressed`` stays False)."""

    def __init__(self) -> None:
        self.pressed = False
        self._before = None

    def _press(self, signum, frame) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def __enter__(self) -> HeldCtrlC:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._before = signal.signal(signal.SIGINT, self._press)
        return self

    def __exit__(self, *exc) -> None:
        if self._before is not None:
            import signal

            signal.signal(signal.SIGINT, self._before)
            self._before = None


class UserError(Exception):
    """Bad user input: each line of ``problems`` is printed, exit status 2."""

    def __init__(self, *problems: str):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {}


def command(name: str, help: str):
    """Register a subcommand: ``setup(parser)`` adds its arguments, the function runs it."""

    def register(fn):
        setup = getattr(fn, "_setup", lambda p: None)
        _COMMANDS[name] = (help, setup, fn)
        return fn

    return register


def arguments(setup: Callable[[argparse.ArgumentParser], None]):
    def attach(fn):
        fn._setup = setup
        return fn

    return attach


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        raise UserError(f"{self.prog}: {message}")


def read_input_file(path: str, limit: int, what: str) -> bytes:
    """The bytes of a file the user named, never more than ``limit`` (and one byte, so the
    caller can tell it is too large) in memory; UserError lines name the file.

    Read as far as the file's size says first: ``read(limit + 1)`` sets aside ``limit`` bytes
    before it reads (64 MiB for a case file: 0.15 ms against 0.04 ms for a 220 kB file, paid by
    every file of a bulk import, issue 20); what a file that grew meanwhile, or a pipe (size 0),
    holds beyond that is read after, up to the same bound."""
    import os

    p = Path(path)
    try:
        with p.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(min(size, limit) + 1)
            if len(data) > size:
                data += fh.read(limit + 1 - len(data))
            return data
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not {what}") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None


def read_case_file(path: str, *, today=None):
    """Read and validate a case file: its format (:func:`domain.case.parse_case`, which also
    bounds its size and nesting) and every rule of :func:`domain.patient_rules.case_problems`
    (``today``, default the clock's, for the rules about the future). UserError lines name the
    file and the JSON path."""
    import datetime as dt

    from domain.case import MAX_CASE_FILE_BYTES, CaseError, parse_case
    from domain.patient_rules import case_problems

    from .resources import load_catalogue

    data = read_input_file(path, MAX_CASE_FILE_BYTES, "a case file")
    try:
        case = parse_case(data, load_catalogue())
    except CaseError as e:
        raise UserError(*[f"{path}: {line}" for line in e.problems]) from None
    problems = case_problems(case, today=today or dt.date.today())
    if problems:
        raise UserError(*[f"{path}: {line}" for line in problems])
    return case


def options_from(settings: list[str] | None, base=None):
    """Criteria options from ``name=value`` settings on top of ``base`` (default: the defaults)."""
    from domain.options import parse_option_settings

    opts, problems = parse_option_settings(settings or [], base=base)
    if problems:
        raise UserError(*problems)
    return opts


# ------------------------------------------------------------------------------ classify

def _classify_args(p: argparse.ArgumentParser):
    p.add_argument("file", nargs="?", metavar="FILE", help="a motorchart-case/1 JSON file")
    p.add_argument("--patient", metavar="MRN",
                   help="classify this patient of the chart (--db PATH) with the chart's criteria options "
                        "instead of a FILE")
    p.add_argument("--json", action="store_true", help="print motorchart-classification/1 JSON")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a criteria option (clinical-rules.md), e.g. probable_reading=colocated; "
                        "with --patient, on top of the chart's options (nothing is saved)")


@command("classify", "classify a case file, or a chart patient (--patient): regions, criteria, stages "
                     "and scores per visit")
@arguments(_classify_args)
def cmd_classify(args) -> int:
    if args.file is not None and args.patient is not None:
        raise UserError("classify: give a case FILE or --patient MRN, not both")
    if args.file is None and args.patient is None:
        raise UserError("classify: give a case FILE, or --patient MRN to classify a patient of the chart (--db PATH)")
    if args.patient is not None:
        case, result, opts = _classify_chart_patient(args)
    else:
        from domain.classify import classify_case

        from .resources import load_catalogue

        opts = options_from(args.set)
        case = read_case_file(args.file)
        result = classify_case(case, load_catalogue(), opts)
    if args.json:
        from .present.terminal import json_text

        sys.stdout.write(json_text(result.as_json()) + "\n")
    else:
        from .summary import render_summary

        sys.stdout.write(render_summary(case, result))
        if args.patient is not None:
            from domain.options import options_to_settings

            changed = ", ".join(options_to_settings(opts)) or "the defaults"
            sys.stdout.write(f"\nCriteria options: {changed} (the chart's"
                             f"{', with --set on top' if args.set else ''})\n")
    return 0


def _classify_chart_patient(args):
    """(case, classification, options) of a chart patient, with the chart's criteria options
    and any --set on top; the chart is opened read-only."""
    from desktop.commands.store import _open
    from desktop.store import StoreError
    from domain.options import parse_option_settings

    _, problems = parse_option_settings(args.set)
    if problems:
        raise UserError(*problems)
    store = _open(args, readonly=True)
    try:
        opts = options_from(args.set, base=store.criteria_options())
        return store.get_case(args.patient), store.classify(args.patient, opts), opts
    except StoreError as e:
        raise UserError(str(e)) from None
    finally:
        store.close(backup=False)


# ------------------------------------------------------------------------------ bench

def _bench_args(p: argparse.ArgumentParser):
    p.add_argument("--json", action="store_true", help="print {name: {value, unit, target}}")
    p.add_argument("--only", action="append", default=[], metavar="PREFIX",
                   help="run only the figures whose name starts with PREFIX")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (for tests)")


@command("bench", "measure speed and memory figures against their targets")
@arguments(_bench_args)
def cmd_bench(args) -> int:
    from .bench import run_bench

    return run_bench(json_out=args.json, only=args.only, quick=args.quick)


# ------------------------------------------------------------------------------ main

def _load_extra_commands() -> None:
    """Subcommands of other parts of the app register themselves on import."""
    import importlib

    import pkgutil

    import desktop.commands as pkg

    for mod in sorted(f"desktop.commands.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise


def build_parser() -> argparse.ArgumentParser:
    from domain import __version__

    from desktop.store.patient_index import SCHEMA_VERSION  # (light: no SQLite driver, no sqlite-utils)

    parser = _Parser(prog="motorchart", description="Motorchart: charting for motor neuron disease.")
    # (the chart schema too: two copies of one version that open charts differently tell apart)
    parser.add_argument("--version", action="version", version=f"motorchart {__version__} (chart schema {SCHEMA_VERSION})")
    parser.add_argument("--db", metavar="PATH", help="the chart file (default: MOTORCHART_DB or the user data folder)")
    parser.add_argument("--demo", action="store_true", help="open the app on a demo clinic")
    parser.add_argument("--new", action="store_true",
                        help="start a new, empty chart at --db even though backups of a chart are there")
    parser.add_argument("--self-test", action="store_true", help="headless self-test of the installed app")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_, setup, _fn) in _COMMANDS.items():
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="the chart file (default: MOTORCHART_DB or the user data folder)")
        setup(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        _load_extra_commands()
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            if args.self_test:
                from .selftest import run_self_test

                return run_self_test()
            from .ui.app import run_app

            return run_app(db=args.db, demo=args.demo, new=args.new)
        from .resources import ResourcesMissing, resources_dir

        try:
            resources_dir()  # (before any command writes: a chart made by a broken install is of no use)
        except ResourcesMissing as e:
            print(f"motorchart: {e}", file=sys.stderr)
            return EXIT_USAGE
        from .present.terminal import clean_output

        with clean_output():  # no name, MRN or note printed can drive the terminal
            return _COMMANDS[args.command][2](args) or 0
    except UserError as e:
        from .present.terminal import plain

        for line in e.problems:  # each problem is one line, whatever values it quotes
            print(plain(line), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("motorchart: interrupted (Ctrl+C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
