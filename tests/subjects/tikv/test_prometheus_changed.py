"""The Prometheus tick asks only for the stores scraped since the previous answer.

Prometheus is a mock here: each tick's answer is given by the test, and the tests read
the PromQL the source sent. The real binary's side is in test_prometheus_metrics.py.
"""

from __future__ import annotations

import httpx
import pytest
from operator_tikv.metrics.base import MetricsResult
from operator_tikv.metrics.prometheus import (
    FIELD_LABEL,
    SCRAPE_END,
    UNREACHABLE,
    PrometheusError,
    PrometheusMetrics,
)

from operator_tui.core.types import Store, StoreState

STORES = [
    Store(1, "tikv1:20160", StoreState.UP, status_address="tikv1:20180"),
    Store(2, "tikv2:20160", StoreState.UP, status_address="tikv2:20180"),
]
FILTER = "and on(instance)"


def series(name: str, instance: str, value: float | str, at: float, **labels: str) -> dict:
    metric = {"instance": instance, FIELD_LABEL: name, **labels}
    return {"metric": metric, "value": [at, str(value)]}


def scrape(instance: str, at: float, ended: float, **fields: float | str) -> list[dict]:
    """A target scraped (``up`` 1) whose last scrape ended at ``ended``, with its figures."""
    out = [series("up", instance, 1, at), series("scraped_at", instance, ended, at)]
    out += [series(name, instance, value, at) for name, value in fields.items()]
    return out


class FakePrometheus:
    """Answers each query with the next queued result and keeps the PromQL it was sent."""

    def __init__(self) -> None:
        self.answers: list[list[dict] | httpx.Response | Exception] = []
        # Answers to one field's own query (the per-field fallback), by PromQL.
        self.by_query: dict[str, list[dict] | httpx.Response] = {}
        self.seen: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params["query"]
        self.seen.append(query)
        answer = self.by_query[query] if query in self.by_query else self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json={"status": "success", "data": {"result": answer}})


@pytest.fixture
async def prom():
    fake = FakePrometheus()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as http:
        yield fake, PrometheusMetrics(http, "http://prom:9090", margin_s=1.0)


async def test_first_tick_full_then_only_what_was_scraped_since(prom):
    fake, source = prom
    fake.answers.append(
        scrape("tikv1:20180", 1000.25, 999.5, qps=100, used_bytes=10)
        + scrape("tikv2:20180", 1000.25, 998.75, qps=200, used_bytes=20)
    )
    first = await source.collect(STORES)
    assert fake.seen[0] == source.combined() and FILTER not in fake.seen[0]
    assert first.fresh == {1, 2} and first.by_store[2].qps == 200

    fake.answers.append(
        [
            *scrape("tikv1:20180", 1002.25, 1001.5, qps=150),  # refreshed, no used_bytes now
            series("up", "tikv2:20180", 1, 1002.25),  # not scraped since: only its up
        ]
    )
    second = await source.collect(STORES)
    # T is Prometheus' own evaluation time of the previous answer, minus the margin.
    assert fake.seen[1] == source.combined(since=999.25)
    assert f"({SCRAPE_END}) > 999.250" in fake.seen[1]
    assert fake.seen[1].count(FILTER) == len(source.queries) - 1  # every field but up
    assert 'label_replace(up, "operator_field", "up", "", "")' in fake.seen[1]
    one, two = second.by_store[1], second.by_store[2]
    assert one.qps == 150 and one.used_bytes is None
    assert two.qps == 200 and two.used_bytes == 20 and two.reachable
    assert second.fresh == {1} and second.is_fresh(1) and not second.is_fresh(2)

    fake.answers.append([series("up", "tikv1:20180", 1, 1004.25)])
    third = await source.collect(STORES)
    assert fake.seen[2] == source.combined(since=1001.25)
    assert third.by_store[1].qps == 150
    assert "not scraped by Prometheus" in third.by_store[2].error
    assert third.by_store[2].qps is None and third.by_store[2].used_bytes is None
    assert third.fresh == set() and not any(third.is_fresh(s.id) for s in STORES)


async def test_a_scrape_asked_again_within_the_margin_counts_once(prom):
    fake, source = prom
    fake.answers.append(scrape("tikv1:20180", 1000.0, 999.8, qps=1))
    fake.answers.append(scrape("tikv1:20180", 1002.0, 999.8, qps=1.01))
    fake.answers.append(scrape("tikv1:20180", 1004.0, 1003.9, qps=2))
    assert (await source.collect(STORES[:1])).fresh == {1}
    again = await source.collect(STORES[:1])
    assert FILTER in fake.seen[1] and again.fresh == set() and again.by_store[1].qps == 1.01
    assert (await source.collect(STORES[:1])).fresh == {1}


async def test_a_failing_scrape_is_unreachable_and_keeps_nothing_stale(prom):
    fake, source = prom
    fake.answers.append(
        scrape("tikv1:20180", 1000.0, 999.0, qps=5, slow_score=1)
        + scrape("tikv2:20180", 1000.0, 999.0, qps=5, slow_score=1)
    )
    fake.answers.append(
        [
            series("up", "tikv1:20180", 1, 1002.0),
            series("up", "tikv2:20180", 0, 1002.0),
            series("scraped_at", "tikv2:20180", 1001.5, 1002),
            series("qps", "tikv2:20180", 4, 1002.0),  # a rate still has older samples
        ]
    )
    await source.collect(STORES)
    result = await source.collect(STORES)
    down = result.by_store[2]
    assert not down.reachable and "up=0" in down.error
    assert down.slow_score is None and down.qps == 4
    assert down.unreachable_reports_per_s is None
    assert result.fresh == {2} and result.by_store[1].slow_score == 1


async def test_unreachable_reports_come_with_their_instance(prom):
    fake, source = prom
    reports = [
        series(UNREACHABLE, "tikv1:20180", 20, 1000.0, store_id="2"),
        series(UNREACHABLE, "tikv1:20180", 0, 1000.0, store_id="3"),
        series(UNREACHABLE, "tikv2:20180", 7, 1000.0, store_id="1"),
    ]
    fake.answers.append(
        scrape("tikv1:20180", 1000, 999) + scrape("tikv2:20180", 1000, 999) + reports
    )
    fake.answers.append(
        [*scrape("tikv1:20180", 1002, 1001.5), series("up", "tikv2:20180", 1, 1002.0)]
    )
    first = await source.collect(STORES)
    assert first.by_store[1].unreachable_reports_per_s == {2: 20.0}
    second = await source.collect(STORES)
    assert second.by_store[1].unreachable_reports_per_s == {}  # refreshed: reports stopped
    assert second.by_store[2].unreachable_reports_per_s == {1: 7.0}  # kept


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"status": "success", "data": {"result": [{"value": [1]}]}}),
    ],
    ids=["unreachable", "not-json", "bad-shape"],
)
async def test_an_error_asks_for_everything_next_tick(prom, failure):
    fake, source = prom
    fake.answers.append(scrape("tikv1:20180", 1000.0, 999.0, qps=1))
    fake.answers.append(failure)
    fake.answers.append(scrape("tikv1:20180", 1004.0, 999.0, qps=1))
    await source.collect(STORES[:1])
    if isinstance(failure, Exception):
        with pytest.raises(PrometheusError):
            await source.collect(STORES[:1])
    else:
        # A rejected combined query falls back to one query per field: up fails too here.
        fake.by_query = dict.fromkeys(source.queries.values(), failure)
        with pytest.raises(PrometheusError):
            await source.collect(STORES[:1])
    after = await source.collect(STORES[:1])
    assert fake.seen[-1] == source.combined()
    # Same scrape as before the error: figures again, but no second history point.
    assert after.by_store[1].qps == 1 and after.fresh == set()


async def test_rejected_combined_query_falls_back_per_field_then_full(prom):
    fake, source = prom
    fake.answers.append(scrape("tikv1:20180", 1000.0, 999.0, qps=1))
    fake.answers.append(httpx.Response(400, json={"status": "error", "error": "too long"}))
    for name, expr in source.queries.items():
        value = {"up": 1, "qps": 3}.get(name)
        row = {"metric": {"instance": "tikv1:20180"}, "value": [1, value]}
        fake.by_query[expr] = [] if value is None else [row]
    fake.answers.append(scrape("tikv1:20180", 1004.0, 1003.0, qps=4))
    await source.collect(STORES[:1])
    fallback = await source.collect(STORES[:1])
    assert len(fake.seen) == 2 + len(source.queries)
    assert fallback.by_store[1].qps == 3 and fallback.fresh == {1} and fallback.errors == []
    await source.collect(STORES[:1])
    assert fake.seen[-1] == source.combined()


async def test_a_target_without_figures_gets_a_full_query_next_tick(prom):
    fake, source = prom
    fake.answers.append(scrape("tikv1:20180", 1000.0, 999.0, qps=1))
    # tikv2 appears in up, but its scrape ended before T: the filter did not cover it.
    fake.answers.append(
        [series("up", "tikv1:20180", 1, 1002.0), series("up", "tikv2:20180", 1, 1002.0)]
    )
    fake.answers.append(
        scrape("tikv1:20180", 1004.0, 999.0, qps=1) + scrape("tikv2:20180", 1004, 998.9, qps=9)
    )
    await source.collect(STORES)
    second = await source.collect(STORES)
    assert second.by_store[2].reachable and second.by_store[2].qps is None
    assert 2 not in second.fresh
    third = await source.collect(STORES)
    assert fake.seen[2] == source.combined()
    assert third.by_store[2].qps == 9 and third.fresh == {2}


async def test_prometheus_clock_going_back_asks_for_everything(prom):
    fake, source = prom
    fake.answers.append(scrape("tikv1:20180", 1000.0, 999.0, qps=1))
    fake.answers.append([series("up", "tikv1:20180", 1, 500.0)])
    fake.answers.append(scrape("tikv1:20180", 502.0, 501.0, qps=2))
    await source.collect(STORES[:1])
    await source.collect(STORES[:1])
    assert FILTER in fake.seen[1]
    after = await source.collect(STORES[:1])
    assert fake.seen[2] == source.combined() and after.by_store[1].qps == 2


async def test_an_empty_answer_asks_for_everything_next_tick(prom):
    fake, source = prom
    fake.answers += [[], scrape("tikv1:20180", 1000.0, 999.0, qps=1)]
    empty = await source.collect(STORES[:1])
    assert "not scraped" in empty.by_store[1].error
    await source.collect(STORES[:1])
    assert fake.seen == [source.combined(), source.combined()]


async def test_one_store_asked_alone_does_not_take_the_others_freshness(prom):
    fake, source = prom
    fake.answers.append(
        scrape("tikv1:20180", 1000, 999, qps=1) + scrape("tikv2:20180", 1000, 999, qps=2)
    )
    fake.answers.append(
        scrape("tikv1:20180", 1002, 1001.5, qps=3) + scrape("tikv2:20180", 1002, 1001.5, qps=4)
    )
    fake.answers += [
        [series("up", "tikv1:20180", 1, 1003.0), series("up", "tikv2:20180", 1, 1003.0)]
    ] * 2
    await source.collect(STORES)
    alone = await source.collect(STORES[1:])
    assert alone.fresh == {2}
    tick = await source.collect(STORES)
    # Store 1's scrape came in the answer to the lone call: this tick still counts it once.
    assert tick.by_store[1].qps == 3 and tick.fresh == {1}
    assert (await source.collect(STORES)).fresh == set()


def test_fresh_exact_means_empty_is_none():
    old = MetricsResult(by_store={1: None})  # type: ignore[dict-item]
    assert old.is_fresh(1) and not old.is_fresh(2)
    exact = MetricsResult(by_store={1: None}, fresh_exact=True)  # type: ignore[dict-item]
    assert not exact.is_fresh(1)
    exact.fresh.add(1)
    assert exact.is_fresh(1)
