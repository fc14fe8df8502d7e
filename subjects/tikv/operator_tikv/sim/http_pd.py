"""PD's HTTP API (``/pd/api/v1``) and PD ``/metrics``; the ``/sim/api/v1`` routes are ``http_control``'s.

Every PD member answers from the shared model, as a follower does by proxying
to the leader; with no leader elected the API answers 503 like PD's redirector.
Encodings follow PD v8.5: indented JSON with a trailing newline for ``rd.JSON``
routes, compact easyjson bytes (``application/octet-stream``) for region routes,
JSON strings for messages and errors.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from aiohttp import web

from operator_tikv.sim import views
from operator_tikv.sim.appkeys import SIM_KEY, model_of, sim_of
from operator_tikv.sim.encode import compact, indented
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.http_control import add_control_routes, control_errors
from operator_tikv.sim.keys import decode_hex, memcomparable
from operator_tikv.sim.model import Cluster
from operator_tikv.sim.operators import (
    OP_ADMIN,
    OP_LEADER,
    OP_REGION,
    OP_SPLIT,
    STATUS_WORDS,
    Step,
    add_peer_steps,
    move_peer_steps,
)
from operator_tikv.sim.pd_view import UNHEALTHY_NS
from operator_tikv.sim.regions import CHECK_BITS, PEER_SLOTS, ROLE_VOTER
from operator_tikv.sim.schedulers import EVICT_LEADER
from operator_tikv.sim.store import STATE_TOMBSTONE

if TYPE_CHECKING:
    from operator_tikv.sim.cluster import SimCluster

API = "/pd/api/v1"
JSON_TYPE = "application/json; charset=UTF-8"
BINARY_TYPE = "application/octet-stream"
NO_LEADER = "[PD:apiutil:ErrRedirectNoLeader]redirect finds no leader"
# Routes a member answers itself, leader or not.
LOCAL_ROUTES = (
    "/pd/api/v1/ping",
    "/pd/api/v1/health",
    "/pd/api/v1/members",
    "/pd/api/v1/status",
    "/pd/ping",
    "/pd/health",
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# PD's audit service label: the Go handler's function name (server/api/router.go getFunctionName).
AUDITED = {
    "get_stores": "GetAllStores",
    "get_stores_check": "GetStoresByState",
    "get_store": "GetStore",
    "delete_store": "DeleteStore",
    "set_store_state": "SetStoreState",
    "get_hot_stores": "GetHotStores",
    "get_health": "GetHealthStatus",
    "get_ping": "Ping",
    "get_members": "GetMembers",
    "get_leader": "GetLeader",
    "get_cluster": "GetCluster",
    "get_cluster_status": "GetClusterStatus",
    "get_status": "GetPDStatus",
    "get_config": "GetConfig",
    "post_config": "SetConfig",
    "get_schedule": "GetScheduleConfig",
    "post_schedule": "SetScheduleConfig",
    "get_replicate": "GetReplicationConfig",
    "get_operators": "GetOperators",
    "post_operators": "CreateOperator",
    "get_operator": "GetOperatorsByRegion",
    "delete_operator": "DeleteOperatorByRegion",
    "get_schedulers": "GetSchedulers",
    "post_schedulers": "CreateScheduler",
    "delete_scheduler": "DeleteScheduler",
    "get_stats_region": "GetRegionStatus",
}


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(body=indented(value), status=status, headers={"Content-Type": JSON_TYPE})


def data_response(value: Any) -> web.Response:
    return web.Response(body=compact(value), status=200, headers={"Content-Type": BINARY_TYPE})


def error_response(status: int, message: str) -> web.Response:
    return json_response(message, status)


def _member(request: web.Request) -> int:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return sim_of(request).member_for_port(sockname[1] if sockname else 0)


@web.middleware
async def pd_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sim = sim_of(request)
    model = sim.model
    if model is None:
        raise web.HTTPServiceUnavailable()
    member = _member(request)
    if not model.members[member].alive:
        # The process is gone: drop the connection as a dead server would.
        if request.transport is not None:
            request.transport.close()
        raise web.HTTPServiceUnavailable()
    path = request.path
    if path.startswith("/sim/"):
        return await handler(request)
    if path.startswith(API) and path not in LOCAL_ROUTES and model.pd_leader is None:
        return web.Response(
            text=NO_LEADER + "\n", status=503, content_type="text/plain", charset="utf-8"
        )
    service = AUDITED.get(getattr(request.match_info.handler, "__name__", ""))
    if service is not None:
        # PD's audit backend observes whole seconds (end - start unix time), so nearly all 0.
        auditor = member if path in LOCAL_ROUTES or model.pd_leader is None else model.pd_leader
        model.members[auditor].registry.observe(
            "pd_service_audit_handling_seconds", (service, "HTTP"), 1, 0.0001, 0.1
        )
    try:
        return await handler(request)
    except SimError as exc:
        if exc.status == 503:
            return web.Response(
                text=exc.message + "\n", status=503, content_type="text/plain", charset="utf-8"
            )
        return error_response(exc.status, exc.message)
    except web.HTTPNotFound:
        return web.Response(
            text="404 page not found\n", status=404, content_type="text/plain", charset="utf-8"
        )
    except web.HTTPMethodNotAllowed:
        return web.Response(status=405)


def _parse_uint(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text or ""):
        raise SimError(400, f'strconv.ParseUint: parsing "{text}": invalid syntax')
    return int(text)


# ---------------------------------------------------------------------------- stores
async def get_stores(request: web.Request) -> web.Response:
    model = model_of(request)
    raw = request.query.getall("state", [])
    states: set[int] = set()
    for text in raw:
        if not re.fullmatch(r"-?[0-9]+", text):
            raise SimError(400, f'strconv.Atoi: parsing "{text}": invalid syntax')
        value = int(text)
        if value not in (0, 1, 2):
            raise SimError(500, "unknown StoreState")
        states.add(value)
    return json_response(views.stores_info(model, states or {0, 1}))


_STATE_NAMES = ("up", "offline", "tombstone", "down", "disconnected")


async def get_stores_check(request: web.Request) -> web.Response:
    """``/stores/check?state=up|offline|tombstone|down|disconnected`` on the computed state name."""
    model = model_of(request)
    wanted = {x.lower() for x in request.query.getall("state", [])}
    for name in wanted:
        if name not in _STATE_NAMES:
            raise SimError(400, f"unknown store state: {name}")
    stores = [
        s for s in model.stores.values() if not wanted or model.state_name(s).lower() in wanted
    ]
    return json_response(
        {"count": len(stores), "stores": [views.store_info(model, s) for s in stores]}
    )


async def get_store(request: web.Request) -> web.Response:
    model = model_of(request)
    sid = _parse_uint(request.match_info["id"])
    return json_response(views.store_info(model, model.store_or_404(sid)))


async def delete_store(request: web.Request) -> web.Response:
    model = model_of(request)
    sid = _parse_uint(request.match_info["id"])
    model.remove_store(sid, "force" in request.query)
    return json_response("The store is set as Offline.")


async def set_store_state(request: web.Request) -> web.Response:
    model = model_of(request)
    sid = _parse_uint(request.match_info["id"])
    state = request.query.get("state", "")
    if state.lower() == "up":
        model.up_store(sid)
    elif state.lower() == "offline":
        model.remove_store(sid, False)
    else:
        raise SimError(400, f"invalid state {state}")
    return json_response("The store's state is updated.")


# ---------------------------------------------------------------------------- regions
def _regions_body(model: Cluster, indices: list[int]) -> dict[str, Any]:
    return {"count": len(indices), "regions": [model.region_dict(i) for i in indices]}


async def get_regions(request: web.Request) -> web.Response:
    model = model_of(request)
    return data_response(_regions_body(model, list(model.regions.korder)))


async def get_regions_count(request: web.Request) -> web.Response:
    return json_response({"count": len(model_of(request).regions), "regions": None})


async def get_region_by_id(request: web.Request) -> web.Response:
    model = model_of(request)
    rid = _parse_uint(request.match_info["id"])
    i = model.regions.by_id.get(rid)
    if i is None:
        return data_response(_ZERO_REGION)
    return data_response(model.region_dict(i))


_ZERO_REGION = {
    "id": 0,
    "start_key": "",
    "end_key": "",
    "leader": {"role_name": ""},
    "cpu_usage": 0,
    "written_bytes": 0,
    "read_bytes": 0,
    "written_keys": 0,
    "read_keys": 0,
    "approximate_size": 0,
    "approximate_keys": 0,
}


def _key_pos(text: str) -> int | None:
    pos = decode_hex(text)
    if pos is None and text:
        pos = decode_hex(memcomparable(text.encode("latin-1", "replace")).hex().upper())
    return pos


async def get_region_by_key(request: web.Request) -> web.Response:
    model = model_of(request)
    pos = _key_pos(request.match_info["key"])
    if pos is None:
        return data_response(_ZERO_REGION)
    return data_response(model.region_dict(model.regions.locate(pos)))


def _limit(request: web.Request, pattern: str) -> int:
    """``?limit=`` (default 16), refused with PD's strconv.Atoi error unless it matches ``pattern``."""
    text = request.query.get("limit", "16")
    if not re.fullmatch(pattern, text):
        raise SimError(400, f'strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


async def get_regions_by_key(request: web.Request) -> web.Response:
    """``/regions/key?key=&end_key=&limit=``: regions in key order from ``key``; the paging PD offers."""
    model = model_of(request)
    rt = model.regions
    limit = _limit(request, r"-?[0-9]+")
    if limit <= 0 or limit > 1024:
        limit = 1024 if limit > 1024 else 16
    start_pos = _key_pos(request.query.get("key", "")) or 0
    end_text = request.query.get("end_key", "")
    end_pos = _key_pos(end_text) if end_text else None
    k = max(0, rt.key_rank(start_pos) - (0 if start_pos in (0,) else 1))
    out: list[int] = []
    while k < len(rt.korder) and len(out) < limit:
        i = rt.korder[k]
        if rt.end[i] > start_pos or start_pos == 0:
            if end_pos is not None and end_pos > 0 and rt.start[i] >= end_pos:
                break
            out.append(i)
        k += 1
    return data_response(_regions_body(model, out))


async def get_regions_by_store(request: web.Request) -> web.Response:
    model = model_of(request)
    sid = _parse_uint(request.match_info["id"])
    rt = model.regions
    out = [i for i in rt.korder if sid in rt.pstore[i * PEER_SLOTS : i * PEER_SLOTS + PEER_SLOTS]]
    return data_response(_regions_body(model, out))


_TOP_KINDS = ("writeflow", "readflow", "writequery", "readquery", "size", "keys")


async def get_regions_top(request: web.Request) -> web.Response:
    """``/regions/{writeflow,readflow,writequery,readquery,size,keys}?limit=16``: top N regions."""
    model = model_of(request)
    rt = model.regions
    limit = min(_limit(request, r"[0-9]+"), 10000)
    kind = request.match_info["kind"]
    if kind in ("size", "keys"):
        column = rt.size_kb if kind == "size" else rt.keys
        top = heapq.nlargest(limit, range(len(rt)), key=column.__getitem__)
    else:
        # Flows are proportional to the key-distribution weight, so rank by weight.
        top = heapq.nlargest(limit, range(len(rt)), key=rt.weight.__getitem__)
    return data_response(_regions_body(model, top))


async def get_regions_check(request: web.Request) -> web.Response:
    model = model_of(request)
    kind = request.match_info["kind"]
    if kind in ("hist-size", "hist-keys"):
        bound_text = request.query.get("bound", "10" if kind == "hist-size" else "10000")
        bound = _parse_uint(bound_text)
        return json_response(
            views.region_hist(model, "size" if kind == "hist-size" else "keys", max(bound, 1))
        )
    bit = CHECK_BITS.get(kind)
    if bit is None:
        raise web.HTTPNotFound()
    rt = model.regions
    flags = rt.flags
    out = [i for i in rt.korder if flags[i] & bit]
    return data_response(_regions_body(model, out))


# ---------------------------------------------------------------------------- hotspot
async def get_hotspot(request: web.Request) -> web.Response:
    model = model_of(request)
    only: set[int] = set()
    for text in request.query.getall("store_id", []):
        sid = _parse_uint(text)
        if sid not in model.stores:
            raise SimError(500, f"[PD:core:ErrStoreNotFound]store {sid} not found")
        only.add(sid)
    return json_response(views.hotspot(model, request.match_info["kind"], only or None))


async def get_hot_stores(request: web.Request) -> web.Response:
    return json_response(views.hot_stores(model_of(request)))


# ---------------------------------------------------------------------------- members, cluster
async def get_health(request: web.Request) -> web.Response:
    return json_response(views.health(model_of(request)))


async def get_ping(request: web.Request) -> web.Response:
    return web.Response(status=200)


async def get_members(request: web.Request) -> web.Response:
    return json_response(views.members(model_of(request)))


async def get_leader(request: web.Request) -> web.Response:
    model = model_of(request)
    assert model.pd_leader is not None
    return json_response(views.member_dict(model, model.pd_leader))


async def get_cluster(request: web.Request) -> web.Response:
    model = model_of(request)
    return json_response(
        {"id": model.cluster_id, "max_peer_count": int(model.replication["max-replicas"])}
    )


async def get_cluster_status(request: web.Request) -> web.Response:
    return json_response(views.cluster_status(model_of(request)))


async def get_status(request: web.Request) -> web.Response:
    return json_response(views.pd_status(model_of(request), _member(request)))


# ---------------------------------------------------------------------------- config
async def get_config(request: web.Request) -> web.Response:
    return json_response(views.full_config(model_of(request), _member(request)))


async def get_schedule(request: web.Request) -> web.Response:
    return json_response(model_of(request).schedule)


async def get_replicate(request: web.Request) -> web.Response:
    return json_response(model_of(request).replication)


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SimError(400, f"invalid character in JSON body: {exc}") from exc


async def post_schedule(request: web.Request) -> web.Response:
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise SimError(400, "json: cannot unmarshal into Go value of type config.ScheduleConfig")
    model_of(request).update_schedule(body)
    return json_response("The config is updated.")


async def post_config(request: web.Request) -> web.Response:
    """``POST /config`` with short (``leader-schedule-limit``) or dotted (``schedule.x``) keys."""
    model = model_of(request)
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise SimError(400, "json: cannot unmarshal into Go value of type map[string]interface {}")
    changes: dict[str, Any] = {}
    for key, value in body.items():
        short = key.split(".", 1)[1] if key.startswith("schedule.") else key
        if short not in model.schedule:
            raise SimError(400, f"config item {key} not found")
        changes[short] = value
    model.update_schedule(changes)
    return json_response("The config is updated.")


# ---------------------------------------------------------------------------- operators
_KIND_FILTER = {"admin": OP_ADMIN, "leader": OP_LEADER, "region": OP_REGION, "split": OP_SPLIT}


async def get_operators(request: web.Request) -> web.Response:
    model = model_of(request)
    ops = list(model.operators.values())
    kinds = request.query.getall("kind", [])
    if kinds:
        mask = 0
        for k in kinds:
            mask |= _KIND_FILTER.get(k, 0)
        ops = [op for op in ops if op.kind & mask]
    if "object" in request.query:
        return json_response([model.op_object(op) for op in ops])
    return json_response([model.op_string(op) for op in ops])


async def get_operator(request: web.Request) -> web.Response:
    model = model_of(request)
    rid = _parse_uint(request.match_info["region_id"])
    op = model.operators.get(rid) or model.finished_ops.get(rid)
    if op is None:
        raise SimError(500, "[PD:operator:ErrOperatorNotFound]operator not found")
    return json_response(f"status: {STATUS_WORDS[op.status]}, operator: {model.op_string(op)}")


async def delete_operator(request: web.Request) -> web.Response:
    model = model_of(request)
    model.cancel_operator(_parse_uint(request.match_info["region_id"]))
    return json_response("The pending operator is canceled.")


def _num(body: dict[str, Any], key: str) -> int | None:
    """``input[key].(float64)`` then ``uint64(...)``: a JSON number, anything else is missing."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) % (1 << 64)


def _need(body: dict[str, Any], key: str, message: str) -> int:
    value = _num(body, key)
    if value is None:
        raise SimError(400, message)
    return value


def _region(model: Cluster, rid: int) -> int:
    i = model.regions.by_id.get(rid)
    if i is None:
        raise SimError(500, f"[PD:region:ErrRegionNotFound]region {rid} not found")
    return i


async def post_operators(request: web.Request) -> web.Response:
    """``POST /operators``: pkg/schedule/handler/handler.go ``HandleOperatorCreation`` at v8.5.7.

    Fields are read (and refused with 400) before the region is looked up; checks that need the
    cluster answer 500 with the Go error text. Success is the string "The operator is created.".
    """
    model = model_of(request)
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise SimError(400, "json: cannot unmarshal into Go value of type map[string]interface {}")
    name = body.get("name")
    if not isinstance(name, str):
        raise SimError(400, "missing operator name")
    if name == "transfer-leader":
        rid = _need(body, "region_id", "missing region id")
        to = _need(body, "to_store_id", "missing store id to transfer leader to")
        _transfer_leader(model, _region(model, rid), to)
    elif name == "split-region":
        rid = _need(body, "region_id", "missing region id")
        policy = body.get("policy")
        if not isinstance(policy, str):
            raise SimError(400, "missing split policy")
        i = _region(model, rid)
        if policy.upper() not in ("SCAN", "APPROXIMATE", "USEKEY"):
            raise SimError(500, f"check policy {policy} is not supported")
        word = policy.upper()
        model.add_operator(
            i,
            "admin-split-region",
            f"split: region {rid} use policy {word}",
            OP_ADMIN | OP_SPLIT,
            [Step("split", policy=word)],
        )
    elif name == "transfer-peer":
        rid = _need(body, "region_id", "missing region id")
        src = _need(body, "from_store_id", "invalid store id to transfer peer from")
        to = _need(body, "to_store_id", "invalid store id to transfer peer to")
        _transfer_peer(model, _region(model, rid), src, to)
    elif name in ("add-peer", "remove-peer"):
        rid = _need(body, "region_id", "missing region id")
        sid = _need(body, "store_id", "invalid store id to transfer peer to")
        i = _region(model, rid)
        if name == "add-peer":
            _add_peer(model, i, sid)
        else:
            _remove_peer(model, i, sid)
    else:
        raise SimError(400, "unknown operator")
    return json_response("The operator is created.")


def _peer_text(pid: int, sid: int, learner: bool) -> str:
    """A metapb.Peer as Go's ``%s`` prints it (gogoproto compact text, zero fields left out)."""
    parts = ([f"id:{pid}"] if pid else []) + [f"store_id:{sid}"]
    if learner:
        parts.append("role:Learner")
    return " ".join(parts) + " "


def _check_store_state(model: Cluster, sid: int) -> None:
    """handler.go ``checkStoreState``: the store exists, is not removed, not unhealthy (down > 10m)."""
    s = model.stores.get(sid)
    if s is None:
        raise SimError(500, f"[PD:core:ErrStoreNotFound]store {sid} not found")
    if s.state == STATE_TOMBSTONE:
        raise SimError(500, f"[PD:core:ErrStoreRemoved]store {sid} has been removed")
    if model.store_down_ns(s) > UNHEALTHY_NS:
        raise SimError(500, f"[PD:core:ErrStoreUnhealthy]store {sid} is unhealthy")


def _need_leader(model: Cluster, i: int) -> int:
    """operator.NewBuilder refuses a region whose leader PD does not know."""
    lead = model.regions.leader_store(i)
    if not lead:
        raise SimError(500, "cannot build operator for region with no leader")
    return lead


def _transfer_leader(model: Cluster, i: int, to: int) -> None:
    rt = model.regions
    slot = rt.slot_of_store(i, to)
    if slot < 0 or rt.prole[i * PEER_SLOTS + slot] != ROLE_VOTER:
        raise SimError(500, f"region has no voter in store {to}")
    src = _need_leader(model, i)
    if src == to:
        raise SimError(500, "no operator step is built")
    model.add_operator(
        i,
        "admin-transfer-leader",
        f"transfer leader: store {src} to {to}",
        OP_ADMIN | OP_LEADER,
        [Step("transfer_leader", store=src, to_store=to)],
    )


def _transfer_peer(model: Cluster, i: int, src: int, to: int) -> None:
    """``AddTransferPeerOperator``: the old peer must exist, then checkStoreState, then the builder."""
    rt = model.regions
    old = rt.slot_of_store(i, src)
    if old < 0:
        raise SimError(500, f"region has no peer in store {src}")
    _check_store_state(model, to)
    lead = _need_leader(model, i)
    learner = rt.prole[i * PEER_SLOTS + old] != ROLE_VOTER
    held = rt.slot_of_store(i, to)
    if held >= 0 and to != src:
        pos = i * PEER_SLOTS + held
        raise SimError(
            500,
            f"cannot add peer {_peer_text(0, to, learner)}: already have peer "
            f"{_peer_text(rt.pid[pos], to, rt.prole[pos] != ROLE_VOTER)}",
        )
    if to == src:
        raise SimError(500, "no operator step is built")
    steps = move_peer_steps(lead, src, to, model.alloc_id())
    model.add_operator(
        i, "admin-move-peer", f"mv peer: store [{src}] to [{to}]", OP_ADMIN | OP_REGION, steps
    )


def _add_peer(model: Cluster, i: int, to: int) -> None:
    """``checkAdminAddPeerOperator``: no peer on the store yet, then checkStoreState."""
    if model.regions.slot_of_store(i, to) >= 0:
        raise SimError(500, f"region already has peer in store {to}")
    _check_store_state(model, to)
    _need_leader(model, i)
    steps = add_peer_steps(to, model.alloc_id())
    model.add_operator(i, "admin-add-peer", f"add peer: store [{to}]", OP_ADMIN | OP_REGION, steps)


def _remove_peer(model: Cluster, i: int, sid: int) -> None:
    rt = model.regions
    if rt.slot_of_store(i, sid) < 0:
        raise SimError(500, f"region has no peer in store {sid}")
    lead = _need_leader(model, i)
    steps = []
    if lead == sid:
        others = [s for s in rt.peer_stores(i) if s != sid]
        if not others:
            raise SimError(500, "region need at least 1 voter or leader")
        steps.append(Step("transfer_leader", store=sid, to_store=others[0]))
    steps.append(Step("remove_peer", store=sid))
    model.add_operator(
        i, "admin-remove-peer", f"rm peer: store [{sid}]", OP_ADMIN | OP_REGION, steps
    )


# ---------------------------------------------------------------------------- schedulers
async def get_schedulers(request: web.Request) -> web.Response:
    """``GET /schedulers``: names of the enabled schedulers (``?status=paused|disabled`` lists none)."""
    model = model_of(request)
    if request.query.get("status") in ("paused", "disabled"):
        return json_response([])
    return json_response(model.scheduler_names())


async def post_schedulers(request: web.Request) -> web.Response:
    """``POST /schedulers`` with ``{"name": ..., "store_id": N}`` (server/api/scheduler.go)."""
    model = model_of(request)
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise SimError(400, "json: cannot unmarshal into Go value of type map[string]interface {}")
    name = body.get("name")
    if not isinstance(name, str):
        raise SimError(400, "missing scheduler name")
    return json_response(model.add_scheduler(name, _num(body, "store_id")))


async def evict_leader_config(request: web.Request) -> web.Response:
    """``GET /scheduler-config/evict-leader-scheduler/list``: the scheduler's config, as PD's
    ``evictLeaderSchedulerConfig`` encodes it (``store-id-ranges``: store id -> whole key
    space, ``batch``: ``EvictLeaderBatchSize``); 404 when the scheduler is not running."""
    model = model_of(request)
    if not model.scheduler_on(EVICT_LEADER):
        raise SimError(404, "404 page not found")
    ranges = {str(sid): [{"start-key": "", "end-key": ""}] for sid in model.evicted_leader_stores()}
    return json_response({"store-id-ranges": ranges, "batch": 3})


async def delete_scheduler(request: web.Request) -> web.Response:
    """``DELETE /schedulers/{name}``; ``evict-leader-scheduler-N`` removes one store.

    PD proxies that to the scheduler's config handler and answers its status with a JSON
    ``null`` body (``h.r.JSON(w, resp.StatusCode, nil)``).
    """
    model = model_of(request)
    name = request.match_info["name"]
    prefix = EVICT_LEADER + "-"
    if name.startswith(prefix):
        text = name.rsplit("-", 1)[1]
        status = model.remove_evict_leader_store(int(text)) if text.isdigit() else 400
        return json_response(None, status)
    model.remove_scheduler(name)
    return json_response("The scheduler is removed.")


# ---------------------------------------------------------------------------- stats
def _raw_query(request: web.Request, key: str) -> bytes:
    """A query value as the bytes Go's url.Query gives (PD compares them with encoded keys)."""
    for part in request.rel_url.raw_query_string.split("&"):
        name, _, value = part.partition("=")
        if unquote_to_bytes(name.replace("+", " ")) == key.encode():
            return unquote_to_bytes(value.replace("+", " "))
    return b""


async def get_stats_region(request: web.Request) -> web.Response:
    """``GET /stats/region?start_key=&end_key=[&count]``: statistics.RegionStats of the range."""
    model = model_of(request)
    start = _raw_query(request, "start_key")
    end = _raw_query(request, "end_key")
    indices = views.regions_in_range(model, start, end)
    if "count" in request.query:
        return json_response(views.region_stats_count(len(indices)))
    return json_response(views.region_stats(model, indices))


# ---------------------------------------------------------------------------- metrics
async def get_metrics(request: web.Request) -> web.Response:
    model = model_of(request)
    text = model.pd_metrics_text(_member(request))
    return web.Response(
        body=text.encode(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
    )


def build_pd_app(sim: SimCluster) -> web.Application:
    app = web.Application(middlewares=[control_errors, pd_middleware])
    app[SIM_KEY] = sim
    r = app.router
    r.add_get(f"{API}/stores", get_stores)
    r.add_get(f"{API}/stores/check", get_stores_check)
    r.add_get(f"{API}/store/{{id}}", get_store)
    r.add_delete(f"{API}/store/{{id}}", delete_store)
    r.add_post(f"{API}/store/{{id}}/state", set_store_state)
    r.add_get(f"{API}/regions", get_regions)
    r.add_get(f"{API}/regions/count", get_regions_count)
    r.add_get(f"{API}/regions/key", get_regions_by_key)
    r.add_get(f"{API}/regions/store/{{id}}", get_regions_by_store)
    r.add_get(f"{API}/regions/check/{{kind}}", get_regions_check)
    r.add_get(f"{API}/regions/{{kind:{'|'.join(_TOP_KINDS)}}}", get_regions_top)
    r.add_get(f"{API}/region/id/{{id}}", get_region_by_id)
    r.add_get(f"{API}/region/key/{{key}}", get_region_by_key)
    r.add_get(f"{API}/hotspot/regions/{{kind:write|read}}", get_hotspot)
    r.add_get(f"{API}/hotspot/stores", get_hot_stores)
    r.add_get(f"{API}/health", get_health)
    r.add_get(f"{API}/ping", get_ping)
    r.add_get("/pd/ping", get_ping)
    r.add_get(f"{API}/members", get_members)
    r.add_get(f"{API}/leader", get_leader)
    r.add_get(f"{API}/cluster", get_cluster)
    r.add_get(f"{API}/cluster/status", get_cluster_status)
    r.add_get(f"{API}/status", get_status)
    r.add_get(f"{API}/config", get_config)
    r.add_post(f"{API}/config", post_config)
    r.add_get(f"{API}/config/schedule", get_schedule)
    r.add_post(f"{API}/config/schedule", post_schedule)
    r.add_get(f"{API}/config/replicate", get_replicate)
    r.add_get(f"{API}/operators", get_operators)
    r.add_post(f"{API}/operators", post_operators)
    r.add_get(f"{API}/operators/{{region_id}}", get_operator)
    r.add_delete(f"{API}/operators/{{region_id}}", delete_operator)
    r.add_get(f"{API}/schedulers", get_schedulers)
    r.add_post(f"{API}/schedulers", post_schedulers)
    r.add_delete(f"{API}/schedulers/{{name}}", delete_scheduler)
    r.add_get(f"{API}/scheduler-config/{EVICT_LEADER}/list", evict_leader_config)
    r.add_get(f"{API}/stats/region", get_stats_region)
    r.add_get("/metrics", get_metrics)
    add_control_routes(r)
    return app
