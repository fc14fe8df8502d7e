"""The eval table shows what the model said as text: markup and escapes in its answer do not act."""

from __future__ import annotations

import io
from dataclasses import replace

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
