"""Scores one run against its scenario's ground truth, and a suite against the targets.

The criteria follow AIOpsLab's split: detection (and time to detect),
localization (the diagnosis names the faulty store), root cause (the class
matches), plus two checks of the diagnosis itself: at least two options were
weighed, and every recommended action is one the subject declares.

The ticket scored is the first one opened at or after the first fault (ties:
most severe, then lowest id), which is what an operator would read first;
any ticket before the fault, or any ticket at all in a control, is a false alarm.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from operator_tui.core.types import Severity
from operator_tui.evaluation.scenario import Scenario

MIN_OPTIONS = 2


@dataclass(slots=True)
class TicketObservation:
    """A ticket the monitor opened during a run; times are relative to the first fault."""

    ticket_id: int
    invariant: str
    target: str
    store_id: int | None
    severity: str
    opened_sim_s: float
    opened_wall_s: float
    diagnosis: dict[str, Any] | None = None
    diagnosis_error: str | None = None
    message: str = ""


@dataclass(slots=True)
class IncidentObservation:
    """An incident the monitor opened during a run, as its last event left it; times are
    relative to the first fault."""

    incident_id: int
    target: str
    store_id: int | None
    cause: str
    severity: str
    opened_sim_s: float
    tickets: list[int] = field(default_factory=list)
    status: str = "open"
    previous_incident_id: int | None = None


@dataclass(slots=True)
class RunOutcome:
    """What happened in one scenario run, before any judgement."""

    scenario: str
    backend: str
    tickets: list[TicketObservation] = field(default_factory=list)
    incidents: list[IncidentObservation] = field(default_factory=list)
    declared_actions: list[str] = field(default_factory=list)
    sim_seconds: float = 0.0
    wall_seconds: float = 0.0
    ticks: int = 0
    error: str | None = None


@dataclass(slots=True)
class ScenarioScore:
    scenario: str
    control: bool
    expected_target: Any
    expected_class: str | None
    detected: bool
    false_alarms: int
    ttd_sim_s: float | None = None
    ttd_wall_s: float | None = None
    ticket_invariant: str | None = None
    diagnosed: bool = False
    target: Any = None
    root_cause_class: str | None = None
    localized: bool | None = None
    root_cause_ok: bool | None = None
    options: int = 0
    options_ok: bool | None = None
    actions: list[str] = field(default_factory=list)
    actions_ok: bool | None = None
    error: str | None = None
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        if self.error is not None:
            return False
        if self.control:
            return self.false_alarms == 0
        return bool(
            self.detected
            and self.false_alarms == 0
            and self.localized
            and self.root_cause_ok
            and self.options_ok
            and self.actions_ok
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def _severity_rank(value: str) -> int:
    try:
        return Severity(value).rank
    except ValueError:
        return -1


def primary_ticket(tickets: list[TicketObservation]) -> TicketObservation | None:
    after = [t for t in tickets if t.opened_sim_s >= 0]
    if not after:
        return None
    return min(after, key=lambda t: (t.opened_sim_s, -_severity_rank(t.severity), t.ticket_id))


def score_run(scenario: Scenario, outcome: RunOutcome) -> ScenarioScore:
    expect = scenario.expect
    control = scenario.is_control
    if control:
        false_alarms = len(outcome.tickets)
    else:
        false_alarms = sum(1 for t in outcome.tickets if t.opened_sim_s < 0)
    score = ScenarioScore(
        scenario=scenario.name,
        control=control,
        expected_target=expect.target,
        expected_class=expect.root_cause_class,
        detected=False,
        false_alarms=false_alarms,
        error=outcome.error,
        wall_seconds=round(outcome.wall_seconds, 3),
    )
    if control:
        score.detected = bool(outcome.tickets)
        return score
    ticket = primary_ticket(outcome.tickets)
    score.localized = False
    score.root_cause_ok = False
    score.options_ok = False
    score.actions_ok = False
    if ticket is None:
        return score
    score.detected = True
    score.ttd_sim_s = round(ticket.opened_sim_s, 3)
    score.ttd_wall_s = round(ticket.opened_wall_s, 3)
    score.ticket_invariant = ticket.invariant
    diagnosis = ticket.diagnosis
    if diagnosis is None:
        if ticket.diagnosis_error and score.error is None:
            score.error = f"diagnosis failed: {ticket.diagnosis_error}"
        return score
    score.diagnosed = True
    score.target = diagnosis.get("target")
    score.root_cause_class = diagnosis.get("root_cause_class")
    score.localized = expect.target_matches(score.target)
    score.root_cause_ok = score.root_cause_class == expect.root_cause_class
    score.options = len(diagnosis.get("options_considered") or [])
    score.options_ok = score.options >= MIN_OPTIONS
    score.actions = [str(a.get("action")) for a in diagnosis.get("recommended_actions") or []]
    declared = set(outcome.declared_actions)
    score.actions_ok = all(a in declared for a in score.actions)
    return score


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    goal: str


TARGETS = (
    Target("detection", "100%"),
    Target("false_alarms", "0"),
    Target("localization", ">= 95%"),
    Target("root_cause", ">= 90%"),
    Target("median_ttd_sim_s", "<= 2 s"),
)


def _rate(hits: int, total: int) -> float | None:
    return None if total == 0 else round(hits / total, 4)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def summarize(scores: list[ScenarioScore]) -> dict[str, Any]:
    """Suite totals and, for each target, the measured figure and whether it is met."""
    faults = [s for s in scores if not s.control]
    controls = [s for s in scores if s.control]
    diagnosed = [s for s in faults if s.diagnosed]
    ttd_sim = [s.ttd_sim_s for s in faults if s.ttd_sim_s is not None]
    ttd_wall = [s.ttd_wall_s for s in faults if s.ttd_wall_s is not None]
    false_alarms = sum(s.false_alarms for s in scores)
    totals: dict[str, Any] = {
        "scenarios": len(scores),
        "fault_scenarios": len(faults),
        "controls": len(controls),
        "passed": sum(1 for s in scores if s.passed),
        "errors": sum(1 for s in scores if s.error is not None),
        "detection": _rate(sum(1 for s in faults if s.detected), len(faults)),
        "false_alarms": false_alarms,
        "controls_with_tickets": sum(1 for s in controls if s.false_alarms),
        "localization": _rate(sum(1 for s in faults if s.localized), len(faults)),
        "root_cause": _rate(sum(1 for s in faults if s.root_cause_ok), len(faults)),
        "options_ok": _rate(sum(1 for s in diagnosed if s.options_ok), len(diagnosed)),
        "actions_ok": _rate(sum(1 for s in diagnosed if s.actions_ok), len(diagnosed)),
        "median_ttd_sim_s": _median(ttd_sim),
        "median_ttd_wall_s": _median(ttd_wall),
        "max_ttd_sim_s": max(ttd_sim, default=None),
        "wall_seconds": round(sum(s.wall_seconds for s in scores), 3),
    }
    met = {
        "detection": totals["detection"] is not None and totals["detection"] >= 1.0,
        "false_alarms": false_alarms == 0,
        "localization": totals["localization"] is not None and totals["localization"] >= 0.95,
        "root_cause": totals["root_cause"] is not None and totals["root_cause"] >= 0.90,
        "median_ttd_sim_s": totals["median_ttd_sim_s"] is not None
        and totals["median_ttd_sim_s"] <= 2.0,
    }
    totals["targets"] = {
        t.name: {"goal": t.goal, "value": totals[t.name], "met": met[t.name]} for t in TARGETS
    }
    return totals
