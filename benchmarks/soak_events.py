"""Soak of event-driven detection: store restarts and PD leader changes for a while, false tickets counted.

    uv run python benchmarks/soak_events.py [--duration 3600] [--interval 2.0] [--seed 11]

Against the simulated cluster, at the default interval, with the status-port and PD leader
watches on. Every ``--every`` seconds (jittered) one disturbance runs through the
simulator's control API: a store killed and started again after a few seconds, or the PD
leader stopped (the others elect a new one) and started again. Each disturbance opens a
window from its start to ``--settle`` seconds after its end; a ticket opened outside every
window is a false ticket (target: 0), and so is one inside a store's window that names
another store. Prints the early ticks, the wakes seen, confirmed, unconfirmed and limited,
and the tickets by invariant. A benchmark, not a CI test: it runs for ``--duration``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.bootstrap import open_runtime
from operator_tui.config import load_settings
from operator_tui.core.subject import DemoOptions


@dataclass
class Window:
    what: str
    store_id: int | None
    start: float
    end: float = float("inf")


async def disturb(rt, rng: random.Random, windows: list[Window], stores: int) -> None:
    clock = time.monotonic
    if rng.random() < 0.7:
        sid = rng.randint(1, stores)
        w = Window(f"restart store {sid}", sid, clock())
        windows.append(w)
        await rt.chaos.kill_store(sid)
        await asyncio.sleep(rng.uniform(1.0, 8.0))
        await rt.chaos.start_store(sid)
        w.end = clock()
    else:
        w = Window("PD leader change", None, clock())
        windows.append(w)
        fault = await rt.chaos.inject_fault("kill_pd_leader", None, {})
        await asyncio.sleep(rng.uniform(3.0, 8.0))
        await rt.chaos.clear_fault(fault.id)
        w.end = clock()


def judge(opened: list[tuple[float, dict]], windows: list[Window], settle: float) -> list[str]:
    false: list[str] = []
    for at, ticket in opened:
        inside = [w for w in windows if w.start <= at <= w.end + settle]
        target = ticket.get("store_id")
        if not inside:
            false.append(f"outside every disturbance: {ticket['invariant']} on {target}")
        elif target is not None and all(
            w.store_id is not None and w.store_id != target for w in inside
        ):
            false.append(
                f"names store {target} during {', '.join(w.what for w in inside)}: "
                f"{ticket['invariant']}"
            )
    return false


async def main(duration: float, interval: float, every: float, settle: float, seed: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            storage={"db_path": Path(tmp) / "soak.db"},
            monitor={"interval_s": interval},
            diagnosis={"backend": "offline"},
        )
        async with open_runtime(
            settings, demo=DemoOptions(max_store_down_time_s=600), diagnoser=offline_diagnoser()
        ) as rt:
            assert rt.chaos is not None
            sub = rt.bus.subscribe()
            tasks = [asyncio.create_task(rt.run_monitor()), asyncio.create_task(rt.run_agent())]
            windows: list[Window] = []
            opened: list[tuple[float, dict]] = []
            ticks = Counter[str]()
            started = time.monotonic()

            async def listen() -> None:
                while True:
                    ev = await sub.get()
                    if ev.event == "ticket.opened":
                        opened.append((time.monotonic(), ev.data["ticket"]))
                    elif ev.event == "tick":
                        ticks["early" if "woken" in ev.data else "all"] += 1

            listener = asyncio.create_task(listen())
            try:
                await asyncio.sleep(3 * interval)  # a healthy start
                while time.monotonic() - started < duration:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * every)
                    if time.monotonic() - started >= duration:
                        break
                    await disturb(rt, rng, windows, 3)
                    print(
                        f"{time.monotonic() - started:7.1f} s  {windows[-1].what}: "
                        f"{len(opened)} tickets so far"
                    )
                await asyncio.sleep(settle)
            finally:
                for task in (*tasks, listener):
                    task.cancel()
                await asyncio.gather(*tasks, listener, return_exceptions=True)
            counts = rt.monitor.wake_counts
            false = judge(opened, windows, settle)
    elapsed = time.monotonic() - started
    restarts = sum(w.store_id is not None for w in windows)
    print(
        f"soak {elapsed:.0f} s at a {interval:g} s interval: {restarts} store restarts, "
        f"{len(windows) - restarts} PD leader changes"
    )
    print(
        f"ticks {ticks['all'] + ticks['early']} ({ticks['early']} early); wakes seen "
        f"{counts['seen']}, confirmed {counts['confirmed']}, unconfirmed {counts['unconfirmed']}, "
        f"limited {counts['limited']}, ignored {counts['ignored']}"
    )
    by_invariant = Counter(t["invariant"] for _at, t in opened)
    print("tickets opened: " + (", ".join(f"{k} {v}" for k, v in by_invariant.items()) or "none"))
    print(f"false tickets: {len(false)}")
    for line in false:
        print(f"  {line}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3600.0, help="seconds (default 1 h)")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between disturbances")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds a window outlasts one")
    parser.add_argument("--seed", type=int, default=11)
    a = parser.parse_args()
    asyncio.run(main(a.duration, a.interval, a.every, a.settle, a.seed))
