"""The `a` dialog: every recommended action of a diagnosis, with its risk, arguments and the
values it changes (current -> proposed); one already done on the ticket says so. Pick one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from operator_tui.core.text import plain
from operator_tui.tui.render import action_change

RISK_STYLES = {"low": "green", "medium": "bold yellow", "high": "bold red"}


def action_call(action: Mapping[str, Any]) -> str:
    """``name(k=v, ...)`` as the diagnosis and the event strip write it (plain text)."""
    args = ", ".join(f"{k}={v}" for k, v in (action.get("args") or {}).items())
    return plain(f"{action.get('action', '')}({args})")


def is_high_risk(action: Mapping[str, Any]) -> bool:
    return str(action.get("risk") or "").lower() == "high"


def action_prompt(number: int, action: Mapping[str, Any], done: bool = False) -> Text:
    """The numbered call with its risk, the values it changes, then why the diagnosis
    recommends it."""
    risk = plain(action.get("risk") or "low", limit=20)
    text = Text(no_wrap=False)
    text.append(f"{number}. ", style="bold")
    text.append(action_call(action), style="bold cyan")
    text.append("  risk ", style="dim")
    text.append(risk, style=RISK_STYLES.get(risk, ""))
    if done:
        text.append("  done", style="bold green")
    change = action_change(action)
    if change:
        text.append(f"\n   {plain(change)}")
    rationale = plain(action.get("rationale") or "").strip()
    if rationale:
        text.append(f"\n   {rationale}", style="dim")
    return text


class ApproveScreen(ModalScreen[int | None]):
    """Dismissed with the index of the chosen action, or None when cancelled."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", key_display="esc")]

    def __init__(
        self,
        ticket_id: int,
        actions: Sequence[Mapping[str, Any]],
        done: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.actions = list(actions)
        self.done = done

    def compose(self) -> ComposeResult:
        with Vertical(id="approve-box", classes="dialog"):
            yield Static(
                f"Approve an action · ticket #{self.ticket_id}",
                classes="dialog-title",
                markup=False,
            )
            yield OptionList(
                *(
                    Option(action_prompt(i, action, i - 1 in self.done), id=str(i - 1))
                    for i, action in enumerate(self.actions, 1)
                ),
                id="approve-options",
            )
            yield Static("enter runs the highlighted action · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        """The first action that is not high risk starts highlighted; a high-risk one never is,
        so ``enter`` alone cannot pick it."""
        options = self.query_one(OptionList)
        options.highlighted = next(
            (i for i, action in enumerate(self.actions) if not is_high_risk(action)), None
        )
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))
