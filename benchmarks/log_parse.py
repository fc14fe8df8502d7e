"""TiKV log parser speed: lines per second through ``parse_line`` and ``classify``.

The parser runs on every new line of every store's log on each tick, so its cost
grows with the cluster's log volume. The corpus is what the simulator writes in
``--duration`` simulated seconds with a store killed, one partitioned, a slow disk,
disk pressure, a write stall and the PD leader killed (elections, snapshots,
splits, PD reconnects, disk lines), plus the real lines in
``../shared/fixtures/tikv/log_samples.txt`` when that folder is present.

    uv run python benchmarks/log_parse.py [--lines 200000] [--duration 240]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from operator_tikv import logs
from operator_tikv.sim import SimCluster, SimConfig

from operator_tui.testing.shared import shared_dir


async def simulated_lines(duration: float) -> list[str]:
    async with SimCluster(SimConfig(stores=5, manual_clock=True)) as sim:
        await sim.advance(20)
        await sim.kill_store(1)
        sim.add_fault("partition_store", 2)
        sim.add_fault("slow_disk", 3)
        sim.add_fault("disk_pressure", 4)
        sim.add_fault("write_stall", 5)
        await sim.advance(duration / 2)
        sim.kill_pd_leader()
        await sim.start_store(1)
        await sim.advance(duration / 2)
        model = sim.model
        assert model is not None
        out: list[str] = []
        for store in model.stores.values():
            if store.log is not None:
                out.extend(store.log.since(None, 0))
        return out


def real_lines() -> list[str]:
    base = shared_dir()
    if base is None:
        print("log_parse: ../shared/fixtures absent, real samples left out")
        return []
    path = base / "tikv" / "log_samples.txt"
    if not path.is_file():
        print(f"log_parse: {path} absent, real samples left out")
        return []
    return [ln for ln in path.read_text().splitlines() if ln.startswith("[")]


def rate(func, corpus: list[str]) -> float:
    started = time.perf_counter()
    for line in corpus:
        func(line)
    return len(corpus) / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--duration", type=float, default=240.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    sim = asyncio.run(simulated_lines(args.duration))
    real = real_lines()
    base = sim + real
    corpus = (base * (args.lines // max(1, len(base)) + 1))[: args.lines]
    events = [logs.parse_line(x) for x in base]
    parsed = [e for e in events if e is not None]
    kinds = Counter(e.kind for e in parsed)
    print(f"corpus: {len(sim)} simulator lines + {len(real)} real lines, repeated to {len(corpus)}")
    print("kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    print(f"unparsed: {len(base) - len(parsed)}")

    triples = [(e.level, e.message, e.fields) for e in parsed]
    triples = (triples * (args.lines // max(1, len(triples)) + 1))[: args.lines]
    best_parse = max(rate(logs.parse_line, corpus) for _ in range(args.rounds))
    started = time.perf_counter()
    for _ in range(args.rounds):
        for level, message, fields in triples:
            logs.classify(level, message, fields)
    classify_rate = len(triples) * args.rounds / (time.perf_counter() - started)
    print(f"parse_line: {best_parse:,.0f} lines/s (best of {args.rounds})")
    print(f"classify alone: {classify_rate:,.0f} messages/s")


if __name__ == "__main__":
    main()
