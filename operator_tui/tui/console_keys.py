"""The console's keys: logs (l), raw records (y), copy (c), the fault menu (f), graphs (m)
and the endpoints view, plus ``report_failure``: every failed action is a toast and a line in
the event strip.

The actions are public by name (``open_logs(2)``, ``open_faults('slow_disk', 2)``,
``open_graphs()``, ``open_endpoints()``) so the ``:`` command line can reach them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from operator_tui.core.text import plain
from operator_tui.tui.format import one_line
from operator_tui.tui.host import HasContext, Runtime
from operator_tui.tui.screens.endpoints import EndpointsScreen
from operator_tui.tui.screens.faults import FaultMenuScreen
from operator_tui.tui.screens.graphs import GraphsScreen
from operator_tui.tui.screens.logs import LogsScreen
from operator_tui.tui.screens.raw import RawScreen
from operator_tui.tui.screens.store import StoreScreen
from operator_tui.tui.widgets.hot_regions import HotRegionsTable
from operator_tui.tui.widgets.incidents import IncidentTable
from operator_tui.tui.widgets.row_table import RowTable

if TYPE_CHECKING:
    from operator_tui.tui.screens.main import MainScreen

COPY_NOTE = (
    "sent with OSC 52; a terminal without it (or tmux without set-clipboard on) drops it: "
    "select with the mouse (shift+drag) instead"
)


def row_text(table: RowTable) -> str | None:
    key = table.selected_key
    cells = table.cells(key) if key is not None else None
    if not cells:
        return None
    return "\t".join(plain(getattr(c, "plain", c)).strip() for c in cells)


class ConsoleKeys(App[int]):
    """Mixed into ``OperatorApp``; what it reads of the app is declared here."""

    runtime: Runtime | None
    main: MainScreen

    if TYPE_CHECKING:

        def _runtime_or_say(self) -> Runtime | None: ...
        def _pointed_at(self) -> tuple[int | None, int | None]: ...

    def report_failure(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10)
        if self.main.ready:
            self.main.note(message, "bold red")

    # ------------------------------------------------------------------ views
    def action_open_logs(self, store_id: int | None = None) -> None:
        if store_id is None:
            store_id = self._pointed_at()[0]
        self.push_screen(LogsScreen(None if store_id is None else int(store_id)))

    def action_open_graphs(self, store_id: int | None = None) -> None:
        """The cluster's graphs; one store's (``:graphs 3``, or ``m`` on the store screen)."""
        screen = self.screen
        if store_id is None and isinstance(screen, StoreScreen):
            store_id = screen.store_id
        store_id = None if store_id is None else int(store_id)
        if isinstance(screen, GraphsScreen):
            if screen.store_id == store_id:
                return
            self.pop_screen()
        self.push_screen(GraphsScreen(store_id=store_id))

    def action_open_endpoints(self) -> None:
        if isinstance(self.screen, EndpointsScreen):
            return
        self.push_screen(EndpointsScreen())

    def action_open_faults(self, kind: str | None = None, store: int | None = None) -> None:
        if (runtime := self._runtime_or_say()) is None:
            return
        if not runtime.fault_kinds():
            self.report_failure(
                "no fault menu here: faults work in --demo or against the subject's simulator "
                "(operator-tui sim, then --pd at it); k and s drive a compose lab"
            )
            return
        if isinstance(self.screen, FaultMenuScreen):
            return
        if store is None:
            store = self._pointed_at()[0]
        self.push_screen(FaultMenuScreen(kind, None if store is None else int(store)))

    # ------------------------------------------------------------------- raw
    def _raw_target(self) -> tuple[str, int] | None:
        """What ``y`` shows: ("store"|"region"|"diagnosis", id) from the focused pane or screen."""
        screen = self.screen
        if screen is self.main:
            focused = self.main.focused
            if isinstance(focused, HotRegionsTable):
                key = focused.selected_key
                return None if key is None else ("region", int(key))
            if isinstance(focused, IncidentTable):
                ticket = focused.selected_ticket_id
                return None if ticket is None else ("diagnosis", ticket)
        if isinstance(screen, HasContext):
            store_id, ticket_id = screen.context_store_id(), screen.context_ticket_id()
            if ticket_id is not None:
                return ("diagnosis", ticket_id)
            if store_id is not None:
                return ("store", store_id)
        return None

    def action_show_raw(self) -> None:
        if (runtime := self._runtime_or_say()) is None:
            return
        target = self._raw_target()
        if target is None:
            self.notify("nothing selected: pick a store, a hot region or an incident first")
            return
        self._show_raw(runtime, *target)

    @work(group="raw", exit_on_error=False, exclusive=True)
    async def _show_raw(self, runtime: Runtime, kind: str, key: int) -> None:
        if kind == "diagnosis":
            try:
                record = await runtime.latest_diagnosis(key)
            except Exception as exc:
                self.report_failure(f"cannot read the diagnosis of #{key}: {one_line(exc)}")
                return
            if record is None or record.result is None:
                self.notify(f"ticket #{key} has no finished diagnosis yet", severity="warning")
                return
            body = json.dumps(record.result, indent=2, ensure_ascii=False)
            source = f"diagnosis {record.id} of ticket #{key} ({record.backend}), as stored"
            self.push_screen(RawScreen(f"Diagnosis of #{key}", source, body))
            return
        if kind not in runtime.raw_kinds():
            self.notify(f"no raw {kind} records from this subject", severity="warning")
            return
        try:
            answer = await runtime.raw_record(kind, key)
        except Exception as exc:
            self.report_failure(f"cannot read {kind} {key} raw: {one_line(exc)}")
            return
        self.push_screen(RawScreen(f"{kind} {key}", answer.source, answer.body, answer.status))

    # ------------------------------------------------------------------ copy
    def _copy_payload(self) -> tuple[str, str] | None:
        screen = self.screen
        if screen is self.main:
            focused = self.main.focused
            if isinstance(focused, RowTable) and (text := row_text(focused)):
                return text, "the selected row"
            return None
        copy: Any = getattr(screen, "copy_text", None)
        if callable(copy) and (text := copy()):
            return text, "the view"
        return None

    def action_copy(self) -> None:
        found = self._copy_payload()
        if found is None:
            self.notify("nothing to copy here: select a row, or open a view (l, y, m)")
            return
        text, what = found
        self.copy_to_clipboard(text)
        self.notify(f"copied {what} ({len(text)} characters); {COPY_NOTE}", timeout=6)
