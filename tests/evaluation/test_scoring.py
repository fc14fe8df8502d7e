"""Scoring rules on hand-made outcomes (no simulator): every incident is judged."""

from __future__ import annotations

from typing import Any

from operator_tui.evaluation.report import to_json, to_markdown
from operator_tui.evaluation.scenario import Scenario
from operator_tui.evaluation.scoring import IncidentObservation, RunOutcome, score_run, summarize

DECLARED = ["transfer_leader", "drain_store", "set_replica_schedule_limit"]


def _scenario(expect: dict[str, Any], faults: list[dict[str, Any]] | None = None) -> Scenario:
    if faults is None:
        faults = [{"kind": "kill", "at": 5, "store_id": 2}] if expect.get("detected") else []
    return Scenario.model_validate(
        {"name": "s", "duration": 60, "faults": faults, "expect": expect}
    )


def _diag(
    target: Any,
    cls: str,
    options: int = 2,
    actions: tuple[tuple[str, dict[str, Any]], ...] = (("drain_store", {"store_id": 2}),),
) -> dict[str, Any]:
    return {
        "target": target,
        "root_cause_class": cls,
        "options_considered": [
            {"option": f"o{i}", "rejected_because": "r"} for i in range(options)
        ],
        "recommended_actions": [
            {"action": a, "args": args, "rationale": "r"} for a, args in actions
        ],
    }


def _inc(
    iid: int,
    at: float,
    diag: dict[str, Any] | None,
    where: int | str = 2,
    severity: str = "critical",
    reopens: int | None = None,
) -> IncidentObservation:
    return IncidentObservation(
        incident_id=iid,
        opened_s=at,
        opened_wall_s=at / 10,
        severity=severity,
        targets=[where],
        tickets=[iid],
        reopens=reopens,
        diagnosis=diag,
    )


def _outcome(*incidents: IncidentObservation) -> RunOutcome:
    return RunOutcome(
        scenario="s", backend="offline", incidents=list(incidents), declared_actions=DECLARED
    )


V1 = {"detected": True, "target": 2, "root_cause_class": "store_down"}


def test_format_one_is_one_required_incident_after_the_first_fault() -> None:
    sc = _scenario(V1)
    [want] = sc.incidents
    assert (want.target, want.classes, want.after, want.required) == (2, ["store_down"], 5, True)
    s = score_run(sc, _outcome(_inc(1, 6.0, _diag(2, "store_down"))))
    assert s.passed
    [e] = s.expectations
    assert (e.detected, e.localized, e.classified, e.ttd_s, e.ttd_wall_s) == (
        True,
        True,
        True,
        1.0,
        0.6,
    )
    control = _scenario({"detected": False})
    assert control.is_control and control.expect.max_incidents == 0


def test_each_criterion_can_fail() -> None:
    sc = _scenario(V1)
    wrong_target = score_run(sc, _outcome(_inc(1, 6.0, _diag(3, "store_down"))))
    [e] = wrong_target.expectations
    assert e.detected and not e.localized and e.classified and not wrong_target.passed
    assert wrong_target.cross_blame == 1, "store 3 is no expectation's target"
    wrong_class = score_run(sc, _outcome(_inc(1, 6.0, _diag(2, "slow_disk"))))
    assert wrong_class.expectations[0].localized and not wrong_class.expectations[0].classified
    one_option = score_run(sc, _outcome(_inc(1, 6.0, _diag(2, "store_down", options=1))))
    assert one_option.options_ok == 0 and not one_option.passed
    bad_action = score_run(
        sc, _outcome(_inc(1, 6.0, _diag(2, "store_down", actions=(("reboot_host", {}),))))
    )
    assert bad_action.actions_ok == 0 and not bad_action.passed
    missed = score_run(sc, _outcome())
    assert not missed.expectations[0].detected and not missed.passed
    before = score_run(sc, _outcome(_inc(1, 3.0, _diag(2, "store_down"))))
    assert not before.expectations[0].detected, "opened before the fault: not this incident"
    undiagnosed = score_run(sc, _outcome(_inc(1, 6.0, None)))
    assert undiagnosed.expectations[0].detected and not undiagnosed.expectations[0].localized


def test_a_second_fault_blamed_on_the_first_is_cross_blame() -> None:
    """Store 2 killed at 5 s, a slow disk on store 3 from 20 s: each is its own incident."""
    expect = {
        "incidents": [
            {"target": 2, "root_cause_class": "store_down", "after": 5},
            {"target": 3, "root_cause_class": "slow_disk", "after": 20, "within_s": 90},
        ]
    }
    sc = _scenario(expect)
    right = score_run(
        sc,
        _outcome(
            _inc(1, 6.0, _diag(2, "store_down")), _inc(2, 80.0, _diag(3, "slow_disk"), where=3)
        ),
    )
    assert right.passed and right.cross_blame == 0
    assert [e.incident for e in right.expectations] == [1, 2]
    blamed = score_run(
        sc,
        _outcome(
            _inc(1, 6.0, _diag(2, "store_down")), _inc(2, 80.0, _diag(2, "store_down"), where=3)
        ),
    )
    assert not blamed.passed and blamed.cross_blame == 0
    assert blamed.expectations[1].detected and not blamed.expectations[1].localized
    wrong_cause = score_run(
        sc,
        _outcome(
            _inc(1, 6.0, _diag(2, "store_down")), _inc(2, 80.0, _diag(3, "store_down"), where=3)
        ),
    )
    assert wrong_cause.cross_blame == 1 and not wrong_cause.passed
    late = score_run(
        sc,
        _outcome(
            _inc(1, 6.0, _diag(2, "store_down")), _inc(2, 120.0, _diag(3, "slow_disk"), where=3)
        ),
    )
    assert not late.expectations[1].detected, "past within_s"


def test_two_incidents_for_one_fault_count_against_max_incidents() -> None:
    sc = _scenario({**V1, "max_incidents": 1})
    one = score_run(sc, _outcome(_inc(1, 6.0, _diag(2, "store_down"))))
    assert one.passed and one.extra_incidents == 0
    two = score_run(
        sc, _outcome(_inc(1, 6.0, _diag(2, "store_down")), _inc(2, 8.0, _diag(2, "store_down")))
    )
    assert two.extra_incidents == 1 and not two.passed and two.cross_blame == 0


def test_forbidden_actions_match_by_name_and_given_args() -> None:
    expect = {
        **V1,
        "forbid": [
            {"action": "set_replica_schedule_limit"},
            {"action": "drain_store", "args": {"store_id": 1}},
        ],
    }
    sc = _scenario(expect)
    fine = score_run(sc, _outcome(_inc(1, 6.0, _diag(2, "store_down"))))
    assert fine.passed and fine.forbidden_actions == 0
    lowered = _diag(2, "store_down", actions=(("set_replica_schedule_limit", {"n": 16}),))
    bad = score_run(sc, _outcome(_inc(1, 6.0, lowered)))
    assert bad.forbidden_actions == 1 and not bad.passed
    assert bad.incidents[0].forbidden == ["set_replica_schedule_limit"]
    other_store = _diag(2, "store_down", actions=(("drain_store", {"store_id": 1}),))
    assert score_run(sc, _outcome(_inc(1, 6.0, other_store))).forbidden_actions == 1


def test_optional_severity_reopens_and_lists() -> None:
    expect = {
        "incidents": [
            {"target": [1, 2], "root_cause_class": ["store_down", "network_partition"]},
            {"target": "any", "root_cause_class": "hot_region", "required": False},
            {
                "target": "cluster",
                "root_cause_class": "pd_leader_lost",
                "after": 30,
                "severity": "critical",
                "reopens": True,
            },
        ]
    }
    sc = _scenario(expect, faults=[{"kind": "kill", "at": 5, "store_id": 1}])
    good = score_run(
        sc,
        _outcome(
            _inc(1, 6.0, _diag(1, "network_partition"), where=1),
            _inc(3, 31.0, _diag("cluster", "pd_leader_lost"), where="cluster", reopens=2),
        ),
    )
    assert good.passed, good.to_dict()
    assert not good.expectations[1].detected and good.expectations[1].ok
    not_reopened = score_run(
        sc,
        _outcome(
            _inc(1, 6.0, _diag(1, "store_down"), where=1),
            _inc(3, 31.0, _diag("cluster", "pd_leader_lost"), where="cluster"),
        ),
    )
    assert not not_reopened.expectations[2].reopens_ok and not not_reopened.passed
    optional_wrong = score_run(
        sc,
        _outcome(
            _inc(1, 6.0, _diag(1, "store_down"), where=1),
            _inc(2, 9.0, _diag(2, "overload"), where=2),
            _inc(3, 31.0, _diag("cluster", "pd_leader_lost"), where="cluster", reopens=1),
        ),
    )
    assert optional_wrong.cross_blame == 1 and not optional_wrong.passed


def test_controls_summary_json_and_markdown() -> None:
    control = _scenario({"detected": False})
    quiet = score_run(control, _outcome())
    noisy = score_run(control, _outcome(_inc(1, 3.0, None), _inc(2, 5.0, None)))
    assert quiet.passed and not noisy.passed and noisy.extra_incidents == 2
    assert noisy.cross_blame == 0, "a control's incidents are counted as control incidents"
    good = score_run(_scenario(V1), _outcome(_inc(1, 6.0, _diag(2, "store_down"))))
    bad = score_run(_scenario(V1), _outcome(_inc(1, 8.0, _diag(3, "slow_disk"), where=2)))
    totals = summarize([good, bad, quiet, noisy])
    assert {k: totals[k] for k in ("scenarios", "passed", "incidents_expected")} == {
        "scenarios": 4,
        "passed": 2,
        "incidents_expected": 2,
    }
    assert (totals["incidents_detected"], totals["incidents_localized"]) == (2, 1)
    assert (totals["incidents_classified"], totals["cross_blame"]) == (1, 1)
    assert (totals["control_runs"], totals["control_incidents"]) == (2, 2)
    assert (totals["ttd_median_s"], totals["ttd_max_s"]) == (2.0, 3.0)
    doc = to_json([good, bad, quiet, noisy], "offline")
    assert set(doc) == {"backend", "summary", "scenarios"}
    assert [s["passed"] for s in doc["scenarios"]] == [True, False, True, False]
    assert doc["scenarios"][1]["incidents"][0]["cross_blame"] is True
    assert doc["scenarios"][0]["expectations"][0]["met"] is True
    md = to_markdown([good, bad, quiet, noisy], "offline")
    assert "blamed slow_disk@3 (no expectation allows it)" in md
    assert "| cross-blame | 1 |" in md
