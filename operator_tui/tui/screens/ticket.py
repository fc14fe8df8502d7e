"""Ticket drill-down: facts, metrics around the event, log events, and the diagnosis (live, then structured).

The screen follows its own ticket's diagnosis: it streams the chunks the pump hands it and
reads the text streamed before it opened from the pump, which holds the only copy.

The diagnosis column opens on the root cause and the recommended action. While a diagnosis
streams, its narrative shows; once it has a structured result, the structured sections show
instead (the narrative said the same in other words; ``y`` shows the raw record). Below 116
columns only one column fits: the diagnosis first, ``v`` swaps to the facts and back; on a
wide terminal ``v`` gives the diagnosis the whole width. The facts grow with the screen: wider
sparklines, more log lines.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from operator_tui.core.text import plain
from operator_tui.core.ticket import DiagnosisRecord, Ticket, TicketStatus
from operator_tui.tui.messages import (
    DiagnosisChunk,
    DiagnosisEnded,
    DiagnosisStarted,
    TicketsChanged,
    TickObserved,
)
from operator_tui.tui.render import (
    METRIC_LINE_FIXED,
    diagnosis_markdown,
    diagnosis_summary,
    log_lines,
    metric_lines,
    safe_markdown,
    ticket_facts,
)
from operator_tui.tui.screens.drilldown import DrillDownScreen, section

SPARK_MIN, SPARK_MAX = 3, 60
LOG_LINES_MIN = 14


def room(side_width: int, screen_height: int) -> tuple[int, int]:
    """Sparkline width and log lines for a facts column ``side_width`` wide on a screen
    ``screen_height`` tall: the two sparklines share what the figures leave of the line, so
    a figure is never the part cut off."""
    spark = max(SPARK_MIN, min(SPARK_MAX, (side_width - METRIC_LINE_FIXED) // 2))
    return spark, max(LOG_LINES_MIN, screen_height // 2)


class TicketScreen(DrillDownScreen):
    PREFIX = "ticket"
    SIDE_ID = "ticket-facts-col"
    MAIN_ID = "ticket-diagnosis-col"
    BINDINGS = [Binding("v", "swap_view", "Facts ⇄ diagnosis", key_display="v")]
    FACTS_HEADING = "Facts"

    def __init__(self, ticket_id: int) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.ticket: Ticket | None = None
        self.record: DiagnosisRecord | None = None
        self.chunks_streamed = 0
        self._live = False
        self._stream: MarkdownStream | None = None
        # What the two Markdown panes last showed: a ticket updated on every tick reloads its
        # record, and re-rendering an unchanged diagnosis each time is the costliest redraw.
        self._drawn: tuple[Any, ...] | None = None

    @property
    def narrative_text(self) -> str:
        """The diagnosis text shown: streamed so far (the pump's copy), else the recorded one."""
        if self._live:
            pump = self.host.pump
            return (pump.live_text(self.ticket_id) if pump is not None else None) or ""
        return self.record.text if self.record is not None else ""

    def compose_side(self) -> ComposeResult:
        yield Static(id="ticket-facts")
        yield Static(id="ticket-metrics")
        yield Static(id="ticket-logs")

    def compose_main(self) -> ComposeResult:
        yield Static(id="diagnosis-status")
        yield Static(id="diagnosis-summary")
        yield Markdown(id="narrative", open_links=False)
        yield Markdown(id="structured", open_links=False)

    def action_swap_view(self) -> None:
        """Narrow: the facts instead of the diagnosis, and back. Wide: the facts column hides
        (the diagnosis takes the width) and comes back."""
        body = self.query_one(f"#{self.PREFIX}-body")
        body.toggle_class("-swapped")

    @property
    def swapped(self) -> bool:
        return self.query_one(f"#{self.PREFIX}-body").has_class("-swapped")

    def on_resize(self, event: events.Resize) -> None:
        if self.ticket is not None:
            self.draw_facts()

    def symptom(self) -> Text:
        """Before a diagnosis: what fired, so the first screen says something (the facts are
        one key away)."""
        t = self.ticket
        text = Text()
        if t is None:
            return text
        text.append("What fired ", style="bold underline")
        text.append(plain(t.invariant), style="bold yellow")
        text.append(plain(f" on {t.target}"), style="bold")
        text.append("\n" + plain(t.message))
        text.append("\nv shows the facts, the metrics and the log events.", style="dim")
        return text

    def _show(self, *, summary: bool, narrative: bool, structured: bool) -> None:
        """Which of the diagnosis parts show: never the narrative beside the structured result."""
        self.query_one("#diagnosis-summary").display = summary
        self.query_one("#narrative").display = narrative
        self.query_one("#structured").display = structured

    def on_mount(self) -> None:
        self.query_one("#ticket-title", Static).update(f"Ticket #{self.ticket_id}")
        self.reload()

    def context_store_id(self) -> int | None:
        return self.ticket.store_id if self.ticket else None

    def context_ticket_id(self) -> int | None:
        return self.ticket_id

    @work(exclusive=True, group="ticket-load", exit_on_error=False)
    async def reload(self) -> None:
        """Read the ticket and its latest diagnosis from the database, then draw them."""
        runtime = self.host.runtime
        if runtime is None:
            return
        self.ticket = await runtime.get_ticket(self.ticket_id)
        self.record = await runtime.latest_diagnosis(self.ticket_id)
        self.draw_facts()
        await self.draw_diagnosis()

    def draw_facts(self) -> None:
        app = self.host
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
                (plain(t.invariant), "bold yellow"),
                f" on {plain(t.target)} · {t.severity.value} · {t.status.value}",
                no_wrap=True,
                overflow="ellipsis",
            )
        )
        facts.update(Group(section(self.FACTS_HEADING), ticket_facts(t, now)))
        snapshot = app.latest_snapshot()
        store_ids = sorted({s.id for s in snapshot.stores}) if snapshot else []
        if t.store_id is not None and t.store_id not in store_ids:
            store_ids.insert(0, t.store_id)
        side = self.query_one(f"#{self.SIDE_ID}")
        width = side.scrollable_content_region.width
        if not side.show_vertical_scrollbar:
            # The lines drawn now may bring the scrollbar in, taking its width from the line.
            width -= side.styles.scrollbar_size_vertical
        spark, log_limit = room(width, self.size.height)
        histories = {sid: app.metric_tail(sid, spark) for sid in store_ids}
        self.query_one("#ticket-metrics", Static).update(
            Group(
                Text(""),
                section("Metrics (ticket's store ▶ and its peers)"),
                metric_lines(snapshot, histories, t.store_id, width=spark),
            )
        )
        self.query_one("#ticket-logs", Static).update(
            Group(
                Text(""),
                section(
                    "Log events" + (f" (store {t.store_id})" if t.store_id is not None else "")
                ),
                log_lines(app.log_events(t.store_id, 200), limit=log_limit),
            )
        )

    async def draw_diagnosis(self) -> None:
        status = self.query_one("#diagnosis-status", Static)
        narrative = self.query_one("#narrative", Markdown)
        structured = self.query_one("#structured", Markdown)
        pump = self.host.pump
        live = pump.live_text(self.ticket_id) if pump is not None else None
        if live is not None:
            if self._live:
                return
            self._live = True
            self.query_one("#ticket-diagnosis-col", VerticalScroll).anchor()
            status.update(Text("Diagnosis · streaming…", style="bold cyan"))
            self._drawn = None
            self._show(summary=False, narrative=True, structured=False)
            await narrative.update(safe_markdown(live))
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
            self.query_one("#diagnosis-summary", Static).update(self.symptom())
            self._show(summary=self.ticket is not None, narrative=False, structured=False)
            if self._drawn != ():
                self._drawn = None
                await narrative.update("")
                await structured.update("")
                self._drawn = ()
            return
        label = f"Diagnosis · {plain(record.backend, limit=40)}"
        if record.model:
            label += f" ({plain(record.model, limit=80)})"
        if record.error:
            failed = plain(record.error)
            status.update(Text(f"{label} · failed: {failed} · R retries", style="red"))
        elif record.finished_at is None:
            status.update(Text(f"{label} · in progress", style="cyan"))
        else:
            status.update(Text(f"{label} · finished", style="bold green"))
        drawn = (record.id, record.text, record.finished_at, record.error)
        if drawn == self._drawn:
            return
        self._drawn = None  # a newer reload may cancel this one between the two updates
        if record.result:
            runtime = self.host.runtime
            measures = runtime.config.measures if runtime is not None else ()
            self.query_one("#diagnosis-summary", Static).update(diagnosis_summary(record.result))
            self._show(summary=True, narrative=False, structured=True)
            await narrative.update("")
            await structured.update(diagnosis_markdown(record.result, measures, summarised=True))
        else:
            self._show(summary=False, narrative=True, structured=False)
            await narrative.update(safe_markdown(record.text))
            await structured.update("")
        self._drawn = drawn
        column = self.query_one("#ticket-diagnosis-col", VerticalScroll)
        column.release_anchor()
        column.scroll_home(animate=False)

    @on(DiagnosisStarted)
    async def _started(self, message: DiagnosisStarted) -> None:
        if message.ticket_id != self.ticket_id:
            return
        await self._stop_stream()
        self._live = True
        self._drawn = None
        self.query_one("#ticket-diagnosis-col", VerticalScroll).anchor()
        self.query_one("#diagnosis-status", Static).update(
            Text("Diagnosis · streaming…", style="bold cyan")
        )
        self._show(summary=False, narrative=True, structured=False)
        await self.query_one("#narrative", Markdown).update("")
        await self.query_one("#structured", Markdown).update("")

    @on(DiagnosisChunk)
    async def _chunk(self, message: DiagnosisChunk) -> None:
        if message.ticket_id != self.ticket_id or not self._live:
            return
        self.chunks_streamed += 1
        if self._stream is None:
            self._stream = Markdown.get_stream(self.query_one("#narrative", Markdown))
        await self._stream.write(safe_markdown(message.text))

    @on(DiagnosisEnded)
    async def _ended(self, message: DiagnosisEnded) -> None:
        if message.ticket_id != self.ticket_id:
            return
        await self._stop_stream()
        self._live = False
        self.reload()

    def follows(self, ticket_ids: frozenset[int]) -> bool:
        """Whether a change to these tickets changes what this screen shows."""
        return self.ticket_id in ticket_ids

    @on(TickObserved)
    def _tick(self) -> None:
        """Ages, sparklines and log lines move on every tick, not only when the ticket changes."""
        if self.is_mounted and self.ticket is not None:
            self.draw_facts()

    @on(TicketsChanged)
    def _ticket_changed(self, message: TicketsChanged) -> None:
        if self.follows(message.ticket_ids):
            self.reload()

    async def _stop_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    async def on_unmount(self) -> None:
        await self._stop_stream()
