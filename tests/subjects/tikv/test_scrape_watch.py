"""The status-port watch: a store that dies wakes the monitor, one that drops a connection does not."""

from __future__ import annotations

import asyncio
import socket
import struct
from contextlib import asynccontextmanager

from operator_tikv.metrics import MetricsResult
from operator_tikv.metrics.scrape_watch import StoreWatch, port_is_dead
from operator_tikv.records import TikvStoreMetrics
from operator_tikv.settings import TikvSettings
from operator_tikv.subject import TikvSubject

from operator_tui.core.subject import SubjectContext
from operator_tui.core.wakeup import Wake


@asynccontextmanager
async def listener():
    """A loopback port that accepts and holds connections; yields (port, writers, server)."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, writers, server
    finally:
        server.close()
        for w in writers:
            w.close()


async def until(cond, within: float = 5.0) -> None:
    for _ in range(int(within / 0.005)):
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met in time")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_refused_port_is_dead_and_a_listening_one_is_not():
    assert await port_is_dead("127.0.0.1", free_port(), 1.0)
    async with listener() as (port, _w, _s):
        assert not await port_is_dead("127.0.0.1", port, 1.0)


async def watching(watch: StoreWatch, wakes: list[Wake]) -> asyncio.Task[None]:
    return asyncio.create_task(watch.watch(wakes.append))


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_store_that_dies_wakes_the_monitor_and_its_probe_confirms():
    suspects: list[int] = []
    watch = StoreWatch(on_suspect=suspects.append, retry_s=0.05)
    wakes: list[Wake] = []
    task = await watching(watch, wakes)
    try:
        async with listener() as (port, writers, server):
            watch.track({2: f"127.0.0.1:{port}"})
            await until(lambda: len(writers) == 1)
            server.close()  # the process dies: its port closes, then its connections
            await server.wait_closed()
            writers[0].transport.abort()
        await until(lambda: len(wakes) == 1)
        assert wakes[0].key == "store 2" and "connection" in wakes[0].reason
        assert suspects == []
        assert wakes[0].confirm is not None and await wakes[0].confirm()
        assert suspects == [2] and 2 in watch.dead
        for _ in range(10):
            await asyncio.sleep(0.05)  # retries find the port refused: no second wake
        assert len(wakes) == 1
    finally:
        await stop(task)


async def test_a_reset_wakes_it_too():
    watch = StoreWatch(retry_s=0.05)
    wakes: list[Wake] = []
    task = await watching(watch, wakes)
    try:
        async with listener() as (port, writers, server):
            watch.track({5: f"http://127.0.0.1:{port}"})
            await until(lambda: len(writers) == 1)
            server.close()
            sock = writers[0].transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writers[0].transport.abort()
            await until(lambda: len(wakes) == 1)
        assert wakes[0].key == "store 5"
        assert wakes[0].confirm is not None and await wakes[0].confirm()
    finally:
        await stop(task)


async def test_one_dropped_connection_with_the_store_alive_is_not_confirmed():
    watch = StoreWatch(min_gap_s=0.05)
    wakes: list[Wake] = []
    task = await watching(watch, wakes)
    try:
        async with listener() as (port, writers, _server):
            watch.track({3: f"127.0.0.1:{port}"})
            await until(lambda: len(writers) == 1)
            writers[0].close()  # the store closes one idle connection and goes on serving
            await until(lambda: len(wakes) == 1)
            assert wakes[0].confirm is not None and not await wakes[0].confirm()
            await until(lambda: len(writers) >= 2 and watch.open_connections == 1)
    finally:
        await stop(task)
    assert watch.open_connections == 0


async def test_tracking_follows_the_store_list():
    watch = StoreWatch(max_stores=2)
    wakes: list[Wake] = []
    task = await watching(watch, wakes)
    try:
        async with listener() as (port, _writers, _server):
            address = f"127.0.0.1:{port}"
            watch.track({3: address, 1: address, 2: address})
            await until(lambda: watch.open_connections == 2)
            assert watch.watched == {1, 2}  # at most max_stores, lowest ids first
            watch.track({2: address})
            await until(lambda: watch.watched == {2} and watch.open_connections == 1)
        assert wakes == [] or all(w.key == "store 2" for w in wakes)
    finally:
        await stop(task)


async def test_through_prometheus_a_port_the_watch_holds_dead_is_unreachable_at_once(
    fake_pd, mock_http
):

    settings = TikvSettings(
        pd=list(fake_pd.endpoints), pd_retries=0, prometheus_url="http://127.0.0.1:9"
    )
    subject = TikvSubject(SubjectContext(http=mock_http, settings=settings, interval_s=1.0))
    stores = await subject.get_stores()
    ids = sorted(s.id for s in stores if s.status_address)[:2]

    async def scraped_before_the_kill(_stores):
        result = MetricsResult(source="prometheus", fresh_exact=True)
        for sid in ids:
            result.by_store[sid] = TikvStoreMetrics(store_id=sid, reachable=True)
            result.fresh.add(sid)
        return result

    subject.prometheus.collect = scraped_before_the_kill  # type: ignore[method-assign,union-attr]
    assert subject.store_watch is not None
    subject.store_watch.dead[ids[0]] = "status port: connection closed by the store"
    snap = await subject.observe()
    dead = snap.store_metrics[ids[0]]
    assert not dead.reachable and "connection closed" in (dead.error or "")
    assert ids[0] in snap.measured and snap.store_metrics[ids[1]].reachable
    assert {v.store_id for v in subject.evaluate(snap) if v.invariant == "store_down"} == {ids[0]}
    await subject.aclose()
