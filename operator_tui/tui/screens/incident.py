"""Incident drill-down: the ticket screen around the incident's lead ticket, plus the incident.

The main column is the incident's diagnosis (the lead ticket's, which is given the evidence of
every ticket of the incident). While it runs: each turn's streamed text, then that turn's tool
calls as collapsible steps, then the next turn's text, as they happen (a replay tells them the
same way). Once finished: the root cause and the recommended action first, then the
investigation (the text between the steps, and the steps), then the rest of the result. The side
column (``v`` away on a narrow terminal) starts with the incident (its cause, status, the
tickets it groups and the timeline of the incident and its tickets, longer on a taller
screen), then the lead ticket's facts, the metrics and the log events as the ticket screen
shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Static

from operator_tui.core.incident import Incident, IncidentEvent
from operator_tui.core.text import plain
from operator_tui.core.ticket import Ticket, TicketEvent
from operator_tui.tui.format import severity_text, shown
from operator_tui.tui.messages import DiagnosisChunk, DiagnosisStarted, DiagnosisStep
from operator_tui.tui.render import seen
from operator_tui.tui.screens.drilldown import section
from operator_tui.tui.screens.ticket import TicketScreen
from operator_tui.tui.widgets.trace import InvestigationTrace

TIMELINE_LINES = 40


def incident_facts(incident: Incident, members: list[Ticket], now: datetime) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row("cause", shown(incident.cause, "bold"))
    table.add_row("target", shown(incident.target))
    table.add_row("severity", severity_text(incident.severity))
    table.add_row("status", shown(incident.status.value))
    table.add_row("opened", shown(seen(incident.opened_at, now)))
    if incident.resolved_at is not None:
        table.add_row("resolved", shown(seen(incident.resolved_at, now)))
    if incident.previous_incident_id is not None:
        table.add_row("recurs", shown(f"#{incident.previous_incident_id}"))
    for t in members:
        lead = " (lead)" if t.id == incident.lead_ticket_id else ""
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"#{t.id} ", style="bold")
        line.append(plain(f"{t.invariant} {t.status.value}{lead}: "))
        line.append(plain(t.message))
        table.add_row("ticket", line)
    return table


def timeline_text(
    incident_events: list[IncidentEvent],
    ticket_events: dict[int, list[TicketEvent]],
    limit: int = TIMELINE_LINES,
) -> Text:
    """The incident's events and its tickets', oldest first; the newest ``limit`` of them."""
    entries: list[tuple[datetime, int, str]] = []
    for e in incident_events:
        what = e.kind
        if "ticket_id" in e.detail:
            what += f" #{e.detail['ticket_id']}"
        if e.detail.get("rule"):
            what += f" ({e.detail['rule']})"
        entries.append((e.ts, 0, f"incident {what}"))
    for ticket_id, events in ticket_events.items():
        entries.extend((e.ts, 1, f"#{ticket_id} {e.kind}") for e in events)
    entries.sort(key=lambda item: (item[0], item[1]))
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (ts, _, what) in enumerate(entries[-limit:]):
        if i:
            text.append("\n")
        text.append(f"{ts:%H:%M:%S} ", style="dim")
        text.append(plain(what))
    if not entries:
        text.append("nothing recorded yet", style="dim")
    return text


class IncidentScreen(TicketScreen):
    FACTS_HEADING = "Lead ticket"

    def __init__(self, incident_id: int, lead_ticket_id: int) -> None:
        super().__init__(lead_ticket_id)
        self.incident_id = incident_id
        self.incident: Incident | None = None
        self.members: list[Ticket] = []
        self._events: list[IncidentEvent] = []
        self._ticket_events: dict[int, list[TicketEvent]] = {}

    def compose_side(self) -> ComposeResult:
        yield Static(id="incident-facts")
        yield from super().compose_side()

    def compose_main(self) -> ComposeResult:
        for widget in super().compose_main():
            yield widget
            if widget.id == "diagnosis-summary":
                yield InvestigationTrace(id="investigation")

    def on_mount(self) -> None:
        self.query_one("#ticket-title", Static).update(f"Incident #{self.incident_id}")
        self.reload()

    def follows(self, ticket_ids: frozenset[int]) -> bool:
        return self.ticket_id in ticket_ids or any(t.id in ticket_ids for t in self.members)

    @work(exclusive=True, group="ticket-load", exit_on_error=False)
    async def reload(self) -> None:
        """Read the incident, its tickets and their events, then the lead ticket and its diagnosis."""
        runtime = self.host.runtime
        if runtime is None:
            return
        self.incident = await runtime.get_incident(self.incident_id)
        self.members = await runtime.incident_tickets(self.incident_id)
        self._events = await runtime.incident_events(self.incident_id)
        self._ticket_events = {t.id: await runtime.ticket_events(t.id) for t in self.members}
        self.ticket = await runtime.get_ticket(self.ticket_id)
        self.record = await runtime.latest_diagnosis(self.ticket_id)
        self.draw_facts()
        await self.draw_diagnosis()

    def _show(self, *, summary: bool, narrative: bool, structured: bool) -> None:
        """The streamed text shows inside the investigation, between the steps, never as
        one block of its own."""
        super()._show(summary=summary, narrative=False, structured=structured)
        shown = narrative or (summary and structured)
        self.query_one("#investigation").set_class(not shown, "-off")

    def investigation(self) -> tuple[str, list[dict[str, Any]], bool]:
        """The lead ticket's text and tool calls: as they stream (the pump's copy), else the
        finished diagnosis's; whether the text after the last step shows (not once the
        structured result says it)."""
        pump = self.host.pump
        live = pump.live_text(self.ticket_id) if pump is not None else None
        if live is not None:
            return live, pump.live_steps(self.ticket_id) or [], True  # type: ignore[union-attr]
        record = self.record
        if record is None:
            return "", [], True
        return record.text or "", record.investigation or [], not record.result

    @on(DiagnosisStarted)
    async def _trace_started(self, message: DiagnosisStarted) -> None:
        if message.ticket_id == self.ticket_id:
            await self.draw_trace()

    @on(DiagnosisChunk)
    async def _trace_chunk(self, message: DiagnosisChunk) -> None:
        """The text grows in the investigation, after the steps so far (the ticket screen's
        single narrative block is not drawn here)."""
        message.prevent_default()
        if message.ticket_id == self.ticket_id and self._live:
            self.chunks_streamed += 1
            await self.draw_trace()

    @on(DiagnosisStep)
    async def _step(self, message: DiagnosisStep) -> None:
        if message.ticket_id == self.ticket_id:
            await self.draw_trace()

    async def draw_trace(self) -> None:
        text, steps, trailing = self.investigation()
        await self.query_one("#investigation", InvestigationTrace).show(
            text, steps, trailing=trailing
        )

    async def draw_diagnosis(self) -> None:
        await super().draw_diagnosis()
        await self.draw_trace()

    def draw_facts(self) -> None:
        super().draw_facts()
        now = self.host.clock()
        facts = self.query_one("#incident-facts", Static)
        title = self.query_one("#ticket-title", Static)
        incident = self.incident
        if incident is None:
            title.update(Text(f"Incident #{self.incident_id}"))
            facts.update(Text(f"incident #{self.incident_id} is not in the database", style="red"))
            return
        title.update(
            Text.assemble(
                (f"Incident #{incident.id} ", "bold"),
                (plain(incident.cause), "bold yellow"),
                plain(
                    f" on {incident.target} · {incident.severity.value} · {incident.status.value}"
                )
                + f" · {len(self.members)} ticket{'s' if len(self.members) != 1 else ''}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        limit = max(TIMELINE_LINES, self.size.height)
        facts.update(
            Group(
                section("Incident"),
                incident_facts(incident, self.members, now),
                Text(""),
                section("Timeline"),
                timeline_text(self._events, self._ticket_events, limit),
                Text(""),
            )
        )
