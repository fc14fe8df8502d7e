"""The rule for a store that counts critical errors or panicked: data or a disk it cannot trust.

TiKV increments ``tikv_critical_error_total`` for errors it cannot serve through: an SST
file that fails its checksum (``sst_corruption``), a RocksDB read that errors, a key that
should exist and does not, a disk that fails fast (components/tikv_util/src/metrics/mod.rs
and its callers). Most of them end in a panic, which TiKV's panic hook logs at FATAL before
the process exits (tikv_util/src/lib.rs ``set_panic_hook``); restarted on the same data it
panics again. So the store needs a person, not a restart: its leaders are moved away
while it still serves, and its disk and logs are checked before it returns.
"""

from __future__ import annotations

from operator_tikv.diagnosis import causes
from operator_tikv.diagnosis.evidence import Evidence
from operator_tikv.diagnosis.proposals import evict_leader
from operator_tui.core.diagnosis.findings import Finding, declared_actions, option


def critical_error(ev: Evidence, sid: int) -> Finding:
    rate, panics = ev.critical_errors(sid), ev.panics(sid)
    evidence = []
    if rate > 0:
        evidence.append(
            f"Store {sid} counts {rate:.3g} critical errors/s (tikv_critical_error_total)."
        )
    if panics:
        evidence.append(f"Store {sid} logged {panics} fatal event(s): TiKV logs a panic at FATAL.")
    alive = ev.reachable(sid) is True
    evidence.append(
        f"Its status port {'still answers' if alive else 'does not answer'}; PD reports it "
        f"{ev.state(sid) or 'unknown'}."
    )
    return Finding(
        cause=causes.CRITICAL_ERROR,
        target=sid,
        root_cause=(
            f"Store {sid} hit a critical error (data it cannot read back, such as a corrupt SST "
            "file, or a disk that fails): TiKV "
            + (
                "keeps serving what it can but cannot be trusted with more."
                if alive
                else "panicked and exited; restarted on the same data it panics again."
            )
        ),
        evidence=evidence,
        options=[
            option(
                f"Restart store {sid}",
                "a corrupt file or a failing disk is still there after a restart, so it fails again",
            ),
            option(
                f"Drain store {sid} now",
                "irreversible and heavy; first confirm the disk or the data is bad from its logs",
            ),
            option("Wait", "a critical error does not heal by itself"),
        ],
        actions=declared_actions(
            evict_leader(
                ev,
                sid,
                f"Move every leader off store {sid} so requests stop reaching data it cannot trust, "
                "then check its disk and logs.",
            )
        ),
        confidence=0.85 if rate > 0 and panics else 0.75,
    )
