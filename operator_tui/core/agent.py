"""The agent runner: picks tickets that need a diagnosis and runs the diagnoser on them.

A diagnosis describes the snapshot stored with its ticket (the moment it opened),
with the metric history and log events of an injected ``HistorySource``; only a
ticket stored without a snapshot falls back to the latest one.

Bounded concurrency (``agent_concurrency`` diagnoses at once); bounded retries
with exponential backoff (or the server's ``retry-after``) on transient
failures; every attempt is a diagnosis record, so nothing is lost. After the
last retry the ticket goes back to ``open`` flagged failed: it stays
diagnosable on request (``rediagnose``) but is not retried forever. Chunks are
published as they stream and written to the database in batches.

A ticket that belongs to an incident is diagnosed as the incident: the diagnosis is
about the incident's lead ticket, with every other ticket of the incident as evidence
(``DiagnosisContext.related``), and it covers them all. A symptom that joins later is
open, so the agent reruns the incident's diagnosis with it; a ticket the incident's
last diagnosis covered is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from operator_tui.core.diagnosis.base import (
    Diagnoser,
    DiagnosisError,
    DiagnosisOutcome,
    TransientDiagnosisError,
)
from operator_tui.core.diagnosis.context import build_context
from operator_tui.core.diagnosis.prompt import data_block
from operator_tui.core.diagnosis.stored import StoredSnapshotError, snapshot_from_dict
from operator_tui.core.events import EventBus
from operator_tui.core.history import HistorySource
from operator_tui.core.incident import Incident, IncidentStatus
from operator_tui.core.incident_store import IncidentStore
from operator_tui.core.subject import Subject
from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.tickets import TicketStore
from operator_tui.core.tools import ToolBox, ToolEnv, ToolLimits, ToolStep
from operator_tui.core.types import Snapshot

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.5
POLL_S = 5.0


class AgentRunner:
    def __init__(
        self,
        subject: Subject,
        tickets: TicketStore,
        bus: EventBus,
        diagnoser: Diagnoser,
        *,
        snapshot: Callable[[], Snapshot | None],
        history: HistorySource | None = None,
        concurrency: int = 2,
        max_retries: int = 3,
        retry_base_s: float = 1.0,
        retry_max_s: float = 30.0,
        on_diagnosed: Callable[[Ticket, DiagnosisOutcome], Awaitable[None]] | None = None,
        incidents: IncidentStore | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tool_limits: ToolLimits | None = None,
    ) -> None:
        self.tool_limits = tool_limits or ToolLimits()
        self.incidents = incidents
        self.clock = clock
        self._leads: dict[int, asyncio.Lock] = {}
        self.subject = subject
        self.tickets = tickets
        self.bus = bus
        self.diagnoser = diagnoser
        self.snapshot = snapshot
        self.history = history
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.on_diagnosed = on_diagnosed
        self.running: dict[int, asyncio.Task[None]] = {}
        self.requested: list[int] = []
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def request(self, ticket_id: int) -> None:
        """Diagnose this ticket again whatever its status (a resolved one included)."""
        if ticket_id not in self.requested:
            self.requested.append(ticket_id)
        self._wake.set()

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        delay = min(self.retry_max_s, self.retry_base_s * 2 ** (attempt - 1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_max_s * 2))
        return delay * (1 + random.uniform(0, 0.1))

    async def run(self) -> None:
        """Diagnose until cancelled; running diagnoses are cancelled with it (and requeued on close)."""
        if self.incidents is not None:
            try:
                await self.incidents.requeue_interrupted(self.clock())
            except Exception as exc:
                log.warning("could not requeue interrupted incident diagnoses: %s", exc)
        try:
            while True:
                self._wake.clear()
                await self._start_ready()
                wake = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait(
                        {wake, *self.running.values()},
                        timeout=POLL_S,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    wake.cancel()
        finally:
            tasks = list(self.running.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.running.clear()

    async def _start_ready(self) -> None:
        free = self.concurrency - len(self.running)
        if free <= 0:
            return
        ids: list[int] = []
        later: list[int] = []
        for tid in self.requested:
            if tid in self.running or len(ids) >= free:
                later.append(tid)
            elif tid not in ids:
                ids.append(tid)
        self.requested = later
        if len(ids) < free:
            try:
                waiting = await self.tickets.tickets_needing_diagnosis(
                    limit=free + len(self.running)
                )
            except Exception as exc:
                log.exception("reading tickets failed")
                self.bus.publish("error", message=f"ticket database: {type(exc).__name__}: {exc}")
                waiting = []
            for t in waiting:
                if len(ids) >= free:
                    break
                if t.id not in self.running and t.id not in ids:
                    ids.append(t.id)
        for tid in ids:
            task = asyncio.create_task(self.diagnose_ticket(tid), name=f"diagnose-{tid}")
            self.running[tid] = task
            task.add_done_callback(lambda _t, tid=tid: self.running.pop(tid, None))

    async def diagnose_ticket(self, ticket_id: int) -> None:
        """All attempts at one ticket; never raises except on cancellation."""
        try:
            await self._diagnose(ticket_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("diagnosis of ticket %s failed", ticket_id)
            self.bus.publish(
                "error", message=f"diagnosis of ticket {ticket_id}: {type(exc).__name__}: {exc}"
            )

    async def _diagnose(self, ticket_id: int) -> None:
        incident = await self.incidents.incident_of(ticket_id) if self.incidents else None
        if incident is None:
            await self._diagnose_lead(ticket_id, None)
            return
        lock = self._leads.setdefault(incident.lead_ticket_id, asyncio.Lock())
        async with lock:
            if ticket_id != incident.lead_ticket_id:
                current = await self.tickets.get_ticket(ticket_id)
                if current is None or current.status != TicketStatus.OPEN:
                    return  # the incident's last diagnosis covered it
            await self._diagnose_lead(incident.lead_ticket_id, incident)

    async def _set_incident(
        self, incident: Incident | None, status: IncidentStatus, **detail: object
    ) -> None:
        if incident is None or self.incidents is None:
            return
        changed = await self.incidents.set_status(incident.id, status, self.clock(), **detail)
        if changed is not None:
            self.bus.publish("incident.updated", incident=changed.summary())

    async def _diagnose_lead(self, ticket_id: int, incident: Incident | None) -> None:
        ticket = await self.tickets.get_ticket(ticket_id)
        if ticket is None:
            return
        related: list[Ticket] = []
        if incident is not None and self.incidents is not None:
            for member in await self.incidents.incident_tickets(incident.id):
                if member.id != ticket_id:
                    # with its stored snapshot: the moment that symptom opened is evidence too
                    related.append(await self.tickets.get_ticket(member.id) or member)
        scope: dict[str, object] = {}
        if incident is not None:
            scope = {"incident_id": incident.id, "tickets": [ticket_id, *(t.id for t in related)]}
        others = await self.tickets.list_tickets(include_resolved=False, limit=50)
        snapshot = self._snapshot_of(ticket)
        context = build_context(
            ticket,
            self.subject,
            snapshot,
            history=self.history,
            other_tickets=others,
            related=related,
        )
        tools = self.subject.describe().tools
        env = ToolEnv(
            ticket=ticket,
            related=tuple(context.related),
            other_tickets=tuple(context.other_tickets),
            history=self.history,
            snapshot=snapshot,
            now=self.clock,
        )
        backend, model = self.diagnoser.backend, self.diagnoser.model
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            diag_id = await self.tickets.start_diagnosis(ticket_id, backend, model, attempt=attempt)
            if attempt == 1:
                current = await self.tickets.get_ticket(ticket_id)
                if current is not None:
                    self.bus.publish("ticket.updated", ticket=current.summary())
                await self._set_incident(incident, IncidentStatus.DIAGNOSING, diagnosis_id=diag_id)
            self.bus.publish(
                "diagnosis.started",
                ticket_id=ticket_id,
                diagnosis_id=diag_id,
                backend=backend,
                model=model,
                attempt=attempt,
                **scope,
            )
            sink = _ChunkSink(self.tickets, self.bus, ticket_id, diag_id)
            box = context.tools = ToolBox(
                tools,
                env,
                limits=self.tool_limits,
                block=data_block,
                on_step=sink.step,
                position=sink.position,
            )
            started = time.perf_counter()
            try:
                outcome = await self.diagnoser.diagnose(context, sink)
            except TransientDiagnosisError as exc:
                await sink.flush()
                final = attempt == attempts
                await self._failed(
                    ticket_id, diag_id, str(exc), attempt, final=final, steps=box.trace
                )
                if final:
                    await self._set_incident(incident, IncidentStatus.OPEN, diagnosis_id=diag_id)
                    return
                await asyncio.sleep(self.backoff(attempt, exc.retry_after))
                continue
            except DiagnosisError as exc:
                await sink.flush()
                await self._failed(
                    ticket_id, diag_id, str(exc), attempt, final=True, steps=box.trace
                )
                await self._set_incident(incident, IncidentStatus.OPEN, diagnosis_id=diag_id)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("diagnoser crashed on ticket %s", ticket_id)
                await sink.flush()
                await self._failed(
                    ticket_id,
                    diag_id,
                    f"{type(exc).__name__}: {exc}",
                    attempt,
                    final=True,
                    steps=box.trace,
                )
                await self._set_incident(incident, IncidentStatus.OPEN, diagnosis_id=diag_id)
                return
            result = outcome.diagnosis.model_dump(mode="json")
            investigation = outcome.investigation or box.trace
            done = await self.tickets.finish_diagnosis(
                diag_id,
                result,
                text=outcome.text,
                input_tokens=outcome.input_tokens,
                output_tokens=outcome.output_tokens,
                investigation=investigation,
                cost_usd=outcome.cost_usd,
            )
            self.bus.publish(
                "diagnosis.finished",
                ticket_id=ticket_id,
                diagnosis_id=diag_id,
                backend=backend,
                model=model,
                attempt=attempt,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                input_tokens=outcome.input_tokens,
                output_tokens=outcome.output_tokens,
                cost_usd=outcome.cost_usd,
                investigation=[_step_event(s) for s in investigation],
                diagnosis=result,
                **scope,
            )
            if incident is not None and self.incidents is not None:
                for member in await self.incidents.cover(
                    incident.id, [t.id for t in related], diag_id, self.clock()
                ):
                    self.bus.publish("ticket.updated", ticket=member.summary())
                await self._set_incident(
                    incident,
                    IncidentStatus.DIAGNOSED,
                    diagnosis_id=diag_id,
                    root_cause_class=result.get("root_cause_class"),
                )
            if done is not None:
                self.bus.publish("ticket.updated", ticket=done.summary())
                if self.on_diagnosed is not None:
                    await self.on_diagnosed(done, outcome)
            return

    def _snapshot_of(self, ticket: Ticket) -> Snapshot | None:
        try:
            stored = snapshot_from_dict(ticket.snapshot, self.subject.describe().records)
        except StoredSnapshotError as exc:
            log.warning("ticket %s: its stored snapshot is unreadable (%s)", ticket.id, exc)
            stored = None
        return stored if stored is not None else self.snapshot()

    async def _failed(
        self,
        ticket_id: int,
        diag_id: int,
        error: str,
        attempt: int,
        *,
        final: bool,
        steps: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record a failed attempt with the tool calls it made, so its trace is kept too."""
        log.warning("diagnosis of ticket %s attempt %s failed: %s", ticket_id, attempt, error)
        ticket = await self.tickets.fail_diagnosis(
            diag_id, error, final=final, investigation=steps or []
        )
        if final:
            self.bus.publish(
                "diagnosis.failed",
                ticket_id=ticket_id,
                diagnosis_id=diag_id,
                error=error,
                attempts=attempt,
                investigation=[_step_event(s) for s in steps or []],
            )
            if ticket is not None:
                self.bus.publish("ticket.updated", ticket=ticket.summary())


def _step_event(step: dict[str, object]) -> dict[str, object]:
    """A trace step as events carry it: ``{tool, input, ok, result_chars, ms}``, its summary
    and ``at``, where it falls in the streamed text (so a screen shows it between the turns)."""
    keys = ("tool", "input", "ok", "result_chars", "ms", "summary")
    event = {k: step.get(k) for k in keys}
    if step.get("at") is not None:
        event["at"] = step["at"]
    return event


class _ChunkSink:
    """Publishes every chunk at once; writes them to the database every half second."""

    def __init__(self, tickets: TicketStore, bus: EventBus, ticket_id: int, diag_id: int) -> None:
        self.tickets = tickets
        self.bus = bus
        self.ticket_id = ticket_id
        self.diag_id = diag_id
        self.pending: list[str] = []
        self.last_flush = time.monotonic()
        self.chars = 0

    async def __call__(self, text: str) -> None:
        self.chars += len(text)
        self.bus.publish(
            "diagnosis.chunk", ticket_id=self.ticket_id, diagnosis_id=self.diag_id, text=text
        )
        self.pending.append(text)
        if time.monotonic() - self.last_flush >= FLUSH_EVERY_S:
            await self.flush()

    def position(self) -> int:
        """Characters of this attempt's text published so far."""
        return self.chars

    async def step(self, step: ToolStep) -> None:
        """A tool call just ended: published at once, with its place in the text (``at``), so
        a screen shows it between the text."""
        self.bus.publish(
            "diagnosis.step",
            ticket_id=self.ticket_id,
            diagnosis_id=self.diag_id,
            step=_step_event(step.as_dict()),
        )

    async def flush(self) -> None:
        self.last_flush = time.monotonic()
        if self.pending:
            text, self.pending = "".join(self.pending), []
            await self.tickets.append_diagnosis_text(self.diag_id, text)
