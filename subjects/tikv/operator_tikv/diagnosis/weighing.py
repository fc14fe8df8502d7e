"""Candidate causes for a ticket, each with the evidence for and against it, and the choice between them.

The ticket's own store speaks first. TiKV's slow score, RocksDB's write stall, the
store's disk use, its critical-error counter and its own log lines describe that store
and no other, so a cause read from them outranks any fault elsewhere. A fault on another
store explains a symptom only where that fault produces it: a store gone takes its
leaders (Raft re-elects them on the survivors, whose requests wait meanwhile), its load
(the survivors serve it) and its replicas (PD re-creates them elsewhere after
``max-store-down-time``). It does not make another store's disk slow or its RocksDB stall.

A full disk and a RocksDB write stall on one store can be there at once and are two
causes. TiKV protects a filling disk before RocksDB: PD stops placing regions on a store
past ``low-space-ratio`` and raftstore rejects proposals with ``DiskFull`` once available
space is below ``reserve-space`` (components/raftstore/src/store/peer.rs); neither stalls
RocksDB. RocksDB's stall has its own stated reason (``tikv_engine_write_stall_reason``:
level-0 files, pending compaction bytes, memtables), which is flush and compaction debt.
So a stall whose reason RocksDB names is weighed as the stall (``STALL_NAMED``, above a
full disk, below a slow disk, which does cause that debt); the full disk explains a stall
only when no reason is named.

Strengths order the candidates (``candidates.decide``); 0 means the evidence does not
support the cause.
"""

from __future__ import annotations

from operator_tikv.diagnosis import causes, families, performance
from operator_tikv.diagnosis.availability import store_gone
from operator_tikv.diagnosis.candidates import Candidate
from operator_tikv.diagnosis.errors import critical_error
from operator_tikv.diagnosis.evidence import (
    DISK_USED,
    HOT_STORE_SHARE,
    SLOW_SCORE,
    STALL_REASONS,
    Evidence,
)
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.units import per_s, scaled

# A family's own cause, when its evidence is there, wins a tie with another cause on the store.
NATURAL_BONUS = 0.5
CRITICAL = 3.6
SLOW = 3.5
FULL = 3.2
STALL_NAMED = 3.3
STALL = 3.0
STALL_EXPLAINED = 2.9
CLUSTER_EFFECT = 2.8
HOT = 2.5
ALL_BUSY = 2.2
FOREIGN_WITH_SIGNS = 2.0
FOREIGN_NO_SIGNS = 1.5
LOAD = 1.0

NATURAL = {
    families.SLOW: causes.SLOW_DISK,
    families.STALL: causes.WRITE_STALL,
    families.DISK: causes.DISK_FULL,
    families.CRITICAL: causes.CRITICAL_ERROR,
    families.HOT: causes.HOT_REGION,
}

SYMPTOM = {
    families.SLOW: "a high slow score",
    families.STALL: "a write stall",
    families.DISK: "a full disk",
    families.CRITICAL: "a critical error",
    families.HOT: "a hot region",
}


def _bonus(fam: str | None, cause: str) -> float:
    return NATURAL_BONUS if NATURAL.get(fam or "") == cause else 0.0


def own(ev: Evidence, sid: int, fam: str | None) -> list[Candidate]:
    """What the store's own figures and logs say about it."""
    out: list[Candidate] = []
    m = ev.ctx.metrics(sid)
    rate, panics = ev.critical_errors(sid), ev.panics(sid)
    if rate > 0 or panics:
        found = []
        if rate > 0:
            found.append(f"Store {sid} counts {rate:.3g} critical errors/s.")
        if panics:
            found.append(
                f"Store {sid} logged {panics} fatal event(s) (TiKV logs a panic as FATAL)."
            )
        out.append(
            Candidate(
                causes.CRITICAL_ERROR,
                sid,
                CRITICAL + _bonus(fam, causes.CRITICAL_ERROR),
                lambda: critical_error(ev, sid),
                found,
            )
        )
    score = ev.slow_score(sid)
    slow_ops = ev.log_kinds(sid)["slow_operation"]
    slow = score >= SLOW_SCORE
    if slow or fam in (families.SLOW, families.LATENCY, families.LAG, families.STALL):
        pro = (
            [f"Store {sid}'s slow score is {score:g} (PD calls a store slow at 80)."]
            if slow
            else []
        )
        if slow_ops:
            pro.append(f"{slow_ops} slow-operation log events on store {sid}.")
        con = [] if slow else [f"Store {sid}'s slow score is {score:g}: its disk answers in time."]
        out.append(
            Candidate(
                causes.SLOW_DISK,
                sid,
                SLOW + _bonus(fam, causes.SLOW_DISK) if slow else 0.0,
                lambda: performance.slow_disk(ev, sid),
                pro,
                con,
            )
        )
    used = ev.used_ratio(sid)
    full = used >= DISK_USED
    stall = ev.write_stall(sid)
    reason = ev.stall_reason(sid) if stall > 0 else None
    if full:
        pro = [f"Store {sid} has used {used:.0%} of its capacity."]
        if ev.log_kinds(sid)["disk_space"]:
            pro.append(f"Store {sid} logs low disk space.")
        con = (
            [
                f"RocksDB on store {sid} names its own stall reason ({reason}); a filling disk "
                "is rejected at raftstore (DiskFull), it does not stall RocksDB."
            ]
            if reason is not None and fam == families.STALL
            else []
        )
        out.append(
            Candidate(
                causes.DISK_FULL,
                sid,
                FULL + _bonus(fam, causes.DISK_FULL),
                lambda: performance.disk_full(ev, sid),
                pro,
                con,
            )
        )
    if stall > 0 or fam == families.STALL:
        pro = []
        if m is not None and m.write_stall:
            pro.append(
                f"RocksDB on store {sid} reports a p99 write stall of {scaled(m.write_stall, 'us')}."
            )
        if reason is not None:
            pro.append(
                f"RocksDB names the reason: {reason} ({STALL_REASONS[reason]}), "
                f"{ev.stall_reasons(sid)[reason]:.3g}/s."
            )
        if m is not None and (m.channel_full_per_s or m.scheduler_busy_per_s):
            pro.append(
                f"Channel full {per_s(m.channel_full_per_s or 0)}, scheduler too busy "
                f"{per_s(m.scheduler_busy_per_s or 0)} on store {sid}."
            )
        con = []
        if slow:
            con.append(
                f"Its slow score is {score:g}: a disk that writes slowly makes RocksDB's flushes "
                "and compactions fall behind, so the stall follows from the disk."
            )
        if full and reason is None:
            con.append(
                f"Its disk is {used:.0%} full and RocksDB names no stall reason of its own: "
                "the full disk may be what throttles writes."
            )
        elif full:
            pro.append(
                f"Its disk is also {used:.0%} full, a separate condition: TiKV rejects writes "
                "to a full disk at raftstore, it does not stall RocksDB."
            )
        if stall <= 0:
            con.append(f"Store {sid} reports no write stall now.")
        if stall <= 0:
            strength = 0.0
        elif con:
            strength = STALL_EXPLAINED
        else:
            strength = (STALL if reason is None else STALL_NAMED) + _bonus(fam, causes.WRITE_STALL)
        out.append(
            Candidate(
                causes.WRITE_STALL,
                sid,
                strength,
                lambda: performance.write_stall(ev, sid),
                pro,
                con,
            )
        )
    share = ev.hot_store_share()
    if share and share[0] == sid and share[1] >= HOT_STORE_SHARE:
        out.append(
            Candidate(
                causes.HOT_REGION,
                sid,
                HOT + _bonus(fam, causes.HOT_REGION),
                lambda: performance.hot_region(ev, sid),
                [f"Store {sid} leads {share[1]:.0%} of the hot write flow."],
            )
        )
    return out


def foreign(ev: Evidence, sid: int | None, fam: str | None, invariant: str) -> list[Candidate]:
    """Stores gone elsewhere, weighed by whether they cause this kind of symptom here."""
    out: list[Candidate] = []
    where = "the cluster" if sid is None else f"store {sid}"
    for dead in ev.dead_stores():
        if dead == sid:
            continue
        gone = f"Store {dead} is gone (PD says {ev.state(dead) or 'unknown'})."

        def build(dead: int = dead, weak: bool = True) -> Finding:
            finding = store_gone(ev, dead)
            finding.evidence.insert(
                0, f"`{invariant}` on {where} follows from store {dead} being gone."
            )
            if weak:
                finding.confidence = min(finding.confidence, 0.75)
            return finding

        if fam in families.CLUSTER_EFFECTS:
            out.append(
                Candidate(
                    causes.STORE_DOWN if ev.is_killed(dead) else causes.NETWORK_PARTITION,
                    dead,
                    CLUSTER_EFFECT,
                    lambda dead=dead: build(dead, weak=False),
                    [
                        gone,
                        "Its regions lose a replica and its leaders and load move to the others.",
                    ],
                )
            )
        elif fam in families.FOREIGN_EFFECTS:
            signs = []
            if sid is not None:
                elections = ev.log_kinds(sid)["became_leader"]
                if elections:
                    signs.append(
                        f"Store {sid} became leader {elections} time(s): it took over leaders."
                    )
                signs += [f"{r}." for r in ev.load_rises(sid)]
            against = (
                []
                if signs or sid is None
                else [f"Nothing on store {sid} shows leaders or load taken over from store {dead}."]
            )
            out.append(
                Candidate(
                    causes.STORE_DOWN if ev.is_killed(dead) else causes.NETWORK_PARTITION,
                    dead,
                    FOREIGN_WITH_SIGNS if signs or sid is None else FOREIGN_NO_SIGNS,
                    lambda dead=dead: build(dead),
                    [gone, *signs],
                    against,
                )
            )
        else:
            symptom = SYMPTOM.get(fam or "", f"`{invariant}`")
            out.append(
                Candidate(
                    causes.STORE_DOWN if ev.is_killed(dead) else causes.NETWORK_PARTITION,
                    dead,
                    0.0,
                    lambda dead=dead: build(dead),
                    [gone],
                    [
                        f"{symptom[0].upper()}{symptom[1:]} is {where}'s own condition; "
                        f"store {dead} being gone does not cause it there."
                    ],
                )
            )
    return out
