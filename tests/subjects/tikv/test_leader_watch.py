"""The PD leader watch: a new name wakes the monitor, a blip that does not hold is not confirmed."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from operator_tikv.pd import PDClient
from operator_tikv.pd.leader_watch import KEY, LeaderWatch

from operator_tui.core.wakeup import Wake


def pd_answering(names: list[str | None]):
    """A PD whose ``/leader`` answers the names in turn (None: 503, no leader), then the last."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/pd/api/v1/leader"
        name = names.pop(0) if len(names) > 1 else names[0]
        seen.append(str(name))
        if name is None:
            return httpx.Response(
                503, text="[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"
            )
        return httpx.Response(200, content=json.dumps({"name": name, "member_id": 1}))

    return handler, seen


async def first_wake(names: list[str | None], polls: int = 20) -> tuple[Wake | None, LeaderWatch]:
    """Watch until the first wake (or ``polls`` reads), stop, then return it unconfirmed."""
    handler, _seen = pd_answering(names)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    pd = PDClient(http, ["http://127.0.0.1:2379"], retries=0, call_budget_s=0.2)
    watch = LeaderWatch(pd, poll_s=0.002, timeout_s=0.5)
    wakes: list[Wake] = []
    task = asyncio.create_task(watch.watch(wakes.append))
    for _ in range(2000):
        if wakes or watch.polls >= polls:
            break
        await asyncio.sleep(0.001)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    OPEN.append(http)
    return (wakes[0] if wakes else None), watch


OPEN: list[httpx.AsyncClient] = []


@pytest.fixture(autouse=True)
async def close_clients():
    yield
    while OPEN:
        await OPEN.pop().aclose()


async def test_the_same_leader_wakes_nothing():
    wake, watch = await first_wake(["pd-1"], polls=5)
    assert wake is None and watch.leader == "pd-1"


async def test_a_new_leader_wakes_the_monitor_and_the_probe_sees_it_hold():
    wake, _watch = await first_wake(["pd-1", "pd-1", "pd-2"])
    assert wake is not None and wake.key == KEY
    assert wake.reason == "PD leader moved from pd-1 to pd-2"
    assert wake.confirm is not None and await wake.confirm()


async def test_a_leader_missing_for_one_read_is_not_confirmed():
    wake, _watch = await first_wake(["pd-1", None, "pd-1"])
    assert wake is not None and wake.reason == "no PD member answers /leader (was pd-1)"
    assert wake.confirm is not None and not await wake.confirm()
