"""The claude backend through the real SDK against the loopback Messages API: what the model says is what is scored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import SecretStr
from rich.console import Console

from operator_tui.config import Settings
from operator_tui.evaluation.report import render_table, to_json
from operator_tui.evaluation.runner import RunOptions, run_scenario
from operator_tui.evaluation.scenario import load_scenario
from operator_tui.evaluation.scoring import score_run
from operator_tui.testing.messages_api import MessagesAPIServer, Reply

SCENARIO = (
    'name = "kill-2"\nduration = 20\nwarmup = 4\n'
    '[[faults]]\nkind = "kill"\nat = 3\nstore_id = 2\n'
    '[expect]\ndetected = true\ntarget = 2\nroot_cause_class = "store_down"\n'
)


def _diagnosis(target: int, cls: str) -> dict:
    return {
        "observation": "store 2 stopped answering",
        "root_cause": "the process of store 2 is gone",
        "root_cause_class": cls,
        "target": target,
        "options_considered": [
            {"option": "wait", "rejected_because": "regions stay under-replicated"},
            {"option": "drain store 1", "rejected_because": "store 1 is healthy"},
        ],
        "recommended_actions": [
            {
                "action": "set_replica_schedule_limit",
                "args": {"n": 64},
                "rationale": "r",
                "risk": "low",
            }
        ],
        "confidence": 0.9,
        "severity": "critical",
    }


async def test_claude_answers_are_scored(tmp_path: Path) -> None:
    f = tmp_path / "kill.toml"
    f.write_text(SCENARIO)
    scenario = load_scenario(f)
    async with MessagesAPIServer() as api:
        settings = Settings(
            diagnosis={"api_key": SecretStr("test"), "base_url": api.base_url, "max_retries": 0}
        )
        api.enqueue(Reply.message("## Store 2 is down", tool_input=_diagnosis(2, "store_down")))
        right = await run_scenario(scenario, settings, RunOptions(backend="claude"))
        assert len(api.requests) == 1
        body = str(api.requests[0].body)
        assert "store_down" in body and "store-2" in body
        api.enqueue(Reply.message("## Store 3 is slow", tool_input=_diagnosis(3, "slow_disk")))
        wrong = await run_scenario(scenario, settings, RunOptions(backend="claude"))
        assert len(api.requests) == 2
    assert right.error is None and right.backend == "claude"
    good = score_run(scenario, right)
    assert good.passed and good.diagnosed == 1
    bad = score_run(scenario, wrong)
    [e] = bad.expectations
    assert e.detected and bad.diagnosed == 1 and bad.cross_blame == 1
    assert not e.localized and not e.classified and not bad.passed


async def test_tool_calls_tokens_and_cost_are_reported_per_scenario(tmp_path: Path) -> None:
    """The scripted model looks at store 2 through PD, then submits: the run reports one
    diagnosis, one tool call, the tokens of both turns and their price at the settings' rate."""
    f = tmp_path / "kill.toml"
    f.write_text(SCENARIO)
    scenario = load_scenario(f)
    async with MessagesAPIServer() as api:
        settings = Settings(
            diagnosis={
                "api_key": SecretStr("test"),
                "base_url": api.base_url,
                "max_retries": 0,
                "claude_model": "claude-sonnet-4-6",
            }
        )
        api.enqueue(
            Reply.calls("Checking PD.", ("get_store", {"store_id": 2}), input_tokens=1000),
            Reply.message(
                "## Store 2 is down",
                tool_input=_diagnosis(2, "store_down"),
                input_tokens=3000,
                output_tokens=500,
            ),
        )
        outcome = await run_scenario(scenario, settings, RunOptions(backend="claude"))
    assert outcome.error is None and len(api.requests) == 2
    score = score_run(scenario, outcome)
    assert score.passed
    u = score.usage
    assert (u.diagnoses, u.tool_calls) == (1, 1)
    assert (u.input_tokens, u.output_tokens) == (4000, 240 + 500)
    # claude-sonnet-4 prices in the default table: $3 in, $15 out per million tokens
    assert u.cost_usd == pytest.approx((4000 * 3 + 740 * 15) / 1e6)
    doc = to_json([score], "claude")
    assert doc["scenarios"][0]["usage"]["tool_calls"] == 1
    assert doc["summary"]["input_tokens"] == 4000
    assert doc["summary"]["cost_usd"] == pytest.approx(u.cost_usd)
    console = Console(width=160, record=True, file=io.StringIO())
    render_table([score], "claude", console)
    row = next(
        line for line in console.export_text().splitlines() if "kill-2" in line and "$" in line
    )
    assert [c.strip() for c in row.split("│")[2:7]] == [
        "1",
        "1",
        "4000",
        "740",
        f"${u.cost_usd:.4f}",
    ]
