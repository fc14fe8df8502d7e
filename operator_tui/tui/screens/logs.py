"""A store's log lines, full width: every line the history holds, followed live, filtered by
kind and by text, wrapped or cut at the screen's edge.

Lines are the ones the subject read (``LogEvent.raw``, else its parsed fields), shown as plain
text. The kinds are the subject's own classification (``LogEvent.kind``).
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, RichLog

from operator_tui.core.history import STORE_LOG_EVENTS
from operator_tui.core.text import plain
from operator_tui.core.types import LogEvent
from operator_tui.tui.format import clock_time
from operator_tui.tui.messages import TickObserved
from operator_tui.tui.screens.page import PageScreen

ALL_KINDS = ""
LEVEL_STYLES = {"ERROR": "red", "FATAL": "bold red", "CRITICAL": "bold red", "WARN": "yellow"}
LIMIT = STORE_LOG_EVENTS


def line_of(event: LogEvent) -> str:
    """The line as read, else rebuilt from its fields; one line, plain text."""
    if event.raw:
        return plain(event.raw)
    fields = " ".join(f"[{k}={v}]" for k, v in event.fields.items())
    return plain(
        f"[{event.time.isoformat()}] [{event.level}] [{event.source}] [{event.message}] {fields}"
    ).rstrip()


def log_text(event: LogEvent) -> Text:
    text = Text(no_wrap=False)
    text.append(clock_time(event.time) + " ", style="dim")
    if event.store_id is not None:
        text.append(f"s{event.store_id} ", style="bold")
    text.append(f"{plain(event.kind, limit=40)} ", style="cyan")
    text.append(line_of(event), style=LEVEL_STYLES.get(event.level.upper(), ""))
    return text


class LogsScreen(PageScreen):
    """``store_id`` None: every store's lines."""

    PREFIX = "logs"
    BINDINGS = [
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("o", "next_kind", "Kind"),
        Binding("space", "toggle_follow", "Follow", key_display="space"),
    ]
    DEFAULT_CSS = """
    LogsScreen #logs-filter { display: none; height: 3; }
    LogsScreen #logs-lines { height: 1fr; }
    """

    def __init__(self, store_id: int | None = None) -> None:
        super().__init__()
        self.store_id = store_id
        self.kind = ALL_KINDS
        self.text_filter = ""
        self.follow = True
        self.wrap = False
        self.shown_lines: list[str] = []
        self._last: LogEvent | None = None
        self._total = 0

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="filter lines by text (esc clears)", id="logs-filter")
        yield RichLog(id="logs-lines", wrap=False, markup=False, auto_scroll=True, max_lines=LIMIT)

    def on_mount(self) -> None:
        self.query_one("#logs-lines", RichLog).focus()
        self.redraw()

    def context_store_id(self) -> int | None:
        return self.store_id

    def copy_text(self) -> str | None:
        return "\n".join(self.shown_lines) if self.shown_lines else None

    # ---------------------------------------------------------------- drawing
    def _events(self) -> list[LogEvent]:
        return self.host.log_events(self.store_id, LIMIT)

    def kinds(self) -> list[str]:
        return sorted({e.kind for e in self._events()})

    def _keeps(self, event: LogEvent) -> bool:
        if self.kind and event.kind != self.kind:
            return False
        if self.text_filter:
            return self.text_filter.lower() in line_of(event).lower()
        return True

    def redraw(self) -> None:
        """Every line again (a filter, the wrap or the kind changed)."""
        log = self.query_one("#logs-lines", RichLog)
        log.clear()
        self.shown_lines = []
        events_ = self._events()
        self._total = len(events_)
        self._write([e for e in events_ if self._keeps(e)])
        self._last = events_[-1] if events_ else None
        self._draw_title()

    def _write(self, chosen: list[LogEvent]) -> None:
        log = self.query_one("#logs-lines", RichLog)
        for event in chosen:
            self.shown_lines.append(line_of(event))
            log.write(log_text(event), scroll_end=self.follow)
        del self.shown_lines[:-LIMIT]

    @on(TickObserved)
    def _tick(self) -> None:
        """Only the lines that arrived since the last draw are written."""
        events_ = self._events()
        last = self._last
        start = 0
        if last is not None:
            found = next((i for i in range(len(events_) - 1, -1, -1) if events_[i] is last), None)
            if found is None:
                self.redraw()
                return
            start = found + 1
        self._total = len(events_)
        self._write([e for e in events_[start:] if self._keeps(e)])
        self._last = events_[-1] if events_ else last
        self._draw_title()

    def _draw_title(self) -> None:
        title = Text("Logs ", style="bold")
        title.append("all stores" if self.store_id is None else f"store {self.store_id}")
        title.append(f"  {len(self.shown_lines)}/{self._total} lines", style="dim")
        if self.kind:
            title.append("  kind ", style="dim")
            title.append(plain(self.kind), style="cyan")
        if self.text_filter:
            title.append("  text ", style="dim")
            title.append(plain(self.text_filter), style="bold")
        self.set_title(title)
        state = Text()
        state.append("following" if self.follow else "paused (space follows)", style="")
        state.append(" · ")
        state.append("wrapped" if self.wrap else "long lines scroll right (w wraps)")
        state.append(" · o: kind · /: text")
        self.set_status(state)

    # ------------------------------------------------------------------ keys
    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self.query_one("#logs-lines", RichLog).wrap = self.wrap
        self.redraw()

    def action_next_kind(self) -> None:
        kinds = [ALL_KINDS, *self.kinds()]
        at = kinds.index(self.kind) if self.kind in kinds else 0
        self.kind = kinds[(at + 1) % len(kinds)]
        self.redraw()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        log = self.query_one("#logs-lines", RichLog)
        log.auto_scroll = self.follow
        if self.follow:
            log.scroll_end(animate=False)
        self._draw_title()

    def action_filter(self) -> None:
        box = self.query_one("#logs-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#logs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self.redraw()

    @on(Input.Submitted, "#logs-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._clear_filter()
        else:
            self.query_one("#logs-lines", RichLog).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.focused is self.query_one("#logs-filter", Input):
            event.stop()
            self._clear_filter()

    def _clear_filter(self) -> None:
        box = self.query_one("#logs-filter", Input)
        box.value = ""
        box.display = False
        self.text_filter = ""
        self.query_one("#logs-lines", RichLog).focus()
        self.redraw()
