"""The runner end to end on the simulator's manual clock with the offline diagnoser (a few seconds each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from operator_tikv import shipped

from operator_tui.cli import main
from operator_tui.config import Settings
from operator_tui.evaluation.runner import RunOptions, run_scenario
from operator_tui.evaluation.scenario import FaultSpec, load_scenario, load_suite
from operator_tui.evaluation.scoring import score_run

SUITE = shipped.scenarios_dir()


def _shipped(name: str):
    return next(s for s in load_suite(SUITE) if s.name == name)


async def test_store_killed_is_detected_localized_and_classified() -> None:
    scenario = _shipped("store-killed")
    outcome = await run_scenario(scenario, Settings(), RunOptions(backend="offline"))
    assert outcome.error is None
    score = score_run(scenario, outcome)
    [e] = score.expectations
    assert e.detected and e.localized and e.classified
    assert outcome.tickets[0].invariant == "store_down"
    assert (e.diagnosed_target, e.diagnosed_class) == (2, "store_down")
    # The fault lands mid-interval (11 s on a 2 s grid): the next tick sees it.
    assert e.ttd_s == 1.0
    assert score.options_ok == score.diagnosed and score.passed, score.to_dict()
    assert "set_replica_schedule_limit" in outcome.declared_actions


async def test_wrong_ground_truth_scores_as_a_miss(tmp_path: Path) -> None:
    f = tmp_path / "wrong.toml"
    f.write_text(
        'name = "wrong"\nduration = 20\nwarmup = 4\n'
        '[[faults]]\nkind = "kill"\nat = 3\nstore_id = 1\n'
        '[expect]\ndetected = true\ntarget = 3\nroot_cause_class = "slow_disk"\n'
    )
    scenario = load_scenario(f)
    outcome = await run_scenario(scenario, Settings(), RunOptions(backend="offline"))
    score = score_run(scenario, outcome)
    [e] = score.expectations
    assert not e.detected, "the incident is on store 1, the expectation on store 3"
    assert score.cross_blame >= 1 and not score.passed


async def test_a_class_the_subject_does_not_declare_fails_the_run(tmp_path: Path) -> None:
    f = tmp_path / "cosmic.toml"
    f.write_text(
        'name = "cosmic"\nduration = 10\n[[faults]]\nkind = "kill"\nat = 1\nstore_id = 1\n'
        '[expect]\ndetected = true\ntarget = 1\nroot_cause_class = "cosmic_rays"\n'
    )
    outcome = await run_scenario(load_scenario(f), Settings(), RunOptions(backend="offline"))
    assert outcome.error is not None
    assert "root_cause_class 'cosmic_rays'" in outcome.error and "store_down" in outcome.error
    assert outcome.tickets == []


async def test_control_without_fault_opens_nothing(tmp_path: Path) -> None:
    f = tmp_path / "quiet.toml"
    f.write_text('name = "quiet"\nduration = 30\n[sim]\nseed = 5\n[expect]\ndetected = false\n')
    scenario = load_scenario(f)
    outcome = await run_scenario(scenario, Settings(), RunOptions(backend="offline"))
    assert outcome.error is None
    assert outcome.tickets == []
    assert outcome.ticks == (30 + 10) // 2 + 1
    assert score_run(scenario, outcome).passed


async def test_unknown_fault_kind_is_an_error_not_a_crash(tmp_path: Path) -> None:
    f = tmp_path / "odd.toml"
    f.write_text(
        'name = "odd"\nduration = 10\nwarmup = 2\n[[faults]]\nkind = "meteor"\nat = 1\nstore_id = 1\n'
        '[expect]\ndetected = true\ntarget = 1\nroot_cause_class = "store_down"\n'
    )
    scenario = load_scenario(f)
    outcome = await run_scenario(scenario, Settings(), RunOptions(backend="offline"))
    assert outcome.error is not None and "meteor" in outcome.error
    assert not score_run(scenario, outcome).passed


def test_cli_json_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "kill.toml"
    f.write_text(
        'name = "kill-3"\nduration = 20\nwarmup = 4\n'
        '[[faults]]\nkind = "kill"\nat = 3\nstore_id = 3\n'
        '[expect]\ndetected = true\ntarget = 3\nroot_cause_class = "store_down"\n'
    )
    assert main(["eval", "--scenarios", str(f), "--json", "--backend", "offline"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["backend"] == "offline"
    assert doc["scenarios"][0]["scenario"] == "kill-3" and doc["scenarios"][0]["passed"]
    assert doc["summary"]["incidents_detected"] == doc["summary"]["incidents_expected"] == 1

    assert main(["eval", "--scenarios", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err

    assert main(["eval", "--scenarios", str(f), "--only", "other"]) == 2
    assert "no scenario named other" in capsys.readouterr().err


def test_cli_claude_without_key_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPERATOR_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "quiet.toml"
    f.write_text('name = "quiet"\nduration = 4\n[expect]\ndetected = false\n')
    assert main(["eval", "--scenarios", str(f), "--backend", "claude"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ANTHROPIC_API_KEY" in err


class RecordingHooks:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.harness = None

    async def started(self, harness) -> None:
        self.harness = harness
        self.calls.append("started")

    async def fault_injected(self, fault: FaultSpec, sim_s: float) -> None:
        self.calls.append(f"fault:{fault.kind}")

    async def stepped(self, sim_s: float, detected: bool) -> bool:
        self.calls.append("detected" if detected else "step")
        return detected

    async def finished(self) -> None:
        self.calls.append("finished")


async def test_realtime_clock_with_hooks(tmp_path: Path) -> None:
    """The baseline's mode: the simulator runs on its own (here 5x wall time), hooks see every step."""
    f = tmp_path / "rt.toml"
    f.write_text(
        'name = "rt"\nduration = 20\nwarmup = 2\n[sim]\nspeed = 5.0\n'
        '[[faults]]\nkind = "kill"\nat = 3\nstore_id = 1\n'
        '[expect]\ndetected = true\ntarget = 1\nroot_cause_class = "store_down"\n'
    )
    scenario = load_scenario(f)
    hooks = RecordingHooks()
    options = RunOptions(
        backend="offline", clock="realtime", stop_when_diagnosed=False, hooks=hooks
    )
    outcome = await run_scenario(scenario, Settings(), options)
    assert outcome.error is None
    assert hooks.calls[0] == "started" and hooks.calls[-1] == "finished"
    assert "fault:kill" in hooks.calls
    assert hooks.calls[-2] == "detected" and hooks.calls.count("detected") == 1
    score = score_run(scenario, outcome)
    assert score.passed
    [e] = score.expectations
    assert e.ttd_s is not None and 0 <= e.ttd_s <= 4
    assert outcome.wall_seconds < 15


class ExplodingHooks(RecordingHooks):
    async def started(self, harness) -> None:
        raise RuntimeError("boom")


async def test_a_crash_below_fails_the_scenario_not_the_suite(tmp_path: Path) -> None:
    f = tmp_path / "boom.toml"
    f.write_text('name = "boom"\nduration = 4\n[expect]\ndetected = false\n')
    scenario = load_scenario(f)
    outcome = await run_scenario(scenario, Settings(), RunOptions(hooks=ExplodingHooks()))
    assert outcome.error == "crashed: RuntimeError: boom"
    assert not score_run(scenario, outcome).passed
