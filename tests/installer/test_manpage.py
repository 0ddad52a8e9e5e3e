"""The man page the .deb installs: generated from the argparse parser, without Qt (fast)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("man") / "motorchart.1"
    # a separate process: make_manpage.py blocks PySide6 imports for its whole interpreter
    subprocess.run([sys.executable, str(ROOT / "installer" / "make_manpage.py"), str(out)], cwd=ROOT,
                   check=True, timeout=120, env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1767225600"})
    return out


def test_the_man_page_documents_every_option_and_subcommand_of_the_parser(page):
    from desktop import cli

    cli._load_extra_commands()
    parser = cli.build_parser()
    text = page.read_text("utf-8")
    assert text.startswith('.TH MOTORCHART 1 "2026-01-01" "motorchart ')
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sp in sub.choices.items():
        assert f".SS {name}\n" in text, name
        for action in sp._actions:
            for opt in action.option_strings:
                if opt not in ("-h", "--help"):
                    assert f"\\fB{opt.replace('-', chr(92) + '-')}\\fR" in text, (name, opt)
    assert "\\fB\\-\\-self\\-test\\fR" in text and "MOTORCHART_DB" in text


def test_the_generator_refuses_qt_so_the_page_proves_the_parser_needs_none():
    code = ("import sys; sys.path.insert(0, 'installer'); import make_manpage; "
            "sys.meta_path.insert(0, make_manpage._NoQt()); import PySide6.QtCore")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "building the parser imported PySide6" in proc.stderr


@pytest.mark.skipif(not shutil.which("man"), reason="man-db is not installed")
def test_the_man_page_formats_without_warnings(page):
    proc = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(page)],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "MANWIDTH": "80"})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
