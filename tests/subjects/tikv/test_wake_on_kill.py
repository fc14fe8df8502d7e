"""Against the simulated cluster: a kill, or the PD leader moving, is ticked for at once, not on the grid.

The interval is an hour, so after the first tick every tick in these tests is an early
one; the kill goes straight to the simulator's control API (the runtime's own kill key
would tick at once by itself).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from operator_tui.bootstrap import open_runtime
from operator_tui.config import load_settings
from operator_tui.core.subject import DemoOptions

pytest.importorskip("operator_tikv.sim")

HOUR = 3600.0


def settings_for(tmp_path: Path, **tikv):
    return load_settings(
        storage={"db_path": tmp_path / "w.db"},
        monitor={"interval_s": HOUR},
        diagnosis={"backend": "offline"},
        **({"tikv": tikv} if tikv else {}),
    )


async def until(cond) -> None:
    for _ in range(2000):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def next_event(sub, kind: str, test=lambda d: True):
    while True:
        ev = await sub.get()
        if ev.event == kind and test(ev.data):
            return ev


async def test_a_kill_opens_its_ticket_on_the_tick_the_closed_connection_asks_for(tmp_path):
    async with open_runtime(
        settings_for(tmp_path), demo=DemoOptions(max_store_down_time_s=60)
    ) as rt:
        sub = rt.bus.subscribe()
        task = asyncio.create_task(rt.run_monitor())
        try:
            async with asyncio.timeout(60):
                first = await next_event(sub, "tick")
                assert first.data["stores_up"] == 3
                watch = rt.subject.store_watch
                await until(lambda: watch.open_connections == 3)
                assert rt.chaos is not None
                await rt.chaos.kill_store(2)
                opened = await next_event(
                    sub, "ticket.opened", lambda d: d["ticket"]["invariant"] == "store_down"
                )
                assert opened.data["ticket"]["store_id"] == 2
                assert rt.monitor.ticks == 2  # the first, and the one the wake asked for
                assert rt.monitor.wake_counts["early_ticks"] == 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_without_the_watch_the_kill_waits_for_the_grid(tmp_path):
    async with open_runtime(
        settings_for(tmp_path, watch_stores=False, pd_leader_poll_s=0),
        demo=DemoOptions(max_store_down_time_s=60),
    ) as rt:
        sub = rt.bus.subscribe()
        task = asyncio.create_task(rt.run_monitor())
        try:
            async with asyncio.timeout(60):
                await next_event(sub, "tick")
                assert rt.chaos is not None
                await rt.chaos.kill_store(2)
                for _ in range(50):
                    await asyncio.sleep(0.01)
                assert rt.monitor.ticks == 1
                assert await rt.list_tickets() == []
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_the_pd_leader_moving_wakes_the_monitor(tmp_path):
    async with open_runtime(
        settings_for(tmp_path, pd_leader_poll_s=0.05),
        demo=DemoOptions(max_store_down_time_s=60),
    ) as rt:
        sub = rt.bus.subscribe()
        task = asyncio.create_task(rt.run_monitor())
        try:
            async with asyncio.timeout(60):
                await next_event(sub, "tick")
                leader = rt.subject.leader_watch
                await until(lambda: bool(leader.leader))
                before = leader.leader
                assert rt.chaos is not None
                await rt.chaos.inject_fault("kill_pd_leader", None, {})
                tick = await next_event(sub, "tick", lambda d: "woken" in d)
                assert any("pd leader" in w for w in tick.data["woken"])
                assert rt.monitor.ticks >= 2 and leader.leader != before
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
