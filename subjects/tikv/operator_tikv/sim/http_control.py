"""The simulator's own control routes, ``/sim/api/v1/...``: break and mend stores, read logs, move time.

A contract scripts rely on (docs/simulator.md, "Control routes"): paths, bodies and errors stay.
The routes are served by every PD member, behind ``http_pd.pd_middleware``, so a dead member
drops them too; errors are ``{"error": ...}`` JSON from ``control_errors``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from operator_tikv.sim import views
from operator_tikv.sim.appkeys import model_of, sim_of
from operator_tikv.sim.encode import NS
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.store import Store

LOGS_ROUTE = "/sim/api/v1/stores/{store_id}/logs"
"""A store's log lines; the template an ``http`` log source's ``log_url`` fills in."""

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from operator_tikv.sim.cluster import SimCluster

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _control_json(value: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=(json.dumps(value) + "\n").encode(), status=status, content_type="application/json"
    )


@web.middleware
async def control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/sim/"):
        return await handler(request)
    try:
        return await handler(request)
    except SimError as exc:
        return _control_json({"error": exc.message}, exc.status or 400)


def _store_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not text.isdigit():
        raise SimError(400, f"bad store id {text!r}")
    return int(text)


def _control_store(request: web.Request) -> tuple[SimCluster, Store]:
    sid = _store_id(request)
    return sim_of(request), model_of(request).store_or_404(sid)


async def sim_kill(request: web.Request) -> web.Response:
    sim, store = _control_store(request)
    sid = store.id
    if not store.alive:
        return _control_json({"id": None, "message": f"store {sid} is already down"})
    fid = await sim.kill_store(sid)
    return _control_json(
        {"id": fid, "message": f"store {sid} killed: heartbeats stopped, status port closed"}
    )


async def sim_start(request: web.Request) -> web.Response:
    sim, store = _control_store(request)
    sid = store.id
    if store.alive:
        return _control_json({"cleared": [], "message": f"store {sid} is already running"})
    cleared = await sim.start_store(sid)
    return _control_json(
        {"cleared": cleared, "message": f"store {sid} started: heartbeats resume, status port open"}
    )


async def sim_add_fault(request: web.Request) -> web.Response:
    sim = sim_of(request)
    try:
        body = json.loads(await request.read())
    except ValueError as exc:
        raise SimError(400, f"malformed JSON body: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
        raise SimError(400, 'body must be a JSON object with a "kind"')
    kind = body.pop("kind")
    sid = body.pop("store_id", None)
    if sid is not None and (isinstance(sid, bool) or not isinstance(sid, int)):
        raise SimError(400, "store_id must be an integer")
    fid = sim.add_fault(kind, sid, **body)
    await sim.sync_ports()
    return _control_json({"id": fid})


async def sim_list_faults(request: web.Request) -> web.Response:
    return _control_json(sim_of(request).list_faults())


async def sim_clear_fault(request: web.Request) -> web.Response:
    sim = sim_of(request)
    fault = sim.clear_fault(request.match_info["fid"])
    await sim.sync_ports()
    return _control_json({"id": fault["id"], "cleared": True})


def parse_since(text: str) -> int:
    """RFC 3339 (``2024-12-25T03:41:23.48Z``) or unix seconds, to unix nanoseconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(Decimal(text) * NS)  # exact: a float would round 1.7e18 ns by up to 256 ns
    m = re.fullmatch(r"(.*?T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text)
    if not m:
        raise SimError(400, f"bad since {text!r}: want RFC 3339 or unix seconds")
    try:
        base = datetime.fromisoformat(m.group(1) + (m.group(3).replace("Z", "+00:00")))
    except ValueError as exc:
        raise SimError(400, f"bad since {text!r}: {exc}") from exc
    frac = (m.group(2) or ".0")[1:10].ljust(9, "0")
    return int(base.timestamp()) * NS + int(frac)


async def sim_logs(request: web.Request) -> web.Response:
    _, store = _control_store(request)
    since = request.query.get("since")
    limit_text = request.query.get("limit", "1000")
    if not limit_text.isdigit():
        raise SimError(400, f"bad limit {limit_text!r}")
    which = request.query.get("file", "tikv")
    if which not in ("tikv", "rocksdb"):
        raise SimError(400, f"bad file {which!r}: want tikv or rocksdb")
    log = store.log if which == "tikv" else store.rocks_log
    assert log is not None
    lines = log.since(parse_since(since) if since else None, int(limit_text))
    body = "".join(line + "\n" for line in lines)
    return web.Response(text=body, content_type="text/plain", charset="utf-8")


async def sim_status(request: web.Request) -> web.Response:
    sim = sim_of(request)
    model = model_of(request)
    return _control_json(
        {
            "now": views.rfc3339(model.now),
            "now_unix_ns": model.now,
            "speed": sim.config.speed,
            "manual_clock": sim.config.manual_clock,
            "stores": len(model.stores),
            "regions": len(model.regions),
            "pd_leader": None if model.pd_leader is None else model.members[model.pd_leader].name,
            "pd_urls": sim.pd_urls,
            "store_status_urls": {str(k): v for k, v in sim.store_status_urls.items()},
        }
    )


async def sim_advance(request: web.Request) -> web.Response:
    sim = sim_of(request)
    if not sim.config.manual_clock:
        raise SimError(409, "the clock runs by itself; advance works only with a manual clock")
    try:
        body = json.loads(await request.read() or b"{}")
        seconds = float(body.get("seconds", 0))
    except (ValueError, AttributeError, TypeError) as exc:
        raise SimError(400, 'body must be {"seconds": N}') from exc
    if not 0 <= seconds <= 86400:
        raise SimError(400, "seconds must be between 0 and 86400")
    await sim.advance(seconds)
    return _control_json({"now": views.rfc3339(model_of(request).now)})


def add_control_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/sim/api/v1/stores/{id}/kill", sim_kill)
    router.add_post("/sim/api/v1/stores/{id}/start", sim_start)
    router.add_get(LOGS_ROUTE.replace("{store_id}", "{id}"), sim_logs)
    router.add_post("/sim/api/v1/faults", sim_add_fault)
    router.add_get("/sim/api/v1/faults", sim_list_faults)
    router.add_delete("/sim/api/v1/faults/{fid}", sim_clear_fault)
    router.add_get("/sim/api/v1/status", sim_status)
    router.add_post("/sim/api/v1/advance", sim_advance)
