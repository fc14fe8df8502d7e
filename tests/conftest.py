"""Fixtures shared across the whole suite."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_tui.testing.shared import shared_file


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No OPERATOR_* or ANTHROPIC_* from the developer's shell, and no stray .env: run in tmp."""
    for name in list(os.environ):
        if name.startswith(("OPERATOR_", "ANTHROPIC_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def shared_fixture() -> Callable[[str], Path]:
    """``shared_fixture("tikv/log_samples.txt")``: a third-party file from ``../shared/fixtures``,
    or the test skipped with the reason (see ``operator_tui.testing.shared``)."""
    return shared_file
