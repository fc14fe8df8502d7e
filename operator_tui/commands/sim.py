"""``operator-tui sim``: run the subject's simulated cluster standalone (Ctrl-C stops it)."""

from __future__ import annotations

import argparse
import sys

from operator_tui.config import Settings
from operator_tui.core.registry import load_plugin
from operator_tui.core.subject import SubjectError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run the simulated cluster and print its endpoints")
    p.add_argument("--stores", type=int, default=3, help="number of stores (default 3, up to 1000)")
    p.add_argument("--regions", type=int, default=100, help="number of regions (default 100)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per wall second (default 1)"
    )
    p.add_argument(
        "--max-store-down-time",
        type=str,
        default="30m",
        metavar="DURATION",
        help="PD max-store-down-time: Go duration (60s, 30m) or seconds (default 30m)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="first PD port; members use PORT..PORT+2 (default: free)",
    )
    p.add_argument(
        "--workload",
        choices=("uniform", "zipfian", "hotspot"),
        default="zipfian",
        help="key distribution",
    )
    p.add_argument(
        "--log-dir", default=None, help="also write each store's log to DIR/tikv-<id>.log"
    )


def sim_argv(args: argparse.Namespace) -> list[str]:
    argv = [
        "--stores", str(args.stores),
        "--regions", str(args.regions),
        "--seed", str(args.seed),
        "--speed", str(args.speed),
        "--max-store-down-time", str(args.max_store_down_time),
        "--port", str(args.port),
        "--workload", args.workload,
    ]  # fmt: skip
    if args.log_dir:
        argv += ["--log-dir", str(args.log_dir)]
    return argv


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        plugin = load_plugin(settings.subject)
    except SubjectError as exc:
        print(f"operator-tui: error: {exc}", file=sys.stderr)
        return 2
    return int(plugin.sim_main(sim_argv(args)))
