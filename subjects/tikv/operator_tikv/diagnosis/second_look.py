"""Where the tools' answers change the offline conclusion: the cluster now against the context.

The rules decide from the moment the ticket opened; the looks (``looks.plan``) ask PD and
the operator's logs what holds now. Three answers make an operator change their mind:

- PD reports the store ``Up`` with a heartbeat after the ticket's moment. PD marks a store
  Disconnected 20 s after its last heartbeat (``storeDisconnectDuration``, pd
  ``pkg/core/store.go``) and TiKV heartbeats every 10 s, so a later heartbeat means it came
  back. A ``start_ts`` after that moment means a new process (a restart, not a loss). Its
  peers then catch up from their leaders' Raft logs or a snapshot, and PD replaces nothing
  for a store that returns within ``max-store-down-time``: watch it, do not repair.
- PD's region checks for down or missing peers come back empty: there is no replica repair
  to speed up. A leader reports a peer down only after TiKV's ``max-peer-down-duration``
  (10 min, raftstore config) and PD's replica checker replaces a down peer only after
  ``max-store-down-time`` (30 min, pd ``checkDownPeer``), so a higher replica limit changes
  nothing yet.
- The slow store's own log: raftstore writes ``async write too slow`` when one batch of
  raft and kv writes to its disks took longer than the slow-log threshold
  (``store/async_io/write.rs``), and disk-space lines name the disk too. Such a line is the
  disk's own word: it is quoted (as plain text) and, beside latency read as load, makes the
  disk the cause. No such line in the window leaves only the figures, so less confidence.

Each revision keeps the finding's class unless the store's own log names its disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from operator_tikv.diagnosis import causes, families
from operator_tikv.diagnosis.availability import WAIT
from operator_tikv.diagnosis.evidence import Evidence
from operator_tikv.diagnosis.performance import slow_disk
from operator_tikv.pd.models import StoreInfo
from operator_tikv.states import StoreState
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding, option
from operator_tui.core.diagnosis.schema import CauseConsidered
from operator_tui.core.text import plain
from operator_tui.core.tools import ToolAnswer

REPAIR = "set_replica_schedule_limit"
REPAIR_CHECKS = ("down-peer", "miss-peer")
DISK_LINE_MARKERS = ("async write too slow",)
DISK_KINDS = frozenset({"disk_space"})
LOG_KINDS = ["slow_operation", "disk_space"]
"""What ``looks.plan`` asks ``search_logs`` for a store that may be slow."""
SILENT_LOG_PENALTY = 0.15
QUOTE_CHARS = 160


def _answers(answers: Sequence[ToolAnswer], tool: str, **matching: Any) -> list[Any]:
    return [
        a.data
        for a in answers
        if a.step.tool == tool
        and a.step.ok
        and all(a.step.input.get(k) == v for k, v in matching.items())
    ]


def _moment(ctx: DiagnosisContext) -> datetime:
    return ctx.observed_at or ctx.ticket.first_seen


def pd_store(data: Any) -> Any:
    """PD's ``/store/{id}`` answer read as the subject reads it every tick, or None."""
    if not isinstance(data, dict):
        return None
    try:
        return StoreInfo.model_validate(data).to_store()
    except (ValidationError, ValueError, TypeError):
        return None


def came_back(ctx: DiagnosisContext, finding: Finding, answers: Sequence[ToolAnswer]) -> Finding:
    """A store called down or cut off that PD sees Up and heartbeating since the ticket."""
    sid = finding.target
    if finding.cause not in (causes.STORE_DOWN, causes.NETWORK_PARTITION) or not isinstance(
        sid, int
    ):
        return finding
    store = next(
        (s for s in map(pd_store, _answers(answers, "get_store", store_id=sid)) if s), None
    )
    moment = _moment(ctx)
    if (
        store is None
        or store.state != StoreState.UP
        or store.last_heartbeat is None
        or store.last_heartbeat <= moment
    ):
        return finding
    beat = f"{store.last_heartbeat:%H:%M:%S} UTC"
    started = store.start_time
    restarted = started is not None and started > moment
    finding.evidence.append(
        f"PD reports store {sid} Up again, with a heartbeat at {beat}, after the ticket's "
        f"moment ({moment:%H:%M:%S} UTC)"
        + (f"; its process started at {started:%H:%M:%S} UTC." if started else ".")
    )
    if finding.cause == causes.NETWORK_PARTITION:
        finding.root_cause = (
            f"Store {sid} was cut off from PD and its peers and is reachable again: PD reports "
            f"it Up with a heartbeat at {beat}, so the network path healed."
        )
        return finding
    how = (
        f"its process started again at {started:%H:%M:%S} UTC: a restart, not a loss of the store"
        if restarted
        else "the same process answers again: it stopped answering and resumed"
    )
    finding.root_cause = (
        f"TiKV store {sid} went down and is back: PD reports it Up with a heartbeat at {beat}; "
        f"{how}. Its peers catch up from their leaders' Raft logs or a snapshot."
    )
    dropped = [a for a in finding.actions if a.action == REPAIR]
    finding.actions = [a for a in finding.actions if a.action != REPAIR]
    finding.options = [o for o in finding.options if o.option != WAIT]
    if dropped:
        finding.options.append(
            option(
                "Raise PD's replica-schedule-limit",
                f"store {sid} is back within max-store-down-time, so PD re-creates none of its "
                "replicas; watch it catch up instead",
            )
        )
    return finding


def nothing_to_repair(
    ctx: DiagnosisContext, finding: Finding, answers: Sequence[ToolAnswer]
) -> Finding:
    """A replica repair proposed while PD flags no region with a down or missing peer."""
    if not any(a.action == REPAIR for a in finding.actions):
        return finding
    counts: dict[str, int] = {}
    for a in answers:
        kind = a.step.input.get("kind")
        if a.step.tool == "region_check" and a.step.ok and kind in REPAIR_CHECKS:
            count = a.data.get("count") if isinstance(a.data, dict) else None
            if not isinstance(count, int):
                return finding
            counts[str(kind)] = counts.get(str(kind), 0) + count
    if not counts or any(counts.values()):
        return finding
    finding.actions = [a for a in finding.actions if a.action != REPAIR]
    finding.options.append(
        option(
            "Raise PD's replica-schedule-limit now",
            f"PD flags no region with a {' or '.join(sorted(counts))} now, so there is no "
            "replica repair to speed up (a peer is reported down after TiKV's "
            "max-peer-down-duration, 10 min, and replaced after PD's max-store-down-time); "
            "raise it once such regions appear",
        )
    )
    return finding


def _disk_line(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    if event.get("kind") in DISK_KINDS:
        return True
    message = str(event.get("message") or "")
    return event.get("kind") == "slow_operation" and any(m in message for m in DISK_LINE_MARKERS)


def disk_in_logs(ctx: DiagnosisContext, finding: Finding, answers: Sequence[ToolAnswer]) -> Finding:
    """A slow store's own log names its disk, or is silent about it."""
    sid = finding.target
    fam = families.family(ctx.ticket.invariant)
    slow = finding.cause == causes.SLOW_DISK
    load = (
        finding.cause == causes.OVERLOAD
        and fam in (families.LATENCY, families.LAG)
        and sid == ctx.ticket.store_id
    )
    if not isinstance(sid, int) or not (slow or load):
        return finding
    searched = [d for d in _answers(answers, "search_logs", store_id=sid) if isinstance(d, dict)]
    if not searched:
        return finding
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for data in searched:
        for e in data.get("events") or []:
            if _disk_line(e):
                seen[(str(e.get("time")), str(e.get("message")))] = e
    lines = sorted(seen.values(), key=lambda e: str(e.get("time")))
    if not lines:
        if slow:
            finding.confidence = round(max(0.3, finding.confidence - SILENT_LOG_PENALTY), 2)
            finding.evidence.append(
                f"Store {sid} logged no slow disk write and no disk-space line in the window "
                "searched: only its figures point at the disk."
            )
        return finding
    quote = (
        f"Store {sid}'s own log names its disk: \""
        f'{plain(str(lines[-1].get("message")), limit=QUOTE_CHARS)}" '
        f"({len(lines)} such line(s) in the window searched)."
    )
    if slow:
        finding.evidence.append(quote)
        return finding
    disk = slow_disk(Evidence(ctx), sid)
    disk.evidence.append(quote)
    disk.options.append(
        option(
            "Treat it as load",
            f"store {sid}'s own log says its disk writes are slow; load does not write that line",
        )
    )
    disk.weighed = [
        *(w.model_copy(update={"chosen": False}) for w in finding.weighed),
        CauseConsidered(cause=causes.SLOW_DISK, target=sid, evidence_for=[quote], chosen=True),
    ]
    return disk


def revise(ctx: DiagnosisContext, finding: Finding, answers: Sequence[ToolAnswer]) -> Finding:
    for step in (came_back, nothing_to_repair, disk_in_logs):
        finding = step(ctx, finding, answers)
    return finding
