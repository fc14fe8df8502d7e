"""The eval table shows what the model said as text: markup and escapes in its answer do not act."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from rich.console import Console

from operator_tui.evaluation.report import render_table
from operator_tui.evaluation.scenario import Scenario
from operator_tui.evaluation.scoring import IncidentObservation, RunOutcome, score_run

HOSTILE = "[/][bold red]R[link=file:///etc/passwd]x[/link]\x1b]0;pwned\x07\x1b[2J\u202e"


def test_a_hostile_model_answer_prints_as_plain_text() -> None:
    scenario = Scenario.model_validate(
        {
            "name": "s",
            "duration": 30,
            "faults": [{"kind": "kill", "at": 5, "store_id": 2}],
            "expect": {"detected": True, "target": 2, "root_cause_class": "store_down"},
        }
    )
    diagnosis = {
        "target": HOSTILE,
        "root_cause_class": HOSTILE,
        "options_considered": [],
        "recommended_actions": [],
    }
    incident = IncidentObservation(1, 6.0, 0.6, "critical", [2], [1], diagnosis=diagnosis)
    outcome = RunOutcome("s", "claude", incidents=[incident], declared_actions=["drain_store"])
    score = score_run(scenario, outcome)
    score = replace(score, error=f"model said {HOSTILE}")
    out = io.StringIO()
    render_table([score], "claude", Console(file=out, width=400, force_terminal=True))
    text = out.getvalue()
    assert "[/][bold red]R[link=file:///etc/passwd]x[/link]" in text
    assert (
        "\x1b[2J" not in text
        and "\x1b]0;pwned" not in text
        and "\x1b]8;" not in text
        and "\u202e" not in text
    )


def _score(name: str):
    scenario = Scenario.model_validate(
        {
            "name": name,
            "duration": 30,
            "faults": [{"kind": "kill", "at": 5, "store_id": 12}],
            "expect": {"detected": True, "target": 12, "root_cause_class": "store_down"},
        }
    )
    diagnosis = {"target": 12, "root_cause_class": "store_down", "options_considered": []}
    incident = IncidentObservation(1, 6.0, 0.6, "critical", [12], [1], diagnosis=diagnosis)
    return score_run(scenario, RunOutcome(name, "offline", incidents=[incident]))


NAMES = (
    "stall-then-corruption-panic-same-store",
    "partition-and-write-stall-7-stores",
    "s",
)


@pytest.mark.parametrize("width", [40, 80, 120])
def test_scenario_names_and_figures_are_never_cut_on_a_narrow_pipe(width: int) -> None:
    out = io.StringIO()
    render_table([_score(n) for n in NAMES], "offline", Console(file=out, width=width))
    lines = out.getvalue().splitlines()
    assert "…" not in out.getvalue()
    assert all(len(line.rstrip()) <= width for line in lines)
    for name in NAMES:
        assert any(name in line.split() or f"│ {name} " in line for line in lines), name
    assert out.getvalue().count("store_down@12") == len(NAMES)
    assert out.getvalue().count("1/1") >= 3 * len(NAMES)


def test_a_wide_console_still_gets_the_table() -> None:
    out = io.StringIO()
    render_table([_score(n) for n in NAMES], "offline", Console(file=out, width=200))
    assert "┃ scenario " in out.getvalue() and "│ stall-then-corruption-panic-same-store │" in (
        out.getvalue()
    )
