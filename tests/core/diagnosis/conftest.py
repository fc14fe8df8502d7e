"""Fixtures for the Claude backend tests: the loopback Messages API and a ready context."""

from __future__ import annotations

import pytest

from operator_tui.core.diagnosis.claude import ClaudeDiagnoser, make_client
from operator_tui.core.diagnosis.context import DiagnosisContext, build_context
from operator_tui.testing.fake_subject import FakeSubject
from operator_tui.testing.messages_api import MessagesAPIServer
from operator_tui.testing.samples import diagnosis_input


@pytest.fixture
async def api():
    async with MessagesAPIServer() as server:
        yield server


@pytest.fixture
async def claude(api: MessagesAPIServer):
    d = ClaudeDiagnoser(
        make_client("sk-test", api.base_url, timeout_s=10),
        model="claude-test-model",
        max_tokens=2048,
    )
    yield d
    await d.aclose()


@pytest.fixture
async def store_down_context(fake: FakeSubject, make_ticket) -> DiagnosisContext:
    for _ in range(3):
        await fake.observe()
    fake.kill(2)
    snap = await fake.observe()
    [v] = [v for v in fake.evaluate(snap) if v.invariant == "store_down"]
    return build_context(
        make_ticket(v, snap.taken_at, ticket_id=7), fake, snap, history=fake.history
    )


@pytest.fixture
def good():
    return diagnosis_input
