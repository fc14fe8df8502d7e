"""A trace step's title and body: plain text from the step, whatever it carries."""

from __future__ import annotations

from operator_tui.tui.widgets.trace import ARGS_CHARS, step_args, step_body, step_title


def test_title_names_the_call_its_outcome_time_and_size() -> None:
    step = {
        "tool": "search_logs",
        "input": {"store_id": 1, "kinds": ["panic"]},
        "ok": True,
        "ms": 12.4,
        "result_chars": 340,
    }
    assert step_title(step).plain == 'search_logs(store_id=1, kinds=["panic"]) ok 12 ms · 340 chars'
    failed = step_title({"tool": "get_store", "input": {}, "ok": False})
    assert failed.plain == "get_store() failed"


def test_strings_from_the_model_stay_text() -> None:
    step = {
        "tool": "[red]x[/]\x1b]0;owned\x07",
        "input": {"text": "[b]" + "y" * 500},
        "ok": False,
        "summary": "[red]boom[/]\x1b[2J",
    }
    title = step_title(step).plain
    assert title.startswith("[red]x[/]") and "\x1b" not in title and "\x07" not in title
    assert len(step_args(step)) <= ARGS_CHARS
    body = step_body(step).plain
    assert "[red]boom[/]" in body and "\x1b" not in body
    assert step_body({"tool": "t"}).plain == "(no summary)"
