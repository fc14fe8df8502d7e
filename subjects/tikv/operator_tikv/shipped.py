"""The evaluation scenarios and recordings this subject ships as package data.

``operator-tui eval`` runs them from an installed wheel, found through the plugin
(``TikvPlugin.scenarios``). A clone that predates their move into the package still has them
under ``benchmarks/``; both places are looked at, the package first.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = Path(str(files("operator_tikv")))
CHECKOUT = PACKAGE.parents[2]


def _first(name: str, pattern: str) -> Path | None:
    for candidate in (PACKAGE / name, CHECKOUT / "benchmarks" / name):
        if candidate.is_dir() and any(candidate.glob(pattern)):
            return candidate
    return None


def scenarios_dir() -> Path | None:
    """The folder of shipped scenario TOML files, or None when this install has none."""
    return _first("scenarios", "*.toml")


def recordings_dir() -> Path | None:
    """The folder of shipped flight recordings (``*.opr``) the recorded scenarios replay."""
    return _first("recordings", "*.opr")
