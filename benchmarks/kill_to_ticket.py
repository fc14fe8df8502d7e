"""Kill-to-ticket latency against the simulated cluster, at the default monitor interval.

Two paths in one run, side by side, each against its own simulated cluster:
``event``: the subject watches each store's status port between ticks and a closed
connection wakes the monitor (issue 21: median <= 100 ms, max <= 300 ms);
``tick-bound``: no watch, the kill is seen by the next tick on the grid (issue 5:
median <= 2 s, max <= 3 s). Also prints kill -> diagnosis finished and the offline
diagnoser's time from ticket to first chunk (target <= 50 ms).

    uv run python benchmarks/kill_to_ticket.py [--runs 20] [--interval 2.0] [--path both]

Each run waits a random fraction of the interval (so kills land anywhere in the
tick cycle), kills a store through the simulator's control API (not through
the runtime, which would tick at once), waits for the ``store_down`` ticket
and its diagnosis, restarts the store and waits for the ticket to resolve.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.bootstrap import open_runtime
from operator_tui.config import load_settings
from operator_tui.core.events import Subscription
from operator_tui.core.subject import DemoOptions


async def next_event(sub: Subscription, kind: str, test, within: float = 120.0):
    async with asyncio.timeout(within):
        while True:
            ev = await sub.get()
            if ev.event == kind and test(ev.data):
                return ev


def line(label: str, values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    v = [x * scale for x in values]
    return (
        f"{label}: median {statistics.median(v):.3f} {unit}, max {max(v):.3f} {unit}, "
        f"min {min(v):.3f} {unit} (n={len(v)})"
    )


PATHS = {
    "event": {},
    "tick-bound": {"tikv": {"watch_stores": False, "pd_leader_poll_s": 0}},
}


async def main(runs: int, interval: float, seed: int, paths: list[str]) -> None:
    figures = {}
    for path in paths:
        print(f"--- {path} path")
        figures[path] = await measure(path, runs, interval, seed)
    print(f"interval {interval:g} s, {runs} kills per path")
    for path, measured in figures.items():
        print(line(f"{path}: kill -> ticket opened", measured[0], "ms", 1000))
    for path, (_to_ticket, to_diagnosis, first_chunk, tick_ms) in figures.items():
        print(line(f"{path}: kill -> diagnosis finished (offline)", to_diagnosis))
        print(line(f"{path}: ticket opened -> first chunk", first_chunk, "ms", 1000))
        if tick_ms:
            print(line(f"{path}: tick duration", tick_ms, "ms", 1.0))
    if len(figures) == 2:
        event, tick = figures["event"][0], figures["tick-bound"][0]
        print(
            f"tick-bound / event: median x{statistics.median(tick) / statistics.median(event):.1f}"
            f", max x{max(tick) / max(event):.1f}"
        )


async def measure(path: str, runs: int, interval: float, seed: int):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            storage={"db_path": Path(tmp) / "bench.db"},
            monitor={"interval_s": interval},
            diagnosis={"backend": "offline"},
            **PATHS[path],
        )
        async with open_runtime(
            settings, demo=DemoOptions(max_store_down_time_s=60), diagnoser=offline_diagnoser()
        ) as rt:
            assert rt.chaos is not None
            sub = rt.bus.subscribe()
            tasks = [asyncio.create_task(rt.run_monitor()), asyncio.create_task(rt.run_agent())]
            to_ticket: list[float] = []
            to_diagnosis: list[float] = []
            first_chunk: list[float] = []
            tick_ms: list[float] = []
            try:
                for _ in range(2):
                    await next_event(
                        sub, "tick", lambda d: d.get("reachable") and d.get("stores_up") == 3
                    )
                for run in range(runs):
                    store = 1 + run % 3
                    await asyncio.sleep(rng.uniform(0, interval))
                    ticks, early = rt.monitor.ticks, rt.monitor.wake_counts["early_ticks"]
                    killed = time.perf_counter()
                    await rt.chaos.kill_store(store)
                    opened = await next_event(
                        sub,
                        "ticket.opened",
                        lambda d, s=store: (
                            d["ticket"]["invariant"] == "store_down"
                            and d["ticket"]["store_id"] == s
                        ),
                    )
                    seen = time.perf_counter()
                    ticks = rt.monitor.ticks - ticks
                    early = rt.monitor.wake_counts["early_ticks"] - early
                    to_ticket.append(seen - killed)
                    tid = opened.data["ticket"]["id"]
                    # A store killed again soon joins its still-open incident, whose diagnosis
                    # runs under the incident's lead ticket: the next diagnosis is this one's.
                    await next_event(sub, "diagnosis.chunk", lambda d: True)
                    first_chunk.append(time.perf_counter() - seen)
                    done = await next_event(sub, "diagnosis.finished", lambda d: True)
                    to_diagnosis.append(time.perf_counter() - killed)
                    d = done.data["diagnosis"]
                    print(
                        f"run {run + 1}: store {store} killed -> ticket #{tid} in "
                        f"{to_ticket[-1] * 1000:.1f} ms ({ticks} tick(s) begun, {early} early), "
                        f"diagnosis {d['root_cause_class']} on {d['target']} at {to_diagnosis[-1]:.3f} s"
                    )
                    await rt.chaos.start_store(store)
                    await next_event(
                        sub, "ticket.resolved", lambda d, t=tid: d["ticket"]["id"] == t
                    )
                    while not sub.queue.empty():
                        ev = sub.queue.get_nowait()
                        if ev.event == "tick" and ev.data.get("tick_ms") is not None:
                            tick_ms.append(ev.data["tick_ms"])
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    return to_ticket, to_diagnosis, first_chunk, tick_ms


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--path", choices=["both", *PATHS], default="both")
    a = parser.parse_args()
    asyncio.run(main(a.runs, a.interval, a.seed, list(PATHS) if a.path == "both" else [a.path]))
