"""The monitor loop: fixed-rate grid, no overlap, slow ticks reported, pause/resume/tick now/interval."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from operator_tui.core.events import EventBus
from operator_tui.core.monitor import FixedRateSchedule, Monitor, snapshot_dict, tick_summary
from operator_tui.core.subject import Figure
from operator_tui.core.tickets import TicketStore
from operator_tui.testing.fake_subject import FakeSubject


def test_schedule_keeps_the_grid() -> None:
    s = FixedRateSchedule(2.0, start=100.0)
    assert s.is_due(100.0) and not s.is_due(99.9)
    assert s.advance(100.3) == 0 and s.due == 102.0
    assert s.advance(102.9) == 0 and s.due == 104.0  # a late tick does not push the grid
    assert s.advance(109.5) == 2 and s.due == 110.0  # overran 106 and 108: skipped, not stacked
    assert s.skipped == 2
    s.set_interval(10.0, now=110.5)
    assert s.due == 110.0
    s.set_interval(0.5, now=109.0)
    assert s.due == 109.5
    s.restart(200.0)
    assert s.is_due(200.0)


@pytest.fixture
async def monitor(tmp_path: Path, fake: FakeSubject):
    store = await TicketStore.open(tmp_path / "m.db")
    bus = EventBus()
    m = Monitor(fake, store, bus, interval_s=0.1)
    yield m
    await store.aclose()


class Loop:
    def __init__(self, m: Monitor) -> None:
        self.m = m

    async def __aenter__(self) -> Monitor:
        self.task = asyncio.create_task(self.m.run())
        return self.m

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def until(cond, within: float = 3.0) -> None:
    """Wait (bounded) for a condition the loop makes true; the machine may be busy."""
    for _ in range(int(within / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def record_starts(fake: FakeSubject) -> tuple[list[float], dict[str, int]]:
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    live = {"now": 0, "peak": 0}
    original = fake.observe

    async def observe():
        starts.append(loop.time())
        live["now"] += 1
        live["peak"] = max(live["peak"], live["now"])
        try:
            return await original()
        finally:
            live["now"] -= 1

    fake.observe = observe  # type: ignore[method-assign]
    return starts, live


async def test_fixed_rate_without_drift(monitor: Monitor, fake: FakeSubject) -> None:
    starts, _ = record_starts(fake)
    async with Loop(monitor):
        await asyncio.sleep(0.65)
    assert 2 <= len(starts) <= 8
    t0 = starts[0]
    for k, t in enumerate(starts):
        assert t - t0 >= k * 0.1 - 0.01  # never early: each tick sits on its grid slot or after it
    # lateness does not accumulate: the last tick is at most one late tick off its slot
    assert starts[-1] - t0 <= (len(starts) - 1) * 0.1 + 0.15


async def test_slow_tick_reported_not_stacked(monitor: Monitor, fake: FakeSubject) -> None:
    starts, live = record_starts(fake)
    fake.observe_delay_s = 0.25
    sub = monitor.bus.subscribe()
    async with Loop(monitor):
        for _ in range(5):
            monitor.tick_now()
            await asyncio.sleep(0.03)
        await asyncio.sleep(0.4)
    assert live["peak"] == 1
    events = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    slow = [e for e in events if e.event == "error" and e.data.get("kind") == "slow_tick"]
    assert slow and slow[0].data["skipped"] >= 1 and "longer than" in slow[0].data["message"]
    assert len(starts) <= 5


async def test_pause_resume_tick_now(monitor: Monitor, fake: FakeSubject) -> None:
    starts, _ = record_starts(fake)
    sub = monitor.bus.subscribe()
    async with Loop(monitor):
        await asyncio.sleep(0.05)
        monitor.pause()
        await asyncio.sleep(0.05)
        paused_at = len(starts)
        await asyncio.sleep(0.3)
        assert len(starts) == paused_at
        monitor.tick_now()
        await until(lambda: len(starts) == paused_at + 1)
        await asyncio.sleep(0.2)
        assert len(starts) == paused_at + 1
        monitor.resume()
        await until(lambda: len(starts) >= paused_at + 3)
    kinds = [sub.queue.get_nowait().event for _ in range(sub.queue.qsize())]
    assert "monitor.paused" in kinds and "monitor.resumed" in kinds
    assert monitor.paused is False


async def test_set_interval_takes_effect(monitor: Monitor, fake: FakeSubject) -> None:
    starts, _ = record_starts(fake)
    monitor.interval_s = 30.0
    async with Loop(monitor):
        await until(lambda: len(starts) == 1)
        await asyncio.sleep(0.1)
        assert len(starts) == 1
        assert monitor.set_interval(0.05) == 0.05
        await until(lambda: len(starts) >= 4)


async def test_snapshot_dict_is_json_ready(fake: FakeSubject) -> None:
    import json

    fake.kill(1)
    fake.log(2, "became_leader", "x")
    snap = await fake.observe()
    d = json.loads(json.dumps(snapshot_dict(snap), default=str))
    assert d["stores"][0]["state"] == "Disconnected"
    assert d["store_metrics"]["1"]["reachable"] is False
    assert d["log_events"][0]["kind"] == "became_leader" and "raw" not in d["log_events"][0]


async def test_the_tick_summary_carries_the_figures_the_subject_names_for_it(
    fake: FakeSubject,
) -> None:
    snap = await fake.observe()
    figures = (
        Figure("pd_leader", "leader", lead=True),
        Figure("region_count", "shards", event="shards"),
        Figure("not_measured", "n", event="later"),
    )
    summary = tick_summary(snap, figures)
    assert list(summary) == ["stores_up", "stores_total", "shards", "later", "qps", "p99_ms"]
    assert (summary["shards"], summary["later"]) == (100, None)
    assert list(tick_summary(snap)) == ["stores_up", "stores_total", "qps", "p99_ms"]


async def test_snapshot_of_a_large_cluster_is_bounded() -> None:
    from operator_tui.core.monitor import SNAPSHOT_STORES

    fake = FakeSubject(stores=300)
    fake.kill(250)
    snap = await fake.observe()
    d = snapshot_dict(snap, {270})
    ids = [s["id"] for s in d["stores"]]
    assert len(ids) == SNAPSHOT_STORES and 270 in ids and 250 in ids and 1 in ids
    assert set(d["store_metrics"]) == {str(i) for i in ids}
    assert d["stores_in_cluster"] == 300


async def test_each_tick_feeds_the_history(monitor: Monitor, fake: FakeSubject) -> None:
    fake.log(1, "became_leader", "region 7 became leader")
    await monitor.tick_once()
    await monitor.tick_once()
    points = monitor.history.metric_history(1)
    assert len(points) == 2 and points[0][0] <= points[1][0]
    [logged] = monitor.history.recent_log_events(store_id=1)
    assert logged.kind == "became_leader"


async def test_an_unobservable_tick_adds_no_history(monitor: Monitor, fake: FakeSubject) -> None:
    await monitor.tick_once()
    fake.unreachable = True
    await monitor.tick_once()
    assert len(monitor.history.metric_history(1)) == 1


async def test_a_new_episode_while_the_ticket_is_open_is_its_own_event_and_diagnosis(
    monitor: Monitor, fake: FakeSubject, monkeypatch
) -> None:
    from operator_tui.core.monitor import EPISODE
    from operator_tui.core.ticket import TicketStatus
    from operator_tui.core.types import Severity, Violation

    episode = {"now": "a->b@1"}

    def evaluate(snapshot):
        details = {EPISODE: episode["now"]}
        return [Violation("leader_changed", Severity.WARNING, episode["now"], None, details)]

    monkeypatch.setattr(fake, "evaluate", evaluate)
    sub = monitor.bus.subscribe()
    woken: list[int] = []
    monitor.on_opened = lambda tickets: woken.extend(t.id for t in tickets)
    await monitor.tick_once()
    [ticket] = await monitor.tickets.list_tickets()
    await monitor.tickets.finish_diagnosis(
        await monitor.tickets.start_diagnosis(ticket.id, "offline", None), {}, text="first"
    )
    await monitor.tick_once()  # the same episode: one more occurrence, nothing new
    assert woken == [ticket.id]
    episode["now"] = "b->c@2"  # a second change inside the hold
    await monitor.tick_once()
    assert woken == [ticket.id, ticket.id]
    kinds = []
    while not sub.queue.empty():
        kinds.append(sub.queue.get_nowait())
    recurred = [e for e in kinds if e.event == "ticket.recurred"]
    assert len(recurred) == 1 and recurred[0].data["episode"] == "b->c@2"
    again = await monitor.tickets.get_ticket(ticket.id)
    assert again is not None and again.status == TicketStatus.OPEN  # queued for a new diagnosis
    assert [e.kind for e in await monitor.tickets.events(ticket.id)].count("recurred") == 1
    await monitor.tick_once()
    assert woken == [ticket.id, ticket.id]
