"""Each standard TiKV / raft-rs / RocksDB log message gets its kind, on the source's own wording.

The lines are written here in TiKV's unified format (``[time] [LEVEL] [file.rs:line]
[message] [k=v]...``, message and values JSON-quoted when they hold a space, ``"``, ``=``,
``[`` or ``]``), with the message text and fields of the log call in the named source
file (tikv/tikv v8.5.7, tikv/raft-rs master). The real captured lines are checked in
``test_logs.py``.
"""

from __future__ import annotations

import json

import pytest
from operator_tikv import log_kinds
from operator_tikv.logs import classify, parse_line

T = "[2024/07/09 16:25:24.239 +08:00]"


def q(text: str) -> str:
    if text == "" or any(ord(c) <= 0x20 or c in '"=[]' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def line(level: str, source: str, message: str, fields: tuple[tuple[str, str], ...] = ()) -> str:
    parts = [T, f"[{level}]", f"[{source}]", f"[{q(message)}]"]
    parts += [f"[{q(k)}={q(v)}]" for k, v in fields]
    return " ".join(parts)


RAFT = (("raft_id", "79"), ("region_id", "78"))
PEER = (("peer_id", "79"), ("region_id", "78"))

# (source, level, message, fields, kind)
CASES = [
    # --- elections (raft-rs src/raft.rs)
    ("raft.rs:1571", "INFO", "starting a new election", (("term", "5"), *RAFT), "election_started"),
    (
        "raft.rs:1215",
        "INFO",
        "became pre-candidate at term 5",
        (("term", "5"), *RAFT),
        "election_campaign",
    ),
    (
        "raft.rs:1189",
        "INFO",
        "became candidate at term 6",
        (("term", "6"), *RAFT),
        "election_campaign",
    ),
    (
        "raft.rs:1564",
        "WARN",
        "cannot campaign at term 6 since there are still pending configuration changes to apply",
        RAFT,
        "election_campaign",
    ),
    (
        "raft.rs:1335",
        "INFO",
        "broadcasting vote request",
        (
            ("to", "[80, 81]"),
            ("log_index", "24"),
            ("log_term", "5"),
            ("term", "6"),
            ("type", "MsgRequestVote"),
            *RAFT,
        ),
        "vote",
    ),
    (
        "raft.rs:2171",
        "INFO",
        "received votes response",
        (
            ("term", "6"),
            ("type", "MsgRequestVoteResponse"),
            ("approvals", "2"),
            ("rejections", "0"),
            ("from", "80"),
            ("vote", "true"),
            *RAFT,
        ),
        "vote",
    ),
    (
        "raft.rs:1620",
        "INFO",
        "[logterm: 5, index: 24, vote: 0] cast vote for 79 [logterm: 5, index: 24] at term 6",
        (("msg type", "MsgRequestVote"), ("raft_id", "80"), ("region_id", "78")),
        "vote",
    ),
    (
        "raft.rs:1636",
        "INFO",
        "[logterm: 5, index: 30, vote: 0] rejected vote from 79 [logterm: 5, index: 24] at term 6",
        (("msg type", "MsgRequestVote"), ("raft_id", "81"), ("region_id", "78")),
        "vote",
    ),
    (
        "raft.rs:1450",
        "INFO",
        "81 [log_term: 5, index: 30, vote: 0] rejected MsgRequestPreVote from 79 [log_term: 5, index: 24] at term 5",
        (("raft_id", "81"), ("region_id", "78")),
        "vote",
    ),
    # --- leadership (raft-rs src/raft.rs; raftstore store/peer.rs, fsm/peer.rs, worker/pd.rs)
    ("raft.rs:1273", "INFO", "became leader at term 6", (("term", "6"), *RAFT), "became_leader"),
    (
        "raft.rs:1164",
        "INFO",
        "became follower at term 6",
        (("term", "6"), *RAFT),
        "became_follower",
    ),
    (
        "raft.rs:1386",
        "INFO",
        "received a message with higher term from 79",
        (
            ("msg type", "MsgRequestVote"),
            ("message_term", "6"),
            ("term", "5"),
            ("from", "79"),
            *RAFT,
        ),
        "higher_term",
    ),
    (
        "raft.rs:2402",
        "INFO",
        "[term 7] received MsgTimeoutNow from 32833 and starts an election to get leadership.",
        (("from", "32833"), ("term", "7"), *RAFT),
        "leader_transfer",
    ),
    (
        "raft.rs:1959",
        "INFO",
        "[term 7] starts to transfer leadership to 80",
        (("lead_transferee", "80"), *RAFT),
        "leader_transfer",
    ),
    (
        "raft.rs:1944",
        "INFO",
        "[term 7] abort previous transferring leadership to 81",
        RAFT,
        "leader_transfer",
    ),
    (
        "raft.rs:1972",
        "INFO",
        "sends MsgTimeoutNow to 80 immediately as 80 already has up-to-date log",
        RAFT,
        "leader_transfer",
    ),
    (
        "raft.rs:1858",
        "INFO",
        "sent MsgTimeoutNow to 80 after received MsgAppResp",
        RAFT,
        "leader_transfer",
    ),
    (
        "peer.rs:4055",
        "INFO",
        "transfer leader",
        (("peer", "id: 80 store_id: 2"), *PEER),
        "leader_transfer",
    ),
    (
        "peer.rs:3852",
        "INFO",
        "propose transfer leader command",
        (("peer", "id: 80 store_id: 2"), *PEER),
        "leader_transfer",
    ),
    (
        "pd.rs:2007",
        "INFO",
        "try to transfer leader",
        (("to_peers", "[]"), ("from_peer", "id: 79"), ("region_id", "78")),
        "leader_transfer",
    ),
    ("peer.rs:4980", "INFO", "ack transfer leader", PEER, "leader_transfer"),
    (
        "peer.rs:6956",
        "WARN",
        "leader missing longer than abnormal_leader_missing_duration",
        (("expect", "10s"), *PEER),
        "leader_missing",
    ),
    (
        "peer.rs:6977",
        "WARN",
        "leader missing longer than max_leader_missing_duration. To check with pd and other peers whether it's still valid",
        (("expect", "2h"), *PEER),
        "leader_missing",
    ),
    # --- membership (raftstore worker/pd.rs, store/peer.rs, fsm/apply.rs)
    (
        "pd.rs:1977",
        "INFO",
        "try to change peer",
        (("changes", "[peer { id: 90 store_id: 4 role: Learner }]"), ("region_id", "78")),
        "conf_change",
    ),
    (
        "peer.rs:4801",
        "INFO",
        "propose conf change peer",
        (("kind", "Simple"), *PEER),
        "conf_change",
    ),
    (
        "apply.rs:2168",
        "INFO",
        "exec ConfChange",
        (("epoch", "conf_ver: 2 version: 5"), *PEER),
        "conf_change",
    ),
    ("apply.rs:2541", "INFO", "conf change successfully", PEER, "conf_change"),
    ("peer.rs:3045", "INFO", "notify pd with change peer region", PEER, "conf_change"),
    # --- snapshots: generate (peer_storage.rs, snap.rs)
    (
        "peer_storage.rs:573",
        "INFO",
        "requesting snapshot",
        (("request_peer", "90"), ("request_index", "0"), *PEER),
        "snapshot_generated",
    ),
    (
        "snap.rs:1109",
        "INFO",
        "scan snapshot",
        (("takes", "987.08ms"), ("size", "14988542"), ("key_count", "645299"), ("region_id", "78")),
        "snapshot_generated",
    ),
    (
        "snap.rs:933",
        "INFO",
        "scan snapshot of one cf",
        (("cf", "write"), ("region_id", "78")),
        "snapshot_generated",
    ),
    # send (peer_storage.rs, src/server/snap.rs, fsm/peer.rs, raft-rs)
    (
        "peer_storage.rs:532",
        "INFO",
        "start sending snapshot",
        (("request_peer", "90"), *PEER),
        "snapshot_sent",
    ),
    (
        "snap.rs:607",
        "INFO",
        "sent snapshot",
        (
            ("duration", "137.3ms"),
            ("size", "14988542"),
            ("snap_key", "78_6_18"),
            ("region_id", "78"),
        ),
        "snapshot_sent",
    ),
    (
        "peer.rs:2178",
        "INFO",
        "report snapshot status",
        (("status", "Finish"), ("to", "id: 90 store_id: 4"), *PEER),
        "snapshot_sent",
    ),
    (
        "raft.rs:711",
        "DEBUG",
        "[firstindex: 10, commit: 24] sent snapshot[index: 18, term: 6] to 90",
        RAFT,
        "snapshot_sent",
    ),
    # receive (src/server/snap.rs)
    (
        "snap.rs:353",
        "INFO",
        "saving snapshot file",
        (("file", "/data/snap/rev_78_6_18_default.sst"), ("snap_key", "78_6_18")),
        "snapshot_received",
    ),
    (
        "snap.rs:361",
        "INFO",
        "saving all snapshot files",
        (("takes", "134.6ms"), ("snap_key", "78_6_18")),
        "snapshot_received",
    ),
    # apply (peer_storage.rs, worker/region.rs, fsm/peer.rs)
    (
        "peer_storage.rs:664",
        "INFO",
        "begin to apply snapshot",
        (("peer_id", "90"), ("region_id", "78")),
        "snapshot_applied",
    ),
    (
        "region.rs:311",
        "INFO",
        "begin apply snap data",
        (("peer_id", "90"), ("region_id", "78")),
        "snapshot_applied",
    ),
    (
        "region.rs:367",
        "INFO",
        "apply new data",
        (("time_takes", "12ms"), ("region_id", "78")),
        "snapshot_applied",
    ),
    (
        "peer_storage.rs:747",
        "INFO",
        "apply snapshot with state ok",
        (("peer_id", "90"), ("region_id", "78")),
        "snapshot_applied",
    ),
    (
        "peer.rs:5448",
        "INFO",
        "snapshot is persisted",
        (("peer_id", "90"), ("region_id", "78")),
        "snapshot_applied",
    ),
    # restore (raft-rs)
    (
        "raft.rs:2582",
        "INFO",
        "[commit: 18, term: 6] restored snapshot [index: 18, term: 6]",
        (("raft_id", "90"), ("region_id", "78")),
        "snapshot_restored",
    ),
    (
        "raft.rs:2701",
        "INFO",
        "restored snapshot",
        (("snapshot_term", "6"), ("snapshot_index", "18"), ("raft_id", "90"), ("region_id", "78")),
        "snapshot_restored",
    ),
    # failures
    (
        "peer.rs:2178",
        "INFO",
        "report snapshot status",
        (("status", "Failure"), ("to", "id: 90 store_id: 4"), *PEER),
        "snapshot_failed",
    ),
    (
        "snap.rs:617",
        "WARN",
        "failed to send snap",
        (("err", "Grpc(...)"), ("to_addr", "tikv4:20160"), ("region_id", "78")),
        "snapshot_failed",
    ),
    ("snap.rs:532", "WARN", "failed to recv snapshot", (("err", "Grpc(...)"),), "snapshot_failed"),
    ("snap.rs:497", "WARN", "too many recving snapshot tasks, ignore", (), "snapshot_failed"),
    (
        "snap.rs:585",
        "WARN",
        "too many sending snapshot tasks, drop Send Snap[to: tikv4:20160, snap: 78_6_18]",
        (),
        "snapshot_failed",
    ),
    (
        "region.rs:395",
        "WARN",
        "applying snapshot is aborted",
        (("region_id", "78"),),
        "snapshot_failed",
    ),
    (
        "region.rs:407",
        "ERROR",
        "failed to apply snap!!!",
        (("err", "Abort"), ("region_id", "78")),
        "snapshot_failed",
    ),
    (
        "peer_storage.rs:539",
        "WARN",
        "failed to try generating snapshot",
        (("times", "1"), *PEER),
        "snapshot_failed",
    ),
    (
        "snap.rs:853",
        "ERROR",
        "snapshot is corrupted, will rebuild",
        (("snapshot", "gen_78_6_18"),),
        "snapshot_failed",
    ),
    # --- split (fsm/peer.rs, worker/pd.rs, fsm/apply.rs, store/peer.rs)
    (
        "peer.rs:6478",
        "INFO",
        "on split",
        (("split_keys", "key 7480"), ("source", "split_checker"), *PEER),
        "region_split",
    ),
    ("peer.rs:6740", "INFO", "on half split", (("policy", "APPROXIMATE"), *PEER), "region_split"),
    (
        "pd.rs:1393",
        "INFO",
        "try to batch split region",
        (("task", "batch_split"), ("region_id", "78")),
        "region_split",
    ),
    ("pd.rs:1314", "INFO", "try to split region", (("region_id", "78"),), "region_split"),
    ("pd.rs:2022", "INFO", "try to split", (("region_id", "78"),), "region_split"),
    ("apply.rs:2634", "INFO", "split region", (("keys", "key 7480"), *PEER), "region_split"),
    ("peer.rs:4602", "INFO", "notify pd with split", (("split_count", "2"), *PEER), "region_split"),
    # --- merge (worker/pd.rs, store/peer.rs, fsm/apply.rs, fsm/peer.rs)
    (
        "pd.rs:2048",
        "INFO",
        "try to merge",
        (("merge", "target { id: 10 }"), ("region_id", "78")),
        "region_merge",
    ),
    (
        "peer.rs:4546",
        "INFO",
        "start rejecting new proposals before prepare merge",
        PEER,
        "region_merge",
    ),
    (
        "apply.rs:2952",
        "INFO",
        "execute CommitMerge",
        (("source_region", "id: 78"), ("peer_id", "11"), ("region_id", "10")),
        "region_merge",
    ),
    (
        "peer.rs:5267",
        "INFO",
        "notify pd with merge",
        (("target_region", "id: 10"), *PEER),
        "region_merge",
    ),
    (
        "peer.rs:5390",
        "INFO",
        "merge finished",
        (("target_region", "id: 10"), *PEER),
        "region_merge",
    ),
    ("peer.rs:5090", "INFO", "want to rollback merge", PEER, "region_merge"),
    ("peer.rs:5329", "INFO", "notify pd with rollback merge", PEER, "region_merge"),
    ("peer.rs:6021", "WARN", "failed to propose merge", (("err", "Stale"), *PEER), "region_merge"),
    # --- slow operations (tikv_util slow_log!, coprocessor tracker.rs, async_io/write.rs, worker/pd.rs)
    (
        "store.rs:1219",
        "WARN",
        "[store 1] handle 1 pending peers include 1 ready, 1 entries, 1 messages and 0 snapshots",
        (("takes", "7669"),),
        "slow_operation",
    ),
    (
        "apply.rs:788",
        "WARN",
        "[region 78] 79 handle ready 1 committed entries",
        (("takes", "1200"),),
        "slow_operation",
    ),
    (
        "peer.rs:756",
        "WARN",
        "[region 78] 79 handle 3 peer messages [], detail: {}",
        (("takes", "950"),),
        "slow_operation",
    ),
    (
        "tracker.rs:293",
        "INFO",
        "slow-query",
        (("total_process_time", "1.41s"), ("region_id", "78")),
        "slow_operation",
    ),
    (
        "write.rs:1038",
        "WARN",
        "[store 1] async write too slow, write_kv: 1.2s, write_raft: 1.1s, send: 0s, callback: 0s thread: store-writer-0",
        (("takes", "1200"),),
        "slow_operation",
    ),
    (
        "pd.rs:2374",
        "WARN",
        "scheduling store_heartbeat timeout, force report store slow score to pd.",
        (("store_id", "1"),),
        "slow_operation",
    ),
    # --- PD connection (pd_client util.rs, client.rs; worker/pd.rs)
    (
        "util.rs:601",
        "INFO",
        "PD failed to respond",
        (("err", "Grpc(RpcFailure(...))"), ("endpoints", "pd1:2379")),
        "pd_connection_lost",
    ),
    ("util.rs:562", "WARN", "reconnect failed", (("err", "Other(...)"),), "pd_connection_lost"),
    (
        "util.rs:820",
        "ERROR",
        "failed to connect to PD member",
        (("error", "Grpc(...)"), ("endpoints", "http://pd1:2379")),
        "pd_connection_lost",
    ),
    ("client.rs:152", "INFO", "TSO stream is closed, reconnect to PD", (), "pd_connection_lost"),
    (
        "client.rs:154",
        "WARN",
        "failed to update PD client",
        (("error", "Other(...)"),),
        "pd_connection_lost",
    ),
    (
        "client.rs:168",
        "WARN",
        "validate PD endpoints failed",
        (("err", "Other(...)"),),
        "pd_connection_lost",
    ),
    (
        "client.rs:655",
        "WARN",
        "failed to send heartbeat",
        (("err", "Grpc(...)"),),
        "pd_connection_lost",
    ),
    (
        "pd.rs:1823",
        "ERROR",
        "store heartbeat failed",
        (("err", "Grpc(...)"),),
        "pd_connection_lost",
    ),
    (
        "util.rs:639",
        "INFO",
        "connecting to PD endpoint",
        (("endpoints", "pd1:2379"),),
        "pd_reconnect",
    ),
    (
        "util.rs:809",
        "INFO",
        "connected to PD member",
        (("endpoints", "http://pd2:2379"),),
        "pd_reconnect",
    ),
    (
        "util.rs:303",
        "INFO",
        "update pd client",
        (("prev_leader", "http://pd1:2379"), ("leader", "http://pd2:2379")),
        "pd_reconnect",
    ),
    (
        "util.rs:435",
        "INFO",
        "trying to update PD client done",
        (("spend", "3.2ms"),),
        "pd_reconnect",
    ),
    (
        "util.rs:631",
        "INFO",
        "all PD endpoints are consistent",
        (("endpoints", '["pd1:2379"]'),),
        "pd_reconnect",
    ),
    # --- disk space (components/server server.rs, common.rs; store/peer.rs, fsm/peer.rs, worker/pd.rs)
    (
        "server.rs:1538",
        "WARN",
        "disk usage Normal->AlmostFull (raft engine usage: 1024, kv engine usage: 2048), seperated raft mount=false, kv available=9, snap=0, kv=2048, raft=1024, capacity=100",
        (),
        "disk_space",
    ),
    ("peer.rs:2694", "INFO", "reported disk usage changes None -> AlmostFull", PEER, "disk_space"),
    ("peer.rs:2783", "DEBUG", "skip MsgAppend because of disk full", PEER, "disk_space"),
    (
        "peer.rs:5508",
        "DEBUG",
        "try to transfer leader because of current leader disk full",
        PEER,
        "disk_space",
    ),
    ("pd.rs:1613", "WARN", "no available space", (), "disk_space"),
    (
        "common.rs:211",
        "WARN",
        "failed to remove space holder on starting: No such file or directory (os error 2)",
        (),
        "disk_space",
    ),
    (
        "common.rs:220",
        "WARN",
        "no enough disk space left to create the place holder file",
        (),
        "disk_space",
    ),
    (
        "engine.rs:1",
        "ERROR",
        "failed to write: No space left on device (os error 28)",
        (),
        "disk_space",
    ),
    # --- everything else stays other
    (
        "peer.rs:6055",
        "INFO",
        "require updating max ts",
        (("initial_status", "25769803854"), ("region_id", "78")),
        "other",
    ),
    ("peer.rs:262", "INFO", "create peer", PEER, "other"),
    ("lib.rs:75", "INFO", "Welcome to TiKV", (), "other"),
]


@pytest.mark.parametrize(
    ("source", "level", "message", "fields", "kind"),
    CASES,
    ids=[f"{c[4]}:{c[2][:40]}" for c in CASES],
)
def test_message_kind_on_the_source_wording(source, level, message, fields, kind):
    event = parse_line(line(level, source, message, fields))
    assert event is not None
    assert (event.message, event.kind) == (message, kind)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (
            "[db/column_family.cc:805] [default] Stalling writes because we have 21 level-0 files rate 5368709120",
            "write_stall",
        ),
        (
            "[db/column_family.cc:830] [write] Stalling writes because of estimated pending compaction bytes 206158430208 rate 4294967296",
            "write_stall",
        ),
        (
            "[db/column_family.cc:780] [default] Stopping writes because we have 5 immutable memtables (waiting for flush), max_write_buffer_number is set to 5",
            "write_stall",
        ),
        (
            "[db/column_family.cc:792] [default] Stopping writes because we have 36 level-0 files",
            "write_stall",
        ),
        (
            "[db/db_impl/db_impl_write.cc:1] [default] New memtable created with log file: #12",
            "other",
        ),
    ],
)
def test_rocksdb_log_lines(message, kind):
    """``rocksdb.info`` in TiKV's RocksFormat: ``[time][thread][LEVEL] [file:line] [cf] text``."""
    event = parse_line(f"[2022/04/30 07:16:11.145 +08:00][2][WARN] {message}")
    assert event is not None
    source, text = message[1:].split("] ", 1)
    assert (event.source, event.message, event.kind) == (source, text, kind)
    assert event.level == "WARN" and event.fields == {"thread_id": "2"}


def test_every_kind_has_a_case():
    covered = {c[4] for c in CASES} | {"write_stall"}
    assert covered == set(log_kinds.KINDS)


def test_a_slow_log_warning_with_takes_is_slow_whatever_its_text():
    assert (
        classify("WARN", "[store 3] handle tick Raftlog Gc", {"takes": "820"}) == "slow_operation"
    )
    assert classify("INFO", "[store 3] handle tick Raftlog Gc", {"takes": "820"}) == "other"


def test_tables_do_not_shadow_each_other():
    """An exact message is not also a prefix or infix entry that would give another kind."""
    for message, kind in log_kinds.EXACT.items():
        for prefix, other in log_kinds.PREFIXES:
            assert not message.startswith(prefix) or other == kind, (message, prefix)
