"""The `?` screen: every key, from the same list that binds them."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from operator_tui.tui.keys import KEY_ACTIONS


def keys_table() -> Table:
    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column(style="bold cyan", no_wrap=True, justify="right")
    table.add_column()
    for k in KEY_ACTIONS:
        table.add_row(k.label, k.description)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", key_display="esc"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static(Text("Keys", style="bold"), classes="dialog-title")
            yield Static(keys_table(), id="help-keys")
            yield Static(
                Text(
                    "On the ticket and incident screens v swaps the diagnosis and the facts "
                    "(a wide screen: hides the facts). Keys that do not apply right now say "
                    "why. Every action is also in the command palette (ctrl+p). esc closes "
                    "this screen.",
                    style="dim",
                ),
                id="help-note",
            )
