"""Done-when of the investigation issue: ``--no-ui`` against the simulated TiKV cluster, with
a scripted model on the loopback Messages API that calls ``search_logs`` and ``get_store``
through the TiKV subject's real tools before it submits; ``diagnosis.finished`` carries
those steps, each ok with a non-empty answer."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import httpx
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.demo import subject_settings
from operator_tikv.sim.http_control import LOGS_ROUTE

from operator_tui.config import load_settings
from operator_tui.headless import run_headless
from operator_tui.testing.messages_api import MessagesAPIServer, Reply
from operator_tui.testing.samples import diagnosis_input

TICKS_BEFORE_KILL = 6


def _events(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_scripted_investigation_on_the_simulator(tmp_path: Path) -> None:
    config = SimConfig(stores=3, regions=60, seed=11)
    async with SimCluster(config) as sim, MessagesAPIServer() as api:
        api.enqueue(
            Reply.calls(
                # The cluster's log lines, not store 2's: a store the simulator killed before
                # it logged anything has none, and the answer must not be empty.
                "Looking at the cluster's logs and PD's record of store 2.",
                ("search_logs", {}),
                ("get_store", {"store_id": 2}),
            ),
            Reply.message("## Observation\n\nstore 2 is gone\n", tool_input=diagnosis_input()),
        )
        settings = load_settings(
            storage={"db_path": tmp_path / "sim.db"},
            monitor={"interval_s": 0.2},
            diagnosis={"backend": "claude", "api_key": "sk-test", "base_url": api.base_url},
            tikv=subject_settings(sim),
        )
        out = io.StringIO()
        stop = asyncio.Event()

        async def sim_has_logged(http: httpx.AsyncClient) -> bool:
            url = sim.pd_urls[0] + LOGS_ROUTE.format(store_id=1)
            return bool((await http.get(url)).text.strip())

        def ticks() -> int:
            return sum(e["event"] == "tick" for e in _events(out))

        async def story() -> None:
            # The kill waits for the simulator's first log lines and two ticks after them, so
            # the operator holds some when the model asks (a loaded machine ticks before any).
            async with httpx.AsyncClient(timeout=5.0) as http:
                for _ in range(600):
                    if await sim_has_logged(http):
                        break
                    await asyncio.sleep(0.05)
            seen = ticks()
            for _ in range(600):
                if ticks() >= max(TICKS_BEFORE_KILL, seen + 2):
                    break
                await asyncio.sleep(0.05)
            await sim.kill_store(2)
            for _ in range(600):
                if '"diagnosis.finished"' in out.getvalue():
                    break
                await asyncio.sleep(0.05)
            stop.set()

        driver = asyncio.create_task(story())
        async with asyncio.timeout(60):
            assert await run_headless(settings, out=out, stop=stop) == 0
        await driver
    events = _events(out)
    finished = next(e for e in events if e["event"] == "diagnosis.finished")
    assert finished["backend"] == "claude" and finished["diagnosis"]["target"] == 2
    steps = finished["investigation"]
    assert [(s["tool"], s["input"]) for s in steps] == [
        ("search_logs", {}),
        ("get_store", {"store_id": 2}),
    ]
    assert all(s["ok"] and s["result_chars"] > 0 and s["ms"] >= 0 for s in steps), steps
    assert set(steps[0]) >= {"tool", "input", "ok", "result_chars", "ms"}
    logs, store = steps
    assert logs["summary"].endswith(" events") and not logs["summary"].startswith("0 ")
    assert '"id":2' in store["summary"]
    live = [e["step"]["tool"] for e in events if e["event"] == "diagnosis.step"]
    assert live[:2] == ["search_logs", "get_store"]
    # what the model got back for them: the answers, inside the defanged telemetry block
    results = api.requests[1].body["messages"][-1]["content"]
    assert [r["type"] for r in results] == ["tool_result", "tool_result"]
    for r, tool in zip(results, ("search_logs", "get_store"), strict=True):
        assert r["content"].startswith('<telemetry type="tool_result">')
        assert f'"tool":"{tool}","ok":true' in r["content"]
