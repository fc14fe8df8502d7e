"""``OperatorRuntime``: the monitor, the agent, the ticket store and actions behind one command interface.

Front ends hold a runtime and nothing else: they run ``run_monitor`` and
``run_agent`` (Textual workers, or asyncio tasks in the headless runner),
subscribe to ``bus``, and send commands through the ``Commands`` methods.
Tests call ``tick_once`` directly for determinism.

Actions follow ``options.actions_mode``: ``observe`` refuses and records every
approval; ``approve`` executes a recommended action when a person approves it;
``auto`` executes low- and medium-risk recommendations right after the
diagnosis and leaves high-risk ones for approval. Everything goes through
``subject.execute``; a subject that checks its actions (``CheckedActions``) is asked
before (is the system still as the diagnosis saw it?) and after (did the change take?).
An action already done on a ticket is not run again.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from operator_tui.core.agent import AgentRunner
from operator_tui.core.commands import action_done
from operator_tui.core.deploy import Deployment, DeployUnavailable, Endpoint
from operator_tui.core.diagnosis.base import Diagnoser, DiagnosisOutcome
from operator_tui.core.events import EventBus
from operator_tui.core.faults import ActiveFault, FaultControl, FaultKind
from operator_tui.core.incident import Incident, IncidentEvent
from operator_tui.core.incident_store import IncidentStore
from operator_tui.core.monitor import Monitor
from operator_tui.core.raw import RawAnswer, RawRecords
from operator_tui.core.recorder import Recorder
from operator_tui.core.subject import (
    ActionCheck,
    Chaos,
    CheckedActions,
    Subject,
    SubjectConfig,
    SubjectError,
)
from operator_tui.core.ticket import DiagnosisRecord, Ticket, TicketEvent
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import ActionResult, LogEvent, Snapshot, StoreMetrics

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 3600.0
AUTO_RISKS = {"low", "medium"}


YOUNG_GENERATION = 20_000


def tune_collector() -> None:
    """Set the garbage collector for a process that ticks, once start-up is over.

    Modules, settings, the subject and its clients live as long as the process: frozen,
    they are no longer walked by each full collection (21-25 ms pauses became about 6 ms at
    1000 stores). A tick allocates tens of thousands of short-lived objects; collecting the
    young generation every 20,000 allocations instead of 700 lets most die first
    (2-3 ms less per tick at 1000 stores). Figures: ``benchmarks/tick_cost.py``.
    """
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GENERATION), middle, old)


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """What the runtime needs of the app's settings: monitor pace, actions mode, agent limits."""

    interval_s: float = 2.0
    actions_mode: str = "observe"
    agent_concurrency: int = 2
    agent_max_retries: int = 3
    wake_per_second: int = 5
    """Early ticks a watching subject may ask for in any one second (0: none, ticks only)."""


class OperatorRuntime:
    def __init__(
        self,
        options: RuntimeOptions,
        subject: Subject,
        tickets: TicketStore,
        diagnoser: Diagnoser,
        *,
        bus: EventBus | None = None,
        chaos: Chaos | None = None,
        lab: Callable[[httpx.AsyncClient], Deployment] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry_base_s: float = 1.0,
        retry_max_s: float = 30.0,
    ) -> None:
        self.options = options
        self.lab = lab
        self.subject = subject
        self.tickets = tickets
        tickets.clock = clock
        self.diagnoser = diagnoser
        self.bus = bus or EventBus()
        self.chaos = chaos
        self.config: SubjectConfig = subject.describe()
        self._clock = clock
        self._retry = (retry_base_s, retry_max_s)
        self._wire()

    def _wire(self) -> None:
        """The incident store, monitor and agent over ``self.tickets`` and ``self.subject``."""
        self.incidents = IncidentStore(self.tickets)
        self.monitor = Monitor(
            self.subject,
            self.tickets,
            self.bus,
            interval_s=self.options.interval_s,
            clock=self._clock,
            incidents=self.incidents,
            wake_per_second=self.options.wake_per_second,
        )
        self.agent = AgentRunner(
            self.subject,
            self.tickets,
            self.bus,
            self.diagnoser,
            snapshot=lambda: self.monitor.latest,
            history=self.monitor.history,
            concurrency=self.options.agent_concurrency,
            max_retries=self.options.agent_max_retries,
            retry_base_s=self._retry[0],
            retry_max_s=self._retry[1],
            on_diagnosed=self._after_diagnosis,
            incidents=self.incidents,
            clock=self._clock,
        )
        self.monitor.on_opened = lambda _opened: self.agent.wake()

    def record_to(self, recorder: Recorder) -> None:
        """Hand every tick (snapshot, violations) and every bus event to the flight recorder."""
        self.monitor.on_observed = recorder.tick
        recorder.follow(self.bus, self._clock)

    def restart(self, tickets: TicketStore, subject: Subject | None = None) -> None:
        """Start over with another (empty) ticket store, and subject when given: a replay
        seeking backwards. The bus and its subscribers stay."""
        self.tickets = tickets
        tickets.clock = self._clock
        if subject is not None:
            self.subject = subject
        self._wire()

    # --- state ------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.monitor.paused

    @property
    def interval_s(self) -> float:
        return self.monitor.interval_s

    @property
    def latest_snapshot(self) -> Snapshot | None:
        return self.monitor.latest

    def metric_history(self, store_id: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        return self.monitor.history.metric_history(store_id)

    def metric_tail(self, store_id: int, n: int) -> Sequence[tuple[datetime, StoreMetrics]]:
        return self.monitor.history.metric_tail(store_id, n)

    def metric_since(
        self, store_id: int, since: datetime
    ) -> Sequence[tuple[datetime, StoreMetrics]]:
        return self.monitor.history.metric_since(store_id, since)

    def recent_log_events(self, store_id: int | None = None, limit: int = 200) -> list[LogEvent]:
        return self.monitor.history.recent_log_events(store_id, limit)

    @property
    def actions_mode(self) -> str:
        return self.options.actions_mode

    def deployment(self, http: httpx.AsyncClient) -> Deployment:
        """The lab a front end's deploy menu drives (``http`` is the caller's, closed by it)."""
        if self.lab is None:
            raise DeployUnavailable("no lab here: the subject offers none")
        return self.lab(http)

    # --- loops ------------------------------------------------------------------------

    async def tick_once(self) -> Snapshot | None:
        return await self.monitor.tick_once()

    async def run_monitor(self) -> None:
        tune_collector()
        await self.monitor.run()

    async def run_agent(self) -> None:
        await self.agent.run()

    async def aclose(self) -> None:
        """Put diagnoses cut short by shutdown back in the queue; the store itself is closed by its owner."""
        try:
            await self.tickets.requeue_interrupted()
            await self.incidents.requeue_interrupted(datetime.now(UTC))
        except Exception as exc:
            log.warning("could not requeue interrupted diagnoses: %s", exc)

    # --- monitor commands -------------------------------------------------------------

    def pause(self) -> None:
        self.monitor.pause()

    def resume(self) -> None:
        self.monitor.resume()

    def tick_now(self) -> None:
        self.monitor.tick_now()

    def set_interval(self, seconds: float) -> float:
        return self.monitor.set_interval(min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, float(seconds))))

    # --- chaos ------------------------------------------------------------------------

    async def kill_store(self, store_id: int) -> str:
        return await self._chaos("kill", store_id)

    async def start_store(self, store_id: int) -> str:
        return await self._chaos("start", store_id)

    async def _chaos(self, verb: str, store_id: int) -> str:
        if self.chaos is None:
            raise SubjectError(
                f"cannot {verb} store {store_id}: no chaos control here (use --demo or the compose lab)"
            )
        try:
            fn = self.chaos.kill_store if verb == "kill" else self.chaos.start_store
            message = await fn(store_id)
        except SubjectError:
            raise
        except Exception as exc:
            raise SubjectError(f"cannot {verb} store {store_id}: {exc}") from None
        self.bus.publish("chaos", action=verb, store_id=store_id, message=message)
        self.monitor.tick_now()
        return message

    # --- faults, endpoints and raw records ------------------------------------------

    @property
    def fault_control(self) -> FaultControl | None:
        """The chaos control when it also injects faults (a simulator), else None."""
        return self.chaos if isinstance(self.chaos, FaultControl) else None

    def fault_kinds(self) -> tuple[FaultKind, ...]:
        control = self.fault_control
        return control.fault_kinds() if control is not None else ()

    def _faults_or_raise(self) -> FaultControl:
        control = self.fault_control
        if control is None:
            raise SubjectError(
                "no fault injection here: faults work in --demo or against the subject's simulator"
            )
        return control

    async def inject_fault(
        self, kind: str, store_id: int | None, params: Mapping[str, Any]
    ) -> ActiveFault:
        control = self._faults_or_raise()
        try:
            fault = await control.inject_fault(kind, store_id, dict(params))
        except SubjectError:
            raise
        except Exception as exc:
            raise SubjectError(f"cannot inject {kind}: {exc}") from None
        self.bus.publish(
            "chaos",
            action="fault",
            store_id=store_id,
            fault=fault.id,
            message=f"fault {fault.describe()} injected",
        )
        self.monitor.tick_now()
        return fault

    async def active_faults(self) -> list[ActiveFault]:
        return await self._faults_or_raise().active_faults()

    async def clear_fault(self, fault_id: str) -> ActiveFault:
        control = self._faults_or_raise()
        try:
            fault = await control.clear_fault(fault_id)
        except SubjectError:
            raise
        except Exception as exc:
            raise SubjectError(f"cannot clear fault {fault_id}: {exc}") from None
        self.bus.publish(
            "chaos",
            action="clear",
            store_id=fault.store_id,
            fault=fault.id,
            message=f"fault {fault.describe()} cleared",
        )
        self.monitor.tick_now()
        return fault

    async def endpoints(self) -> list[Endpoint]:
        control = self.fault_control
        return await control.endpoints() if control is not None else []

    def raw_kinds(self) -> tuple[str, ...]:
        return self.subject.raw_kinds() if isinstance(self.subject, RawRecords) else ()

    async def raw_record(self, kind: str, key: int) -> RawAnswer:
        if not isinstance(self.subject, RawRecords) or kind not in self.subject.raw_kinds():
            raise SubjectError(f"the {self.subject.name} subject keeps no raw {kind} records")
        return await self.subject.raw_record(kind, key)

    # --- diagnosis and actions --------------------------------------------------------

    async def rediagnose(self, ticket_id: int) -> None:
        ticket = await self.tickets.mark_for_rediagnosis(ticket_id)
        if ticket is None:
            raise SubjectError(f"no ticket {ticket_id}")
        self.agent.request(ticket_id)

    async def approve(self, ticket_id: int, action_index: int = 0) -> ActionResult:
        ticket = await self.tickets.get_ticket(ticket_id)
        record = await self.tickets.latest_diagnosis(ticket_id) if ticket else None
        actions = list((record.result or {}).get("recommended_actions", [])) if record else []
        if ticket is None or not actions or not 0 <= action_index < len(actions):
            what = (
                f"no ticket {ticket_id}"
                if ticket is None
                else f"ticket {ticket_id} has no recommended action #{action_index}"
            )
            return ActionResult(action="", args={}, ok=False, message=what, refused=True)
        chosen = actions[action_index]
        name, args = str(chosen.get("action", "")), dict(chosen.get("args") or {})
        current = dict(chosen.get("current") or {})
        if await self.already_done(ticket_id, name, args):
            return ActionResult(
                name, args, ok=True, refused=True, message=f"{name} was already done on this ticket"
            )
        if self.options.actions_mode == "observe":
            result = ActionResult(
                action=name,
                args=args,
                ok=False,
                refused=True,
                message=(
                    f"observe mode: {name} not executed "
                    "(set OPERATOR_ACTIONS_MODE=approve or --mode approve to allow actions)"
                ),
            )
            await self._record_action(ticket_id, "action.refused", result, approved=True)
            return result
        return await self._execute(ticket_id, name, args, current, approved=True)

    async def already_done(self, ticket_id: int, name: str, args: dict[str, Any]) -> bool:
        """Whether this action with these arguments already ran, successfully, on the ticket."""
        try:
            events = await self.tickets.events(ticket_id)
        except Exception as exc:
            log.warning("could not read the events of ticket %s: %s", ticket_id, exc)
            return False
        return action_done(events, name, args)

    async def _check(self, step: str, name: str, *call: Any) -> ActionCheck | None:
        if not isinstance(self.subject, CheckedActions):
            return None
        try:
            if step == "before":
                return await self.subject.precheck(name, *call)
            return await self.subject.verify(name, *call)
        except Exception as exc:
            return ActionCheck(False, f"could not check {name} {step} running it: {exc}")

    async def _execute(
        self,
        ticket_id: int,
        name: str,
        args: dict[str, Any],
        current: dict[str, Any] | None = None,
        *,
        approved: bool,
    ) -> ActionResult:
        if self.config.action(name) is None:
            result = ActionResult(
                name, args, ok=False, refused=True, message=f"{name} is not a declared action"
            )
            await self._record_action(ticket_id, "action.refused", result, approved=approved)
            return result
        before = await self._check("before", name, args, dict(current or {}))
        if before is not None and (before.done or not before.ok):
            result = ActionResult(
                name,
                args,
                ok=before.done,
                refused=not before.done,
                message=f"{name} not run: {before.message}",
                verified=True if before.done else None,
            )
            kind = "action.done" if before.done else "action.refused"
            await self._record_action(ticket_id, kind, result, approved=approved)
            return result
        try:
            result = await self.subject.execute(name, args)
        except Exception as exc:
            result = ActionResult(name, args, ok=False, message=f"{name} failed: {exc}")
        if result.ok and not result.refused:
            after = await self._check("after", name, result.args)
            if after is not None:
                result.verified = after.ok
                result.message = (
                    f"{result.message}; {after.message}" if after.message else result.message
                )
        kind = "action.refused" if result.refused else "action.done"
        await self._record_action(ticket_id, kind, result, approved=approved)
        return result

    async def _record_action(
        self, ticket_id: int, kind: str, result: ActionResult, *, approved: bool
    ) -> None:
        detail = {
            "action": result.action,
            "args": result.args,
            "ok": result.ok,
            "message": result.message,
            "mode": self.options.actions_mode,
            "approved": approved,
            "verified": result.verified,
        }
        try:
            await self.tickets.add_event(ticket_id, kind, detail)
        except Exception as exc:
            log.warning("could not record %s on ticket %s: %s", kind, ticket_id, exc)
        self.bus.publish(kind, ticket_id=ticket_id, **detail)

    async def _after_diagnosis(self, ticket: Ticket, outcome: DiagnosisOutcome) -> None:
        mode = self.options.actions_mode
        for index, rec in enumerate(outcome.diagnosis.recommended_actions):
            done = await self.already_done(ticket.id, rec.action, dict(rec.args))
            if mode == "auto" and rec.risk in AUTO_RISKS and not done:
                await self._execute(
                    ticket.id, rec.action, dict(rec.args), dict(rec.current), approved=False
                )
                continue
            detail = {
                "action": rec.action,
                "args": rec.args,
                "current": rec.current,
                "risk": rec.risk,
                "index": index,
                "mode": mode,
                "done": done,
            }
            await self.tickets.add_event(ticket.id, "action.proposed", detail)
            self.bus.publish("action.proposed", ticket_id=ticket.id, **detail)

    # --- reads ------------------------------------------------------------------------

    async def list_tickets(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Ticket]:
        return await self.tickets.list_tickets(include_resolved=include_resolved, limit=limit)

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        return await self.tickets.get_ticket(ticket_id)

    async def latest_diagnosis(self, ticket_id: int) -> DiagnosisRecord | None:
        return await self.tickets.latest_diagnosis(ticket_id)

    async def ticket_events(self, ticket_id: int) -> list[TicketEvent]:
        return await self.tickets.events(ticket_id)

    async def list_incidents(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Incident]:
        return await self.incidents.list_incidents(include_resolved=include_resolved, limit=limit)

    async def get_incident(self, incident_id: int) -> Incident | None:
        return await self.incidents.get_incident(incident_id)

    async def incident_tickets(self, incident_id: int) -> list[Ticket]:
        return await self.incidents.incident_tickets(incident_id)

    async def incident_events(self, incident_id: int) -> list[IncidentEvent]:
        return await self.incidents.events(incident_id)
