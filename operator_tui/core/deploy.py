"""The deployment protocol: bring a lab cluster up and down, look at it, break it.

Front ends (the ``deploy`` and ``chaos`` commands, the TUI's deploy menu and kill key) talk
to a ``Deployment`` that the subject plugin offers (``SubjectPlugin.deployment``), for
instance a Docker Compose project. A deployment is also a ``Chaos``: ``kill_store``/``start_store``
take a store id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from operator_tui.core.subject import Chaos


class DeployError(Exception):
    """A deployment failure worded for one line on a user's screen."""


class DeployUnavailable(DeployError):
    """The tooling itself is missing: no engine, no compose v2, no permission to use it."""


@dataclass(frozen=True, slots=True)
class DeploymentOptions:
    """What a front end hands ``SubjectPlugin.deployment``: the subject's own settings section
    (where its lab is described: a compose file, a project, its API endpoints) and the HTTP
    client, owned (and closed) by the caller."""

    settings: Any
    http: httpx.AsyncClient
    directory: Path | None = None
    """Where the lab keeps its files when the front end chose (``deploy local --dir``)."""


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service of the lab as the container engine reports it."""

    service: str
    container: str = ""
    state: str = "absent"
    health: str | None = None
    exit_code: int | None = None
    status: str = ""
    ports: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """Running, and healthy when the service has a health check."""
        return self.state == "running" and self.health in (None, "", "healthy")


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class UpProgress:
    """A step of ``up``: ``starting`` (compose is creating and waiting), ``stores`` (asking
    the subject which stores serve), ``load`` (starting the load generator), ``notice`` (one
    line for the user, e.g. where the lab's files are)."""

    phase: str
    services_ready: int = 0
    services_total: int = 0
    stores_up: int = 0
    stores_expected: int = 0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class UpResult:
    services: tuple[ServiceStatus, ...]
    stores_up: int
    endpoints: tuple[Endpoint, ...]


@dataclass(frozen=True, slots=True)
class ChaosTarget:
    """What ``chaos kill STORE`` resolved to; ``how`` names the rule that matched, in the
    deployment's words (``service`` when a service was named)."""

    service: str
    store_id: int | None
    how: str
    address: str = ""


ProgressCallback = Callable[[UpProgress], None]


@runtime_checkable
class Deployment(Chaos, Protocol):
    """A lab cluster the operator can start, stop, inspect and break."""

    name: str
    project: str

    async def check(self) -> None:
        """The tooling is there and answering, else ``DeployUnavailable`` in one line."""
        ...

    async def up(
        self,
        *,
        operator: bool = False,
        load: bool = False,
        workload: str | None = None,
        build: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> UpResult:
        """Start the cluster, wait for health, confirm with the subject that every store serves."""
        ...

    async def down(self, *, volumes: bool = True) -> str: ...

    async def status(self) -> list[ServiceStatus]: ...

    def logs(
        self, service: str | None = None, *, follow: bool = False, tail: int | None = None
    ) -> AsyncIterator[str]: ...

    async def restart(self, service: str) -> str: ...

    def endpoints(self) -> list[Endpoint]: ...

    async def resolve(self, target: str) -> ChaosTarget:
        """A store id or a service name to the service that runs it."""
        ...

    async def kill(self, target: str) -> str: ...

    async def start(self, target: str) -> str: ...
