"""The layering the design promises: core imports no UI and no subject; subjects import no UI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_modules(package_dir: Path) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def test_importing_core_loads_no_textual_and_no_subject() -> None:
    code = (
        "import sys, pkgutil, importlib, operator_tui.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'operator_tui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'operator_tikv'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core pulled in: {out.stdout.strip()}"


def test_core_sources_import_no_front_end_or_subject() -> None:
    forbidden = (
        "textual",
        "operator_tui.tui",
        "operator_tui.headless",
        "operator_tui.cli",
        "operator_tui.config",
        "operator_tui.bootstrap",
        "operator_tikv",
    )
    for path, names in _imported_modules(ROOT / "operator_tui" / "core").items():
        bad = [n for n in names if n.startswith(forbidden)]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_subjects_import_no_front_end() -> None:
    forbidden = ("textual", "operator_tui.tui", "operator_tui.headless", "operator_tui.config")
    for path, names in _imported_modules(ROOT / "subjects").items():
        bad = [n for n in names if n.startswith(forbidden)]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
