"""Fixtures for the Claude backend tests: the loopback Messages API and a ready context."""

from __future__ import annotations

from typing import Any

import pytest

from operator_tui.core.diagnosis.claude import ClaudeDiagnoser, make_client
from operator_tui.core.diagnosis.context import DiagnosisContext, build_context
from operator_tui.testing.fake_subject import FakeSubject
from operator_tui.testing.messages_api import MessagesAPIServer


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
    return build_context(make_ticket(v, snap.taken_at, ticket_id=7), fake, snap)


def good_input(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "observation": "Store 2 stopped answering.",
        "root_cause": "TiKV store 2 process is gone.",
        "root_cause_class": "store_down",
        "target": 2,
        "correlated_metrics": [
            {"metric": "qps", "store_id": 1, "value": 1500.0, "baseline": 1000.0}
        ],
        "options_considered": [
            {"option": "drain store 2", "rejected_because": "irreversible"},
            {"option": "wait", "rejected_because": "regions under-replicated"},
        ],
        "recommended_actions": [
            {
                "action": "set_replica_schedule_limit",
                "args": {"n": 16},
                "rationale": "repair faster",
                "risk": "medium",
            }
        ],
        "confidence": 0.8,
        "severity": "critical",
    }
    data.update(over)
    return data


@pytest.fixture
def good():
    return good_input
