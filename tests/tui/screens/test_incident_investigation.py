"""The incident screen's investigation section: one plain-text line per tool call."""

from __future__ import annotations

from operator_tui.tui.screens.incident import investigation_text


def test_each_step_is_a_line_of_plain_text() -> None:
    text = investigation_text(
        [
            {
                "tool": "search_logs",
                "input": {"store_id": 1},
                "ok": True,
                "ms": 3.2,
                "summary": "4 events",
            },
            {
                "tool": "get_store",
                "input": {},
                "ok": False,
                "ms": 1.0,
                "summary": "[red]boom[/]\x1b[2J",
            },
        ]
    )
    lines = text.plain.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("✓ search_logs") and "4 events" in lines[0]
    assert lines[1].startswith("✗ get_store") and "[red]boom[/]" in lines[1]
    assert "\x1b" not in text.plain
