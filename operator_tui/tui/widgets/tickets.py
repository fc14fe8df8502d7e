"""Ticket queue pane: open tickets first, then most severe, then newest."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from rich.text import Text

from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.tui.format import STATUS_STYLES, age, right, severity_text, shown
from operator_tui.tui.widgets.row_table import RowTable

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STILL_SPINNER = "⟳"


def queue_order(tickets: Iterable[Ticket]) -> list[Ticket]:
    """Unresolved before resolved; within each, most severe, then newest, then highest id."""
    return sorted(
        tickets,
        key=lambda t: (
            t.status == TicketStatus.RESOLVED,
            -t.severity.rank,
            -t.first_seen.timestamp(),
            -t.id,
        ),
    )


def matches(ticket: Ticket, query: str) -> bool:
    """Every whitespace-separated term of ``query`` appears in the ticket's visible fields."""
    haystack = " ".join(
        (
            f"#{ticket.id}",
            ticket.invariant,
            ticket.target,
            ticket.severity.value,
            ticket.status.value,
            ticket.message,
        )
    ).lower()
    return all(term in haystack for term in query.lower().split())


def status_text(ticket: Ticket, frame: int | None) -> Text:
    """Status cell; ``frame`` None draws a still glyph (snapshots, benchmarks)."""
    if ticket.status == TicketStatus.DIAGNOSING:
        glyph = STILL_SPINNER if frame is None else SPINNER[frame % len(SPINNER)]
        return _status_cell(f"{glyph} {ticket.status.value}", ticket.status)
    if ticket.diagnosis_failed and ticket.status != TicketStatus.RESOLVED:
        return _status_cell("failed", "failed")
    return _status_cell(ticket.status.value, ticket.status)


@lru_cache(maxsize=64)
def _status_cell(label: str, status: str) -> Text:
    return Text(label, style="bold red" if status == "failed" else STATUS_STYLES.get(status, ""))


class TicketTable(RowTable):
    COLUMNS = (
        ("#", "id", 4),
        ("Severity", "severity", 8),
        ("Status", "status", 12),
        ("Invariant", "invariant", 19),
        ("Target", "target", 7),
        ("Age", "age", 5),
    )

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.tickets: list[Ticket] = []
        self.query_text = ""
        self.frame: int | None = 0

    def apply(self, tickets: list[Ticket], now: datetime) -> bool:
        self.tickets = tickets
        return self.redraw(now)

    def shown_tickets(self) -> list[Ticket]:
        shown = (
            self.tickets
            if not self.query_text
            else [t for t in self.tickets if matches(t, self.query_text)]
        )
        return queue_order(shown)

    def redraw(self, now: datetime) -> bool:
        rows: list[tuple[int, tuple[Any, ...]]] = [
            (
                t.id,
                (
                    t.id,
                    severity_text(t.severity),
                    status_text(t, self.frame),
                    shown(t.invariant),
                    shown(t.target),
                    right(age(now, t.first_seen)),
                ),
            )
            for t in self.shown_tickets()
        ]
        return self.set_rows(rows)

    @property
    def selected_ticket_id(self) -> int | None:
        key = self.selected_key
        return None if key is None else int(key)

    def ticket(self, ticket_id: int) -> Ticket | None:
        return next((t for t in self.tickets if t.id == ticket_id), None)

    @property
    def diagnosing(self) -> bool:
        return any(t.status == TicketStatus.DIAGNOSING for t in self.tickets)

    def spin(self) -> None:
        """Advance the spinner of the diagnosing rows only."""
        if self.frame is None:
            return
        self.frame += 1
        self.set_cells(
            "status",
            {
                str(t.id): status_text(t, self.frame)
                for t in self.tickets
                if t.status == TicketStatus.DIAGNOSING
            },
        )
