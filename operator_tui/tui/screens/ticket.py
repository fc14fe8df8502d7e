"""Ticket drill-down: facts, metrics around the event, log events, and the diagnosis (live, then structured)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from operator_tui.core.events import Event
from operator_tui.core.ticket import DiagnosisRecord, Ticket, TicketStatus
from operator_tui.tui.render import diagnosis_markdown, log_lines, metric_lines, ticket_facts

if TYPE_CHECKING:
    from operator_tui.tui.app import OperatorApp

FOLLOWED = {"diagnosis.started", "diagnosis.chunk", "diagnosis.finished", "diagnosis.failed"}


def section(title: str) -> Text:
    return Text(title, style="bold underline")


class TicketScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", key_display="esc")]

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.ticket: Ticket | None = None
        self.record: DiagnosisRecord | None = None
        self.narrative_text = ""
        self.chunks_streamed = 0
        self._live = False
        self._stream: MarkdownStream | None = None

    @property
    def operator(self) -> OperatorApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="ticket-title", classes="screen-title")
        with Horizontal(id="ticket-body"):
            with VerticalScroll(id="ticket-facts-col", classes="side-col"):
                yield Static(id="ticket-facts")
                yield Static(id="ticket-metrics")
                yield Static(id="ticket-logs")
            with VerticalScroll(id="ticket-diagnosis-col", classes="main-col"):
                yield Static(id="diagnosis-status")
                yield Markdown(id="narrative")
                yield Markdown(id="structured")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#ticket-title", Static).update(f"Ticket #{self.ticket_id}")
        self.reload()

    @work(exclusive=True, group="ticket-load", exit_on_error=False)
    async def reload(self) -> None:
        """Read the ticket and its latest diagnosis from the database, then draw them."""
        runtime = self.operator.runtime
        if runtime is None:
            return
        self.ticket = await runtime.get_ticket(self.ticket_id)
        self.record = await runtime.latest_diagnosis(self.ticket_id)
        self.draw_facts()
        await self.draw_diagnosis()

    def draw_facts(self) -> None:
        app = self.operator
        now = app.clock()
        title = self.query_one("#ticket-title", Static)
        facts = self.query_one("#ticket-facts", Static)
        if self.ticket is None:
            title.update(f"Ticket #{self.ticket_id}")
            facts.update(Text(f"ticket #{self.ticket_id} is not in the database", style="red"))
            return
        t = self.ticket
        title.update(
            Text.assemble(
                (f"Ticket #{t.id} ", "bold"),
                (t.invariant, "bold yellow"),
                f" on {t.target} · {t.severity.value} · {t.status.value}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        facts.update(Group(section("Facts"), ticket_facts(t, now)))
        snapshot = app.latest_snapshot()
        store_ids = sorted({s.id for s in snapshot.stores}) if snapshot else []
        if t.store_id is not None and t.store_id not in store_ids:
            store_ids.insert(0, t.store_id)
        histories = {sid: app.metric_history(sid) for sid in store_ids}
        self.query_one("#ticket-metrics", Static).update(
            Group(
                Text(""),
                section("Metrics (ticket's store ▶ and its peers)"),
                metric_lines(snapshot, histories, t.store_id),
            )
        )
        self.query_one("#ticket-logs", Static).update(
            Group(Text(""), section("Log events"), log_lines(app.log_events(None, 200)))
        )

    async def draw_diagnosis(self) -> None:
        status = self.query_one("#diagnosis-status", Static)
        narrative = self.query_one("#narrative", Markdown)
        structured = self.query_one("#structured", Markdown)
        live = self.operator.live_diagnosis(self.ticket_id)
        if live is not None:
            if self._live:
                return
            self._live = True
            self.narrative_text = live
            self.query_one("#ticket-diagnosis-col", VerticalScroll).anchor()
            status.update(Text("Diagnosis · streaming…", style="bold cyan"))
            await narrative.update(live)
            await structured.update("")
            return
        self._live = False
        record = self.record
        if record is None:
            waiting = self.ticket is not None and self.ticket.status in (
                TicketStatus.OPEN,
                TicketStatus.DIAGNOSING,
            )
            status.update(
                Text(
                    "Diagnosis · waiting for the agent"
                    if waiting
                    else "No diagnosis recorded · R runs one",
                    style="dim",
                )
            )
            self.narrative_text = ""
            await narrative.update("")
            await structured.update("")
            return
        label = f"Diagnosis · {record.backend}"
        if record.model:
            label += f" ({record.model})"
        if record.error:
            status.update(Text(f"{label} · failed: {record.error} · R retries", style="red"))
        elif record.finished_at is None:
            status.update(Text(f"{label} · in progress", style="cyan"))
        else:
            status.update(Text(f"{label} · finished", style="bold green"))
        self.narrative_text = record.text
        await narrative.update(record.text)
        await structured.update(diagnosis_markdown(record.result) if record.result else "")
        column = self.query_one("#ticket-diagnosis-col", VerticalScroll)
        column.release_anchor()
        column.scroll_home(animate=False)

    async def on_core_event(self, event: Event) -> None:
        """Called by the app's event pump for events about this ticket."""
        kind = event.event
        if kind == "diagnosis.started":
            await self._stop_stream()
            self._live = True
            self.narrative_text = ""
            self.query_one("#ticket-diagnosis-col", VerticalScroll).anchor()
            self.query_one("#diagnosis-status", Static).update(
                Text("Diagnosis · streaming…", style="bold cyan")
            )
            await self.query_one("#narrative", Markdown).update("")
            await self.query_one("#structured", Markdown).update("")
        elif kind == "diagnosis.chunk":
            if not self._live:
                return
            text = event.data.get("text")
            chunk = text if isinstance(text, str) else ""
            self.narrative_text += chunk
            self.chunks_streamed += 1
            if self._stream is None:
                self._stream = Markdown.get_stream(self.query_one("#narrative", Markdown))
            await self._stream.write(chunk)
        elif kind in ("diagnosis.finished", "diagnosis.failed"):
            await self._stop_stream()
            self._live = False
            self.reload()
        else:
            self.reload()

    async def _stop_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def on_unmount(self) -> None:
        await self._stop_stream()
