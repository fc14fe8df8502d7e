"""Where third-party reference files live: ``../shared/fixtures`` beside the repository.

Verbatim material nobody here wrote (official alert rules, dashboard expressions, bodies
captured from a real cluster, real log lines) is not committed to the project. Tests and
benchmarks read it from this folder when it is present; CI keeps it beside the clone.
``OPERATOR_SHARED_DIR`` points elsewhere (the folder holding ``fixtures/``).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "OPERATOR_SHARED_DIR"
ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path | None:
    """The shared ``fixtures`` folder, or ``None`` when it is absent."""
    override = os.environ.get(ENV_VAR)
    base = Path(override) if override else ROOT.parent / "shared"
    fixtures = base / "fixtures"
    return fixtures if fixtures.is_dir() else None


def missing_reason(relative: str) -> str | None:
    """Why ``fixtures/<relative>`` cannot be read, or ``None`` when it can."""
    base = shared_dir()
    if base is None:
        where = os.environ.get(ENV_VAR) or str(ROOT.parent / "shared")
        return f"third-party fixtures absent: no {where}/fixtures (set {ENV_VAR})"
    if not (base / relative).exists():
        return f"third-party fixture absent: {base / relative}"
    return None


def shared_file(relative: str) -> Path:
    """``fixtures/<relative>`` for a test; the test is skipped, with the reason, when it is absent."""
    reason = missing_reason(relative)
    if reason is not None:
        import pytest

        pytest.skip(reason)
    base = shared_dir()
    assert base is not None
    return base / relative
