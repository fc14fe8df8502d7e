"""Exposition parsing, Prometheus' histogram_quantile and rate maths, and direct scraping."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_tikv.metrics.direct import DirectMetrics, compute_store_metrics
from operator_tikv.metrics.exposition import (
    counter_increase,
    histogram_quantile,
    parse_exposition,
    rate,
)
from operator_tikv.records import TikvStore
from operator_tikv.states import StoreState

INF = math.inf


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.99, {0.1: 50, 0.2: 100, INF: 100}, 0.198),
        (0.5, {0.1: 50, 0.2: 100, INF: 100}, 0.1),
        (0.25, {0.1: 50, 0.2: 100, INF: 100}, 0.05),
        (0.99, {0.1: 0, 0.2: 0, INF: 10}, 0.2),
        (0.5, {0.1: 10, 0.2: 5, INF: 10}, 0.05),
        (0.5, {-1.0: 10, 0.2: 10, INF: 10}, -1.0),
        (0.75, {1.0: 1, 2.0: 3, 4.0: 3, INF: 4}, 2.0),
        (2.0, {0.1: 1, INF: 1}, INF),
        (-1.0, {0.1: 1, INF: 1}, -INF),
    ],
)
def test_histogram_quantile_as_prometheus(q, buckets, expected):
    assert histogram_quantile(q, buckets) == pytest.approx(expected)


@pytest.mark.parametrize(
    "buckets",
    [{}, {0.1: 5, 0.2: 6}, {INF: 5}, {0.1: 0, INF: 0}],
    ids=["empty", "noinf", "one", "zero"],
)
def test_histogram_quantile_nan_cases(buckets):
    assert histogram_quantile(0.99, buckets) is None


def test_counter_increase_handles_resets():
    assert counter_increase(1000, 1500) == 500
    assert counter_increase(1000, 200) == 200
    assert counter_increase(None, 5) == 0


def test_parse_keeps_only_wanted_families(tk):
    scrape = parse_exposition(tk.metrics_page(), 0.0, ("tikv_store_size_bytes",))
    assert set(scrape.samples) == {"tikv_store_size_bytes"}
    assert scrape.total("tikv_store_size_bytes", lambda lb: lb["type"] == "capacity") == 100 * 2**30


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        parse_exposition('tikv_x{type="a" 1\n', 0.0)


def test_rate_between_scrapes(tk):
    prev = parse_exposition(tk.metrics_page(grpc_count=1000), 0.0)
    cur = parse_exposition(tk.metrics_page(grpc_count=3000), 10.0)
    not_gc = lambda lb: lb.get("type") != "kv_gc"  # noqa: E731
    assert rate(prev, cur, "tikv_grpc_msg_duration_seconds_count", not_gc) == pytest.approx(200)
    assert rate(cur, prev, "tikv_grpc_msg_duration_seconds_count", not_gc) is None
    assert rate(prev, cur, "no_such_metric") is None


def test_store_metrics_from_two_scrapes(tk):
    prev = parse_exposition(tk.metrics_page(grpc_count=1000, cpu_seconds=100), 0.0)
    cur = parse_exposition(
        tk.metrics_page(
            grpc_count=3000,
            cpu_seconds=120,
            write_buckets={"0.001": 0, "0.002": 0, "0.004": 0, "0.008": 100, "+Inf": 100},
            log_lag_buckets={"2": 0, "4": 0, "5120": 0, "10240": 10, "+Inf": 10},
            channel_full=50,
            scheduler_busy=20,
            write_stall=3,
            slow_score=85,
        ),
        10.0,
    )
    m = compute_store_metrics(1, prev, cur)
    assert m.reachable and m.error is None
    assert m.qps == pytest.approx(200)
    assert m.p99_latency_ms == pytest.approx(1.98)
    assert m.p99_write_latency_ms == pytest.approx(7.96)
    assert m.cpu_ratio == pytest.approx(0.5)
    assert m.raft_log_lag == pytest.approx(5120 + 5120 * 0.99)
    assert m.channel_full_per_s == pytest.approx(5.0)
    assert m.scheduler_busy_per_s == pytest.approx(2.0)
    assert m.write_stall == 3 and m.slow_score == 85
    assert m.critical_errors_per_s is None
    assert m.capacity_bytes == 100 * 2**30 and m.available_bytes == 60 * 2**30
    assert m.used_bytes == 40 * 2**30
    assert (m.region_count, m.leader_count) == (60, 20)


def test_first_scrape_has_gauges_but_no_rates(tk):
    m = compute_store_metrics(1, None, parse_exposition(tk.metrics_page(), 0.0))
    assert m.capacity_bytes == 100 * 2**30
    assert m.qps is None and m.p99_write_latency_ms is None


def _store(sid, status):
    return TikvStore(id=sid, address=f"tikv{sid}:20160", state=StoreState.UP, status_address=status)


async def test_direct_scrape_marks_refused_store_unreachable(fake_pd, mock_http, tk):
    fake_pd.metrics["tikv1:20180"] = tk.metrics_page()
    now = [0.0]
    direct = DirectMetrics(mock_http, clock=lambda: now[0])
    stores = [_store(1, "tikv1:20180"), _store(2, "tikv2:20180"), _store(3, "")]
    stores.append(TikvStore(id=4, address="x", state=StoreState.TOMBSTONE, status_address="x:1"))
    result = await direct.collect(stores)
    assert result.by_store[1].reachable and result.by_store[1].region_count == 60
    assert not result.by_store[2].reachable
    assert "connection refused" in result.by_store[2].error
    assert result.by_store[3].error == "no status address from PD"
    assert 4 not in result.by_store
    fake_pd.metrics["tikv1:20180"] = tk.metrics_page(grpc_count=1500)
    now[0] = 5.0
    result = await direct.collect(stores)
    assert result.by_store[1].qps == pytest.approx(100)


async def test_direct_scrape_bad_page_and_http_error(fake_pd, mock_http):
    fake_pd.metrics["tikv1:20180"] = "this is { not prometheus"
    fake_pd.overrides["http://tikv2:20180/metrics"] = (500, "oops")
    direct = DirectMetrics(mock_http)
    result = await direct.collect([_store(1, "tikv1:20180"), _store(2, "tikv2:20180")])
    assert result.by_store[1].reachable and "no TiKV metrics" in result.by_store[1].error
    assert result.by_store[2].reachable and "HTTP 500" in result.by_store[2].error


async def test_direct_scrape_broken_wanted_family(fake_pd, mock_http):
    fake_pd.metrics["tikv1:20180"] = 'tikv_store_size_bytes{type="capacity" 12\n'
    result = await DirectMetrics(mock_http).collect([_store(1, "tikv1:20180")])
    assert result.by_store[1].reachable and "not a Prometheus" in result.by_store[1].error


async def test_scrape_budget_rotates_and_puts_failing_stores_first(fake_pd, mock_http, tk):
    stores = [_store(i, f"tikv{i}:20180") for i in range(1, 11)]
    for i in range(1, 11):
        fake_pd.metrics[f"tikv{i}:20180"] = tk.metrics_page()
    direct = DirectMetrics(mock_http, budget=4)

    def scraped():
        hosts = [r.url.host for r in fake_pd.calls]
        fake_pd.calls.clear()
        return sorted(int(h[4:]) for h in hosts)

    first = await direct.collect(stores)
    assert scraped() == [1, 2, 3, 4] and first.fresh == {1, 2, 3, 4}
    assert set(first.by_store) == {1, 2, 3, 4}  # never read: nothing to show yet
    second = await direct.collect(stores)
    assert scraped() == [5, 6, 7, 8] and second.fresh == {5, 6, 7, 8}
    assert set(second.by_store) == set(range(1, 9))  # the others keep their last figures
    assert second.by_store[1] is first.by_store[1]
    await direct.collect(stores)
    assert scraped() == [1, 2, 9, 10]
    del fake_pd.metrics["tikv2:20180"]
    await direct.collect(stores)
    assert scraped() == [3, 4, 5, 6]
    result = await direct.collect(stores)
    assert scraped() == [1, 2, 7, 8] and not result.by_store[2].reachable
    result = await direct.collect(stores)
    assert 2 in scraped()
    stores[6] = TikvStore(
        id=7, address="x", state=StoreState.DISCONNECTED, status_address="tikv7:20180"
    )
    await direct.collect(stores)
    assert 7 in scraped()


async def test_unresolvable_status_address_is_not_a_dead_store(tk):
    import httpx

    def handler(request):
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        result = await DirectMetrics(http).collect([_store(1, "tikv0:20180")])
    m = result.by_store[1]
    assert m.reachable and m.error == "http://tikv0:20180/metrics: cannot resolve tikv0 from here"


async def test_a_page_over_the_fetchers_cap_is_counted_as_too_large(tk):
    import httpx
    from operator_tikv.metrics.fetch import HttpxFetcher

    def handler(request):
        return httpx.Response(200, text=tk.metrics_page())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        direct = DirectMetrics(http, fetcher=HttpxFetcher(http, max_bytes=100))
        result = await direct.collect([_store(1, "127.0.0.1:20180")])
    m = result.by_store[1]
    assert m.reachable and "over the cap of 100" in (m.error or "")
    assert direct.parser.skipped == {"too_large": 1}


def test_non_finite_gauges_are_unmeasured(tk):
    page = (
        tk.metrics_page()
        .replace(
            'tikv_raftstore_region_count{type="region"} 60',
            'tikv_raftstore_region_count{type="region"} +Inf',
        )
        .replace(
            'tikv_store_size_bytes{type="capacity"} 107374182400',
            'tikv_store_size_bytes{type="capacity"} NaN',
        )
    )
    m = compute_store_metrics(1, None, parse_exposition(page, 0.0))
    assert m.region_count is None and m.capacity_bytes is None and m.leader_count == 20


async def test_a_cut_short_tick_keeps_the_reads_that_finished(fake_pd, tk):
    import asyncio

    import httpx

    for i in (1, 2):
        fake_pd.metrics[f"tikv{i}:20180"] = tk.metrics_page()

    async def handler(request):
        if request.url.host == "tikv2":
            await asyncio.sleep(5)
        return fake_pd.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        direct = DirectMetrics(http)
        stores = [_store(1, "tikv1:20180"), _store(2, "tikv2:20180")]
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await direct.collect(stores)
        assert direct._last[1].region_count == 60 and 2 not in direct._last


def _with_reports(page, counts):
    lines = [
        "# HELP tikv_server_report_failure_msg_total Total number of reporting failure messages",
        "# TYPE tikv_server_report_failure_msg_total counter",
    ]
    for (kind, target), value in counts.items():
        lines.append(
            f'tikv_server_report_failure_msg_total{{store_id="{target}",type="{kind}"}} {value}'
        )
    return page + "\n".join(lines) + "\n"


def test_unreachable_reports_by_destination_store(tk):
    from operator_tikv.metrics.direct import FAMILIES

    page = tk.metrics_page()
    first = parse_exposition(page, 0.0, FAMILIES)
    assert compute_store_metrics(1, None, first).unreachable_reports_per_s is None
    quiet = parse_exposition(page, 2.0, FAMILIES)
    assert compute_store_metrics(1, first, quiet).unreachable_reports_per_s == {}
    # A destination's series appears at its first failure: all of it is new.
    cut = parse_exposition(
        _with_reports(page, {("unreachable", 2): 40, ("unreachable", 3): 10, ("snapshot", 4): 9}),
        4.0,
        FAMILIES,
    )
    assert compute_store_metrics(1, quiet, cut).unreachable_reports_per_s == {2: 20.0, 3: 5.0}
    still = parse_exposition(
        _with_reports(page, {("unreachable", 2): 80, ("unreachable", 3): 10}), 6.0, FAMILIES
    )
    assert compute_store_metrics(1, cut, still).unreachable_reports_per_s == {2: 20.0}


def _reference(text, at, families):
    return parse_exposition(text, at, families).samples


def test_reader_matches_the_parser_on_pages(tk):
    from operator_tikv.metrics.direct import FAMILIES
    from operator_tikv.metrics.exposition import ExpositionReader

    reader = ExpositionReader(FAMILIES, max_series=30)
    pages = [
        tk.metrics_page(),
        tk.metrics_page(grpc_count=5e9, write_stall=float("inf"), slow_score=float("nan")),
        _with_reports(tk.metrics_page(), {("unreachable", 7): 3, ("snapshot", 2): 1}),
    ]
    for page in pages * 2:  # the second round reads series from the cache
        got = reader.parse(page, 1.0).samples
        want = _reference(page, 1.0, FAMILIES)
        assert got.keys() == want.keys()
        for name in want:
            assert got[name].keys() == want[name].keys()
            for key, value in want[name].items():
                assert got[name][key] == value or (math.isnan(value) and math.isnan(got[name][key]))


@pytest.mark.parametrize("full", [False, True], ids=["modelled", "full-page"])
async def test_reader_matches_the_parser_on_a_simulated_store(full):
    import httpx
    from operator_tikv.metrics.direct import FAMILIES
    from operator_tikv.metrics.exposition import ExpositionReader
    from operator_tikv.sim import SimCluster, SimConfig

    config = SimConfig(stores=3, regions=300, manual_clock=True, full_metrics_page=full)
    async with SimCluster(config) as sim:
        await sim.advance(12)
        sim.add_fault("partition_store", 1)
        await sim.advance(4)
        async with httpx.AsyncClient() as http:
            page = (await http.get(sim.store_status_urls[2] + "/metrics")).text
    reader = ExpositionReader(FAMILIES)
    assert reader.parse(page, 0.0).samples == _reference(page, 0.0, FAMILIES)
    everything = dict.fromkeys(
        {ln.split("{")[0].split()[0] for ln in page.splitlines() if ln and ln[0] != "#"}
    )
    assert ExpositionReader(everything).parse(page, 0.0).samples == _reference(page, 0.0, None)


@pytest.mark.parametrize(
    "page",
    [
        # an untyped wanted family right after an unwanted typed one: no comment between
        "# TYPE other gauge\nother 1\nother 2\nfam_total 3\n",
        '# TYPE other gauge\nother 1\nfam_total 3\nfam_total{a="b"} 4\n# TYPE z gauge\nz 1\n',
        # samples before any comment, blank lines, CRLF, a '#' inside a label value
        'fam_total 1\r\n\n# TYPE fam_total counter\nfam_total{a="x\\n#y"} 2\n\n',
        '# HELP other x\n# TYPE other gauge\nother{a="#"} 1\n# TYPE fam counter\nfam 5\n',
        # a HELP with no TYPE: the run is read in full
        "# TYPE a gauge\na 1\n# HELP fam_total x\nfam_total 7\n",
    ],
    ids=["untyped-last", "untyped-middle", "crlf-hash", "hash-label", "help-only"],
)
def test_reader_reads_runs_that_mix_families(page):
    from operator_tikv.metrics.exposition import ExpositionReader

    got = ExpositionReader(["fam"]).parse(page, 0.0).samples
    assert got == _reference(page, 0.0, ["fam"]) and got


def test_reader_renames_untotalled_counters_and_rejects_bad_lines():
    from operator_tikv.metrics.exposition import ExpositionReader

    page = '# TYPE odd_count counter\nodd_count{a="x y}"} 4\nodd_count 1 1700000000000\n'
    reader = ExpositionReader(["odd_count"])
    assert reader.parse(page, 0.0).samples == _reference(page, 0.0, ["odd_count"])
    assert reader.parse(page, 0.0).samples == {"odd_count_total": {(("a", "x y}"),): 4.0, (): 1.0}}
    for bad in ('odd_count{a="x" 1\n', "odd_count\n", "odd_count 1_000\n", 'odd_count{a="b"} x\n'):
        with pytest.raises(ValueError):
            reader.parse(bad, 0.0)
        with pytest.raises(ValueError):
            parse_exposition(bad, 0.0, ["odd_count"])


_label_text = st.text(alphabet=st.sampled_from([*'ab {}=,"\\\n#', "é"]), max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(_label_text, min_size=1, max_size=3),
    number=st.one_of(
        st.floats(allow_nan=False), st.integers(-(2**70), 2**70), st.sampled_from(["NaN"])
    ),
)
def test_reader_matches_the_parser_on_any_label_values(values, number):
    from operator_tikv.metrics.exposition import ExpositionReader

    def esc(v):
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    labels = ",".join(f'l{i}="{esc(v)}"' for i, v in enumerate(values))
    page = f"# TYPE fam_total counter\nfam_total{{{labels}}} {number}\nfam_total {number}\n"
    got = ExpositionReader(["fam"]).parse(page, 0.0).samples
    want = _reference(page, 0.0, ["fam"])
    assert got.keys() == want.keys()
    for name in want:
        assert got[name].keys() == want[name].keys()
        for key, value in want[name].items():
            assert got[name][key] == value or (math.isnan(value) and math.isnan(got[name][key]))


async def test_scrape_budget_reads_a_store_with_an_overdue_heartbeat_first(fake_pd, mock_http, tk):
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def stores(silent_since=None):
        out = []
        for i in range(1, 11):
            beat = t0 + timedelta(seconds=i)  # heartbeats spread over the 10 s period
            if silent_since is not None and i == 9:
                beat = silent_since
            out.append(
                TikvStore(
                    id=i,
                    address=f"tikv{i}:20160",
                    state=StoreState.UP,
                    status_address=f"tikv{i}:20180",
                    last_heartbeat=beat,
                )
            )
        return out

    for i in range(1, 11):
        fake_pd.metrics[f"tikv{i}:20180"] = tk.metrics_page()
    direct = DirectMetrics(mock_http, budget=3)

    def scraped():
        assert all(r.headers["connection"] == "close" for r in fake_pd.calls)
        hosts = sorted(int(r.url.host[4:]) for r in fake_pd.calls)
        fake_pd.calls.clear()
        return hosts

    await direct.collect(stores())
    assert scraped() == [1, 2, 3]
    await direct.collect(stores(silent_since=t0 - timedelta(seconds=1.5)))  # 11.5 s behind
    assert scraped() == [4, 5, 6]
    await direct.collect(stores(silent_since=t0 - timedelta(seconds=3)))  # 13 s behind
    assert scraped() == [7, 8, 9]
    await direct.collect(stores(silent_since=t0 - timedelta(seconds=3)))
    assert 9 in scraped()


async def test_scrape_budget_reads_a_store_its_peers_cannot_reach_first(fake_pd, mock_http, tk):
    stores = [_store(i, f"tikv{i}:20180") for i in range(1, 10)]
    for i in range(1, 10):
        fake_pd.metrics[f"tikv{i}:20180"] = tk.metrics_page()
    now = [0.0]
    direct = DirectMetrics(mock_http, budget=3, clock=lambda: now[0])

    async def scraped():
        now[0] += 2
        await direct.collect(stores)
        hosts = sorted(int(r.url.host[4:]) for r in fake_pd.calls)
        fake_pd.calls.clear()
        return hosts

    assert [await scraped() for _ in range(3)] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    for i in (1, 2, 3):
        fake_pd.metrics[f"tikv{i}:20180"] = _with_reports(
            tk.metrics_page(), {("unreachable", 8): 40}
        )
    assert await scraped() == [1, 2, 3]
    assert direct.choose(stores)[0].id == 8
    assert await scraped() == [4, 5, 8]


async def test_a_tick_right_after_another_takes_its_rate_from_an_older_read(fake_pd, mock_http, tk):
    now = [0.0]
    direct = DirectMetrics(mock_http, clock=lambda: now[0], min_rate_window_s=1.5)
    stores = [_store(1, "tikv1:20180")]

    async def qps_at(t: float, grpc_count: int) -> float | None:
        now[0] = t
        fake_pd.metrics["tikv1:20180"] = tk.metrics_page(grpc_count=grpc_count)
        return (await direct.collect(stores)).by_store[1].qps

    assert await qps_at(0.0, 1000) is None
    assert await qps_at(2.0, 1200) == pytest.approx(100)
    # 0.3 s later the counters have not moved: not a drop to 0, the rate since t=0.
    assert await qps_at(2.3, 1200) == pytest.approx(200 / 2.3)
    assert await qps_at(4.0, 1400) == pytest.approx(200 / 1.7)
    assert await qps_at(4.5, 1450) == pytest.approx(250 / 2.2)  # base: the read at 2.3


def _with_stall_reasons(page, counts):
    """The page with TiKV's ``tikv_engine_write_stall_reason`` gauges, ``{(db, type): count}``
    (registered in engine_rocks rocks_metrics.rs, after ``tikv_engine_write_stall``)."""
    lines = [
        "# HELP tikv_engine_write_stall_reason QPS of each reason which cause tikv write stall",
        "# TYPE tikv_engine_write_stall_reason gauge",
    ]
    for (db, reason), value in counts.items():
        lines.append(f'tikv_engine_write_stall_reason{{db="{db}",type="{reason}"}} {value}')
    return page + "\n".join(lines) + "\n"


QUIET_REASONS = {
    ("kv", "level0_file_limit_slowdown"): 4,
    ("kv", "level0_file_limit_stop"): 0,
    ("kv", "pending_compaction_bytes_slowdown"): 0,
    ("raft", "memtable_count_limit_slowdown"): 1,
}


def test_stall_reasons_by_type_from_two_reads(tk):
    from operator_tikv.metrics.direct import FAMILIES

    def read(at, counts, **page):
        return parse_exposition(_with_stall_reasons(tk.metrics_page(**page), counts), at, FAMILIES)

    first = read(0.0, QUIET_REASONS, write_stall=5)
    # The reason lines start with the stall family's name: each goes to its own family.
    assert compute_store_metrics(1, None, first).write_stall == 5
    assert compute_store_metrics(1, None, first).write_stall_reasons_per_s is None
    quiet = read(10.0, QUIET_REASONS)
    assert compute_store_metrics(1, first, quiet).write_stall_reasons_per_s == {}
    stalled = read(
        20.0,
        {
            **QUIET_REASONS,
            ("kv", "level0_file_limit_slowdown"): 9,
            ("raft", "memtable_count_limit_slowdown"): 2,
            # New since the last read: no base, its count is not this window's.
            ("kv", "memtable_count_limit_stop"): 50,
        },
    )
    assert compute_store_metrics(1, quiet, stalled).write_stall_reasons_per_s == {
        "level0_file_limit_slowdown": 0.5,
        "memtable_count_limit_slowdown": 0.1,
    }
    # TiKV restarted: RocksDB counts again from zero.
    restarted = read(30.0, {("kv", "level0_file_limit_slowdown"): 3})
    assert compute_store_metrics(1, stalled, restarted).write_stall_reasons_per_s == {
        "level0_file_limit_slowdown": 0.3
    }
    # An older TiKV without the family: not read, not "no stall".
    bare = parse_exposition(tk.metrics_page(), 40.0, FAMILIES)
    assert compute_store_metrics(1, restarted, bare).write_stall_reasons_per_s is None


async def test_stall_reasons_rate_spans_tikvs_metric_flushes(fake_pd, mock_http, tk):
    """TiKV sets the gauges every 10 s: reads 2 s apart still see the reason counting."""
    now = [0.0]
    direct = DirectMetrics(mock_http, clock=lambda: now[0])
    stores = [_store(1, "tikv1:20180")]

    async def reasons_at(t: float, count: int) -> dict[str, float] | None:
        now[0] = t
        counts = {**QUIET_REASONS, ("kv", "level0_file_limit_slowdown"): count}
        fake_pd.metrics["tikv1:20180"] = _with_stall_reasons(tk.metrics_page(), counts)
        return (await direct.collect(stores)).by_store[1].write_stall_reasons_per_s

    assert await reasons_at(0.0, 4) is None
    assert await reasons_at(2.0, 4) == {}
    assert await reasons_at(4.0, 5) == {"level0_file_limit_slowdown": pytest.approx(1 / 4)}
    # No flush between these two reads: the count since the read at 0 s still shows.
    assert await reasons_at(6.0, 5) == {"level0_file_limit_slowdown": pytest.approx(1 / 6)}
    for t in (8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 22.0):
        got = await reasons_at(t, 5)
    # At 22 s the base is the read at 2 s (the newest 20 s old): one step in 20 s.
    assert got == {"level0_file_limit_slowdown": pytest.approx(1 / 20)}
    # Once the step is older than the window, the reason no longer counts.
    assert await reasons_at(26.0, 5) == {}
    assert len(direct._reasons[1]) <= 12
    direct.prune(set())
    assert direct._reasons == {}


def test_reader_matches_the_parser_with_stall_reasons(tk):
    from operator_tikv.metrics.direct import FAMILIES
    from operator_tikv.metrics.exposition import ExpositionReader

    page = _with_stall_reasons(tk.metrics_page(write_stall=7), QUIET_REASONS)
    got = ExpositionReader(FAMILIES).parse(page, 1.0).samples
    assert got == _reference(page, 1.0, FAMILIES)
    assert len(got["tikv_engine_write_stall_reason"]) == len(QUIET_REASONS)
    assert list(got["tikv_engine_write_stall"].values()) == [7]
