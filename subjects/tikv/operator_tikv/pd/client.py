"""PD HTTP client over a list of members, with failover inside one call.

Any PD member answers (followers proxy to the leader), so a call tries the
member that answered last, then the others; a refused connection, a timeout or
a 503 (no leader elected yet) moves on to the next member. Each attempt has its
own timeout and the whole call a budget, so no call can hang a monitor tick.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from operator_tikv.pd.models import (
    ClusterInfo,
    ClusterStatus,
    HealthMember,
    HotRegionsOnly,
    MembersInfo,
    RegionCount,
    RegionInfo,
    RegionsInfo,
    ReplicationConfig,
    ScheduleConfig,
    StoreHotPeersInfos,
    StoreInfo,
    StoresInfo,
)
from operator_tui.core.subject import SubjectError, SubjectUnreachable

T = TypeVar("T")

API_PREFIX = "/pd/api/v1"
REGION_CHECKS = ("miss-peer", "down-peer", "pending-peer", "offline-peer")
_RETRY_STATUS = {502, 503, 504}
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


class PDError(SubjectError):
    """PD answered, but with an error status or a body that does not parse."""

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class PDUnreachable(SubjectUnreachable):
    """No PD member answered within the call's budget."""


def _adapter(tp: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    return adapter


def describe_transport_error(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "refused" in text or "connect call failed" in text or "all connection attempts" in text:
            return "connection refused"
        return f"cannot connect ({exc})" if str(exc) else "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed mid-response"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def pd_message(response: httpx.Response) -> str:
    """PD's error text: usually a JSON string such as ``"[PD:core:ErrStoreNotFound]store 9 not found"``."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else f"HTTP {response.status_code}"
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, dict):
        for key in ("message", "error", "msg"):
            if isinstance(body.get(key), str):
                return body[key]
    return json.dumps(body)[:300]


def _short_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return f"{loc}: {err.get('msg', 'invalid')}"


class PDClient:
    """Typed access to the PD endpoints the operator uses."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoints: list[str],
        *,
        timeout_s: float = 2.0,
        retries: int = 2,
        backoff_s: float = 0.2,
        call_budget_s: float = 8.0,
    ) -> None:
        if not endpoints:
            raise SubjectError("no PD endpoint configured")
        self._http = http
        self.endpoints = [
            e.rstrip("/") if "://" in e else "http://" + e.rstrip("/") for e in endpoints
        ]
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.call_budget_s = call_budget_s
        self._preferred = 0
        self.failovers = 0

    @property
    def preferred(self) -> str:
        """The member that answered last; tried first by the next call."""
        return self.endpoints[self._preferred]

    def ordered_endpoints(self) -> list[str]:
        """Every member, the preferred one first."""
        n = len(self.endpoints)
        return [self.endpoints[(self._preferred + k) % n] for k in range(n)]

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        idempotent: bool = True,
    ) -> tuple[str, httpx.Response]:
        """One request, failing over between members; returns (endpoint, response).

        Transport failures use up ``retries`` rounds; a 503 (PD electing a leader)
        means the cluster is there, so rounds go on until the call budget is spent.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.call_budget_s
        errors: dict[str, str] = {}
        n = len(self.endpoints)
        transport_rounds = 0
        round_no = 0
        while True:
            answered = False
            start = self._preferred
            for k in range(n):
                index = (start + k) % n
                endpoint = self.endpoints[index]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    response = await self._http.request(
                        method,
                        endpoint + API_PREFIX + path,
                        params=params,
                        json=body,
                        timeout=min(self.timeout_s, remaining),
                    )
                except httpx.HTTPError as exc:
                    errors[endpoint] = describe_transport_error(exc)
                    if not idempotent and not isinstance(
                        exc, httpx.ConnectError | httpx.ConnectTimeout
                    ):
                        raise PDError(
                            f"{method} {path} on {endpoint}: {errors[endpoint]}; not retried",
                            endpoint=endpoint,
                        ) from None
                    continue
                if response.status_code in _RETRY_STATUS:
                    answered = True
                    errors[endpoint] = f"HTTP {response.status_code} {pd_message(response)}"
                    continue
                if index != self._preferred:
                    self.failovers += 1
                    self._preferred = index
                return endpoint, response
            if not answered:
                transport_rounds += 1
            remaining = deadline - loop.time()
            if transport_rounds > self.retries or remaining <= 0:
                break
            await asyncio.sleep(min(self.backoff_s * (2 ** min(round_no, 4)), 1.0, remaining))
            round_no += 1
        detail = "; ".join(f"{ep}: {why}" for ep, why in errors.items()) or "call budget exhausted"
        if any(why.startswith("HTTP ") for why in errors.values()):
            raise PDError(
                f"PD answered {method} {path} but could not serve it within "
                f"{self.call_budget_s:g}s (leader election in progress?): {detail}"
            )
        raise PDUnreachable(f"no PD endpoint answered {method} {path} ({detail})")

    async def get(self, path: str, model: type[T] | Any, params: Any = None) -> T:
        endpoint, response = await self.send("GET", path, params=params)
        url = endpoint + API_PREFIX + path
        if response.status_code >= 400:
            raise PDError(
                f"GET {url}: HTTP {response.status_code}: {pd_message(response)}",
                endpoint=endpoint,
                status=response.status_code,
            )
        try:
            return _adapter(model).validate_json(response.content)
        except ValidationError as exc:
            if exc.errors()[0].get("type", "").startswith("json"):
                reason = "malformed JSON"
            else:
                reason = f"unexpected response ({_short_validation_error(exc)})"
            raise PDError(f"GET {url}: {reason}", endpoint=endpoint) from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise PDError(
                f"GET {url}: unexpected response ({type(exc).__name__}: {exc})", endpoint=endpoint
            ) from None

    async def call(self, method: str, path: str, body: Any = None, params: Any = None) -> str:
        """A state-changing call; returns PD's message, raises ``PDError`` with PD's message."""
        endpoint, response = await self.send(
            method, path, params=params, body=body, idempotent=False
        )
        message = pd_message(response) if response.content else f"HTTP {response.status_code}"
        if response.status_code >= 400:
            raise PDError(message, endpoint=endpoint, status=response.status_code)
        return message

    # Observations

    async def stores(self, states: tuple[int, ...] = ()) -> StoresInfo:
        params = [("state", s) for s in states] or None
        return await self.get("/stores", StoresInfo, params=params)

    async def store(self, store_id: int) -> StoreInfo:
        return await self.get(f"/store/{store_id}", StoreInfo)

    async def hot_write_regions(self) -> HotRegionsOnly:
        """``/hotspot/regions/write`` without the per-store totals a tick does not use."""
        return await self.get("/hotspot/regions/write", HotRegionsOnly)

    async def hot_read(self) -> StoreHotPeersInfos:
        return await self.get("/hotspot/regions/read", StoreHotPeersInfos)

    async def region_check(self, kind: str) -> RegionsInfo:
        return await self.get(f"/regions/check/{kind}", RegionsInfo)

    async def region_check_count(self, kind: str) -> int:
        """How many regions a ``/regions/check/{kind}`` flags, without building the list."""
        return (await self.get(f"/regions/check/{kind}", RegionCount)).count

    async def region_count(self) -> int:
        return (await self.get("/regions/count", RegionCount)).count

    async def region(self, region_id: int) -> RegionInfo | None:
        region = await self.get(f"/region/id/{region_id}", RegionInfo)
        return region if region.exists else None

    async def schedule_config(self) -> ScheduleConfig:
        return await self.get("/config/schedule", ScheduleConfig)

    async def replication_config(self) -> ReplicationConfig:
        return await self.get("/config/replicate", ReplicationConfig)

    async def members(self) -> MembersInfo:
        return await self.get("/members", MembersInfo)

    async def health(self) -> list[HealthMember]:
        return await self.get("/health", list[HealthMember])

    async def cluster(self) -> ClusterInfo:
        return await self.get("/cluster", ClusterInfo)

    async def cluster_status(self) -> ClusterStatus:
        return await self.get("/cluster/status", ClusterStatus)

    # Changes

    async def add_operator(self, body: dict[str, Any]) -> str:
        return await self.call("POST", "/operators", body)

    async def set_schedule_config(self, body: dict[str, Any]) -> str:
        return await self.call("POST", "/config/schedule", body)

    async def remove_store(self, store_id: int) -> str:
        return await self.call("DELETE", f"/store/{store_id}")

    async def add_scheduler(self, body: dict[str, Any]) -> str:
        """``POST /schedulers`` with ``{"name": ..., ...}`` (server/api/scheduler.go ``Post``)."""
        return await self.call("POST", "/schedulers", body)

    async def remove_scheduler(self, name: str) -> str:
        """``DELETE /schedulers/{name}``; ``evict-leader-scheduler-N`` removes store N only."""
        return await self.call("DELETE", f"/schedulers/{name}")

    # Reads an action checks before and after it runs

    async def schedulers(self) -> list[str]:
        """``GET /schedulers``: the names of the running schedulers."""
        return await self.get("/schedulers", list[str])

    async def evict_leader_stores(self) -> list[int] | None:
        """Stores PD's evict-leader scheduler holds (``store-id-ranges`` of its config),
        or None when PD does not serve that config (no such scheduler, or an older PD)."""
        try:
            config = await self.get("/scheduler-config/evict-leader-scheduler/list", dict[str, Any])
        except PDError as exc:
            if exc.status in (404, 500):
                return None
            raise
        ranges = config.get("store-id-ranges")
        if not isinstance(ranges, dict):
            return None
        return sorted(int(k) for k in ranges if str(k).isdigit())
