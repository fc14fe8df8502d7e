"""An open ticket for a violation, as the ticket store would make it, for diagnosis tests."""

from __future__ import annotations

from datetime import datetime

from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import Violation


def ticket_for(v: Violation, first_seen: datetime, ticket_id: int = 1) -> Ticket:
    return Ticket(
        id=ticket_id,
        violation_key=v.key,
        invariant=v.invariant,
        subject="fake",
        target=v.target,
        store_id=v.store_id,
        severity=v.severity,
        status=TicketStatus.OPEN,
        message=v.message,
        first_seen=first_seen,
        last_seen=first_seen,
    )
