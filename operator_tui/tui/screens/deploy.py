"""The `D` menu: bring the compose lab up or down, or show its status, and follow the run.

Choosing a verb keeps the dialog open: it lists the verb's steps with the current one
marked and a progress bar fed by the deployment's ``UpProgress`` reports (services healthy
out of all, stores Up out of expected). ``esc`` closes the dialog at any time; a run goes
on in the background and its steps still reach the event strip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from operator_tui.core.text import plain
from operator_tui.tui.messages import DeployEnded, DeployProgress

CHOICES = (
    ("up", "up      start the lab (3 PD + 3 TiKV + Prometheus + Grafana)"),
    ("status", "status  services, state and health"),
    ("down", "down    stop the lab and remove its volumes"),
)

STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    "up": (
        ("starting", "start the services and wait for their health checks"),
        ("stores", "wait until PD reports every store Up"),
    ),
    "down": (("down", "stop the lab and remove its volumes"),),
    "status": (("status", "ask the container engine for the services"),),
}
"""Per verb, its steps as (``UpProgress.phase``, what the step does)."""

LOAD_STEP = ("load", "start the load generator")

MARKS = {
    "done": ("✓", "green"),
    "current": ("▶", "bold cyan"),
    "pending": ("·", "dim"),
    "failed": ("✗", "bold red"),
}


def step_counts(step: Any) -> tuple[int, int] | None:
    """(done, total) of an ``UpProgress`` report, or None when its phase has no count."""
    if step.phase == "starting" and step.services_total:
        return step.services_ready, step.services_total
    if step.phase == "stores" and step.stores_expected:
        return step.stores_up, step.stores_expected
    return None


class DeployScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", key_display="esc"),
        Binding("u", "choose('up')", "Up", show=False),
        Binding("d", "choose('down')", "Down", show=False),
        Binding("s", "choose('status')", "Status", show=False),
    ]

    def __init__(
        self,
        project: str,
        start: Callable[[str], None],
        *,
        running: str | None = None,
        last_step: Any = None,
    ) -> None:
        """``start(verb)`` runs the verb (in a worker of the app); ``running`` reopens a run.

        The run's steps arrive as ``DeployProgress``/``DeployEnded`` messages."""
        super().__init__()
        self.project = project
        self.start = start
        self.verb: str | None = running
        self.steps: list[tuple[str, str]] = list(STEPS.get(running or "", ()))
        self.current = 0
        self.state = "running" if running else "idle"
        self._last_step = last_step

    def compose(self) -> ComposeResult:
        with Vertical(id="deploy-box", classes="dialog"):
            yield Static(f"Deploy · compose lab '{self.project}'", classes="dialog-title")
            yield OptionList(
                *(Option(label, id=key) for key, label in CHOICES), id="deploy-options"
            )
            with Vertical(id="deploy-run"):
                yield Static(id="deploy-steps")
                yield ProgressBar(id="deploy-bar", show_eta=False)
                yield Static(id="deploy-detail")
            yield Static("enter chooses · esc cancels", id="deploy-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#deploy-run").display = False
        if self.verb is not None:
            self._show_run()
            if self._last_step is not None:
                self.show_progress(self._last_step)

    # ------------------------------------------------------------------ choosing
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.action_choose(event.option.id)

    def action_choose(self, verb: str) -> None:
        if self.state == "running":
            self.notify(f"deploy {self.verb} is running; esc closes this dialog meanwhile")
            return
        self.verb = verb
        self.steps = list(STEPS[verb])
        self.current = 0
        self.state = "running"
        self._show_run()
        self.start(verb)

    def _show_run(self) -> None:
        self.query_one("#deploy-options").display = False
        self.query_one("#deploy-run").display = True
        self.query_one("#deploy-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#deploy-detail", Static).update("")
        self.query_one("#deploy-hint", Static).update(
            "esc closes this dialog; the deploy goes on and its steps reach the event strip"
        )
        self._draw_steps()

    # ------------------------------------------------------------------ progress
    @on(DeployProgress)
    def _progress(self, message: DeployProgress) -> None:
        self.show_progress(message.step)

    @on(DeployEnded)
    def _ended(self, message: DeployEnded) -> None:
        self.finish(message.message, message.ok)

    def show_progress(self, step: Any) -> None:
        """Mark the step of an ``UpProgress`` report current and move the bar to its counts."""
        phases = [phase for phase, _ in self.steps]
        if step.phase == LOAD_STEP[0] and LOAD_STEP[0] not in phases:
            self.steps.append(LOAD_STEP)
            phases.append(LOAD_STEP[0])
        if step.phase in phases:
            self.current = phases.index(step.phase)
        counts = step_counts(step)
        bar = self.query_one("#deploy-bar", ProgressBar)
        if counts is None:
            bar.update(total=None, progress=0)
        else:
            done, total = counts
            bar.update(total=total, progress=done)
        what = {"starting": "services ready", "stores": "stores Up"}.get(step.phase, "")
        detail = f"{counts[0]}/{counts[1]} {what}" if counts else ""
        if step.detail:
            detail = f"{detail} · {step.detail}" if detail else step.detail
        self.query_one("#deploy-detail", Static).update(Text(plain(detail), style="dim"))
        self._draw_steps()

    def finish(self, message: str, ok: bool) -> None:
        """The run ended: every step done (or the current one failed) and its outcome below."""
        self.state = "done" if ok else "failed"
        bar = self.query_one("#deploy-bar", ProgressBar)
        if ok:
            self.current = len(self.steps)
            bar.update(total=1, progress=1)
        else:
            bar.display = False
        self.query_one("#deploy-detail", Static).update(
            Text(plain(message, multiline=True), style="" if ok else "bold red")
        )
        self.query_one("#deploy-hint", Static).update("esc closes")
        self._draw_steps()

    def step_marks(self) -> list[tuple[str, str]]:
        """(mark, description) per step, as drawn."""
        marks = []
        for i, (_, description) in enumerate(self.steps):
            if i < self.current:
                mark = "done"
            elif i == self.current:
                mark = {"running": "current", "failed": "failed"}.get(self.state, "done")
            else:
                mark = "pending"
            marks.append((mark, description))
        return marks

    def _draw_steps(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"deploy {self.verb}\n", style="bold")
        for i, (mark, description) in enumerate(self.step_marks()):
            glyph, style = MARKS[mark]
            if i:
                text.append("\n")
            text.append(f" {glyph} ", style=style)
            text.append(description, style="bold" if mark == "current" else "")
        self.query_one("#deploy-steps", Static).update(text)
