"""``operator-tui replay FILE``: play a recording in the app, or as ``--no-ui`` JSON lines.

The recording drives the same runtime the live operator uses (``core.replay``): the same
panes, the same ticket and incident events. ``--speed`` plays 0.5x to 60x its recorded
pace, ``--from`` starts at a recorded time (its ticks before are played without
pacing, and in ``--no-ui`` not printed), ``--rediagnose`` reruns today's invariants,
incident grouping and diagnosis over the recorded snapshots, ``--export DIR`` writes
the recorded metrics as OpenMetrics text and the incidents and diagnoses as JSON lines
instead of playing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import TextIO

from operator_tui.bootstrap import open_recording, open_replay
from operator_tui.config import ConfigError, Settings
from operator_tui.core.events import EventBus
from operator_tui.core.recording import RecordingError, start_time
from operator_tui.core.recording_export import export_recording
from operator_tui.core.replay import MAX_SPEED, MIN_SPEED, ReplayRuntime
from operator_tui.core.subject import SubjectError
from operator_tui.core.text import plain
from operator_tui.core.tickets import TicketStoreError
from operator_tui.headless import Printer, configure_logging


def speed(text: str) -> float:
    try:
        value = float(text.strip().lower().removesuffix("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a speed: {text!r} (0.5 to 60)") from None
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise argparse.ArgumentTypeError(
            f"speed {value:g} is outside {MIN_SPEED:g} to {MAX_SPEED:g}"
        )
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="play a recording in the app (or --no-ui), rediagnose it, or export it",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument("file", type=Path, metavar="FILE", help="a recording (--record, record --out)")
    p.add_argument("--speed", type=speed, default=1.0, metavar="X", help="0.5 to 60 (default 1)")
    p.add_argument(
        "--from",
        dest="start",
        metavar="T",
        help="start at T: an offset from the recording's start (90s, 5m) or a time "
        "(2026-12-01T10:00:00, or 10:00:00 on the recording's first day)",
    )
    p.add_argument(
        "--rediagnose",
        action="store_true",
        help="rerun today's invariants, incident grouping and diagnosis over the snapshots",
    )
    p.add_argument(
        "--export", type=Path, metavar="DIR", help="write OpenMetrics and JSON lines to DIR"
    )
    p.add_argument("--no-ui", action="store_true", default=argparse.SUPPRESS, help="headless")
    p.add_argument("--stream", action="store_true", default=argparse.SUPPRESS)


async def replay_headless(
    settings: Settings,
    path: Path,
    *,
    speed: float = 1.0,
    start: str | None = None,
    rediagnose: bool = False,
    stream: bool = False,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Print the replayed events as the live ``--no-ui`` run printed them; returns at the end."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    bus = EventBus()
    try:
        async with open_replay(
            settings, path, rediagnose=rediagnose, speed=speed, until_end=True, bus=bus
        ) as rt:
            if start is not None:
                await rt.seek(start_time(start, rt.recording.start))
            printer = Printer(bus.subscribe(), out or sys.stdout, stream=stream)
            printing = asyncio.create_task(printer.run())
            playing = asyncio.create_task(rt.run_monitor())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([playing, stopping], return_when=asyncio.FIRST_COMPLETED)
            for task in (playing, stopping, printing):
                task.cancel()
            results = await asyncio.gather(playing, stopping, printing, return_exceptions=True)
            printer.drain()
            if isinstance(results[0], Exception):
                raise results[0]
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.export is not None:
            recording = asyncio.run(open_recording(settings, args.file))
            try:
                written = export_recording(recording, args.export)
            finally:
                recording.close()
            for line in written:
                print(plain(line))
            return 0
        if getattr(args, "no_ui", False):
            configure_logging(settings.log_level)
            return asyncio.run(
                replay_headless(
                    settings,
                    args.file,
                    speed=args.speed,
                    start=args.start,
                    rediagnose=args.rediagnose,
                    stream=bool(getattr(args, "stream", False)),
                )
            )
        from operator_tui.tui.replay import run_replay_tui

        return run_replay_tui(
            settings, args.file, speed=args.speed, start=args.start, rediagnose=args.rediagnose
        )
    except (RecordingError, SubjectError, ConfigError, TicketStoreError, OSError) as exc:
        print(f"operator-tui: error: {plain(exc)}", file=sys.stderr)
        return 2


__all__ = ["ReplayRuntime", "register", "run"]
