"""Runs a scenario: the simulated cluster, the subject, the monitor and the diagnoser, composed here.

The simulated cluster is the subject plugin's ``SimHarness``: the runner knows no subject.
It builds the same ``OperatorRuntime`` the front ends use, but drives
it itself so that time is deterministic: with the default ``manual`` clock the
simulator advances only when told, one monitor interval at a time, and every
clock the operator reads (snapshot times, grace periods, ticket times, metric
rates) is the simulator's. Each ticket opened is diagnosed right after the
tick that opened it, before simulated time moves on, and every run goes to its
duration (a second fault, a symptom that joins late, an action that does harm all
come after the first diagnosis). The ``realtime`` clock
lets the simulator run at its own speed instead (the alert baseline needs it,
because Prometheus evaluates ``for:`` in wall time).

Scenario time 0 is the end of the warm-up; fault times count from there.
Ticks fall on the grid ``k * interval`` of scenario time; a fault due at the
same instant as a tick is injected just after it (the conservative order).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from operator_tui import __version__, bootstrap
from operator_tui.config import ConfigError, Settings, section_with
from operator_tui.core.diagnosis import backends
from operator_tui.core.diagnosis.base import Diagnoser
from operator_tui.core.events import Event, Subscription
from operator_tui.core.harness import HarnessError, HarnessOptions, SimHarness
from operator_tui.core.recorder import Recorder
from operator_tui.core.recording import RecordingError
from operator_tui.core.registry import load_plugin
from operator_tui.core.runtime import OperatorRuntime
from operator_tui.core.subject import SubjectContext, SubjectError
from operator_tui.core.tickets import TicketStore
from operator_tui.evaluation.scenario import FaultSpec, Scenario
from operator_tui.evaluation.scoring import (
    IncidentObservation,
    RunOutcome,
    ScenarioScore,
    TicketObservation,
    score_run,
)

log = logging.getLogger(__name__)

NS = 1_000_000_000


class EvalError(Exception):
    """The evaluation cannot run at all (no simulator, bad backend); one line."""


class RunHooks(Protocol):
    """What the alert baseline plugs into a run; every method may be a no-op."""

    async def started(self, harness: SimHarness) -> None: ...
    async def fault_injected(self, fault: FaultSpec, sim_s: float) -> None: ...
    async def stepped(self, sim_s: float, detected: bool) -> bool:
        """After each tick: scenario time, and whether a ticket opened since the first fault.

        Return True to stop the run early.
        """
        ...

    async def finished(self) -> None: ...


@dataclass(slots=True)
class RunOptions:
    backend: Literal["offline", "claude"] = "offline"
    clock: Literal["manual", "realtime"] = "manual"
    interval_s: float | None = None
    diagnosis_timeout_s: float = 180.0
    scenario_wall_timeout_s: float = 240.0
    stop_when_diagnosed: bool = False
    subject: str = "tikv"
    subject_options: dict[str, Any] = field(default_factory=dict)
    hooks: RunHooks | None = None
    record: Path | None = None
    """Record the run (ticks, events) to this new flight-recorder file."""


def make_diagnoser(backend: str, settings: Settings, subject: str = "tikv") -> Diagnoser:
    """The diagnoser for ``backend`` (``offline``: the evaluated subject's rules, or ``claude``),
    whatever the settings say."""
    if backend not in backends.RUNNABLE:
        raise EvalError(f"unknown backend {backend!r} ({', '.join(backends.RUNNABLE)})")
    diagnosis = settings.diagnosis.model_copy(update={"backend": backend})
    try:
        return bootstrap.make_diagnoser(
            settings.model_copy(update={"diagnosis": diagnosis}), load_plugin(subject)
        )
    except (ConfigError, SubjectError) as exc:
        raise EvalError(str(exc)) from None


class _Timeline:
    """Scenario time over the harness's clock, and the step that moves it."""

    def __init__(self, harness: SimHarness, clock: str, speed: float) -> None:
        self.harness = harness
        self.clock = clock
        self.speed = speed
        self.zero_ns = harness.now_ns()

    def set_zero_after(self, seconds: float) -> None:
        self.zero_ns = self.harness.now_ns() + int(seconds * NS)

    @property
    def now_s(self) -> float:
        return (self.harness.now_ns() - self.zero_ns) / NS

    def sim_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.harness.now_ns() / NS, UTC)

    def sim_seconds(self) -> float:
        return self.harness.now_ns() / NS

    async def advance_to(self, target_s: float) -> None:
        if self.clock == "manual":
            gap = target_s - self.now_s
            if gap > 0:
                await self.harness.advance(gap)
            return
        # The simulator's own clock task moves time; poll it, bounded by the wall time it should take.
        deadline = time.monotonic() + max(0.0, target_s - self.now_s) / self.speed + 5.0
        for _ in range(1_000_000):
            if self.now_s >= target_s or time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(0.05, max(0.005, (target_s - self.now_s) / self.speed)))


class Injector:
    """Applies and clears the faults of a scenario through the harness; remembers what to undo."""

    def __init__(self, harness: SimHarness) -> None:
        self.harness = harness
        self.active: dict[int, str] = {}

    async def inject(self, index: int, fault: FaultSpec) -> None:
        try:
            self.active[index] = await self.harness.add_fault(
                fault.kind, fault.store_id, fault.params
            )
        except HarnessError as exc:
            raise EvalError(str(exc)) from None
        except Exception as exc:
            raise EvalError(f"cannot inject fault {fault.kind}: {exc}") from None

    async def clear(self, index: int) -> None:
        fault_id = self.active.pop(index, None)
        if fault_id is not None:
            await self.harness.clear_fault(fault_id)


def harness_options(scenario: Scenario, clock: str) -> HarnessOptions:
    """The scenario's ``[sim]`` table for the subject's harness; speed counts only in real time."""
    sim = scenario.sim
    return HarnessOptions(
        stores=sim.stores,
        seed=sim.seed,
        speed=sim.speed if clock == "realtime" else 1.0,
        manual_clock=clock == "manual",
        params=sim.model_dump(exclude={"stores", "seed", "speed"}),
    )


def _events(sub: Subscription) -> list[Event]:
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


async def run_scenario(
    scenario: Scenario, settings: Settings, options: RunOptions | None = None
) -> RunOutcome:
    """Run one scenario end to end; any failure of the run is recorded in ``RunOutcome.error``."""
    options = options or RunOptions()
    diagnoser = make_diagnoser(options.backend, settings, options.subject)
    outcome = RunOutcome(scenario=scenario.name, backend=options.backend)
    started = time.monotonic()
    try:
        async with asyncio.timeout(options.scenario_wall_timeout_s):
            await _run(scenario, settings, options, diagnoser, outcome)
    except TimeoutError:
        outcome.error = f"run exceeded {options.scenario_wall_timeout_s:g} s of wall time"
    except (EvalError, SubjectError, HarnessError) as exc:
        outcome.error = str(exc)
    except Exception as exc:
        # A bug below (simulator, subject, core) fails this scenario, not the whole suite.
        log.debug("scenario %s crashed", scenario.name, exc_info=True)
        outcome.error = f"crashed: {type(exc).__name__}: {exc}"
    finally:
        outcome.wall_seconds = time.monotonic() - started
        close = getattr(diagnoser, "aclose", None)
        if close is not None:
            await close()
    return outcome


async def _run(
    scenario: Scenario,
    settings: Settings,
    options: RunOptions,
    diagnoser: Diagnoser,
    outcome: RunOutcome,
) -> None:
    if scenario.recording is not None:
        await _replay(scenario, settings, diagnoser, outcome)
        return
    plugin = load_plugin(options.subject)
    interval = options.interval_s or settings.monitor.interval_s
    run = harness_options(scenario, options.clock)
    harness = plugin.harness(run)
    if harness is None:
        raise EvalError(f"subject {plugin.name} has no simulated cluster to evaluate on")
    hooks = options.hooks
    with tempfile.TemporaryDirectory(prefix="operator-eval-") as tmp:
        async with (
            harness,
            httpx.AsyncClient(timeout=bootstrap.HTTP_TIMEOUT) as http,
        ):
            timeline = _Timeline(harness, options.clock, run.speed)
            try:
                section = section_with(
                    plugin.settings_model(),
                    {**harness.subject_settings(), **options.subject_options},
                )
            except ConfigError as exc:
                raise EvalError(f"subject options: {exc}") from None
            ctx = SubjectContext(
                http=http,
                settings=section,
                interval_s=interval,
                clock=timeline.sim_datetime if options.clock == "manual" else None,
            )
            subject = plugin.create(ctx)
            declared = subject.describe()
            outcome.declared_actions = [a.name for a in declared.actions]
            unknown = sorted(
                {c for want in scenario.incidents for c in want.classes}
                - set(declared.root_cause_classes)
            )
            if unknown:
                await subject.aclose()
                raise EvalError(
                    f"expect: root_cause_class {', '.join(map(repr, unknown))} is not one of "
                    f"subject {subject.name}'s classes ({', '.join(declared.root_cause_classes)})"
                )
            run_options = replace(
                bootstrap.runtime_options(settings), interval_s=interval, actions_mode="observe"
            )
            store = await TicketStore.open(Path(tmp) / "tickets.db", subject=subject.name)
            try:
                runtime = OperatorRuntime(
                    run_options,
                    subject,
                    store,
                    diagnoser,
                    clock=timeline.sim_datetime
                    if options.clock == "manual"
                    else lambda: datetime.now(UTC),
                )
                sub = runtime.bus.subscribe()
                recorder = None
                if options.record is not None:
                    recorder = Recorder(
                        options.record,
                        {
                            "operator_version": __version__,
                            "subject": subject.name,
                            "interval_s": interval,
                            "scenario": scenario.name,
                            "subject_settings": section.model_dump(mode="json"),
                        },
                    )
                    runtime.record_to(recorder)
                try:
                    if hooks is not None:
                        await hooks.started(harness)
                    await _drive(
                        scenario,
                        options,
                        runtime,
                        sub,
                        timeline,
                        Injector(harness),
                        outcome,
                        interval,
                    )
                finally:
                    sub.close()
                    await runtime.aclose()
                    if recorder is not None:
                        await recorder.aclose()
                    if hooks is not None:
                        await hooks.finished()
            finally:
                await store.aclose()
                await subject.aclose()


async def _drive(
    scenario: Scenario,
    options: RunOptions,
    runtime: OperatorRuntime,
    sub: Subscription,
    timeline: _Timeline,
    injector: Injector,
    outcome: RunOutcome,
    interval: float,
) -> None:
    timeline.set_zero_after(scenario.warmup)
    first_fault = scenario.first_fault_at
    origin = first_fault if first_fault is not None else 0.0
    wall_origin: float | None = None
    # (time, order, action, index): ticks sort before faults at the same instant.
    plan: list[tuple[float, int, str, int]] = []
    for i, fault in enumerate(scenario.faults):
        plan.append((fault.at, 1, "inject", i))
        if fault.clear_at is not None and fault.clear_at < scenario.duration:
            plan.append((fault.clear_at, 1, "clear", i))
    k = -int(scenario.warmup // interval)
    while k * interval <= scenario.duration:
        plan.append((k * interval, 0, "tick", k))
        k += 1
    plan.sort()
    seen = Seen()
    for at, _order, action, index in plan:
        await timeline.advance_to(at)
        if action == "inject":
            fault = scenario.faults[index]
            await injector.inject(index, fault)
            if wall_origin is None:
                wall_origin = time.monotonic()
            if options.hooks is not None:
                await options.hooks.fault_injected(fault, timeline.now_s)
            continue
        if action == "clear":
            await injector.clear(index)
            continue
        tick_s = timeline.now_s
        await runtime.tick_once()
        outcome.ticks += 1
        for ticket_id in seen.collect(sub, tick_s, wall_origin):
            await _diagnose(
                runtime, sub, seen, ticket_id, options.diagnosis_timeout_s, tick_s, wall_origin
            )
        outcome.sim_seconds = timeline.now_s + scenario.warmup
        outcome.tickets = sorted(seen.tickets.values(), key=lambda t: t.ticket_id)
        outcome.incidents = sorted(seen.incidents.values(), key=lambda i: i.incident_id)
        first = seen.first_after(origin) if first_fault is not None else None
        stop = False
        if options.hooks is not None:
            stop = await options.hooks.stepped(timeline.now_s, first is not None)
        if options.stop_when_diagnosed and first is not None:
            stop = stop or first.diagnosis is not None or first.diagnosis_error is not None
        if stop:
            break


async def _replay(
    scenario: Scenario, settings: Settings, diagnoser: Diagnoser, outcome: RunOutcome
) -> None:
    """A recorded scenario: its snapshots through today's invariants, grouping and diagnosis."""
    assert scenario.recording is not None
    try:
        opened = bootstrap.open_replay(
            settings, Path(scenario.recording), rediagnose=True, diagnoser=diagnoser
        )
        async with opened as runtime:
            outcome.declared_actions = [a.name for a in runtime.config.actions]
            sub = runtime.bus.subscribe()
            seen = Seen()
            zero = runtime.recording.start + scenario.warmup
            try:
                while await runtime.step():
                    tick_s = runtime.recording.times[runtime.position - 1] - zero
                    if tick_s > scenario.duration:
                        break
                    seen.collect(sub, tick_s, None)
                    outcome.ticks += 1
                    outcome.sim_seconds = tick_s + scenario.warmup
            finally:
                sub.close()
            outcome.tickets = sorted(seen.tickets.values(), key=lambda t: t.ticket_id)
            outcome.incidents = sorted(seen.incidents.values(), key=lambda i: i.incident_id)
    except RecordingError as exc:
        raise EvalError(str(exc)) from None


class Seen:
    """The tickets and incidents a run has seen, from the bus.

    Incidents are the runtime's (``incident.*`` events); a diagnosis names the incident it
    is for (``incident_id``), and the last one an incident got is the one scored.
    """

    def __init__(self) -> None:
        self.tickets: dict[int, TicketObservation] = {}
        self.incidents: dict[int, IncidentObservation] = {}

    def first_after(self, origin_s: float) -> IncidentObservation | None:
        after = [i for i in self.incidents.values() if i.opened_s >= origin_s]
        return min(after, key=lambda i: (i.opened_s, i.incident_id), default=None)

    def incident_of(self, ticket_id: int) -> IncidentObservation | None:
        return next((i for i in self.incidents.values() if ticket_id in i.tickets), None)

    def collect(self, sub: Subscription, tick_s: float, wall_origin: float | None) -> list[int]:
        """Record what the bus carried since the last call; returns the tickets opened."""
        opened = []
        wall = -1.0 if wall_origin is None else round(time.monotonic() - wall_origin, 3)
        for ev in _events(sub):
            if ev.event.startswith("incident."):
                self._incident(ev.data["incident"], tick_s, wall)
            elif ev.event == "ticket.opened":
                t = ev.data["ticket"]
                self.tickets[t["id"]] = TicketObservation(
                    ticket_id=t["id"],
                    invariant=t["invariant"],
                    target=t.get("target", ""),
                    store_id=t.get("store_id"),
                    severity=t.get("severity", ""),
                    opened_s=round(tick_s, 3),
                    opened_wall_s=wall,
                    message=str(t.get("message", "")),
                )
                opened.append(t["id"])
            else:
                self.apply(ev)
        return opened

    def _incident(self, data: dict[str, Any], tick_s: float, wall: float) -> None:
        held = self.incidents.get(data["id"])
        if held is None:
            held = self.incidents[data["id"]] = IncidentObservation(
                incident_id=data["id"],
                opened_s=round(tick_s, 3),
                opened_wall_s=wall,
                severity=data.get("severity", ""),
                reopens=data.get("previous_incident_id"),
            )
        held.severity = data.get("severity", held.severity)
        held.tickets = [int(t) for t in data.get("tickets") or held.tickets]
        where = {"cluster" if data.get("store_id") is None else data["store_id"]}
        for ticket_id in held.tickets:
            ticket = self.tickets.get(ticket_id)
            if ticket is not None:
                where.add("cluster" if ticket.store_id is None else ticket.store_id)
        held.targets = sorted(where, key=str)

    def apply(self, ev: Event) -> None:
        if ev.event not in ("diagnosis.finished", "diagnosis.failed"):
            return
        incident = self.incidents.get(ev.data.get("incident_id", -1)) or self.incident_of(
            ev.data.get("ticket_id", -1)
        )
        if incident is None:
            return
        if ev.event == "diagnosis.finished":
            incident.usage.add_finished(ev.data)
            incident.diagnosis = ev.data.get("diagnosis")
            incident.diagnosis_error = None
        else:
            incident.diagnosis_error = str(ev.data.get("error"))


async def _diagnose(
    runtime: OperatorRuntime,
    sub: Subscription,
    seen: Seen,
    ticket_id: int,
    timeout_s: float,
    tick_s: float,
    wall_origin: float | None,
) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            await runtime.agent.diagnose_ticket(ticket_id)
    except TimeoutError:
        incident = seen.incident_of(ticket_id)
        if incident is not None:
            incident.diagnosis_error = f"no diagnosis within {timeout_s:g} s"
    seen.collect(sub, tick_s, wall_origin)


ProgressFn = Callable[[Scenario, ScenarioScore], None]


async def run_suite(
    scenarios: list[Scenario],
    settings: Settings,
    options: RunOptions | None = None,
    progress: ProgressFn | None = None,
) -> list[ScenarioScore]:
    """Run scenarios one after another (each with its own simulator and ticket file) and score them."""
    options = options or RunOptions()
    make_diagnoser(options.backend, settings, options.subject)
    scores = []
    for scenario in scenarios:
        outcome = await run_scenario(scenario, settings, options)
        score = score_run(scenario, outcome)
        scores.append(score)
        if progress is not None:
            progress(scenario, score)
    return scores
