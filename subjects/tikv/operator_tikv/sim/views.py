"""PD response bodies built from the model, with PD v8.5's key names, key order and omissions."""

from __future__ import annotations

import bisect
from typing import Any

from operator_tikv.sim.encode import NS, bytes_size, go_duration, rfc3339
from operator_tikv.sim.keys import key_hex
from operator_tikv.sim.members import PD_GIT_HASH, PD_VERSION, Member
from operator_tikv.sim.model import Cluster
from operator_tikv.sim.noise import jitter
from operator_tikv.sim.regions import PEER_SLOTS, ROLE_LEARNER
from operator_tikv.sim.store import STATE_TOMBSTONE, TIKV_GIT_HASH, TIKV_VERSION, Store
from operator_tikv.sim.traffic import (
    MIN_HOT_READ_BYTES,
    MIN_HOT_WRITE_BYTES,
    READ_RATIO,
    REGION_HEARTBEAT_NS,
    VALUE_BYTES,
)


def store_info(c: Cluster, s: Store) -> dict[str, Any]:
    meta: dict[str, Any] = {"id": s.id, "address": s.address}
    if s.state:
        meta["state"] = s.state
    meta.update(
        {
            "version": TIKV_VERSION,
            "peer_address": s.address,
            "status_address": s.status_address,
            "git_hash": TIKV_GIT_HASH,
            "start_timestamp": s.pd_start_s,
            "deploy_path": "/tidb-deploy/tikv-20160/bin",
            "last_heartbeat": s.last_hb_ns,
        }
    )
    if s.physically_destroyed:
        meta["physically_destroyed"] = True
    if s.node_state:
        meta["node_state"] = s.node_state
    meta["state_name"] = c.state_name(s)
    leader_mb = max(0, s.leader_kb // 1024)
    region_mb = max(0, s.region_kb // 1024)
    status: dict[str, Any] = {
        "capacity": bytes_size(s.pd_capacity),
        "available": bytes_size(s.pd_available),
        "used_size": bytes_size(s.pd_used),
        "leader_count": s.leader_count,
        "leader_weight": s.leader_weight,
        "leader_score": s.leader_count / max(s.leader_weight, 1e-6),
        "leader_size": leader_mb,
        "region_count": s.region_count,
        "region_weight": s.region_weight,
        "region_score": c.region_score(s),
        "region_size": region_mb,
    }
    if s.learner_count:
        status["learner_count"] = s.learner_count
    lost_for = c.now - s.lost_ns if (s.lost_ns is not None and not s.reachable) else 0
    pending = s.learner_count + (s.region_count if lost_for > 20 * NS else 0)
    if pending:
        status["pending_peer_count"] = pending
    if s.pd_seen and s.state != STATE_TOMBSTONE:
        status["slow_score"] = s.pd_slow_score
        status["slow_trend"] = {
            "cause_value": s.pd_hb_base + jitter(s.id, s.last_hb_ns) * 10,
            "cause_rate": 0.0,
            "result_value": float(int(s.pd_rates[2] + s.pd_rates[5]) % 97),
            "result_rate": 0.0,
        }
    if s.sending_snaps:
        status["sending_snap_count"] = s.sending_snaps
    if s.receiving_snaps:
        status["receiving_snap_count"] = s.receiving_snaps
    if s.pd_seen and s.state != STATE_TOMBSTONE:
        status["start_ts"] = rfc3339(s.pd_start_s * NS)
    if s.last_hb_ns:
        status["last_heartbeat_ts"] = rfc3339(s.last_hb_ns)
        uptime = s.last_hb_ns - s.pd_start_s * NS
        if uptime > 0:
            status["uptime"] = go_duration(uptime)
    return {"store": meta, "status": status}


def stores_info(c: Cluster, states: set[int]) -> dict[str, Any]:
    items = [store_info(c, s) for s in c.stores.values() if s.state in states]
    return {"count": len(items), "stores": items}


def member_dict(c: Cluster, idx: int) -> dict[str, Any]:
    m: Member = c.members[idx]
    return {
        "name": m.name,
        "member_id": m.member_id,
        "peer_urls": [
            f"http://{c.config.host}:{m.port + 10000 if m.port < 55000 else m.port - 10000}"
        ],
        "client_urls": [f"http://{c.config.host}:{m.port}"],
        "deploy_path": "/tidb-deploy/pd-2379/bin",
        "binary_version": PD_VERSION,
        "git_hash": PD_GIT_HASH,
    }


def members(c: Cluster) -> dict[str, Any]:
    out: dict[str, Any] = {
        "header": {"cluster_id": c.cluster_id},
        "members": [member_dict(c, i) for i in range(len(c.members))],
    }
    if c.pd_leader is not None:
        out["leader"] = member_dict(c, c.pd_leader)
        out["etcd_leader"] = member_dict(c, c.pd_leader)
    return out


def health(c: Cluster) -> list[dict[str, Any]]:
    return [
        {
            "name": m.name,
            "member_id": m.member_id,
            "client_urls": [f"http://{c.config.host}:{m.port}"],
            "health": m.alive,
        }
        for m in c.members
    ]


def hotspot(c: Cluster, kind: str, only: set[int] | None) -> dict[str, Any]:
    """``StoreHotPeersInfos`` for ``kind`` "write" or "read"."""
    rt = c.regions
    total_qps = c.config.qps_per_store * c.config.stores
    w = c.total_w or 1.0
    write = kind == "write"
    peers: dict[int, list[dict[str, Any]]] = {}
    leaders: dict[int, list[dict[str, Any]]] = {}
    epoch_end = c.t0 + ((c.now - c.t0) // REGION_HEARTBEAT_NS) * REGION_HEARTBEAT_NS
    for i in c.hot:
        lead = rt.leader_store(i)
        if not lead or not c.stores[lead].reachable:
            continue
        share = rt.weight[i] / w
        ops = total_qps * ((1 - READ_RATIO) if write else READ_RATIO) * share
        j = jitter(rt.ids[i], (c.now - c.t0) // REGION_HEARTBEAT_NS)
        flow_bytes = ops * VALUE_BYTES * j
        if flow_bytes < (MIN_HOT_WRITE_BYTES if write else MIN_HOT_READ_BYTES):
            continue
        degree = int((c.now - c.hot_since.get(i, c.now)) // REGION_HEARTBEAT_NS)
        if degree <= 0:
            continue
        base = i * PEER_SLOTS
        stores = sorted(s for s in rt.peer_stores(i))
        flow_keys = ops * j * (1.0 if write else 1.5)
        for k in range(PEER_SLOTS):
            sid = rt.pstore[base + k]
            if not sid:
                continue
            is_leader = sid == lead
            if not write and not is_leader:
                continue
            stat = {
                "store_id": sid,
                "stores": stores,
                "is_leader": is_leader,
                "is_learner": rt.prole[base + k] == ROLE_LEARNER,
                "region_id": rt.ids[i],
                "hot_degree": degree,
                "flow_bytes": flow_bytes,
                "flow_keys": flow_keys,
                "flow_query": ops * j if is_leader else 0.0,
                "anti_count": 2,
                "last_update_time": rfc3339(epoch_end if write else c.stores[sid].last_hb_ns),
            }
            peers.setdefault(sid, []).append(stat)
            if is_leader:
                leaders.setdefault(sid, []).append(stat)
    as_peer: dict[str, Any] = {}
    as_leader: dict[str, Any] = {}
    for s in c.stores.values():
        if not s.pd_seen or s.state == STATE_TOMBSTONE or (only and s.id not in only):
            continue
        r = s.pd_rates
        store_vals = (r[0], r[1], r[2]) if write else (r[3], r[4], r[5])
        for target, stats in ((as_peer, peers.get(s.id, [])), (as_leader, leaders.get(s.id, []))):
            stats = sorted(stats, key=lambda x: -x["flow_bytes"])
            target[str(s.id)] = {
                "store_bytes": store_vals[0],
                "store_keys": store_vals[1],
                "store_query": store_vals[2],
                "total_flow_bytes": sum(x["flow_bytes"] for x in stats),
                "total_flow_keys": sum(x["flow_keys"] for x in stats),
                "total_flow_query": sum(x["flow_query"] for x in stats),
                "regions_count": len(stats),
                "statistics": stats,
            }
    return {"as_peer": dict(sorted(as_peer.items())), "as_leader": dict(sorted(as_leader.items()))}


def hot_stores(c: Cluster) -> dict[str, Any]:
    out: dict[str, dict[str, float]] = {
        "bytes-write-rate": {},
        "bytes-read-rate": {},
        "keys-write-rate": {},
        "keys-read-rate": {},
        "query-write-rate": {},
        "query-read-rate": {},
    }
    for s in c.stores.values():
        if not s.pd_seen or s.state == STATE_TOMBSTONE:
            continue
        key = str(s.id)
        r = s.pd_rates
        out["bytes-write-rate"][key] = r[0]
        out["keys-write-rate"][key] = r[1]
        out["query-write-rate"][key] = r[2]
        out["bytes-read-rate"][key] = r[3]
        out["keys-read-rate"][key] = r[4]
        out["query-read-rate"][key] = r[5]
    return {k: dict(sorted(v.items())) for k, v in out.items()}


def pd_status(c: Cluster, member: int) -> dict[str, Any]:
    return {
        "build_ts": "2024-12-18 03:49:52",
        "version": PD_VERSION,
        "git_hash": PD_GIT_HASH,
        "start_timestamp": c.members[member].start_s,
    }


def cluster_status(c: Cluster) -> dict[str, Any]:
    return {
        "raft_bootstrap_time": rfc3339(c.bootstrap_ns),
        "is_initialized": True,
        "replication_status": "",
    }


def full_config(c: Cluster, member: int) -> dict[str, Any]:
    """``GET /config``: the whole server config; schedule and replication are the live values."""
    m = c.members[member]
    host = c.config.host
    initial = ",".join(
        f"{x.name}=http://{host}:{x.port + 10000 if x.port < 55000 else x.port - 10000}"
        for x in c.members
    )
    peer = member_dict(c, member)["peer_urls"][0]
    client = f"http://{host}:{m.port}"
    return {
        "client-urls": client,
        "peer-urls": peer,
        "advertise-client-urls": client,
        "advertise-peer-urls": peer,
        "name": m.name,
        "data-dir": f"/tidb-data/{m.name}",
        "force-new-cluster": False,
        "enable-grpc-gateway": True,
        "initial-cluster": initial,
        "initial-cluster-state": "new",
        "initial-cluster-token": "pd-cluster",
        "join": "",
        "lease": 5,
        "log": {
            "level": "info",
            "format": "text",
            "disable-timestamp": False,
            "file": {
                "filename": f"/tidb-deploy/{m.name}/log/pd.log",
                "max-size": 300,
                "max-days": 0,
                "max-backups": 0,
            },
            "development": False,
            "disable-caller": False,
            "disable-stacktrace": False,
            "disable-error-verbose": True,
            "sampling": None,
            "error-output-path": "",
        },
        "max-concurrent-tso-proxy-streamings": 5000,
        "tso-proxy-recv-from-client-timeout": "1h0m0s",
        "tso-save-interval": "3s",
        "tso-update-physical-interval": "50ms",
        "enable-local-tso": False,
        "metric": {"job": m.name, "address": "", "interval": "15s"},
        "schedule": c.schedule,
        "replication": c.replication,
        "pd-server": {
            "use-region-storage": "true",
            "max-gap-reset-ts": "24h0m0s",
            "key-type": "table",
            "runtime-services": "",
            "metric-storage": "",
            "dashboard-address": client,
            "trace-region-flow": "true",
            "flow-round-by-digit": 3,
            "min-resolved-ts-persistence-interval": "1s",
            "server-memory-limit": 0,
            "server-memory-limit-gc-trigger": 0.7,
            "enable-gogc-tuner": "false",
            "gc-tuner-threshold": 0.6,
            "block-safe-point-v1": "false",
        },
        "cluster-version": TIKV_VERSION,
        "labels": {},
        "quota-backend-bytes": "8GiB",
        "auto-compaction-mode": "periodic",
        "auto-compaction-retention-v2": "1h",
        "tick-interval": "500ms",
        "election-interval": "3s",
        "enable-prevote": True,
        "max-request-bytes": 157286400,
        "security": {
            "cacert-path": "",
            "cert-path": "",
            "key-path": "",
            "cert-allowed-cn": None,
            "SSLCABytes": None,
            "SSLCertBytes": None,
            "SSLKEYBytes": None,
            "redact-info-log": False,
            "encryption": {
                "data-encryption-method": "plaintext",
                "data-key-rotation-period": "168h0m0s",
                "master-key": {
                    "type": "plaintext",
                    "key-id": "",
                    "region": "",
                    "endpoint": "",
                    "path": "",
                },
            },
        },
        "label-property": {},
        "dashboard": {
            "tidb-cacert-path": "",
            "tidb-cert-path": "",
            "tidb-key-path": "",
            "public-path-prefix": "",
            "internal-proxy": False,
            "enable-telemetry": False,
            "enable-experimental": False,
        },
        "replication-mode": {
            "replication-mode": "majority",
            "dr-auto-sync": {
                "label-key": "",
                "primary": "",
                "dr": "",
                "primary-replicas": 0,
                "dr-replicas": 0,
                "wait-store-timeout": "1m0s",
                "wait-recover-timeout": "0s",
                "pause-region-split": "false",
            },
        },
        "keyspace": {
            "pre-alloc": None,
            "wait-region-split": True,
            "wait-region-split-timeout": "30s",
            "check-region-split-interval": "50ms",
        },
        "micro-service": {"enable-scheduling-fallback": "true"},
        "controller": {
            "degraded-mode-wait-duration": "0s",
            "ltb-max-wait-duration": "30s",
            "ltb-token-rpc-max-delay": "1s",
            "request-unit": {
                "read-base-cost": 0.125,
                "read-per-batch-base-cost": 0.5,
                "read-cost-per-byte": 0.0000152587890625,
                "write-base-cost": 1,
                "write-per-batch-base-cost": 1,
                "write-cost-per-byte": 0.0009765625,
                "read-cpu-ms-cost": 0.3333333333333333,
            },
            "enable-controller-trace-log": "false",
        },
    }


def region_hist(c: Cluster, by: str, bound: int) -> list[dict[str, int]]:
    """``/regions/check/hist-size`` (MiB) and ``hist-keys``: buckets of width ``bound``."""
    rt = c.regions
    counts: dict[int, int] = {}
    for i in range(len(rt)):
        value = rt.size_kb[i] // 1024 if by == "size" else rt.keys[i]
        start = (value // bound) * bound if bound > 0 else value
        counts[start] = counts.get(start, 0) + 1
    return [
        {"start": k, "end": k + bound - 1 if bound > 1 else k, "count": counts[k]}
        for k in sorted(counts)
    ]


def _key_bytes(pos: int) -> bytes:
    return bytes.fromhex(key_hex(pos))


def regions_in_range(c: Cluster, start: bytes, end: bytes) -> list[int]:
    """Region indices ``ScanRegions(start, end)`` visits: from the one holding ``start`` to ``end``."""
    rt = c.regions
    k = max(0, bisect.bisect_right(rt.kstart, start, key=_key_bytes) - 1)
    out: list[int] = []
    while k < len(rt.korder):
        i = rt.korder[k]
        if end and rt.start[i] and _key_bytes(rt.start[i]) >= end:
            break
        out.append(i)
        k += 1
    return out


# Fields of statistics.RegionStats without ``omitempty`` that hold per-store maps.
_STATS_MAPS = (
    "store_leader_count",
    "store_peer_count",
    "store_leader_size",
    "store_leader_keys",
    "store_peer_size",
    "store_peer_keys",
)


def region_stats_count(count: int) -> dict[str, Any]:
    """``/stats/region?count``: ``GetRegionStatsCount`` fills only Count, its maps stay nil (null)."""
    body: dict[str, Any] = {
        "count": count,
        "empty_count": 0,
        "storage_size": 0,
        "user_storage_size": 0,
        "storage_keys": 0,
    }
    body.update(dict.fromkeys(_STATS_MAPS))
    return body


def region_stats(c: Cluster, indices: list[int]) -> dict[str, Any]:
    """statistics.RegionStats (pkg/statistics/region.go ``Observe``) over ``indices``.

    Sizes are approximate sizes in MiB as PD keeps them; hot-peer maps are only filled with
    ``?use_hot``, so the ``omitempty`` ones are absent; the simulator reports no kv size, so
    ``user_storage_size`` is 0. Map keys are store ids as strings, sorted as encoding/json does.
    """
    rt = c.regions
    maps: dict[str, dict[str, int]] = {name: {} for name in _STATS_MAPS}
    empty = size_total = keys_total = 0
    for i in indices:
        size = max(1, rt.size_kb[i] // 1024) if rt.size_kb[i] else 0
        keys = rt.keys[i]
        if size <= 1:
            empty += 1
        size_total += size
        keys_total += keys
        lead = rt.leader_store(i)
        if lead:
            key = str(lead)
            for name, value in (
                ("store_leader_count", 1),
                ("store_leader_size", size),
                ("store_leader_keys", keys),
            ):
                maps[name][key] = maps[name].get(key, 0) + value
        for sid in rt.peer_stores(i):
            key = str(sid)
            for name, value in (
                ("store_peer_count", 1),
                ("store_peer_size", size),
                ("store_peer_keys", keys),
            ):
                maps[name][key] = maps[name].get(key, 0) + value
    body: dict[str, Any] = {
        "count": len(indices),
        "empty_count": empty,
        "storage_size": size_total,
        "user_storage_size": 0,
        "storage_keys": keys_total,
    }
    body.update({name: dict(sorted(m.items())) for name, m in maps.items()})
    return body
