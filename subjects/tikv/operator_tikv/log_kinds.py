"""Which TiKV log messages mean what: the message strings of raft-rs, raftstore, PD client and RocksDB.

Every entry is the message text of a log call in the named source file (tikv/tikv at
v8.5.7, tikv/raft-rs at master, RocksDB's db/column_family.cc as TiKV's fork prints it);
the messages are fixed strings, so most lines are one dict lookup. Messages built with
``format!``-style arguments are matched on their fixed part.

=====================  =================================================================
kind                   what happened
=====================  =================================================================
election_started       a peer's election timeout fired: ``hup`` (raft-rs src/raft.rs)
election_campaign      it campaigns: became pre-candidate / candidate; a campaign refused
                       for pending conf changes (raft-rs src/raft.rs)
vote                   vote requests and answers (raft-rs src/raft.rs)
became_leader          became leader at term N (raft-rs src/raft.rs)
became_follower        became follower at term N (raft-rs src/raft.rs)
higher_term            a message with a higher term arrived: the peer steps down
                       (raft-rs src/raft.rs)
leader_transfer        transfer leadership / MsgTimeoutNow (raft-rs src/raft.rs;
                       raftstore store/peer.rs, worker/pd.rs)
leader_missing         a peer has had no leader too long (raftstore fsm/peer.rs)
conf_change            a peer added or removed (raftstore worker/pd.rs, fsm/peer.rs,
                       fsm/apply.rs)
snapshot_generated     the leader asks for and scans a snapshot (store/peer_storage.rs,
                       store/snap.rs)
snapshot_sent          sending it (peer_storage.rs, server/snap.rs, fsm/peer.rs,
                       raft-rs)
snapshot_received      the receiving store saves the files (src/server/snap.rs)
snapshot_applied       the receiver applies it (peer_storage.rs, worker/region.rs,
                       fsm/peer.rs)
snapshot_restored      raft restores its state from it (raft-rs src/raft.rs)
snapshot_failed        generating, sending, receiving or applying failed or was dropped
region_split           split check, ask PD, apply, report (fsm/peer.rs, worker/pd.rs,
                       fsm/apply.rs, store/peer.rs)
region_merge           prepare, commit, rollback, finish (fsm/peer.rs, worker/pd.rs,
                       fsm/apply.rs, store/peer.rs)
slow_operation         ``slow_log!`` lines (WARN with ``takes``), coprocessor
                       ``slow-query``, "... too slow", a delayed store heartbeat
pd_connection_lost     PD unreachable or a PD call failing (pd_client util.rs,
                       client.rs; worker/pd.rs)
pd_reconnect           (re)connecting to PD and connected again (pd_client util.rs)
disk_space             disk usage state changes, disk-full refusals, the space
                       placeholder, ENOSPC (components/server server.rs, common.rs;
                       store/peer.rs, fsm/peer.rs, worker/pd.rs)
write_stall            RocksDB slowing or stopping writes (db/column_family.cc, in
                       ``rocksdb.info``)
other                  everything else
=====================  =================================================================
"""

from __future__ import annotations

import re

# Whole messages, exactly as the source writes them.
EXACT: dict[str, str] = {
    # raft-rs src/raft.rs
    "starting a new election": "election_started",
    "broadcasting vote request": "vote",
    "received votes response": "vote",
    "restored snapshot": "snapshot_restored",
    "ignored transferring leadership": "leader_transfer",
    "already leader; ignored transferring leadership to self": "leader_transfer",
    # raftstore store/peer.rs
    "transfer leader": "leader_transfer",
    "ack transfer leader": "leader_transfer",
    "reject transferring leader": "leader_transfer",
    "transfer leader with pending conf on current leader": "leader_transfer",
    "not ready to transfer leader, transferee has an unapplied conf change": "leader_transfer",
    "try to transfer leader because of current leader disk full": "disk_space",
    "reject follower read request when self disk is full": "disk_space",
    "start rejecting new proposals before prepare merge": "region_merge",
    "reject PrepareMerge because applied_index has not reached prepare_merge_fence": (
        "region_merge"
    ),
    "begin to apply snapshot": "snapshot_applied",
    # raftstore fsm/peer.rs
    "propose transfer leader command": "leader_transfer",
    "reject to transfer leader": "leader_transfer",
    "leader missing longer than abnormal_leader_missing_duration": "leader_missing",
    "report snapshot status": "snapshot_sent",
    "snapshot is persisted": "snapshot_applied",
    "on split": "region_split",
    "on half split": "region_split",
    "notify pd with split": "region_split",
    "invalid split request": "region_split",
    "notify pd with merge": "region_merge",
    "notify pd with rollback merge": "region_merge",
    "want to rollback merge": "region_merge",
    "failed to schedule merge, rollback": "region_merge",
    "failed to propose merge": "region_merge",
    "merge finished": "region_merge",
    "merge finished with target snapshot": "region_merge",
    "propose conf change peer": "conf_change",
    "notify pd with change peer region": "conf_change",
    # raftstore fsm/apply.rs
    "split region": "region_split",
    "execute CommitMerge": "region_merge",
    "exec ConfChange": "conf_change",
    "exec ConfChangeV2": "conf_change",
    "conf change successfully": "conf_change",
    # raftstore worker/pd.rs
    "try to split region": "region_split",
    "try to batch split region": "region_split",
    "try to split": "region_split",
    "ask batch split failed": "region_split",
    "try to merge": "region_merge",
    "try to change peer": "conf_change",
    "try to transfer leader": "leader_transfer",
    "no available space": "disk_space",
    "store heartbeat failed": "pd_connection_lost",
    "scheduling store_heartbeat timeout, force report store slow score to pd.": ("slow_operation"),
    # raftstore store/peer_storage.rs
    "requesting snapshot": "snapshot_generated",
    "start sending snapshot": "snapshot_sent",
    "apply snapshot with state ok": "snapshot_applied",
    "failed to try generating snapshot": "snapshot_failed",
    "canceled generating snap": "snapshot_failed",
    # raftstore store/snap.rs
    "scan snapshot": "snapshot_generated",
    "scan snapshot of one cf": "snapshot_generated",
    "snapshot is corrupted, will rebuild": "snapshot_failed",
    # raftstore worker/region.rs
    "begin apply snap data": "snapshot_applied",
    "apply new data": "snapshot_applied",
    "applying snapshot is aborted": "snapshot_failed",
    "failed to apply snap!!!": "snapshot_failed",
    # src/server/snap.rs
    "saving snapshot file": "snapshot_received",
    "saving all snapshot files": "snapshot_received",
    "sent snapshot": "snapshot_sent",
    "failed to send snap": "snapshot_failed",
    "failed to recv snapshot": "snapshot_failed",
    "too many recving snapshot tasks, ignore": "snapshot_failed",
    # pd_client util.rs
    "PD failed to respond": "pd_connection_lost",
    "reconnect failed": "pd_connection_lost",
    "connect pd failed": "pd_connection_lost",
    "failed to connect to PD member": "pd_connection_lost",
    "connecting to PD endpoint": "pd_reconnect",
    "connected to PD member": "pd_reconnect",
    "update pd client": "pd_reconnect",
    "trying to update PD client done": "pd_reconnect",
    "all PD endpoints are consistent": "pd_reconnect",
    "heartbeat sender and receiver are stale, refreshing ...": "pd_reconnect",
    # pd_client client.rs
    "TSO stream is closed, reconnect to PD": "pd_connection_lost",
    "failed to update PD client": "pd_connection_lost",
    "validate PD endpoints failed": "pd_connection_lost",
    "failed to send heartbeat": "pd_connection_lost",
    # components/server common.rs
    "no enough disk space left to create the place holder file": "disk_space",
    # src/coprocessor/tracker.rs
    "slow-query": "slow_operation",
}

# Messages that start with a fixed text and go on with arguments.
PREFIXES: tuple[tuple[str, str], ...] = (
    # raft-rs src/raft.rs: become_pre_candidate / become_candidate / become_leader / become_follower
    ("became pre-candidate at term ", "election_campaign"),
    ("became candidate at term ", "election_campaign"),
    ("cannot campaign at term ", "election_campaign"),
    ("became leader at term ", "became_leader"),
    ("became follower at term ", "became_follower"),
    ("received a message with higher term from ", "higher_term"),
    ("sends MsgTimeoutNow to ", "leader_transfer"),
    ("sent MsgTimeoutNow to ", "leader_transfer"),
    # raftstore fsm/peer.rs
    ("leader missing longer than max_leader_missing_duration", "leader_missing"),
    ("reported disk usage changes ", "disk_space"),
    # src/server/snap.rs
    ("too many sending snapshot tasks", "snapshot_failed"),
    # components/server server.rs ("disk usage {:?}->{:?} (raft engine usage: ...")
    ("disk usage ", "disk_space"),
    # components/server common.rs
    ("failed to remove space holder on starting", "disk_space"),
)
PREFIX_KIND = dict(PREFIXES)
PREFIX_TEXTS = tuple(p for p, _ in PREFIXES)

# Fixed text inside a formatted message; one regex, tried only when the two tables miss.
INFIXES: tuple[tuple[str, str], ...] = (
    # raft-rs src/raft.rs: log_vote_approve / log_vote_reject / pre-vote rejection
    ("] cast vote for ", "vote"),
    ("] rejected vote from ", "vote"),
    ("] rejected MsgRequestPreVote from ", "vote"),
    ("] rejected MsgRequestVote from ", "vote"),
    # raft-rs src/raft.rs: MsgTimeoutNow / MsgTransferLeader handling
    ("] received MsgTimeoutNow from ", "leader_transfer"),
    ("] starts to transfer leadership to ", "leader_transfer"),
    ("] abort previous transferring leadership to ", "leader_transfer"),
    ("] transfer leadership to ", "leader_transfer"),
    # raft-rs src/raft.rs: send_snapshot / restore
    ("] sent snapshot[index: ", "snapshot_sent"),
    ("] restored snapshot [index: ", "snapshot_restored"),
    # raftstore store/peer_storage.rs ("{} applying snapshot failed"), server/snap.rs
    (" applying snapshot failed", "snapshot_failed"),
    (" expired in the snap recv concurrency limiter", "snapshot_failed"),
    # raftstore fsm/peer.rs ("skip {:?} because of disk full")
    (" because of disk full", "disk_space"),
    # ENOSPC as Rust's io::Error prints it, inside an error message
    ("No space left on device", "disk_space"),
    # RocksDB db/column_family.cc, RecalculateWriteStallConditions
    ("Stalling writes because ", "write_stall"),
    ("Stopping writes because ", "write_stall"),
    # raftstore store/async_io/write.rs and others: "... too slow"
    (" too slow", "slow_operation"),
)
INFIX_RE = re.compile("|".join(f"({re.escape(text)})" for text, _ in INFIXES))
INFIX_KIND = tuple(kind for _, kind in INFIXES)

KINDS = tuple(
    sorted(
        {*EXACT.values(), *PREFIX_KIND.values(), *INFIX_KIND, "slow_operation", "other"},
    )
)
