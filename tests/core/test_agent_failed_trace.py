"""A failed attempt keeps the tool calls it made: on its record, and on ``diagnosis.failed``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operator_tui.core.diagnosis.base import (
    DiagnosisError,
    DiagnosisOutcome,
    TextSink,
    TransientDiagnosisError,
)
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.runtime import OperatorRuntime, RuntimeOptions
from operator_tui.core.tickets import TicketStore
from operator_tui.core.tools import Tool, ToolEnv, schema
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.fake_subject import FakeSubject

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def _look(_env: ToolEnv, a: dict[str, Any]) -> Any:
    return {"rows": [a["n"]]}


class GivesUp:
    """Looks once per attempt; the first attempt is cut, the second gives up."""

    backend, model = "scripted", None

    def __init__(self) -> None:
        self.attempts = 0

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        self.attempts += 1
        assert context.tools is not None
        await context.tools.call("look", {"n": self.attempts})
        await on_text("looking")
        if self.attempts == 1:
            raise TransientDiagnosisError("stream cut", retry_after=0)
        raise DiagnosisError("model gave an invalid diagnosis twice")


async def test_a_failed_attempt_keeps_its_trace(tmp_path: Path, fake: FakeSubject) -> None:
    tools = (Tool("look", "a row", schema({"n": {"type": "integer"}}, ["n"]), _look),)
    config = replace(fake.describe(), tools=tools)
    fake.describe = lambda: config  # type: ignore[method-assign]
    store = await TicketStore.open(tmp_path / "t.db", subject="fake")
    rt = OperatorRuntime(
        RuntimeOptions(), fake, store, GivesUp(), clock=lambda: T0, retry_base_s=0.0
    )
    sub = rt.bus.subscribe()
    try:
        await store.upsert_violations(
            [Violation("a", Severity.CRITICAL, "a on 1", 1)], {"taken_at": T0.isoformat()}, T0
        )
        await rt.agent.diagnose_ticket(1)
        records = await store.diagnoses(1)
        assert [r.error for r in records] == [
            "stream cut",
            "model gave an invalid diagnosis twice",
        ]
        assert [[s["input"] for s in r.investigation] for r in records] == [[{"n": 1}], [{"n": 2}]]
        assert all(s["ok"] and s["result_chars"] > 0 for r in records for s in r.investigation)
        events = []
        while not sub.queue.empty():
            events.append(sub.queue.get_nowait())
        failed = next(e for e in events if e.event == "diagnosis.failed")
        assert [s["tool"] for s in failed.data["investigation"]] == ["look"]
        assert failed.data["investigation"][0]["input"] == {"n": 2}
    finally:
        await rt.aclose()
        await store.aclose()
