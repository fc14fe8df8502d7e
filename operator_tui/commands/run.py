"""The default command: the full-screen app, or with ``--no-ui`` the headless JSON-lines runner.

``--demo`` runs against the subject's embedded simulated cluster (stores
declared Down after 60 s, so the whole story fits in a demo). An unreachable
cluster at start is not an error: it becomes a ``subject_unreachable`` ticket.
A bad ticket database, an unknown subject or a missing API key is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from operator_tui.config import ConfigError, Settings
from operator_tui.core.recorder import RecorderError
from operator_tui.core.subject import DemoOptions, SubjectError
from operator_tui.core.text import plain
from operator_tui.core.tickets import TicketStoreError


def demo_options(args: argparse.Namespace) -> DemoOptions | None:
    """A fresh demo cluster description per run; Down after 60 s so the story fits in a demo."""
    return DemoOptions(max_store_down_time_s=60) if getattr(args, "demo", False) else None


def run(args: argparse.Namespace, settings: Settings) -> int:
    demo = demo_options(args)
    if getattr(args, "no_ui", False):
        from operator_tui.headless import configure_logging, run_headless

        configure_logging(settings.log_level, settings.log_format)
        port = getattr(args, "health_port", None)
        host = getattr(args, "health_host", None) or "127.0.0.1"
        try:
            return asyncio.run(
                run_headless(
                    settings,
                    demo=demo,
                    stream=bool(getattr(args, "stream", False)),
                    record=getattr(args, "record", None),
                    health=None if port is None else (host, port),
                )
            )
        except (TicketStoreError, SubjectError, ConfigError, OSError, RecorderError) as exc:
            print(f"operator-tui: error: {plain(exc)}", file=sys.stderr)
            return 2
    if getattr(args, "health_port", None) is not None:
        print("operator-tui: error: --health-port is for headless runs (--no-ui)", file=sys.stderr)
        return 2
    from operator_tui.tui.app import run_tui

    record = getattr(args, "record", None)
    if record is None:
        return run_tui(settings, demo=demo)
    return run_tui(settings, demo=demo, record=record)
