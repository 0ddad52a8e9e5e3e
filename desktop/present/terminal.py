"""Text from the chart or a case file made safe to print on a terminal (issue 17).

A name, an MRN or a note is data, never a command to the terminal: :func:`plain` drops escape
sequences (CSI, OSC such as "set the window title", DCS and the others, in their 7-bit and
8-bit forms) and every other C0/C1 control character, turns a lone UTF-16 surrogate into U+FFFD,
and in a single-line field turns line breaks into spaces, so no value can forge an output line.

Every command-line print path goes through here: :func:`clean_output` puts :func:`plain` (lines
kept) under standard output and standard error for the whole run of a subcommand, the commands
pass single-line values through :func:`plain` where they print them, and JSON is written with
:func:`json_text`, which escapes what the JSON encoder leaves raw.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from typing import Any, Iterator

_ST = r"(?:\x07|\x1b\\|\x9c|$)"  # string terminator: BEL, ESC \, 8-bit ST, or the end of the text
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI ... final
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*?" + _ST  # OSC, DCS, SOS, PM, APC ... ST
    + r"|\x1b[\x20-\x2f]*[\x30-\x7e]?",  # any other escape: ESC, intermediates, final
    re.S,
)
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")
_CONTROLS_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps \t and \n
_CONTROLS_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def plain(value: Any, *, multiline: bool = False) -> str:
    """``value`` as text safe to print: escape sequences and control characters removed, lone
    surrogates shown as U+FFFD; line breaks become spaces unless ``multiline`` (then only
    ``\\n`` and tabs are kept)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    text = _SURROGATES.sub("\ufffd", text)
    text = _SEQUENCES.sub("", text)
    if multiline:
        text = _LINE_BREAKS.sub(lambda m: "\n" if m.group() in ("\r\n", "\n") else " ", text)
        return _CONTROLS_MULTILINE.sub("", text)
    text = _LINE_BREAKS.sub(" ", text).replace("\t", " ")
    return _CONTROLS_ONE_LINE.sub("", text)


def json_text(obj: Any, *, indent: int | None = 2) -> str:
    """``obj`` as JSON text (UTF-8 characters kept) that is safe on a terminal and lossless:
    the characters the encoder leaves raw (C1 controls, DEL, U+2028/U+2029, lone surrogates)
    are written as ``\\uXXXX`` escapes, which decode to the same string."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _CleanStream:
    """A text stream that writes through :func:`plain` (lines kept)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(plain(text, multiline=True))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def clean_output() -> Iterator[None]:
    """Within the block, everything printed to standard output or standard error goes through
    :func:`plain` (lines kept): no value printed can drive the terminal."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _CleanStream(out), _CleanStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
