"""Fault scenarios with their ground truth, read from TOML files.

A scenario says how to start the simulated cluster, which faults to inject
and when (seconds of simulated time after the start), how long to watch, and
what a good operator should conclude. Controls inject nothing that deserves a
ticket and expect ``detected = false``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ScenarioError(Exception):
    """A scenario file that cannot be used, worded for one line."""


class SimSettings(BaseModel):
    """How the simulated cluster is started for this scenario."""

    model_config = ConfigDict(extra="forbid")
    stores: int = Field(3, ge=1, le=1000)
    regions: int = Field(100, ge=1, le=1_000_000)
    seed: int = 42
    speed: float = Field(1.0, gt=0)
    workload: Literal["uniform", "zipfian", "hotspot"] = "zipfian"
    max_store_down_time: float = Field(1800.0, gt=0, description="PD max-store-down-time, seconds")
    qps_per_store: float | None = Field(
        None, ge=0, description="client load per store; simulator default when unset"
    )


class FaultSpec(BaseModel):
    """One injected fault (or, for controls, one benign disturbance).

    ``target`` is an alternative spelling of ``store_id`` for readability;
    ``clear_at`` (seconds after start) clears the fault again when given.
    """

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1)
    at: float = Field(0.0, ge=0)
    store_id: int | None = None
    target: int | Literal["cluster"] | None = None
    clear_at: float | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> FaultSpec:
        if self.store_id is None and isinstance(self.target, int):
            self.store_id = self.target
        elif (
            self.store_id is not None
            and isinstance(self.target, int)
            and self.target != self.store_id
        ):
            raise ValueError(
                f"fault {self.kind}: store_id {self.store_id} and target {self.target} disagree"
            )
        if self.clear_at is not None and self.clear_at <= self.at:
            raise ValueError(f"fault {self.kind}: clear_at must come after at")
        return self


Target = int | Literal["cluster", "any"] | list[int]


def target_allows(wanted: Target | None, target: int | str | None) -> bool:
    """Whether a diagnosis's ``target`` is one ``wanted`` accepts (``any`` accepts every one)."""
    if wanted == "any":
        return target is not None
    if isinstance(wanted, list):
        return target in wanted
    return target == wanted


class IncidentExpectation(BaseModel):
    """One incident the run must produce (``required``), or may produce and must get right.

    ``after`` and ``within_s`` bound when it may open (scenario seconds); ``reopens``: it
    must link to an earlier resolved incident on the same target.
    """

    model_config = ConfigDict(extra="forbid")
    target: Target
    root_cause_class: str | list[str]
    after: float = Field(0.0, ge=0)
    within_s: float | None = Field(None, gt=0)
    required: bool = True
    severity: Literal["info", "warning", "critical"] | None = None
    reopens: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> IncidentExpectation:
        if isinstance(self.target, list) and not self.target:
            raise ValueError("expect.incidents: target list is empty")
        if isinstance(self.root_cause_class, list) and not self.root_cause_class:
            raise ValueError("expect.incidents: root_cause_class list is empty")
        return self

    @property
    def classes(self) -> list[str]:
        wanted = self.root_cause_class
        return list(wanted) if isinstance(wanted, list) else [wanted]

    def allows(self, target: int | str | None, cause: str | None) -> bool:
        return target_allows(self.target, target) and cause in self.classes

    def in_window(self, opened_s: float) -> bool:
        if opened_s < self.after:
            return False
        return self.within_s is None or opened_s <= self.after + self.within_s


class ForbiddenAction(BaseModel):
    """An action no diagnosis of the run may recommend (with these ``args``, when given)."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1)
    args: dict[str, Any] | None = None

    def matches(self, action: str, args: dict[str, Any]) -> bool:
        if action != self.action:
            return False
        return self.args is None or all(args.get(k) == v for k, v in self.args.items())


class Expectation(BaseModel):
    """The ground truth.

    Format 2 lists ``incidents`` (each scored), ``forbid`` and ``max_incidents``. Format 1
    (``detected``, ``target``, ``root_cause_class``) still reads: a fault expectation becomes
    one required incident opened at or after the first fault, a control ``max_incidents = 0``.
    ``target`` may list several stores when any of them is a right answer.
    """

    model_config = ConfigDict(extra="forbid")
    detected: bool | None = None
    target: Target | None = None
    root_cause_class: str | None = None
    max_incidents: int | None = Field(None, ge=0)
    incidents: list[IncidentExpectation] = Field(default_factory=list)
    forbid: list[ForbiddenAction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Expectation:
        if self.detected and (self.target is None or self.root_cause_class is None):
            raise ValueError("expect: a detectable fault needs target and root_cause_class")
        if isinstance(self.target, list) and not self.target:
            raise ValueError("expect: target list is empty")
        if self.detected and self.incidents:
            raise ValueError(
                "expect: give either detected/target or [[expect.incidents]], not both"
            )
        if self.detected is False and self.max_incidents is None:
            self.max_incidents = 0
        return self

    def target_matches(self, target: int | str | None) -> bool:
        return target_allows(self.target, target)


class Scenario(BaseModel):
    """``recording``, instead of ``[sim]`` and ``[[faults]]``: a flight recording (a path
    relative to the scenario file) replayed through today's invariants, incident grouping
    and diagnosis; scenario time 0 is its first tick plus ``warmup``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    recording: str | None = None
    sim: SimSettings = Field(default_factory=SimSettings)
    faults: list[FaultSpec] = Field(default_factory=list)
    duration: float = Field(gt=0, description="simulated seconds to watch after the start")
    warmup: float = Field(
        10.0, ge=0, description="simulated seconds of normal running before time 0 of the faults"
    )
    expect: Expectation

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.recording is not None and ("sim" in self.model_fields_set or self.faults):
            raise ValueError("recording: a recorded scenario has no [sim] and no [[faults]]")
        for fault in self.faults:
            if fault.at >= self.duration:
                raise ValueError(
                    f"fault {fault.kind} at {fault.at}s starts after the duration ({self.duration}s)"
                )
        if self.expect.detected and not self.faults:
            raise ValueError("expect.detected is true but the scenario injects no fault")
        for want in self.expect.incidents:
            if want.after >= self.duration:
                raise ValueError(
                    f"expect.incidents: after {want.after}s is past the duration ({self.duration}s)"
                )
        return self

    @property
    def incidents(self) -> list[IncidentExpectation]:
        """Every incident expectation, format 1's single one included."""
        expect = self.expect
        if expect.incidents or not expect.detected:
            return list(expect.incidents)
        assert expect.target is not None and expect.root_cause_class is not None
        return [
            IncidentExpectation(
                target=expect.target,
                root_cause_class=expect.root_cause_class,
                after=self.first_fault_at or 0.0,
            )
        ]

    @property
    def is_control(self) -> bool:
        """A run that expects no incident at all."""
        return not self.incidents and self.expect.max_incidents == 0

    @property
    def first_fault_at(self) -> float | None:
        return min((f.at for f in self.faults), default=None)


def with_seeds(scenarios: list[Scenario], repeat: int) -> list[Scenario]:
    """Each scenario ``repeat`` times with seeds ``seed, seed+1, ...``; copies are named ``name#k``."""
    if repeat <= 1:
        return list(scenarios)
    out = []
    for scenario in scenarios:
        for k in range(repeat):
            sim = scenario.sim.model_copy(update={"seed": scenario.sim.seed + k})
            out.append(scenario.model_copy(update={"name": f"{scenario.name}#{k + 1}", "sim": sim}))
    return out


def load_scenario(path: Path) -> Scenario:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ())) or "scenario"
        msg = err.get("msg", "invalid value").removeprefix("Value error, ")
        raise ScenarioError(f"{path}: {loc}: {msg}") from None
    if scenario.recording is not None:
        recording = path.parent / scenario.recording
        if not recording.is_file():
            raise ScenarioError(f"{path}: recording: no file at {recording}")
        scenario.recording = str(recording)
    return scenario


def load_suite(path: Path) -> list[Scenario]:
    """One file, or every ``*.toml`` of a directory in name order; names must be unique."""
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise ScenarioError(f"no *.toml scenario in {path}")
    elif path.is_file():
        files = [path]
    else:
        raise ScenarioError(f"scenario path not found: {path}")
    scenarios = [load_scenario(f) for f in files]
    seen: dict[str, Path] = {}
    for scenario, file in zip(scenarios, files, strict=True):
        if scenario.name in seen:
            raise ScenarioError(
                f"scenario name {scenario.name!r} used by both {seen[scenario.name]} and {file}"
            )
        seen[scenario.name] = file
    return scenarios
