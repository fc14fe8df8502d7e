"""Metrics through a real Prometheus scraping the simulator, with the dashboards' PromQL."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from operator_tikv.metrics.base import MetricsResult
from operator_tikv.metrics.prometheus import (
    UNREACHABLE,
    PrometheusError,
    PrometheusMetrics,
    queries,
)
from operator_tikv.plugin import plugin
from operator_tikv.records import TikvStore
from operator_tikv.settings import TikvSettings
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.states import StoreState

from operator_tui.core.history import History
from operator_tui.core.subject import SubjectContext

pytestmark = pytest.mark.prometheus


async def test_prometheus_source_against_the_simulator(tk, tmp_path):
    binary = tk.prometheus_binary()
    async with SimCluster(SimConfig(stores=3, regions=60, seed=3)) as sim:
        server = tk.PrometheusServer(binary, tmp_path, {"tikv": sim.prometheus_targets()["tikv"]})
        await server.start()
        try:
            async with httpx.AsyncClient() as http:
                ctx = SubjectContext(
                    http=http,
                    settings=TikvSettings(
                        pd=sim.pd_urls,
                        prometheus_url=server.url,
                        metrics_source="prometheus",
                        prometheus_rate_window="30s",
                    ),
                )
                subject = plugin.create(ctx)
                state = {}

                async def measured():
                    snap = await subject.observe()
                    state["snap"] = snap
                    ms = snap.store_metrics
                    return len(ms) == 3 and all(
                        m.reachable and m.qps and m.p99_write_latency_ms for m in ms.values()
                    )

                assert await tk.wait_until(measured, within=30, interval=0.5), state["snap"]
                snap = state["snap"]
                assert snap.source == "pd+prometheus" and snap.errors == []
                for store in snap.stores:
                    m = snap.store_metrics[store.id]
                    assert m.error is None
                    assert m.capacity_bytes == store.capacity_bytes
                    assert m.region_count == store.region_count
                    assert 0 < m.p99_latency_ms < 1000 and m.slow_score >= 1
                    assert m.write_stall is not None and m.raft_log_lag is not None
                    # Read through rate() like the dashboard; no stall, so no reason counts.
                    assert m.write_stall_reasons_per_s == {}
                assert subject.evaluate(snap) == [] or all(
                    v.invariant in ("leader_imbalance", "hot_write_region")
                    for v in subject.evaluate(snap)
                )

                fault = sim.add_fault("partition_store", 1)

                async def seen_cut_off():
                    snap = await subject.observe()
                    found = {v.key: v for v in subject.evaluate(snap)}
                    state["cut"] = found.get("store_disconnected:store-1")
                    return state["cut"] is not None

                assert await tk.wait_until(seen_cut_off, within=15, interval=0.5)
                assert set(state["cut"].details["reported_unreachable_by"]) == {"2", "3"}
                sim.clear_fault(fault)

                await sim.kill_store(2)

                async def seen_down():
                    snap = await subject.observe()
                    state["snap"] = snap
                    return not snap.store_metrics[2].reachable

                assert await tk.wait_until(seen_down, within=15, interval=0.5)
                keys = [v.key for v in subject.evaluate(state["snap"])]
                assert "store_down:store-2" in keys
                assert "up=0" in state["snap"].store_metrics[2].error
        finally:
            await server.stop()


async def test_prometheus_down_falls_back_to_direct_in_auto_mode(tk):
    dead = f"http://127.0.0.1:{tk.free_port()}"
    async with SimCluster(SimConfig(stores=3, regions=30, manual_clock=True)) as sim:
        await sim.advance(12)
        async with httpx.AsyncClient() as http:
            clock = lambda: datetime.fromtimestamp(sim.now_ns / 1e9, UTC)  # noqa: E731
            auto = plugin.create(
                SubjectContext(
                    http=http,
                    settings=TikvSettings(pd=sim.pd_urls, prometheus_url=dead),
                    clock=clock,
                )
            )
            snap = await auto.observe()
            assert snap.source == "pd+direct"
            assert snap.errors and "scraped the stores directly instead" in snap.errors[0]
            assert all(m.reachable for m in snap.store_metrics.values())
            strict = plugin.create(
                SubjectContext(
                    http=http,
                    settings=TikvSettings(
                        pd=sim.pd_urls, prometheus_url=dead, metrics_source="prometheus"
                    ),
                )
            )
            snap = await strict.observe()
            assert snap.store_metrics == {} and "connection refused" in snap.errors[0]


def test_queries_are_the_dashboards():
    q = queries("1m")
    assert (
        q["qps"]
        == 'sum(rate(tikv_grpc_msg_duration_seconds_count{type!="kv_gc"}[1m])) by (instance)'
    )
    assert q["raft_log_lag"] == (
        "histogram_quantile(0.99, sum(rate(tikv_raftstore_log_lag_bucket[1m])) by (le, instance))"
    )
    assert q["available_bytes"] == 'sum(tikv_store_size_bytes{type="available"}) by (instance)'
    # TiKV's "Write Stall Reason" panel (metrics/grafana/tikv_details), every engine.
    assert q["write_stall_reasons_per_s"] == (
        "sum(rate(tikv_engine_write_stall_reason[1m])) by (instance, type)"
    )


async def test_prometheus_result_mapping_and_bad_answers(fake_pd):
    answers = {
        "up": [
            {"metric": {"instance": "tikv1:20180", "job": "tikv"}, "value": [1, "1"]},
            {"metric": {"instance": "tikv2:20180", "job": "tikv"}, "value": [1, "0"]},
        ],
    }

    def handler(request):
        query = request.url.params["query"]
        if "label_replace" in query:
            return httpx.Response(400, json={"status": "error", "error": "old prometheus"})
        if query == "up":
            return httpx.Response(
                200, json={"status": "success", "data": {"result": answers["up"]}}
            )
        if "region_count" in query and "region" in query and "leader" not in query:
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {
                        "result": [{"metric": {"instance": "tikv1:20180"}, "value": [1, "42"]}]
                    },
                },
            )
        if "p99" in query or "histogram_quantile" in query:
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {
                        "result": [{"metric": {"instance": "tikv1:20180"}, "value": [1, "NaN"]}]
                    },
                },
            )
        return httpx.Response(400, json={"status": "error", "error": "parse error"})

    stores = [
        TikvStore(1, "tikv1:20160", StoreState.UP, status_address="tikv1:20180"),
        TikvStore(2, "tikv2:20160", StoreState.UP, status_address="tikv2:20180"),
        TikvStore(3, "tikv3:20160", StoreState.UP, status_address="tikv3:20180"),
    ]
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        result = await PrometheusMetrics(http, "http://prom:9090").collect(stores)
    assert result.by_store[1].reachable and result.by_store[1].region_count == 42
    assert result.by_store[1].p99_latency_ms is None
    assert not result.by_store[2].reachable and "up=0" in result.by_store[2].error
    assert "not scraped by Prometheus" in result.by_store[3].error
    assert result.errors == ["prometheus http://prom:9090/api/v1/query: parse error"]


async def test_one_combined_query_per_tick():
    seen = []

    def handler(request):
        query = request.url.params["query"]
        seen.append(query)
        series = [
            {
                "metric": {"instance": "tikv1:20180", "job": "tikv", "operator_field": "up"},
                "value": [1, "1"],
            },
            {
                "metric": {"instance": "tikv1:20180", "job": "other", "operator_field": "up"},
                "value": [1, "0"],
            },
            {"metric": {"instance": "tikv1:20180", "operator_field": "qps"}, "value": [1, "250.5"]},
            {
                "metric": {"instance": "tikv1:20180", "operator_field": "cpu_cores"},
                "value": [1, "2"],
            },
            {
                "metric": {"instance": "tikv1:20180", "operator_field": "cpu_quota"},
                "value": [1, "8"],
            },
            {
                "metric": {"instance": "tikv1:20180", "operator_field": "capacity_bytes"},
                "value": [1, "1e9"],
            },
            {"metric": {"instance": "other:1", "operator_field": "qps"}, "value": [1, "7"]},
            {
                "metric": {"instance": "tikv1:20180", "operator_field": "region_count"},
                "value": [1, "+Inf"],
            },
        ]
        return httpx.Response(200, json={"status": "success", "data": {"result": series}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        prom = PrometheusMetrics(http, "http://prom:9090", window="30s")
        result = await prom.collect(
            [TikvStore(1, "tikv1:20160", StoreState.UP, status_address="tikv1:20180")]
        )
    assert len(seen) == 1 and seen[0] == prom.combined()
    # Every field, plus the end of each target's last scrape.
    assert seen[0].count(" or ") == len(queries()) and "[30s]" in seen[0]
    assert "and on(instance)" not in seen[0]
    m = result.by_store[1]
    assert m.reachable and m.qps == 250.5 and m.cpu_ratio == 0.25 and m.capacity_bytes == 10**9
    assert m.region_count is None
    assert result.errors == []


async def test_prometheus_unreachable_is_not_retried_per_query(tk):
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(PrometheusError) as err:
            await PrometheusMetrics(http, "http://prom:9090").collect([])
    assert len(calls) == 1 and "connection refused" in str(err.value)


async def _collect(series, field, combined, is_field_query):
    """Three stores' metrics from a Prometheus answering the combined query (or refusing it,
    as an old one does), ``up``, and the field's own query (``is_field_query`` checks its
    text) from ``series``."""

    def handler(request):
        query = request.url.params["query"]
        if "label_replace" in query:
            if not combined:
                return httpx.Response(400, json={"status": "error", "error": "old prometheus"})
            result = [
                {"metric": {**labels, "operator_field": name}, "value": [1, value]}
                for name, labels, value in series
            ]
        elif query == "up":
            result = [{"metric": lb, "value": [1, v]} for n, lb, v in series if n == "up"]
        elif is_field_query(query):
            result = [{"metric": lb, "value": [1, v]} for n, lb, v in series if n == field]
        else:
            result = []
        return httpx.Response(200, json={"status": "success", "data": {"result": result}})

    stores = [
        TikvStore(sid, f"tikv{sid}:20160", StoreState.UP, status_address=f"tikv{sid}:20180")
        for sid in (1, 2, 3)
    ]
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return await PrometheusMetrics(http, "http://prom:9090").collect(stores)


@pytest.mark.parametrize("combined", [True, False], ids=["combined", "per-query"])
async def test_unreachable_reports_by_destination(combined):
    field = "unreachable_reports_per_s"
    series = [
        ("up", {"instance": "tikv1:20180"}, "1"),
        ("up", {"instance": "tikv2:20180"}, "1"),
        (field, {"instance": "tikv1:20180", "store_id": "2"}, "20"),
        (field, {"instance": "tikv1:20180", "store_id": "3"}, "0"),
        (field, {"instance": "tikv1:20180", "store_id": "4"}, "5.5"),
    ]

    def check(query: str) -> bool:
        if "report_failure" not in query:
            return False
        assert 'irate(tikv_server_report_failure_msg_total{type="unreachable"}[1m])' in query
        return True

    result = await _collect(series, field, combined, check)
    assert result.by_store[1].unreachable_reports_per_s == {2: 20.0, 4: 5.5}
    assert result.by_store[2].unreachable_reports_per_s == {}
    assert result.by_store[3].unreachable_reports_per_s is None  # not scraped: unknown


@pytest.mark.parametrize("combined", [True, False], ids=["combined", "per-query"])
async def test_stall_reasons_by_type(combined):
    field = "write_stall_reasons_per_s"
    series = [
        ("up", {"instance": "tikv1:20180"}, "1"),
        ("up", {"instance": "tikv2:20180"}, "1"),
        ("up", {"instance": "tikv3:20180"}, "1"),
        (field, {"instance": "tikv1:20180", "type": "level0_file_limit_slowdown"}, "0.1"),
        (field, {"instance": "tikv1:20180", "type": "pending_compaction_bytes_stop"}, "0.05"),
        (field, {"instance": "tikv1:20180", "type": "memtable_count_limit_stop"}, "0"),
        (field, {"instance": "tikv2:20180", "type": "level0_file_limit_slowdown"}, "0"),
        (field, {"instance": "tikv2:20180", "type": "memtable_count_limit_slowdown"}, "NaN"),
    ]

    def check(query: str) -> bool:
        if "write_stall_reason" not in query:
            return False
        assert query == queries()[field]
        return True

    result = await _collect(series, field, combined, check)
    assert result.by_store[1].write_stall_reasons_per_s == {
        "level0_file_limit_slowdown": 0.1,
        "pending_compaction_bytes_stop": 0.05,
    }
    assert result.by_store[2].write_stall_reasons_per_s == {}  # read, none counting
    assert result.by_store[3].write_stall_reasons_per_s is None  # no series: not read


_GAUGES = ("capacity_bytes", "region_count", "leader_count", "slow_score", "write_stall")
_RATES = ("qps", "p99_latency_ms", "p99_write_latency_ms", "cpu_ratio")


async def test_filtered_ticks_match_a_full_answer_and_see_a_kill(tk, tmp_path):
    """Against the real binary: the filter's PromQL, the cache, and ``up=0`` through it."""
    binary = tk.prometheus_binary()
    async with SimCluster(SimConfig(stores=3, regions=60, seed=5)) as sim:
        server = tk.PrometheusServer(binary, tmp_path, {"tikv": sim.prometheus_targets()["tikv"]})
        await server.start()
        try:
            sent: list[str] = []

            async def keep(request: httpx.Request) -> None:
                if request.url.path != "/api/v1/query":
                    return
                if request.method == "POST":
                    sent.append("POST " + httpx.QueryParams(request.content.decode())["query"])
                else:
                    sent.append("GET " + request.url.params["query"])

            async with httpx.AsyncClient(event_hooks={"request": [keep]}) as http:
                ctx = SubjectContext(
                    http=http, settings=TikvSettings(pd=sim.pd_urls, prometheus_url=server.url)
                )
                stores = await plugin.create(ctx).get_stores()
                ids = {s.id for s in stores}

                async def full() -> MetricsResult:
                    return await PrometheusMetrics(http, server.url, window="30s").collect(stores)

                async def rated() -> bool:
                    ms = (await full()).by_store.values()
                    return len(ms) == 3 and all(m.qps and m.p99_write_latency_ms for m in ms)

                assert await tk.wait_until(rated, within=30, interval=0.5)

                source = PrometheusMetrics(http, server.url, window="30s")
                sent.clear()
                fresh = []
                for _ in range(10):  # ticks shorter than the 1 s scrape interval
                    fresh.append((await source.collect(stores)).fresh)
                    await asyncio.sleep(0.3)
                # First the whole answer; then each tick up and who was scraped since, and
                # the figures of those (with the instance matcher, or all when most were).
                assert sent[0] == "GET " + source.combined()
                heads = [q for q in sent[1:] if ") > " in q]
                assert len(heads) == 9 and all(q.startswith("GET ") for q in heads)
                assert fresh[0] == ids and set().union(*fresh[1:]) == ids
                assert any(f != ids for f in fresh[1:])

                # The narrow query reads one instance's series, the same as the whole answer.
                async def answer(promql: str) -> dict[tuple[str, str], str]:
                    body = await http.post(server.url + "/api/v1/query", data={"query": promql})
                    return {
                        (r["metric"]["instance"], r["metric"]["operator_field"]): r["value"][1]
                        for r in body.json()["data"]["result"]
                        if r["metric"]["operator_field"] != UNREACHABLE
                    }

                one = sim.prometheus_targets()["tikv"][0]
                for _ in range(20):
                    narrow = await answer(source.restricted([one]))
                    whole = await answer(source.combined())
                    if narrow[(one, "scraped_at")] == whole[(one, "scraped_at")]:
                        break
                else:
                    pytest.fail("no two answers from the same scrape in 20 tries")
                assert {instance for instance, _ in narrow} == {one}
                assert narrow.keys() == {k for k in whole if k[0] == one}
                for key in ("capacity_bytes", "region_count", "slow_score", "up"):
                    assert narrow[(one, key)] == whole[(one, key)]
                two = sim.prometheus_targets()["tikv"][1:]
                assert {instance for instance, _ in await answer(source.restricted(two))} == set(
                    two
                )

                # Same scrapes on both sides: gauges equal, rates within a scrape's drift.
                for _ in range(40):
                    mine = await source.collect(stores)
                    reference = PrometheusMetrics(http, server.url, window="30s")
                    theirs = await reference.collect(stores)
                    if source.scrape_ends() == reference.scrape_ends():
                        break
                else:
                    pytest.fail("no two answers from the same scrapes in 40 tries")
                for sid in ids:
                    a, b = mine.by_store[sid], theirs.by_store[sid]
                    assert a.reachable and a.error is None
                    for name in _GAUGES:
                        assert getattr(a, name) is not None, name
                        assert getattr(a, name) == getattr(b, name), name
                    for name in _RATES:
                        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=0.2), name

                # Through the subject: one history point per scrape, not one per tick.
                subject = plugin.create(
                    SubjectContext(
                        http=http,
                        settings=TikvSettings(
                            pd=sim.pd_urls,
                            prometheus_url=server.url,
                            metrics_source="prometheus",
                            prometheus_rate_window="30s",
                        ),
                    )
                )
                history = History()
                for _ in range(12):
                    history.record(await subject.observe())
                    await asyncio.sleep(0.25)
                for sid in ids:
                    points = [m for _, m in history.metric_history(sid)]
                    assert 2 <= len(points) < 12
                    assert len({id(m) for m in points}) == len(points)
                await subject.aclose()

                await sim.kill_store(2)
                killed_at = asyncio.get_running_loop().time()
                state: dict[str, MetricsResult] = {}

                async def unreachable() -> bool:
                    state["r"] = await source.collect(stores)
                    return not state["r"].by_store[2].reachable

                assert await tk.wait_until(unreachable, within=5, interval=0.5)
                assert asyncio.get_running_loop().time() - killed_at < 4
                down = state["r"].by_store[2]
                assert "up=0" in down.error and 2 in state["r"].fresh
                assert state["r"].by_store[1].reachable and state["r"].by_store[3].reachable
        finally:
            await server.stop()
