"""The ``:`` command line (k9s style): a one-line prompt with completion, run by the app."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

COMMANDS = (
    "stores",
    "regions",
    "incidents",
    "tickets",
    "logs ",
    "fault ",
    "graphs",
    "endpoints",
    "help",
    "q",
    "quit",
)


class CommandLine(ModalScreen[str | None]):
    """Returns the command typed (without the colon), or None on esc."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", key_display="esc")]
    DEFAULT_CSS = """
    CommandLine { align: left bottom; background: $background 0%; }
    CommandLine > Input { width: 100%; height: 1; border: none; padding: 0 1; background: $boost; }
    """

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder=":stores :regions :incidents :logs N :fault KIND [STORE] :q",
            suggester=SuggestFromList(COMMANDS, case_sensitive=False),
            id="command-input",
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().lstrip(":"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def parse(line: str) -> tuple[str, list[str]]:
    words = line.split()
    return (words[0].lower(), words[1:]) if words else ("", [])
