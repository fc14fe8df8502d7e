"""Early ticks: a watched subject's wake is probed once, then ticked for, within the limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from operator_tui.core.events import EventBus
from operator_tui.core.monitor import Monitor
from operator_tui.core.tickets import TicketStore
from operator_tui.core.wakeup import Wake, WakeFn, WakeLimits, Watched
from operator_tui.testing.fake_subject import FakeSubject, clock_from

from .conftest import T0

LONG = 3600.0
"""An interval no test waits out: any tick after the first is an early one."""


class WatchedFake(FakeSubject):
    """The fake subject, plus a watch that hands its wake function to the test."""

    def __init__(self) -> None:
        super().__init__(clock=clock_from(T0))
        self.wake: WakeFn | None = None
        self.watching = asyncio.Event()

    async def watch(self, wake: WakeFn) -> None:
        self.wake = wake
        self.watching.set()
        await asyncio.Event().wait()


async def until(cond, within: float = 5.0) -> None:
    for _ in range(int(within / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def probe(answer: bool, calls: list[str] | None = None, key: str = ""):
    async def confirm() -> bool:
        if calls is not None:
            calls.append(key)
        return answer

    return confirm


@pytest.fixture
async def watched(tmp_path: Path):
    subject = WatchedFake()
    store = await TicketStore.open(tmp_path / "w.db")
    monitor = Monitor(subject, store, EventBus(), interval_s=LONG, wake_per_second=2)
    task = asyncio.create_task(monitor.run())
    await until(lambda: monitor.ticks == 1 and subject.wake is not None)
    yield monitor, subject
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await store.aclose()


def test_the_watched_protocol_is_structural() -> None:
    assert isinstance(WatchedFake(), Watched)
    assert not isinstance(FakeSubject(), Watched)


async def test_a_confirmed_wake_opens_the_ticket_without_waiting_for_the_next_tick(watched):
    monitor, subject = watched
    sub = monitor.bus.subscribe()
    subject.kill(2)
    calls: list[str] = []
    subject.wake(Wake("store 2", "connection closed", probe(True, calls, "store 2")))
    opened = await asyncio.wait_for(_next(sub, "ticket.opened"), 5.0)
    assert opened.data["ticket"]["store_id"] == 2
    assert monitor.ticks == 2  # the first tick and the early one; the grid's next is an hour off
    assert calls == ["store 2"]
    tick = await asyncio.wait_for(_next(sub, "tick"), 5.0)
    assert tick.data["woken"] == ["store 2: connection closed"]
    assert monitor.wake_counts["early_ticks"] == 1


async def test_one_dropped_connection_with_the_store_alive_opens_nothing(watched):
    monitor, subject = watched
    subject.wake(Wake("store 2", "connection closed", probe(False)))
    await until(lambda: monitor.wake_counts["unconfirmed"] == 1)
    for _ in range(20):
        await asyncio.sleep(0)
    assert monitor.ticks == 1
    assert await monitor.tickets.list_tickets(include_resolved=True) == []


async def test_a_probe_that_fails_or_hangs_is_no_confirmation(watched):
    monitor, subject = watched

    async def broken() -> bool:
        raise OSError("probe broke")

    subject.wake(Wake("store 1", "reset", broken))
    await until(lambda: monitor.wake_counts["unconfirmed"] == 1)
    assert monitor.ticks == 1


async def test_one_early_tick_per_key_per_interval(watched):
    monitor, subject = watched
    subject.wake(Wake("store 2", "closed", probe(True)))
    await until(lambda: monitor.ticks == 2)
    calls: list[str] = []
    subject.wake(Wake("store 2", "closed again", probe(True, calls)))
    assert monitor.wake_counts["limited"] == 1 and calls == []  # not even probed
    subject.wake(Wake("store 3", "closed", probe(True)))
    await until(lambda: monitor.ticks == 3)
    for _ in range(20):
        await asyncio.sleep(0)
    assert monitor.ticks == 3


async def test_wakes_together_share_one_tick_and_the_cluster_wide_bound_holds(watched):
    monitor, subject = watched
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    original = subject.observe

    async def observe():
        starts.append(loop.time())
        return await original()

    subject.observe = observe  # type: ignore[method-assign]
    for sid in range(10, 15):
        subject.wake(Wake(f"store {sid}", "closed", None))
    await until(lambda: monitor.ticks == 2)
    for sid in (20, 21, 22):  # per second: 2, and one is spent
        subject.wake(Wake(f"store {sid}", "closed", None))
        await until(lambda: not monitor._woken)
    assert monitor.wake_counts["early_ticks"] == 4
    assert len(starts) == 4
    assert all(later - earlier >= 1.0 for earlier, later in zip(starts, starts[2:], strict=False))


async def test_wakes_while_paused_are_ignored(watched):
    monitor, subject = watched
    monitor.pause()
    subject.wake(Wake("store 1", "closed", probe(True)))
    assert monitor.wake_counts["ignored"] == 1
    for _ in range(20):
        await asyncio.sleep(0)
    assert monitor.ticks == 1


def test_limits_count_a_window_of_one_second() -> None:
    limits = WakeLimits(per_key_s=2.0, per_second=2)
    assert limits.key_ready("a", 10.0) and limits.wait_s(10.0) == 0.0
    limits.take(["a"], 10.0)
    assert not limits.key_ready("a", 11.9) and limits.key_ready("a", 12.0)
    limits.take(["b", "c"], 10.4)
    assert limits.wait_s(10.5) == pytest.approx(0.5)
    assert limits.wait_s(11.0) == 0.0  # the tick at 10.0 has left the window
    limits.take(["d"], 11.0)
    assert limits.wait_s(11.1) == pytest.approx(0.3)
    assert limits.wait_s(11.4) == 0.0


async def _next(sub, kind: str):
    while True:
        ev = await sub.get()
        if ev.event == kind:
            return ev
