"""``operator-tui sim``: run the simulated cluster standalone and print every endpoint."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from operator_tikv.sim.cluster import SimCluster
from operator_tikv.sim.config import WORKLOADS, SimConfig
from operator_tikv.sim.encode import NS, parse_go_duration
from operator_tikv.sim.errors import SimError


def parse_down_time(text: str) -> float:
    """``60``, ``60s``, ``1m30s``, ``30m``: seconds as a float."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_go_duration(text) / NS
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 60s, 30m, 1h)") from exc


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stores", type=int, default=3, help="number of TiKV stores (1-1000, default 3)"
    )
    p.add_argument("--regions", type=int, default=100, help="number of regions (default 100)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per wall second (default 1)"
    )
    p.add_argument(
        "--max-store-down-time",
        type=parse_down_time,
        default=1800.0,
        metavar="DURATION",
        help="PD max-store-down-time, Go duration or seconds (default 30m)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="first PD port; members use PORT..PORT+2 (default: free ports)",
    )
    p.add_argument(
        "--store-port-base",
        type=int,
        default=0,
        metavar="N",
        help="store i's status port is N+i, for a fixed Prometheus config (default: free ports)",
    )
    p.add_argument(
        "--workload",
        choices=WORKLOADS,
        default="zipfian",
        help="key distribution (default zipfian)",
    )
    p.add_argument(
        "--separate-read-pools",
        action="store_true",
        help="run TiKV's separate storage and coprocessor read pools "
        "(readpool.*.use-unified-pool = false) instead of v8.5's unified pool",
    )
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument(
        "--log-dir", default=None, help="also append each store's log to DIR/tikv-<id>.log"
    )


def config_from_args(args: argparse.Namespace) -> SimConfig:
    return SimConfig(
        stores=args.stores,
        regions=args.regions,
        seed=args.seed,
        speed=args.speed,
        max_store_down_time_s=args.max_store_down_time,
        workload=args.workload,
        host=args.host,
        pd_port=args.port,
        store_port_base=args.store_port_base,
        log_dir=args.log_dir,
        unified_read_pool=not args.separate_read_pools,
    )


def describe(sim: SimCluster) -> str:
    cfg = sim.config
    lines = [
        f"simulated TiKV cluster: {cfg.stores} stores, {cfg.regions} regions, workload {cfg.workload}, "
        f"seed {cfg.seed}, speed {cfg.speed:g}x",
        "PD members (PD HTTP API under /pd/api/v1, Prometheus at /metrics):",
    ]
    lines += [f"  {url}" for url in sim.pd_urls]
    urls = sim.store_status_urls
    lines.append("TiKV status ports (/metrics, /status):")
    if len(urls) <= 20:
        lines += [f"  store {sid}: {url}" for sid, url in urls.items()]
    else:
        ports = sorted(int(u.rsplit(":", 1)[1]) for u in urls.values())
        first, last = min(urls), max(urls)
        lines.append(
            f"  stores {first}-{last}: http://{cfg.host}:<port>, ports {ports[0]}-{ports[-1]} "
            f"(each store's status_address is in GET /pd/api/v1/stores)"
        )
    base = sim.pd_urls[0]
    lines += [
        "simulator control (on any PD member):",
        f"  POST   {base}/sim/api/v1/stores/<id>/kill",
        f"  POST   {base}/sim/api/v1/stores/<id>/start",
        f"  GET    {base}/sim/api/v1/stores/<id>/logs?since=<RFC3339|unix seconds>&limit=N",
        f'  POST   {base}/sim/api/v1/faults   {{"kind": ..., "store_id": ...}}',
        f"  GET    {base}/sim/api/v1/faults",
        f"  DELETE {base}/sim/api/v1/faults/<id>",
        f"  GET    {base}/sim/api/v1/status",
        "Ctrl-C stops it.",
    ]
    return "\n".join(lines)


async def serve(cfg: SimConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Unsupported on Windows or off the main thread; Ctrl-C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    sim = SimCluster(cfg)
    try:
        await sim.start()
    except SimError as exc:
        print(f"operator-tui sim: error: {exc.message}", file=sys.stderr)
        return 2
    try:
        print(describe(sim), flush=True)
        await stop.wait()
    finally:
        await sim.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    print("simulator stopped", flush=True)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="operator-tui sim", description="Run the simulated TiKV cluster."
    )
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    cfg = config_from_args(args)
    try:
        cfg.validate()
    except ValueError as exc:
        print(f"operator-tui sim: error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve(cfg))
    except KeyboardInterrupt:
        return 0
