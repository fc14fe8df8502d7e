"""The monitor: observe the subject, check invariants, record tickets and history, publish what changed.

``Monitor.tick_once`` is one pass and never raises for a subject's failure: an
unreachable subject becomes a ``subject_unreachable`` violation (a ticket),
and a tick that cannot observe never resolves the tickets it could not check.
``Monitor.run`` ticks on a fixed-rate grid (``FixedRateSchedule``): no drift,
never two ticks at once, a slow tick skips the slots it overran and is
reported as an ``error`` event rather than stacked. A subject that watches between
ticks (``core.wakeup.Watched``) wakes it early: a confirmed wake runs a tick at once,
within ``WakeLimits``, and that tick's event names what woke it (``woken``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from operator_tui.core.events import EventBus
from operator_tui.core.history import History
from operator_tui.core.incident import DEFAULT_RULES
from operator_tui.core.incident_store import IncidentStore
from operator_tui.core.subject import Figure, Subject, SubjectError
from operator_tui.core.ticket import Ticket
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Snapshot, Violation
from operator_tui.core.wakeup import Wake, WakeLimits, Watched

log = logging.getLogger(__name__)

Observed = Callable[[datetime, Snapshot | None, list[Violation] | None, str | None], None]

UNREACHABLE = "subject_unreachable"
CONFIRM_MAX_S = 1.0
"""The longest a wake's probe may take (less when the interval is shorter)."""
CONFIRMING_MAX = 64
"""Probes running at once; a wake beyond them waits for the next tick."""
SNAPSHOT_HOT_WRITES = 20  # hot write entries: as many as a diagnosis reads (diagnosis/context.py)
SNAPSHOT_LOG_EVENTS = 20
SNAPSHOT_STORES = 50
EPISODE = "episode"
"""A violation detail naming one occurrence of its condition; a new value while the ticket
is open is a recurrence (``ticket.recurred``, diagnosed again), not one more tick of it."""


def snapshot_dict(snapshot: Snapshot, violated: set[int] | None = None) -> dict[str, Any]:
    """The compact, JSON-ready copy of a snapshot kept with the ticket it opened (at most
    ``SNAPSHOT_STORES`` stores, so a 1000-store cluster does not store megabytes per ticket)."""
    keep = snapshot.pick_stores(SNAPSHOT_STORES, first=sorted(violated or ()))
    return {
        "taken_at": snapshot.taken_at.isoformat(),
        "source": snapshot.source,
        "stores_in_cluster": len(snapshot.stores),
        "stores": [asdict(s) for s in snapshot.stores if s.id in keep],
        "store_metrics": {
            str(k): m.as_dict() for k, m in snapshot.store_metrics.items() if k in keep
        },
        "cluster": asdict(snapshot.cluster),
        "hot_write_regions": [
            asdict(h)
            for h in sorted(snapshot.hot_write_regions, key=lambda h: -h.flow_bytes)[
                :SNAPSHOT_HOT_WRITES
            ]
        ],
        "log_events": [
            {k: v for k, v in asdict(e).items() if k != "raw"}
            for e in snapshot.log_events[-SNAPSHOT_LOG_EVENTS:]
        ],
        "errors": list(snapshot.errors),
    }


def tick_summary(snapshot: Snapshot, figures: Sequence[Figure] = ()) -> dict[str, Any]:
    """The ``tick`` event's figures. After the store counts come the subject's figures that
    declare an ``event`` field, under that name: the shard count the README lists among the
    ``tick`` fields is the subject's figure, filled this way. One it did not measure is null."""
    c = snapshot.cluster
    stores_total = c.stores_total or len(snapshot.stores)
    return {
        "stores_up": c.stores_up,
        "stores_total": stores_total,
        **{f.event: c.figures.get(f.name) for f in figures if f.event},
        "qps": round(c.qps, 1),
        "p99_ms": None if c.p99_latency_ms is None else round(c.p99_latency_ms, 2),
    }


class FixedRateSchedule:
    """Tick slots on the grid ``start + k * interval``, in a monotonic clock's seconds.

    After a tick, the next slot is the first grid point after *now*: a tick that
    ran long skips (and counts) the slots it overran instead of firing them late.
    """

    def __init__(self, interval_s: float, start: float) -> None:
        self.interval_s = interval_s
        self.due = start
        self.skipped = 0

    def is_due(self, now: float) -> bool:
        return now >= self.due

    def advance(self, now: float) -> int:
        """Move past a tick that was due; returns how many slots were skipped."""
        self.due += self.interval_s
        missed = 0
        if now >= self.due:
            missed = math.floor((now - self.due) / self.interval_s) + 1
            self.due += missed * self.interval_s
        self.skipped += missed
        return missed

    def set_interval(self, interval_s: float, now: float) -> None:
        """New interval; the next tick comes no later than one new interval from now."""
        self.interval_s = interval_s
        self.due = min(self.due, now + interval_s)

    def restart(self, now: float) -> None:
        self.due = now


class Monitor:
    def __init__(
        self,
        subject: Subject,
        tickets: TicketStore,
        bus: EventBus,
        *,
        interval_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        history: History | None = None,
        incidents: IncidentStore | None = None,
        wake_per_second: int = 5,
    ) -> None:
        self.subject = subject
        config = subject.describe()
        self.figures = config.cluster_figures
        self.incident_rules = config.incident_rules or DEFAULT_RULES
        self.tickets = tickets
        self.incidents = incidents
        self.bus = bus
        self.clock = clock
        self.interval_s = interval_s
        self.paused = False
        self.latest: Snapshot | None = None
        self.history = history or History()
        self.ticks = 0
        self.on_opened: Callable[[list[Ticket]], None] | None = None
        self.on_observed: Observed | None = None
        """Told every tick's clock, snapshot (None: not observed), violations and error
        before they are recorded: the flight recorder's hook. It must not block."""
        self._episodes: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._manual = False
        self._schedule: FixedRateSchedule | None = None
        self.wake_per_second = wake_per_second
        self.wake_limits = WakeLimits(interval_s, wake_per_second)
        self.wake_counts: Counter[str] = Counter()
        """``seen``, ``confirmed``, ``unconfirmed``, ``limited`` (a key woken again inside
        its interval, or too many probes at once), ``ignored`` (paused), ``early_ticks``."""
        self._woken: dict[str, str] = {}
        self._confirming: dict[str, asyncio.Task[None]] = {}

    # --- one pass ---------------------------------------------------------------------

    async def tick_once(self) -> Snapshot | None:
        async with self._lock:
            return await self._tick()

    async def _tick(self, woken: Sequence[str] = ()) -> Snapshot | None:
        started = time.perf_counter()
        now = self.clock()
        self.ticks += 1
        try:
            snapshot = await self.subject.observe()
        except SubjectError as exc:
            await self._unobservable(str(exc) or type(exc).__name__, now, started)
            return None
        except Exception as exc:
            log.exception("observing the subject failed")
            await self._unobservable(
                f"observation failed: {type(exc).__name__}: {exc}", now, started
            )
            return None
        try:
            violations = self.subject.evaluate(snapshot)
        except Exception as exc:
            log.exception("evaluating invariants failed")
            self.bus.publish("error", message=f"invariants failed: {type(exc).__name__}: {exc}")
            violations = None
        self.latest = snapshot
        self._observed(now, snapshot, violations, None)
        self.history.record(snapshot)
        if violations is not None:
            await self._record(
                violations,
                lambda: snapshot_dict(
                    snapshot, {v.store_id for v in violations if v.store_id is not None}
                ),
                now,
                resolve_absent=True,
            )
        tick_ms = (time.perf_counter() - started) * 1000
        self.bus.publish(
            "tick",
            **tick_summary(snapshot, self.figures),
            tick_ms=round(tick_ms, 1),
            seq=self.ticks,
            reachable=True,
            violations=len(violations or ()),
            **({"woken": list(woken)} if woken else {}),
        )
        return snapshot

    def _observed(
        self,
        now: datetime,
        snapshot: Snapshot | None,
        violations: list[Violation] | None,
        error: str | None,
    ) -> None:
        if self.on_observed is None:
            return
        try:
            self.on_observed(now, snapshot, violations, error)
        except Exception:
            log.exception("the observer of ticks failed")

    async def _unobservable(self, message: str, now: datetime, started: float) -> None:
        self._observed(now, None, None, message)
        violation = Violation(UNREACHABLE, Severity.CRITICAL, message, None)
        await self._record(
            [violation], {"taken_at": now.isoformat(), "error": message}, now, resolve_absent=False
        )
        tick_ms = (time.perf_counter() - started) * 1000
        self.bus.publish(
            "tick", reachable=False, error=message, tick_ms=round(tick_ms, 1), seq=self.ticks
        )

    async def _record(
        self,
        violations: list[Violation],
        snap: dict[str, Any] | Callable[[], dict[str, Any]],
        now: datetime,
        *,
        resolve_absent: bool,
    ) -> list[tuple[str, Ticket]]:
        recurred = self._new_episodes(violations, resolve_absent=resolve_absent)
        try:
            changes = await self.tickets.upsert_violations(
                violations, snap, now, resolve_absent=resolve_absent
            )
            again = await self._recurred(recurred, now) if recurred else []
        except Exception as exc:
            log.exception("recording tickets failed")
            self.bus.publish("error", message=f"ticket database: {type(exc).__name__}: {exc}")
            return []
        opened = []
        for change, ticket in changes:
            self.bus.publish(f"ticket.{change}", ticket=ticket.summary())
            if change == "opened":
                opened.append(ticket)
        for ticket, episode in again:
            self.bus.publish("ticket.recurred", ticket=ticket.summary(), episode=episode)
            opened.append(ticket)
        await self._group(now)
        if opened and self.on_opened is not None:
            self.on_opened(opened)
        return changes

    def _new_episodes(self, violations: list[Violation], *, resolve_absent: bool) -> dict[str, str]:
        """Violations whose ``details[EPISODE]`` differs from the one last seen for their key:
        the same condition happened again while its ticket was still open (a second change
        inside a hold), which the ticket would otherwise absorb as one more occurrence."""
        fresh: dict[str, str] = {}
        seen: dict[str, str] = {}
        for v in violations:
            episode = v.details.get(EPISODE)
            if episode is None:
                continue
            seen[v.key] = str(episode)
            last = self._episodes.get(v.key)
            if last is not None and last != seen[v.key]:
                fresh[v.key] = seen[v.key]
        if resolve_absent:
            self._episodes = seen
        else:
            self._episodes.update(seen)
        return fresh

    async def _recurred(self, episodes: dict[str, str], now: datetime) -> list[tuple[Ticket, str]]:
        """Record each new episode on its open ticket and queue that ticket's diagnosis again."""
        out = []
        for ticket in await self.tickets.list_tickets(include_resolved=False):
            episode = episodes.get(ticket.violation_key)
            if episode is None:
                continue
            await self.tickets.add_event(ticket.id, "recurred", {EPISODE: episode}, now)
            queued = await self.tickets.mark_for_rediagnosis(ticket.id)
            out.append((queued or ticket, episode))
        return out

    async def _group(self, now: datetime) -> None:
        """Every tick, after its tickets: place new ones in incidents, settle the quiet ones."""
        if self.incidents is None:
            return
        try:
            changes = await self.incidents.record(self.incident_rules, now)
        except Exception as exc:
            log.exception("recording incidents failed")
            self.bus.publish("error", message=f"incidents: {type(exc).__name__}: {exc}")
            return
        for change, incident in changes:
            self.bus.publish(f"incident.{change}", incident=incident.summary())

    # --- the loop ---------------------------------------------------------------------

    def tick_now(self) -> None:
        self._manual = True
        self._wake.set()

    def pause(self) -> None:
        if not self.paused:
            self.paused = True
            self.bus.publish("monitor.paused")
            self._wake.set()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            if self._schedule is not None:
                self._schedule.restart(asyncio.get_running_loop().time())
            self.bus.publish("monitor.resumed")
            self._wake.set()

    def set_interval(self, seconds: float) -> float:
        self.interval_s = seconds
        self.wake_limits.per_key_s = seconds
        if self._schedule is not None:
            self._schedule.set_interval(seconds, asyncio.get_running_loop().time())
        self._wake.set()
        return seconds

    # --- early ticks ------------------------------------------------------------------

    def wake(self, wake: Wake) -> None:
        """The subject saw ``wake.key`` change: probe it once, then tick at once (bounded)."""
        self.wake_counts["seen"] += 1
        if self.paused or self._schedule is None:
            self.wake_counts["ignored"] += 1
            return
        now = asyncio.get_running_loop().time()
        key = wake.key
        if (
            key in self._woken
            or key in self._confirming
            or len(self._confirming) >= CONFIRMING_MAX
            or not self.wake_limits.key_ready(key, now)
        ):
            self.wake_counts["limited"] += 1
            return
        if wake.confirm is None:
            self._confirmed(wake)
            return
        task = asyncio.create_task(self._confirm(wake))
        self._confirming[key] = task
        task.add_done_callback(lambda _t, k=key: self._confirming.pop(k, None))

    async def _confirm(self, wake: Wake) -> None:
        assert wake.confirm is not None
        try:
            async with asyncio.timeout(min(CONFIRM_MAX_S, self.interval_s)):
                real = await wake.confirm()
        except TimeoutError:
            real = False
        except Exception:
            log.exception("the probe for %s failed", wake.key)
            real = False
        if real:
            self._confirmed(wake)
        else:
            self.wake_counts["unconfirmed"] += 1

    def _confirmed(self, wake: Wake) -> None:
        self.wake_counts["confirmed"] += 1
        self._woken[wake.key] = wake.reason
        self._wake.set()

    async def _watch(self, subject: Watched) -> None:
        try:
            await subject.watch(self.wake)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("the subject's watch failed")
            self.bus.publish(
                "error", message=f"watch stopped: {type(exc).__name__}: {exc}; ticks go on"
            )

    def _take_woken(self, now: float, scheduled: bool) -> tuple[list[str], float | None]:
        """The wakes this pass ticks for, and (when none may yet) seconds until one may."""
        if not self._woken or self.paused:
            self._woken.clear()
            return [], None
        if not scheduled:
            wait = self.wake_limits.wait_s(now)
            if wait > 0:
                return [], wait
            self.wake_counts["early_ticks"] += 1
        keys = list(self._woken)
        reasons = [f"{k}: {r}" for k, r in self._woken.items()]
        self._woken.clear()
        if not scheduled:
            self.wake_limits.take(keys, now)
        return reasons, None

    # --- the loop ---------------------------------------------------------------------

    async def run(self) -> None:
        """Tick on a fixed-rate grid until cancelled, and early when the subject wakes it."""
        loop = asyncio.get_running_loop()
        schedule = self._schedule = FixedRateSchedule(self.interval_s, loop.time())
        self.wake_limits.per_key_s = self.interval_s
        watch = (
            asyncio.create_task(self._watch(self.subject))
            if self.wake_per_second > 0 and isinstance(self.subject, Watched)
            else None
        )
        try:
            while True:
                self._wake.clear()
                now = loop.time()
                scheduled = not self.paused and schedule.is_due(now)
                woken, wake_in = self._take_woken(now, scheduled)
                if scheduled or self._manual or woken:
                    self._manual = False
                    async with self._lock:
                        began = loop.time()
                        await self._tick(woken)
                        took = loop.time() - began
                    if scheduled:
                        missed = schedule.advance(loop.time())
                        if missed:
                            self.bus.publish(
                                "error",
                                kind="slow_tick",
                                message=(
                                    f"tick took {took * 1000:.0f} ms, longer than the "
                                    f"{schedule.interval_s:g} s interval; {missed} tick(s) skipped"
                                ),
                                tick_ms=round(took * 1000, 1),
                                skipped=missed,
                            )
                    continue
                timeout = None if self.paused else max(0.0, schedule.due - now)
                if wake_in is not None:
                    timeout = wake_in if timeout is None else min(timeout, wake_in)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass
        finally:
            self._schedule = None
            tasks = [*self._confirming.values(), *([watch] if watch is not None else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._confirming.clear()
            self._woken.clear()
