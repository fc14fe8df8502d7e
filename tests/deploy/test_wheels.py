"""The package is the product: the Dockerfile's build steps, run outside Docker, give wheels
that installed into a fresh virtual environment run every command from an empty directory,
with nothing of this checkout on the path (the lab and the scenarios come from the package)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from operator_tui.testing.dockerfile import ROOT, dockerignore_kept, instructions, stages

pytestmark = pytest.mark.slow
TIMEOUT_S = 240


@dataclass(frozen=True)
class Installed:
    venv: Path
    empty: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "operator-tui"), *args],
            cwd=self.empty,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _context(dest: Path) -> Path:
    """The Docker build context: what ``.dockerignore`` lets in, without caches."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv")
    for kept in sorted(dockerignore_kept()):
        source = ROOT / kept
        target = dest / kept
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=junk)
        else:
            shutil.copy2(source, target)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (the image installs it with pip)")
    base = tmp_path_factory.mktemp("dist")
    context = _context(base / "context")
    wheels = base / "wheels"
    build = stages()[0]
    builds = [r for r in instructions(build, "RUN") if "build-wheels.sh" in r]
    assert builds == ["sh scripts/build-wheels.sh /wheels"]
    proc = subprocess.run(
        ["sh", "scripts/build-wheels.sh", str(wheels)],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    built = sorted(p.name for p in wheels.glob("*.whl"))
    assert [re.sub(r"-\d.*", "", n) for n in built] == ["operator_tikv", "operator_tui"]
    venv = base / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    install = subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
        + [str(p) for p in wheels.glob("*.whl")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    empty = base / "empty"
    empty.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPERATOR_", "ANTHROPIC_", "VIRTUAL_ENV", "PYTHON", "UV_"))
    }
    env |= {
        "PATH": str(venv / "bin"),  # no docker: `deploy local up` must stop on the engine only
        "HOME": str(base / "home"),
        "XDG_STATE_HOME": str(base / "state"),
        "COLUMNS": "160",
    }
    return Installed(venv, empty, env)


def test_nothing_comes_from_the_checkout(installed: Installed) -> None:
    code = (
        "import operator_tui, operator_tikv; print(operator_tui.__file__, operator_tikv.__file__)"
    )
    proc = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", code],
        cwd=installed.empty,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    )
    for path in proc.stdout.split():
        assert Path(path).is_relative_to(installed.venv), path


def test_version(installed: Installed) -> None:
    proc = installed.run("--version")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"operator-tui \d+\.\d+\.\d+\S*", lines[0])
    assert re.fullmatch(r"  subject tikv: operator-tikv \d+\.\d+\.\d+\S*", lines[1])


def test_eval_runs_a_shipped_scenario(installed: Installed) -> None:
    proc = installed.run("eval", "--only", "store-killed", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [s["scenario"] for s in doc["scenarios"]] == ["store-killed"]
    assert doc["scenarios"][0]["passed"] is True


def test_deploy_local_files_and_up(installed: Installed) -> None:
    files = installed.run("deploy", "local", "files")
    assert files.returncode == 0, files.stderr
    where = Path(files.stdout.strip())
    assert where == Path(installed.env["XDG_STATE_HOME"]) / "operator-tui" / "lab"
    assert (where / "docker-compose.yml").is_file()
    assert (where / "grafana" / "provisioning" / "dashboards" / "official.yaml").is_file()
    up = installed.run("deploy", "local", "up")
    assert up.returncode == 2
    assert up.stderr.count("\n") == 1 and "Traceback" not in up.stderr
    assert re.search(r"docker", up.stderr, re.IGNORECASE), up.stderr
    assert "compose file not found" not in up.stderr


def test_demo_headless_ticks_and_is_healthy(installed: Installed) -> None:
    proc = subprocess.Popen(
        [str(installed.venv / "bin" / "operator-tui"), "--demo", "--no-ui", "--health-port", "0"],
        cwd=installed.empty,
        env={**installed.env, "OPERATOR_MONITOR__INTERVAL_S": "0.5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if m := re.search(r"health: http://127\.0\.0\.1:(\d+)/healthz", line):
                port = int(m.group(1))
        assert port is not None, "no health address on stderr"
        ticks = 0
        for _ in range(2000):
            if time.monotonic() > deadline:
                break
            line = proc.stdout.readline()
            if not line:
                break
            ticks += json.loads(line)["event"] == "tick"
            if ticks >= 3:
                break
        assert ticks >= 3
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert resp.status == 200 and json.loads(resp.read())["ticks"] >= 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
