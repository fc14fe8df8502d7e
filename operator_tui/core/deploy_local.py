"""The compose lab on this machine, driven through python-on-whales.

python-on-whales runs the ``docker`` CLI in a subprocess and blocks, so every call goes
through ``asyncio.to_thread``; ``logs`` runs its own asyncio subprocess so a follow can be
stopped. ``client_call`` is the docker command line (``["docker"]``, ``["podman"]``,
``["sudo", "docker"]``, or a stand-in executable in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import yaml
from python_on_whales import DockerClient
from python_on_whales.client_config import ClientNotFoundError
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run as pow_run

from operator_tui.core.deploy import (
    ChaosTarget,
    DeployError,
    DeployUnavailable,
    Endpoint,
    ProgressCallback,
    ServiceStatus,
    UpProgress,
    UpResult,
)

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIN_COMPOSE = (2, 17)
INSTALL_DOCKER = "install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop"
INSTALL_COMPOSE = (
    "install the Compose v2 plugin (Debian/Ubuntu: apt-get install docker-compose-plugin; "
    "https://docs.docker.com/compose/install/linux/)"
)

_ENDPOINT_PORTS = (("Grafana", "grafana", 3000), ("Prometheus", "prometheus", 9090))


class LabSettings(Protocol):
    """The part of ``operator_tui.config.Settings`` the lab needs (core does not import config)."""

    compose_file: Path
    compose_project: str
    pd: list[str]


@dataclass(frozen=True, slots=True)
class PublishedPort:
    host_ip: str
    host_port: int
    container_port: int


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    profiles: tuple[str, ...] = ()
    ports: tuple[PublishedPort, ...] = ()


@dataclass(frozen=True, slots=True)
class ComposeLab:
    """What the compose file declares, read with pyyaml: no engine needed."""

    path: Path
    services: dict[str, ServiceSpec] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ComposeLab:
        path = resolve_compose_file(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DeployError(f"cannot read compose file {path}: {first}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
            raise DeployError(f"compose file {path} has no services")
        services: dict[str, ServiceSpec] = {}
        for name, spec in doc["services"].items():
            spec = spec if isinstance(spec, dict) else {}
            profiles = tuple(str(p) for p in spec.get("profiles") or ())
            ports = tuple(p for p in (_parse_port(x) for x in spec.get("ports") or ()) if p)
            services[str(name)] = ServiceSpec(str(name), profiles, ports)
        return cls(path, services)

    @property
    def profiles(self) -> list[str]:
        return sorted({p for s in self.services.values() for p in s.profiles})

    @property
    def core_services(self) -> list[str]:
        """Services that start without a profile: the cluster and its monitoring."""
        return [n for n, s in self.services.items() if not s.profiles]

    @property
    def tikv_services(self) -> list[str]:
        """Store services in order; ``store N`` by convention is the Nth of these."""
        return [n for n in self.core_services if re.fullmatch(r"tikv\d*", n)]

    @property
    def pd_services(self) -> list[str]:
        return [n for n in self.core_services if re.fullmatch(r"pd\d*", n)]

    def in_profile(self, profile: str) -> list[str]:
        return [n for n, s in self.services.items() if profile in s.profiles]

    def published(self, service: str, container_port: int) -> str | None:
        spec = self.services.get(service)
        for port in spec.ports if spec else ():
            if port.container_port == container_port:
                host = port.host_ip if port.host_ip not in ("", "0.0.0.0", "::") else "127.0.0.1"
                return f"http://{host}:{port.host_port}"
        return None

    def pd_url(self) -> str | None:
        return next((u for s in self.pd_services if (u := self.published(s, 2379))), None)

    def endpoints(self) -> list[Endpoint]:
        out = [
            Endpoint(label, url)
            for label, service, port in _ENDPOINT_PORTS
            if (url := self.published(service, port))
        ]
        if pd := self.pd_url():
            out.append(Endpoint("PD API", pd))
        return out


def resolve_compose_file(path: Path) -> Path:
    """A relative path is tried from the working directory, then from the project checkout."""
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, PROJECT_ROOT / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise DeployError(
        f"compose file not found: {path} (run from the repository root or set OPERATOR_COMPOSE_FILE)"
    )


def _parse_port(entry: Any) -> PublishedPort | None:
    if isinstance(entry, dict):
        if entry.get("published") in (None, ""):
            return None
        return PublishedPort(
            str(entry.get("host_ip", "")), int(entry["published"]), int(entry["target"])
        )
    text = str(entry).split("/")[0]
    if text.startswith("["):
        host, _, rest = text[1:].partition("]:")
        parts = [host, *rest.split(":")]
    else:
        parts = text.split(":")
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return PublishedPort("", int(parts[0]), int(parts[1]))
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return PublishedPort(parts[0], int(parts[1]), int(parts[2]))
    return None


def parse_ps_json(text: str) -> list[ServiceStatus]:
    """``docker compose ps --format json``: one object per line (v2.21+) or one array (older)."""
    text = text.strip()
    if not text:
        return []
    rows: list[Any]
    try:
        if text.startswith("["):
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise DeployError(f"docker compose ps printed something that is not JSON: {exc}") from None
    out = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        ports = tuple(
            f"{p.get('URL') or '0.0.0.0'}:{p['PublishedPort']}->{p.get('TargetPort')}/{p.get('Protocol', 'tcp')}"
            for p in row.get("Publishers") or ()
            if isinstance(p, dict) and p.get("PublishedPort")
        )
        exit_code = row.get("ExitCode")
        out.append(
            ServiceStatus(
                service=str(row.get("Service", "")),
                container=str(row.get("Name", "")),
                state=str(row.get("State", "")),
                health=str(row.get("Health") or "") or None,
                exit_code=int(exit_code) if isinstance(exit_code, int) else None,
                status=str(row.get("Status", "")),
                ports=ports,
            )
        )
    return out


def _one_line(exc: DockerException) -> str:
    """The line of a docker failure a person needs: the last thing it said on stderr."""
    for stream in (exc.stderr, exc.stdout):
        lines = [ln.strip() for ln in (stream or "").splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith(("Run '", "See '"))]
        if lines:
            return lines[-1]
    return f"`{' '.join(exc.docker_command[1:3])}` exited with {exc.return_code}"


def _probe(args: list[str]) -> tuple[bool, str]:
    """Run a docker command: (True, stdout) or (False, the first line it complained with)."""
    try:
        return True, pow_run(args).strip()
    except DockerException as exc:
        for stream in (exc.stderr, exc.stdout):
            lines = [ln.strip() for ln in (stream or "").splitlines() if ln.strip()]
            if lines:
                return False, lines[0]
        return False, f"exit code {exc.return_code}"
    except OSError as exc:
        return False, str(exc)


class LocalDeployment:
    """The compose lab (``compose/tikv``) on this machine's container engine."""

    name = "local"

    def __init__(
        self,
        compose_file: Path,
        project: str,
        http: httpx.AsyncClient,
        *,
        pd_endpoints: Sequence[str] = (),
        client_call: Sequence[str] = ("docker",),
        wait_timeout_s: int = 300,
        store_wait_s: float = 180.0,
        poll_s: float = 2.0,
    ) -> None:
        self.lab = ComposeLab.load(compose_file)
        self.project = project
        self._http = http
        self._client_call = list(client_call)
        self._wait_timeout_s = wait_timeout_s
        self._store_wait_s = store_wait_s
        self._poll_s = poll_s
        urls = [u for u in (self.lab.pd_url(), *pd_endpoints) if u]
        self.pd_endpoints = list(dict.fromkeys(u.rstrip("/") for u in urls))
        self._docker = DockerClient(
            compose_files=[self.lab.path],
            compose_profiles=self.lab.profiles,
            compose_project_name=project,
            client_call=self._client_call,
        )
        self._checked = False

    @classmethod
    def from_settings(
        cls, settings: LabSettings, http: httpx.AsyncClient, **kwargs: Any
    ) -> LocalDeployment:
        return cls(
            settings.compose_file,
            settings.compose_project,
            http,
            pd_endpoints=settings.pd,
            **kwargs,
        )

    # Plumbing

    def _base(self) -> list[str]:
        try:
            return [str(x) for x in self._docker.client_config.docker_cmd]
        except ClientNotFoundError:
            raise self._no_binary() from None

    def _compose_base(self) -> list[str]:
        try:
            return [str(x) for x in self._docker.client_config.docker_compose_cmd]
        except ClientNotFoundError:
            raise self._no_binary() from None

    def _no_binary(self) -> DeployUnavailable:
        return DeployUnavailable(f"`{self._client_call[0]}` not found on PATH: {INSTALL_DOCKER}")

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def guarded() -> T:
            try:
                return fn(*args, **kwargs)
            except ClientNotFoundError:
                raise self._no_binary() from None
            except DockerException as exc:
                raise DeployError(_one_line(exc)) from None

        return await asyncio.to_thread(guarded)

    async def check_engine(self) -> None:
        """Binary on PATH, Compose v2 recent enough, engine answering: else one clear line."""
        if self._checked:
            return
        if shutil.which(self._client_call[0]) is None:
            raise self._no_binary()
        base = self._base()
        ok, out = await asyncio.to_thread(_probe, [*base, "compose", "version", "--short"])
        if not ok:
            raise DeployUnavailable(
                f"Docker Compose v2 is missing (`docker compose version` failed: {out}): {INSTALL_COMPOSE}"
            )
        found = re.search(r"(\d+)\.(\d+)", out)
        if found is None or (int(found[1]), int(found[2])) < MIN_COMPOSE:
            raise DeployUnavailable(
                f"Docker Compose {out.strip() or '(unknown version)'} is too old, "
                f"{MIN_COMPOSE[0]}.{MIN_COMPOSE[1]} or newer is needed: {INSTALL_COMPOSE}"
            )
        ok, out = await asyncio.to_thread(
            _probe, [*base, "version", "--format", "{{.Server.Version}}"]
        )
        if not ok:
            if "permission denied" in out.lower():
                raise DeployUnavailable(
                    "permission denied on the Docker socket: add your user to the docker group "
                    "(sudo usermod -aG docker $USER, then log in again)"
                )
            raise DeployUnavailable(
                f"the Docker engine is not running ({out}): start it "
                "(sudo systemctl start docker, or open Docker Desktop)"
            )
        self._checked = True

    def _service(self, service: str) -> str:
        if service not in self.lab.services:
            known = ", ".join(self.lab.services)
            raise DeployError(f"no service {service!r} in {self.lab.path.name} (services: {known})")
        return service

    # Deployment

    def endpoints(self) -> list[Endpoint]:
        return self.lab.endpoints()

    async def status(self) -> list[ServiceStatus]:
        await self.check_engine()
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
        await self.check_engine()
        report = on_progress or (lambda _p: None)
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
        stores_up = await self._wait_for_stores(report)
        if load_services:
            await self._start_load(load_services, workload, build, report)
        return UpResult(tuple(await self.status()), stores_up, tuple(self.endpoints()))

    async def _wait_for_stores(self, report: ProgressCallback) -> int:
        expected = len(self.lab.tikv_services)
        deadline = time.monotonic() + self._store_wait_s
        up, last_error = 0, ""
        while True:
            try:
                stores = await self._pd_stores()
                up = sum(1 for s in stores if s.get("state_name") == "Up")
                last_error = ""
            except DeployError as exc:
                last_error = str(exc)
            report(UpProgress("stores", stores_up=up, stores_expected=expected, detail=last_error))
            if up >= expected:
                return up
            if time.monotonic() >= deadline:
                why = f" ({last_error})" if last_error else ""
                raise DeployError(
                    f"only {up} of {expected} stores are Up in PD after {self._store_wait_s:.0f}s{why}; "
                    f"see `operator-tui deploy local logs {self.lab.tikv_services[0] if expected else 'pd0'}`"
                )
            await asyncio.sleep(self._poll_s)

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
        await self.check_engine()
        await self._call(
            self._docker.compose.down, remove_orphans=True, volumes=volumes, timeout=10, quiet=True
        )
        kept = "" if volumes else " (volumes kept)"
        return f"lab {self.project} stopped and removed{kept}"

    async def restart(self, service: str) -> str:
        self._service(service)
        await self.check_engine()
        await self._call(self._docker.compose.restart, [service])
        return f"restarted {service}"

    async def logs(
        self, service: str | None = None, *, follow: bool = False, tail: int | None = None
    ) -> AsyncIterator[str]:
        if service is not None:
            self._service(service)
        await self.check_engine()
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

    async def _pd_stores(self) -> list[dict[str, Any]]:
        """``/pd/api/v1/stores`` from the first PD that answers, as plain ``store`` objects."""
        errors = []
        for base in self.pd_endpoints:
            try:
                resp = await self._http.get(f"{base}/pd/api/v1/stores", timeout=5.0)
                resp.raise_for_status()
                body = resp.json()
                return [
                    s["store"] for s in body.get("stores") or () if isinstance(s.get("store"), dict)
                ]
            except (httpx.HTTPError, ValueError, KeyError, AttributeError, TypeError) as exc:
                errors.append(f"{base}: {type(exc).__name__}" + (f" {exc}" if str(exc) else ""))
        raise DeployError("PD did not answer: " + ("; ".join(errors) or "no PD endpoint"))

    async def resolve(self, target: str) -> ChaosTarget:
        target = target.strip()
        if target in self.lab.services:
            return ChaosTarget(target, None, "service")
        if not target.isdigit():
            stores = ", ".join(self.lab.tikv_services)
            raise DeployError(
                f"unknown store or service {target!r}: give a store id or one of {stores}"
            )
        store_id = int(target)
        try:
            stores = await self._pd_stores()
        except DeployError:
            tikv = self.lab.tikv_services
            if 1 <= store_id <= len(tikv):
                return ChaosTarget(tikv[store_id - 1], store_id, "convention")
            raise DeployError(
                f"PD is unreachable and store {store_id} is not between 1 and {len(tikv)} "
                f"(store N = the Nth tikv service); name the service instead, e.g. {tikv[0] if tikv else 'tikv0'}"
            ) from None
        store = next((s for s in stores if s.get("id") == store_id), None)
        if store is None:
            ids = ", ".join(str(s.get("id")) for s in stores) or "none"
            raise DeployError(f"PD has no store {store_id} (stores: {ids})")
        address = str(store.get("address", ""))
        host = address.rsplit(":", 1)[0]
        if host not in self.lab.services:
            raise DeployError(
                f"store {store_id} is at {address}, which is not a service of {self.lab.path.name}"
            )
        return ChaosTarget(host, store_id, "pd", address)

    async def kill(self, target: str) -> str:
        await self.check_engine()
        resolved = await self.resolve(target)
        await self._call(self._docker.compose.kill, [resolved.service])
        again = resolved.store_id if resolved.store_id is not None else resolved.service
        return (
            f"killed {_describe(resolved)}; it stays down until `operator-tui chaos start {again}`"
        )

    async def start(self, target: str) -> str:
        await self.check_engine()
        resolved = await self.resolve(target)
        await self._call(self._docker.compose.start, [resolved.service])
        return f"started {_describe(resolved)}"

    async def kill_store(self, store_id: int) -> str:
        return await self.kill(str(store_id))

    async def start_store(self, store_id: int) -> str:
        return await self.start(str(store_id))


def _describe(target: ChaosTarget) -> str:
    if target.store_id is None:
        return target.service
    if target.how == "pd":
        return f"{target.service} (store {target.store_id} at {target.address})"
    return f"{target.service} (store {target.store_id}, by convention: the Nth tikv service)"
