"""Ticket records as the rest of the program sees them (the SQLite layout is in ``tickets``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from operator_tui.core.types import Severity


class TicketStatus(StrEnum):
    OPEN = "open"
    DIAGNOSING = "diagnosing"
    DIAGNOSED = "diagnosed"
    RESOLVED = "resolved"


@dataclass(slots=True)
class Ticket:
    id: int
    violation_key: str
    invariant: str
    subject: str
    target: str
    store_id: int | None
    severity: Severity
    status: TicketStatus
    message: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int = 1
    resolved_at: datetime | None = None
    previous_ticket_id: int | None = None
    snapshot: dict[str, Any] = field(default_factory=dict)
    diagnosis_failed: bool = False

    def summary(self) -> dict[str, Any]:
        """The ``ticket`` object of the headless events."""
        return {
            "id": self.id,
            "invariant": self.invariant,
            "store_id": self.store_id,
            "target": self.target,
            "severity": self.severity.value,
            "status": self.status.value,
            "message": self.message,
            "occurrences": self.occurrences,
        }


@dataclass(slots=True)
class DiagnosisRecord:
    id: int
    ticket_id: int
    backend: str
    model: str | None
    text: str
    result: dict[str, Any] | None
    input_tokens: int | None
    output_tokens: int | None
    started_at: datetime
    finished_at: datetime | None
    error: str | None = None
    investigation: list[dict[str, Any]] = field(default_factory=list)
    """The tool calls the diagnosis made: ``{tool, input, ok, result_chars, ms, summary}``."""
    cost_usd: float | None = None


@dataclass(slots=True)
class TicketEvent:
    id: int
    ticket_id: int
    ts: datetime
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
