"""The backend registry: one list of names, and how ``auto`` resolves."""

from __future__ import annotations

import pytest

from operator_tui.core.diagnosis import backends
from operator_tui.core.diagnosis.claude import ClaudeDiagnoser


def test_names_and_runnable() -> None:
    assert backends.NAMES == ("auto", "claude", "offline")
    assert backends.RUNNABLE == ("claude", "offline")
    assert all(b.description for b in backends.BACKENDS)


def test_auto_resolves_by_key() -> None:
    assert backends.resolve("auto", has_key=True) == "claude"
    assert backends.resolve("auto", has_key=False) == "offline"
    assert backends.resolve("offline", has_key=True) == "offline"
    assert backends.resolve("claude", has_key=False) == "claude"


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(
        ValueError, match=r"unknown diagnosis backend 'oracle' \(choose auto, claude, offline\)"
    ):
        backends.check("oracle")


def test_the_claude_diagnoser_goes_by_its_registry_name() -> None:
    assert ClaudeDiagnoser.backend == backends.CLAUDE


def test_describe_is_one_line_naming_each() -> None:
    text = backends.describe()
    assert "\n" not in text and all(f"{n}:" in text for n in backends.NAMES)
