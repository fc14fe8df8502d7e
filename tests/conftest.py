"""Fixtures shared across the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No OPERATOR_* or ANTHROPIC_* from the developer's shell, and no stray .env: run in tmp."""
    for name in list(os.environ):
        if name.startswith(("OPERATOR_", "ANTHROPIC_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
