"""Metrics from Prometheus, with the PromQL of TiKV's official Grafana dashboards.

The expressions are those of ``tikv_summary`` / ``tikv_trouble_shooting`` (and
the alert rules for raft log lag) without the Grafana template selectors and
the ``job`` matcher, whose value depends on how the scrape job is named.
Prometheus' ``instance`` label is the scraped status address, which PD reports
as each store's ``status_address``; ``up`` tells whether the last scrape worked.

A store's answer changes only when Prometheus scrapes it (every 15 s by default),
while the monitor ticks every few seconds. So the first tick (and the one after
an error) asks for everything in one query; each later tick asks how many
targets there are and the end of the scrapes finished since the previous answer,
then, only if some are new to us, the figures of those instances (``up``
included), every selector narrowed by an ``instance`` matcher so that Prometheus
reads their series only. A changed number of targets is asked for in full.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from operator_tikv.metrics.base import MetricsResult
from operator_tikv.pd.client import describe_transport_error
from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tikv.states import GONE

UNREACHABLE = "unreachable_reports_per_s"
STALL_REASONS = "write_stall_reasons_per_s"


def queries(window: str = "1m", matcher: str = "") -> dict[str, str]:
    """TikvStoreMetrics field -> PromQL, each grouped ``by (instance)``.

    ``matcher`` (e.g. ``instance=~"a|b"``) goes into every selector, so Prometheus reads
    only those series instead of filtering the result.
    """
    w = window

    def sel(name: str, *matchers: str) -> str:
        ms = ",".join(m for m in (matcher, *matchers) if m)
        return f"{name}{{{ms}}}" if ms else name

    grpc = 'type!="kv_gc"'
    size = "tikv_store_size_bytes"
    regions = "tikv_raftstore_region_count"
    engine = "tikv_storage_engine_async_request_duration_seconds_bucket"
    stall = sel("tikv_engine_write_stall", 'type="write_stall_percentile99"')
    reports = sel("tikv_server_report_failure_msg_total", 'type="unreachable"')
    reasons = sel("tikv_engine_write_stall_reason")
    write = sel(engine, 'type="write"')
    used, available, capacity = (
        sel(size, f'type="{t}"') for t in ("used", "available", "capacity")
    )
    region, leader = (sel(regions, f'type="{t}"') for t in ("region", "leader"))
    return {
        "qps": f"sum(rate({sel('tikv_grpc_msg_duration_seconds_count', grpc)}[{w}])) by (instance)",
        "p99_latency_ms": (
            f"histogram_quantile(0.99, sum(rate({sel('tikv_grpc_msg_duration_seconds_bucket', grpc)}"
            f"[{w}])) by (le, instance)) * 1000"
        ),
        "p99_write_latency_ms": (
            f"histogram_quantile(0.99, sum(rate({write}[{w}])) by (le, instance)) * 1000"
        ),
        "cpu_cores": f"sum(rate({sel('process_cpu_seconds_total')}[{w}])) by (instance)",
        "cpu_quota": f"sum({sel('tikv_server_cpu_cores_quota')}) by (instance)",
        "used_bytes": f"sum({used}) by (instance)",
        "available_bytes": f"sum({available}) by (instance)",
        "capacity_bytes": f"sum({capacity}) by (instance)",
        "region_count": f"sum({region}) by (instance)",
        "leader_count": f"sum({leader}) by (instance)",
        "raft_log_lag": (
            f"histogram_quantile(0.99, sum(rate({sel('tikv_raftstore_log_lag_bucket')}[{w}]))"
            " by (le, instance))"
        ),
        "write_stall": f"max(avg({stall}) by (instance, db)) by (instance)",
        "channel_full_per_s": f"sum(rate({sel('tikv_channel_full_total')}[{w}])) by (instance)",
        "scheduler_busy_per_s": (
            f"sum(rate({sel('tikv_scheduler_too_busy_total')}[{w}])) by (instance)"
        ),
        "slow_score": f"max({sel('tikv_raftstore_slow_score')}) by (instance)",
        "critical_errors_per_s": f"sum(rate({sel('tikv_critical_error_total')}[{w}])) by (instance)",
        # irate: the last scrape interval, so reports stop counting soon after the peer is back.
        UNREACHABLE: f"sum(irate({reports}[{w}])) by (instance, store_id)",
        # TiKV's "Write Stall Reason" panel (tikv_details), every engine: a gauge TiKV sets to
        # RocksDB's running count of each stall condition, so rate() as the dashboard does.
        STALL_REASONS: f"sum(rate({reasons}[{w}])) by (instance, type)",
        "up": sel("up"),
    }


_INT_FIELDS = {"used_bytes", "available_bytes", "capacity_bytes", "region_count", "leader_count"}


# Fields copied as they are onto TikvStoreMetrics (CPU is a ratio of two; reports and stall
# reasons are dicts).
_STORE_FIELDS = tuple(
    name
    for name in queries()
    if name not in ("up", "cpu_cores", "cpu_quota", UNREACHABLE, STALL_REASONS)
)

FIELD_LABEL = "operator_field"
SCRAPED_AT = "scraped_at"
TARGETS = "targets"


def scrape_end(matcher: str = "") -> str:
    """When each target's last scrape ended: its samples carry the scrape's start time and
    become visible only once the whole scrape is appended."""
    m = f"{{{matcher}}}" if matcher else ""
    return f"timestamp(up{m}) + scrape_duration_seconds{m}"


def _common_prefix(strings: list[str]) -> str:
    if not strings:
        return ""
    first, last = min(strings), max(strings)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]


def instance_matcher(instances: Iterable[str]) -> str:
    """``instance=~"..."`` matching exactly these label values.

    Their common prefix and suffix (``10.0.``, ``:20180``, a Kubernetes service's domain)
    are written once: the matcher goes into every selector of a query.
    """
    names = sorted(set(instances))
    prefix = _common_prefix(names)
    rests = [name[len(prefix) :] for name in names]
    suffix = _common_prefix([rest[::-1] for rest in rests])[::-1]
    middles = [rest[: len(rest) - len(suffix)] for rest in rests]
    alternatives = "|".join(re.escape(middle) for middle in middles)
    if len(middles) > 1:
        alternatives = f"(?:{alternatives})"
    regex = re.escape(prefix) + alternatives + re.escape(suffix)
    return 'instance=~"' + regex.replace("\\", "\\\\").replace('"', '\\"') + '"'


class PrometheusError(Exception):
    """Prometheus answered with an error or an unreadable body."""


class PrometheusUnreachable(PrometheusError):
    """Prometheus did not answer."""


def _put(out: dict[str, float | None], key: str, value: float | None) -> None:
    current = out.get(key)
    if key not in out or (value is not None and (current is None or value > current)):
        out[key] = value


def _instance_key(address: str) -> str:
    address = address.strip().lower()
    if "://" in address:
        address = address.split("://", 1)[1]
    return address.rstrip("/")


@dataclass(slots=True)
class _Scrape:
    """One instance's figures, as the answer that last covered it gave them."""

    values: dict[str, float | None] = field(default_factory=dict)
    reports: dict[int, float] = field(default_factory=dict)
    # Stall reasons counting, by TiKV's type; None when the answer had no series for it.
    stall_reasons: dict[str, float] | None = None
    # End of the scrape they come from (Prometheus' clock); None when the answer did not say.
    ended_at: float | None = None


@dataclass(slots=True)
class _Answer:
    up: dict[str, float | None] = field(default_factory=dict)
    targets: int | None = None
    ended: dict[str, float | None] = field(default_factory=dict)
    scrapes: dict[str, _Scrape] = field(default_factory=dict)
    # Instance key -> the label values seen for it in ``up``.
    labels: dict[str, list[str]] = field(default_factory=dict)


class PrometheusMetrics:
    """Runs the dashboard queries against ``/api/v1/query`` and maps instances to stores.

    A store's series only change when Prometheus scrapes it, so after a first full answer
    each tick asks only for the instances scraped since the previous answer (plus ``up`` for
    every target) and keeps the figures of the others.
    """

    name = "prometheus"

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        window: str = "1m",
        timeout_s: float = 3.0,
        margin_s: float = 1.0,
    ) -> None:
        self._http = http
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        # How far before the previous evaluation a scrape may have ended and still not have
        # been visible to it (appending a whole scrape takes time): those are asked again.
        self.margin_s = margin_s
        self.window = window
        self.queries = queries(window)
        self._evaluated_at: float | None = None
        self._up: dict[str, float | None] = {}
        self._scrapes: dict[str, _Scrape] = {}
        self._reported: dict[int, tuple[str, float | None]] = {}
        # Fields the last per-field fallback could not get: unknown, not "none".
        self._unanswered: frozenset[str] = frozenset()
        self._keys: dict[str, str] = {}
        self._built: dict[int, tuple[_Scrape | None, float | None, str, TikvStoreMetrics]] = {}
        self._lock = asyncio.Lock()

    async def _fetch(self, promql: str, *, post: bool = False) -> tuple[list[Any], float | None]:
        """Instant query: the result's items as Prometheus sent them, and when it evaluated
        them (its own clock; None for an empty answer). ``post`` for a long query."""
        url = f"{self.url}/api/v1/query"
        try:
            if post:
                response = await self._http.post(
                    url, data={"query": promql}, timeout=self.timeout_s
                )
            else:
                response = await self._http.get(
                    url, params={"query": promql}, timeout=self.timeout_s
                )
        except httpx.HTTPError as exc:
            raise PrometheusUnreachable(
                f"prometheus {self.url}: {describe_transport_error(exc)}"
            ) from None
        try:
            body: Any = response.json()
        except ValueError:
            raise PrometheusError(
                f"prometheus {self.url}/api/v1/query: HTTP {response.status_code}, not JSON"
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise PrometheusError(
                f"prometheus {self.url}/api/v1/query: {error or f'HTTP {response.status_code}'}"
            )
        try:
            result = body["data"]["result"]
            if not isinstance(result, list):
                raise TypeError("result is not a list")
            evaluated_at = float(result[0]["value"][0]) if result else None
            if evaluated_at is not None and not math.isfinite(evaluated_at):
                raise ValueError("evaluation time is not finite")
        except (KeyError, TypeError, ValueError, IndexError):
            raise self._bad_shape() from None
        return result, evaluated_at

    def _bad_shape(self) -> PrometheusError:
        return PrometheusError(f"prometheus {self.url}/api/v1/query: unexpected result shape")

    async def _query(self, promql: str) -> list[tuple[dict[str, str], float | None]]:
        """Instant query: ``(labels, value)`` per series (``None`` for NaN)."""
        out: list[tuple[dict[str, str], float | None]] = []
        try:
            for item in (await self._fetch(promql))[0]:
                value = float(item["value"][1])
                labels = item["metric"]
                if not isinstance(labels, dict):
                    raise TypeError("metric is not an object")
                out.append((labels, None if value != value else value))
        except (KeyError, TypeError, ValueError, IndexError):
            raise self._bad_shape() from None
        return out

    async def query(self, promql: str) -> dict[str, float | None]:
        """Instant query; ``{instance: value}``, the highest value when instances repeat."""
        out: dict[str, float | None] = {}
        for labels, value in await self._query(promql):
            _put(out, _instance_key(labels.get("instance", "")), value)
        return out

    def combined(self) -> str:
        """Every query in one, each tagged with its field name, joined with ``or``; with the
        end of each target's last scrape."""
        return self._tagged(self.queries, scrape_end())

    def changed_since(self, since: float) -> str:
        """How many targets there are, and the end of the last scrape of those scraped since
        ``since`` (Prometheus' clock, seconds).

        ``up`` itself changes only with a scrape, which the scrape ends report, so it comes
        with the figures of the stores scraped since; the count tells a target added or
        removed without reading ``up`` for every target on every tick.
        """
        return (
            f'label_replace(count(up), "{FIELD_LABEL}", "{TARGETS}", "", "") or '
            f'label_replace(({scrape_end()}) > {since:.3f}, "{FIELD_LABEL}", "{SCRAPED_AT}", "", "")'
        )

    def restricted(self, instances: Iterable[str]) -> str:
        """``combined()`` for these instances only: every selector carries the matcher, so
        Prometheus reads only their series."""
        matcher = instance_matcher(instances)
        return self._tagged(queries(self.window, matcher), scrape_end(matcher))

    @staticmethod
    def _tagged(fields: dict[str, str], scraped: str) -> str:
        parts = [f'label_replace({scraped}, "{FIELD_LABEL}", "{SCRAPED_AT}", "", "")']
        parts += (
            f'label_replace({expr}, "{FIELD_LABEL}", "{name}", "", "")'
            for name, expr in fields.items()
        )
        return " or ".join(parts)

    def _read(self, items: list[Any], answer: _Answer, only: str | None = None) -> None:
        """One pass over an answer's items into ``answer``: ``up``, scrape ends, figures.

        Items are tagged with their field by ``FIELD_LABEL``, or all are field ``only``.
        """
        scrapes = answer.scrapes
        keys = self._keys
        wanted = self.queries
        name = only
        try:
            for item in items:
                labels = item["metric"]
                if only is None:
                    name = labels.get(FIELD_LABEL)
                    if name not in wanted and name != SCRAPED_AT:
                        if name == TARGETS:
                            answer.targets = int(float(item["value"][1]))
                        continue
                value: float | None = float(item["value"][1])
                if value != value:
                    value = None
                instance = labels.get("instance", "")
                key = keys.get(instance)
                if key is None:
                    key = keys[instance] = _instance_key(instance)
                if name == "up" or name == SCRAPED_AT:
                    _put(answer.up if name == "up" else answer.ended, key, value)
                    seen = answer.labels.get(key)
                    if seen is None:
                        answer.labels[key] = [instance]
                    elif instance not in seen:
                        seen.append(instance)
                else:
                    scrape = scrapes.get(key)
                    if scrape is None:
                        scrape = scrapes[key] = _Scrape()
                    if name == UNREACHABLE:
                        target = labels.get("store_id", "")
                        if value and value > 0 and target.isdigit():
                            sid = int(target)
                            if value > scrape.reports.get(sid, 0.0):
                                scrape.reports[sid] = value
                    elif name == STALL_REASONS:
                        reasons = scrape.stall_reasons
                        if reasons is None:
                            reasons = scrape.stall_reasons = {}
                        reason = labels.get("type", "")
                        if value and value > 0 and reason:
                            reasons[reason] = max(value, reasons.get(reason, 0.0))
                    else:
                        _put(scrape.values, name, value)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise self._bad_shape() from None

    async def _per_field(self, errors: list[str]) -> _Answer:
        """One query per field, for a Prometheus that rejects the combined one."""
        names = list(self.queries)
        answers = await asyncio.gather(
            *(self._fetch(self.queries[n]) for n in names), return_exceptions=True
        )
        answer = _Answer()
        unanswered: set[str] = set()
        for name, got in zip(names, answers, strict=True):
            if isinstance(got, BaseException):
                if name == "up" or not isinstance(got, PrometheusError):
                    raise got
                unanswered.add(name)
                if str(got) not in errors:
                    errors.append(str(got))
                continue
            self._read(got[0], answer, only=name)
        self._unanswered = frozenset(unanswered)
        return answer

    async def _refresh(self, errors: list[str]) -> set[str]:
        """Brings ``up`` and the cached figures up to date; the instances this tick covered."""
        previous, self._evaluated_at = self._evaluated_at, None
        if previous is not None:
            try:
                return await self._refresh_changed(previous)
            except PrometheusUnreachable:
                raise
            except PrometheusError:
                pass  # asked in full below
        return await self._refresh_all(errors)

    async def _refresh_all(self, errors: list[str]) -> set[str]:
        """Everything in one query (one per field if Prometheus rejects it)."""
        try:
            items, evaluated_at = await self._fetch(self.combined())
        except PrometheusUnreachable:
            raise
        except PrometheusError:
            # Answered without scrape ends: every store counts as measured again.
            answer = await self._per_field(errors)
            evaluated_at = None
        else:
            self._unanswered = frozenset()
            answer = _Answer()
            self._read(items, answer)
        scrapes: dict[str, _Scrape] = {}
        for key in answer.up:
            scrape = answer.scrapes.get(key) or _Scrape()
            scrape.ended_at = answer.ended.get(key)
            scrapes[key] = scrape
        self._built.clear()
        if len(self._keys) > 4 * len(scrapes) + 64:
            self._keys.clear()
        self._reported = {sid: seen for sid, seen in self._reported.items() if seen[0] in scrapes}
        self._up, self._scrapes = answer.up, scrapes
        self._evaluated_at = evaluated_at
        return set(scrapes)

    async def _refresh_changed(self, previous: float) -> set[str]:
        """The figures of the instances scraped since the last tick; the others are kept.

        A changed number of targets (one added, one removed) is answered by a full query:
        the caller's, on the ``PrometheusError`` raised here.
        """
        items, evaluated_at = await self._fetch(self.changed_since(previous - self.margin_s))
        if evaluated_at is not None and evaluated_at < previous:
            raise PrometheusError("prometheus: its clock went back")
        head = _Answer()
        self._read(items, head)
        scrapes = self._scrapes
        # A scrape we have not read yet (the margin brings some we have), or a new target.
        wanted = {
            key
            for key, end in head.ended.items()
            if (known := scrapes.get(key)) is None or known.ended_at != end
        }
        targets = head.targets or 0
        if len(scrapes.keys() | wanted) != targets:
            raise PrometheusError("prometheus: targets were added or removed")
        covered: set[str] = set()
        up = self._up
        if wanted:
            detail = _Answer()
            if 10 * len(wanted) >= 9 * targets:
                # (Nearly) all of them: the plain query, without a matcher naming them all.
                self._read((await self._fetch(self.combined()))[0], detail)
                covered = set(detail.up)
            else:
                labels = [label for key in wanted for label in head.labels[key]]
                self._read((await self._fetch(self.restricted(labels), post=True))[0], detail)
                covered = wanted
            self._unanswered = frozenset()
            for key in covered:
                scrape = detail.scrapes.get(key) or _Scrape()
                scrape.ended_at = detail.ended.get(key, head.ended.get(key))
                scrapes[key] = scrape
            up = {**up, **detail.up}
        self._up = up
        self._evaluated_at = evaluated_at
        return covered

    def scrape_ends(self) -> dict[str, float | None]:
        """Instance -> end of the scrape its current figures come from (Prometheus' clock)."""
        return {key: scrape.ended_at for key, scrape in self._scrapes.items()}

    def _store_metrics(
        self, store: TikvStore, up: float | None, scrape: _Scrape | None
    ) -> TikvStoreMetrics:
        m = TikvStoreMetrics(store_id=store.id)
        if up is None:
            m.error = f"status address {store.status_address or '(none)'} not scraped by Prometheus"
        elif up < 1:
            m.reachable = False
            m.error = f"prometheus: scrape of {store.status_address} failing (up=0)"
        if scrape is None:
            return m
        values = scrape.values
        if up is not None and up >= 1 and UNREACHABLE not in self._unanswered:
            m.unreachable_reports_per_s = dict(scrape.reports)
        if up is not None and up >= 1 and scrape.stall_reasons is not None:
            m.write_stall_reasons_per_s = dict(scrape.stall_reasons)
        for name in _STORE_FIELDS:
            value = values.get(name)
            if value is not None and name in _INT_FIELDS:
                value = int(value) if math.isfinite(value) else None
            setattr(m, name, value)
        cpu = values.get("cpu_cores")
        quota = values.get("cpu_quota")
        if cpu is not None:
            m.cpu_ratio = cpu / quota if quota else cpu
        return m

    async def collect(self, stores: list[TikvStore]) -> MetricsResult:
        result = MetricsResult(source=self.name, fresh_exact=True)
        async with self._lock:  # one store's figures asked during a tick: after it
            covered = await self._refresh(result.errors)
        up_by_key, scrapes, reported = self._up, self._scrapes, self._reported
        keys, built = self._keys, self._built
        for store in stores:
            if store.state in GONE:
                continue
            address = store.status_address
            key = keys.get(address)
            if key is None:
                key = keys[address] = _instance_key(address)
            up = up_by_key.get(key)
            scrape = scrapes.get(key)
            # A store's figures change only with its scrape (``up`` included): most stores
            # keep last tick's TikvStoreMetrics as they were.
            last = built.get(store.id)
            if last is not None and last[0] is scrape and last[1] == up and last[2] == address:
                m = last[3]
            else:
                m = self._store_metrics(store, up, scrape)
                built[store.id] = (scrape, up, address, m)
            result.by_store[store.id] = m
            if scrape is None:
                continue
            # New to this store's caller, even when an earlier call (one store's figures)
            # brought it; without a scrape end, new when this answer covered it.
            seen = (key, scrape.ended_at)
            if key in covered if scrape.ended_at is None else reported.get(store.id) != seen:
                reported[store.id] = seen
                result.fresh.add(store.id)
        return result
