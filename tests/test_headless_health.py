"""Headless with a health port: /healthz answers 200 once the monitor ticks; JSON log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path

import httpx

from operator_tui.config import load_settings
from operator_tui.headless import JsonLinesFormatter, run_headless
from operator_tui.testing.fake_subject import FakePlugin


async def test_healthz_follows_the_running_monitor(tmp_path: Path) -> None:
    plugin = FakePlugin()
    settings = load_settings(plugin=plugin, db_path=tmp_path / "h.db", interval_s=0.1)
    stop = asyncio.Event()
    ports: list[int] = []
    seen: list[dict] = []

    async def probe() -> None:
        try:
            for _ in range(200):
                await asyncio.sleep(0.05)
                if not ports:
                    continue
                async with httpx.AsyncClient(timeout=5.0) as http:
                    resp = await http.get(f"http://127.0.0.1:{ports[0]}/healthz")
                body = resp.json()
                if resp.status_code == 200 and body["ticks"] >= 2:
                    seen.append(body)
                    return
        finally:
            stop.set()

    out = io.StringIO()
    prober = asyncio.create_task(probe())
    code = await run_headless(
        settings,
        plugin=plugin,
        out=out,
        stop=stop,
        health=("127.0.0.1", 0),
        on_health=ports.append,
    )
    await prober
    assert code == 0
    assert seen and seen[0]["status"] == "ok" and seen[0]["stale_after_s"] == 30.0
    assert all(json.loads(line)["event"] for line in out.getvalue().splitlines())


def test_json_log_lines_are_plain_json() -> None:
    record = logging.LogRecord(
        "operator_tui.x", logging.WARNING, __file__, 1, "PD %s", ("\x1b[31mred",), None
    )
    line = json.loads(JsonLinesFormatter().format(record))
    assert (
        line["event"] == "log" and line["level"] == "WARNING" and line["logger"] == "operator_tui.x"
    )
    assert "\x1b" not in line["message"] and line["message"].startswith("PD ")
