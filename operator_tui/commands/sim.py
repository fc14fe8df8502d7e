"""``operator-tui sim``: run the subject's simulated cluster standalone (Ctrl-C stops it).

The flags belong to the subject's simulator, so they are passed through untouched to
``SubjectPlugin.sim_main``, which parses them and answers ``operator-tui sim --help``.
"""

from __future__ import annotations

import argparse
import sys

from operator_tui.config import Settings
from operator_tui.core.registry import load_plugin
from operator_tui.core.subject import SubjectError

NO_OPTIONS = "\x00"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sim",
        help="run the simulated cluster and print its endpoints (sim --help lists its flags)",
        add_help=False,
        prefix_chars=NO_OPTIONS,
    )
    p.add_argument("sim_argv", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        plugin = load_plugin(settings.subject)
    except SubjectError as exc:
        print(f"operator-tui: error: {exc}", file=sys.stderr)
        return 2
    return int(plugin.sim_main(list(args.sim_argv)))
