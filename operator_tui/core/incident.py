"""Incidents: the tickets that share one cause, and how a subject says which ones do.

A ticket is one symptom (one violation key); one fault often shows several (a slow
disk: write latency, a write stall, a slow score). An incident groups them so the
fault is diagnosed and shown once. Core holds the mechanism: when a ticket opens it
is offered to the open incidents, own target first, and the subject's
``IncidentRules`` say whether one explains it; otherwise it opens a new incident,
linked to the last resolved one on the same target and cause (a recurrence).
An incident resolves once all its tickets are resolved and stayed so for the
rules' ``settle_s``: a symptom a fault produces a moment after another resolved
(the next tick's view of the same failover) does not flap the incident.
The SQLite layout is in ``incident_store``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import Severity


class IncidentStatus(StrEnum):
    OPEN = "open"
    DIAGNOSING = "diagnosing"
    DIAGNOSED = "diagnosed"
    RESOLVED = "resolved"


@dataclass(slots=True)
class Incident:
    """``cause``: the subject's word for the kind of fault (``IncidentRules.cause`` of the
    ticket that opened it); ``lead_ticket_id``: that ticket, which a diagnosis is about."""

    id: int
    subject: str
    target: str
    store_id: int | None
    cause: str
    title: str
    severity: Severity
    status: IncidentStatus
    opened_at: datetime
    updated_at: datetime
    lead_ticket_id: int
    ticket_ids: list[int] = field(default_factory=list)
    open_tickets: int = 0
    resolved_at: datetime | None = None
    previous_incident_id: int | None = None

    def summary(self) -> dict[str, Any]:
        """The ``incident`` object of the headless events."""
        return {
            "id": self.id,
            "target": self.target,
            "store_id": self.store_id,
            "cause": self.cause,
            "severity": self.severity.value,
            "status": self.status.value,
            "title": self.title,
            "tickets": list(self.ticket_ids),
            "open_tickets": self.open_tickets,
            "lead_ticket_id": self.lead_ticket_id,
            "previous_incident_id": self.previous_incident_id,
        }


@dataclass(slots=True)
class IncidentEvent:
    id: int
    incident_id: int
    ts: datetime
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An unresolved incident as a grouping rule sees it: the incident and all its tickets
    (resolved ones too: one symptom may give way to another of the same fault in one tick)."""

    incident: Incident
    tickets: tuple[Ticket, ...]

    def has(self, invariants: set[str] | frozenset[str], store_id: int | None = None) -> bool:
        """Holds a ticket of one of ``invariants`` (on ``store_id`` when given)."""
        return any(
            t.invariant in invariants and (store_id is None or t.store_id == store_id)
            for t in self.tickets
        )

    def unresolved(self) -> list[Ticket]:
        return [t for t in self.tickets if t.status != TicketStatus.RESOLVED]


@runtime_checkable
class IncidentRules(Protocol):
    """What a subject declares (``SubjectConfig.incident_rules``) to group its tickets."""

    settle_s: float

    def cause(self, ticket: Ticket) -> str:
        """The kind of fault a ticket that opens an incident stands for."""
        ...

    def explains(self, ticket: Ticket, incident: IncidentView) -> str | None:
        """The name of the rule by which ``incident`` explains ``ticket``, or None."""
        ...


Rule = Callable[[Ticket, IncidentView], bool]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Rules as plain functions: the first that holds names the reason (its ``__name__``)."""

    cause_of: Callable[[Ticket], str]
    rules: tuple[Rule, ...] = ()
    settle_s: float = 0.0

    def cause(self, ticket: Ticket) -> str:
        return self.cause_of(ticket)

    def explains(self, ticket: Ticket, incident: IncidentView) -> str | None:
        for rule in self.rules:
            if rule(ticket, incident):
                return rule.__name__
        return None


def same_key(ticket: Ticket, incident: IncidentView) -> bool:
    """Without a subject's rules only the same symptom on the same target is the same fault
    (a ticket of that key reopening while the incident is still settling)."""
    return incident.incident.target == ticket.target and incident.incident.cause == ticket.invariant


DEFAULT_RULES = RuleSet(cause_of=lambda t: t.invariant, rules=(same_key,))


def place(
    ticket: Ticket, incidents: Sequence[IncidentView], rules: IncidentRules
) -> tuple[IncidentView, str] | None:
    """The incident that explains ``ticket`` and the rule's name, or None for a new one.

    Incidents on the ticket's own target are asked first, then the rest oldest first: a
    store's own fault explains its symptom before a fault elsewhere is considered.
    """
    ordered = sorted(incidents, key=lambda v: (v.incident.target != ticket.target, v.incident.id))
    for view in ordered:
        reason = rules.explains(ticket, view)
        if reason:
            return view, reason
    return None


def highest(severities: Sequence[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank)
