"""``deploy local ...`` and ``chaos ...`` through a stand-in docker: the argv each produces,
what the user sees, and the one-line exit 2 when the engine or compose v2 is missing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from operator_tikv.lab.deployment import LocalDeployment

from operator_tui.cli import main
from operator_tui.core.deploy import DeployError, Deployment, UpProgress
from operator_tui.core.subject import Chaos

CORE = ["pd0", "pd1", "pd2", "tikv0", "tikv1", "tikv2", "prometheus", "grafana"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("OPERATOR_", "ANTHROPIC_", "STANDIN_", "YCSB_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def lab(lab_copy: Callable[[int], Path], fake_pd, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The lab with pd0 published on the fake PD's port, selected through settings."""
    path = lab_copy(fake_pd.port)
    monkeypatch.setenv("OPERATOR_COMPOSE_FILE", str(path))
    return path


def _prefix(lab: Path) -> list[str]:
    return [
        "compose",
        "--file",
        str(lab),
        "--profile",
        "load",
        "--profile",
        "operator",
        "--project-name",
        "operator-tikv",
    ]


def _actions(docker, lab: Path) -> list[list[str]]:
    """Compose calls with the common prefix cut off, probes and ps polls left out."""
    prefix = _prefix(lab)
    out = []
    for argv in docker.calls():
        if argv[: len(prefix)] == prefix and argv[len(prefix)] != "ps":
            out.append(argv[len(prefix) :])
    return out


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got: {err!r}"
    assert "Traceback" not in err
    return lines[0]


def test_up_waits_confirms_stores_and_prints_endpoints(
    standin_docker, lab: Path, fake_pd, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "local", "up"]) == 0
    calls = standin_docker.calls()
    assert calls[0] == ["compose", "version", "--short"]
    assert calls[1] == ["version", "--format", "{{.Server.Version}}"]
    assert _actions(standin_docker, lab) == [
        ["up", "--detach", "--wait", "--wait-timeout", "300", *CORE]
    ]
    assert any(p.startswith("/pd/api/v1/stores") for p in fake_pd.requests)
    out = capsys.readouterr().out
    assert "3 stores Up in PD" in out
    assert "http://127.0.0.1:3000" in out and "http://127.0.0.1:9090" in out
    assert fake_pd.url in out
    assert f"operator-tui --pd {fake_pd.url} --prometheus http://127.0.0.1:9090" in out


def test_up_with_operator_and_load(standin_docker, lab: Path) -> None:
    assert main(["deploy", "local", "up", "--operator", "--load", "--workload", "uniform"]) == 0
    assert _actions(standin_docker, lab) == [
        ["up", "--detach", "--wait", "--wait-timeout", "300", *CORE, "operator"],
        ["up", "--detach", "ycsb"],
    ]
    ycsb = [r for r in standin_docker.records() if r["argv"][-1] == "ycsb"]
    assert ycsb[0]["YCSB_WORKLOAD"] == "uniform"


def test_up_build_rebuilds_images(standin_docker, lab: Path) -> None:
    assert main(["deploy", "local", "up", "--build", "--load"]) == 0
    actions = _actions(standin_docker, lab)
    assert actions[0][:2] == ["up", "--build"]
    assert actions[1] == ["up", "--detach", "--build", "ycsb"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["up", "--workload", "uniform"], "a workload only applies with --load"),
        (["up", "--load", "--workload", "nosuch"], "unknown workload 'nosuch'"),
        (["logs", "nosuch"], "no service 'nosuch'"),
        (["restart", "nosuch"], "no service 'nosuch'"),
    ],
)
def test_bad_arguments_are_one_line(
    standin_docker, lab: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "local", *argv]) == 2
    assert message in _one_line(capsys.readouterr().err)


def test_compose_failure_is_its_last_line(
    standin_docker, lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STANDIN_FAIL", "up")
    monkeypatch.setenv(
        "STANDIN_FAIL_STDERR",
        " Container operator-tikv-pd0-1  Healthy\n"
        "dependency failed to start: container operator-tikv-tikv0-1 is unhealthy\n",
    )
    assert main(["deploy", "local", "up"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.endswith("dependency failed to start: container operator-tikv-tikv0-1 is unhealthy")


def test_down_removes_volumes_unless_kept(standin_docker, lab: Path) -> None:
    assert main(["deploy", "local", "down"]) == 0
    assert main(["deploy", "local", "down", "--keep-volumes"]) == 0
    assert _actions(standin_docker, lab) == [
        ["down", "--remove-orphans", "--timeout", "10", "--volumes"],
        ["down", "--remove-orphans", "--timeout", "10"],
    ]


def test_status_table(
    standin_docker, lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["deploy", "local", "status"]) == 0
    ps = [c for c in standin_docker.calls() if "ps" in c]
    assert ps == [[*_prefix(lab), "ps", "--all", "--format", "json"]]
    out = capsys.readouterr().out
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    assert "running" in rows["pd0"] and "healthy" in rows["pd0"]
    assert "127.0.0.1:2379->2379/tcp" in rows["pd0"]
    assert "exited" in rows["tikv1"] and "Exited (137)" in rows["tikv1"]
    assert "starting" in rows["tikv0"]
    for missing in ("pd2", "tikv2", "prometheus"):
        assert "absent" in rows[missing]


def test_logs_of_one_service_and_follow(
    standin_docker, lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "local", "logs", "tikv0", "--tail", "5"]) == 0
    assert "hello from tikv0" in capsys.readouterr().out
    assert main(["deploy", "local", "logs", "-f"]) == 0
    out = capsys.readouterr().out
    assert "hello from pd0" in out and "hello from tikv0" in out
    assert _actions(standin_docker, lab) == [
        ["logs", "--no-color", "--tail", "5", "tikv0"],
        ["logs", "--no-color", "--follow"],
    ]


def test_logs_failure_is_one_line_exit_2(
    standin_docker, lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STANDIN_FAIL", "logs")
    monkeypatch.setenv("STANDIN_FAIL_STDERR", 'no container found for project "operator-tikv"\n')
    assert main(["deploy", "local", "logs"]) == 2
    assert _one_line(capsys.readouterr().err).endswith(
        'no container found for project "operator-tikv"'
    )


def test_restart(standin_docker, lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "local", "restart", "pd1"]) == 0
    assert _actions(standin_docker, lab) == [["restart", "pd1"]]
    assert "restarted pd1" in capsys.readouterr().out


def test_chaos_kill_and_start_by_store_id_through_pd(
    standin_docker, lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["chaos", "kill", "4"]) == 0
    out = capsys.readouterr().out
    assert "killed tikv1 (store 4 at tikv1:20160)" in out
    assert "operator-tui chaos start 4" in out
    assert main(["chaos", "start", "4"]) == 0
    assert "started tikv1 (store 4 at tikv1:20160)" in capsys.readouterr().out
    assert _actions(standin_docker, lab) == [["kill", "tikv1"], ["start", "tikv1"]]


def test_chaos_by_service_name(standin_docker, lab: Path) -> None:
    assert main(["chaos", "kill", "pd1"]) == 0
    assert main(["chaos", "start", "tikv2"]) == 0
    assert _actions(standin_docker, lab) == [["kill", "pd1"], ["start", "tikv2"]]


def test_chaos_unknown_store_in_pd(
    standin_docker, lab: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["chaos", "kill", "7"]) == 2
    assert "PD has no store 7 (stores: 1, 4, 5)" in _one_line(capsys.readouterr().err)
    assert main(["chaos", "kill", "tikv9"]) == 2
    assert "unknown store or service 'tikv9'" in _one_line(capsys.readouterr().err)
    assert _actions(standin_docker, lab) == []


def test_chaos_without_pd_uses_the_nth_tikv_service(
    standin_docker,
    lab_copy: Callable[[int], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    lab = lab_copy(closed)
    monkeypatch.setenv("OPERATOR_COMPOSE_FILE", str(lab))
    monkeypatch.setenv("OPERATOR_PD", f"http://127.0.0.1:{closed}")
    assert main(["chaos", "kill", "2"]) == 0
    assert "killed tikv1 (store 2, by convention" in capsys.readouterr().out
    assert main(["chaos", "kill", "4"]) == 2
    assert "PD is unreachable and store 4 is not between 1 and 3" in _one_line(
        capsys.readouterr().err
    )
    assert _actions(standin_docker, lab) == [["kill", "tikv1"]]


COMMANDS = [
    ["deploy", "local", "up"],
    ["deploy", "local", "down"],
    ["deploy", "local", "status"],
    ["deploy", "local", "logs", "-f"],
    ["deploy", "local", "restart", "pd0"],
    ["chaos", "kill", "1"],
    ["chaos", "start", "tikv0"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[1:]))
@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("no-compose", "Docker Compose v2 is missing"),
        ("old-compose", "Docker Compose 2.12.2 is too old"),
        ("no-daemon", "the Docker engine is not running (Cannot connect to the Docker daemon"),
        ("permission", "permission denied on the Docker socket"),
    ],
)
def test_missing_engine_is_one_line_exit_2(
    standin_docker,
    lab: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    mode: str,
    message: str,
) -> None:
    monkeypatch.setenv("STANDIN_MODE", mode)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in _one_line(captured.err)
    assert "docker-compose-plugin" in captured.err or mode in ("no-daemon", "permission")
    assert _actions(standin_docker, lab) == []


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[1:]))
def test_no_docker_binary_is_one_line_exit_2(
    lab: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert "`docker` not found on PATH" in line and "docs.docker.com" in line


def test_real_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPERATOR_")}
    env["PATH"] = str(empty)
    proc = subprocess.run(
        [sys.executable, "-m", "operator_tui", "deploy", "local", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).resolve().parents[4],
    )
    assert proc.returncode == 2
    assert "`docker` not found on PATH" in _one_line(proc.stderr)


async def test_local_deployment_is_a_deployment_and_chaos(
    standin_docker, lab: Path, fake_pd
) -> None:
    async with httpx.AsyncClient() as http:
        deployment = LocalDeployment(
            lab, "operator-tikv", http, client_call=[str(standin_docker.path)]
        )
        assert isinstance(deployment, Deployment)
        assert isinstance(deployment, Chaos)
        assert "tikv2 (store 5 at tikv2:20160)" in await deployment.kill_store(5)
        assert "tikv2" in await deployment.start_store(5)
    assert _actions(standin_docker, lab) == [["kill", "tikv2"], ["start", "tikv2"]]


async def test_up_reports_progress_then_gives_up_on_missing_stores(
    standin_docker, lab: Path, fake_pd
) -> None:
    fake_pd.stores[2]["store"]["state_name"] = "Disconnected"
    steps: list[UpProgress] = []
    async with httpx.AsyncClient() as http:
        deployment = LocalDeployment(
            lab,
            "operator-tikv",
            http,
            client_call=[str(standin_docker.path)],
            store_wait_s=0.3,
            poll_s=0.05,
        )
        with pytest.raises(DeployError, match=r"only 2 of 3 stores are Up in PD after 0s"):
            await deployment.up(on_progress=steps.append)
    phases = [s.phase for s in steps]
    assert phases[0] == "starting" and "stores" in phases
    assert steps[phases.index("stores") - 1].services_ready == len(CORE)
    assert all(s.stores_up == 2 and s.stores_expected == 3 for s in steps if s.phase == "stores")


async def test_logs_stream_stops_its_process_when_the_reader_stops(
    standin_docker, lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pidfile = tmp_path / "logs.pid"
    monkeypatch.setenv("STANDIN_PIDFILE", str(pidfile))
    async with httpx.AsyncClient() as http:
        deployment = LocalDeployment(
            lab, "operator-tikv", http, client_call=[str(standin_docker.path)]
        )
        stream = deployment.logs(follow=True)
        first = await asyncio.wait_for(anext(stream), timeout=30)
        assert "hello from" in first
        for _ in range(300):
            if pidfile.exists() and pidfile.read_text():
                break
            await asyncio.sleep(0.05)
        pid = int(pidfile.read_text())
        os.kill(pid, 0)
        await asyncio.wait_for(stream.aclose(), timeout=10)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
