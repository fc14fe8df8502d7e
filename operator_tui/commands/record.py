"""``operator-tui record --out FILE [--duration D]``: record a cluster headless, at the least cost.

Only the monitor runs (observations, invariants, tickets and incidents, all recorded);
no diagnosis is made and nothing is printed but one summary line on stderr. Its tickets go
to a temporary database unless ``--db`` names one. Ctrl-C or SIGTERM stop it cleanly;
``kill -9`` loses at most the last second (the file stays readable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from pathlib import Path

from operator_tui.bootstrap import open_runtime
from operator_tui.commands.run import demo_options
from operator_tui.config import ConfigError, Settings
from operator_tui.core.recorder import RecorderError
from operator_tui.core.recording import seconds
from operator_tui.core.subject import DemoOptions, SubjectError
from operator_tui.core.text import plain
from operator_tui.core.tickets import TicketStoreError
from operator_tui.headless import configure_logging


def duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``2h`` or ``1d`` in seconds."""
    try:
        value = seconds(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (90, 90s, 5m, 2h)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("a duration must be positive")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record the cluster (observations, tickets, incidents) to a file, without diagnosis",
        description=(
            "Watch the configured cluster (or --demo) and record every tick to FILE; "
            "replay it with `operator-tui replay FILE`."
        ),
    )
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="the new recording")
    p.add_argument(
        "--duration", type=duration, metavar="D", help="stop after D (90s, 5m, 2h); default: Ctrl-C"
    )


async def record(
    settings: Settings,
    out: Path,
    *,
    seconds: float | None = None,
    demo: DemoOptions | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="operator-record-") as tmp:
        if "db_path" not in settings.storage.model_fields_set:
            storage = settings.storage.model_copy(update={"db_path": Path(tmp) / "tickets.db"})
            settings = settings.model_copy(update={"storage": storage})
        async with open_runtime(settings, demo=demo, record=out) as rt:
            monitor = asyncio.create_task(rt.run_monitor(), name="monitor")
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([monitor, stopping], timeout=seconds)
            for task in (monitor, stopping):
                task.cancel()
            await asyncio.gather(monitor, stopping, return_exceptions=True)
            ticks = rt.monitor.ticks
    print(f"operator-tui: recorded {ticks} ticks to {plain(str(out))}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level)
    try:
        return asyncio.run(
            record(settings, args.out, seconds=args.duration, demo=demo_options(args))
        )
    except (TicketStoreError, SubjectError, ConfigError, OSError, RecorderError) as exc:
        print(f"operator-tui: error: {plain(exc)}", file=sys.stderr)
        return 2
