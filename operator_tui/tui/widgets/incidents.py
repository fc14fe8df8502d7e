"""Incident queue pane: one row per incident (its tickets counted), open ones first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.text import Text

from operator_tui.core.incident import Incident, IncidentStatus
from operator_tui.tui.format import STATUS_STYLES, age, right, severity_text
from operator_tui.tui.widgets.cells import right_cell
from operator_tui.tui.widgets.row_table import RowTable

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STILL_SPINNER = "⟳"


def queue_order(incidents: Iterable[Incident]) -> list[Incident]:
    """Unresolved before resolved; within each, most severe, then newest, then highest id."""
    return sorted(
        incidents,
        key=lambda i: (
            i.status == IncidentStatus.RESOLVED,
            -i.severity.rank,
            -i.opened_at.timestamp(),
            -i.id,
        ),
    )


def matches(incident: Incident, query: str) -> bool:
    """Every whitespace-separated term of ``query`` appears in the incident's visible fields."""
    haystack = " ".join(
        (
            f"#{incident.id}",
            incident.cause,
            incident.target,
            incident.severity.value,
            incident.status.value,
            incident.title,
        )
    ).lower()
    return all(term in haystack for term in query.lower().split())


def status_text(incident: Incident, frame: int | None) -> Text:
    """Status cell; ``frame`` None draws a still glyph (snapshots, benchmarks)."""
    label = incident.status.value
    if incident.status == IncidentStatus.DIAGNOSING:
        glyph = STILL_SPINNER if frame is None else SPINNER[frame % len(SPINNER)]
        label = f"{glyph} {label}"
    return Text(label, style=STATUS_STYLES.get(incident.status.value, ""))


def tickets_text(incident: Incident) -> Text:
    """``3`` tickets, ``2/3`` when some of them are resolved already."""
    total = len(incident.ticket_ids)
    shown = (
        str(total) if incident.open_tickets in (0, total) else f"{incident.open_tickets}/{total}"
    )
    return right(shown)


class IncidentTable(RowTable):
    COLUMNS = (
        ("#", "id", 4),
        ("Severity", "severity", 8),
        ("Status", "status", 12),
        ("Cause", "cause", 14),
        ("Target", "target", 7),
        ("Tix", "tickets", 4),
        ("Age", "age", 5),
    )

    FIT = frozenset({"id", "target", "tickets", "age"})
    SHRINK = frozenset({"cause", "status"})
    SORT_LETTERS = {"id": "I"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.incidents: list[Incident] = []
        self._by_key: dict[str, Incident] = {}
        self.frame: int | None = 0
        self._row_cells: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        """Incident id -> (what its row shows, the cells it was drawn with): an incident that
        looks as it did is handed over as the same cells, which the diff skips by identity."""

    @property
    def query_text(self) -> str:
        return self.filter_text

    @query_text.setter
    def query_text(self, value: str) -> None:
        self.filter_text = value.strip()

    def sort_value_of(self, key: str, column: str, cell: Any) -> Any:
        incident = self._by_key.get(key)
        if incident is None:
            return cell
        if column == "severity":
            return incident.severity.rank
        if column == "age":
            return -incident.opened_at.timestamp()
        if column == "tickets":
            return len(incident.ticket_ids)
        if column == "status":
            return incident.status.value
        return cell

    def row_matches(self, key: str, cells: tuple[Any, ...], terms: list[str]) -> bool:
        incident = self._by_key.get(key)
        return incident is not None and matches(incident, " ".join(terms))

    def apply(self, incidents: list[Incident], now: datetime) -> bool:
        self.incidents = incidents
        self._by_key = {str(i.id): i for i in incidents}
        return self.redraw(now)

    def shown_incidents(self) -> list[Incident]:
        """The incidents as the table shows them (filtered, in its order)."""
        return [self._by_key[key] for key in self.row_keys if key in self._by_key]

    def redraw(self, now: datetime) -> bool:
        rows: list[tuple[int, tuple[Any, ...]]] = []
        kept = self._row_cells
        fresh: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        for i in queue_order(self.incidents):
            frame = self.frame if i.status == IncidentStatus.DIAGNOSING else None
            shown_age = age(now, i.opened_at)
            look = (
                i.severity,
                i.status,
                frame,
                i.cause,
                i.target,
                len(i.ticket_ids),
                i.open_tickets,
                shown_age,
            )
            seen = kept.get(i.id)
            if seen is not None and seen[0] == look:
                cells = seen[1]
            else:
                cells = (
                    i.id,
                    severity_text(i.severity),
                    status_text(i, self.frame),
                    i.cause,
                    i.target,
                    tickets_text(i),
                    right_cell(shown_age),
                )
            fresh[i.id] = (look, cells)
            rows.append((i.id, cells))
        self._row_cells = fresh
        return self.set_rows(rows)

    @property
    def selected_incident_id(self) -> int | None:
        key = self.selected_key
        return None if key is None else int(key)

    def incident(self, incident_id: int) -> Incident | None:
        return next((i for i in self.incidents if i.id == incident_id), None)

    @property
    def selected_ticket_id(self) -> int | None:
        """The selected incident's lead ticket: what R and a act on."""
        chosen = self.selected_incident_id
        found = self.incident(chosen) if chosen is not None else None
        return found.lead_ticket_id if found is not None else None

    @property
    def diagnosing(self) -> bool:
        return any(i.status == IncidentStatus.DIAGNOSING for i in self.incidents)

    def spin(self) -> None:
        """Advance the spinner of the diagnosing rows only."""
        if self.frame is None:
            return
        self.frame += 1
        self.set_cells(
            "status",
            {
                str(i.id): status_text(i, self.frame)
                for i in self.incidents
                if i.status == IncidentStatus.DIAGNOSING
            },
        )
