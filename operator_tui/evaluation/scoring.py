"""Scores one run against its scenario's ground truth, every incident of it, and a suite in sum.

The criteria follow AIOpsLab's split, per expected incident: detection (and time to
detect), localization (the diagnosis names the expected target), root cause (the class is
one the expectation allows). Then what a single first-ticket score hid:

* **cross-blame**: an incident whose diagnosis names a target and class that no
  expectation of the scenario allows (a second fault blamed on the first, one fault's
  symptom given another's cause);
* **forbidden actions**: a diagnosis recommending an action the scenario forbids;
* **extra incidents**: more incidents than ``max_incidents`` allows (a control allows none).

Each diagnosis must also weigh at least two options and recommend only declared actions.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from operator_tui.core.types import Severity
from operator_tui.evaluation.scenario import IncidentExpectation, Scenario, target_allows

MIN_OPTIONS = 2


@dataclass(slots=True)
class TicketObservation:
    """A ticket the monitor opened during a run; ``opened_s`` is scenario time."""

    ticket_id: int
    invariant: str
    target: str
    store_id: int | None
    severity: str
    opened_s: float
    opened_wall_s: float
    message: str = ""


@dataclass(slots=True)
class Usage:
    """What the diagnoses of a run cost: finished diagnoses, their tool calls, the tokens the
    Messages API reported and the estimated price (None while nothing reported one)."""

    diagnoses: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None

    def add_finished(self, data: dict[str, Any]) -> None:
        self.diagnoses += 1
        self.tool_calls += len(data.get("investigation") or [])
        self.input_tokens += int(data.get("input_tokens") or 0)
        self.output_tokens += int(data.get("output_tokens") or 0)
        if data.get("cost_usd") is not None:
            self.cost_usd = (self.cost_usd or 0.0) + float(data["cost_usd"])

    def add(self, other: Usage) -> None:
        self.diagnoses += other.diagnoses
        self.tool_calls += other.tool_calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd


@dataclass(slots=True)
class IncidentObservation:
    """An incident of the run: the tickets that share one cause, and its diagnosis.

    ``targets``: where its tickets point (store ids, or ``"cluster"``); ``reopens``: the
    earlier incident it links to, if any.
    """

    incident_id: int
    opened_s: float
    opened_wall_s: float
    severity: str
    targets: list[int | str] = field(default_factory=list)
    tickets: list[int] = field(default_factory=list)
    reopens: int | None = None
    diagnosis: dict[str, Any] | None = None
    diagnosis_error: str | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def diagnosed_target(self) -> Any:
        return None if self.diagnosis is None else self.diagnosis.get("target")

    @property
    def diagnosed_class(self) -> str | None:
        return None if self.diagnosis is None else self.diagnosis.get("root_cause_class")

    @property
    def actions(self) -> list[tuple[str, dict[str, Any]]]:
        found = (self.diagnosis or {}).get("recommended_actions") or []
        return [(str(a.get("action")), dict(a.get("args") or {})) for a in found]


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
class ExpectationScore:
    """How one expected incident fared; ``incident`` is the one matched to it."""

    target: Any
    root_cause_class: Any
    after: float
    required: bool
    incident: int | None = None
    detected: bool = False
    localized: bool = False
    classified: bool = False
    severity_ok: bool = True
    reopens_ok: bool = True
    ttd_s: float | None = None
    ttd_wall_s: float | None = None
    diagnosed_target: Any = None
    diagnosed_class: str | None = None

    @property
    def met(self) -> bool:
        return (
            self.detected
            and self.localized
            and self.classified
            and self.severity_ok
            and self.reopens_ok
        )

    @property
    def ok(self) -> bool:
        """Required: met. Optional: met, or never seen at all."""
        return self.met or (not self.required and not self.detected)


@dataclass(slots=True)
class IncidentScore:
    """One incident as the report lists it: what it said, and what it was judged to be."""

    incident_id: int
    opened_s: float
    severity: str
    tickets: list[int]
    target: Any
    root_cause_class: str | None
    expectation: int | None = None
    cross_blame: bool = False
    forbidden: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class ScenarioScore:
    scenario: str
    control: bool
    expectations: list[ExpectationScore] = field(default_factory=list)
    incidents: list[IncidentScore] = field(default_factory=list)
    max_incidents: int | None = None
    cross_blame: int = 0
    forbidden_actions: int = 0
    extra_incidents: int = 0
    diagnosed: int = 0
    options_ok: int = 0
    actions_ok: int = 0
    error: str | None = None
    wall_seconds: float = 0.0
    usage: Usage = field(default_factory=Usage)

    @property
    def passed(self) -> bool:
        if self.error is not None:
            return False
        return (
            all(e.ok for e in self.expectations)
            and self.cross_blame == 0
            and self.forbidden_actions == 0
            and self.extra_incidents == 0
            and self.options_ok == self.diagnosed
            and self.actions_ok == self.diagnosed
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for e, d in zip(self.expectations, out["expectations"], strict=True):
            d["met"] = e.met
        return {**out, "passed": self.passed}


def _severity_rank(value: str) -> int:
    try:
        return Severity(value).rank
    except ValueError:
        return -1


def _observed(want: IncidentExpectation, incident: IncidentObservation) -> bool:
    """The incident points where the expectation does, by its tickets or its diagnosis."""
    seen = [*incident.targets, incident.diagnosed_target]
    return any(target_allows(want.target, t) for t in seen)


def _match(
    expectations: list[IncidentExpectation], incidents: list[IncidentObservation]
) -> dict[int, int]:
    """Expectation index -> incident index.

    First every expectation takes an incident in its window whose diagnosis it allows, then
    the ones left take an incident that points at their target; required expectations choose
    before optional ones, earlier ones before later, and each takes the earliest it can.
    """
    taken: set[int] = set()
    matched: dict[int, int] = {}
    order = sorted(
        range(len(expectations)),
        key=lambda i: (not expectations[i].required, expectations[i].after, i),
    )
    for fits in (
        lambda want, inc: want.allows(inc.diagnosed_target, inc.diagnosed_class),
        _observed,
    ):
        for i in order:
            if i in matched:
                continue
            want = expectations[i]
            candidates = [
                j
                for j, inc in enumerate(incidents)
                if j not in taken and want.in_window(inc.opened_s) and fits(want, inc)
            ]
            if candidates:
                matched[i] = candidates[0]
                taken.add(candidates[0])
    return matched


def _expectation(
    want: IncidentExpectation, incident: IncidentObservation | None
) -> ExpectationScore:
    score = ExpectationScore(
        target=want.target,
        root_cause_class=want.root_cause_class,
        after=want.after,
        required=want.required,
    )
    if incident is None:
        return score
    score.incident = incident.incident_id
    score.detected = True
    score.ttd_s = round(incident.opened_s - want.after, 3)
    score.ttd_wall_s = incident.opened_wall_s if incident.opened_wall_s >= 0 else None
    score.diagnosed_target = incident.diagnosed_target
    score.diagnosed_class = incident.diagnosed_class
    score.localized = incident.diagnosis is not None and target_allows(
        want.target, incident.diagnosed_target
    )
    score.classified = incident.diagnosed_class in want.classes
    if want.severity is not None:
        score.severity_ok = incident.severity == want.severity
    if want.reopens is not None:
        score.reopens_ok = (incident.reopens is not None) == want.reopens
    return score


def score_run(scenario: Scenario, outcome: RunOutcome) -> ScenarioScore:
    expectations = scenario.incidents
    incidents = sorted(outcome.incidents, key=lambda i: (i.opened_s, i.incident_id))
    matched = _match(expectations, incidents)
    by_incident = {j: i for i, j in matched.items()}
    score = ScenarioScore(
        scenario=scenario.name,
        control=scenario.is_control,
        max_incidents=scenario.expect.max_incidents,
        error=outcome.error,
        wall_seconds=round(outcome.wall_seconds, 3),
    )
    score.expectations = [
        _expectation(want, incidents[matched[i]] if i in matched else None)
        for i, want in enumerate(expectations)
    ]
    declared = set(outcome.declared_actions)
    for j, inc in enumerate(incidents):
        score.usage.add(inc.usage)
        judged = IncidentScore(
            incident_id=inc.incident_id,
            opened_s=inc.opened_s,
            severity=inc.severity,
            tickets=list(inc.tickets),
            target=inc.diagnosed_target,
            root_cause_class=inc.diagnosed_class,
            expectation=by_incident.get(j),
            error=inc.diagnosis_error,
        )
        if inc.diagnosis is not None:
            score.diagnosed += 1
            judged.cross_blame = not scenario.is_control and not any(
                want.allows(inc.diagnosed_target, inc.diagnosed_class) for want in expectations
            )
            options = len(inc.diagnosis.get("options_considered") or [])
            score.options_ok += options >= MIN_OPTIONS
            score.actions_ok += all(name in declared for name, _ in inc.actions)
            judged.forbidden = [
                name
                for name, args in inc.actions
                if any(rule.matches(name, args) for rule in scenario.expect.forbid)
            ]
        elif inc.diagnosis_error and score.error is None:
            score.error = f"incident {inc.incident_id}: diagnosis failed: {inc.diagnosis_error}"
        score.cross_blame += judged.cross_blame
        score.forbidden_actions += len(judged.forbidden)
        score.incidents.append(judged)
    if score.max_incidents is not None:
        score.extra_incidents = max(0, len(incidents) - score.max_incidents)
    return score


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _rate(hits: int, total: int) -> float | None:
    return None if total == 0 else round(hits / total, 4)


def summarize(scores: list[ScenarioScore]) -> dict[str, Any]:
    """Suite totals over every run (each seed of ``--repeat`` counts)."""
    expected = [e for s in scores for e in s.expectations if e.required]
    controls = [s for s in scores if s.control]
    ttd = [e.ttd_s for e in expected if e.ttd_s is not None]
    ttd_wall = [e.ttd_wall_s for e in expected if e.ttd_wall_s is not None]
    diagnosed = sum(s.diagnosed for s in scores)
    usage = Usage()
    for s in scores:
        usage.add(s.usage)
    return {
        "scenarios": len(scores),
        "passed": sum(1 for s in scores if s.passed),
        "errors": sum(1 for s in scores if s.error is not None),
        "incidents_expected": len(expected),
        "incidents_detected": sum(1 for e in expected if e.detected),
        "incidents_localized": sum(1 for e in expected if e.localized),
        "incidents_classified": sum(1 for e in expected if e.classified),
        "incidents_met": sum(1 for e in expected if e.met),
        "cross_blame": sum(s.cross_blame for s in scores),
        "forbidden_actions": sum(s.forbidden_actions for s in scores),
        "extra_incidents": sum(s.extra_incidents for s in scores),
        "control_runs": len(controls),
        "control_incidents": sum(len(s.incidents) for s in controls),
        "ttd_median_s": _median(ttd),
        "ttd_max_s": max(ttd, default=None),
        "ttd_wall_median_s": _median(ttd_wall),
        "options_ok": _rate(sum(s.options_ok for s in scores), diagnosed),
        "actions_ok": _rate(sum(s.actions_ok for s in scores), diagnosed),
        "wall_seconds": round(sum(s.wall_seconds for s in scores), 3),
        "tool_calls": usage.tool_calls,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": None if usage.cost_usd is None else round(usage.cost_usd, 6),
    }
