"""A connection held open to each store's status port, so a dead store is seen between ticks.

When a TiKV process dies the kernel closes its sockets: a connection held to its status
port sees EOF (or a reset) within milliseconds, and a new connect is refused. So the
watch holds one idle connection per store (it sends nothing: TiKV's status server, hyper,
waits for a request without a deadline) and, when that connection ends, wakes the
monitor for the store. The wake's probe is one new connect: refused, reset or no answer
within ``probe_timeout_s`` confirms it; a connect that succeeds means the store only
dropped a connection, which is no fault. A store that refuses is retried every
``retry_s``; a connection that ends is not replaced sooner than ``min_gap_s`` after it
was opened, so a server that closes idle connections costs at most one connect and one
probe per store per ``min_gap_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from operator_tikv.metrics.base import status_url
from operator_tui.core.wakeup import Wake, WakeFn

log = logging.getLogger(__name__)


def store_key(store_id: int) -> str:
    return f"store {store_id}"


def _host_port(status_address: str) -> tuple[str, int] | None:
    parts = urlsplit(status_url(status_address))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname else None


async def port_is_dead(host: str, port: int, timeout_s: float) -> bool:
    """One connect: True when refused, reset or unanswered within ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            _reader, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return True
    writer.close()
    return False


class StoreWatch:
    """One task per watched store (at most ``max_stores``, lowest ids first).

    ``track`` sets the stores to watch (id -> status address); ``on_suspect`` is told a
    store's id when the probe confirms its port dead, so the tick that follows reads it.
    """

    def __init__(
        self,
        *,
        probe_timeout_s: float = 0.5,
        retry_s: float = 1.0,
        min_gap_s: float = 1.0,
        max_stores: int = 1024,
        on_suspect: Callable[[int], None] | None = None,
    ) -> None:
        self.probe_timeout_s = probe_timeout_s
        self.retry_s = retry_s
        self.min_gap_s = min_gap_s
        self.max_stores = max_stores
        self.on_suspect = on_suspect
        self.open_connections = 0
        self.wakes = 0
        self.dead: dict[int, str] = {}
        """Stores whose port was seen answering, then confirmed dead, and has not accepted a
        connect since, with what was seen: evidence that does not wait for Prometheus."""
        self._wanted: dict[int, str] = {}
        self._changed = asyncio.Event()
        self._tasks: dict[int, tuple[str, asyncio.Task[None]]] = {}

    def track(self, stores: Mapping[int, str]) -> None:
        wanted = {sid: stores[sid] for sid in sorted(stores)[: self.max_stores] if stores[sid]}
        if wanted != self._wanted:
            self._wanted = wanted
            self._changed.set()

    @property
    def watched(self) -> set[int]:
        return set(self._tasks)

    async def watch(self, wake: WakeFn) -> None:
        """Keep one watcher per tracked store until cancelled."""
        try:
            while True:
                await self._changed.wait()
                self._changed.clear()
                for sid, (address, task) in list(self._tasks.items()):
                    if self._wanted.get(sid) != address:
                        task.cancel()
                        del self._tasks[sid]
                        self.dead.pop(sid, None)
                for sid, address in self._wanted.items():
                    target = _host_port(address)
                    if sid not in self._tasks and target is not None:
                        task = asyncio.create_task(self._one(sid, *target, wake))
                        self._tasks[sid] = (address, task)
        finally:
            tasks = [task for _a, task in self._tasks.values()]
            self._tasks.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _one(self, sid: int, host: str, port: int, wake: WakeFn) -> None:
        loop = asyncio.get_running_loop()
        where = f"status port {host}:{port}"
        connected_before = False
        while True:
            opened = loop.time()
            try:
                async with asyncio.timeout(self.probe_timeout_s * 4):
                    reader, writer = await asyncio.open_connection(host, port)
            except (OSError, TimeoutError) as exc:
                if connected_before:
                    why = "refused" if isinstance(exc, ConnectionRefusedError) else "failed"
                    self._wake(wake, sid, host, port, f"{where}: connect {why}")
                connected_before = False
                await asyncio.sleep(self.retry_s)
                continue
            connected_before = True
            self.dead.pop(sid, None)
            self.open_connections += 1
            why = "closed by the store"
            try:
                while await reader.read(4096):
                    pass  # a status server sends nothing unasked; whatever comes is dropped
            except OSError as exc:
                why = "reset" if isinstance(exc, ConnectionResetError) else f"lost ({exc})"
            finally:
                self.open_connections -= 1
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
            self._wake(wake, sid, host, port, f"{where}: connection {why}")
            connected_before = False
            await asyncio.sleep(max(0.0, self.min_gap_s - (loop.time() - opened)))

    def _wake(self, wake: WakeFn, sid: int, host: str, port: int, reason: str) -> None:
        self.wakes += 1

        async def confirm() -> bool:
            dead = await port_is_dead(host, port, self.probe_timeout_s)
            if dead:
                self.dead[sid] = f"{reason}; a new connect found nothing answering"
                if self.on_suspect is not None:
                    self.on_suspect(sid)
            return dead

        wake(Wake(store_key(sid), reason, confirm))
