"""On the simulator (manual clock, offline rules): one fault is one incident, two faults are two.

The runs go to each scenario's end (no stop at the first diagnosis), so every symptom a
fault shows over the run is there to be grouped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from operator_tikv import shipped

from operator_tui.config import Settings
from operator_tui.evaluation.runner import RunOptions, run_scenario
from operator_tui.evaluation.scenario import load_scenario, load_suite
from operator_tui.evaluation.scoring import RunOutcome

pytest.importorskip("operator_tikv.sim")

SUITE = shipped.scenarios_dir()
FULL_RUN = RunOptions(backend="offline", stop_when_diagnosed=False)


async def run(scenario) -> RunOutcome:
    outcome = await run_scenario(scenario, Settings(), FULL_RUN)
    assert outcome.error is None, outcome.error
    return outcome


@pytest.mark.parametrize(
    ("name", "target", "symptoms"),
    [
        ("store-killed", 2, 1),
        ("slow-disk", 2, 3),
        ("write-stall", 2, 2),
        ("pd-leader-killed", "cluster", 3),
    ],
)
async def test_one_fault_is_one_incident(name: str, target: int | str, symptoms: int) -> None:
    scenario = next(s for s in load_suite(SUITE) if s.name == name)
    outcome = await run(scenario)
    [incident] = outcome.incidents
    assert incident.targets == [target]
    assert sorted(incident.tickets) == sorted(t.ticket_id for t in outcome.tickets)
    assert len(incident.tickets) >= symptoms
    assert incident.diagnosis is not None and incident.diagnosis_error is None


async def test_a_partition_pd_marks_down_stays_one_incident(tmp_path: Path) -> None:
    f = tmp_path / "partition.toml"
    f.write_text(
        'name = "partition-past-down-time"\nduration = 60\n'
        "[sim]\nstores = 3\nseed = 13\nmax_store_down_time = 30.0\n"
        '[[faults]]\nkind = "partition"\nat = 11\nstore_id = 1\n'
        '[expect]\ndetected = true\ntarget = 1\nroot_cause_class = "network_partition"\n'
    )
    outcome = await run(load_scenario(f))
    assert {t.invariant for t in outcome.tickets} == {"store_disconnected", "store_down"}
    [incident] = outcome.incidents
    assert incident.targets == [1] and len(incident.tickets) == len(outcome.tickets)
    assert incident.diagnosis is not None and incident.severity == "critical"
    assert incident.diagnosed_class == "network_partition"


async def test_two_faults_on_two_stores_are_two_incidents(tmp_path: Path) -> None:
    f = tmp_path / "two.toml"
    f.write_text(
        'name = "kill-and-slow-disk"\nduration = 90\n'
        "[sim]\nstores = 4\nseed = 5\n"
        '[[faults]]\nkind = "kill"\nat = 11\nstore_id = 1\n'
        '[[faults]]\nkind = "slow_disk"\nat = 11\nstore_id = 3\n'
        '[expect]\ndetected = true\ntarget = [1, 3]\nroot_cause_class = "store_down"\n'
    )
    outcome = await run(load_scenario(f))
    by_target = {tuple(i.targets): i for i in outcome.incidents}
    assert sorted(by_target) == [(1,), (3,)]
    assert len(by_target[(3,)].tickets) >= 2
    assert (by_target[(3,)].diagnosed_target, by_target[(3,)].diagnosed_class) == (3, "slow_disk")
