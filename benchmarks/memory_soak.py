"""A day of the operator at 100 stores in simulated time: RSS, open files and database size per hour.

The simulator runs in a child process on a manual clock (``tick_cost.Sim``); the operator runs
here as the console and ``--no-ui`` do (``OperatorRuntime``: monitor, ticket and incident
database, the offline diagnoser), each tick followed by moving the simulator's clock one
interval on, so a simulated day takes as long as its ticks cost. Every few hours one store is
killed and started again 10 minutes later, so tickets and incidents open, are diagnosed and
resolve all day. Every simulated hour it prints the process's resident memory, its open file
descriptors and the database's size (with its write-ahead log); after the first hour these
should stay within 5% (``--check`` makes the exit status say so).

    uv run python benchmarks/memory_soak.py [--hours 24] [--interval 2] [--stores 100]
        [--regions 100000] [--churn-every-h 3] [--check]

The ticket store's checkpoint schedule runs on the simulated clock here (every 5 simulated
minutes), as it would over a real day.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from operator_tikv.plugin import plugin

from operator_tui.bootstrap import make_diagnoser, runtime_options
from operator_tui.config import load_settings
from operator_tui.core.runtime import OperatorRuntime
from operator_tui.core.subject import SubjectContext
from operator_tui.core.tickets import TicketStore

sys.path.insert(0, str(Path(__file__).parent))
from tick_cost import Sim

HOUR_S = 3600.0
RESTART_AFTER_S = 600.0


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def db_bytes(path: Path) -> tuple[int, int]:
    wal = Path(f"{path}-wal")
    return path.stat().st_size, wal.stat().st_size if wal.exists() else 0


async def soak(args: argparse.Namespace, workdir: Path) -> list[dict]:
    db = workdir / "tickets.db"
    rows: list[dict] = []
    async with Sim(args.stores, args.regions, "full") as sim, httpx.AsyncClient() as http:
        settings = load_settings(
            db_path=str(db),
            interval_s=args.interval,
            diagnosis_backend="offline",
            tikv={"pd": sim.pd},
        )
        section = settings.subject_settings
        ctx = SubjectContext(http=http, settings=section, interval_s=args.interval, clock=sim.now)
        subject = plugin.create(ctx)
        store = await TicketStore.open(db, subject=subject.name)
        store.monotonic = lambda: sim.now_ns / 1e9
        runtime = OperatorRuntime(
            runtime_options(settings),
            subject,
            store,
            make_diagnoser(settings, plugin),
            clock=sim.now,
        )
        agent = asyncio.create_task(runtime.run_agent())
        started_ns = sim.now_ns
        ticks_per_hour = round(HOUR_S / args.interval)
        churn_every = (
            round(args.churn_every_h * HOUR_S / args.interval) if args.churn_every_h else 0
        )
        restart_after = round(RESTART_AFTER_S / args.interval)
        victims = list(range(1, args.stores + 1))
        killed: tuple[int, int] | None = None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        try:
            for tick in range(1, round(args.hours * ticks_per_hour) + 1):
                await runtime.tick_once()
                await asyncio.sleep(0)  # the agent's turn
                if churn_every and tick % churn_every == 0 and killed is None:
                    victim = victims[(tick // churn_every) % len(victims)]
                    await sim.kill(victim)
                    killed = (victim, tick)
                elif killed is not None and tick - killed[1] >= restart_after:
                    await sim.start(killed[0])
                    killed = None
                await sim.advance(args.interval)
                if tick % ticks_per_hour == 0:
                    size, wal = db_bytes(db)
                    row = {
                        "hour": round((sim.now_ns - started_ns) / 1e9 / HOUR_S),
                        "rss_mib": round(rss_kib() / 1024, 1),
                        "fds": open_fds(),
                        "db_kib": size // 1024,
                        "wal_kib": wal // 1024,
                        "tickets": await store.count_tickets(),
                        "checkpoints": store.checkpoints,
                        "cpu_s": round(time.process_time() - cpu0, 1),
                        "wall_s": round(time.perf_counter() - wall0, 1),
                    }
                    rows.append(row)
                    print(
                        f"{row['hour']:>4} {row['rss_mib']:>8} {row['fds']:>4} "
                        f"{row['db_kib']:>8} {row['wal_kib']:>8} {row['tickets']:>7} "
                        f"{row['checkpoints']:>11} {row['cpu_s']:>7} {row['wall_s']:>7}",
                        flush=True,
                    )
        finally:
            agent.cancel()
            await asyncio.gather(agent, return_exceptions=True)
            await runtime.aclose()
            await subject.aclose()
            await store.aclose()
    return rows


def spread(rows: list[dict], key: str) -> float:
    """(max - min) / min of ``key`` after the first hour, as a percentage."""
    values = [r[key] for r in rows[1:]]
    if not values or min(values) <= 0:
        return 0.0
    return round(100 * (max(values) - min(values)) / min(values), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--interval", type=float, default=2.0, help="monitor interval, s")
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--regions", type=int, default=100_000)
    parser.add_argument(
        "--churn-every-h", type=float, default=3.0, help="kill a store every this many hours"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 unless RSS and fds stay within 5%%"
    )
    args = parser.parse_args(argv)
    print(
        f"{args.stores} stores, {args.regions} regions, {args.interval:g} s ticks, "
        f"{args.hours:g} simulated hours; a store killed every {args.churn_every_h:g} h, "
        "started 10 min later"
    )
    print(
        f"{'hour':>4} {'rss MiB':>8} {'fds':>4} {'db KiB':>8} {'wal KiB':>8} {'tickets':>7} "
        f"{'checkpoints':>11} {'cpu s':>7} {'wall s':>7}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="memory-soak-") as tmp:
        rows = asyncio.run(soak(args, Path(tmp)))
    if len(rows) < 2:
        print("fewer than two hours: no spread")
        return 0
    rss, fds = spread(rows, "rss_mib"), spread(rows, "fds")
    print(
        f"after the first hour: RSS spread {rss}% ({rows[1]['rss_mib']} -> "
        f"{rows[-1]['rss_mib']} MiB), fds spread {fds}%, database "
        f"{rows[1]['db_kib']} -> {rows[-1]['db_kib']} KiB, WAL at most "
        f"{max(r['wal_kib'] for r in rows)} KiB"
    )
    return 1 if args.check and (rss > 5 or fds > 5) else 0


if __name__ == "__main__":
    sys.exit(main())
