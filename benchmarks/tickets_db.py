"""Ticket database speed at 100k tickets: upsert throughput and list latency.

Targets (issue 5): list <= 10 ms, upsert >= 5,000 violations/s.

    uv run python benchmarks/tickets_db.py [--tickets 100000] [--batch 1000]

Fills a fresh database through ``upsert_violations`` only (each batch opens
``--batch`` tickets and resolves the previous batch, as ticks would), then
times re-seen violations (the every-tick path), one-violation ticks, and the
reads the front ends make.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation

INVARIANTS = ("store_down", "low_disk", "slow_store", "high_write_latency", "hot_write_region")


def batch(n: int, offset: int) -> list[Violation]:
    return [
        Violation(INVARIANTS[i % len(INVARIANTS)], Severity.WARNING, f"violation {i}", offset + i)
        for i in range(n)
    ]


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[max(0, int(len(values) * 0.95) - 1)]
    return f"median {statistics.median(values) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir()) / 1e6


async def main(total: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await TicketStore.open(Path(tmp) / "bench.db", subject="tikv")
        t = datetime(2026, 1, 1, tzinfo=UTC)
        snapshot = {"stores": [{"id": i, "state": "Up"} for i in range(3)]}
        started = time.perf_counter()
        for k in range(total // size):
            t += timedelta(seconds=2)
            await store.upsert_violations(batch(size, k * size), snapshot, t)
        fill = time.perf_counter() - started
        count = await store.count_tickets()
        print(f"tickets in database: {count}")
        print(
            f"upsert, opening {size} and resolving {size} per call: "
            f"{count / fill:,.0f} tickets opened/s ({fill:.1f} s for {count})"
        )

        live = batch(size, (total // size - 1) * size)
        rounds = 20
        started = time.perf_counter()
        for _ in range(rounds):
            t += timedelta(seconds=2)
            await store.upsert_violations(live, snapshot, t)
        took = time.perf_counter() - started
        print(
            f"upsert, {size} violations seen again per call: {rounds * size / took:,.0f} violations/s"
        )

        singles = 500
        started = time.perf_counter()
        for i in range(singles):
            t += timedelta(seconds=2)
            await store.upsert_violations(
                batch(1, 10_000_000 + i), snapshot, t, resolve_absent=False
            )
        took = time.perf_counter() - started
        print(
            f"upsert, one new violation per call: {singles / took:,.0f} calls/s ({took / singles * 1000:.2f} ms each)"
        )

        for label, kwargs in (
            (
                "list 500 (unresolved first, then resolved)",
                {"include_resolved": True, "limit": 500},
            ),
            ("list unresolved only", {"include_resolved": False, "limit": 500}),
            ("list 100", {"include_resolved": True, "limit": 100}),
        ):
            times = []
            for _ in range(50):
                s = time.perf_counter()
                rows = await store.list_tickets(**kwargs)  # type: ignore[arg-type]
                times.append(time.perf_counter() - s)
            print(f"{label}: {len(rows)} rows, {ms(times)}")
        times = []
        for i in range(200):
            s = time.perf_counter()
            await store.get_ticket(1 + (i * 499) % count)
            times.append(time.perf_counter() - s)
        print(f"get one ticket (with snapshot): {ms(times)}")
        await store.aclose()
        started = time.perf_counter()
        store = await TicketStore.open(Path(tmp) / "bench.db")
        print(
            f"reopen (migration check + quick_check): {(time.perf_counter() - started) * 1000:.1f} ms"
        )
        await store.aclose()
        print(f"database size: {dir_size_mb(Path(tmp)):.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    a = parser.parse_args()
    asyncio.run(main(a.tickets, a.batch))
