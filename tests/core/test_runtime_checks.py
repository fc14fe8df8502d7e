"""The runtime asks a subject that checks its actions before and after, and never runs one twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from operator_tui.core.subject import ActionCheck, CheckedActions
from operator_tui.core.tickets import TicketStore
from operator_tui.testing.fake_subject import FakeSubject
from tests.core.test_runtime import diagnosed, make_runtime


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TicketStore]:
    s = await TicketStore.open(tmp_path / "t.db", subject="fake")
    yield s
    await s.aclose()


class CheckingFake(FakeSubject):
    def __init__(self) -> None:
        super().__init__()
        self.before = ActionCheck(True, "as seen")
        self.after = ActionCheck(True, "PD's config now reads 128")
        self.checked: list[tuple[str, str, dict[str, Any]]] = []

    async def precheck(
        self, action: str, args: dict[str, Any], current: dict[str, Any]
    ) -> ActionCheck:
        self.checked.append(("before", action, current))
        return self.before

    async def verify(self, action: str, args: dict[str, Any]) -> ActionCheck:
        self.checked.append(("after", action, args))
        return self.after


async def test_checked_before_and_verified_after(tmp_path, store, wait_event) -> None:
    fake = CheckingFake()
    assert isinstance(fake, CheckedActions)
    rt = make_runtime(tmp_path, fake, store, actions_mode="approve")
    tid = await diagnosed(rt, fake, wait_event)
    proposed = [e for e in await rt.ticket_events(tid) if e.kind == "action.proposed"]
    assert proposed[0].detail["current"] == {"n": 64} and proposed[0].detail["done"] is False
    result = await rt.approve(tid)
    assert result.ok and result.verified is True and "now reads 128" in result.message
    assert fake.checked == [
        ("before", "set_replica_schedule_limit", {"n": 64}),
        ("after", "set_replica_schedule_limit", {"n": 128}),
    ]
    done = [e for e in await rt.ticket_events(tid) if e.kind == "action.done"]
    assert done[-1].detail["verified"] is True
    again = await rt.approve(tid)
    assert again.refused and "already done" in again.message
    assert len(fake.executed) == 1


async def test_a_failed_precheck_refuses_and_a_done_one_is_not_run(
    tmp_path, store, wait_event
) -> None:
    fake = CheckingFake()
    fake.before = ActionCheck(False, "PD's value moved from 64 to 32 since the diagnosis")
    rt = make_runtime(tmp_path, fake, store, actions_mode="approve")
    tid = await diagnosed(rt, fake, wait_event)
    refused = await rt.approve(tid)
    assert refused.refused and not refused.ok and "moved from 64 to 32" in refused.message
    assert fake.executed == []
    fake.before = ActionCheck(True, "PD already runs it at 128", done=True)
    done = await rt.approve(tid)
    assert done.ok and not done.refused and "already runs it at 128" in done.message
    assert fake.executed == []


async def test_unverified_change_is_recorded(tmp_path, store, wait_event) -> None:
    fake = CheckingFake()
    fake.after = ActionCheck(False, "PD's config now reads 64")
    rt = make_runtime(tmp_path, fake, store, actions_mode="approve")
    tid = await diagnosed(rt, fake, wait_event)
    result = await rt.approve(tid)
    assert result.ok and result.verified is False
    done = [e for e in await rt.ticket_events(tid) if e.kind == "action.done"]
    assert done[-1].detail["verified"] is False and "reads 64" in done[-1].detail["message"]
