"""The incident screen against a scripted model over the loopback Messages API: two turns,
each text then a tool call, then the submission. The steps land between the turns' text,
in the app as in the stored investigation."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from operator_tui.bootstrap import open_runtime
from operator_tui.config import load_settings
from operator_tui.core.tools import Tool, schema
from operator_tui.testing.fake_subject import FakePlugin
from operator_tui.testing.messages_api import MessagesAPIServer, Reply
from operator_tui.testing.samples import diagnosis_input
from operator_tui.tui.app import OperatorApp
from operator_tui.tui.screens.incident import IncidentScreen
from operator_tui.tui.widgets.trace import InvestigationTrace, TraceStep, TraceText

TURN_1 = "First I read store 1's logs.\n"
TURN_2 = "The logs end abruptly; now PD's record of the store.\n"
TURN_3 = "## Observation\n\nstore 1 is gone\n"


async def test_two_turns_put_each_step_between_their_text(tmp_path: Path) -> None:
    async def search_logs(env: Any, _a: dict[str, Any]) -> Any:
        return {"events": ["store 1 stopped"]}

    async def get_store(env: Any, a: dict[str, Any]) -> Any:
        return {"store_id": a["store_id"], "state_name": "Disconnected"}

    tools = (
        Tool("search_logs", "logs", schema(), search_logs),
        Tool("get_store", "a store", schema({"store_id": {"type": "integer"}}), get_store),
    )
    async with MessagesAPIServer() as api:
        api.enqueue(
            Reply.calls(TURN_1, ("search_logs", {})),
            Reply.calls(TURN_2, ("get_store", {"store_id": 1})),
            Reply.message(TURN_3, tool_input=diagnosis_input(target=1, recommended_actions=[])),
        )
        plugin = FakePlugin()
        described = plugin.subject.describe()
        plugin.subject.describe = lambda: dataclasses.replace(described, tools=tools)  # type: ignore[method-assign]
        plugin.subject.kill(1)
        settings = load_settings(
            plugin=plugin,
            storage={"db_path": tmp_path / "t.db"},
            monitor={"interval_s": 0.1},
            diagnosis={"backend": "claude", "api_key": "sk-x", "base_url": api.base_url},
        )
        app = OperatorApp(settings, runtime_factory=lambda: open_runtime(settings, plugin=plugin))
        async with asyncio.timeout(60), app.run_test(size=(120, 50)) as pilot:
            record = None
            for _ in range(300):
                runtime = app.runtime
                incidents = app.incidents() if runtime is not None else []
                if runtime is not None and incidents:
                    record = await runtime.latest_diagnosis(incidents[0].lead_ticket_id)
                    if record is not None and record.finished_at is not None:
                        break
                await pilot.pause(0.05)
            assert record is not None and record.result, "no finished diagnosis"
            incident = app.incidents()[0]
            app.push_screen(IncidentScreen(incident.id, incident.lead_ticket_id))
            await app.settle()
            await pilot.pause()
            for _ in range(40):
                trace = app.screen.query_one("#investigation", InvestigationTrace)
                if trace.steps:
                    break
                await pilot.pause(0.05)
            parts = [
                f"step:{w.step['tool']}" if isinstance(w, TraceStep) else f"text:{w.text}"
                for w in trace.children
                if isinstance(w, TraceStep | TraceText)
            ]
            column = app.screen.query_one("#ticket-diagnosis-col")
            order = [w.id for w in column.children]
    assert record.text == TURN_1 + TURN_2 + TURN_3
    assert [(s["tool"], s["at"]) for s in record.investigation] == [
        ("search_logs", len(TURN_1)),
        ("get_store", len(TURN_1 + TURN_2)),
    ]
    # Finished: the turns and their steps; the last turn's text is what the result says.
    assert parts == ["text:" + TURN_1, "step:search_logs", "text:" + TURN_2, "step:get_store"]
    assert order.index("diagnosis-summary") < order.index("investigation")
    assert order.index("investigation") < order.index("structured")
