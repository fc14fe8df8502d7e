"""``SimCluster``: the model served on loopback ports, with a clock that drives it.

One aiohttp application answers all three PD members and another answers every
store's status port; each port is its own ``SockSite`` so a killed store or PD
member really stops listening (connections are refused) and comes back on the
same port when restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from types import TracebackType
from typing import Any

from aiohttp import web

from operator_tikv.sim.config import MANUAL_EPOCH_S, SimConfig
from operator_tikv.sim.encode import NS
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.http_pd import build_pd_app
from operator_tikv.sim.http_store import build_store_app, close_connections
from operator_tikv.sim.model import Cluster

STEP_NS = NS
log = logging.getLogger(__name__)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


class _ListenError(OSError):
    """A port that could not be bound, and which (0 for a free port)."""

    def __init__(self, port: int, reason: str) -> None:
        super().__init__(reason)
        self.port = port
        self.reason = reason


def _report_clock_failure(task: asyncio.Task[None]) -> None:
    """A crashed clock would freeze simulated time silently; say why once."""
    if not task.cancelled() and task.exception() is not None:
        log.error("simulator clock stopped: %s", task.exception(), exc_info=task.exception())


class SimCluster:
    """A running simulated TiKV cluster: 3 PD members and ``config.stores`` stores."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.config.validate()
        self.model: Cluster | None = None
        self._pd_runner: web.AppRunner | None = None
        self._store_runner: web.AppRunner | None = None
        self._pd_sites: dict[int, web.SockSite] = {}
        self._store_sites: dict[int, web.SockSite] = {}
        self._port_member: dict[int, int] = {}
        self._port_store: dict[int, int] = {}
        self._clock_task: asyncio.Task[None] | None = None
        self._sync_tasks: set[asyncio.Task[None]] = set()
        self._sync_lock = asyncio.Lock()
        self._resume: dict[int, asyncio.Event] = {}
        self._stopping = asyncio.Event()
        self._wall0 = 0.0
        self._sim0 = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        cfg = self.config
        if cfg.start_time_s is not None:
            start_ns = int(cfg.start_time_s * NS)
        elif cfg.manual_clock:
            start_ns = MANUAL_EPOCH_S * NS
        else:
            start_ns = time.time_ns() // 1_000_000 * 1_000_000
        self.model = Cluster(cfg, start_ns)
        self._pd_runner = web.AppRunner(build_pd_app(self), access_log=None, handle_signals=False)
        self._store_runner = web.AppRunner(
            build_store_app(self), access_log=None, handle_signals=False
        )
        await self._pd_runner.setup()
        await self._store_runner.setup()
        try:
            for idx, member in enumerate(self.model.members):
                port = cfg.pd_port + idx if cfg.pd_port else 0
                member.port = await self._open_pd(idx, port)
            for sid, store in self.model.stores.items():
                port = cfg.store_port_base + sid if cfg.store_port_base else 0
                store.status_port = await self._open_store(sid, port)
        except _ListenError as exc:
            await self.stop()
            where = f"{cfg.host}:{exc.port}" if exc.port else cfg.host
            raise SimError(0, f"cannot listen on {where}: {exc.reason}") from exc
        for sid in self.model.stores:
            self._resume[sid] = asyncio.Event()
            self._resume[sid].set()
        self._wall0 = time.monotonic()
        self._sim0 = self.model.now
        if not cfg.manual_clock:
            self._clock_task = asyncio.create_task(self._clock(), name="sim-clock")
            self._clock_task.add_done_callback(_report_clock_failure)

    async def stop(self) -> None:
        self._stopping.set()
        for ev in self._resume.values():
            ev.set()
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
            self._clock_task = None
        for task in list(self._sync_tasks):
            with contextlib.suppress(Exception):
                await task
        for runner in (self._pd_runner, self._store_runner):
            if runner is not None:
                await runner.cleanup()
        self._pd_runner = self._store_runner = None
        self._pd_sites.clear()
        self._store_sites.clear()

    async def __aenter__(self) -> SimCluster:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _listen(self, runner: web.AppRunner | None, port: int) -> tuple[web.SockSite, int]:
        assert runner is not None
        try:
            sock = _bind(self.config.host, port)
        except OSError as exc:
            raise _ListenError(port, exc.strerror or str(exc)) from exc
        site = web.SockSite(runner, sock)
        await site.start()
        return site, sock.getsockname()[1]

    async def _open_pd(self, idx: int, port: int) -> int:
        self._pd_sites[idx], actual = await self._listen(self._pd_runner, port)
        self._port_member[actual] = idx
        return actual

    async def _open_store(self, sid: int, port: int) -> int:
        self._store_sites[sid], actual = await self._listen(self._store_runner, port)
        self._port_store[actual] = sid
        return actual

    # ------------------------------------------------------------------ clock
    async def _clock(self) -> None:
        """Advance simulated time at ``speed`` x wall time in whole simulated seconds."""
        assert self.model is not None
        speed = self.config.speed
        while True:
            target = self._sim0 + int((time.monotonic() - self._wall0) * speed * NS)
            steps = 0
            while self.model.now + STEP_NS <= target and steps < 200:
                self.model.step(STEP_NS)
                steps += 1
                if steps % 20 == 0:
                    await asyncio.sleep(0)
            if steps:
                await self.sync_ports()
            behind = target - self.model.now
            delay = max(0.005, min(0.25, (STEP_NS - behind) / NS / speed))
            await asyncio.sleep(delay)

    async def advance(self, seconds: float) -> None:
        """Run ``seconds`` of simulated time now (whole-second steps, then the remainder)."""
        assert self.model is not None
        left = int(seconds * NS)
        count = 0
        while left > 0:
            dt = min(STEP_NS, left)
            self.model.step(dt)
            left -= dt
            count += 1
            if count % 50 == 0:
                await asyncio.sleep(0)
        await self.sync_ports()

    @property
    def now_ns(self) -> int:
        assert self.model is not None
        return self.model.now

    # ------------------------------------------------------------------ ports follow the model
    def _schedule_sync(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.sync_ports())
        self._sync_tasks.add(task)
        task.add_done_callback(self._sync_tasks.discard)

    async def sync_ports(self) -> None:
        """Close the ports of dead stores and members, reopen those that came back."""
        if self.model is None or self._stopping.is_set():
            return
        async with self._sync_lock:
            for idx, member in enumerate(self.model.members):
                site = self._pd_sites.get(idx)
                if member.alive and site is None:
                    await self._open_pd(idx, member.port)
                elif not member.alive and site is not None:
                    del self._pd_sites[idx]
                    await site.stop()
            for sid, store in self.model.stores.items():
                site = self._store_sites.get(sid)
                if store.alive and site is None:
                    await self._open_store(sid, store.status_port)
                elif not store.alive and site is not None:
                    del self._store_sites[sid]
                    await site.stop()
                    close_connections(self._store_runner, store.status_port)
                ev = self._resume.get(sid)
                if ev is not None:
                    if store.paused:
                        ev.clear()
                    else:
                        ev.set()

    async def wait_unpaused(self, sid: int) -> None:
        """A paused store's port accepts connections but answers nothing until resumed."""
        ev = self._resume.get(sid)
        if ev is not None and not ev.is_set():
            await ev.wait()

    def member_for_port(self, port: int) -> int:
        return self._port_member.get(port, 0)

    def store_for_port(self, port: int) -> int:
        return self._port_store.get(port, 0)

    # ------------------------------------------------------------------ public view
    @property
    def pd_urls(self) -> list[str]:
        assert self.model is not None
        return [f"http://{self.config.host}:{m.port}" for m in self.model.members]

    @property
    def store_status_urls(self) -> dict[int, str]:
        assert self.model is not None
        return {
            sid: f"http://{self.config.host}:{s.status_port}"
            for sid, s in self.model.stores.items()
        }

    def prometheus_targets(self) -> dict[str, list[str]]:
        assert self.model is not None
        return {
            "pd": [f"{self.config.host}:{m.port}" for m in self.model.members],
            "tikv": [s.status_address for s in self.model.stores.values()],
        }

    # ------------------------------------------------------------------ control
    async def kill_store(self, store_id: int) -> str:
        fid = self.add_fault("kill_store", store_id)
        await self.sync_ports()
        return fid

    async def start_store(self, store_id: int) -> list[str]:
        """Clear every kill of the store (restarting it); returns the cleared fault ids."""
        model = self._require()
        model.store_or_404(store_id)
        cleared = [
            f.id
            for f in list(model.faults.values())
            if f.kind == "kill_store" and f.store_id == store_id
        ]
        for fid in cleared:
            model.clear_fault(fid)
        if not cleared:
            model.start_store(store_id)
        await self.sync_ports()
        return cleared

    def add_fault(self, kind: str, store_id: int | None = None, **params: Any) -> str:
        fault = self._require().add_fault(kind, store_id, params)
        self._schedule_sync()
        return fault.id

    def list_faults(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self._require().faults.values()]

    def clear_fault(self, fault_id: str) -> dict[str, Any]:
        """Undo a fault (a killed store restarts, a paused one resumes...); returns what was cleared."""
        fault = self._require().clear_fault(fault_id)
        self._schedule_sync()
        return fault.as_dict()

    def kill_pd_leader(self) -> str:
        return self.add_fault("kill_pd_leader")

    def _require(self) -> Cluster:
        if self.model is None:
            raise SimError(503, "simulator not started")
        return self.model
