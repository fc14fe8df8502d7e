"""The app is a front end over core: it reaches the subject only through the runtime, never by import."""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "operator_tui" / "tui"


def test_tui_imports_no_subject_package() -> None:
    for path in TUI.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad = [n for n in names if n.startswith("operator_tikv")]
            assert not bad, f"{path.name} imports {bad}"
