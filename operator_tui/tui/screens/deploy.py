"""The `D` menu: bring the compose lab up or down, or show its status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

CHOICES = (
    ("up", "up      start the lab (3 PD + 3 TiKV + Prometheus + Grafana)"),
    ("status", "status  services, state and health"),
    ("down", "down    stop the lab and remove its volumes"),
)


class DeployScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", key_display="esc"),
        Binding("u", "dismiss('up')", "Up", show=False),
        Binding("d", "dismiss('down')", "Down", show=False),
        Binding("s", "dismiss('status')", "Status", show=False),
    ]

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project

    def compose(self) -> ComposeResult:
        with Vertical(id="deploy-box", classes="dialog"):
            yield Static(f"Deploy · compose lab '{self.project}'", classes="dialog-title")
            yield OptionList(
                *(Option(label, id=key) for key, label in CHOICES), id="deploy-options"
            )
            yield Static("enter chooses · esc cancels", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
