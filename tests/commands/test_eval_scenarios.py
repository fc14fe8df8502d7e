"""``eval`` without ``--scenarios`` runs the scenarios the subject plugin ships, from any directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_tui.commands import eval as eval_command
from operator_tui.config import load_settings
from operator_tui.evaluation.scenario import ScenarioError, load_suite


def test_default_is_the_plugins_shipped_scenarios(clean_env: Path) -> None:
    found = eval_command.shipped_scenarios(load_settings(None))
    assert not found.is_relative_to(clean_env)
    names = {s.name for s in load_suite(found)}
    assert "store-killed" in names and "recorded-kill-and-slow-disk" in names


def test_a_plugin_without_scenarios_says_to_give_them(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Bare:
        name = "bare"

    monkeypatch.setattr(eval_command, "load_plugin", lambda _name: Bare())
    with pytest.raises(ScenarioError, match="ships no scenarios: give --scenarios"):
        eval_command.shipped_scenarios(load_settings(None))
