"""TikvSubject end to end against PD fixtures (MockTransport) and fake store /metrics pages."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from operator_tikv.figures import pd_figures
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings
from operator_tikv.states import StoreState
from pydantic import ValidationError

from operator_tui.core.history import History
from operator_tui.core.plugin import SubjectPlugin
from operator_tui.core.subject import (
    Subject,
    SubjectContext,
    SubjectError,
    SubjectUnreachable,
)

STATUS = {
    1: "basic-tikv-06vg39.basic-tikv-peer.default:20180",
    4: "basic-tikv-5gzwgj.basic-tikv-peer.default:20180",
    5: "basic-tikv-4q2bgw.basic-tikv-peer.default:20180",
}

# The simulator's log route on every fake PD member, as the demo configures it.
LOG_URLS = [
    "http://pd1:2379/sim/api/v1/stores/{store_id}/logs",
    "http://pd2:2379/sim/api/v1/stores/{store_id}/logs",
]


def make(fake_pd, http, **options):
    options.setdefault("pd_retries", 0)
    options.setdefault("scrape_client", "httpx")  # the fake stores live in the mock transport
    clock = options.pop("clock", None)
    settings = TikvSettings(pd=list(fake_pd.endpoints), **options)
    return plugin.create(SubjectContext(http=http, settings=settings, interval_s=1.0, clock=clock))


TIFLASH_STATUS = "basic-tiflash-tphn85.basic-tiflash-peer.default:20292"


def serve_metrics(fake_pd, tk, **kw):
    for address in STATUS.values():
        fake_pd.metrics[address] = tk.metrics_page(**kw)
    fake_pd.metrics[TIFLASH_STATUS] = "# TYPE tiflash_proxy_x gauge\ntiflash_proxy_x 1\n"


def test_plugin_contract():
    assert isinstance(plugin, SubjectPlugin) and plugin.name == "tikv"


async def test_observe_reads_everything(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    subject = make(fake_pd, mock_http)
    assert isinstance(subject, Subject)
    snap = await subject.observe()
    assert [s.id for s in snap.stores] == [4, 20, 1, 5]
    assert snap.errors == []
    assert snap.store_metrics[20].error.endswith("no TiKV metrics on the page")
    assert snap.hot_write_regions[0].range_id == 10
    c = pd_figures(snap.cluster)
    assert (c.down_peer_regions, c.miss_peer_regions, c.region_count) == (1, 0, 3)
    assert c.pd_leader == "basic-53pe89" and snap.cluster.cluster_id == "7452180154224557728"
    assert (c.pd_members_healthy, c.pd_members_total) == (3, 3)
    assert (c.leader_schedule_limit, c.region_schedule_limit, c.replica_schedule_limit) == (
        4,
        2048,
        64,
    )
    assert snap.cluster.stores_total == 4
    assert snap.store_metrics[4].region_count == 60 and snap.store_metrics[4].qps is None
    assert snap.source == "pd+direct"
    assert snap.extra["unmeasured"] == []
    assert snap.extra["max_store_down_time_s"] == 1800.0
    # Pages never hit /regions (all regions) and never more than once per endpoint.
    assert not fake_pd.requests_to("/regions")
    assert len(fake_pd.requests_to("/stores")) == 1


async def test_second_tick_has_rates_and_history(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk, grpc_count=1000)
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    subject = make(fake_pd, mock_http, clock=lambda: clock[0])
    history = History()
    history.record(await subject.observe())
    serve_metrics(fake_pd, tk, grpc_count=1100)
    clock[0] += timedelta(seconds=2)
    snap = await subject.observe()
    history.record(snap)
    assert snap.store_metrics[1].qps is not None and snap.store_metrics[1].qps > 0
    assert snap.cluster.qps == pytest.approx(sum(snap.store_metrics[s].qps for s in (1, 4, 5)))
    assert [t for t, _ in history.metric_history(1)] == [datetime(2026, 1, 1, tzinfo=UTC), clock[0]]
    assert history.metric_history(99) == []


async def test_dead_store_is_seen_at_once(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    del fake_pd.metrics[STATUS[5]]
    subject = make(fake_pd, mock_http)
    snap = await subject.observe()
    assert not snap.store_metrics[5].reachable
    assert snap.cluster.stores_up == 3
    violations = subject.evaluate(snap)
    assert "store_down:store-5" in [v.key for v in violations]


async def test_all_pd_members_down_is_unreachable(fake_pd, mock_http):
    fake_pd.dead.update(fake_pd.endpoints)
    subject = make(fake_pd, mock_http)
    with pytest.raises(SubjectUnreachable) as err:
        await subject.observe()
    assert "no PD endpoint answered GET /stores" in str(err.value)


async def test_pd_leader_member_dead_fails_over_within_the_tick(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    subject = make(fake_pd, mock_http)
    await subject.observe()
    fake_pd.dead.add("http://pd1:2379")
    snap = await subject.observe()
    assert snap.extra["pd_endpoint"] == "http://pd2:2379"
    assert snap.errors == []


async def test_partial_failures_are_recorded_not_raised(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    fake_pd.overrides["/pd/api/v1/hotspot/regions/write"] = (200, "{broken")
    fake_pd.overrides["/pd/api/v1/regions/check/miss-peer"] = (
        500,
        '"[PD:cluster:ErrNotBootstrapped]x"',
    )
    fake_pd.overrides["/pd/api/v1/health"] = (200, '{"unexpected": true}')
    subject = make(fake_pd, mock_http)
    snap = await subject.observe()
    joined = "\n".join(snap.errors)
    assert (
        "hot_write: GET http://pd1:2379/pd/api/v1/hotspot/regions/write: malformed JSON" in joined
    )
    assert "check:miss-peer" in joined and "ErrNotBootstrapped" in joined
    assert "health: GET http://pd1:2379/pd/api/v1/health: unexpected response" in joined
    assert set(snap.extra["unmeasured"]) == {"hot_write", "pd_health", "region_checks"}
    assert snap.hot_write_regions == []


async def test_malformed_stores_is_a_subject_error_naming_the_endpoint(fake_pd, mock_http):
    fake_pd.overrides["/pd/api/v1/stores"] = (200, '{"count": 1, "stores": [{"store": {}}]}')
    subject = make(fake_pd, mock_http)
    with pytest.raises(SubjectError) as err:
        await subject.observe()
    assert "GET http://pd1:2379/pd/api/v1/stores: unexpected response" in str(err.value)


async def test_tick_budget_bounds_a_slow_part(fake_pd, tk):
    import asyncio

    serve_metrics(fake_pd, tk)

    async def handler(request):
        if request.url.path.endswith("/health"):
            await asyncio.sleep(5)
        return fake_pd.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        subject = make(fake_pd, http, tick_timeout_s=0.5, pd_timeout_s=10)
        snap = await subject.observe()
    # The call's own budget (0.8 x the tick's) now cuts a slow answer before the tick's does.
    assert any(
        e.startswith("health: ") and ("within the tick budget" in e or "timed out" in e)
        for e in snap.errors
    )
    assert snap.extra["tick_seconds"] < 2


async def test_tombstones_only_on_request(fake_pd, mock_http):
    subject = make(fake_pd, mock_http, include_tombstone=True)
    await subject.get_stores()
    assert fake_pd.requests_to("/stores")[-1].url.query == b"state=0&state=1&state=2"


async def test_observation_methods(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    subject = make(fake_pd, mock_http)
    assert [h.range_id for h in await subject.get_hot_write_regions()] == [10]
    m = await subject.get_store_metrics(4)
    assert m.store_id == 4 and m.leader_count == 20
    c = pd_figures(await subject.get_cluster_metrics())
    assert c.pd_leader == "basic-53pe89" and c.down_peer_regions == 1


async def test_logs_from_a_directory(fake_pd, mock_http, tk, tmp_path):
    serve_metrics(fake_pd, tk)
    log = tmp_path / "basic-tikv-06vg39.basic-tikv-peer.default.log"
    samples = [
        ln
        for ln in tk.shared("tikv/log_samples.txt").read_text().splitlines()
        if ln.startswith("[")
    ]
    log.write_text("\n".join(samples[:5]) + "\n")
    subject = make(fake_pd, mock_http, log_dir=str(tmp_path))
    history = History()
    snap = await subject.observe()
    history.record(snap)
    assert len(snap.log_events) == 5 and {e.store_id for e in snap.log_events} == {1}
    with log.open("a") as fh:
        fh.write(samples[5] + "\n" + "garbage line\n" + samples[6][:20])
    snap = await subject.observe()
    history.record(snap)
    assert [e.raw for e in snap.log_events] == [samples[5]]
    assert len(history.recent_log_events()) == 6
    assert len(history.recent_log_events(store_id=1, limit=2)) == 2
    assert history.recent_log_events(store_id=4) == []
    with log.open("a") as fh:
        fh.write(samples[6][20:] + "\n")
    snap = await subject.observe()
    assert [e.raw for e in snap.log_events] == [samples[6]]


async def test_broken_log_source_never_breaks_the_tick(fake_pd, tk):
    serve_metrics(fake_pd, tk)

    def handler(request):
        if "/sim/api/v1/" in request.url.path:
            raise httpx.ConnectError("refused", request=request)
        return fake_pd.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        subject = make(fake_pd, http, log_source="http", log_url=LOG_URLS)
        snap = await subject.observe()
    assert any("logs of store 4: ConnectError" in e for e in snap.errors)
    assert snap.stores


async def test_http_log_route_with_cursor(fake_pd, tk):
    serve_metrics(fake_pd, tk)
    line = '[2026/01/01 00:00:01.000 +00:00] [INFO] [raft.rs:1] ["became leader at term 2"] [term=2] [region_id=9]'
    seen = []

    def handler(request):
        if "/sim/api/v1/stores/1/logs" in request.url.path:
            seen.append(dict(request.url.params))
            return httpx.Response(200, json={"lines": [line], "next_since": 42})
        if "/sim/api/v1/" in request.url.path:
            return httpx.Response(200, json={"lines": []})
        return fake_pd.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        subject = make(fake_pd, http, log_source="http", log_url=LOG_URLS)
        snap = await subject.observe()
        await subject.observe()
    assert [(e.kind, e.store_id, e.region_id) for e in snap.log_events] == [("became_leader", 1, 9)]
    assert seen == [{}, {"since": "42"}]


def test_bad_options_are_subject_errors(fake_pd):
    http = httpx.AsyncClient()
    with pytest.raises(ValidationError):
        make(fake_pd, http, log_source="carrier-pigeon")
    with pytest.raises(SubjectError):
        make(fake_pd, http, metrics_source="prometheus")
    with pytest.raises(ValidationError):
        make(fake_pd, http, tick_timeout_s="soon")
    with pytest.raises(ValidationError):
        make(fake_pd, http, log_source="file")
    with pytest.raises(ValidationError, match="needs log_url"):
        make(fake_pd, http, log_source="http")
    with pytest.raises(SubjectError, match="store_id"):
        make(fake_pd, http, log_source="http", log_url="http://logs/{store}")
    with pytest.raises(ValidationError, match="log_source"):
        make(fake_pd, http, log_source="sim")


def test_describe(fake_pd):
    subject = make(fake_pd, httpx.AsyncClient())
    config = subject.describe()
    assert config.name == "tikv"
    assert [a.name for a in config.actions] == [
        "transfer_leader",
        "split_region",
        "set_leader_schedule_limit",
        "set_replica_schedule_limit",
        "set_region_schedule_limit",
        "drain_store",
        "evict_leader",
        "remove_evict_leader",
        "set_low_space_threshold",
    ]
    assert config.action("drain_store").risk == "high"
    assert [a.name for a in config.action("transfer_leader").args] == ["region_id", "to_store_id"]
    assert {s.name for s in config.slos} >= {"p99_write_latency_ms", "disk_used_ratio"}
    assert len(config.invariants) == 13
    assert {o.name for o in config.observations} >= {"stores", "store_metrics", "logs"}


async def test_store_states_reach_the_snapshot(fake_pd, mock_http, tk):
    fake_pd.overrides["/pd/api/v1/stores"] = (200, tk.pd_fixture("stores_mixed_states.json"))
    subject = make(fake_pd, mock_http)
    snap = await subject.observe()
    assert {s.id: s.state for s in snap.stores}[5] is StoreState.DOWN
    found = {v.key for v in subject.evaluate(snap)}
    assert {"store_down:store-4", "store_down:store-5"} <= found


async def test_single_store_read_keeps_the_others_rates(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk, grpc_count=1000)
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    subject = make(fake_pd, mock_http, clock=lambda: clock[0])
    await subject.observe()
    await subject.get_store_metrics(4)
    serve_metrics(fake_pd, tk, grpc_count=1200)
    clock[0] += timedelta(seconds=2)
    snap = await subject.observe()
    assert all(snap.store_metrics[s].qps is not None for s in (1, 4, 5))


def test_prometheus_query_timeout_is_its_own_and_within_the_tick(fake_pd, mock_http):
    prom = "http://prom:9090"
    default = make(fake_pd, mock_http, prometheus_url=prom)
    assert default.prometheus.timeout_s == 4.0 and default.direct.timeout_s == 2.0
    custom = make(
        fake_pd, mock_http, prometheus_url=prom, prometheus_timeout_s=7, tick_timeout_s=20
    )
    assert custom.prometheus.timeout_s == 7
    capped = make(fake_pd, mock_http, prometheus_url=prom, prometheus_timeout_s=30)
    assert capped.prometheus.timeout_s == pytest.approx(capped.tick_budget_s * 0.8)
    with pytest.raises(ValidationError):
        make(fake_pd, mock_http, prometheus_url=prom, prometheus_timeout_s="soon")


def pd_reads(fake_pd, path):
    return len([r for r in fake_pd.requests_to(path) if r.method == "GET"])


async def test_slow_pd_groups_are_read_on_their_own_period(fake_pd, mock_http, tk):
    """Hot regions and region checks every 10 s, config every 30 s; /stores every tick."""
    serve_metrics(fake_pd, tk)
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    subject = make(fake_pd, mock_http, clock=lambda: clock[0])
    first = await subject.observe()
    reads = {p: [] for p in ("/stores", "/hotspot/regions/write", "/check/miss-peer", "/count")}
    reads["/config/schedule"] = []
    for second in range(1, 41):
        clock[0] += timedelta(seconds=1)
        snap = await subject.observe()
        for path, seen in reads.items():
            if pd_reads(fake_pd, path) > len(seen) + 1:
                seen.append(second)
        # Between reads the last answers stand in: nothing reported unmeasured.
        assert snap.extra["unmeasured"] == [] and snap.errors == []
        assert snap.hot_write_regions == first.hot_write_regions
        pd = pd_figures(snap.cluster)
        assert pd.down_peer_regions == 1 and pd.leader_schedule_limit == 4
    assert reads["/stores"] == list(range(1, 41))
    assert reads["/hotspot/regions/write"] == [10, 20, 30, 40]
    assert reads["/check/miss-peer"] == [5, 15, 25, 35]  # half a period out of step
    assert reads["/count"] == [5, 15, 25, 35]
    assert reads["/config/schedule"] == [24]
    assert snap.extra["read_age_s"] == {
        "hot_write_regions": 0.0,
        "region_checks": 5.0,
        "schedule_config": 16.0,
    }


async def test_a_failed_slow_group_is_unmeasured_and_read_again_next_tick(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    subject = make(fake_pd, mock_http, clock=lambda: clock[0])
    await subject.observe()
    clock[0] += timedelta(seconds=10)
    fake_pd.overrides["/pd/api/v1/hotspot/regions/write"] = (200, "{broken")
    snap = await subject.observe()
    assert "hot_write" in snap.extra["unmeasured"] and snap.hot_write_regions == []
    del fake_pd.overrides["/pd/api/v1/hotspot/regions/write"]
    before = pd_reads(fake_pd, "/hotspot/regions/write")
    clock[0] += timedelta(seconds=1)
    snap = await subject.observe()
    assert pd_reads(fake_pd, "/hotspot/regions/write") == before + 1
    assert snap.extra["unmeasured"] == [] and snap.hot_write_regions


async def test_a_config_change_is_read_back_on_the_next_tick(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    subject = make(fake_pd, mock_http, clock=lambda: clock[0])
    await subject.observe()
    assert (await subject.execute("set_leader_schedule_limit", {"n": 8})).ok
    before = pd_reads(fake_pd, "/config/schedule")
    clock[0] += timedelta(seconds=1)
    await subject.observe()
    assert pd_reads(fake_pd, "/config/schedule") == before + 1


async def test_slow_groups_every_tick_when_asked(fake_pd, mock_http, tk):
    serve_metrics(fake_pd, tk)
    subject = make(
        fake_pd,
        mock_http,
        hot_regions_every_s=0,
        region_checks_every_s=0,
        schedule_config_every_s=0,
    )
    for _ in range(3):
        await subject.observe()
    assert pd_reads(fake_pd, "/hotspot/regions/write") == 3
    assert pd_reads(fake_pd, "/config/schedule") == 3
    with pytest.raises(ValidationError, match="hot_regions_every_s"):
        make(fake_pd, mock_http, hot_regions_every_s=-1)


def test_scrape_budget_option_reaches_direct_metrics(fake_pd, mock_http):
    assert make(fake_pd, mock_http).direct.budget is None
    assert make(fake_pd, mock_http, scrape_budget="auto").direct.budget is None
    assert make(fake_pd, mock_http, scrape_budget=0).direct.budget == "all"
    assert make(fake_pd, mock_http, scrape_budget="all").direct.budget == "all"
    spread = make(fake_pd, mock_http, scrape_budget="9", scrape_interval_s=30)
    assert spread.direct.budget == 9 and spread.direct.scrape_interval_s == 30.0
    assert spread.direct.interval_s == 1.0
    for bad in ("lots", -2):
        with pytest.raises(ValidationError, match="scrape_budget"):
            make(fake_pd, mock_http, scrape_budget=bad)
