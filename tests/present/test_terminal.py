"""Issue 17, point 6: what the command line prints from a name, an MRN or a note cannot drive the
terminal (desktop.present.terminal, the one helper every print path uses)."""

from __future__ import annotations

import io
import json
import sys

import pytest

from desktop.present.terminal import clean_output, json_text, plain


@pytest.mark.parametrize("hostile, shown", [
    ("\x1b]0;owned\x07Nowak", "Nowak"),                 # OSC: set the window title (BEL)
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink (ST)
    ("\x1b[2J\x1b[HZofia", "Zofia"),                    # CSI: clear the screen, home
    ("\x9b31mred", "red"),                              # 8-bit CSI
    ("\x9d0;t\x9cname", "name"),                        # 8-bit OSC ... ST
    ("\x1bPq#0\x1b\\ok", "ok"),                         # DCS (sixel)
    ("a\x1bcb", "ab"),                                  # ESC c: reset the terminal
    ("bell\x07\x08\x7f", "bell"),                       # other C0, DEL
    ("MRN-1\nmotorchart: all ok", "MRN-1 motorchart: all ok"),  # a forged output line
    ("MRN-1\r\rover", "MRN-1  over"),
    ("tab\there", "tab here"),
    ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ("Łukasiewicz-Nowak, Zoë 李", "Łukasiewicz-Nowak, Zoë 李"),
])
def test_plain_keeps_the_text_and_drops_what_would_drive_the_terminal(hostile, shown):
    assert plain(hostile) == shown


def test_multiline_text_keeps_its_lines_and_tabs_only():
    assert plain("line one\r\nline\ttwo\x1b[31m\rthree\u2028four", multiline=True) == \
        "line one\nline\ttwo three four"


def test_json_text_escapes_what_the_encoder_leaves_raw_and_decodes_to_the_same_value():
    value = {"name": "a\x9b2Jb\x1b]0;t\x07\u2028\ud800", "ok": "Zoë"}
    text = json_text(value)
    assert not any(c in text for c in "\x1b\x07\x9b\u2028\ud800")
    assert "Zoë" in text
    assert json.loads(text) == value


def test_clean_output_filters_every_print_and_restores_the_streams():
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with clean_output():
            print("patient \x1b]0;owned\x07X\nnext line")
            print("\x9b2J", file=sys.stderr)
        assert (sys.stdout, sys.stderr) == (out, err)
    finally:
        sys.stdout, sys.stderr = saved
    assert out.getvalue() == "patient X\nnext line\n"
    assert err.getvalue() == "\n"
