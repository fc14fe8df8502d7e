"""kill -9 of a process holding the ticket database: on restart nothing is lost or duplicated, and
diagnoses cut short are queued again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.bootstrap import open_runtime
from operator_tui.config import load_settings
from operator_tui.core.ticket import TicketStatus
from operator_tui.testing.fake_subject import FakePlugin

SCRIPT = """
import asyncio, sys
from operator_tui.config import load_settings
from operator_tui.headless import run_headless
from operator_tui.testing.fake_subject import FakePlugin

class Stuck:
    backend = "stuck"
    model = None
    async def diagnose(self, context, on_text):
        await on_text("thinking about ticket %d" % context.ticket.id)
        await asyncio.Event().wait()

plugin = FakePlugin()
plugin.subject.kill(1)
plugin.subject.slow_disk(2)
plugin.subject.disk_pressure(3)
settings = load_settings(plugin=plugin, db_path=sys.argv[1], interval_s=0.1, agent_concurrency=2)
asyncio.run(run_headless(settings, stream=True, plugin=plugin, diagnoser=Stuck()))
"""


def test_kill_9_then_restart(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    started: set[int] = set()
    opened: set[int] = set()
    try:
        assert proc.stdout is not None
        for _ in range(500):
            line = proc.stdout.readline()
            if not line:
                break
            ev = json.loads(line)
            if ev["event"] == "ticket.opened":
                opened.add(ev["ticket"]["id"])
            if ev["event"] == "diagnosis.chunk":
                started.add(ev["ticket_id"])
            if len(started) == 2 and len(opened) == 3:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert len(opened) == 3 and len(started) == 2

    with sqlite3.connect(db) as c:
        rows = dict(c.execute("SELECT id, status FROM tickets").fetchall())
    assert set(rows) == opened
    assert sorted(rows.values()) == ["diagnosing", "diagnosing", "open"]

    asyncio.run(restart(db, opened, started))


async def restart(db: Path, opened: set[int], interrupted: set[int]) -> None:
    plugin = FakePlugin()
    plugin.subject.kill(1)
    plugin.subject.slow_disk(2)
    plugin.subject.disk_pressure(3)
    settings = load_settings(plugin=plugin, db_path=db, interval_s=0.1, agent_concurrency=2)
    async with open_runtime(settings, plugin=plugin, diagnoser=offline_diagnoser()) as rt:
        sub = rt.bus.subscribe()
        await rt.tick_once()
        tickets = await rt.list_tickets()
        assert {t.id for t in tickets} == opened  # nothing lost, nothing duplicated
        assert all(t.occurrences >= 2 for t in tickets)
        agent = asyncio.create_task(rt.run_agent())
        finished: set[int] = set()
        try:
            async with asyncio.timeout(10):
                while finished != opened:
                    ev = await sub.get()
                    if ev.event == "diagnosis.finished":
                        finished.add(ev.data["ticket_id"])
        finally:
            agent.cancel()
            await asyncio.gather(agent, return_exceptions=True)
        for tid in interrupted:
            records = await rt.tickets.diagnoses(tid)
            assert [r.error for r in records] == ["interrupted", None]
            assert "requeued" in [e.kind for e in await rt.ticket_events(tid)]
        assert {t.status for t in await rt.list_tickets()} == {TicketStatus.DIAGNOSED}
