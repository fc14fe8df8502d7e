"""What the offline rules ask the read-only tools, and how the answers read as evidence.

The rules weigh the context (the moment the ticket opened); these calls look at the
cluster now, through the same ``ToolBox`` Claude uses: PD's record of the store in
question, the operator's history of the figure its family is about, the store's log
events, the region checks PD runs for missing or down replicas, PD's hot write flow, and
the tickets the operator holds; for a store that may be slow, its slow-operation and
disk-space log lines. Each answer adds one line to the evidence (counts, states and
figures only: no log or ticket text, as the narrative keeps it); a call that failed says
so. Where an answer contradicts the context, ``second_look.revise`` changes the finding
(the one log line it quotes is shown as plain text).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from operator_tikv.diagnosis import families
from operator_tikv.diagnosis.evidence import Evidence
from operator_tikv.diagnosis.second_look import LOG_KINDS, revise
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.diagnosis.rules import Looks
from operator_tui.core.text import plain
from operator_tui.core.tools import Checks, ToolAnswer

LOG_WINDOW_S = 600
# The figure each family is about (``operator_tikv.tools.HISTORY_METRICS``); a store gone or
# cut off shows in whether its status port answered, which every point carries.
FIGURE: dict[str, str] = {
    families.SLOW: "slow_score",
    families.DISK: "used_ratio",
    families.STALL: "write_stall",
    families.CRITICAL: "critical_errors_per_s",
    families.LATENCY: "p99_write_latency_ms",
    families.LAG: "raft_log_lag",
    families.BALANCE: "leader_count",
    families.REPLICA: "region_count",
}
# PD's region checks (``/regions/check/{kind}``) for the families a lost replica explains.
REGION_CHECK: dict[str, str] = {
    families.DOWN: "down-peer",
    families.PARTITION: "down-peer",
    families.UNANSWERED: "down-peer",
    families.REPLICA: "miss-peer",
}
HOT_FAMILIES = frozenset({families.HOT, families.BALANCE})
# Families where the store's disk may be the cause: its own log lines about disk writes.
DISK_FAMILIES = frozenset({families.SLOW, families.LATENCY, families.LAG})


def _store_in_question(ctx: DiagnosisContext) -> int | None:
    if ctx.ticket.store_id is not None:
        return ctx.ticket.store_id
    dead = Evidence(ctx).dead_stores()
    return dead[0] if dead else None


def plan(ctx: DiagnosisContext) -> Checks:
    fam = families.family(ctx.ticket.invariant) or ""
    checks = Checks().add("list_incident_tickets")
    sid = _store_in_question(ctx)
    if sid is not None and sid >= 1:
        checks.add("get_store", store_id=sid)
        checks.add("get_metric_history", store_id=sid, metric=FIGURE.get(fam, "qps"))
        checks.add("search_logs", store_id=sid, since_s=LOG_WINDOW_S)
        if fam in DISK_FAMILIES:
            checks.add("search_logs", store_id=sid, kinds=LOG_KINDS, since_s=LOG_WINDOW_S)
    if fam in REGION_CHECK:
        checks.add("region_check", kind=REGION_CHECK[fam])
    if fam in HOT_FAMILIES:
        checks.add("list_hot_regions", kind="write")
    return checks


def _figure(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "none"


def _store(data: dict[str, Any]) -> str:
    store, status = data.get("store") or {}, data.get("status") or {}
    return (
        f"PD has store {plain(str(store.get('id', '?')))} "
        f"{plain(str(store.get('state_name', 'in no state')))} now, leading "
        f"{_figure(status.get('leader_count'))} of its {_figure(status.get('region_count'))} "
        "region(s)."
    )


def _history(data: dict[str, Any]) -> str:
    points = [p for p in data.get("points") or [] if isinstance(p, dict)]
    if not points:
        return f"The operator holds no history of store {data.get('store_id')}."
    answered = sum(1 for p in points if p.get("reachable"))
    values = [p.get("value") for p in points if p.get("value") is not None]
    moved = (
        f"{data.get('metric')} {_figure(values[0])} -> {_figure(values[-1])}"
        if values
        else f"no {data.get('metric')} figure"
    )
    return (
        f"Store {data.get('store_id')} over the last {len(points)} point(s) held: {moved}; "
        f"its status port answered at {answered} of them."
    )


def _logs(args: dict[str, Any], data: dict[str, Any]) -> str:
    kinds = Counter(
        str(e.get("kind")) for e in data.get("events") or [] if isinstance(e, dict)
    ).most_common(4)
    shown = ", ".join(f"{plain(k)} x{n}" for k, n in kinds)
    asked = args.get("kinds")
    which = (
        "/".join(plain(str(k), limit=40) for k in asked) + " "
        if isinstance(asked, list) and asked
        else ""
    )
    return (
        f"Store {args.get('store_id')} logged {data.get('matched', 0)} {which}event(s) the "
        f"operator holds in the last {LOG_WINDOW_S // 60} min" + (f" ({shown})." if shown else ".")
    )


def _hot(data: dict[str, Any]) -> str:
    leaders = data.get("as_leader") or {}
    flows = {
        sid: float(v.get("total_flow_bytes") or 0)
        for sid, v in leaders.items()
        if isinstance(v, dict)
    }
    total = sum(flows.values())
    if not total:
        return "PD reports no hot write flow now."
    top = max(flows, key=lambda s: flows[s])
    return f"PD's hot write flow now: store {plain(str(top))} leads {flows[top] / total:.0%} of it."


def _tickets(data: dict[str, Any]) -> str:
    roles = Counter(str(t.get("role")) for t in data.get("tickets") or [] if isinstance(t, dict))
    return (
        f"The operator holds {roles['same incident']} other ticket(s) of this incident and "
        f"{roles['other open']} other open one(s)."
    )


def _line(answer: ToolAnswer) -> str:
    step, data = answer.step, answer.data
    if not step.ok or not isinstance(data, dict):
        return f"`{step.tool}` did not answer: {plain(step.summary)}."
    if step.tool == "get_store":
        return _store(data)
    if step.tool == "get_metric_history":
        return _history(data)
    if step.tool == "search_logs":
        return _logs(step.input, data)
    if step.tool == "region_check":
        return f"PD flags {_figure(data.get('count'))} region(s) with a {step.input.get('kind')}."
    if step.tool == "list_hot_regions":
        return _hot(data)
    if step.tool == "list_incident_tickets":
        return _tickets(data)
    return f"`{step.tool}`: {plain(step.summary)}."


def read(ctx: DiagnosisContext, finding: Finding, answers: Sequence[ToolAnswer]) -> list[str]:
    return [_line(a) for a in answers]


LOOKS = Looks(plan=plan, read=read, revise=revise)
