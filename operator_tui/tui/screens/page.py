"""What the full-width console screens share (logs, raw, endpoints, graphs): a title line, one
body, the footer, esc back, and a word for the main screen's keys that do nothing here."""

from __future__ import annotations

from typing import cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from operator_tui.tui.host import Host
from operator_tui.tui.screens.drilldown import BACK_THERE


class PageScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", key_display="esc")]
    DEFAULT_CSS = """
    PageScreen > .page-status { height: 1; padding: 0 1; color: $text-muted; }
    """
    PREFIX = "page"

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    def compose(self) -> ComposeResult:
        yield Static(id=f"{self.PREFIX}-title", classes="screen-title")
        yield from self.compose_body()
        yield Static(id=f"{self.PREFIX}-status", classes="page-status")
        yield Footer(show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_title(self, text: object) -> None:
        self.query_one(f"#{self.PREFIX}-title", Static).update(text)  # type: ignore[arg-type]

    def set_status(self, text: object) -> None:
        self.query_one(f"#{self.PREFIX}-status", Static).update(text)  # type: ignore[arg-type]

    def context_store_id(self) -> int | None:
        return None

    def context_ticket_id(self) -> int | None:
        return None

    def copy_text(self) -> str | None:
        """What ``c`` copies on this screen; None: nothing."""
        return None

    def action_focus_pane(self, pane: str) -> None:
        self.notify(f"panes are on the main screen; {BACK_THERE}")

    def action_filter(self) -> None:
        self.notify(f"nothing to filter here; {BACK_THERE}")

    def action_open_selected(self) -> None:
        self.notify(f"enter opens a row of the main screen; {BACK_THERE}")

    def action_back(self) -> None:
        self.app.pop_screen()
