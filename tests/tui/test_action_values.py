"""The approve dialog and the diagnosis view show what an action changes: current -> proposed."""

from __future__ import annotations

from operator_tui.tui.render import action_change, diagnosis_markdown
from operator_tui.tui.screens.approve import action_prompt


def test_current_to_proposed() -> None:
    limit = {"action": "set_replica_schedule_limit", "args": {"n": 128}, "current": {"n": 64}}
    assert action_change(limit) == "n: 64 -> 128"
    evict = {
        "action": "evict_leader",
        "args": {"store_id": 3},
        "current": {"leaders": 34, "evicting": False},
    }
    assert action_change(evict) == "now: leaders=34, evicting=False"
    assert action_change({"action": "split_region", "args": {"region_id": 1}}) == ""
    assert action_change({"action": "x", "args": ["bad"], "current": {"n": 1}}) == ""


def test_prompt_shows_the_change_and_done() -> None:
    limit = {
        "action": "set_replica_schedule_limit",
        "args": {"n": 128},
        "current": {"n": 64},
        "risk": "medium",
        "rationale": "faster repair",
    }
    text = action_prompt(1, limit).plain
    assert "n: 64 -> 128" in text and "done" not in text
    assert "done" in action_prompt(1, limit, done=True).plain


def test_diagnosis_view_lists_causes_weighed_and_changes() -> None:
    result = {
        "observation": "o",
        "root_cause": "r",
        "root_cause_class": "write_stall",
        "target": 1,
        "causes_considered": [
            {
                "cause": "store_down",
                "target": 3,
                "evidence_for": ["Store 3 is gone."],
                "evidence_against": ["A write stall is store 1's own condition."],
                "chosen": False,
            }
        ],
        "recommended_actions": [
            {"action": "set_leader_schedule_limit", "args": {"n": 8}, "current": {"n": 4}}
        ],
        "confidence": 0.8,
        "severity": "warning",
    }
    text = diagnosis_markdown(result)
    assert "## Causes weighed" in text and "**store_down** on store 3: not chosen" in text
    assert "against: A write stall is store 1's own condition." in text
    assert "n: 4 -> 8" in text
