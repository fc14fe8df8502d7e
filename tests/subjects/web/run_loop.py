"""The whole loop on the web subject, in a process of its own: prints one JSON line of facts.

Run by ``test_web_subject.py`` in a fresh interpreter so that nothing else the test
session imported (the TiKV subject above all) is in ``sys.modules``: the facts include
whether ``operator_tikv`` was ever imported. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from operator_web import SERVICE_DOWN, SLOW_SERVICE, Fleet, plugin

from operator_tui.bootstrap import open_runtime
from operator_tui.config import load_settings
from operator_tui.core.subject import DemoOptions
from operator_tui.core.ticket import TicketStatus
from operator_tui.headless import run_headless

LIMIT_S = 60.0


async def until(condition: Callable[[], object], what: str, step: Callable) -> None:
    for _ in range(int(LIMIT_S / 0.05)):
        if condition():
            return
        await step()
    raise TimeoutError(f"gave up waiting for {what}")


async def core_loop(tmp: Path) -> dict[str, object]:
    """Monitor, tickets, agent, offline diagnosis and an approved action, through the runtime."""
    settings = load_settings(
        plugin=plugin,
        db_path=tmp / "core.db",
        interval_s=1.0,
        actions_mode="approve",
        diagnosis_backend="offline",
    )
    facts: dict[str, object] = {}
    async with open_runtime(settings, demo=DemoOptions(stores=3), plugin=plugin) as rt:
        agent = asyncio.create_task(rt.run_agent())
        try:
            await rt.tick_once()
            facts["healthy_tickets"] = len(await rt.list_tickets())
            await rt.kill_store(2)
            await rt.tick_once()
            [down] = [t for t in await rt.list_tickets() if t.invariant == SERVICE_DOWN]
            await until(
                lambda: down.id in done, "the diagnosis", lambda: _refresh(rt, down.id, done)
            )
            record = await rt.latest_diagnosis(down.id)
            facts["down_cause"] = (record.result or {}).get("root_cause_class")
            facts["down_target"] = (record.result or {}).get("target")
            facts["down_store_health"] = rt.latest_snapshot.store(2).health.level.value
            await rt.start_store(2)
            await rt.tick_once()
            facts["down_resolved"] = (await rt.get_ticket(down.id)).status == TicketStatus.RESOLVED

            fleet: Fleet = rt.chaos  # the web subject's chaos is its fleet
            fleet.slow(3, 0.4)
            await rt.tick_once()
            [slow] = [t for t in await rt.list_tickets() if t.invariant == SLOW_SERVICE]
            await until(
                lambda: slow.id in done, "the diagnosis", lambda: _refresh(rt, slow.id, done)
            )
            record = await rt.latest_diagnosis(slow.id)
            facts["slow_cause"] = (record.result or {}).get("root_cause_class")
            result = await rt.approve(slow.id, 0)
            facts["approved"] = [result.action, result.ok, result.message]
            await rt.tick_once()
            facts["slow_resolved"] = (await rt.get_ticket(slow.id)).status == TicketStatus.RESOLVED
            facts["history_points"] = len(rt.metric_history(1))
        finally:
            agent.cancel()
            await asyncio.gather(agent, return_exceptions=True)
    return facts


done: set[int] = set()


async def _refresh(rt, ticket_id: int, into: set[int]) -> None:
    await asyncio.sleep(0.05)
    record = await rt.latest_diagnosis(ticket_id)
    if record is not None and record.finished_at is not None and record.result:
        into.add(ticket_id)


async def headless(tmp: Path) -> dict[str, object]:
    """``--no-ui`` against a running fleet with one service down: JSON lines, then stop."""
    fleet = Fleet(3)
    await fleet.start()
    try:
        await fleet.kill_store(3)
        settings = load_settings(
            plugin=plugin,
            db_path=tmp / "headless.db",
            interval_s=1.0,
            diagnosis_backend="offline",
            **{"web": {"services": fleet.endpoints}},
        )
        out, stop = io.StringIO(), asyncio.Event()
        task = asyncio.create_task(run_headless(settings, out=out, stop=stop, plugin=plugin))

        def finished() -> bool:
            return '"event":"diagnosis.finished"' in out.getvalue()

        async def wait() -> None:
            await asyncio.sleep(0.05)

        try:
            await until(finished, "a diagnosis.finished line", wait)
        finally:
            stop.set()
            code = await asyncio.wait_for(task, 10)
    finally:
        await fleet.aclose()
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    opened = [e["ticket"] for e in events if e["event"] == "ticket.opened"]
    diagnosed = [e["diagnosis"] for e in events if e["event"] == "diagnosis.finished"]
    ticks = [e for e in events if e["event"] == "tick"]
    return {
        "headless_exit": code,
        "headless_opened": [(t["invariant"], t["store_id"]) for t in opened],
        "headless_cause": diagnosed[0]["root_cause_class"] if diagnosed else None,
        "headless_tick_stores": [ticks[0]["stores_up"], ticks[0]["stores_total"]] if ticks else [],
    }


async def app(tmp: Path) -> dict[str, object]:
    """The main and ticket screens: kill a service with ``k``, open its ticket, read the diagnosis."""
    from operator_tui.tui.app import OperatorApp
    from operator_tui.tui.screens.ticket import TicketScreen
    from operator_tui.tui.widgets.incidents import IncidentTable
    from operator_tui.tui.widgets.stores import StoresTable

    settings = load_settings(
        plugin=plugin, db_path=tmp / "app.db", interval_s=1.0, diagnosis_backend="offline"
    )
    demo = DemoOptions(stores=3)
    tui = OperatorApp(
        settings, demo, runtime_factory=lambda: open_runtime(settings, demo=demo, plugin=plugin)
    )
    facts: dict[str, object] = {}
    async with tui.run_test(size=(120, 40)) as pilot:

        def label(store_id: int) -> str:
            table = tui.screen.query(StoresTable)
            if not table or not table.first().has_row(store_id):
                return ""
            cell = table.first().get_cell(str(store_id), "state")
            return getattr(cell, "plain", str(cell))

        async def pause() -> None:
            await pilot.pause(0.05)

        await until(lambda: all(label(i) == "up" for i in (1, 2, 3)), "3 services up", pause)
        await pilot.press("1", "home", "down", "ctrl+k")
        await pilot.pause()
        await pilot.press("y")
        await until(lambda: label(2) == "down", "service 2 down", pause)
        queue = tui.screen.query_one(IncidentTable)
        await until(lambda: queue.incidents and tui.tickets(), "an incident", pause)
        facts["app_ticket"] = [(t.invariant, t.store_id) for t in tui.tickets()]
        facts["app_incident"] = [(i.cause, i.ticket_ids) for i in queue.incidents]
        await pilot.press("3", "home", "enter")
        await until(lambda: isinstance(tui.screen, TicketScreen), "the ticket screen", pause)
        screen = tui.screen
        await until(
            lambda: screen.record is not None and screen.record.result is not None,
            "the diagnosis on screen",
            pause,
        )
        facts["app_cause"] = screen.record.result["root_cause_class"]
        facts["app_narrative"] = "Service 2" in (screen.record.text or "")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    facts["app_exit"] = tui.return_code
    return facts


async def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        facts = await asyncio.wait_for(core_loop(tmp), LIMIT_S)
        facts.update(await asyncio.wait_for(headless(tmp), LIMIT_S))
        facts.update(await asyncio.wait_for(app(tmp), LIMIT_S * 2))
    facts["tikv_loaded"] = sorted(m for m in sys.modules if m.split(".")[0] == "operator_tikv")
    print(json.dumps(facts))


if __name__ == "__main__":
    asyncio.run(main())
