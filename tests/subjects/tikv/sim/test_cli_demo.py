"""``operator-tui sim`` (standalone, Ctrl-C/SIGTERM stop it cleanly) and the embedded demo cluster."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.cli import main
from operator_tikv.sim.demo import SimChaos, config_from_options, run_demo

from operator_tui.commands import sim as sim_command
from operator_tui.core.subject import Chaos, DemoOptions, SubjectError

START = "from operator_tikv.sim.cli import main; import sys; sys.exit(main(sys.argv[1:]))"


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", START, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _read_banner(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C stops it."):
            return lines
    raise AssertionError(f"no banner: {lines!r}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_standalone_prints_endpoints_and_stops_cleanly(sig: signal.Signals) -> None:
    proc = _spawn(
        "--stores", "3", "--regions", "50", "--speed", "5", "--max-store-down-time", "60s"
    )
    try:
        lines = _read_banner(proc)
        pd_urls = [x.strip() for x in lines if x.startswith("  http://")]
        assert len(pd_urls) == 3
        assert sum(1 for x in lines if x.startswith("  store ")) == 3
        assert any("/sim/api/v1/stores/<id>/kill" in x for x in lines)
        resp = httpx.get(pd_urls[0] + "/pd/api/v1/stores", timeout=5)
        assert resp.status_code == 200 and resp.json()["count"] == 3
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "simulator stopped" in out
    assert "Traceback" not in err


def test_large_cluster_banner_summarises_store_ports(capsys: pytest.CaptureFixture[str]) -> None:
    proc = _spawn("--stores", "25", "--regions", "200", "--port", "0")
    try:
        lines = _read_banner(proc)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert any(x.startswith("  stores 1-25: ") for x in lines)
    assert not any(x.startswith("  store 1: ") for x in lines)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--stores", "0"], "stores must be between 1 and 1000"),
        (["--workload", "random"], "invalid choice"),
        (["--max-store-down-time", "soon"], "not a duration"),
        (["--speed", "0"], "speed must be positive"),
        (
            ["--stores", "5", "--store-port-base", "65531"],
            "store port base must be between 1 and 65530",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_port_in_use_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        assert main(["--port", str(port)]) == 2
    finally:
        holder.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot listen" in err[0]


def test_sim_command_passes_every_flag_to_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    class Plugin:
        name = "tikv"

        def sim_main(self, argv: list[str]) -> int:
            seen.append(argv)
            return 0

    monkeypatch.setattr(sim_command, "load_plugin", lambda name: Plugin())
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    sim_command.register(sub)
    flags = ["--stores", "5", "--regions", "500", "--seed", "3", "--speed", "20",
             "--max-store-down-time", "60s", "--port", "23790", "--workload", "hotspot", "--help"]  # fmt: skip
    args = parser.parse_args(["sim", *flags])
    settings: Any = argparse.Namespace(subject="tikv")
    assert sim_command.run(args, settings) == 0
    assert seen == [flags]


def test_sim_help_comes_from_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--max-store-down-time" in out and "operator-tui sim" in out


def test_sim_command_unknown_subject_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(name: str) -> Any:
        raise SubjectError(f"unknown subject {name!r} (available: none installed)")

    monkeypatch.setattr(sim_command, "load_plugin", missing)
    parser = argparse.ArgumentParser()
    sim_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sim"])
    assert sim_command.run(args, argparse.Namespace(subject="nope")) == 2  # type: ignore[arg-type]
    assert "unknown subject 'nope'" in capsys.readouterr().err


async def test_demo_cluster_kills_and_starts_through_http() -> None:
    options = DemoOptions(stores=3, speed=20.0, max_store_down_time_s=60.0, params={"regions": 30})
    async with run_demo(options) as demo:
        assert isinstance(demo.chaos, Chaos)
        assert demo.settings["log_source"] == "http"
        assert demo.settings["pd"] == demo.endpoints
        assert demo.settings["log_url"] == [
            f"{url}/sim/api/v1/stores/{{store_id}}/logs" for url in demo.endpoints
        ]
        async with httpx.AsyncClient(timeout=5) as http:
            status = (await http.get(demo.endpoints[0] + "/sim/api/v1/status")).json()
            assert demo.endpoints == status["pd_urls"]
            status_url = status["store_status_urls"]["2"]
            message = await demo.chaos.kill_store(2)
            assert message.startswith("store 2 killed")
            with pytest.raises(httpx.ConnectError):
                await http.get(status_url + "/status")
            deadline = time.monotonic() + 10
            state = "Up"
            while time.monotonic() < deadline and state != "Disconnected":
                await asyncio.sleep(0.2)
                body = (await http.get(demo.endpoints[0] + "/pd/api/v1/store/2")).json()
                state = body["store"]["state_name"]
            assert state == "Disconnected"
            assert (await demo.chaos.start_store(2)).startswith("store 2 started")
            assert (await http.get(status_url + "/status")).status_code == 200


async def test_sim_chaos_reports_an_unreachable_simulator() -> None:
    chaos = SimChaos(["http://127.0.0.1:9"], timeout_s=0.5)
    try:
        with pytest.raises(SubjectError, match="unreachable"):
            await chaos.kill_store(1)
    finally:
        await chaos.aclose()


def test_demo_params_set_the_simulator_and_unknown_ones_are_refused() -> None:
    assert config_from_options(DemoOptions(params={"regions": 30})).regions == 30
    assert config_from_options(DemoOptions()).regions == 100
    with pytest.raises(SubjectError, match="unknown demo setting 'shards'"):
        config_from_options(DemoOptions(params={"shards": 30}))


def test_store_port_conflict_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``--store-port-base N`` puts store i on N+i; a port already taken stops the start."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        assert main(["--store-port-base", str(port - 2)]) == 2
    finally:
        holder.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"operator-tui sim: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


async def test_store_status_ports_follow_the_base() -> None:
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    base = probe.getsockname()[1] + 10
    probe.close()
    async with SimCluster(SimConfig(stores=3, manual_clock=True, store_port_base=base)) as sim:
        assert sim.store_status_urls == {sid: f"http://127.0.0.1:{base + sid}" for sid in (1, 2, 3)}
        await sim.kill_store(2)
        await sim.start_store(2)
        assert sim.store_status_urls[2] == f"http://127.0.0.1:{base + 2}"


def test_separate_read_pools_flag_reaches_the_config() -> None:
    from operator_tikv.sim.cli import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args([])).unified_read_pool
    assert not config_from_args(parser.parse_args(["--separate-read-pools"])).unified_read_pool
