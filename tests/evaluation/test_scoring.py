"""Scoring rules on hand-made outcomes (no simulator)."""

from __future__ import annotations

from typing import Any

from operator_tui.evaluation.report import to_json, to_markdown
from operator_tui.evaluation.scenario import Scenario
from operator_tui.evaluation.scoring import RunOutcome, TicketObservation, score_run, summarize

DECLARED = ["transfer_leader", "drain_store", "set_replica_schedule_limit"]


def _scenario(**expect: Any) -> Scenario:
    faults = [{"kind": "kill", "at": 5, "store_id": 2}] if expect.get("detected") else []
    return Scenario.model_validate(
        {"name": "s", "duration": 30, "faults": faults, "expect": expect}
    )


def _diag(
    target: Any, cls: str, options: int = 2, actions: tuple[str, ...] = ("drain_store",)
) -> dict[str, Any]:
    return {
        "target": target,
        "root_cause_class": cls,
        "options_considered": [
            {"option": f"o{i}", "rejected_because": "r"} for i in range(options)
        ],
        "recommended_actions": [{"action": a, "args": {}, "rationale": "r"} for a in actions],
    }


def _ticket(
    tid: int, at: float, diag: dict[str, Any] | None, severity: str = "critical"
) -> TicketObservation:
    return TicketObservation(
        ticket_id=tid,
        invariant="store_down",
        target="store-2",
        store_id=2,
        severity=severity,
        opened_sim_s=at,
        opened_wall_s=at / 10,
        diagnosis=diag,
    )


def _outcome(*tickets: TicketObservation) -> RunOutcome:
    return RunOutcome(
        scenario="s", backend="offline", tickets=list(tickets), declared_actions=DECLARED
    )


FAULT = {"detected": True, "target": 2, "root_cause_class": "store_down"}


def test_correct_diagnosis_passes() -> None:
    s = score_run(_scenario(**FAULT), _outcome(_ticket(1, 2.0, _diag(2, "store_down"))))
    assert s.passed
    assert (s.detected, s.localized, s.root_cause_ok, s.options_ok, s.actions_ok) == (True,) * 5
    assert s.ttd_sim_s == 2.0
    assert s.ttd_wall_s == 0.2


def test_each_criterion_can_fail() -> None:
    sc = _scenario(**FAULT)
    wrong_target = score_run(sc, _outcome(_ticket(1, 2.0, _diag(3, "store_down"))))
    assert not wrong_target.localized and wrong_target.root_cause_ok and not wrong_target.passed
    wrong_class = score_run(sc, _outcome(_ticket(1, 2.0, _diag(2, "slow_disk"))))
    assert wrong_class.localized and not wrong_class.root_cause_ok
    one_option = score_run(sc, _outcome(_ticket(1, 2.0, _diag(2, "store_down", options=1))))
    assert not one_option.options_ok and not one_option.passed
    bad_action = score_run(
        sc, _outcome(_ticket(1, 2.0, _diag(2, "store_down", actions=("reboot_host",))))
    )
    assert not bad_action.actions_ok and bad_action.actions == ["reboot_host"]
    missed = score_run(sc, _outcome())
    assert not missed.detected and missed.ttd_sim_s is None and not missed.passed
    undiagnosed = score_run(sc, _outcome(_ticket(1, 2.0, None)))
    assert undiagnosed.detected and not undiagnosed.diagnosed and not undiagnosed.localized


def test_primary_ticket_is_first_after_fault_then_most_severe() -> None:
    sc = _scenario(**FAULT)
    early = _ticket(1, -3.0, _diag(2, "store_down"))
    warn = _ticket(3, 4.0, _diag(1, "hot_region"), severity="warning")
    crit = _ticket(2, 4.0, _diag(2, "store_down"))
    late = _ticket(4, 9.0, _diag(1, "overload"))
    s = score_run(sc, _outcome(early, warn, crit, late))
    assert s.false_alarms == 1
    assert s.localized and s.root_cause_ok and s.ttd_sim_s == 4.0
    assert not s.passed


def test_controls_and_totals() -> None:
    control = _scenario(detected=False)
    quiet = score_run(control, _outcome())
    noisy = score_run(control, _outcome(_ticket(1, 3.0, None), _ticket(2, 5.0, None)))
    assert quiet.passed and not noisy.passed and noisy.false_alarms == 2
    good = score_run(_scenario(**FAULT), _outcome(_ticket(1, 1.0, _diag(2, "store_down"))))
    bad = score_run(_scenario(**FAULT), _outcome(_ticket(1, 3.0, _diag(3, "slow_disk"))))
    totals = summarize([good, bad, quiet, noisy])
    assert totals["detection"] == 1.0
    assert totals["localization"] == 0.5
    assert totals["root_cause"] == 0.5
    assert totals["false_alarms"] == 2
    assert totals["controls_with_tickets"] == 1
    assert totals["median_ttd_sim_s"] == 2.0
    assert totals["targets"]["detection"]["met"]
    assert not totals["targets"]["localization"]["met"]
    assert not totals["targets"]["false_alarms"]["met"]
    doc = to_json([good, bad, quiet, noisy], "offline")
    assert [s["passed"] for s in doc["scenarios"]] == [True, False, True, False]
    md = to_markdown([good, bad, quiet, noisy], "offline")
    assert "2 FALSE ALARM" in md and "| localization | 50% | >= 95% | NO |" in md
