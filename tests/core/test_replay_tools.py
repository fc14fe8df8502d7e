"""A replay offers a diagnosis only the tools that read what the operator holds: the tools
that read the live system are left out, so a recording's diagnosis never reaches a cluster."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from operator_tui.core.replay import ReplaySubject
from operator_tui.core.tools import Tool, schema
from operator_tui.testing.fake_subject import FakeSubject


async def _answer(_env: Any, _a: dict[str, Any]) -> Any:
    return {}


def test_live_tools_are_not_offered_in_a_replay(fake: FakeSubject) -> None:
    tools = (
        Tool("search_held", "held", schema(), _answer),
        Tool("ask_cluster", "live", schema(), _answer, live=True),
    )
    config = replace(fake.describe(), tools=tools)
    fake.describe = lambda: config  # type: ignore[method-assign]
    replayed = ReplaySubject(fake, rediagnose=True).describe()
    assert [t.name for t in replayed.tools] == ["search_held"]
    assert replayed.root_cause_classes == config.root_cause_classes
