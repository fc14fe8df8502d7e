"""A diagnosis's investigation as collapsible steps: one per tool call, its answer inside.

Each step is titled ``tool(args) ok 12 ms · 340 chars`` (or ``failed``) and holds the
answer's summary; the list grows as steps end while a diagnosis runs (only the new steps
are mounted) and is redrawn whole when it is another diagnosis's trace. Every string in a
step came from the model or the cluster, so titles and summaries are plain text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from operator_tui.core.text import plain

ARGS_CHARS = 80


def step_args(step: dict[str, Any]) -> str:
    """``store_id=2, kinds=["panic"]``: the call's arguments as the title shows them."""
    args = step.get("input")
    if not isinstance(args, dict):
        return ""
    text = ", ".join(
        f"{k}={json.dumps(v, default=str, ensure_ascii=False)}" for k, v in args.items()
    )
    return plain(text, limit=ARGS_CHARS)


def step_title(step: dict[str, Any]) -> Content:
    ok = bool(step.get("ok"))
    ms = step.get("ms")
    chars = step.get("result_chars")
    tail = f" {ms:.0f} ms" if isinstance(ms, int | float) else ""
    if isinstance(chars, int):
        tail += f" · {chars} chars"
    return Content.assemble(
        (plain(str(step.get("tool", "?")), limit=60), "bold"),
        f"({step_args(step)}) ",
        ("ok", "green") if ok else ("failed", "red"),
        (tail, "dim"),
    )


def step_body(step: dict[str, Any]) -> Content:
    summary = str(step.get("summary") or "")
    if not summary:
        return Content.styled("(no summary)", "dim")
    return Content(plain(summary, limit=2000))


class TraceStep(Collapsible):
    """One tool call; collapsed, its title says what was asked and how it went."""

    def __init__(self, step: dict[str, Any]) -> None:
        super().__init__(
            Static(step_body(step), classes="trace-summary"),
            title=step_title(step),  # type: ignore[arg-type]
        )
        self.step = step


class InvestigationTrace(Vertical):
    """The steps of one investigation, in order; hidden while there are none."""

    DEFAULT_CSS = """
    InvestigationTrace { height: auto; display: none; }
    InvestigationTrace.-has-steps { display: block; }
    InvestigationTrace > .trace-heading { text-style: bold; color: $text-muted; }
    InvestigationTrace TraceStep { padding: 0; margin: 0; border-top: none; }
    InvestigationTrace TraceStep > Contents { padding: 0 0 0 2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static(Content("Investigation"), classes="trace-heading")

    async def show(self, steps: Sequence[dict[str, Any]]) -> None:
        """Show ``steps``: mount the ones after those already shown, or start over when the
        trace is not a continuation of what is shown."""
        steps = list(steps)
        if steps == self.shown:
            return
        if steps[: len(self.shown)] != self.shown:
            await self.query(TraceStep).remove()
            self.shown = []
        new = steps[len(self.shown) :]
        self.shown = steps
        if new:
            await self.mount_all([TraceStep(s) for s in new])
        self.set_class(bool(steps), "-has-steps")
