"""How long one refresh of the main screen takes with 100 stores and 1000 tickets (target: 16 ms).

A refresh is what the app does on a ``tick`` event plus a ticket reload: the
stores table (every store's figures changed), the hot regions, the header and
the incident queue (1000 tickets, three to an incident, a tenth of them changed), each applied as a
keyed diff. Measured in a headless app at 120x40: ``update`` is the Python
work of the diff, ``frame`` runs until the screen has been refreshed with the
result (``call_after_refresh``), so it adds Textual's layout and render.
Within a frame, ``paint`` is the time in the compositor's ``render_update``
(every repainted line of every widget, cut and joined for the screen) and
``tables`` the part of it the three tables spent drawing their lines.
``work`` is update + paint: the CPU a refresh costs. ``update by pane`` splits
the update between the three tables' ``apply`` (formatting, ordering and diff). The rest of ``frame`` is
mostly Textual's frame pacing (a screen repaints at most 60 times a second,
on a 16.7 ms timer that resumes on its own grid), so ``frame`` can exceed
``work`` by up to 16 ms even on an idle machine.

    uv run python benchmarks/tui_refresh.py [--stores 100] [--tickets 1000] [--rounds 60]

``--against REV`` measures this tree and git revision REV side by side: REV's
``operator_tui`` and TiKV subject are extracted to a temporary directory and put first on
``PYTHONPATH``; fresh processes of this same benchmark alternate between the two (``--runs``
each), and the medians of their medians are printed next to each other with their ratio.
On a machine shared with other work only such interleaved figures compare.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from operator_tikv.figures import CLUSTER_FIGURES, PdFigures, cluster_with
from operator_tikv.invariants.measures import measures
from operator_tikv.invariants.settings import InvariantSettings
from operator_tikv.records import STORE_FIGURES, TikvHotRegion, TikvStore, TikvStoreMetrics
from operator_tikv.states import StoreState
from textual._compositor import Compositor

from operator_tui.config import Settings
from operator_tui.core.events import EventBus
from operator_tui.core.incident import Incident, IncidentStatus
from operator_tui.core.subject import SubjectConfig
from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import Severity, Snapshot
from operator_tui.tui.app import OperatorApp
from operator_tui.tui.widgets.hot_regions import HotRegionsTable
from operator_tui.tui.widgets.incidents import IncidentTable
from operator_tui.tui.widgets.row_table import RowTable
from operator_tui.tui.widgets.stores import StoresTable

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STATUSES = list(TicketStatus)
SEVERITIES = list(Severity)


class History:
    def __init__(self) -> None:
        self.points: dict[int, list[tuple[datetime, TikvStoreMetrics]]] = defaultdict(list)

    def metric_history(self, store_id: int) -> list[tuple[datetime, TikvStoreMetrics]]:
        return self.points[store_id]

    def recent_log_events(self, store_id: int | None = None, limit: int = 200) -> list:
        return []


class BenchRuntime:
    """Just enough of the runtime for the panes: a snapshot, a history and a ticket list."""

    def __init__(self, stores: int, tickets: int) -> None:
        self.settings = Settings()
        self.bus = EventBus()
        self.config = SubjectConfig(
            "tikv",
            cluster_figures=CLUSTER_FIGURES,
            store_figures=STORE_FIGURES,
            measures=measures(InvariantSettings()),
        )
        self.history = History()
        self.paused = False
        self.interval_s = 2.0
        self.actions_mode = "observe"
        self.latest_snapshot: Snapshot | None = None
        self.n_stores = stores
        self.tickets = [
            Ticket(
                id=i,
                violation_key=f"inv{i % 13}:store-{i % stores}",
                invariant=f"invariant_{i % 13}",
                subject="tikv",
                target=f"store-{i % stores}",
                store_id=i % stores,
                severity=SEVERITIES[i % 3],
                status=STATUSES[i % 4],
                message=f"ticket {i}",
                first_seen=T0 + timedelta(seconds=i),
                last_seen=T0 + timedelta(seconds=i),
            )
            for i in range(1, tickets + 1)
        ]

    def tick(self, round_: int) -> None:
        now = T0 + timedelta(seconds=2 * round_)
        metrics = {}
        for sid in range(1, self.n_stores + 1):
            m = TikvStoreMetrics(
                store_id=sid,
                qps=1000.0 + (sid * 37 + round_ * 11) % 500,
                p99_latency_ms=3 + ((sid + round_) % 7) / 3,
                p99_write_latency_ms=5 + ((sid * 7 + round_) % 20) * 8,
                cpu_ratio=((sid + round_) % 10) / 10,
            )
            metrics[sid] = m
            points = self.history.points[sid]
            points.append((now, m))
            del points[:-60]
        self.latest_snapshot = Snapshot(
            taken_at=now,
            stores=[
                TikvStore(
                    id=sid,
                    address=f"10.0.{sid // 250}.{sid % 250}:20160",
                    state=StoreState.UP if (sid + round_) % 50 else StoreState.DISCONNECTED,
                    capacity_bytes=2**40,
                    available_bytes=2**40 * (7 - sid % 7) // 10,
                    leader_count=100 + (sid + round_) % 9,
                    region_count=300,
                )
                for sid in range(1, self.n_stores + 1)
            ],
            hot_write_regions=[
                TikvHotRegion(
                    range_id=r,
                    store_id=1 + r % self.n_stores,
                    primary=True,
                    flow_bytes=1e6 / (1 + (r + round_) % 40),
                    flow_keys=100.0,
                )
                for r in range(200)
            ],
            store_metrics=metrics,
            cluster=cluster_with(
                PdFigures(region_count=10_000),
                stores_up=self.n_stores,
                stores_total=self.n_stores,
                qps=1e5,
            ),
            source="bench",
        )
        for t in self.tickets[round_ % 10 :: 10]:
            t.occurrences += 1
            t.last_seen = now
            t.status = STATUSES[(t.id + round_) % 4]

    def metric_history(self, store_id: int) -> list[tuple[datetime, TikvStoreMetrics]]:
        return self.history.metric_history(store_id)

    def metric_tail(self, store_id: int, n: int) -> list[tuple[datetime, TikvStoreMetrics]]:
        return self.metric_history(store_id)[-n:] if n > 0 else []

    def recent_log_events(self, store_id: int | None = None, limit: int = 200) -> list:
        return self.history.recent_log_events(store_id, limit)

    async def list_tickets(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Ticket]:
        return [
            Ticket(**{f: getattr(t, f) for f in Ticket.__slots__}) for t in self.tickets[:limit]
        ]  # type: ignore[attr-defined]

    async def list_incidents(
        self, *, include_resolved: bool = True, limit: int = 500
    ) -> list[Incident]:
        """Three tickets to an incident, as one fault's symptoms group."""
        out = []
        for lead in self.tickets[:limit:3]:
            members = self.tickets[lead.id - 1 : lead.id + 2]
            out.append(
                Incident(
                    id=lead.id,
                    subject="tikv",
                    target=lead.target,
                    store_id=lead.store_id,
                    cause=lead.invariant,
                    title=lead.message,
                    severity=max((t.severity for t in members), key=lambda s: s.rank),
                    status=IncidentStatus(lead.status.value),
                    opened_at=lead.first_seen,
                    updated_at=lead.last_seen,
                    lead_ticket_id=lead.id,
                    ticket_ids=[t.id for t in members],
                    open_tickets=sum(t.status != TicketStatus.RESOLVED for t in members),
                )
            )
        return out


def timed(owner: type, name: str, into: dict[str, float], label: str) -> None:
    """Wrap ``owner.name`` so the time spent in it adds up in ``into[label]``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into[label] = into.get(label, 0.0) + (time.perf_counter() - started) * 1000

    setattr(owner, name, wrapper)


def by_pane(parts: dict[tuple[bool, str], list[float]], case: bool, panes: dict) -> None:
    shares = ", ".join(f"{label} {statistics.median(parts[case, label]):.2f}" for label in panes)
    print(f"  update by pane (median ms): {shares}")


def report(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    name = f"  {name}"
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{name:<8} median {statistics.median(samples):6.2f} ms   p95 {p95:6.2f} ms   max {samples[-1]:6.2f} ms"
    )


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPARED = ("update", "paint", "tables", "work", "stores", "hot regions", "incidents")


def extract(rev: str, into: str) -> None:
    """REV's front end and TiKV subject, as files under ``into``."""
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", rev, "operator_tui", "subjects/tikv/operator_tikv"],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryFile() as raw:
        raw.write(archive)
        raw.seek(0)
        with tarfile.open(fileobj=raw) as tar:
            tar.extractall(into, filter="data")


def one_run(args: argparse.Namespace, pythonpath: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, os.path.abspath(__file__), "--json"]
    command += ["--stores", str(args.stores), "--tickets", str(args.tickets)]
    command += ["--rounds", str(args.rounds)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=600)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    source = result.pop("source")
    if pythonpath is not None and not source.startswith(pythonpath.split(os.pathsep)[0]):
        raise SystemExit(f"the 'before' run imported {source}, not the extracted revision")
    return result


def compare(args: argparse.Namespace) -> None:
    """Alternate fresh runs of REV and of this tree; print the medians side by side."""
    with tempfile.TemporaryDirectory(prefix="tui-refresh-") as old_tree:
        extract(args.against, old_tree)
        old_path = os.pathsep.join((old_tree, os.path.join(old_tree, "subjects", "tikv")))
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for _ in range(args.runs):
            runs["before"].append(one_run(args, old_path))
            runs["after"].append(one_run(args, None))
    print(
        f"{args.against} (before) against this tree (after): {args.stores} stores, "
        f"{args.tickets} tickets, {args.rounds} rounds, {args.runs} runs each, alternating"
    )
    print("median of the runs' medians, ms      before    after   after/before")
    for case, label in (("tick", "a tick"), ("reload", "a tick + ticket reload")):
        for name in COMPARED:
            key = f"{case}:{name}"
            before = statistics.median(r[key] for r in runs["before"])
            after = statistics.median(r[key] for r in runs["after"])
            ratio = f"x{after / before:.2f}" if before > 0 else "-"
            print(f"  {label + ': ' + name:<34} {before:7.2f}  {after:7.2f}   {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile the frames (update to paint) with cProfile and print the N costliest calls",
    )
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--against", metavar="REV", help="compare with git revision REV")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side with --against")
    parser.add_argument("--json", action="store_true", help="print only the medians, as JSON")
    args = parser.parse_args()
    if args.against:
        compare(args)
        return
    profiler = cProfile.Profile() if args.profile else None
    runtime = BenchRuntime(args.stores, args.tickets)
    app = OperatorApp(
        runtime=runtime, start_monitor=False, start_agent=False, clock=lambda: T0, animate=False
    )  # type: ignore[arg-type]
    update: list[float] = []
    frame: list[float] = []
    tick_update: list[float] = []
    tick_frame: list[float] = []
    first: list[float] = []
    spent: dict[str, float] = {}
    parts: dict[tuple[bool, str], list[float]] = defaultdict(list)
    timed(Compositor, "render_update", spent, "compositor")
    timed(RowTable, "render_lines", spent, "tables")
    panes = {"stores": StoresTable, "hot regions": HotRegionsTable, "incidents": IncidentTable}
    for label, table_class in panes.items():
        timed(table_class, "apply", spent, label)

    async def drive(pilot) -> None:
        await pilot.pause()  # the main screen composes after the app mounts
        table = app.query_one(IncidentTable)
        for round_ in range(args.rounds + 1):
            runtime.tick(round_)
            incidents = await runtime.list_incidents(limit=args.tickets)
            with_tickets = round_ % 2 == 0
            if profiler is not None and round_:
                profiler.enable()
            spent.clear()
            started = time.perf_counter()
            app.main.draw_snapshot()
            if with_tickets:
                table.apply(incidents, app.clock())
            done = time.perf_counter()
            painted_at: list[float] = []
            refreshed = asyncio.Event()

            def mark(
                painted_at: list[float] = painted_at, refreshed: asyncio.Event = refreshed
            ) -> None:
                painted_at.append(time.perf_counter())
                refreshed.set()

            app.call_after_refresh(mark)
            await asyncio.wait_for(refreshed.wait(), 10)
            painted = painted_at[0]
            if profiler is not None:
                profiler.disable()
            await pilot.pause()
            if round_ == 0:
                first.append((done - started) * 1000)
                continue
            (update if with_tickets else tick_update).append((done - started) * 1000)
            (frame if with_tickets else tick_frame).append((painted - started) * 1000)
            for label in ("compositor", "tables", *panes):
                parts[with_tickets, label].append(spent.get(label, 0.0))
            parts[with_tickets, "work"].append((done - started) * 1000 + spent.get("compositor", 0))
        app.exit()

    app.run(headless=True, size=(120, 40), auto_pilot=drive)
    if args.json:
        medians = {}
        for case, with_tickets, updates in (("tick", False, tick_update), ("reload", True, update)):
            medians[f"{case}:update"] = statistics.median(updates)
            medians[f"{case}:paint"] = statistics.median(parts[with_tickets, "compositor"])
            for name in ("tables", "work", *panes):
                medians[f"{case}:{name}"] = statistics.median(parts[with_tickets, name])
        print(
            json.dumps(
                {
                    **medians,
                    "source": os.path.abspath(
                        RowTable.__module__ and sys.modules[RowTable.__module__].__file__
                    ),
                }
            )
        )
        return
    print(
        f"refresh of {args.stores} stores, 200 hot regions, {args.tickets} tickets, {args.rounds} rounds (120x40, headless)"
    )
    print(f"first    {first[0]:6.2f} ms (every row added)")
    print("a tick (stores, hot regions, header; tickets unchanged):")
    report("update", tick_update)
    report("frame", tick_frame)
    report("paint", parts[False, "compositor"])
    report("tables", parts[False, "tables"])
    report("work", parts[False, "work"])
    by_pane(parts, False, panes)
    print(f"a tick and a ticket reload (a tenth of the {args.tickets} tickets changed):")
    report("update", update)
    report("frame", frame)
    report("paint", parts[True, "compositor"])
    report("tables", parts[True, "tables"])
    report("work", parts[True, "work"])
    by_pane(parts, True, panes)
    if profiler is not None:
        print()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)


if __name__ == "__main__":
    main()
