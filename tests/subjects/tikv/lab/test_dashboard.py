"""The Grafana dashboard and the alert rules read only metrics the simulator exports too,
so the lab's dashboard works unchanged on the demo (``operator-tui sim`` + Prometheus)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from operator_tikv.sim import SimCluster, SimConfig
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[4]
GRAFANA = ROOT / "subjects" / "tikv" / "operator_tikv" / "lab" / "compose" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "operator-tikv.json"
RULES = (
    ROOT
    / "subjects"
    / "tikv"
    / "operator_tikv"
    / "lab"
    / "compose"
    / "prometheus"
    / "rules"
    / "operator.rules.yml"
)
# Series Prometheus makes itself rather than scraping them.
PROMETHEUS_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def _dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in _panels(dashboard) for t in p.get("targets", [])]


def _rule_exprs() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [r["expr"] for g in groups for r in g["rules"]]


def test_dashboard_is_wired_to_the_provisioned_datasource(dashboard: dict[str, Any]) -> None:
    datasource = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090" and datasource["type"] == "prometheus"
    panels = [p for p in _panels(dashboard) if p["type"] != "row"]
    assert len(panels) >= 12
    ids = [p["id"] for p in _panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}, panel[
            "title"
        ]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource["uid"]
            assert target["expr"].strip()
    assert "${DS_" not in DASHBOARD.read_text(), "no unresolved import placeholders"
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    assert not {"graph", "singlestat"} & {p["type"] for p in panels}, "no Angular panels"


def test_dashboard_covers_stores_qps_latency_disk_leaders_regions(
    dashboard: dict[str, Any],
) -> None:
    titles = " | ".join(p["title"].lower() for p in _panels(dashboard))
    for topic in ("stores up", "qps", "p99", "disk", "leaders", "regions"):
        assert topic in titles, topic
    exprs = " ".join(_dashboard_exprs(dashboard))
    for needle in (
        'pd_cluster_status{type="store_up_count"}',
        "tikv_grpc_msg_duration_seconds_count",
        'tikv_storage_engine_async_request_duration_seconds_bucket{type="write"}',
        'tikv_store_size_bytes{type="available"}',
        'tikv_raftstore_region_count{type="leader"}',
        'tikv_raftstore_region_count{type="region"}',
    ):
        assert needle in exprs, needle


def test_promql_reader_finds_metric_names(promql: Callable[[str], set[str]]) -> None:
    expr = (
        'histogram_quantile(0.99, sum(rate(tikv_x_bucket{type!="kv_gc", a=~"b|c"}[$__rate_interval]))'
        ' by (le, instance)) > 0.1 and on() max(pd_y{type="z"}) by (type) or absent(up{job="pd"})'
    )
    assert promql(expr) == {"tikv_x_bucket", "pd_y", "up"}


async def _exported_by_the_simulator() -> set[str]:
    async with SimCluster(SimConfig(stores=3, regions=50, manual_clock=True)) as sim:
        sim.add_fault("slow_disk", 1)
        sim.add_fault("critical_error", 2)
        await sim.advance(120)
        urls = [
            sim.pd_urls[0] + "/metrics",
            *(u + "/metrics" for u in sim.store_status_urls.values()),
        ]
        names: set[str] = set()
        async with httpx.AsyncClient(timeout=10) as http:
            for url in urls:
                resp = await http.get(url)
                resp.raise_for_status()
                for family in text_string_to_metric_families(resp.text):
                    names.update(sample.name for sample in family.samples)
        return names


@pytest.fixture(scope="module")
def simulator_metrics() -> set[str]:
    import asyncio

    return asyncio.run(_exported_by_the_simulator())


def test_dashboard_reads_only_metrics_the_simulator_exports(
    dashboard: dict[str, Any], simulator_metrics: set[str], promql: Callable[[str], set[str]]
) -> None:
    used = set().union(*(promql(e) for e in _dashboard_exprs(dashboard)))
    assert len(used) >= 10
    missing = used - simulator_metrics - PROMETHEUS_SERIES
    assert not missing, f"dashboard metrics the simulator does not export: {sorted(missing)}"


def test_rules_read_only_metrics_the_simulator_exports(
    simulator_metrics: set[str], promql: Callable[[str], set[str]]
) -> None:
    used = set().union(*(promql(e) for e in _rule_exprs()))
    missing = used - simulator_metrics - PROMETHEUS_SERIES
    assert not missing, f"rule metrics the simulator does not export: {sorted(missing)}"
