"""Fixtures for TiKV's offline rules: the in-memory TiKV look-alike and ticket helpers."""

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
