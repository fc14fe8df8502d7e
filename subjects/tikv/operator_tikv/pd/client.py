"""PD HTTP client over a list of members, with failover inside one call.

Any PD member answers (followers proxy to the leader), so a call tries the
member that answered last, then the others; a refused connection, a timeout or
a 503 (no leader elected yet) moves on to the next member. Each attempt has its
own timeout and the whole call a budget, so no call can hang a monitor tick.

An answer is read as a stream up to ``max_answer_bytes`` (a larger one is refused with one
line naming the cap), within what is left of the call's budget (a slow drip cannot hold a
call longer). A redirect is refused, not followed. An answer the strict reader refuses is
read again leniently (``tolerant``): bad characters are replaced and bad items left out,
each counted in ``repairs`` and named in ``take_notes``, so one hostile store cannot
blind the operator to the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
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
from operator_tikv.pd.tolerant import Repairs, Unrepairable, loads, replace_surrogates, validate
from operator_tui.core.bounds import clip
from operator_tui.core.raw import RawAnswer
from operator_tui.core.subject import SubjectError, SubjectUnreachable
from operator_tui.core.urls import mask_url

T = TypeVar("T")
log = logging.getLogger(__name__)

API_PREFIX = "/pd/api/v1"
REGION_CHECKS = ("miss-peer", "down-peer", "pending-peer", "offline-peer")
_RETRY_STATUS = {502, 503, 504}
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
MAX_ANSWER_BYTES = 8 << 20
"""Default cap on one PD answer: /stores of 1000 stores is about 1.5 MB."""
MESSAGE_MAX = 300
_COUNT_PREFIX = re.compile(rb'^\s*\{\s*"count"\s*:\s*(\d{1,19})\s*[,}]')
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class PDError(SubjectError):
    """PD answered, but with an error status or a body that does not parse."""

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class PDUnreachable(SubjectUnreachable):
    """No PD member answered within the call's budget."""


class PDAnswerTooLarge(PDError):
    """An answer longer than the cap; ``prefix`` holds its first bytes."""

    def __init__(self, message: str, *, endpoint: str, prefix: bytes) -> None:
        super().__init__(message, endpoint=endpoint)
        self.prefix = prefix


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


def _one_line(text: str) -> str:
    return clip(" ".join(replace_surrogates(text).split()), MESSAGE_MAX)


def pd_message(response: httpx.Response) -> str:
    """PD's error text: usually a JSON string such as ``"[PD:core:ErrStoreNotFound]store 9 not found"``.

    One line of at most ``MESSAGE_MAX`` characters, whatever PD sent."""
    try:
        body = response.json()
    except ValueError:
        text = response.content.decode("utf-8", errors="replace").strip()
        return _one_line(text) if text else f"HTTP {response.status_code}"
    if isinstance(body, str):
        return _one_line(body)
    if isinstance(body, dict):
        for key in ("message", "error", "msg"):
            if isinstance(body.get(key), str):
                return _one_line(body[key])
    return _one_line(json.dumps(body))


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
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        if not endpoints:
            raise SubjectError("no PD endpoint configured")
        self._http = http
        self.endpoints = [
            e.rstrip("/") if "://" in e else "http://" + e.rstrip("/") for e in endpoints
        ]
        self._shown = {e: mask_url(e) for e in self.endpoints}
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.call_budget_s = call_budget_s
        self.max_answer_bytes = max_answer_bytes
        self._preferred = 0
        self.failovers = 0
        self.repairs = {"replaced": 0, "dropped": 0}
        """Counts since start: characters replaced and items left out by lenient reading."""
        self._notes: list[str] = []

    def shown(self, endpoint: str) -> str:
        """An endpoint as it may be printed (credentials masked)."""
        return self._shown.get(endpoint) or mask_url(endpoint)

    def take_notes(self) -> list[str]:
        """One line per answer read leniently since the last call (what was replaced or left out)."""
        notes, self._notes = self._notes, []
        return notes

    async def _fetch(
        self,
        method: str,
        endpoint: str,
        path: str,
        params: Any,
        body: Any,
        *,
        step_s: float,
        limit_s: float,
    ) -> httpx.Response:
        """One request whose answer is read whole, up to the cap: each network step within
        ``step_s``, the whole within ``limit_s`` (what is left of the call's budget)."""
        request = self._http.build_request(
            method, endpoint + API_PREFIX + path, params=params, json=body, timeout=step_s
        )
        async with asyncio.timeout(limit_s):
            response = await self._http.send(request, stream=True)
            try:
                cap = self.max_answer_bytes
                length = response.headers.get("content-length", "")
                chunks: list[bytes] = []
                size = 0
                declared_over = length.isdigit() and int(length) > cap
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > cap or declared_over:
                        break
                if size > cap or declared_over:
                    raise PDAnswerTooLarge(
                        f"{method} {path} on {self.shown(endpoint)}: answer larger than the cap "
                        f"of {cap} bytes (tikv.pd_max_answer_bytes); refused",
                        endpoint=endpoint,
                        prefix=b"".join(chunks)[:256],
                    )
            finally:
                await response.aclose()
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_HEADERS
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(chunks), request=request
        )

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
                    response = await self._fetch(
                        method,
                        endpoint,
                        path,
                        params,
                        body,
                        step_s=min(self.timeout_s, remaining),
                        limit_s=remaining,
                    )
                except (httpx.HTTPError, TimeoutError) as exc:
                    errors[endpoint] = (
                        "timed out"
                        if isinstance(exc, TimeoutError)
                        else describe_transport_error(exc)
                    )
                    if not idempotent and not isinstance(
                        exc, httpx.ConnectError | httpx.ConnectTimeout
                    ):
                        raise PDError(
                            f"{method} {path} on {self.shown(endpoint)}: {errors[endpoint]}; "
                            "not retried",
                            endpoint=endpoint,
                        ) from None
                    continue
                if 300 <= response.status_code < 400:
                    where = mask_url(response.headers.get("location", ""))
                    raise PDError(
                        f"{method} {path} on {self.shown(endpoint)}: redirect refused "
                        f"(HTTP {response.status_code}"
                        + (f" to {clip(where, 200)})" if where else ")"),
                        endpoint=endpoint,
                        status=response.status_code,
                    )
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
        detail = (
            "; ".join(f"{self.shown(ep)}: {why}" for ep, why in errors.items())
            or "call budget exhausted"
        )
        if any(why.startswith("HTTP ") for why in errors.values()):
            raise PDError(
                f"PD answered {method} {path} but could not serve it within "
                f"{self.call_budget_s:g}s (leader election in progress?): {detail}"
            )
        raise PDUnreachable(f"no PD endpoint answered {method} {path} ({detail})")

    async def get(self, path: str, model: type[T] | Any, params: Any = None) -> T:
        endpoint, response = await self.send("GET", path, params=params)
        url = self.shown(endpoint) + API_PREFIX + path
        if response.status_code >= 400:
            raise PDError(
                f"GET {url}: HTTP {response.status_code}: {pd_message(response)}",
                endpoint=endpoint,
                status=response.status_code,
            )
        adapter = _adapter(model)
        try:
            return adapter.validate_json(response.content)
        except ValidationError:
            pass
        except (TypeError, ValueError, AttributeError) as exc:
            raise PDError(
                f"GET {url}: unexpected response ({type(exc).__name__}: {clip(str(exc), 200)})",
                endpoint=endpoint,
            ) from None
        return self._lenient(adapter, response.content, url, endpoint)

    async def get_raw(self, path: str) -> RawAnswer:
        """PD's answer to ``GET path`` as it came: status and body bytes decoded as UTF-8 (a
        bad byte is replaced, never dropped), without parsing; an error answer is returned too,
        since people want to see what PD said."""
        endpoint, response = await self.send("GET", path)
        return RawAnswer(
            source=f"GET {self.shown(endpoint)}{API_PREFIX}{path}",
            status=response.status_code,
            body=response.content.decode("utf-8", errors="replace"),
            content_type=response.headers.get("content-type", ""),
        )

    def _lenient(self, adapter: TypeAdapter[Any], content: bytes, url: str, endpoint: str) -> Any:
        """The answer the strict reader refused, read again keeping its good items."""
        try:
            value, repairs = loads(content)
        except Unrepairable:
            raise PDError(f"GET {url}: malformed JSON", endpoint=endpoint) from None
        try:
            result = validate(adapter, value, repairs)
        except Unrepairable as exc:
            raise PDError(f"GET {url}: unexpected response ({exc})", endpoint=endpoint) from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise PDError(
                f"GET {url}: unexpected response ({type(exc).__name__}: {clip(str(exc), 200)})",
                endpoint=endpoint,
            ) from None
        self._note(url, repairs)
        return result

    def _note(self, url: str, repairs: Repairs) -> None:
        self.repairs["replaced"] += repairs.replaced
        self.repairs["dropped"] += len(repairs.dropped)
        summary = repairs.summary()
        if summary:
            note = f"GET {url}: {summary}"
            log.warning("%s", note)
            self._notes.append(note)
            del self._notes[:-50]

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

    async def _count(self, path: str) -> int:
        """The ``count`` of a regions answer, without building the list. An answer over the
        cap (a large cluster that lost a store) is still counted: PD writes ``count`` before
        ``regions`` (``RegionsInfo`` in server/api/region.go), so the first bytes hold it."""
        try:
            return (await self.get(path, RegionCount)).count
        except PDAnswerTooLarge as exc:
            found = _COUNT_PREFIX.match(exc.prefix)
            if found is None:
                raise
            return int(found.group(1))

    async def region_check_count(self, kind: str) -> int:
        """How many regions a ``/regions/check/{kind}`` flags."""
        return await self._count(f"/regions/check/{kind}")

    async def region_count(self) -> int:
        return await self._count("/regions/count")

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
