"""``operator-tui config``: print the effective settings by section, secrets masked."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from operator_tui.config import Settings, describe_fields


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print the effective settings (secrets masked)")
    p.add_argument("--json", action="store_true", help="print one JSON object, one key per section")


def run(args: argparse.Namespace, settings: Settings) -> int:
    values = settings.masked()
    if args.json:
        print(json.dumps(values, default=str))
        return 0
    table = Table(title="operator-tui settings")
    table.add_column("setting", no_wrap=True)
    for column in ("value", "environment", "description"):
        table.add_column(column, overflow="fold")
    for name, env, _default, desc in describe_fields(settings):
        value = _at(values, name)
        table.add_row(name, "" if value is None else str(value), env, desc)
    Console().print(table)
    return 0


def _at(values: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        values = values.get(part) if isinstance(values, dict) else None
    return values
