"""Event strip: a short, scrollable history of ticket, chaos and monitor events.

Each line is cut with an ellipsis at the strip's own width, and laid out again when that width
changes: RichLog would otherwise cut a line written before its size was known, or wider than
its console, at 78-80 columns even on a 200-column terminal.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

from operator_tui.core.events import Event
from operator_tui.core.text import plain
from operator_tui.tui.format import clock_time

STYLES = {
    "ticket.opened": "bold yellow",
    "ticket.resolved": "green",
    "ticket.recurred": "bold yellow",
    "diagnosis.finished": "cyan",
    "diagnosis.failed": "red",
    "chaos": "bold magenta",
    "error": "bold red",
    "action.done": "green",
    "action.refused": "yellow",
    "action.proposed": "cyan",
    "monitor.paused": "yellow",
    "monitor.resumed": "green",
}


def describe(event: Event) -> str | None:
    """One line for an event worth showing; ticks and chunks are not."""
    data = event.data
    ticket = data.get("ticket") if isinstance(data.get("ticket"), dict) else {}
    kind = event.event
    if kind in ("ticket.opened", "ticket.resolved"):
        verb = "opened" if kind == "ticket.opened" else "resolved"
        return f"ticket #{ticket.get('id')} {verb}: {ticket.get('message') or ticket.get('invariant', '')}"
    if kind == "ticket.recurred":
        what = ticket.get("message") or ticket.get("invariant", "")
        return f"ticket #{ticket.get('id')} happened again: {what}; diagnosing again"
    if kind == "diagnosis.finished":
        diagnosis = data.get("diagnosis") or {}
        cause = diagnosis.get("root_cause_class")
        suffix = f": {cause}" if cause else ""
        return f"ticket #{data.get('ticket_id')} diagnosed{suffix}"
    if kind == "diagnosis.failed":
        return f"ticket #{data.get('ticket_id')} diagnosis failed: {data.get('error', '')}"
    if kind == "chaos":
        return str(data.get("message") or " ".join(f"{k}={v}" for k, v in data.items()))
    if kind == "error":
        return f"error: {data.get('message') or data.get('error') or data}"
    if kind.startswith("action."):
        args = ", ".join(f"{k}={v}" for k, v in (data.get("args") or {}).items())
        call = f"{data.get('action', '')}({args})"
        where = f"ticket #{data.get('ticket_id')}: " if data.get("ticket_id") is not None else ""
        if kind == "action.proposed":
            risk = f", risk {data['risk']}" if data.get("risk") else ""
            return f"{where}proposed {call}{risk}"
        verb = "done" if kind == "action.done" else "refused"
        message = data.get("message") or ""
        return f"{where}{verb} {call}" + (f": {message}" if message else "")
    if kind == "monitor.paused":
        return "monitoring paused"
    if kind == "monitor.resumed":
        return "monitoring resumed"
    return None


KEPT_LINES = 500


class EventStrip(RichLog):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=KEPT_LINES, wrap=False, markup=False, auto_scroll=True)
        self.lines_written: list[str] = []
        self._kept: deque[Text] = deque(maxlen=KEPT_LINES)
        self._laid_width = 0

    def _width(self) -> int | None:
        width = self.scrollable_content_region.width
        return width if self._size_known and width > 0 else None

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        width = self._width()
        if width is None or width == self._laid_width:
            return
        self._laid_width = width
        self.clear()
        for text in self._kept:
            self.write(text, width=width)

    def add(self, event: Event, seen_at: datetime) -> None:
        line = describe(event)
        if line is None:
            return
        self.note(line, seen_at, STYLES.get(event.event, ""))

    def note(self, line: str, seen_at: datetime, style: str = "") -> None:
        line = plain(line)
        self.lines_written.append(line)
        del self.lines_written[:-500]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(clock_time(seen_at) + " ", style="dim")
        text.append(line, style=style)
        self._kept.append(text)
        self.write(text, width=self._width())
