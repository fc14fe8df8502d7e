"""Direct metrics spread over a scrape interval, as Prometheus reads its targets, and a dead
store seen every tick through the connection kept to it (closed by the kernel when the
process dies), without reading its page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from operator_tikv.metrics.direct import DirectMetrics
from operator_tikv.metrics.fetch import FetchError, Page, StreamFetcher
from operator_tikv.plugin import plugin
from operator_tikv.records import TikvStore
from operator_tikv.settings import TikvSettings
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.demo import subject_settings
from operator_tikv.states import StoreState

from operator_tui.core.subject import SubjectContext


class FakeFetcher:
    """Pages by URL. ``closed`` URLs have a kept connection the store ended; ``dead`` refuse."""

    def __init__(self, page: Callable[[], str]) -> None:
        self.page = page
        self.closed: set[str] = set()
        self.dead: set[str] = set()
        self.unresolved: set[str] = set()
        self.broken: set[str] = set()
        self.reads: list[str] = []
        self.checks = 0

    async def get(self, url: str, timeout_s: float) -> Page:
        self.reads.append(url)
        self.closed.discard(url)
        if url in self.dead:
            raise FetchError("connection refused", reachable=False)
        if url in self.unresolved:
            raise FetchError("Name or service not known", reachable=True, unresolved=True)
        return Page(500 if url in self.broken else 200, self.page())

    def peer_closed(self, url: str) -> bool:
        self.checks += 1
        return url in self.closed

    async def aclose(self) -> None:
        """Nothing held."""

    def read_ids(self) -> list[int]:
        ids = sorted(int(url.split("//tikv")[1].split(":")[0]) for url in self.reads)
        self.reads.clear()
        return ids


def url_of(sid: int) -> str:
    return f"http://tikv{sid}:20180/metrics"


def stores_of(count: int, **states: StoreState) -> list[TikvStore]:
    return [
        TikvStore(
            id=i,
            address=f"tikv{i}:20160",
            state=states.get(f"s{i}", StoreState.UP),
            status_address=f"tikv{i}:20180",
        )
        for i in range(1, count + 1)
    ]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.mark.parametrize(
    ("stores", "expected"),
    [(3, 3), (12, 12), (13, 12), (90, 12), (91, 13), (100, 14), (1000, 134)],
)
def test_automatic_reads_per_tick(http, stores, expected):
    direct = DirectMetrics(http)
    assert direct.reads_per_tick(stores) == expected


def test_other_tick_and_scrape_intervals(http):
    assert DirectMetrics(http, interval_s=5, scrape_interval_s=5).reads_per_tick(100) == 100
    assert DirectMetrics(http, interval_s=1, scrape_interval_s=30).reads_per_tick(1000) == 34
    assert DirectMetrics(http, interval_s=0.2, scrape_interval_s=0.6).reads_per_tick(300) == 100
    assert DirectMetrics(http, interval_s=20).reads_per_tick(100) == 100
    assert DirectMetrics(http, min_per_tick=1).reads_per_tick(3) == 1


def test_explicit_budgets(http):
    assert DirectMetrics(http, budget=5).reads_per_tick(100) == 5
    assert DirectMetrics(http, budget=5).reads_per_tick(3) == 3
    assert DirectMetrics(http, budget="all").reads_per_tick(1000) == 1000
    for bad in (0, -3, True):
        with pytest.raises(ValueError, match="at least 1"):
            DirectMetrics(http, budget=bad)
    with pytest.raises(ValueError, match="positive"):
        DirectMetrics(http, scrape_interval_s=0)


@pytest.mark.parametrize("count", [20, 100, 1000])
async def test_every_store_is_read_once_per_scrape_interval_on_average(http, tk, count):
    now = [0.0]
    fetcher = FakeFetcher(lambda: tk.metrics_page(grpc_count=1000 + 100 * now[0]))
    direct = DirectMetrics(http, fetcher=fetcher, clock=lambda: now[0])
    stores = stores_of(count)
    last_read: dict[int, float] = {}
    gaps: list[float] = []
    per_tick: list[int] = []
    for tick in range(60):
        now[0] = tick * 2.0
        result = await direct.collect(stores)
        assert fetcher.read_ids() == sorted(result.fresh)
        per_tick.append(len(result.fresh))
        for sid in result.fresh:
            if sid in last_read:
                gaps.append(now[0] - last_read[sid])
                assert result.by_store[sid].qps == pytest.approx(100)  # over the whole gap
            last_read[sid] = now[0]
        if tick >= 8:  # the first pass is over: every store has figures, none too old
            assert set(result.by_store) == {s.id for s in stores}
            assert max(now[0] - t for t in last_read.values()) <= 16.0
    most = direct.reads_per_tick(count)
    assert max(gaps) <= 16.0  # the scrape interval, plus at most one tick
    assert set(per_tick) <= {most - 1, most}  # evenly spread, no bursts
    if count * 2 / 15 > direct.min_per_tick:
        steady = gaps[len(gaps) // 2 :]
        assert sum(steady) / len(steady) == pytest.approx(15.0, abs=0.25)
        assert sum(per_tick[8:]) / len(per_tick[8:]) == pytest.approx(count * 2 / 15, abs=0.5)


async def test_ticks_running_late_still_read_every_store_about_once_per_interval(http, tk):
    now = [0.0]
    fetcher = FakeFetcher(tk.metrics_page)
    direct = DirectMetrics(http, fetcher=fetcher, clock=lambda: now[0])
    stores = stores_of(100)
    last_read: dict[int, float] = {}
    gaps: list[float] = []
    for tick in range(30):
        now[0] = tick * 3.0  # the monitor ticks every 3 s, not the 2 s it was told
        for sid in (await direct.collect(stores)).fresh:
            if sid in last_read:
                gaps.append(now[0] - last_read[sid])
            last_read[sid] = now[0]
    assert max(gaps) == 18.0  # one late tick past 15 s; 13 or 14 a tick alone: over 20 s


async def test_small_clusters_are_read_whole_every_tick(http, tk):
    fetcher = FakeFetcher(tk.metrics_page)
    direct = DirectMetrics(http, fetcher=fetcher)
    stores = stores_of(3)
    for _ in range(3):
        result = await direct.collect(stores)
        assert fetcher.read_ids() == [1, 2, 3] and result.fresh == {1, 2, 3}
    assert fetcher.checks == 0  # nothing to choose, so no urgency to check


async def test_urgent_stores_are_read_beyond_the_count(http, tk):
    now = [0.0]
    fetcher = FakeFetcher(tk.metrics_page)
    direct = DirectMetrics(http, fetcher=fetcher, clock=lambda: now[0])
    assert direct.reads_per_tick(40) == 12
    await direct.collect(stores_of(40))
    assert fetcher.read_ids() == list(range(1, 13))
    fetcher.closed.add(url_of(5))  # read a moment ago, not due for 14 s
    now[0] = 2.0
    result = await direct.collect(stores_of(40, s20=StoreState.DISCONNECTED))
    assert fetcher.read_ids() == [5, *range(13, 26)]  # 5 and 20, then 12 in rotation
    assert len(result.fresh) == 14
    fetcher.closed.add(url_of(7))
    fetcher.dead.add(url_of(7))
    now[0] = 4.0
    result = await direct.collect(stores_of(40))
    assert fetcher.read_ids() == [7, *range(26, 38)]
    assert not result.by_store[7].reachable
    now[0] = 6.0
    await direct.collect(stores_of(40))
    assert 7 in fetcher.read_ids()  # its last read failed: read every tick until it answers


async def test_stores_that_answer_with_errors_are_read_in_their_turn(http, tk):
    fetcher = FakeFetcher(tk.metrics_page)
    fetcher.broken.add(url_of(3))
    fetcher.unresolved.add(url_of(4))
    direct = DirectMetrics(http, fetcher=fetcher)
    result = await direct.collect(stores_of(40))
    assert "HTTP 500" in result.by_store[3].error and "cannot resolve" in result.by_store[4].error
    assert fetcher.read_ids() == list(range(1, 13))
    await direct.collect(stores_of(40))
    assert fetcher.read_ids() == list(range(13, 25))  # something answered: not a dead store


async def test_an_explicit_budget_is_a_cap_with_urgent_stores_first(http, tk):
    fetcher = FakeFetcher(tk.metrics_page)
    direct = DirectMetrics(http, fetcher=fetcher, budget=4)
    stores = stores_of(10)
    await direct.collect(stores)
    assert fetcher.read_ids() == [1, 2, 3, 4]
    fetcher.closed.add(url_of(2))
    await direct.collect(stores)
    assert fetcher.read_ids() == [2, 5, 6, 7]
    assert direct.choose(stores)[0].id in (8, 9, 10)


async def test_a_pruned_store_leaves_nothing_behind(http, tk):
    fetcher = FakeFetcher(tk.metrics_page)
    direct = DirectMetrics(http, fetcher=fetcher, min_per_tick=2)
    await direct.collect(stores_of(5))
    direct.prune({1, 2, 3})
    assert set(direct._urls) <= {1, 2, 3} and set(direct._read_time) <= {1, 2, 3}


# ----------------------------------------------------------------- against the simulator


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 2.0) -> None:
    for _ in range(int(timeout_s / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"not within {timeout_s} s")


async def test_a_killed_store_closes_its_kept_connections():
    async with SimCluster(SimConfig(stores=3, regions=60, seed=3, manual_clock=True)) as sim:
        await sim.advance(4)
        urls = {sid: base + "/metrics" for sid, base in sim.store_status_urls.items()}
        fetcher = StreamFetcher()
        try:
            for url in urls.values():
                assert (await fetcher.get(url, 2.0)).status == 200
            await asyncio.sleep(0.02)
            assert not any(fetcher.peer_closed(url) for url in urls.values())
            await sim.kill_store(2)
            await wait_until(lambda: fetcher.peer_closed(urls[2]))
            assert not fetcher.peer_closed(urls[1]) and not fetcher.peer_closed(urls[3])
            with pytest.raises(FetchError, match="connection refused"):
                await fetcher.get(urls[2], 2.0)
            await sim.start_store(2)
            assert (await fetcher.get(urls[2], 2.0)).status == 200
        finally:
            await fetcher.aclose()


@pytest.fixture
async def sim20() -> AsyncIterator[SimCluster]:
    async with SimCluster(SimConfig(stores=20, regions=400, seed=11, manual_clock=True)) as sim:
        await sim.advance(12)
        yield sim


async def test_a_store_killed_between_its_reads_is_down_on_the_next_tick(sim20, http):
    settings = TikvSettings(
        **subject_settings(sim20),
        scrape_budget=5,
        heartbeat_overdue_s=1000,  # nor the heartbeat: only the closed connection
    )
    ctx = SubjectContext(
        http=http,
        settings=settings,
        interval_s=2.0,
        clock=lambda: datetime.fromtimestamp(sim20.now_ns / 1e9, UTC),
    )
    subject = plugin.create(ctx)
    for _ in range(5):  # 1-5, 6-10, 11-15, 16-20, then 1-5 again
        snap = await subject.observe()
        await sim20.advance(2)
    victim = 3  # just read: not due again for three ticks
    assert snap.store_metrics[victim].reachable
    await sim20.kill_store(victim)
    await sim20.advance(2)
    snap = await subject.observe()
    violations = {v.key for v in subject.evaluate(snap)}
    assert f"store_down:store-{victim}" in violations
    assert snap.store(victim).state is StoreState.UP  # PD waits 20 s
    assert not snap.store_metrics[victim].reachable
    assert "connection refused" in snap.store_metrics[victim].error
    assert [k for k in violations if k.startswith("store_down")] == [f"store_down:store-{victim}"]


async def test_automatic_spread_reads_a_killed_store_at_once(sim20, http):
    stores = [
        TikvStore(
            id=sid,
            address=f"store{sid}",
            state=StoreState.UP,
            status_address=base.removeprefix("http://"),
        )
        for sid, base in sorted(sim20.store_status_urls.items())
    ]
    direct = DirectMetrics(
        http, fetcher=StreamFetcher(), min_per_tick=4, clock=lambda: sim20.now_ns / 1e9
    )
    try:
        assert direct.reads_per_tick(20) == 4
        for _ in range(6):  # 1-4, 5-8, ..., 17-20, then 1-4 again
            result = await direct.collect(stores)
            await sim20.advance(2)
        assert result.fresh == {1, 2, 3, 4}
        await sim20.kill_store(2)
        await sim20.advance(2)
        # The simulator's sockets close in loop callbacks; a real tick comes seconds later.
        await asyncio.sleep(0.02)
        result = await direct.collect(stores)
        assert result.fresh == {2, 5, 6, 7, 8}
        assert not result.by_store[2].reachable
    finally:
        await direct.fetcher.aclose()
