"""Metrics from Prometheus, with the PromQL of TiKV's official Grafana dashboards.

The expressions are those of ``tikv_summary`` / ``tikv_trouble_shooting`` (and
the alert rules for raft log lag) without the Grafana template selectors and
the ``job`` matcher, whose value depends on how the scrape job is named; every
query is one call for all stores, so the cost does not grow with the cluster.
Prometheus' ``instance`` label is the scraped status address, which PD reports
as each store's ``status_address``; ``up`` tells whether the last scrape worked.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx

from operator_tikv.metrics.base import SKIPPED_STATES, MetricsResult
from operator_tikv.pd.client import describe_transport_error
from operator_tui.core.types import Store, StoreMetrics

UNREACHABLE = "unreachable_reports_per_s"


def queries(window: str = "1m") -> dict[str, str]:
    """StoreMetrics field -> PromQL, each grouped ``by (instance)``."""
    w = window
    return {
        "qps": f'sum(rate(tikv_grpc_msg_duration_seconds_count{{type!="kv_gc"}}[{w}])) by (instance)',
        "p99_latency_ms": (
            "histogram_quantile(0.99, sum(rate(tikv_grpc_msg_duration_seconds_bucket"
            f'{{type!="kv_gc"}}[{w}])) by (le, instance)) * 1000'
        ),
        "p99_write_latency_ms": (
            "histogram_quantile(0.99, sum(rate(tikv_storage_engine_async_request_duration_seconds_bucket"
            f'{{type="write"}}[{w}])) by (le, instance)) * 1000'
        ),
        "cpu_cores": f"sum(rate(process_cpu_seconds_total[{w}])) by (instance)",
        "cpu_quota": "sum(tikv_server_cpu_cores_quota) by (instance)",
        "used_bytes": 'sum(tikv_store_size_bytes{type="used"}) by (instance)',
        "available_bytes": 'sum(tikv_store_size_bytes{type="available"}) by (instance)',
        "capacity_bytes": 'sum(tikv_store_size_bytes{type="capacity"}) by (instance)',
        "region_count": 'sum(tikv_raftstore_region_count{type="region"}) by (instance)',
        "leader_count": 'sum(tikv_raftstore_region_count{type="leader"}) by (instance)',
        "raft_log_lag": (
            f"histogram_quantile(0.99, sum(rate(tikv_raftstore_log_lag_bucket[{w}])) by (le, instance))"
        ),
        "write_stall": (
            'max(avg(tikv_engine_write_stall{type="write_stall_percentile99"}) by (instance, db)) by (instance)'
        ),
        "channel_full_per_s": f"sum(rate(tikv_channel_full_total[{w}])) by (instance)",
        "scheduler_busy_per_s": f"sum(rate(tikv_scheduler_too_busy_total[{w}])) by (instance)",
        "slow_score": "max(tikv_raftstore_slow_score) by (instance)",
        "critical_errors_per_s": f"sum(rate(tikv_critical_error_total[{w}])) by (instance)",
        # irate: the last scrape interval, so reports stop counting soon after the peer is back.
        UNREACHABLE: (
            'sum(irate(tikv_server_report_failure_msg_total{type="unreachable"}'
            f"[{w}])) by (instance, store_id)"
        ),
        "up": "up",
    }


_INT_FIELDS = {"used_bytes", "available_bytes", "capacity_bytes", "region_count", "leader_count"}


FIELD_LABEL = "operator_field"


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


def _series_key(field: str, labels: dict[str, str]) -> str:
    """The instance, and for the per-destination reports the destination store too."""
    key = _instance_key(labels.get("instance", ""))
    if field == UNREACHABLE:
        key += "\x00" + labels.get("store_id", "")
    return key


def _reports_by_instance(flat: dict[str, float | None]) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for key, value in flat.items():
        instance, _, target = key.partition("\x00")
        if value and value > 0 and target.isdigit():
            out.setdefault(instance, {})[int(target)] = value
    return out


class PrometheusMetrics:
    """Runs the dashboard queries against ``/api/v1/query`` and maps instances to stores."""

    name = "prometheus"

    def __init__(
        self, http: httpx.AsyncClient, url: str, *, window: str = "1m", timeout_s: float = 3.0
    ) -> None:
        self._http = http
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.queries = queries(window)

    async def _query(self, promql: str) -> list[tuple[dict[str, str], float | None]]:
        """Instant query: ``(labels, value)`` per series (``None`` for NaN)."""
        try:
            response = await self._http.get(
                f"{self.url}/api/v1/query", params={"query": promql}, timeout=self.timeout_s
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
        out: list[tuple[dict[str, str], float | None]] = []
        isnan = math.isnan
        try:
            for item in body["data"]["result"]:
                value = float(item["value"][1])
                labels = item["metric"]
                if not isinstance(labels, dict):
                    raise TypeError("metric is not an object")
                out.append((labels, None if isnan(value) else value))
        except (KeyError, TypeError, ValueError, IndexError):
            raise PrometheusError(
                f"prometheus {self.url}/api/v1/query: unexpected result shape"
            ) from None
        return out

    async def query(self, promql: str) -> dict[str, float | None]:
        """Instant query; ``{instance: value}``, the highest value when instances repeat."""
        out: dict[str, float | None] = {}
        for labels, value in await self._query(promql):
            _put(out, _instance_key(labels.get("instance", "")), value)
        return out

    async def _field(self, name: str) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for labels, value in await self._query(self.queries[name]):
            _put(out, _series_key(name, labels), value)
        return out

    def combined(self) -> str:
        """Every query in one: each tagged with its field name, joined with ``or``."""
        return " or ".join(
            f'label_replace({expr}, "{FIELD_LABEL}", "{name}", "", "")'
            for name, expr in self.queries.items()
        )

    async def _values(self, errors: list[str]) -> dict[str, dict[str, float | None]]:
        """Field -> instance -> value: one round trip, or one per field if the combined one fails."""
        values: dict[str, dict[str, float | None]] = {}
        try:
            series = await self._query(self.combined())
        except PrometheusUnreachable:
            raise
        except PrometheusError:
            series = None
        if series is not None:
            keys: dict[str, str] = {}
            for labels, value in series:
                field = labels.get(FIELD_LABEL)
                if field not in self.queries:
                    continue
                instance = labels.get("instance", "")
                key = keys.get(instance)
                if key is None:
                    key = keys[instance] = _instance_key(instance)
                if field == UNREACHABLE:
                    key += "\x00" + labels.get("store_id", "")
                _put(values.setdefault(field, {}), key, value)
            values.setdefault("up", {})
            values.setdefault(UNREACHABLE, {})
            return values
        names = list(self.queries)
        answers = await asyncio.gather(*(self._field(n) for n in names), return_exceptions=True)
        for name, answer in zip(names, answers, strict=True):
            if isinstance(answer, BaseException):
                if str(answer) not in errors:
                    errors.append(str(answer))
                continue
            values[name] = answer
        return values

    async def collect(self, stores: list[Store]) -> MetricsResult:
        result = MetricsResult(source=self.name)
        values = await self._values(result.errors)
        if "up" not in values:
            raise PrometheusError(result.errors[0] if result.errors else "prometheus: no answer")
        reports = _reports_by_instance(values[UNREACHABLE]) if UNREACHABLE in values else None
        for store in stores:
            if store.state.value in SKIPPED_STATES:
                continue
            key = _instance_key(store.status_address)
            m = StoreMetrics(store_id=store.id)
            up = values["up"].get(key)
            if up is None:
                m.error = (
                    f"status address {store.status_address or '(none)'} not scraped by Prometheus"
                )
            elif up < 1:
                m.reachable = False
                m.error = f"prometheus: scrape of {store.status_address} failing (up=0)"
            if reports is not None and up is not None and up >= 1:
                m.unreachable_reports_per_s = reports.get(key, {})
            for name, by_instance in values.items():
                if name in ("up", "cpu_cores", "cpu_quota", UNREACHABLE):
                    continue
                value = by_instance.get(key)
                if value is not None and name in _INT_FIELDS:
                    value = int(value) if math.isfinite(value) else None
                setattr(m, name, value)
            cpu = values.get("cpu_cores", {}).get(key)
            quota = values.get("cpu_quota", {}).get(key)
            if cpu is not None:
                m.cpu_ratio = cpu / quota if quota else cpu
            result.by_store[store.id] = m
        return result
