"""Where each store's log lines come from: an HTTP log route, files, or ``docker logs``.

Every source returns only lines it has not returned before, parsed with
``logs.parse_line`` and tagged with the store id. A failing source reports a
one-line error and returns nothing; it never breaks a monitor tick.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from operator_tikv.capped import AnswerTooLarge, get_capped
from operator_tikv.logs import parse_line
from operator_tikv.records import TikvLogEvent, TikvStore
from operator_tikv.states import StoreState
from operator_tui.core.bounds import clip

MAX_LINES_PER_STORE = 2000
MAX_BYTES_PER_READ = 1 << 20
MAX_LINE_CHARS = 8192
# One answer of the HTTP log route: far more than a tick of lines from a busy store.
MAX_ANSWER_BYTES = 16 << 20
"""A longer log line is clipped (with a marker) before it is parsed, stored or prompted."""
_SKIPPED = (StoreState.TOMBSTONE, StoreState.REMOVED)


class LogSource(Protocol):
    name: str

    async def fetch(self, stores: list[TikvStore]) -> tuple[list[TikvLogEvent], list[str]]:
        """New events of every store since the last call, and one-line errors."""
        ...


def _events(store_id: int, lines: list[str]) -> list[TikvLogEvent]:
    out = []
    for line in lines[-MAX_LINES_PER_STORE:]:
        if not line.strip():
            continue
        event = parse_line(clip(line, MAX_LINE_CHARS))
        if event is not None:
            event.store_id = store_id
            out.append(event)
    return out


def _plain_name(host: str) -> bool:
    """A host usable as a file name: no separator, not ``.``/``..``, no NUL, not hidden."""
    return bool(host) and not (
        "/" in host or "\\" in host or "\0" in host or host.startswith(".") or len(host) > 255
    )


def _host(address: str) -> str:
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return host.strip("[]")


async def _gather(
    stores: list[TikvStore], one: Callable[[TikvStore], Any]
) -> tuple[list[TikvLogEvent], list[str]]:
    live = [s for s in stores if s.state not in _SKIPPED]
    results = await asyncio.gather(*(one(s) for s in live), return_exceptions=True)
    events: list[TikvLogEvent] = []
    errors: list[str] = []
    for store, result in zip(live, results, strict=True):
        if isinstance(result, BaseException):
            if isinstance(result, asyncio.CancelledError):
                raise result
            errors.append(f"logs of store {store.id}: {result}")
        elif isinstance(result, str):
            errors.append(result)
        else:
            events.extend(result)
    return events, errors


class HttpLogSource:
    """Each store's log lines from an HTTP route: ``GET <log_url>?since=<cursor>``.

    ``log_url`` is a template with ``{store_id}``, ``{host}`` (the host of the store's
    address) and ``{address}``; several may be given and are tried in order, the one that
    answered last first (as with PD members). The route answers ``text/plain`` (one log
    line a line), a JSON list of lines, or a JSON object ``{"lines": [...], "next_since":
    cursor}``. Without a cursor in the answer, ``since`` is the RFC 3339 time of the last
    line returned: inclusive, to the millisecond, so the lines of that last millisecond are
    remembered and skipped the next time. The simulator serves this route on every PD
    member (``/sim/api/v1/stores/{store_id}/logs``).
    """

    name = "http"

    def __init__(
        self, http: httpx.AsyncClient, log_url: str | Sequence[str], timeout_s: float = 2.0
    ) -> None:
        urls = [log_url] if isinstance(log_url, str) else list(log_url)
        self.urls = [u.strip() for part in urls for u in str(part).split(",") if u.strip()]
        if not self.urls:
            raise ValueError("log source http needs log_url")
        for url in self.urls:
            try:
                url.format(store_id=0, host="", address="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"log_url {url!r}: only {{store_id}}, {{host}} and {{address}} may be filled in ({exc})"
                ) from None
        self._http = http
        self.timeout_s = timeout_s
        self._preferred = 0
        self._cursor: dict[int, Any] = {}
        self._boundary: dict[int, set[str]] = {}

    async def _get(self, store: TikvStore, params: dict[str, Any]) -> httpx.Response | str:
        reason = "no log_url"
        n = len(self.urls)
        for k in range(n):
            index = (self._preferred + k) % n
            url = self.urls[index].format(
                store_id=store.id, host=_host(store.address), address=store.address
            )
            try:
                response = await get_capped(
                    self._http,
                    url,
                    max_bytes=MAX_ANSWER_BYTES,
                    timeout_s=self.timeout_s,
                    params=params,
                )
            except AnswerTooLarge:
                reason = f"answer over the cap of {MAX_ANSWER_BYTES} bytes"
                continue
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
                continue
            self._preferred = index
            return response
        return f"logs of store {store.id}: {reason}"

    async def _one(self, store: TikvStore) -> list[TikvLogEvent] | str:
        params: dict[str, Any] = {}
        if store.id in self._cursor:
            params["since"] = self._cursor[store.id]
        response = await self._get(store, params)
        if isinstance(response, str):
            return response
        if response.status_code != 200:
            return f"logs of store {store.id}: HTTP {response.status_code}"
        lines, cursor = _body(response)
        seen = self._boundary.get(store.id, set())
        events = [e for e in _events(store.id, lines) if e.raw not in seen]
        if cursor is not None:
            self._cursor[store.id] = cursor
        elif events:
            last = max(e.time for e in events)
            since = last.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            boundary = {e.raw for e in events if e.time == last}
            if since == params.get("since"):
                boundary |= seen
            self._cursor[store.id] = since
            self._boundary[store.id] = boundary
        return events

    async def fetch(self, stores: list[TikvStore]) -> tuple[list[TikvLogEvent], list[str]]:
        return await _gather(stores, self._one)


def _body(response: httpx.Response) -> tuple[list[str], Any]:
    """Lines and the next cursor, from a JSON body (list or object) or plain text."""
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            return [], None
        if isinstance(body, list):
            return [str(x) for x in body if isinstance(x, str)], None
        if isinstance(body, dict):
            lines = body.get("lines") or body.get("logs") or []
            cursor = None
            for key in ("next_since", "next", "cursor", "until", "last"):
                if body.get(key) is not None:
                    cursor = body[key]
                    break
            return [str(x) for x in lines if isinstance(x, str)], cursor
        return [], None
    return response.text.splitlines(), None


class FileLogSource:
    """Tails one file per store in ``log_dir``, remembering the offset; a shorter file restarts.

    The names come from PD (a store's id and the host of its address), so they are read
    only inside ``log_dir``: a host that is a path (``/abs``, ``../x``, ``a/b``) names no
    file, and a file that resolves outside the directory (a symlink out) is not read. A
    store with no file is named once, until its file appears.
    """

    name = "file"

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        self.log_dir = Path(log_dir)
        self._root = self.log_dir.resolve()
        self._offset: dict[Path, int] = {}
        self._partial: dict[Path, str] = {}
        self._missing: set[int] = set()

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self._root) and path.is_file()
        except (OSError, RuntimeError, ValueError):
            return False

    def names_for(self, store: TikvStore) -> list[str]:
        """The file names tried for a store, relative to ``log_dir``."""
        names = [f"tikv-{store.id}.log", f"store-{store.id}.log", f"{store.id}.log"]
        host = _host(store.address)
        if _plain_name(host):
            names += [f"{host}.log", f"{host}/tikv.log"]
        return names

    def path_for(self, store: TikvStore) -> Path | None:
        candidates = (self.log_dir / name for name in self.names_for(store))
        return next((p for p in candidates if self._inside(p)), None)

    def _read(self, store: TikvStore) -> list[TikvLogEvent] | str:
        path = self.path_for(store)
        if path is None:
            if store.id in self._missing:
                return []
            self._missing.add(store.id)
            tried = ", ".join(clip(n, 80) for n in self.names_for(store))
            return f"log file of store {store.id}: none in {self.log_dir} (tried {tried})"
        self._missing.discard(store.id)
        try:
            size = path.stat().st_size
            offset = self._offset.get(path)
            if offset is None:
                offset = max(0, size - MAX_BYTES_PER_READ)
            if size < offset:
                offset = 0
                self._partial.pop(path, None)
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read(MAX_BYTES_PER_READ)
        except OSError as exc:
            return f"log file of store {store.id}: {exc.strerror or exc}"
        self._offset[path] = offset + len(data)
        text = self._partial.pop(path, "") + data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        if lines and lines[-1]:
            self._partial[path] = lines[-1]
        return _events(store.id, lines[:-1])

    async def fetch(self, stores: list[TikvStore]) -> tuple[list[TikvLogEvent], list[str]]:
        async def one(store: TikvStore) -> list[TikvLogEvent] | str:
            return await asyncio.to_thread(self._read, store)

        return await _gather(stores, one)


class DockerLogSource:
    """``docker compose logs <service>`` (or ``docker logs <container>``) through python-on-whales.

    The service is the host part of the store's address (``tikv1:20160`` -> ``tikv1``).
    """

    name = "docker"

    def __init__(
        self,
        compose_file: str | None = None,
        compose_project: str | None = None,
        container_template: str = "{host}",
    ) -> None:
        self.compose_file = compose_file
        self.compose_project = compose_project
        self.container_template = container_template
        self._since: dict[int, datetime] = {}
        self._seen: dict[int, set[str]] = {}
        self._client: Any = None

    def _docker(self) -> Any:
        if self._client is None:
            from python_on_whales import DockerClient

            if self.compose_file:
                self._client = DockerClient(
                    compose_files=[self.compose_file], compose_project_name=self.compose_project
                )
            else:
                self._client = DockerClient()
        return self._client

    def _read(self, store: TikvStore) -> list[TikvLogEvent] | str:
        from python_on_whales.exceptions import DockerException

        host = _host(store.address)
        since = self._since.get(store.id)
        started = datetime.now(UTC)
        try:
            docker = self._docker()
            if self.compose_file:
                text = docker.compose.logs(
                    services=[host], since=since, no_log_prefix=True, tail=None if since else "500"
                )
            else:
                name = self.container_template.format(host=host, store_id=store.id)
                text = docker.container.logs(name, since=since, tail=None if since else 500)
        except DockerException as exc:
            return f"docker logs of store {store.id} ({host}): exit {exc.return_code}"
        except Exception as exc:
            return f"docker logs of store {store.id} ({host}): {type(exc).__name__}: {exc}"
        self._since[store.id] = started
        lines = [ln for ln in str(text).splitlines() if ln.strip()]
        seen = self._seen.get(store.id, set())
        fresh = [ln for ln in lines if ln not in seen]
        self._seen[store.id] = set(lines[-200:])
        return _events(store.id, fresh)

    async def fetch(self, stores: list[TikvStore]) -> tuple[list[TikvLogEvent], list[str]]:
        async def one(store: TikvStore) -> list[TikvLogEvent] | str:
            return await asyncio.to_thread(self._read, store)

        return await _gather(stores, one)
