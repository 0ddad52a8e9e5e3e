"""`motorchart [--demo] [--db PATH]` goes straight to the app; anything else to the full parser."""

from __future__ import annotations

import pytest

from desktop.launch import app_arguments


@pytest.mark.parametrize("argv,expected", [
    ([], {"db": None, "demo": False}),
    (["--demo"], {"db": None, "demo": True}),
    (["--db", "clinic.sqlite"], {"db": "clinic.sqlite", "demo": False}),
    (["--db=Ærø clinic.sqlite", "--demo"], {"db": "Ærø clinic.sqlite", "demo": True}),
])
def test_opening_the_app_is_read_without_the_full_parser(argv, expected):
    assert app_arguments(argv) == expected


@pytest.mark.parametrize("argv", [
    ["classify", "case.json"], ["--version"], ["--self-test"], ["--db"], ["--db", "--demo"], ["-h"],
    ["--demo", "export"], ["--verbose"],
])
def test_everything_else_goes_to_the_command_line_parser(argv):
    assert app_arguments(argv) is None


def test_the_command_line_still_answers_through_the_entry_point(capsys):
    from desktop.launch import main

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    from domain import __version__

    from desktop.store.migrations import SCHEMA_VERSION

    assert capsys.readouterr().out.strip() == f"motorchart {__version__} (chart schema {SCHEMA_VERSION})"
    assert main(["--db"]) == 2  # one clear line from the full parser, not a traceback
    assert "--db" in capsys.readouterr().err
