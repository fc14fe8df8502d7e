"""TiKV's diagnosis tools: every one runs against a loopback PD and Prometheus that record
each request, and none sends anything but GET to PD (POST only to Prometheus's query API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from aiohttp import web
from operator_tikv.pd.client import PDClient
from operator_tikv.records import TikvLogEvent, TikvStoreMetrics
from operator_tikv.tools import PDReads, PrometheusReads, build_tools, parse_selector

from operator_tui.core.history import History
from operator_tui.core.tools import ToolBox, ToolEnv, ToolLimits
from operator_tui.core.types import Snapshot

ARGS = {
    "query_prometheus": {"promql": "up", "range_minutes": 5},
    "get_store": {"store_id": 1},
    "get_region": {"region_id": 2},
    "list_hot_regions": {"kind": "write"},
    "list_operators": {},
    "get_pd_config": {},
    "region_check": {"kind": "miss-peer"},
    "search_logs": {"store_id": 1, "kinds": ["slow_request"], "text": "slow"},
    "list_incident_tickets": {},
    "get_metric_history": {"store_id": 1, "metric": "p99_write_latency_ms"},
}


async def _recording_server(seen: list[tuple[str, str]]) -> web.AppRunner:
    async def any_route(request: web.Request) -> web.Response:
        seen.append((request.method, request.path))
        if request.path.startswith("/api/v1/query"):
            return web.json_response(
                {"status": "success", "data": {"resultType": "matrix", "result": []}}
            )
        if request.path.endswith("/regions/check/miss-peer"):
            return web.json_response({"count": 1, "regions": [{"id": 2}]})
        return web.json_response({"id": 1, "rows": list(range(500))})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_route)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _history(now: datetime) -> History:
    h = History()
    for i in range(3):
        t = now - timedelta(seconds=10 * (3 - i))
        h.record(
            Snapshot(
                taken_at=t,
                stores=[],
                store_metrics={1: TikvStoreMetrics(store_id=1, p99_write_latency_ms=5.0 + i)},
                log_events=[
                    TikvLogEvent(
                        time=t,
                        level="WARN",
                        source="tikv",
                        message="slow request",
                        kind="slow_request",
                        store_id=1,
                    )
                ],
            )
        )
    return h


async def test_every_tool_answers_and_none_changes_the_cluster() -> None:
    seen: list[tuple[str, str]] = []
    runner = await _recording_server(seen)
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}"
    now = datetime.now(UTC)
    async with httpx.AsyncClient() as http:
        pd = PDClient(http, [url])
        tools = build_tools(PDReads(pd), PrometheusReads(http, url, 5.0), None)
        assert {t.name for t in tools} == set(ARGS)
        # what reads PD or Prometheus is live (a replay leaves it out); the rest reads history
        assert {t.name for t in tools if not t.live} == {
            "search_logs",
            "list_incident_tickets",
            "get_metric_history",
        }
        box = ToolBox(tools, ToolEnv(history=_history(now), now=lambda: now))
        for name, args in ARGS.items():
            answer = await box.call(name, args)
            assert answer.step.ok, (name, answer.step.summary)
            assert answer.step.result_chars > 0
    await runner.cleanup()
    assert seen, "no request reached the loopback server"
    for method, path in seen:
        if path.startswith("/api/v1/query"):
            assert method in ("GET", "POST"), (method, path)
        else:
            assert method == "GET", (method, path)
    assert ("POST", "/api/v1/query_range") in seen
    assert box.steps[2].summary.startswith("50 rows")  # 500 rows cut to the row cap


async def test_a_large_answer_is_capped_with_a_note() -> None:
    async def huge(_env: ToolEnv, _a: dict) -> dict:
        return {"blob": "x" * (10 << 20)}

    from operator_tui.core.tools import Tool, schema

    box = ToolBox([Tool("huge", "ten megabytes", schema(), huge)], limits=ToolLimits())
    answer = await box.call("huge", {})
    assert answer.step.ok
    assert len(answer.text) < 20_000
    assert "shrunk" in answer.text


def test_direct_mode_answers_only_a_bare_selector() -> None:
    assert parse_selector('tikv_raftstore_slow_score{type="x"}') == (
        "tikv_raftstore_slow_score",
        {"type": "x"},
    )
    assert parse_selector("rate(x[1m])") is None
