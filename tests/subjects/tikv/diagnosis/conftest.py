"""Fixtures for TiKV's offline rules: the in-memory TiKV look-alike and ticket helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import Violation
from operator_tui.testing.fake_subject import FakeSubject, clock_from

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeSubject:
    return FakeSubject(clock=clock_from(T0))


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


@pytest.fixture
def make_ticket():
    return ticket_for
