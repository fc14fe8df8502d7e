"""What the store and ticket screens share: title, two columns, footer, esc back, the host.

The keys that belong to the main screen (pane keys, filter, enter) are bound by the app for
whichever screen is showing; here they say where they work instead of doing nothing.
"""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from operator_tui.tui.host import Host

BACK_THERE = "esc goes back there"


def section(title: str) -> Text:
    return Text(title, style="bold underline")


class DrillDownScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", key_display="esc")]
    PREFIX = ""
    """Widget ids: ``{PREFIX}-title``, ``{PREFIX}-body``."""
    SIDE_ID = ""
    MAIN_ID = ""

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    def compose(self) -> ComposeResult:
        yield Static(id=f"{self.PREFIX}-title", classes="screen-title")
        with Horizontal(id=f"{self.PREFIX}-body"):
            with VerticalScroll(id=self.SIDE_ID, classes="side-col"):
                yield from self.compose_side()
            with VerticalScroll(id=self.MAIN_ID, classes="main-col"):
                yield from self.compose_main()
        yield Footer(show_command_palette=False)

    def compose_side(self) -> ComposeResult:
        yield from ()

    def compose_main(self) -> ComposeResult:
        yield from ()

    def action_focus_pane(self, pane: str) -> None:
        self.notify(f"panes are on the main screen; {BACK_THERE}")

    def action_filter(self) -> None:
        self.notify(f"the ticket filter is on the main screen; {BACK_THERE}")

    def action_open_selected(self) -> None:
        self.notify(f"enter opens a row of the main screen; {BACK_THERE}")

    def action_back(self) -> None:
        self.app.pop_screen()
