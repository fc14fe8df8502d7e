"""Shared fixtures for the core tests: an in-memory subject and ticket helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from operator_tui.testing.fake_subject import FakeSubject, clock_from
from operator_tui.testing.tickets import ticket_for

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeSubject:
    return FakeSubject(clock=clock_from(T0))


@pytest.fixture
def make_ticket():
    return ticket_for


async def wait_for_event(sub, kind: str, within: float = 5.0, **match):
    """The next event of ``kind`` (with matching fields) from a subscription, bounded in time."""
    import asyncio

    async def find():
        while True:
            ev = await sub.get()
            if ev.event == kind and all(ev.data.get(k) == v for k, v in match.items()):
                return ev

    return await asyncio.wait_for(find(), within)


@pytest.fixture
def wait_event():
    return wait_for_event
