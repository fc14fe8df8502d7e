"""The ``D`` menu's runs: one deploy verb at a time on the lab the runtime offers.

A run outlives its dialog (``esc`` closes it, the verb goes on): its steps are broadcast
as ``DeployProgress``/``DeployEnded`` messages, which the deploy dialog (when open) and the
main screen's event strip handle, and reopening the dialog shows the run where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import httpx
from textual.app import App

from operator_tui.tui.format import one_line
from operator_tui.tui.host import Runtime
from operator_tui.tui.messages import DeployEnded, DeployProgress
from operator_tui.tui.pump import broadcast
from operator_tui.tui.screens.deploy import DeployScreen

HTTP_TIMEOUT_S = 5.0


async def deploy_verb(deployment: Any, choice: str, progress: Callable[[Any], None]) -> str:
    """Run ``up``, ``down`` or ``status`` on a ``Deployment`` and say what came of it."""
    if choice == "up":
        result = await deployment.up(on_progress=progress)
        endpoints = ", ".join(f"{e.name} {e.url}" for e in result.endpoints)
        return f"lab up: {result.stores_up} stores Up" + (f"; {endpoints}" if endpoints else "")
    if choice == "down":
        return str(await deployment.down())
    services = await deployment.status()
    if not services:
        return "lab status: no services"
    return "\n".join(
        f"{s.service}: {s.state}" + (f" ({s.health})" if s.health else "") for s in services
    )


class DeployRuns:
    def __init__(self, app: App[Any], clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock
        self.running: str | None = None
        self.last_step: Any = None
        self._deployment: Any = None
        self._http: httpx.AsyncClient | None = None

    def screen(self, runtime: Runtime) -> DeployScreen:
        """The dialog over the runtime's lab; raises when there is no lab here."""
        if self._deployment is None:
            http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S)
            try:
                self._deployment = runtime.deployment(http)
            except BaseException:
                self.app.run_worker(http.aclose(), exit_on_error=False)
                raise
            self._http = http
        return DeployScreen(
            str(getattr(self._deployment, "project", "")),
            self.start,
            running=self.running,
            last_step=self.last_step if self.running else None,
        )

    def start(self, verb: str) -> None:
        self.running = verb
        self.last_step = None
        self.app.run_worker(self._run(verb), group="chaos", exit_on_error=False)

    async def _run(self, verb: str) -> None:
        def progress(step: Any) -> None:
            self.last_step = step
            broadcast(self.app, partial(DeployProgress, verb, step, self.clock()))

        try:
            message = await deploy_verb(self._deployment, verb, progress)
        except Exception as exc:
            self._ended(verb, f"deploy {verb} failed: {one_line(exc)}", ok=False)
            return
        self._ended(verb, message, ok=True)

    def _ended(self, verb: str, message: str, *, ok: bool) -> None:
        self.running = None
        self.last_step = None
        broadcast(self.app, partial(DeployEnded, verb, message, ok, self.clock()))
        self.app.notify(message, severity="information" if ok else "error", timeout=10)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
