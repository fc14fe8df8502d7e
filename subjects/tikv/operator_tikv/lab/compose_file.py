"""What the compose file declares, read with pyyaml: services, profiles, published ports.

Which services are stores and which PD follows the lab's naming (``tikvN``, ``pdN``); store N
is by convention the Nth ``tikv`` service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from operator_tui.core.deploy import DeployError, Endpoint

PROJECT_ROOT = Path(__file__).resolve().parents[4]
PD_CLIENT_PORT = 2379

_ENDPOINT_PORTS = (("Grafana", "grafana", 3000), ("Prometheus", "prometheus", 9090))


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
    """The services of one compose file."""

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
        return next((u for s in self.pd_services if (u := self.published(s, PD_CLIENT_PORT))), None)

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
