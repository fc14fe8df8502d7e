"""Is each store's disk filling up."""

from __future__ import annotations

from operator_tikv.invariants import names
from operator_tikv.invariants.check import Report, StoreTick, store_check
from operator_tikv.invariants.text import label, pct
from operator_tui.core.types import Severity


@store_check(
    names.LOW_DISK,
    Severity.CRITICAL,
    lambda s: (
        f"More than {s.disk_used_warning_ratio:.0%} of capacity used (warning); available "
        f"below {s.disk_available_critical_ratio:.0%} of capacity (critical, as TiKV_low_space)."
    ),
    grace="low_disk_grace_s",
)
def low_disk(t: StoreTick, out: Report) -> None:
    """Sizes from the store's own ``/metrics`` when it gave them, else from PD's heartbeat."""
    s, store, m = t.settings, t.store, t.metrics
    capacity, available = store.capacity_bytes, store.available_bytes
    if m is not None and m.capacity_bytes and m.available_bytes is not None:
        capacity, available = m.capacity_bytes, m.available_bytes
    if capacity <= 0:
        out.unmeasured()
        return
    free = available / capacity
    used = 1.0 - free
    details = {"capacity_bytes": capacity, "available_bytes": available, "used_ratio": used}
    if free < s.disk_available_critical_ratio:
        out.fire(
            f"{label(store)} has only {pct(free)} of its disk available "
            f"(< {pct(s.disk_available_critical_ratio)})",
            **details,
        )
    elif used > s.disk_used_warning_ratio:
        out.fire(
            f"{label(store)} has used {pct(used)} of its disk (> {pct(s.disk_used_warning_ratio)})",
            severity=Severity.WARNING,
            **details,
        )
