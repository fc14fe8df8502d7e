"""The evaluation package sits over core and a subject: it never pulls in the Textual front end."""

from __future__ import annotations

import subprocess
import sys


def test_evaluation_and_eval_command_load_no_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, operator_tui.evaluation as ev\n"
        "for m in pkgutil.walk_packages(ev.__path__, 'operator_tui.evaluation.'):\n"
        "    importlib.import_module(m.name)\n"
        "importlib.import_module('operator_tui.commands.eval')\n"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] == 'textual' or n.startswith('operator_tui.tui'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
