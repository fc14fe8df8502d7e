"""The one list of user actions: it feeds the key bindings, the footer, the help screen and the command palette."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class KeyAction:
    key: str
    """Textual key name(s), comma-separated."""
    label: str
    """Key as shown to people."""
    action: str
    short: str
    """Footer label."""
    description: str
    footer: bool = True
    app_binding: bool = True
    """False for keys bound by a widget or screen (enter, esc, R) but still documented."""
    on_screen: bool = False
    """The showing screen says what the key does (the main screen's panes and filter; the
    drill-downs say where it works). Bound by the app all the same, so the footer reads
    the keys in this list's order on every screen."""

    @property
    def target(self) -> str:
        """The action as bound: ``screen.``-qualified for the keys the screen handles."""
        return f"screen.{self.action}" if self.on_screen else self.action


KEY_ACTIONS: tuple[KeyAction, ...] = (
    KeyAction(
        "enter",
        "enter",
        "open_selected",
        "Open",
        "Open the selected store, region's store or ticket",
        footer=False,
        app_binding=False,
        on_screen=True,
    ),
    KeyAction(
        "escape",
        "esc",
        "back",
        "Back",
        "Back / close / clear the ticket filter",
        footer=False,
        on_screen=True,
    ),
    KeyAction("q", "q", "quit", "Quit", "Quit"),
    KeyAction("question_mark", "?", "help", "Help", "Show the keys"),
    KeyAction(
        "1", "1", "focus_pane('stores')", "Stores", "Stores pane", footer=False, on_screen=True
    ),
    KeyAction(
        "2", "2", "focus_pane('hot')", "Hot", "Hot regions pane", footer=False, on_screen=True
    ),
    KeyAction(
        "3", "3", "focus_pane('tickets')", "Tickets", "Tickets pane", footer=False, on_screen=True
    ),
    KeyAction(
        "tab", "tab", "focus_next", "Next pane", "Next pane", footer=False, app_binding=False
    ),
    KeyAction(
        "j,k",
        "j/k ↓/↑",
        "cursor_down",
        "Move",
        "Move down / up in the focused pane",
        footer=False,
        app_binding=False,
    ),
    KeyAction(
        "g,G",
        "g/G",
        "cursor_home",
        "Ends",
        "First / last row of the focused pane",
        footer=False,
        app_binding=False,
    ),
    KeyAction(
        "A-Z",
        "shift+letter",
        "sort",
        "Sort",
        "Sort the focused pane by the column whose letter is underlined (again: reverse)",
        footer=False,
        app_binding=False,
    ),
    KeyAction(
        "slash", "/", "filter", "Filter", "Filter the focused pane (n/m rows shown)", on_screen=True
    ),
    KeyAction(
        "colon",
        ":",
        "command_line",
        "Command",
        "Command line: :stores :regions :incidents :logs N :fault KIND [STORE] :q (tab completes)",
    ),
    KeyAction("p", "p", "toggle_pause", "Pause", "Pause / resume monitoring"),
    KeyAction("r", "r", "tick_now", "Tick", "Tick now", footer=False),
    KeyAction("plus", "+", "interval(1)", "Slower", "Longer refresh interval (+1 s)", footer=False),
    KeyAction(
        "minus",
        "-",
        "interval(-1)",
        "Faster",
        "Shorter refresh interval (-1 s, floor 1 s)",
        footer=False,
    ),
    KeyAction("ctrl+k", "ctrl+k", "kill_store", "Kill", "Kill the selected store (asks first)"),
    KeyAction("s", "s", "start_store", "Start", "Start the selected store again"),
    KeyAction("D", "D", "deploy", "Deploy", "Deploy menu (compose lab: up, down, status)"),
    KeyAction(
        "l",
        "l",
        "open_logs",
        "Logs",
        "The selected store's log lines (all stores if none)",
        footer=False,
    ),
    KeyAction(
        "y",
        "y",
        "show_raw",
        "Raw",
        "Raw JSON: PD's answer for the selected store or region, an incident's diagnosis",
        footer=False,
    ),
    KeyAction("c", "c", "copy", "Copy", "Copy the selected row or the view (OSC 52)", footer=False),
    KeyAction(
        "f",
        "f",
        "open_faults",
        "Faults",
        "Fault menu: inject or clear a fault (simulator)",
        footer=False,
    ),
    KeyAction(
        "m",
        "m",
        "open_graphs",
        "Graphs",
        "Graphs of the last 5, 15 or 30 minutes",
        footer=False,
    ),
    KeyAction(
        "",
        ":endpoints",
        "open_endpoints",
        "Endpoints",
        "Where the cluster answers: API, metrics, control",
        footer=False,
        app_binding=False,
    ),
    KeyAction(
        "a",
        "a",
        "approve",
        "Approve",
        "Approve one of the recommended actions (approve mode)",
        footer=False,
    ),
    KeyAction(
        "R",
        "R",
        "rediagnose",
        "Re-diagnose",
        "Run the diagnosis of the selected ticket again",
        footer=False,
    ),
    KeyAction("t", "t", "toggle_theme", "Theme", "Light / dark theme", footer=False),
    KeyAction(
        "ctrl+p",
        "ctrl+p",
        "command_palette",
        "Palette",
        "Command palette",
        footer=False,
        app_binding=False,
    ),
)


def app_bindings() -> list[Binding]:
    return [
        Binding(
            k.key, k.target, k.short, show=k.footer, key_display=k.label, id=k.action.split("(")[0]
        )
        for k in KEY_ACTIONS
        if k.app_binding
    ]
