"""A record as its source gave it: PD's JSON answer for a store or a region, or the stored
diagnosis JSON of an incident, as plain text, selectable and copyable."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import TextArea

from operator_tui.core.text import plain
from operator_tui.tui.screens.page import PageScreen


def readable(body: str) -> str:
    """The body as text a terminal may show: control characters other than newlines and tabs
    are replaced (``core.text.plain`` line by line), nothing else is changed."""
    return "\n".join(plain(line, limit=None) for line in body.split("\n"))


class RawScreen(PageScreen):
    """``title``: what the record is; ``source``: where it came from (the request, the store)."""

    PREFIX = "raw"
    BINDINGS = [Binding("w", "toggle_wrap", "Wrap")]
    DEFAULT_CSS = """
    RawScreen #raw-body { height: 1fr; border: none; }
    """

    def __init__(self, title: str, source: str, body: str, status: int | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.source = source
        self.body = body
        self.status = status

    def compose_body(self) -> ComposeResult:
        yield TextArea(
            readable(self.body),
            id="raw-body",
            read_only=True,
            soft_wrap=False,
            show_line_numbers=False,
        )

    def on_mount(self) -> None:
        title = Text(plain(self.title_text), style="bold")
        title.append("  ")
        title.append(plain(self.source), style="dim")
        if self.status is not None:
            title.append(f"  HTTP {self.status}", style="" if self.status < 400 else "bold red")
        self.set_title(title)
        self._draw_status()
        self.query_one(TextArea).focus()

    def _draw_status(self) -> None:
        area = self.query_one(TextArea)
        wrap = "wrapped" if area.soft_wrap else "long lines scroll right (w wraps)"
        size = len(self.body.encode("utf-8", errors="replace"))
        self.set_status(f"{size} bytes as received · {wrap} · c copies it all")

    def copy_text(self) -> str | None:
        return self.body

    def action_toggle_wrap(self) -> None:
        area = self.query_one(TextArea)
        area.soft_wrap = not area.soft_wrap
        self._draw_status()
