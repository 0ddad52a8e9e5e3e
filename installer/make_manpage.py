"""Write the motorchart(1) man page from the command line's own argparse parser.

    python installer/make_manpage.py motorchart.1      # build.sh gzips it into the .deb

The parser comes from ``desktop.cli.build_parser`` (after the subcommand modules under
``desktop/commands`` have registered themselves), so every option and subcommand in the page is
one the program accepts. Building the parser must not load Qt: PySide6 is blocked here, and a
subcommand module that imports it at module level makes this script fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.abc
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MAINTAINER = "Motorchart maintainers <maintainers@motorchart.org>"
HOMEPAGE = "https://motorchart.org"


class _NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith("PySide6.") or name == "shiboken6":
            raise ImportError(f"make_manpage.py: building the parser imported {name}")


def _esc(text: str) -> str:
    """Text for a man page line: backslashes and minus signs escaped, no line starting with a
    control character."""
    text = " ".join(str(text).split())
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def _opt(action: argparse.Action) -> str:
    """The option as the synopsis shows it, in man page markup: bold names, italic metavar."""
    names = ", ".join(f"\\fB{_esc(s)}\\fR" for s in action.option_strings)
    if action.nargs == 0:
        return names
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return f"{names} \\fI{_esc(metavar)}\\fR"


def _pos(action: argparse.Action) -> str:
    metavar = action.metavar or action.dest
    if action.choices and not action.metavar:
        metavar = "{" + ",".join(map(str, action.choices)) + "}"
    return f"\\fI{_esc(metavar)}\\fR"


def _actions(parser: argparse.ArgumentParser) -> list[str]:
    """.TP entries for each positional argument and option of one parser (no help, no subparsers)."""
    out = []
    for a in parser._actions:  # argparse has no public iterator over its actions
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) or a.help == argparse.SUPPRESS:
            continue
        out += [".TP", _opt(a) if a.option_strings else _pos(a)]
        text = (a.help or "").replace("%(default)s", str(a.default)).replace("%(prog)s", parser.prog)
        if a.choices and a.option_strings:
            text += f" (one of: {', '.join(map(str, a.choices))})"
        out.append(_esc(text) if text else "")
    return out


def _usage(parser: argparse.ArgumentParser) -> str:
    usage = parser.format_usage().removeprefix("usage: ").strip()
    return _esc(usage)


def render(parser: argparse.ArgumentParser, version: str, date: dt.date) -> str:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    lines = [
        f'.TH MOTORCHART 1 "{date.isoformat()}" "motorchart {_esc(version)}" "User Commands"',
        ".SH NAME",
        "motorchart \\- offline charting for motor neuron disease",
        ".SH SYNOPSIS",
        ".B motorchart",
        "[\\fB\\-\\-db\\fR \\fIPATH\\fR] [\\fB\\-\\-demo\\fR]",
        ".br",
        ".B motorchart",
        "\\fB\\-\\-self\\-test\\fR",
        ".br",
        ".B motorchart",
        "\\fICOMMAND\\fR [\\fIoptions\\fR]",
        ".SH DESCRIPTION",
        _esc(parser.description or ""),
        ".PP",
        ("Without a command, \\fBmotorchart\\fR opens the charting window on the chart file. "
         "Each command below works on the chart file or on case files without opening a window."),
        ".SH OPTIONS",
        *_actions(parser),
        ".SH COMMANDS",
    ]
    for name, p in sub.choices.items():
        lines += [".SS " + _esc(name), _esc(helps.get(name) or p.description or ""), ".PP",
                  _usage(p)]
        lines += _actions(p)
    lines += [
        ".SH ENVIRONMENT",
        ".TP", "\\fBMOTORCHART_DB\\fR",
        "The chart file when \\fB\\-\\-db\\fR is not given.",
        ".TP", "\\fBQT_QPA_PLATFORM\\fR",
        ("The Qt platform plugin (\\fBxcb\\fR, \\fBwayland\\fR; the self\\-test uses "
         "\\fBoffscreen\\fR unless it is set)."),
        ".TP", "\\fBMOTORCHART_SELFTEST_TRACEBACK\\fR",
        "When set, a failing self\\-test step also prints its traceback.",
        ".SH FILES",
        ".TP", "\\fI/opt/motorchart\\fR",
        "The installed program (Python, Qt and the libraries it uses), read\\-only.",
        ".TP", "\\fI~/.local/share/motorchart\\fR",
        "The default chart file and its backups (the user data folder).",
        ".SH EXIT STATUS",
        ("0 on success, non\\-zero otherwise: 1 when the self\\-test fails, 2 for a usage error "
         "or a file or chart that cannot be used."),
        ".SH SEE ALSO",
        _esc(HOMEPAGE),
        ".SH AUTHORS",
        _esc(MAINTAINER.split(" <")[0]) + " \\(la" + _esc(MAINTAINER.split(" <")[1].rstrip(">")) + "\\(ra",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write the motorchart(1) man page.")
    ap.add_argument("out", nargs="?", help="output file (default: standard output)")
    out = ap.parse_args(argv).out
    sys.meta_path.insert(0, _NoQt())
    sys.path.insert(0, str(ROOT))
    from desktop import cli
    from domain import __version__

    cli._load_extra_commands()  # the same registration `motorchart` does
    parser = cli.build_parser()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # reproducible builds: the date of the release
    date = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date() if epoch else dt.date.today()
    page = render(parser, __version__, date)
    if out is None:
        sys.stdout.write(page)
    else:
        Path(out).write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
