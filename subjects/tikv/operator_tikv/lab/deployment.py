"""``LocalDeployment``: the compose lab driven through python-on-whales, as a ``Deployment``.

Every blocking docker call goes through ``asyncio.to_thread``; ``logs`` runs its own asyncio
subprocess so a follow can be stopped. ``client_call`` is the docker command line
(``["docker"]``, ``["podman"]``, ``["sudo", "docker"]``, or a stand-in executable in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from python_on_whales import DockerClient
from python_on_whales.client_config import ClientNotFoundError
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run as pow_run

from operator_tikv.lab.compose_file import ComposeLab
from operator_tikv.lab.dashboards import provision_official
from operator_tikv.lab.engine import (
    check_engine,
    no_binary,
    one_line,
    parse_ps_json,
    require_binary,
)
from operator_tikv.lab.files import current_compose_file, default_state_dir, materialize
from operator_tikv.lab.pd_stores import describe_target, pd_stores, resolve_target, wait_for_stores
from operator_tui.core.deploy import (
    ChaosTarget,
    DeployError,
    DeploymentOptions,
    Endpoint,
    ProgressCallback,
    ServiceStatus,
    UpProgress,
    UpResult,
)

T = TypeVar("T")


class LocalDeployment:
    """The compose lab (shipped in ``lab/compose``, or a file of the user's) on this machine's container engine."""

    name = "local"

    def __init__(
        self,
        compose_file: Path | None,
        project: str,
        http: httpx.AsyncClient,
        *,
        directory: Path | None = None,
        pd_endpoints: Sequence[str] = (),
        client_call: Sequence[str] = ("docker",),
        wait_timeout_s: int = 300,
        store_wait_s: float = 180.0,
        poll_s: float = 2.0,
    ) -> None:
        self.managed = compose_file is None
        """The shipped lab, copied into ``directory`` by ``up``; else a compose file of the user's."""
        self.directory = (directory or default_state_dir()) if compose_file is None else None
        self.lab = ComposeLab.load(compose_file or current_compose_file(self.directory))
        self.project = project
        self._http = http
        self._client_call = list(client_call)
        self._wait_timeout_s = wait_timeout_s
        self._store_wait_s = store_wait_s
        self._poll_s = poll_s
        urls = [u for u in (self.lab.pd_url(), *pd_endpoints) if u]
        self.pd_endpoints = list(dict.fromkeys(u.rstrip("/") for u in urls))
        self._docker = self._client()
        self._checked = False

    def _client(self) -> DockerClient:
        return DockerClient(
            compose_files=[self.lab.path],
            compose_profiles=self.lab.profiles,
            compose_project_name=self.project,
            client_call=self._client_call,
        )

    def files(self) -> Path:
        """The directory Compose runs the lab from, written now when this is the shipped lab."""
        if self.directory is None:
            return self.lab.path.parent
        self.lab = ComposeLab.load(materialize(self.directory))
        self._docker = self._client()
        return self.directory

    @classmethod
    def from_options(cls, options: DeploymentOptions, **kwargs: Any) -> LocalDeployment:
        section = options.settings
        return cls(
            section.compose_file,
            section.compose_project,
            options.http,
            directory=options.directory or section.lab_dir,
            pd_endpoints=tuple(section.pd),
            **kwargs,
        )

    # Plumbing

    def _base(self) -> list[str]:
        try:
            return [str(x) for x in self._docker.client_config.docker_cmd]
        except ClientNotFoundError:
            raise no_binary(self._client_call[0]) from None

    def _compose_base(self) -> list[str]:
        try:
            return [str(x) for x in self._docker.client_config.docker_compose_cmd]
        except ClientNotFoundError:
            raise no_binary(self._client_call[0]) from None

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def guarded() -> T:
            try:
                return fn(*args, **kwargs)
            except ClientNotFoundError:
                raise no_binary(self._client_call[0]) from None
            except DockerException as exc:
                raise DeployError(one_line(exc)) from None

        return await asyncio.to_thread(guarded)

    async def check(self) -> None:
        if self._checked:
            return
        require_binary(self._client_call[0])
        await check_engine(self._base())
        self._checked = True

    def _service(self, service: str) -> str:
        if service not in self.lab.services:
            known = ", ".join(self.lab.services)
            raise DeployError(f"no service {service!r} in {self.lab.path.name} (services: {known})")
        return service

    async def _pd_stores(self) -> list[dict[str, Any]]:
        return await pd_stores(self._http, self.pd_endpoints)

    # Deployment

    def endpoints(self) -> list[Endpoint]:
        return self.lab.endpoints()

    async def status(self) -> list[ServiceStatus]:
        await self.check()
        out = await self._call(pow_run, [*self._compose_base(), "ps", "--all", "--format", "json"])
        found = parse_ps_json(out)
        seen = {s.service for s in found}
        order = {name: i for i, name in enumerate(self.lab.services)}
        found += [ServiceStatus(service=n) for n in self.lab.core_services if n not in seen]
        return sorted(found, key=lambda s: (order.get(s.service, len(order)), s.container))

    async def up(
        self,
        *,
        operator: bool = False,
        load: bool = False,
        workload: str | None = None,
        build: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> UpResult:
        await self.check()
        report = on_progress or (lambda _p: None)
        if self.managed:
            directory = await asyncio.to_thread(self.files)
            report(UpProgress("notice", detail=f"lab files in {directory}"))
            notice = await provision_official(self._http, directory, self.lab)
            if notice:
                report(UpProgress("notice", detail=notice))
        wanted = self.lab.core_services + (self.lab.in_profile("operator") if operator else [])
        load_services = self.lab.in_profile("load") if load else []
        if load and not load_services:
            raise DeployError(f"{self.lab.path.name} has no service in the profile 'load'")
        if workload is not None and not load:
            raise DeployError("a workload only applies with --load")
        report(UpProgress("starting", 0, len(wanted), detail="pulling images, creating containers"))
        compose_up = asyncio.create_task(
            self._call(
                self._docker.compose.up,
                wanted,
                build=build,
                detach=True,
                wait=True,
                wait_timeout=self._wait_timeout_s,
                quiet=True,
            )
        )
        while True:
            done, _ = await asyncio.wait({compose_up}, timeout=self._poll_s)
            if done:
                break
            with contextlib.suppress(DeployError):
                ready = sum(s.ready for s in await self.status() if s.service in wanted)
                report(
                    UpProgress("starting", ready, len(wanted), detail="waiting for health checks")
                )
        await compose_up
        report(UpProgress("starting", len(wanted), len(wanted), detail="healthy"))
        stores_up = await wait_for_stores(
            self.lab, self._pd_stores, report, self._store_wait_s, self._poll_s
        )
        if load_services:
            await self._start_load(load_services, workload, build, report)
        return UpResult(tuple(await self.status()), stores_up, tuple(self.endpoints()))

    async def _start_load(
        self, services: list[str], workload: str | None, build: bool, report: ProgressCallback
    ) -> None:
        env: dict[str, str] = {}
        if workload is not None:
            known = self.workloads()
            if known and workload not in known:
                raise DeployError(
                    f"unknown workload {workload!r} (choose one of: {', '.join(known)})"
                )
            env["YCSB_WORKLOAD"] = workload
        report(UpProgress("load", detail=f"starting {', '.join(services)}"))
        cmd = [*self._compose_base(), "up", "--detach", *(["--build"] if build else []), *services]
        await self._call(pow_run, cmd, env=env)

    def workloads(self) -> list[str]:
        folder = self.lab.path.parent / "ycsb" / "workloads"
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    async def down(self, *, volumes: bool = True) -> str:
        await self.check()
        await self._call(
            self._docker.compose.down, remove_orphans=True, volumes=volumes, timeout=10, quiet=True
        )
        kept = "" if volumes else " (volumes kept)"
        return f"lab {self.project} stopped and removed{kept}"

    async def restart(self, service: str) -> str:
        self._service(service)
        await self.check()
        await self._call(self._docker.compose.restart, [service])
        return f"restarted {service}"

    async def logs(
        self, service: str | None = None, *, follow: bool = False, tail: int | None = None
    ) -> AsyncIterator[str]:
        if service is not None:
            self._service(service)
        await self.check()
        cmd = [*self._compose_base(), "logs", "--no-color"]
        if tail is not None:
            cmd += ["--tail", str(tail)]
        if follow:
            cmd.append("--follow")
        if service is not None:
            cmd.append(service)
        # Containers' stderr (TiKV logs there) comes out on compose's stderr: read both as one.
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, limit=1 << 20
        )
        assert proc.stdout is not None
        last = ""
        try:
            async for raw in proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                last = line.strip() or last
                yield line
            if await proc.wait() != 0:
                raise DeployError(last or f"docker compose logs exited with {proc.returncode}")
        finally:
            if proc.returncode is None:
                proc.terminate()
                with contextlib.suppress(ProcessLookupError):
                    await asyncio.wait_for(proc.wait(), timeout=5)

    # Chaos

    async def resolve(self, target: str) -> ChaosTarget:
        return await resolve_target(self.lab, target, self._pd_stores)

    async def kill(self, target: str) -> str:
        await self.check()
        resolved = await self.resolve(target)
        await self._call(self._docker.compose.kill, [resolved.service])
        again = resolved.store_id if resolved.store_id is not None else resolved.service
        return f"killed {describe_target(resolved)}; it stays down until `operator-tui chaos start {again}`"

    async def start(self, target: str) -> str:
        await self.check()
        resolved = await self.resolve(target)
        await self._call(self._docker.compose.start, [resolved.service])
        return f"started {describe_target(resolved)}"

    async def kill_store(self, store_id: int) -> str:
        return await self.kill(str(store_id))

    async def start_store(self, store_id: int) -> str:
        return await self.start(str(store_id))
