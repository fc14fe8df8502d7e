"""Each store's status port: ``/metrics`` (TiKV's Prometheus exposition) and ``/status``.

A killed store's port is closed by ``SimCluster``, which then closes every
connection still open to it (``close_connections``), as the kernel does to a
dead process's sockets: a client holding a kept-alive connection sees EOF at
once. This app also drops a connection that reaches a dead store, and holds
requests to a paused store unanswered until it resumes, the way a stopped
process behaves.
"""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

from aiohttp import web

from operator_tikv.sim.appkeys import SIM_KEY, STORE_KEY
from operator_tikv.sim.background import unmodelled_blocks
from operator_tikv.sim.store_page import page

if TYPE_CHECKING:
    from operator_tikv.sim.cluster import SimCluster

METRICS_TYPE = "text/plain; version=0.0.4"


def _store_id(request: web.Request) -> int:
    sim: SimCluster = request.app[SIM_KEY]
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return sim.store_for_port(sockname[1] if sockname else 0)


@web.middleware
async def store_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    sim: SimCluster = request.app[SIM_KEY]
    sid = _store_id(request)
    model = sim.model
    if model is None or sid not in model.stores:
        raise web.HTTPNotFound(text="path not found")
    await sim.wait_unpaused(sid)
    store = model.stores.get(sid)
    if store is None or not store.alive:
        if request.transport is not None:
            request.transport.close()
        raise web.HTTPServiceUnavailable()
    request[STORE_KEY] = store
    return await handler(request)


async def get_metrics(request: web.Request) -> web.Response:
    sim: SimCluster = request.app[SIM_KEY]
    assert sim.model is not None
    # The store looked up before a pause: after a long wait the connection may be gone.
    store = request[STORE_KEY]
    sim.model.refresh_gauges(store)
    full = sim.config.full_metrics_page
    extra = unmodelled_blocks() if full else None
    store.signals.add("status_req", 1, 1.0, 0.003)
    model = sim.model
    # A fault added or cleared between two steps changes the store at the same instant.
    body = page(store, (model.now, model.fault_seq, len(model.faults)), extra).encode()
    headers = {"Content-Type": METRICS_TYPE}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        # A full page is about 700 KB: level 1 keeps the simulator's own cost per scrape low.
        body = gzip.compress(body, compresslevel=1 if full else 9)
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers)


async def get_status(request: web.Request) -> web.Response:
    return web.Response(status=200)


async def not_found(request: web.Request) -> web.Response:
    return web.Response(text="path not found", status=404)


def close_connections(runner: web.BaseRunner | None, port: int) -> int:
    """Close the connections accepted on ``port``; returns how many were open."""
    server = runner.server if runner is not None else None
    if server is None:
        return 0
    closed = 0
    for handler in server.connections:
        transport = handler.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        if transport is not None and sockname and sockname[1] == port:
            transport.close()
            closed += 1
    return closed


def build_store_app(sim: SimCluster) -> web.Application:
    app = web.Application(middlewares=[store_middleware])
    app[SIM_KEY] = sim
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/status", get_status)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
