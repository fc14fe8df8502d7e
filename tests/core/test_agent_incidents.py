"""The agent diagnoses incidents: the lead ticket with its incident's tickets as evidence, once,
and again when a symptom joins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.core.diagnosis.base import DiagnosisOutcome, TextSink
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.incident import IncidentStatus, IncidentView, RuleSet
from operator_tui.core.runtime import OperatorRuntime, RuntimeOptions
from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.fake_subject import FakeSubject

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def same_target(ticket: Ticket, incident: IncidentView) -> bool:
    return incident.incident.target == ticket.target


class Recording:
    def __init__(self) -> None:
        self.inner = offline_diagnoser()
        self.backend, self.model = self.inner.backend, self.inner.model
        self.contexts: list[DiagnosisContext] = []

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        self.contexts.append(context)
        return await self.inner.diagnose(context, on_text)


async def test_one_diagnosis_per_incident_rerun_when_a_symptom_joins(
    tmp_path: Path, fake: FakeSubject
) -> None:
    config = replace(fake.describe(), incident_rules=RuleSet(lambda t: "x", (same_target,)))
    fake.describe = lambda: config  # type: ignore[method-assign]
    store = await TicketStore.open(tmp_path / "t.db", subject="fake")
    diagnoser = Recording()
    rt = OperatorRuntime(RuntimeOptions(), fake, store, diagnoser, clock=lambda: T0)
    sub = rt.bus.subscribe()
    try:
        a = Violation("a", Severity.CRITICAL, "a on 1", 1)
        b = Violation("b", Severity.WARNING, "b on 1", 1)
        await store.upsert_violations([a, b], {"taken_at": T0.isoformat()}, T0)
        [(_, incident)] = await rt.incidents.record(config.incident_rules, T0)
        assert incident.lead_ticket_id == 1 and incident.ticket_ids == [1, 2]

        await rt.agent.diagnose_ticket(2)  # a member asks: the incident is diagnosed
        [ctx] = diagnoser.contexts
        assert ctx.ticket.id == 1 and [t.id for t in ctx.related] == [2]
        assert ctx.related[0].snapshot == {"taken_at": T0.isoformat()}
        assert all(t.id not in (1, 2) for t in ctx.other_tickets)
        assert (await store.get_ticket(1)).status == TicketStatus.DIAGNOSED
        assert (await store.get_ticket(2)).status == TicketStatus.DIAGNOSED
        assert "diagnosis.incident" in [e.kind for e in await store.events(2)]
        assert (await rt.get_incident(1)).status == IncidentStatus.DIAGNOSED
        events = []
        while not sub.queue.empty():
            events.append(sub.queue.get_nowait())
        statuses = [e.data["incident"]["status"] for e in events if e.event == "incident.updated"]
        assert statuses == ["diagnosing", "diagnosed"]
        finished = next(e for e in events if e.event == "diagnosis.finished")
        assert finished.data["incident_id"] == 1 and finished.data["tickets"] == [1, 2]

        await rt.agent.diagnose_ticket(1)  # requested again: covered tickets do not stop it
        await rt.agent.diagnose_ticket(2)  # covered by the last diagnosis: skipped
        assert len(diagnoser.contexts) == 2

        later = T0 + timedelta(seconds=2)
        c = Violation("c", Severity.CRITICAL, "c on 1", 1)
        await store.upsert_violations([a, b, c], {}, later)
        await rt.incidents.record(config.incident_rules, later)
        await rt.agent.diagnose_ticket(3)
        assert len(diagnoser.contexts) == 3
        assert diagnoser.contexts[-1].ticket.id == 1
        assert [t.id for t in diagnoser.contexts[-1].related] == [2, 3]
        assert len(await store.diagnoses(1)) == 3 and await store.diagnoses(3) == []
        assert (await store.get_ticket(3)).status == TicketStatus.DIAGNOSED
    finally:
        sub.close()
        await store.aclose()
