"""The --no-ui contract: one JSON event per line on stdout, chunks only with --stream, SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.config import load_settings
from operator_tui.headless import run_headless
from operator_tui.testing.fake_subject import FakePlugin

CONTRACT = {
    "tick",
    "ticket.opened",
    "ticket.updated",
    "ticket.resolved",
    "incident.opened",
    "incident.updated",
    "incident.resolved",
    "diagnosis.started",
    "diagnosis.chunk",
    "diagnosis.finished",
    "diagnosis.failed",
    "error",
    "action.proposed",
    "action.refused",
    "action.done",
    "chaos",
    "monitor.paused",
    "monitor.resumed",
}


async def run_story(tmp_path: Path, *, stream: bool) -> list[dict]:
    plugin = FakePlugin()
    out = io.StringIO()
    stop = asyncio.Event()
    settings = load_settings(plugin=plugin, db_path=tmp_path / "h.db", interval_s=0.1)

    async def story() -> None:
        await asyncio.sleep(0.25)
        plugin.subject.kill(2)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if '"diagnosis.finished"' in out.getvalue():
                break
        plugin.subject.start(2)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if '"incident.resolved"' in out.getvalue():
                break
        stop.set()

    driver = asyncio.create_task(story())
    code = await run_headless(
        settings, stream=stream, out=out, stop=stop, plugin=plugin, diagnoser=offline_diagnoser()
    )
    await driver
    assert code == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_events_are_json_lines(tmp_path: Path) -> None:
    events = await run_story(tmp_path, stream=False)
    kinds = [e["event"] for e in events]
    assert set(kinds) <= CONTRACT and all("ts" in e and e["ts"].endswith("Z") for e in events)
    assert "diagnosis.chunk" not in kinds
    for kind in (
        "tick",
        "ticket.opened",
        "diagnosis.started",
        "diagnosis.finished",
        "ticket.resolved",
    ):
        assert kind in kinds, kind
    tick = next(e for e in events if e["event"] == "tick")
    assert {"stores_up", "stores_total", "regions", "qps", "p99_ms", "tick_ms"} <= tick.keys()
    opened = next(e for e in events if e["event"] == "ticket.opened")
    assert {"id", "invariant", "store_id", "severity", "status", "message"} <= opened[
        "ticket"
    ].keys()
    assert opened["ticket"]["store_id"] == 2
    finished = next(e for e in events if e["event"] == "diagnosis.finished")
    assert (
        finished["diagnosis"]["root_cause_class"] == "store_down"
        and finished["ticket_id"] == opened["ticket"]["id"]
    )
    assert (
        kinds.index("ticket.opened")
        < kinds.index("diagnosis.started")
        < kinds.index("diagnosis.finished")
    )
    incident = next(e for e in events if e["event"] == "incident.opened")["incident"]
    assert incident["tickets"] == [opened["ticket"]["id"]] and incident["target"] == "store-2"
    assert kinds.index("ticket.opened") < kinds.index("incident.opened")
    resolved = next(e for e in events if e["event"] == "incident.resolved")["incident"]
    assert resolved["id"] == incident["id"] and resolved["open_tickets"] == 0
    assert kinds.index("ticket.resolved") < kinds.index("incident.resolved")


async def test_stream_adds_chunks(tmp_path: Path) -> None:
    events = await run_story(tmp_path, stream=True)
    chunks = [e for e in events if e["event"] == "diagnosis.chunk"]
    assert chunks and chunks[0]["text"].startswith("## Observation") and "ticket_id" in chunks[0]


SCRIPT = """
import asyncio, sys
from operator_tui.config import load_settings
from operator_tui.headless import configure_logging, run_headless
from operator_tui.testing.fake_subject import FakePlugin
configure_logging("INFO")
plugin = FakePlugin()
plugin.subject.kill(1)
sys.exit(asyncio.run(run_headless(load_settings(plugin=plugin, db_path=sys.argv[1], interval_s=0.1, diagnosis_backend="offline"), plugin=plugin)))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_zero_after_complete_lines(tmp_path: Path, sig: signal.Signals) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        seen = []
        for _ in range(200):
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
            if line and '"diagnosis.finished"' in line:
                break
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    seen += [json.loads(line) for line in rest.splitlines()]
    assert [e["event"] for e in seen].count("ticket.opened") == 1
    assert "headless" in err and "Traceback" not in err


async def test_claude_backend_from_settings(tmp_path: Path) -> None:
    """Key and base URL from settings reach the SDK; the result comes back as diagnosis.finished."""
    from operator_tui.testing.messages_api import MessagesAPIServer, Reply
    from operator_tui.testing.samples import diagnosis_input

    tool = diagnosis_input(target=1, recommended_actions=[])
    async with MessagesAPIServer() as api:
        api.enqueue(Reply.message("## Observation\n\nstore 1\n", tool_input=tool))
        plugin = FakePlugin()
        plugin.subject.kill(1)
        settings = load_settings(
            plugin=plugin,
            storage={"db_path": tmp_path / "c.db"},
            monitor={"interval_s": 0.1},
            diagnosis={
                "backend": "claude",
                "api_key": "sk-from-settings",
                "base_url": api.base_url,
                "claude_model": "claude-from-settings",
            },
        )
        out = io.StringIO()
        stop = asyncio.Event()

        async def until_done() -> None:
            for _ in range(400):
                if '"diagnosis.finished"' in out.getvalue():
                    break
                await asyncio.sleep(0.05)
            stop.set()

        waiter = asyncio.create_task(until_done())
        async with asyncio.timeout(20):
            assert await run_headless(settings, out=out, stop=stop, plugin=plugin) == 0
        await waiter
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    finished = next(e for e in events if e["event"] == "diagnosis.finished")
    assert finished["backend"] == "claude" and finished["model"] == "claude-from-settings"
    assert finished["diagnosis"]["root_cause_class"] == "store_down"
    [req] = api.requests
    assert req.body["model"] == "claude-from-settings"
    assert "sk-from-settings" in (
        req.headers.get("x-api-key", ""),
        req.headers.get("authorization", "").removeprefix("Bearer "),
    )


async def test_claude_investigation_reaches_diagnosis_finished(tmp_path: Path) -> None:
    """A scripted model calls two tools, then submits: diagnosis.step events and the
    investigation on diagnosis.finished name them, each ok with a non-empty answer."""
    import dataclasses

    from operator_tui.core.tools import Tool, schema
    from operator_tui.testing.messages_api import MessagesAPIServer, Reply
    from operator_tui.testing.samples import diagnosis_input

    async def search_logs(env, _a):  # type: ignore[no-untyped-def]
        return {"events": [e.message for e in env.history.recent_log_events(None, 20)] or ["-"]}

    async def get_store(env, a):  # type: ignore[no-untyped-def]
        return {"store_id": a["store_id"], "ticket": env.ticket.target}

    tools = (
        Tool("search_logs", "logs", schema(), search_logs),
        Tool("get_store", "a store", schema({"store_id": {"type": "integer"}}), get_store),
    )
    tool = diagnosis_input(target=1, recommended_actions=[])
    async with MessagesAPIServer() as api:
        api.enqueue(
            Reply.calls("Looking.", ("search_logs", {}), ("get_store", {"store_id": 1})),
            Reply.message("## Observation\n\nstore 1\n", tool_input=tool),
        )
        plugin = FakePlugin()
        plugin.subject.kill(1)
        described = plugin.subject.describe()
        plugin.subject.describe = lambda: dataclasses.replace(described, tools=tools)  # type: ignore[method-assign]
        settings = load_settings(
            plugin=plugin,
            storage={"db_path": tmp_path / "i.db"},
            monitor={"interval_s": 0.1},
            diagnosis={"backend": "claude", "api_key": "sk-x", "base_url": api.base_url},
        )
        out = io.StringIO()
        stop = asyncio.Event()

        async def until_done() -> None:
            for _ in range(400):
                if '"diagnosis.finished"' in out.getvalue():
                    break
                await asyncio.sleep(0.05)
            stop.set()

        waiter = asyncio.create_task(until_done())
        async with asyncio.timeout(20):
            assert await run_headless(settings, out=out, stop=stop, plugin=plugin) == 0
        await waiter
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    finished = next(e for e in events if e["event"] == "diagnosis.finished")
    steps = finished["investigation"]
    assert [s["tool"] for s in steps] == ["search_logs", "get_store"]
    assert all(s["ok"] and s["result_chars"] > 0 for s in steps)
    assert [e["step"]["tool"] for e in events if e["event"] == "diagnosis.step"] == [
        "search_logs",
        "get_store",
    ]
