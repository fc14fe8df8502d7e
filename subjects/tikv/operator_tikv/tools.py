"""TiKV's read-only tools: what a diagnoser may look at in PD, Prometheus, the logs and the history.

Read-only by construction: the tools hold a ``PDReads`` (GET through the PD client, no
other verb), a ``PrometheusReads`` (the query API only: ``/api/v1/query`` and
``/api/v1/query_range``, which Prometheus serves on GET and POST alike) and the
operator's own scrapes and history; none of them can reach a route that changes
anything. Routes and answer shapes are PD's ``server/api`` (``/store/{id}``,
``/region/id/{id}``, ``/hotspot/regions/{write|read}``, ``/operators``,
``/config/schedule``, ``/config/replicate``, ``/regions/check/{kind}``) and Prometheus's
HTTP API.
"""

from __future__ import annotations

import re
import time
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import httpx

from operator_tikv.metrics.exposition import label_dict
from operator_tikv.pd.client import REGION_CHECKS, PDClient
from operator_tikv.records import TikvStoreMetrics
from operator_tui.core.diagnosis.context import metric_value
from operator_tui.core.subject import SubjectError
from operator_tui.core.tools import Tool, ToolEnv, ToolError, schema

if TYPE_CHECKING:
    from operator_tikv.metrics.direct import DirectMetrics

QUERY_PATHS = ("/api/v1/query", "/api/v1/query_range")
# Fields that are not one number per point (an id, a flag, a text, a dict by peer or reason).
_NOT_FIGURES = frozenset(
    {"store_id", "reachable", "error", "unreachable_reports_per_s", "write_stall_reasons_per_s"}
)
HISTORY_METRICS: tuple[str, ...] = (
    *(f.name for f in fields(TikvStoreMetrics) if f.name not in _NOT_FIGURES),
    "used_ratio",
)
LOG_ROWS = 50
HISTORY_ROWS = 60
_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


class PDReads:
    """PD's API as a diagnoser may use it: one verb, GET."""

    def __init__(self, pd: PDClient) -> None:
        self._pd = pd

    async def get(self, path: str) -> Any:
        try:
            return await self._pd.get(path, Any)
        except SubjectError as exc:
            raise ToolError(str(exc)) from None


class PrometheusReads:
    """Prometheus's query API and nothing else (a long query goes as a POST form, as
    ``promtool`` and Grafana send it; Prometheus treats both verbs the same there)."""

    def __init__(self, http: httpx.AsyncClient, url: str, timeout_s: float) -> None:
        self._http = http
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    async def _post(self, path: str, form: dict[str, str]) -> Any:
        if path not in QUERY_PATHS:
            raise ToolError(f"{path} is not a query route")
        try:
            response = await self._http.post(
                self.url + path, data=form, timeout=self.timeout_s, follow_redirects=False
            )
        except httpx.HTTPError as exc:
            raise ToolError(f"prometheus: {type(exc).__name__}: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            raise ToolError(f"prometheus {path}: HTTP {response.status_code}, not JSON") from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise ToolError(f"prometheus {path}: {error or f'HTTP {response.status_code}'}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ToolError(f"prometheus {path}: unexpected answer")
        return {"result_type": data.get("resultType"), "result": data.get("result", [])}

    async def instant(self, promql: str) -> Any:
        return await self._post("/api/v1/query", {"query": promql})

    async def range(self, promql: str, minutes: float, step_s: float) -> Any:
        end = time.time()
        return await self._post(
            "/api/v1/query_range",
            {
                "query": promql,
                "start": f"{end - minutes * 60:.3f}",
                "end": f"{end:.3f}",
                "step": f"{step_s:g}",
            },
        )


def parse_selector(promql: str) -> tuple[str, dict[str, str]] | None:
    """``name`` or ``name{label="value",...}``: the one shape direct mode can answer."""
    found = _SELECTOR.match(promql)
    if found is None:
        return None
    name, body = found.group(1), found.group(2) or ""
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(body.strip()):
        m = _MATCHER.match(body, pos)
        if m is None:
            return None
        labels[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
        pos = m.end()
    return name, labels


def _direct_answer(direct: DirectMetrics, promql: str) -> dict[str, Any]:
    """A bare selector answered from the last scrape of each store's status port."""
    parsed = parse_selector(promql)
    scrapes = direct.latest_scrapes()
    names = sorted({n for s in scrapes.values() for n in s.samples})
    if parsed is None or not any(parsed[0] in s.samples for s in scrapes.values()):
        raise ToolError(
            "not available in direct mode: without Prometheus only a bare selector "
            '(name or name{label="value"}) over the series the operator scrapes can be '
            f"answered; these names are held: {', '.join(names) or 'none yet'}"
        )
    name, wanted = parsed
    result = []
    for store_id, scrape in sorted(scrapes.items()):
        for labels, value in scrape.series(name).items():
            shown = label_dict(labels)
            if all(shown.get(k) == v for k, v in wanted.items()):
                result.append(
                    {
                        "metric": {"__name__": name, "store_id": str(store_id), **shown},
                        "value": [round(scrape.at, 3), repr(value)],
                    }
                )
    return {
        "result_type": "vector",
        "result": result,
        "source": "direct mode: each store's last scrape of its /metrics",
    }


def _log_row(e: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "time": e.time.isoformat(),
        "level": e.level,
        "kind": e.kind,
        "store_id": e.store_id,
        "message": e.message,
    }
    if e.takes_ms is not None:
        row["takes_ms"] = e.takes_ms
    if e.about:
        row["about"] = e.about
    return row


def _ticket_row(t: Any, role: str) -> dict[str, Any]:
    return {
        "id": t.id,
        "role": role,
        "invariant": t.invariant,
        "target": t.target,
        "severity": t.severity.value,
        "status": t.status.value,
        "message": t.message,
        "first_seen": t.first_seen.isoformat(),
        "occurrences": t.occurrences,
    }


def _int(name: str, description: str, minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "description": description}


def build_tools(
    pd: PDReads, prometheus: PrometheusReads | None, direct: DirectMetrics | None
) -> tuple[Tool, ...]:
    """The tools, bound to this subject's readers."""

    async def query_prometheus(env: ToolEnv, a: dict[str, Any]) -> Any:
        promql, minutes = a["promql"], a.get("range_minutes")
        if prometheus is None:
            if direct is None:
                raise ToolError("no Prometheus is configured and no scrapes are held")
            if minutes:
                raise ToolError(
                    "not available in direct mode: range queries need Prometheus; "
                    "get_metric_history gives the operator's own history of a store's figures"
                )
            return _direct_answer(direct, promql)
        if minutes:
            step = a.get("step_s") or max(15.0, minutes * 60 / 120)
            return await prometheus.range(promql, minutes, step)
        return await prometheus.instant(promql)

    async def get_store(env: ToolEnv, a: dict[str, Any]) -> Any:
        return await pd.get(f"/store/{a['store_id']}")

    async def get_region(env: ToolEnv, a: dict[str, Any]) -> Any:
        return await pd.get(f"/region/id/{a['region_id']}")

    async def list_hot_regions(env: ToolEnv, a: dict[str, Any]) -> Any:
        return await pd.get(f"/hotspot/regions/{a.get('kind', 'write')}")

    async def list_operators(env: ToolEnv, a: dict[str, Any]) -> Any:
        return await pd.get("/operators")

    async def get_pd_config(env: ToolEnv, a: dict[str, Any]) -> Any:
        return {
            "schedule": await pd.get("/config/schedule"),
            "replication": await pd.get("/config/replicate"),
        }

    async def region_check(env: ToolEnv, a: dict[str, Any]) -> Any:
        return await pd.get(f"/regions/check/{a['kind']}")

    async def search_logs(env: ToolEnv, a: dict[str, Any]) -> Any:
        if env.history is None:
            raise ToolError("the operator holds no log events here")
        events = env.history.recent_log_events(a.get("store_id"), limit=5000)
        kinds = set(a.get("kinds") or ())
        text = (a.get("text") or "").lower()
        since = a.get("since_s")
        latest = events[-1].time if events else None
        now = env.now() if env.now is not None else latest
        picked = [
            e
            for e in events
            if (not kinds or e.kind in kinds)
            and (not text or text in e.message.lower())
            and (since is None or now is None or (now - e.time).total_seconds() <= since)
        ]
        return {
            "matched": len(picked),
            "events": [_log_row(e) for e in picked[-LOG_ROWS:]],
            **({"note": f"the latest {LOG_ROWS} shown"} if len(picked) > LOG_ROWS else {}),
        }

    async def list_incident_tickets(env: ToolEnv, a: dict[str, Any]) -> Any:
        rows = [_ticket_row(env.ticket, "diagnosed")] if env.ticket is not None else []
        rows += [_ticket_row(t, "same incident") for t in env.related]
        rows += [_ticket_row(t, "other open") for t in env.other_tickets]
        return {"tickets": rows}

    async def get_metric_history(env: ToolEnv, a: dict[str, Any]) -> Any:
        if env.history is None:
            raise ToolError("the operator holds no metric history here")
        name = a["metric"]
        series = env.history.metric_history(a["store_id"])
        points = [
            {"t": t.isoformat(), "reachable": m.reachable, "value": metric_value(m, name)}
            for t, m in series
        ]
        return {
            "store_id": a["store_id"],
            "metric": name,
            "held": len(points),
            "points": points[-HISTORY_ROWS:],
        }

    store_id = _int("store_id", "PD's id of the store", 1)
    return (
        Tool(
            "query_prometheus",
            "Run a PromQL query against the cluster's Prometheus: instant, or over the last "
            "range_minutes with a step of step_s seconds. Without Prometheus (direct mode) "
            "only a bare selector over the series the operator scrapes can be answered.",
            schema(
                {
                    "promql": {"type": "string", "maxLength": 2000},
                    "range_minutes": {"type": "number", "minimum": 0, "maximum": 1440},
                    "step_s": {"type": "number", "minimum": 1, "maximum": 3600},
                },
                ["promql"],
            ),
            query_prometheus,
            live=True,
        ),
        Tool(
            "get_store",
            "PD's record of one store: address, state, labels, capacity, region and leader "
            "counts, last heartbeat.",
            schema({"store_id": store_id}, ["store_id"]),
            get_store,
            live=True,
        ),
        Tool(
            "get_region",
            "PD's record of one region: key range, epoch, peers, leader, down and pending peers.",
            schema({"region_id": _int("region_id", "PD's id of the region", 1)}, ["region_id"]),
            get_region,
            live=True,
        ),
        Tool(
            "list_hot_regions",
            "PD's hot-region statistics for writes or reads, per store.",
            schema({"kind": {"type": "string", "enum": ["write", "read"]}}),
            list_hot_regions,
            live=True,
        ),
        Tool(
            "list_operators",
            "The scheduling operators PD is running now (moves, leader transfers, merges).",
            schema(),
            list_operators,
            live=True,
        ),
        Tool(
            "get_pd_config",
            "PD's schedule and replication configuration (limits, max-replicas, labels).",
            schema(),
            get_pd_config,
            live=True,
        ),
        Tool(
            "region_check",
            "Regions PD flags for one kind of problem, with their count.",
            schema({"kind": {"type": "string", "enum": list(REGION_CHECKS)}}, ["kind"]),
            region_check,
            live=True,
        ),
        Tool(
            "search_logs",
            "The TiKV log events the operator parsed and holds (newest last): filter by store, "
            "event kinds, text in the message, and age in seconds.",
            schema(
                {
                    "store_id": store_id,
                    "kinds": {"type": "array", "items": {"type": "string", "maxLength": 64}},
                    "text": {"type": "string", "maxLength": 200},
                    "since_s": {"type": "number", "minimum": 0},
                }
            ),
            search_logs,
        ),
        Tool(
            "list_incident_tickets",
            "The ticket being diagnosed, the other tickets of its incident and the other open "
            "tickets, as the operator holds them.",
            schema(),
            list_incident_tickets,
        ),
        Tool(
            "get_metric_history",
            "The operator's own history of one figure of one store (its last points, oldest "
            "first).",
            schema(
                {"store_id": store_id, "metric": {"type": "string", "enum": list(HISTORY_METRICS)}},
                ["store_id", "metric"],
            ),
            get_metric_history,
        ),
    )
