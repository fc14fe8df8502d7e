"""/healthz: healthy while ticks come, 503 once they stop; served on loopback only here."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from operator_tui.core.events import Event, EventBus
from operator_tui.core.health import TickWatch, follow, stale_after, start_health_server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_stale_after_is_three_ticks_and_at_least_thirty_seconds() -> None:
    assert stale_after(2.0) == 30.0
    assert stale_after(20.0) == 60.0


def test_ticks_keep_it_healthy_and_silence_does_not() -> None:
    clock = Clock()
    watch = TickWatch(30.0, clock=clock)
    assert watch.status()[0] is True  # the grace before the first tick
    clock.now += 31
    healthy, body = watch.status()
    assert not healthy and body["status"] == "stale" and body["seconds_since_tick"] is None
    watch.seen(Event("tick", {"reachable": False, "seq": 1}))
    healthy, body = watch.status()
    assert healthy and body["ticks"] == 1 and body["cluster_reachable"] is False
    clock.now += 29
    assert watch.status()[0] is True
    clock.now += 2
    assert watch.status() == (False, {**watch.status()[1], "status": "stale"})


def test_a_paused_monitor_is_healthy() -> None:
    clock = Clock()
    watch = TickWatch(30.0, clock=clock)
    watch.seen(Event("monitor.paused"))
    clock.now += 600
    assert watch.status()[0] is True
    watch.seen(Event("monitor.resumed"))
    assert watch.status()[0] is True
    clock.now += 31
    assert watch.status()[0] is False


async def test_server_answers_probes_on_loopback() -> None:
    clock = Clock()
    watch = TickWatch(30.0, clock=clock)
    bus = EventBus()
    feeding = asyncio.create_task(follow(watch, bus))
    server = await start_health_server(watch, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5.0) as http:
            bus.publish("tick", reachable=True, seq=1)
            for _ in range(100):
                if watch.ticks:
                    break
                await asyncio.sleep(0.01)
            ok = await http.get("/healthz")
            assert ok.status_code == 200 and ok.json()["status"] == "ok"
            assert (await http.head("/healthz")).status_code == 200
            assert (await http.get("/other")).status_code == 404
            assert (await http.post("/healthz")).status_code == 405
            clock.now += 31
            stale = await http.get("/healthz")
            assert stale.status_code == 503 and stale.json()["status"] == "stale"
    finally:
        feeding.cancel()
        server.close()
        await asyncio.gather(feeding, server.wait_closed(), return_exceptions=True)


@pytest.mark.parametrize("junk", [b"\r\n", b"GARBAGE\r\n\r\n", b""])
async def test_malformed_requests_do_not_break_the_server(junk: bytes) -> None:
    watch = TickWatch(30.0)
    server = await start_health_server(watch, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(junk)
        writer.write_eof()
        await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
        async with httpx.AsyncClient(timeout=5.0) as http:
            assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    finally:
        server.close()
        await server.wait_closed()
