"""One function run in a new Python process: for work that must not inherit what this process
has loaded (the bench's bulk figures, whose helpers would be forked from a process holding large
charts; the bundle's compiled PySide6 support modules, which shiboken6 compiles only at a
process's first PySide6 import). Standard library only."""

from __future__ import annotations

import json
import os
import subprocess
import sys

_MARK = "FRESH-PROCESS-RESULT "

_CHILD = (
    "import json, sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from importlib import import_module\n"
    "result = getattr(import_module(sys.argv[2]), sys.argv[3])(*json.loads(sys.argv[4]))\n"
    "print(" + repr("\n" + _MARK) + " + json.dumps(result))\n"
)

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""Where ``desktop`` is: put first on the child's path, so it runs this Motorchart's code."""


class FreshProcessError(RuntimeError):
    """The function failed in its process; the message ends with the child's last line."""


def call_in_fresh_process(module: str, function: str, *args):
    """``module.function(*args)`` run by a new process of this Python and its result, both
    through JSON; :class:`FreshProcessError` naming ``module.function`` and the child's last
    error line when it fails or returns nothing."""
    done = subprocess.run([sys.executable, "-c", _CHILD, _ROOT, module, function, json.dumps(args)],
                          capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(_MARK)]
    if done.returncode != 0 or not lines:
        said = done.stderr.strip().splitlines() or ["it printed no result"]
        raise FreshProcessError(f"{module}.{function} failed in its own process ({done.returncode}): {said[-1]}")
    return json.loads(lines[-1][len(_MARK):])
