"""Where the cluster answers: its API, its metrics and its control routes, as the runtime knows
them (a simulator says so itself); one per line, so they can be copied into a script."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from operator_tui.core.deploy import Endpoint
from operator_tui.tui.format import one_line, shown
from operator_tui.tui.screens.page import PageScreen


class EndpointsScreen(PageScreen):
    PREFIX = "endpoints"
    DEFAULT_CSS = """
    EndpointsScreen #endpoints-scroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.endpoints: list[Endpoint] = []

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="endpoints-scroll"):
            yield Static(Text("reading...", style="dim"), id="endpoints-list")

    def on_mount(self) -> None:
        self.set_title(Text("Endpoints", style="bold"))
        self.set_status("c copies them · esc back")
        self.load()

    @work(group="endpoints", exit_on_error=False)
    async def load(self) -> None:
        body = self.query_one("#endpoints-list", Static)
        runtime = self.host.runtime
        if runtime is None:
            body.update(Text("still connecting to the cluster", style="dim"))
            return
        try:
            self.endpoints = await runtime.endpoints()
        except Exception as exc:
            message = f"cannot list the endpoints: {one_line(exc)}"
            body.update(shown(message, "red"))
            self.host.report_failure(message)
            return
        if not self.endpoints:
            body.update(
                Text(
                    "no endpoints to list: this cluster is not a simulator the operator started "
                    "or found (its addresses are the ones you configured: operator-tui config)",
                    style="dim",
                )
            )
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(no_wrap=True)
        for endpoint in self.endpoints:
            table.add_row(shown(endpoint.name), shown(endpoint.url))
        body.update(table)

    def copy_text(self) -> str | None:
        return "\n".join(f"{e.name}\t{e.url}" for e in self.endpoints) or None
