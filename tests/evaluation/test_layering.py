"""The evaluation package is a front end over core: no Textual, and no subject, which it
reaches only through the plugin's ``SimHarness``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_evaluation_and_eval_command_load_no_textual_and_no_subject() -> None:
    code = (
        "import sys, pkgutil, importlib, operator_tui.evaluation as ev\n"
        "for m in pkgutil.walk_packages(ev.__path__, 'operator_tui.evaluation.'):\n"
        "    importlib.import_module(m.name)\n"
        "importlib.import_module('operator_tui.commands.eval')\n"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'operator_tikv') or n.startswith('operator_tui.tui'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_evaluation_sources_import_no_subject() -> None:
    for path in (ROOT / "operator_tui" / "evaluation").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            bad = [n for n in names if n.split(".")[0] == "operator_tikv"]
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
