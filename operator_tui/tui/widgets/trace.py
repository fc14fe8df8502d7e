"""A diagnosis's investigation: each turn's streamed text, then that turn's tool calls as
collapsible steps, then the next turn's text.

A step's ``at`` (the characters of the text streamed before it ended) places it; a step
stored without one comes before the text. Each step is titled ``tool(args) ok 12 ms · 340
chars`` (or ``failed``) and holds the answer's summary. While a diagnosis runs the parts
grow in place (the last text grows, new steps and the text after them are mounted); any
other change redraws the whole. ``trailing=False`` leaves out the text after the last step
(once the structured result shows, it says the same). Every string came from the model or
the cluster, so titles and summaries are plain text and the text is Markdown without control or escape sequences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static

from operator_tui.core.text import plain
from operator_tui.tui.render import safe_markdown

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


Part = tuple[str, Any]
"""``("text", str)`` or ``("step", dict)``."""


def interleave(text: str, steps: Sequence[dict[str, Any]], *, trailing: bool = True) -> list[Part]:
    """The text cut where each step falls, the steps in between, in order."""
    parts: list[Part] = []
    pos = 0
    for step in steps:
        at = step.get("at")
        at = min(max(at, pos), len(text)) if isinstance(at, int) else pos
        if text[pos:at].strip():
            parts.append(("text", text[pos:at]))
        parts.append(("step", step))
        pos = at
    if trailing and text[pos:].strip():
        parts.append(("text", text[pos:]))
    return parts


class TraceText(Markdown):
    """One turn's text between steps: Markdown with no control or escape sequence, no link
    opened."""

    def __init__(self, text: str) -> None:
        super().__init__(safe_markdown(text), open_links=False)
        self.text = text


class InvestigationTrace(Vertical):
    """A diagnosis's turns and steps, in order; hidden while there is nothing to show."""

    DEFAULT_CSS = """
    InvestigationTrace { height: auto; display: none; }
    InvestigationTrace.-has-parts { display: block; }
    InvestigationTrace > .trace-heading { text-style: bold; color: $text-muted; }
    InvestigationTrace TraceStep { padding: 0; margin: 0; border-top: none; }
    InvestigationTrace TraceStep > Contents { padding: 0 0 0 2; }
    InvestigationTrace TraceText { margin: 0; padding: 0; }
    InvestigationTrace.-off { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: list[Part] = []
        self.heading = "Investigation"

    def compose(self) -> ComposeResult:
        yield Static(Content(self.heading), classes="trace-heading")

    @property
    def steps(self) -> list[dict[str, Any]]:
        return [p for kind, p in self.shown if kind == "step"]

    async def show(
        self, text: str, steps: Sequence[dict[str, Any]], *, trailing: bool = True
    ) -> None:
        """Show ``text`` with ``steps`` between its turns: grow in place when it continues
        what is shown, else start over."""
        parts = interleave(text, steps, trailing=trailing)
        if parts == self.shown:
            return
        keep = len(self.shown)
        if parts[: keep - 1] != self.shown[: keep - 1] or keep > len(parts):
            keep = 0
        elif keep and parts[keep - 1] != self.shown[keep - 1]:
            last_kind, last = self.shown[keep - 1]
            kind, now = parts[keep - 1]
            if kind == "text" == last_kind and now.startswith(last):
                widget = list(self.query(TraceText))[-1]
                widget.text = now
                await widget.update(safe_markdown(now))
            else:
                keep -= 1
        widgets = [w for w in self.children if isinstance(w, TraceStep | TraceText)]
        if keep < len(self.shown):
            await self.remove_children(widgets[keep:])
        new = [TraceStep(p) if kind == "step" else TraceText(p) for kind, p in parts[keep:]]
        self.shown = parts
        if new:
            await self.mount_all(new)
        self.set_class(bool(parts), "-has-parts")
