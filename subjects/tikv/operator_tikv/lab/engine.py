"""The container engine behind the lab: is it there, what does ``compose ps`` say, what failed.

python-on-whales runs the ``docker`` CLI in a subprocess and blocks, so callers run these
through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from typing import Any

from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run as pow_run

from operator_tui.core.deploy import DeployError, DeployUnavailable, ServiceStatus

MIN_COMPOSE = (2, 17)
INSTALL_DOCKER = "install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop"
INSTALL_COMPOSE = (
    "install the Compose v2 plugin (Debian/Ubuntu: apt-get install docker-compose-plugin; "
    "https://docs.docker.com/compose/install/linux/)"
)


def no_binary(binary: str) -> DeployUnavailable:
    return DeployUnavailable(f"`{binary}` not found on PATH: {INSTALL_DOCKER}")


def require_binary(binary: str) -> None:
    if shutil.which(binary) is None:
        raise no_binary(binary)


async def check_engine(base: list[str]) -> None:
    """Compose v2 recent enough and the engine answering: else one clear line.

    ``base`` is the docker command line (``["docker"]``, ``["sudo", "docker"]``...).
    """
    ok, out = await asyncio.to_thread(probe, [*base, "compose", "version", "--short"])
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
    ok, out = await asyncio.to_thread(probe, [*base, "version", "--format", "{{.Server.Version}}"])
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


def one_line(exc: DockerException) -> str:
    """The line of a docker failure a person needs: the last thing it said on stderr."""
    for stream in (exc.stderr, exc.stdout):
        lines = [ln.strip() for ln in (stream or "").splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith(("Run '", "See '"))]
        if lines:
            return lines[-1]
    return f"`{' '.join(exc.docker_command[1:3])}` exited with {exc.return_code}"


def probe(args: list[str]) -> tuple[bool, str]:
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
