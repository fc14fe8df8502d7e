"""Is each store there: down, cut off from its peers or PD, slow, or counting critical errors."""

from __future__ import annotations

from typing import Any

from operator_tikv.invariants import names
from operator_tikv.invariants.check import Report, StoreTick, store_check
from operator_tikv.invariants.text import ids, label
from operator_tikv.states import StoreState
from operator_tui.core.types import Severity


@store_check(
    names.STORE_DOWN,
    Severity.CRITICAL,
    "Store process gone: its status port refuses or times out, or PD reports it Down "
    "(or Disconnected with nothing answering).",
    exclusive=True,
)
def store_down(t: StoreTick, out: Report) -> None:
    store, m, reachable = t.store, t.metrics, t.reachable
    if not (
        store.state == StoreState.DOWN
        or reachable is False
        or (store.state == StoreState.DISCONNECTED and reachable is not True)
    ):
        return
    why = (m.error if m is not None else None) or ""
    if reachable is False:
        reason = (
            f"its status port does not answer ({why})" if why else "its status port does not answer"
        )
        reason += f"; PD says {store.state.value}"
    else:
        reason = f"PD says {store.state.value}"
    out.fire(
        f"{label(store)} is down: {reason}",
        pd_state=store.state.value,
        status_port_answers=reachable,
        last_heartbeat=store.last_heartbeat.isoformat() if store.last_heartbeat else None,
    )


@store_check(
    names.STORE_DISCONNECTED,
    Severity.WARNING,
    lambda s: (
        "A network partition: the store's status port answers, but its peers cannot reach "
        f"it (at least {s.unreachable_reporters_min} report it unreachable and it reports "
        "them back), or PD lost its heartbeat (Disconnected)."
    ),
)
def store_disconnected(t: StoreTick, out: Report) -> None:
    """Seen from the peers' unreachable reports (TiKV's ``tikv_server_report_failure_msg_total``)
    before PD notices, or from PD's Disconnected (no heartbeat for 20 s) while the port answers."""
    store, m, cut = t.store, t.metrics, t.cut
    disconnected = store.state == StoreState.DISCONNECTED
    if not disconnected and cut is None:
        if m is None or m.unreachable_reports_per_s is None:
            out.unmeasured()
        return
    heartbeat_age = (
        round((t.now - store.last_heartbeat).total_seconds(), 1) if store.last_heartbeat else None
    )
    details: dict[str, Any] = {
        "pd_state": store.state.value,
        "last_heartbeat": store.last_heartbeat.isoformat() if store.last_heartbeat else None,
        "heartbeat_age_s": heartbeat_age,
    }
    if cut is None:
        message = (
            f"{label(store)} lost its PD heartbeat (Disconnected) but its status port "
            "answers: likely a network partition between the store and PD"
        )
    else:
        pd_view = (
            "PD has lost its heartbeat (Disconnected)"
            if disconnected
            else f"PD still says {store.state.value}"
        )
        message = (
            f"{label(store)} is cut off from its peers: stores {ids(cut.reported_by)} "
            f"report it unreachable and it cannot reach stores {ids(cut.reports)}, while "
            f"its status port answers ({pd_view}): likely a network partition"
        )
        details["reported_unreachable_by"] = {
            str(k): round(v, 2) for k, v in cut.reported_by.items()
        }
        details["reports_unreachable"] = {str(k): round(v, 2) for k, v in cut.reports.items()}
    out.fire(message, **details)


@store_check(
    names.SLOW_STORE,
    Severity.CRITICAL,
    lambda s: (
        f"Store slow score at or above {s.slow_score_threshold:g} (PD's slow-store threshold)."
    ),
    grace="slow_store_grace_s",
)
def slow_store(t: StoreTick, out: Report) -> None:
    """TiKV's slow score, 1 to 100 from its own I/O probes; the store's ``/metrics``
    figure wins over the copy PD keeps from its heartbeat."""
    store, m = t.store, t.metrics
    if not (store.slow_score or (m is not None and m.slow_score is not None)):
        return
    score = m.slow_score if m is not None and m.slow_score is not None else store.slow_score
    threshold = t.settings.slow_score_threshold
    if score >= threshold:
        out.fire(
            f"{label(store)} slow score is {score:g} (>= {threshold:g})",
            slow_score=score,
        )


@store_check(
    names.CRITICAL_ERROR,
    Severity.CRITICAL,
    "TiKV counts critical errors (SST corruption, disk stuck, ...): TiKV_critical_error.",
)
def critical_error(t: StoreTick, out: Report) -> None:
    m = t.metrics
    if m is None or not m.reachable or m.critical_errors_per_s is None:
        out.unmeasured()
    elif m.critical_errors_per_s > 0:
        out.fire(
            f"{label(t.store)} reports critical errors ({m.critical_errors_per_s:.2f}/s)",
            critical_errors_per_s=m.critical_errors_per_s,
        )
