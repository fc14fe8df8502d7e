"""Argument parsing, wiring and exit codes. Each subcommand lives in ``operator_tui.commands``.

Exit codes: 0 success/healthy, 1 violations found, 2 bad config or unreachable
subject or missing tool, 130 interrupted. A user error is one line on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from operator_tui import __version__
from operator_tui.config import ConfigError, Settings, load_settings
from operator_tui.core import registry
from operator_tui.core.diagnosis import backends
from operator_tui.core.text import PlainFormatter, plain

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2

# Subcommands in help order; a module that is not there yet is simply not offered.
COMMAND_MODULES = (
    "config",
    "check",
    "sim",
    "tickets",
    "incidents",
    "deploy",
    "chaos",
    "eval",
    "record",
    "replay",
    "scenario",
    "serve",
)


def _load_commands() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for name in COMMAND_MODULES:
        try:
            found[name] = importlib.import_module(f"operator_tui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"operator_tui.commands.{name}":
                raise
    return found


def add_global_options(parser: argparse.ArgumentParser, *, after: bool = False) -> None:
    """The global options; ``after``: on a subcommand, where they default to nothing so the
    value given before the subcommand stays (``check --pd URL`` = ``--pd URL check``)."""

    def _option(target: argparse.ArgumentParser, *names: str, **kwargs: object) -> None:
        if after:
            kwargs["default"] = argparse.SUPPRESS
        try:
            target.add_argument(*names, **kwargs)  # type: ignore[arg-type]
        except argparse.ArgumentError:
            pass  # the subcommand has an option of that name already: its own wins

    _option(parser, "--config", type=Path, metavar="FILE", help="TOML settings file")
    _option(parser, "--pd", metavar="URL[,URL]", help="PD endpoints (overrides OPERATOR_TIKV__PD)")
    _option(
        parser,
        "--prometheus",
        metavar="URL",
        help="Prometheus URL (overrides OPERATOR_TIKV__PROMETHEUS_URL)",
    )
    _option(
        parser,
        "--db",
        type=Path,
        metavar="FILE",
        help="ticket database (overrides OPERATOR_STORAGE__DB_PATH)",
    )
    _option(
        parser,
        "--interval",
        type=float,
        metavar="SECONDS",
        help="monitor interval (monitor.interval_s)",
    )
    _option(
        parser, "--no-ui", action="store_true", help="run headless: JSON-lines events on stdout"
    )
    _option(
        parser, "--demo", action="store_true", help="run against the embedded simulated cluster"
    )
    _option(
        parser,
        "--record",
        type=Path,
        metavar="FILE",
        help="record every observation and conclusion to this new file (replay FILE plays it)",
    )
    _option(
        parser,
        "--health-port",
        type=int,
        metavar="PORT",
        help="with --no-ui, serve GET /healthz on this port: 503 once monitor ticks stop",
    )
    _option(
        parser,
        "--health-host",
        metavar="HOST",
        help="address for --health-port (default 127.0.0.1; 0.0.0.0 in a container)",
    )
    _option(
        parser,
        "--stream",
        action="store_true",
        help="with --no-ui, also emit diagnosis.chunk events",
    )
    _option(
        parser,
        "--backend",
        choices=backends.NAMES,
        help=f"diagnosis backend (diagnosis.backend): {backends.describe()}",
    )
    _option(
        parser,
        "--mode",
        choices=("observe", "approve", "auto"),
        help="actions mode (actions.mode)",
    )
    _option(
        parser,
        "--allow-chaos",
        action="store_true",
        default=None,
        help="let the kill and start keys act when the configured cluster is not the lab "
        "(actions.allow_chaos)",
    )


def version_text() -> str:
    """The app's version, then each installed subject plugin's distribution and version."""
    lines = [f"operator-tui {__version__}"]
    lines += [f"  subject {name}: {dist} {ver}" for name, dist, ver in registry.subject_versions()]
    return "\n".join(lines)


class _Version(argparse.Action):
    """``--version`` on several lines (argparse's own action folds them into one)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        print(version_text())
        parser.exit()


def build_parser(commands: dict[str, ModuleType] | None = None) -> argparse.ArgumentParser:
    commands = _load_commands() if commands is None else commands
    parser = argparse.ArgumentParser(
        prog="operator-tui",
        description="An AI operator for TiKV clusters that lives in the terminal.",
    )
    parser.add_argument(
        "--version",
        action=_Version,
        nargs=0,
        help="print the versions of the app and of each subject plugin, and exit",
    )
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in commands.values():
        module.register(sub)
    for command in sub.choices.values():
        add_global_options(command, after=True)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with the global options applied; they are the flat aliases of sectioned names."""
    return load_settings(
        args.config,
        pd=args.pd,
        prometheus_url=args.prometheus,
        db_path=args.db,
        interval_s=args.interval,
        diagnosis_backend=args.backend,
        actions_mode=args.mode,
        allow_chaos=args.allow_chaos,
    )


def error(message: str) -> None:
    print(f"operator-tui: error: {plain(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    logging.lastResort.setFormatter(PlainFormatter())
    commands = _load_commands()
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        if args.command is None:
            try:
                run = importlib.import_module("operator_tui.commands.run")
            except ModuleNotFoundError:
                parser.print_help()
                return EXIT_OK
            return int(run.run(args, settings))
        return int(commands[args.command].run(args, settings))
    except ConfigError as exc:
        error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`operator-tui sim | head`): stop quietly, as shell tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def entry() -> None:
    sys.exit(main())
