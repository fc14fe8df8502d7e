"""Seek time in a flight recording: reading the tick at a random time of a long recording,
and the replay player's seek: before, without checkpoints (it plays every tick from the start
when going back), and after, through checkpoints (restore the nearest, play at most 30 s).

A long recording is made by appending the ticks of the checked-in one over and over with
shifted times (``--hours`` of 2 s ticks). Prints the median and worst times of each; the
target (issue 18) is <= 200 ms to show any moment.

    uv run python benchmarks/replay_seek.py [--hours 24] [--player-minutes 30] [--seeks 50]
        [--keep DIR] [--sim-stores N]

``--sim-stores N`` records a simulated cluster of N stores for ``--hours`` instead (e.g. 100
stores for 1 h: every tick's snapshot is ~30x larger).

``--keep DIR`` keeps the long recording and its checkpoints there and reuses them next time
(checkpoints are rebuilt when the operator's version or their format changed).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from operator_tikv import shipped
from recording_size import measure

from operator_tui.bootstrap import open_recording, open_replay
from operator_tui.config import load_settings
from operator_tui.core.recorder import Recorder
from operator_tui.core.replay import ReplayRuntime

SOURCE = shipped.recordings_dir() / "kill-and-slow-disk.opr"


async def record_sim(out: Path, hours: float, stores: int) -> int:
    _per_hour, ticks, _wall = await measure(stores, hours * 60, out.parent)
    (out.parent / f"{stores}.opr").rename(out)
    return ticks


async def build(out: Path, hours: float) -> int:
    source = await open_recording(load_settings(None), SOURCE)
    ticks = list(source.ticks())
    source.close()
    recorder = Recorder(out, {**source.meta, "format": 1})
    span = ticks[-1].now - ticks[0].now + timedelta(seconds=2)
    count = int(hours * 1800)
    for i in range(count):
        tick = ticks[i % len(ticks)]
        shift = span * (i // len(ticks))
        snapshot = tick.snapshot
        if snapshot is not None:
            snapshot = replace(snapshot, taken_at=snapshot.taken_at + shift)
        recorder.tick(tick.now + shift, snapshot, tick.violations, tick.error)
        for _ in range(1200):  # let the writer catch up: a full queue drops ticks
            if recorder._queue.qsize() <= 2000:
                break
            await asyncio.sleep(0.05)
    await recorder.aclose()
    if recorder.dropped:
        raise SystemExit(f"the recorder dropped {recorder.dropped} ticks")
    return count


def report(name: str, times: list[float]) -> None:
    print(
        f"{name}: median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {len(times)} seeks"
    )


async def without_checkpoints(
    long: Path, args: argparse.Namespace, rng: random.Random, count: int
) -> None:
    print("before (no checkpoints: a backward seek plays every tick from the start):")
    async with open_replay(load_settings(None), long, checkpoints=False) as rt:
        span = int(args.player_minutes * 30)
        times = []
        for _ in range(5):
            target = rng.randrange(span)
            started = time.perf_counter()
            await rt.seek_index(target)
            times.append(time.perf_counter() - started)
        report(f"  player seek within the first {args.player_minutes:g} min", times)
        per_tick = statistics.median(times) / max(1, span / 2)
        print(
            f"  about {per_tick * 1000:.2f} ms a tick: a backward seek across {args.hours:g} h"
            f" would take ~{per_tick * count:.0f} s"
        )


class Phases:
    """Time spent per seek in each part of it: reading the checkpoint, restarting on it,
    playing the ticks after it, and the first log read that follows."""

    def __init__(self, rt: ReplayRuntime) -> None:
        self.parts: dict[str, list[float]] = {}
        self.now: dict[str, float] = {}
        assert rt.checkpoints is not None
        self._wrap(rt.checkpoints, "load", "read checkpoint", threaded=True)
        self._wrap(rt, "_restart", "restart")
        self._wrap(rt, "_play", "ticks played")

    def _wrap(self, owner: object, name: str, part: str, threaded: bool = False) -> None:
        inner = getattr(owner, name)
        if threaded:

            def timed(*a: object, **kw: object) -> object:
                started = time.perf_counter()
                try:
                    return inner(*a, **kw)
                finally:
                    self.now[part] = self.now.get(part, 0.0) + time.perf_counter() - started

        else:

            async def timed(*a: object, **kw: object) -> object:  # type: ignore[misc]
                started = time.perf_counter()
                try:
                    return await inner(*a, **kw)
                finally:
                    self.now[part] = self.now.get(part, 0.0) + time.perf_counter() - started

        setattr(owner, name, timed)

    def done(self) -> None:
        for part in ("read checkpoint", "restart", "ticks played"):
            self.parts.setdefault(part, []).append(self.now.get(part, 0.0))
        self.now = {}

    def report(self) -> None:
        for part, times in self.parts.items():
            report(f"    {part}", times)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--player-minutes", type=float, default=30.0)
    parser.add_argument("--seeks", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the recording here")
    parser.add_argument("--skip-before", action="store_true", help="skip the no-checkpoint player")
    parser.add_argument("--sim-stores", type=int, help="record a simulated cluster this size")
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        kind = f"-{args.sim_stores}-stores" if args.sim_stores else ""
        long = where / f"long-{args.hours:g}h{kind}.opr"
        if long.exists():
            source = await open_recording(load_settings(None), long)
            count = len(source)
            source.close()
        else:
            part = long.with_suffix(".part")
            part.unlink(missing_ok=True)
            if args.sim_stores:
                count = await record_sim(part, args.hours, args.sim_stores)
            else:
                count = await build(part, args.hours)
            part.rename(long)
        print(f"{args.hours:g} h recording: {count} ticks, {long.stat().st_size / 1e6:.0f} MB")
        recording = await open_recording(load_settings(None), long)
        times = []
        for _ in range(args.seeks):
            started = time.perf_counter()
            recording.tick(recording.index_at(rng.uniform(recording.start, recording.end)) - 1)
            times.append(time.perf_counter() - started)
        recording.close()
        report("read the tick at a random time", times)

        if not args.skip_before:
            await without_checkpoints(long, args, rng, count)

        print("after (checkpoints built once, beside the recording):")
        async with open_replay(load_settings(None), long) as rt:
            started = time.perf_counter()
            task = rt.build_checkpoints()
            assert task is not None and rt.checkpoints is not None
            await task
            built = time.perf_counter() - started
            size = rt.checkpoints.path.stat().st_size
            print(
                f"  build: {len(rt.checkpoints.indexes)} checkpoints every"
                f" {rt.checkpoints.every_s:g} s in {built:.0f} s, {size / 1e6:.0f} MB"
                f" ({size / long.stat().st_size:.0%} of the recording)"
            )
            phases = Phases(rt)
            times, logs = [], []
            for _ in range(args.seeks):
                target = rng.randrange(len(rt.recording))
                started = time.perf_counter()
                await rt.seek_index(target)
                times.append(time.perf_counter() - started)
                phases.done()
                assert rt.position == target + 1
                started = time.perf_counter()
                rt.monitor.history.recent_log_events(None, 200)
                logs.append(time.perf_counter() - started)
            report(f"  player seek to a random tick anywhere in {args.hours:g} h", times)
            phases.report()
            report("  then the first read of the log pane", logs)
            print(f"  {rt.restored} of {args.seeks} seeks started from a checkpoint")


if __name__ == "__main__":
    asyncio.run(main())
