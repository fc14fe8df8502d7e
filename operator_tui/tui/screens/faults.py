"""The fault menu (``f``): the faults the subject declares for its simulator, each with its
parameters, and the faults in force with a way to clear each.

The menu knows faults only as the runtime lists them (``Commands.fault_kinds``); it sends the
choice back through ``Commands.inject_fault`` / ``clear_fault``.
"""

from __future__ import annotations

from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from operator_tui.core.faults import ActiveFault, FaultKind, FaultParam
from operator_tui.core.text import plain
from operator_tui.tui.format import one_line, shown
from operator_tui.tui.host import Host

STORE_FIELD = "store"


def param_hint(param: FaultParam) -> str:
    default = (
        "simulator's choice"
        if param.default is None
        else f"{param.default:g}"
        if isinstance(param.default, float)
        else str(param.default)
    )
    unit = f" {param.unit}" if param.unit else ""
    choices = f" ({' | '.join(param.choices)})" if param.choices else ""
    return f"{default}{unit}{choices}"


class FaultMenuScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", key_display="esc")]
    DEFAULT_CSS = """
    FaultMenuScreen { align: center middle; }
    #faults-box { width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error 60%; background: $surface; padding: 0 1; }
    #faults-top { height: auto; }
    #fault-kinds { width: 28; height: auto; max-height: 11; border: none; padding: 0; }
    #fault-form { width: 1fr; height: auto; padding: 0 0 0 1; }
    #fault-form Input { border: none; height: 1; padding: 0 1; background: $boost; }
    #fault-form .param-label { height: 1; color: $text-muted; }
    #fault-active { height: auto; max-height: 5; border: none; padding: 0; }
    #faults-status { height: auto; }
    """

    def __init__(self, kind: str | None = None, store: int | None = None) -> None:
        super().__init__()
        self.wanted_kind = kind
        self.store = store
        self.kinds: tuple[FaultKind, ...] = ()
        self.active: list[ActiveFault] = []
        self.kind: FaultKind | None = None

    @property
    def host(self) -> Host:
        return cast(Host, self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="faults-box", classes="dialog"):
            yield Static("Faults", classes="dialog-title")
            with Horizontal(id="faults-top"):
                yield OptionList(id="fault-kinds")
                yield Vertical(id="fault-form")
            yield Static(Text("In force (enter clears one)", style="bold"), id="fault-active-title")
            yield OptionList(id="fault-active")
            yield Static(id="faults-status")

    def on_mount(self) -> None:
        runtime = self.host.runtime
        self.kinds = runtime.fault_kinds() if runtime is not None else ()
        kinds = self.query_one("#fault-kinds", OptionList)
        kinds.add_options([Option(plain(k.label), id=k.name) for k in self.kinds])
        at = next((i for i, k in enumerate(self.kinds) if k.name == self.wanted_kind), 0)
        if self.kinds:
            kinds.highlighted = at
        kinds.focus()
        self.say("enter picks a fault, then its fields; enter again injects it · esc closes")
        self.load_active()
        if self.wanted_kind is not None:
            if self.wanted_kind not in {k.name for k in self.kinds}:
                self.say(f"no fault {self.wanted_kind} here", error=True)
            else:
                self.call_after_refresh(self._focus_form)

    def say(self, message: str, *, error: bool = False) -> None:
        self.query_one("#faults-status", Static).update(
            shown(message, "bold red" if error else "dim", multiline=True)
        )

    # ----------------------------------------------------------------- the form
    @on(OptionList.OptionHighlighted, "#fault-kinds")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        kind = next((k for k in self.kinds if k.name == event.option.id), None)
        if kind is not None and kind is not self.kind:
            await self._build_form(kind)

    async def _build_form(self, kind: FaultKind) -> None:
        self.kind = kind
        form = self.query_one("#fault-form", Vertical)
        await form.remove_children()
        widgets: list[Any] = [
            Static(Text(plain(kind.label), style="bold")),
            Static(shown(kind.description, "dim")),
        ]
        if kind.needs_store:
            widgets.append(Static("store id", classes="param-label"))
            value = "" if self.store is None else str(self.store)
            widgets.append(Input(value, placeholder="store id", id="fault-store", type="integer"))
        for param in kind.params:
            label = f"{param.name}: {param.description}" if param.description else param.name
            widgets.append(Static(shown(label), classes="param-label"))
            widgets.append(Input(placeholder=param_hint(param), id=f"fault-param-{param.name}"))
        if not kind.needs_store and not kind.params:
            widgets.append(Static(Text("no parameters: enter injects it", style="dim")))
        await form.mount_all(widgets)

    def _focus_form(self) -> None:
        inputs = list(self.query("#fault-form Input").results(Input))
        if inputs:
            inputs[0].focus()

    @on(OptionList.OptionSelected, "#fault-kinds")
    def _picked(self) -> None:
        if list(self.query("#fault-form Input")):
            self._focus_form()
        else:
            self.inject()

    @on(Input.Submitted, "#fault-form Input")
    def _submitted(self) -> None:
        self.inject()

    def values(self) -> tuple[int | None, dict[str, Any]]:
        """The store and the parameters typed; ``ValueError`` says what is wrong."""
        kind = self.kind
        assert kind is not None
        store: int | None = None
        if kind.needs_store:
            text = self.query_one("#fault-store", Input).value.strip()
            if not text.isdigit():
                raise ValueError(f"{kind.label} needs a store id")
            store = int(text)
        params: dict[str, Any] = {}
        for param in kind.params:
            value = param.parse(self.query_one(f"#fault-param-{param.name}", Input).value)
            if value is not None:
                params[param.name] = value
        return store, params

    # ----------------------------------------------------------------- commands
    @work(group="chaos", exit_on_error=False, exclusive=True)
    async def inject(self) -> None:
        runtime, kind = self.host.runtime, self.kind
        if runtime is None or kind is None:
            return
        try:
            store, params = self.values()
        except ValueError as exc:
            self.say(str(exc), error=True)
            return
        self.say(f"injecting {kind.label}...")
        try:
            fault = await runtime.inject_fault(kind.name, store, params)
        except Exception as exc:
            message = f"cannot inject {kind.label}: {one_line(exc)}"
            self.say(message, error=True)
            self.host.report_failure(message)
            return
        self.app.notify(f"fault {fault.describe()} injected")
        self.dismiss(None)

    @work(group="faults", exit_on_error=False)
    async def load_active(self) -> None:
        runtime = self.host.runtime
        if runtime is None:
            return
        try:
            self.active = await runtime.active_faults()
        except Exception as exc:
            self.say(f"cannot list the faults in force: {one_line(exc)}", error=True)
            return
        listed = self.query_one("#fault-active", OptionList)
        listed.clear_options()
        if not self.active:
            listed.add_option(Option(Text("none", style="dim"), id="", disabled=True))
            return
        listed.add_options([Option(plain(f.describe()), id=f.id) for f in self.active])

    @on(OptionList.OptionSelected, "#fault-active")
    def _clear_picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.clear(event.option.id)

    @work(group="chaos", exit_on_error=False)
    async def clear(self, fault_id: str) -> None:
        runtime = self.host.runtime
        if runtime is None:
            return
        try:
            fault = await runtime.clear_fault(fault_id)
        except Exception as exc:
            message = f"cannot clear fault {fault_id}: {one_line(exc)}"
            self.say(message, error=True)
            self.host.report_failure(message)
            return
        self.say(f"fault {fault.describe()} cleared")
        self.load_active()

    def action_close(self) -> None:
        self.dismiss(None)
