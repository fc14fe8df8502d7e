from __future__ import annotations

import json

from operator_tui.core.events import EventBus


async def test_fan_out_and_json_shape() -> None:
    bus = EventBus()
    a, b = bus.subscribe(), bus.subscribe()
    bus.publish("tick", stores_up=3, stores_total=3)
    for sub in (a, b):
        ev = await sub.get()
        line = json.loads(ev.to_json())
        assert line["event"] == "tick"
        assert line["stores_up"] == 3
        assert line["ts"].endswith("Z")


async def test_slow_subscriber_drops_oldest_not_newest() -> None:
    bus = EventBus()
    sub = bus.subscribe(maxsize=2)
    for i in range(5):
        bus.publish("tick", n=i)
    assert sub.dropped == 3
    assert [(await sub.get()).data["n"] for _ in range(2)] == [3, 4]


async def test_unsubscribed_gets_nothing() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    sub.close()
    bus.publish("error", message="x")
    assert sub.queue.empty()
