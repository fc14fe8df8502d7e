"""The Prometheus tick asks only for the stores scraped since the previous answer.

Prometheus is a mock here: each query's answer is given by the test, and the tests read
the PromQL the source sent. The real binary's side is in test_prometheus_metrics.py.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from operator_tikv.metrics.base import MetricsResult
from operator_tikv.metrics.prometheus import (
    FIELD_LABEL,
    UNREACHABLE,
    PrometheusError,
    PrometheusMetrics,
    instance_matcher,
    scrape_end,
)
from operator_tikv.records import TikvStore
from operator_tikv.states import StoreState

STORES = [
    TikvStore(1, "tikv1:20160", StoreState.UP, status_address="tikv1:20180"),
    TikvStore(2, "tikv2:20160", StoreState.UP, status_address="tikv2:20180"),
    TikvStore(3, "tikv3:20160", StoreState.UP, status_address="tikv3:20180"),
]


def series(name: str, instance: str, value: float | str, at: float, **labels: str) -> dict:
    metric = {"instance": instance, FIELD_LABEL: name, **labels}
    return {"metric": metric, "value": [at, str(value)]}


def up(at: float, *instances: str, value: int = 1) -> list[dict]:
    return [series("up", i, value, at) for i in instances]


def targets(at: float, count: int) -> dict:
    """``count(up)``, tagged: how many targets Prometheus has."""
    return {"metric": {FIELD_LABEL: "targets"}, "value": [at, str(count)]}


def scrape(instance: str, at: float, ended: float, **fields: float | str) -> list[dict]:
    """A target scraped (``up`` 1) whose last scrape ended at ``ended``, with its figures."""
    out = [series("up", instance, 1, at), series("scraped_at", instance, ended, at)]
    out += [series(name, instance, value, at) for name, value in fields.items()]
    return out


def full(at: float, **ended: float) -> list[dict]:
    """A first answer: tikvN scraped, its last scrape ended at ``ended["tikvN"]``, qps N."""
    out: list[dict] = []
    for n, (name, end) in enumerate(ended.items(), 1):
        out += scrape(f"{name}:20180", at, end, qps=n, used_bytes=10 * n)
    return out


class FakePrometheus:
    """Answers each query with the next queued result and keeps what it was sent."""

    def __init__(self) -> None:
        self.answers: list[list[dict] | httpx.Response | Exception] = []
        # Answers to one field's own query (the per-field fallback), by PromQL.
        self.by_query: dict[str, list[dict] | httpx.Response] = {}
        self.seen: list[tuple[str, str]] = []

    @property
    def queries(self) -> list[str]:
        return [query for _, query in self.seen]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # as a real answer does, lets other tasks run
        if request.method == "POST":
            query = httpx.QueryParams(request.content.decode())["query"]
        else:
            query = request.url.params["query"]
        self.seen.append((request.method, query))
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
    fake.answers.append(full(1000.25, tikv1=999.5, tikv2=998.75, tikv3=999))
    first = await source.collect(STORES)
    assert fake.seen == [("GET", source.combined())]
    assert first.fresh == {1, 2, 3} and first.by_store[2].qps == 2

    fake.answers += [
        # How many targets; the scrape end of tikv1 only (the others: before T).
        [targets(1002.25, 3), series("scraped_at", "tikv1:20180", 1001.5, 1002.25)],
        scrape("tikv1:20180", 1002.3, 1001.5, qps=150),  # its figures: no used_bytes now
    ]
    second = await source.collect(STORES)
    # T is Prometheus' own evaluation time of the previous answer, minus the margin.
    assert fake.seen[1] == ("GET", source.changed_since(999.25))
    assert f"({scrape_end()}) > 999.250" in fake.seen[1][1]
    assert fake.seen[2] == ("POST", source.restricted(["tikv1:20180"]))
    narrow = fake.seen[2][1]
    assert (
        "tikv2" not in narrow and narrow.count('instance=~"tikv1:20180"') == len(source.queries) + 2
    )
    one, two = second.by_store[1], second.by_store[2]
    assert one.qps == 150 and one.used_bytes is None
    assert two.qps == 2 and two.used_bytes == 20 and two.reachable
    assert second.fresh == {1} and second.is_fresh(1) and not second.is_fresh(2)

    # tikv2 is no longer a target: one fewer, so everything is asked for at once.
    fake.answers += [
        [targets(1004.25, 2)],
        [
            *scrape("tikv1:20180", 1004.3, 1001.5, qps=150),
            *scrape("tikv3:20180", 1004.3, 999, qps=3),
        ],
    ]
    third = await source.collect(STORES)
    assert fake.seen[3] == ("GET", source.changed_since(1001.25))
    assert fake.seen[4] == ("GET", source.combined()) and len(fake.seen) == 5
    assert third.by_store[1].qps == 150 and third.by_store[3].qps == 3
    assert "not scraped by Prometheus" in third.by_store[2].error
    assert third.by_store[2].qps is None and third.by_store[2].used_bytes is None
    assert third.fresh == set() and not any(third.is_fresh(s.id) for s in STORES)


async def test_a_scrape_asked_again_within_the_margin_counts_once(prom):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.8, tikv2=999.0, tikv3=999.0),
        [targets(1002.0, 3), series("scraped_at", "tikv1:20180", 999.8, 1002.0)],
        [targets(1004.0, 3), series("scraped_at", "tikv1:20180", 1003.9, 1004.0)],
        scrape("tikv1:20180", 1004.0, 1003.9, qps=2),
    ]
    assert (await source.collect(STORES)).fresh == {1, 2, 3}
    again = await source.collect(STORES)
    # Its end is the one already read: not asked again, no second history point.
    assert len(fake.seen) == 2 and again.fresh == set() and again.by_store[1].qps == 1
    latest = await source.collect(STORES)
    assert fake.seen[-1] == ("POST", source.restricted(["tikv1:20180"]))
    assert latest.fresh == {1} and latest.by_store[1].qps == 2


async def test_a_failing_scrape_is_unreachable_and_keeps_nothing_stale(prom):
    fake, source = prom
    fake.answers += [
        [
            *scrape("tikv1:20180", 1000.0, 999.0, qps=5, slow_score=1),
            *scrape("tikv2:20180", 1000.0, 999.0, qps=5, slow_score=1),
        ],
        [targets(1002.0, 2), series("scraped_at", "tikv2:20180", 1001.5, 1002)],
        [
            *up(1002.0, "tikv2:20180", value=0),
            series("scraped_at", "tikv2:20180", 1001.5, 1002),
            series("qps", "tikv2:20180", 4, 1002.0),  # a rate still has older samples
        ],
    ]
    await source.collect(STORES[:2])
    result = await source.collect(STORES[:2])
    down = result.by_store[2]
    assert not down.reachable and "up=0" in down.error
    assert down.slow_score is None and down.qps == 4
    assert down.unreachable_reports_per_s is None
    assert result.fresh == {2} and result.by_store[1].slow_score == 1


async def test_up_comes_from_the_figures_answer_when_newer(prom):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.0, tikv2=999.0, tikv3=999.0),
        [targets(1002.0, 3), series("scraped_at", "tikv2:20180", 1001.0, 1002.0)],
        # Scraped again between the two queries, and failing now.
        [*up(1002.1, "tikv2:20180", value=0), series("scraped_at", "tikv2:20180", 1002.05, 1002)],
    ]
    await source.collect(STORES)
    result = await source.collect(STORES)
    assert not result.by_store[2].reachable and result.by_store[2].qps is None


async def test_unreachable_reports_come_with_their_instance(prom):
    fake, source = prom
    reports = [
        series(UNREACHABLE, "tikv1:20180", 20, 1000.0, store_id="2"),
        series(UNREACHABLE, "tikv1:20180", 0, 1000.0, store_id="3"),
        series(UNREACHABLE, "tikv2:20180", 7, 1000.0, store_id="1"),
    ]
    fake.answers += [
        [*full(1000, tikv1=999, tikv2=999, tikv3=999), *reports],
        [targets(1002.0, 3), series("scraped_at", "tikv1:20180", 1001.5, 1002)],
        scrape("tikv1:20180", 1002, 1001.5),
    ]
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
    fake.answers += [full(1000.0, tikv1=999.0), failure, full(1004.0, tikv1=999.0)]
    await source.collect(STORES[:1])
    if not isinstance(failure, Exception):
        # Asked in full at once, rejected too; then one query per field: up fails as well.
        fake.answers.insert(1, failure)
        fake.by_query = dict.fromkeys(source.queries.values(), failure)
    with pytest.raises(PrometheusError):
        await source.collect(STORES[:1])
    after = await source.collect(STORES[:1])
    assert fake.seen[-1] == ("GET", source.combined())
    # Same scrape as before the error: figures again, but no second history point.
    assert after.by_store[1].qps == 1 and after.fresh == set()


async def test_a_rejected_narrow_query_is_asked_in_full_in_the_same_tick(prom):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.0, tikv2=999.0, tikv3=999.0),
        [targets(1002.0, 3), series("scraped_at", "tikv1:20180", 1001.0, 1002.0)],
        httpx.Response(405, text="method not allowed"),
        full(1002.5, tikv1=1001.0, tikv2=999.0, tikv3=999.0),
    ]
    await source.collect(STORES)
    result = await source.collect(STORES)
    assert [m for m, _ in fake.seen] == ["GET", "GET", "POST", "GET"]
    assert fake.seen[-1][1] == source.combined()
    assert result.errors == [] and result.fresh == {1}


async def test_rejected_combined_query_falls_back_per_field_then_full(prom):
    fake, source = prom
    fake.answers.append(full(1000.0, tikv1=999.0))
    fake.answers.append([targets(1002.0, 1), series("scraped_at", "tikv1:20180", 1001.0, 1002.0)])
    fake.answers.append(httpx.Response(400, json={"status": "error", "error": "too long"}))
    fake.answers.append(httpx.Response(400, json={"status": "error", "error": "too long"}))
    for name, expr in source.queries.items():
        value = {"up": 1, "qps": 3}.get(name)
        row = {"metric": {"instance": "tikv1:20180"}, "value": [1, value]}
        fake.by_query[expr] = [] if value is None else [row]
    fake.answers.append(full(1004.0, tikv1=1003.0))
    await source.collect(STORES[:1])
    fallback = await source.collect(STORES[:1])
    assert len(fake.seen) == 4 + len(source.queries)
    assert fallback.by_store[1].qps == 3 and fallback.fresh == {1} and fallback.errors == []
    await source.collect(STORES[:1])
    assert fake.seen[-1] == ("GET", source.combined())


async def test_a_new_target_comes_with_its_first_scrape(prom):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.0, tikv3=999.0),
        [targets(1002.0, 3), series("scraped_at", "tikv2:20180", 1001.5, 1002.0)],
        scrape("tikv2:20180", 1002.0, 1001.5, qps=9),
    ]
    await source.collect(STORES)
    second = await source.collect(STORES)
    assert fake.seen[2] == ("POST", source.restricted(["tikv2:20180"]))
    assert second.by_store[2].qps == 9 and second.fresh == {2}


@pytest.mark.parametrize(
    "head",
    [
        [targets(1002.0, 3)],  # a target we never saw, its scrape ended before T
        [targets(1002.0, 2), series("scraped_at", "tikv2:20180", 1001.5, 1002.0)],  # 1 in, 1 out
    ],
    ids=["missed", "swapped"],
)
async def test_targets_that_do_not_add_up_are_asked_in_full_in_the_same_tick(prom, head):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.0, tikv3=999.0),
        head,
        [
            *scrape("tikv1:20180", 1002.1, 999.0, qps=1),
            *scrape("tikv2:20180", 1002.1, 998.9, qps=9),
        ],
    ]
    await source.collect(STORES)
    second = await source.collect(STORES)
    assert fake.seen[2] == ("GET", source.combined())
    assert second.by_store[2].qps == 9 and second.fresh == {2}
    assert "not scraped by Prometheus" in second.by_store[3].error


async def test_all_targets_scraped_since_asks_without_a_matcher(prom):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.0, tikv2=999.0, tikv3=999.0),
        [
            targets(1010.0, 3),
            series("scraped_at", "tikv1:20180", 1009.0, 1010.0),
            series("scraped_at", "tikv2:20180", 1009.0, 1010.0),
            series("scraped_at", "tikv3:20180", 1009.5, 1010.0),
        ],
        full(1010.1, tikv1=1009.0, tikv2=1009.0, tikv3=1009.5),
    ]
    await source.collect(STORES)
    result = await source.collect(STORES)
    assert fake.seen[2] == ("GET", source.combined())
    assert result.fresh == {1, 2, 3} and result.by_store[3].qps == 3


async def test_prometheus_clock_going_back_asks_for_everything(prom):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.0),
        [targets(500.0, 1)],
        full(500.1, tikv1=499.0),
    ]
    await source.collect(STORES[:1])
    after = await source.collect(STORES[:1])
    assert fake.queries[1:] == [source.changed_since(999.0), source.combined()]
    assert after.by_store[1].qps == 1 and after.fresh == {1}


async def test_an_empty_answer_asks_for_everything_next_tick(prom):
    fake, source = prom
    fake.answers += [[], full(1000.0, tikv1=999.0)]
    empty = await source.collect(STORES[:1])
    assert "not scraped" in empty.by_store[1].error
    await source.collect(STORES[:1])
    assert fake.queries == [source.combined(), source.combined()]


async def test_one_store_asked_alone_does_not_take_the_others_freshness(prom):
    fake, source = prom
    both = ("tikv1:20180", "tikv2:20180")
    fake.answers += [
        full(1000, tikv1=999, tikv2=999),
        [targets(1002, 2), *(series("scraped_at", i, 1001.5, 1002) for i in both)],
        [*scrape("tikv1:20180", 1002, 1001.5, qps=3), *scrape("tikv2:20180", 1002, 1001.5)],
        [targets(1003.0, 2)],
        [targets(1004.0, 2)],
    ]
    source.margin_s = 0.1
    await source.collect(STORES[:2])
    alone = await source.collect(STORES[1:2])
    assert alone.fresh == {2}
    tick = await source.collect(STORES[:2])
    # TikvStore 1's scrape came in the answer to the lone call: this tick still counts it once.
    assert tick.by_store[1].qps == 3 and tick.fresh == {1}
    assert (await source.collect(STORES[:2])).fresh == set()


@pytest.mark.parametrize(
    ("instances", "regex"),
    [
        (
            ["10.0.1.23:20180", "10.0.2.5:20180", "10.0.1.24:20180"],
            r"10\.0\.(?:1\.23|1\.24|2\.5):20180",
        ),
        (["tikv-0.peer.svc:20180", "tikv-1.peer.svc:20180"], r"tikv\-(?:0|1)\.peer\.svc:20180"),
        (["b.x:1", "a+1:2", "b.x:1"], r"(?:a\+1:2|b\.x:1)"),
        (["ab", "abc"], "ab(?:|c)"),
        (["one:1"], "one:1"),
    ],
)
def test_instance_matcher_is_exact_and_short(instances, regex):
    matcher = instance_matcher(instances)
    assert matcher == 'instance=~"' + regex.replace("\\", "\\\\") + '"'
    pattern = re.compile(regex)
    assert all(pattern.fullmatch(i) for i in instances)
    for near in (
        "10.0.1.2:20180",
        "10.0.1.23:2018",
        "tikv-2.peer.svc:20180",
        "a",
        "abcd",
        "b.x:12",
    ):
        assert near in instances or not pattern.fullmatch(near)


def test_instance_matcher_quotes_for_promql():
    assert instance_matcher(['q"t']) == 'instance=~"q\\"t"'


async def test_calls_at_the_same_time_ask_one_after_the_other(prom):
    fake, source = prom
    fake.answers += [
        full(1000.0, tikv1=999.0, tikv2=999.0),
        [targets(1002.0, 2), series("scraped_at", "tikv1:20180", 1001.5, 1002.0)],
        scrape("tikv1:20180", 1002.0, 1001.5, qps=7),
    ]
    first, second = await asyncio.gather(source.collect(STORES[:2]), source.collect(STORES[1:2]))
    assert [m for m, _ in fake.seen] == ["GET", "GET", "POST"]
    assert first.fresh == {1, 2} and second.fresh == set()
    assert source.scrape_ends() == {"tikv1:20180": 1001.5, "tikv2:20180": 999.0}


def test_fresh_exact_means_empty_is_none():
    old = MetricsResult(by_store={1: None})  # type: ignore[dict-item]
    assert old.is_fresh(1) and not old.is_fresh(2)
    exact = MetricsResult(by_store={1: None}, fresh_exact=True)  # type: ignore[dict-item]
    assert not exact.is_fresh(1)
    exact.fresh.add(1)
    assert exact.is_fresh(1)
