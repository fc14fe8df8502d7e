"""``operator-tui check``: one pass against the cluster, stores and violations, exit 0/1/2.

With ``--json`` it prints one object ``{"stores": [...], "violations": [{"invariant",
"store_id", "severity", "message"}]}``. A single pass has no history, so invariants
are evaluated without their grace periods (what holds right now). With the global
``--demo`` flag it starts the subject's simulated cluster, lets it settle and
checks that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text

from operator_tui.bootstrap import subject_section
from operator_tui.config import ConfigError, Settings, section_with
from operator_tui.core.plugin import SubjectPlugin
from operator_tui.core.registry import load_plugin
from operator_tui.core.subject import (
    DemoOptions,
    StoreFigure,
    Subject,
    SubjectContext,
    SubjectError,
)
from operator_tui.core.text import plain
from operator_tui.core.types import Health, Snapshot, Violation
from operator_tui.core.units import count, ms, pct
from operator_tui.printed import print_fitted

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2

SETTLE_S = 20.0
RATE_GAP_S = 1.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="one pass against the cluster: stores and violations (exit 0 healthy, 1 violations)",
        description="One pass against --pd (and --prometheus): stores, then violations. "
        "Exit 0 healthy, 1 violations, 2 unreachable or bad input.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _error(message: str) -> None:
    print(f"operator-tui: error: {plain(message)}", file=sys.stderr)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        plugin = load_plugin(settings.subject)
        return asyncio.run(
            _check(plugin, settings, bool(args.json), bool(getattr(args, "demo", False)))
        )
    except (SubjectError, ConfigError) as exc:
        _error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return EXIT_ERROR


async def _check(plugin: SubjectPlugin, settings: Settings, as_json: bool, demo: bool) -> int:
    section = subject_section(settings, plugin)
    async with httpx.AsyncClient() as http:
        if not demo:
            snapshot, violations, figures = await _one_pass(
                plugin, http, section, settings, settle=False
            )
        else:
            try:
                cluster_cm = plugin.demo(DemoOptions())
            except ModuleNotFoundError as exc:
                raise SubjectError(f"demo cluster unavailable: {exc}") from None
            async with cluster_cm as cluster:
                snapshot, violations, figures = await _one_pass(
                    plugin, http, section_with(section, cluster.settings), settings, settle=True
                )
    _report(snapshot, violations, figures, as_json)
    return EXIT_VIOLATIONS if violations else EXIT_OK


def _settled(snapshot: Snapshot) -> bool:
    if not snapshot.stores:
        return False
    for store in snapshot.stores:
        if store.health.level is not Health.SERVING or store.id not in snapshot.store_metrics:
            return False
    return True


async def _one_pass(
    plugin: SubjectPlugin,
    http: httpx.AsyncClient,
    section: Any,
    settings: Settings,
    *,
    settle: bool,
) -> tuple[Snapshot, list[Violation], tuple[StoreFigure, ...]]:
    ctx = SubjectContext(
        http=http,
        settings=plugin.one_pass_settings(section, RATE_GAP_S),
        interval_s=settings.monitor.interval_s,
    )
    subject: Subject = plugin.create(ctx)
    try:
        snapshot = await subject.observe()
        if settle:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + SETTLE_S
            while not _settled(snapshot) and loop.time() < deadline:
                await asyncio.sleep(0.5)
                snapshot = await subject.observe()
        if any(m.qps is None and m.reachable for m in snapshot.store_metrics.values()):
            # Rates need two reads of each store's counters.
            await asyncio.sleep(RATE_GAP_S)
            snapshot = await subject.observe()
        return snapshot, subject.evaluate(snapshot), subject.describe().store_figures
    finally:
        await subject.aclose()


def _used_pct(snapshot: Snapshot, store_id: int) -> float | None:
    store = snapshot.store(store_id)
    m = snapshot.store_metrics.get(store_id)
    capacity = available = 0
    if m is not None and m.capacity_bytes and m.available_bytes is not None:
        capacity, available = m.capacity_bytes, m.available_bytes
    elif store is not None:
        capacity, available = store.capacity_bytes, store.available_bytes
    if capacity <= 0:
        return None
    return round((1.0 - available / capacity) * 100.0, 2)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def store_rows(snapshot: Snapshot, figures: Sequence[StoreFigure] = ()) -> list[dict[str, Any]]:
    """One row per store; the subject's ``figures`` under their keys, after the label."""
    rows = []
    for store in sorted(snapshot.stores, key=lambda s: s.id):
        m = snapshot.store_metrics.get(store.id)
        rows.append(
            {
                "id": store.id,
                "address": store.address,
                "state": str(store.state),
                "health": store.health.level.value,
                "label": store.label,
                **{f.key: getattr(store, f.name, None) for f in figures},
                "used_pct": _used_pct(snapshot, store.id),
                "qps": _round(m.qps if m else None),
                "p99_ms": _round(m.p99_latency_ms if m else None),
            }
        )
    return rows


def violation_rows(violations: list[Violation]) -> list[dict[str, Any]]:
    return [
        {
            "invariant": v.invariant,
            "store_id": v.store_id,
            "severity": v.severity.value,
            "message": v.message,
        }
        for v in violations
    ]


def _report(
    snapshot: Snapshot,
    violations: list[Violation],
    figures: Sequence[StoreFigure],
    as_json: bool,
    console: Console | None = None,
) -> None:
    """The JSON object, or the stores (a table, or one block per store when the console is too
    narrow to hold it whole: an address is never cut) and the violations."""
    for problem in snapshot.errors:
        print(f"operator-tui: warning: {plain(problem)}", file=sys.stderr)
    if as_json:
        print(
            json.dumps(
                {
                    "stores": store_rows(snapshot, figures),
                    "violations": violation_rows(violations),
                }
            )
        )
        return
    console = console or Console()
    columns = [f for f in figures if f.column]
    headers = ("id", "address", "state", *(f.label.lower() for f in columns), "used", "QPS", "p99")
    table = Table(*headers, title="stores")
    blocks = []
    for row in store_rows(snapshot, figures):
        cells = [
            str(row["id"]),
            plain(row["address"]),
            plain(row["label"]),
            *("-" if row[f.key] is None else plain(row[f.key]) for f in columns),
            "-" if row["used_pct"] is None else pct(row["used_pct"] / 100),
            count(row["qps"]),
            ms(row["p99_ms"]),
        ]
        table.add_row(*(Text(c) for c in cells))
        head = Text.assemble((f"store {cells[0]} ", "bold"), cells[1])
        blocks.append((head, list(zip(headers[2:], cells[2:], strict=True))))
    print_fitted(console, table, "stores", blocks)
    if not violations:
        console.print("no violations")
        return
    for v in violations:
        target = "cluster" if v.store_id is None else f"store {v.store_id}"
        line = Text.assemble(
            (v.severity.value, "bold"), f" {plain(v.invariant)} ({target}): {plain(v.message)}"
        )
        console.print(line, highlight=False)
