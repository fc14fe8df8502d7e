"""Scenario files: the shipped suite loads, and bad files give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from operator_tikv import shipped

from operator_tui.evaluation.scenario import ScenarioError, load_scenario, load_suite

SUITE = shipped.scenarios_dir()


def test_shipped_suite_loads_with_faults_and_controls() -> None:
    scenarios = load_suite(SUITE)
    names = [s.name for s in scenarios]
    assert len(names) == len(set(names))
    faults = [s for s in scenarios if not s.is_control]
    controls = [s for s in scenarios if s.is_control]
    assert len(faults) >= 9
    assert len(controls) >= 3
    kinds = {f.kind for s in faults for f in s.faults}
    assert {
        "kill",
        "pause",
        "partition",
        "slow_disk",
        "disk_pressure",
        "hot_region",
        "pd_leader_kill",
    } <= kinds
    recorded = [s for s in faults if s.recording is not None]
    assert recorded, "a recorded scenario keeps the replay path tested"
    for s in recorded:
        assert s.incidents and not s.faults
    for s in faults:
        assert s.incidents and all(want.classes for want in s.incidents)
        if s.recording is None:
            assert s.first_fault_at is not None and s.first_fault_at < s.duration
    overlapping = [s for s in faults if len([w for w in s.incidents if w.required]) >= 2]
    assert len(overlapping) >= 3, "format 2 scenarios with two faults at once or in sequence"
    assert {5, 7} <= {s.sim.stores for s in scenarios}


def test_target_list_and_alias(tmp_path: Path) -> None:
    f = tmp_path / "two.toml"
    f.write_text(
        'name = "two"\nduration = 30\n'
        '[[faults]]\nkind = "kill"\nat = 1\ntarget = 4\n'
        '[expect]\ndetected = true\ntarget = [1, 4]\nroot_cause_class = "store_down"\n'
    )
    s = load_scenario(f)
    assert s.faults[0].store_id == 4
    assert s.expect.target_matches(4)
    assert s.expect.target_matches(1)
    assert not s.expect.target_matches(2)
    assert not s.expect.target_matches("cluster")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("name = [", "not valid TOML"),
        ('name = "x"\nduration = 10\n[expect]\ndetected = true\n', "needs target"),
        ('name = "x"\nduration = 10\n[expect]\ndetected = false\nbogus = 1\n', "expect.bogus"),
        (
            'name = "x"\nduration = 10\n[[faults]]\nkind = "kill"\nat = 20\nstore_id = 1\n'
            '[expect]\ndetected = true\ntarget = 1\nroot_cause_class = "store_down"\n',
            "starts after the duration",
        ),
        (
            'name = "x"\nduration = 10\n[expect]\ndetected = true\ntarget = 1\nroot_cause_class = "store_down"\n',
            "no fault",
        ),
    ],
)
def test_bad_scenarios_are_one_line_errors(tmp_path: Path, body: str, needle: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert str(f) in message


def test_suite_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not found"):
        load_suite(tmp_path / "missing")
    with pytest.raises(ScenarioError, match=r"no \*\.toml"):
        load_suite(tmp_path)
    body = 'name = "same"\nduration = 10\n[expect]\ndetected = false\n'
    (tmp_path / "a.toml").write_text(body)
    (tmp_path / "b.toml").write_text(body)
    with pytest.raises(ScenarioError, match="used by both"):
        load_suite(tmp_path)


def test_with_seeds_copies_and_renames() -> None:
    from operator_tui.evaluation.scenario import with_seeds

    base = [s for s in load_suite(SUITE) if s.name == "store-killed"]
    copies = with_seeds(base, 3)
    assert [c.name for c in copies] == ["store-killed#1", "store-killed#2", "store-killed#3"]
    assert [c.sim.seed for c in copies] == [base[0].sim.seed + k for k in range(3)]
    assert all(c.faults == base[0].faults and c.expect == base[0].expect for c in copies)
    assert with_seeds(base, 1) == base
