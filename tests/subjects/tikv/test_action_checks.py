"""Actions checked against PD: evict-leader over a loopback PD stub, pre-checks, post-verification.

The stub keeps the state the checks read, in PD's shapes (server/api/scheduler.go: POST
/schedulers with {"name": "evict-leader-scheduler", "store_id": N}; DELETE
/schedulers/evict-leader-scheduler-N; the scheduler's config lists ``store-id-ranges``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from operator_tikv import action_checks, actions
from operator_tikv.pd import PDClient

from tests.subjects.tikv.conftest import free_port

PREFIX = "/pd/api/v1"


class PDStub:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config: dict[str, Any] = {"replica-schedule-limit": 64, "leader-schedule-limit": 4}
        self.stores = {1: "Up", 2: "Up", 3: "Disconnected"}
        self.regions = {7: {"leader": 1, "voters": [1, 2, 3]}}
        self.evicted: list[int] = []
        self.operators: dict[int, dict[str, Any]] = {}
        self.writes: list[tuple[str, str, Any]] = []
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        path, method = request.path.removeprefix(PREFIX), request.method
        body = await request.json() if request.can_read_body else None
        if method != "GET":
            self.writes.append((method, path, body))
        if path == "/config/schedule":
            if method == "POST":
                self.config.update(body)
                return web.json_response("The config is updated.")
            return web.json_response(self.config)
        if path.startswith("/store/"):
            sid = int(path.rsplit("/", 1)[1])
            if sid not in self.stores:
                return web.json_response(
                    f"[PD:core:ErrStoreNotFound]store {sid} not found", status=404
                )
            return web.json_response(
                {"store": {"id": sid, "state_name": self.stores[sid]}, "status": {}}
            )
        if path.startswith("/region/id/"):
            rid = int(path.rsplit("/", 1)[1])
            r = self.regions.get(rid)
            if r is None:
                return web.json_response({"id": 0})
            return web.json_response(
                {
                    "id": rid,
                    "peers": [{"id": 100 + s, "store_id": s} for s in r["voters"]],
                    "leader": {"id": 100 + r["leader"], "store_id": r["leader"]},
                }
            )
        if path == "/schedulers" and method == "POST":
            if body.get("name") != "evict-leader-scheduler" or "store_id" not in body:
                return web.json_response("missing store id", status=400)
            self.evicted.append(int(body["store_id"]))
            return web.json_response("The scheduler is created.")
        if path == "/schedulers":
            return web.json_response(
                ["balance-leader-scheduler"] + (["evict-leader-scheduler"] if self.evicted else [])
            )
        if path.startswith("/schedulers/evict-leader-scheduler-") and method == "DELETE":
            sid = int(path.rsplit("-", 1)[1])
            if sid not in self.evicted:
                return web.json_response("scheduler not found", status=404)
            self.evicted.remove(sid)
            return web.json_response("The scheduler is removed.")
        if path == "/scheduler-config/evict-leader-scheduler/list":
            if not self.evicted:
                return web.json_response("404 page not found", status=404)
            return web.json_response(
                {"store-id-ranges": {str(s): [] for s in self.evicted}, "batch": 3}
            )
        if path == "/operators" and method == "POST":
            self.operators[body["region_id"]] = body
            return web.json_response("The operator is created.")
        if path.startswith("/operators/"):
            op = self.operators.get(int(path.rsplit("/", 1)[1]))
            if op is None:
                return web.json_response("operator not found", status=404)
            return web.json_response({"desc": op["name"], "status": "RUNNING"})
        return web.json_response("404 page not found", status=404)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()


@pytest.fixture
async def stub() -> AsyncIterator[PDStub]:
    server = PDStub()
    await server.start()
    try:
        yield server
    finally:
        assert server._runner is not None
        await server._runner.cleanup()


@pytest.fixture
async def pd(stub: PDStub) -> AsyncIterator[PDClient]:
    async with httpx.AsyncClient() as http:
        yield PDClient(http, [stub.url], retries=0, call_budget_s=3.0)


async def run(pd: PDClient, action: str, args: dict[str, Any]):
    return await actions.execute(pd, action, args, config_changed=lambda: None)


async def test_evict_leader_adds_and_removes_pds_scheduler(stub: PDStub, pd: PDClient) -> None:
    assert await pd.evict_leader_stores() is None
    r = await run(pd, "evict_leader", {"store_id": 2})
    assert r.ok and r.message == "The scheduler is created."
    assert stub.writes[-1] == (
        "POST",
        "/schedulers",
        {"name": "evict-leader-scheduler", "store_id": 2},
    )
    assert await pd.evict_leader_stores() == [2]
    assert (await action_checks.verify(pd, "evict_leader", {"store_id": 2})).ok
    again = await action_checks.precheck(pd, "evict_leader", {"store_id": 2}, {})
    assert again.ok and again.done
    r = await run(pd, "remove_evict_leader", {"store_id": 2})
    assert r.ok and stub.writes[-1][:2] == ("DELETE", "/schedulers/evict-leader-scheduler-2")
    assert (await action_checks.verify(pd, "remove_evict_leader", {"store_id": 2})).ok
    missing = await run(pd, "remove_evict_leader", {"store_id": 2})
    assert not missing.ok and "not found" in missing.message


async def test_evict_leader_prechecks_the_store(pd: PDClient) -> None:
    absent = await action_checks.precheck(pd, "evict_leader", {"store_id": 9}, {})
    assert not absent.ok and "does not exist" in absent.message
    cut = await action_checks.precheck(pd, "evict_leader", {"store_id": 3}, {})
    assert not cut.ok and "Disconnected" in cut.message
    up = await action_checks.precheck(pd, "evict_leader", {"store_id": 1}, {})
    assert up.ok and not up.done


async def test_limit_prechecks_and_verifies(stub: PDStub, pd: PDClient) -> None:
    args, seen = {"n": 128}, {"n": 64}
    assert (await action_checks.precheck(pd, "set_replica_schedule_limit", args, seen)).ok
    stub.config["replica-schedule-limit"] = 32
    moved = await action_checks.precheck(pd, "set_replica_schedule_limit", args, seen)
    assert not moved.ok and "from 64 to 32" in moved.message
    assert not (await action_checks.verify(pd, "set_replica_schedule_limit", args)).ok
    assert (await run(pd, "set_replica_schedule_limit", args)).ok
    after = await action_checks.verify(pd, "set_replica_schedule_limit", args)
    assert after.ok and "128" in after.message
    done = await action_checks.precheck(pd, "set_replica_schedule_limit", args, seen)
    assert done.ok and done.done


async def test_transfer_leader_prechecks_the_leader_and_the_voter(
    stub: PDStub, pd: PDClient
) -> None:
    args = {"region_id": 7, "to_store_id": 2}
    assert (await action_checks.precheck(pd, "transfer_leader", args, {"to_store_id": 1})).ok
    stub.regions[7]["leader"] = 3
    moved = await action_checks.precheck(pd, "transfer_leader", args, {"to_store_id": 1})
    assert not moved.ok and "moved from store 1 to store 3" in moved.message
    stub.regions[7] = {"leader": 1, "voters": [1, 3]}
    novoter = await action_checks.precheck(pd, "transfer_leader", args, {"to_store_id": 1})
    assert not novoter.ok and "no voter in store 2" in novoter.message
    gone = await action_checks.precheck(
        pd, "transfer_leader", {"region_id": 8, "to_store_id": 2}, {}
    )
    assert not gone.ok and "no longer exists" in gone.message
    stub.regions[7] = {"leader": 1, "voters": [1, 2, 3]}
    assert not (await action_checks.verify(pd, "transfer_leader", args)).ok
    assert (await run(pd, "transfer_leader", args)).ok
    assert (await action_checks.verify(pd, "transfer_leader", args)).ok
    stub.regions[7]["leader"] = 2
    assert (await action_checks.precheck(pd, "transfer_leader", args, {})).done


def test_evict_leader_is_declared_with_its_arguments() -> None:
    declared = {a.name: a for a in actions.ACTIONS}
    assert [a.name for a in declared["evict_leader"].args] == ["store_id"]
    assert [a.name for a in declared["remove_evict_leader"].args] == ["store_id"]
    assert json.dumps(actions.EVICT_LEADER) == '"evict-leader-scheduler"'


async def test_the_subject_checks_its_actions(stub: PDStub) -> None:
    from operator_tikv.plugin import plugin
    from operator_tikv.settings import TikvSettings

    from operator_tui.core.subject import CheckedActions, SubjectContext

    async with httpx.AsyncClient() as http:
        subject = plugin.create(SubjectContext(http=http, settings=TikvSettings(pd=[stub.url])))
        try:
            assert isinstance(subject, CheckedActions)
            absent = await subject.precheck("evict_leader", {"store_id": "9"}, {})
            assert not absent.ok and "store 9 does not exist" in absent.message
            # Arguments that do not validate are left to execute, which refuses them.
            assert (await subject.precheck("evict_leader", {"store_id": "x"}, {})).ok
            assert (await subject.execute("evict_leader", {"store_id": 1})).ok
            assert (await subject.verify("evict_leader", {"store_id": 1})).ok
        finally:
            await subject.aclose()
