"""What a fresh Debian desktop needs beyond the app (issue 14, item 7): the .deb declares the
three X11 libraries Qt's xcb plugin needs, and the README says how to install them right under
its two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1")
INSTALL_LINE = "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"


def test_the_deb_depends_on_the_three_xcb_libraries():
    build = (ROOT / "installer" / "build.sh").read_text("utf-8")
    depends = re.search(r'^DEPENDS="([^"]*)"', build, re.M).group(1)
    declared = {d.strip().split()[0] for d in depends.split(",")}
    assert set(PACKAGES) <= declared
    assert "Depends: $DEPENDS" in build


def test_the_readme_gives_the_install_line_right_under_its_two_set_up_commands():
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    commands = [ln for ln in lines if ln and not ln.startswith(("#", "`", " ")) and (
        ln.startswith(("pip ", "sudo ", "motorchart ")))]
    assert commands[:3] == [
        "pip install -e . && motorchart --demo",
        'pip install -e ".[test]" && QT_QPA_PLATFORM=offscreen python -m pytest',
        INSTALL_LINE,
    ]
    first_block_end = lines.index("```", 2)
    install = lines.index(INSTALL_LINE)
    between = [ln for ln in lines[first_block_end + 1:install] if ln.strip() and not ln.startswith("```")]
    sentence = " ".join(between)  # one sentence (wrapped on two lines) introducing the line
    assert 1 <= len(between) <= 2 and sentence.count(". ") == 0 and sentence.endswith(":")
    assert "motorchart" in sentence
