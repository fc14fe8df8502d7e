"""The global keys that act on the cluster, its tickets and its lab: k, s, R, a, D.

They act on what the showing screen points at (``HasContext``: the main screen's selected
rows, a drill-down's store or ticket) and run their commands in workers of the ``chaos``
group, so a slow cluster never blocks a key.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from operator_tui.core.commands import action_done
from operator_tui.core.types import Store
from operator_tui.tui.format import one_line
from operator_tui.tui.host import HasContext, Runtime
from operator_tui.tui.screens.approve import ApproveScreen, action_call, is_high_risk
from operator_tui.tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from operator_tui.config import Settings
    from operator_tui.core.types import Snapshot
    from operator_tui.tui.deploy_run import DeployRuns


class ClusterKeys(App[int]):
    """Mixed into ``OperatorApp``; what it reads of the app is declared here."""

    runtime: Runtime | None
    settings: Settings
    deploys: DeployRuns

    if TYPE_CHECKING:

        @property
        def is_demo(self) -> bool: ...

        def latest_snapshot(self) -> Snapshot | None: ...
        def report_failure(self, message: str) -> None: ...

    def _runtime_or_say(self) -> Runtime | None:
        if self.runtime is None:
            self.notify(
                "still connecting to the cluster; try again in a moment", severity="warning"
            )
        return self.runtime

    def _pointed_at(self) -> tuple[int | None, int | None]:
        """(store id, ticket id) the showing screen points at."""
        screen = self.screen
        if isinstance(screen, HasContext):
            return screen.context_store_id(), screen.context_ticket_id()
        return None, None

    def _context_store(self) -> Store | None:
        store_id = self._pointed_at()[0]
        snapshot = self.latest_snapshot()
        if store_id is None or snapshot is None:
            self.notify("no store selected: pick one in the stores pane (1)", severity="warning")
            return None
        store = snapshot.store(store_id)
        if store is None:
            self.notify(f"store {store_id} is not in the latest snapshot", severity="warning")
        return store

    def _store_for(self, verb: str) -> tuple[Runtime, Store] | None:
        runtime = self._runtime_or_say()
        if runtime is None:
            return None
        if getattr(runtime, "chaos", True) is None:
            self.report_failure(
                f"cannot {verb} stores here: no demo, simulator or compose lab to drive; that "
                "works in --demo, against the subject's simulator (--pd at it) or its lab "
                "(operator-tui deploy local up); a cluster configured elsewhere needs --allow-chaos"
            )
            return None
        store = self._context_store()
        return None if store is None else (runtime, store)

    def action_kill_store(self) -> None:
        if (found := self._store_for("kill")) is None:
            return
        runtime, store = found
        if not store.health.level.answering:
            self.notify(
                f"store {store.id} is down already ({store.label}, not answering); s starts it again",
                severity="warning",
            )
            return
        how = "the simulator's control API" if runtime.fault_kinds() else "docker kill"
        question = f"Kill store {store.id} ({store.address}) through {how}?\n\ny kills it, n or esc cancels."

        def answered(yes: bool | None) -> None:
            if yes:
                self._command(f"kill store {store.id}", runtime.kill_store(store.id))

        self.push_screen(ConfirmScreen(f"Kill store {store.id}", question, "Kill"), answered)

    def action_start_store(self) -> None:
        if (found := self._store_for("start")) is None:
            return
        runtime, store = found
        if store.health.level.answering:
            self.notify(
                f"store {store.id} is {store.label} and answering; nothing to start",
                severity="warning",
            )
            return
        self._command(f"start store {store.id}", runtime.start_store(store.id))

    @work(group="chaos", exit_on_error=False)
    async def _command(
        self, what: str, call: Awaitable[Any], *, done: str | None = None, failed: str = ""
    ) -> None:
        try:
            message = await call
        except Exception as exc:
            self.report_failure(f"{failed or what + ' failed'}: {one_line(exc)}")
            return
        self.notify(done or message or f"{what}: done")

    def _ticket_or_say(self) -> tuple[Runtime, int] | None:
        if (runtime := self._runtime_or_say()) is None:
            return None
        ticket_id = self._pointed_at()[1]
        if ticket_id is None:
            self.notify("no ticket selected: pick one in the tickets pane (3)", severity="warning")
            return None
        return runtime, ticket_id

    def action_rediagnose(self) -> None:
        if (found := self._ticket_or_say()) is not None:
            runtime, ticket_id = found
            self._command(
                f"re-run the diagnosis of #{ticket_id}",
                runtime.rediagnose(ticket_id),
                done=f"diagnosis of ticket #{ticket_id} queued again",
                failed=f"cannot re-run the diagnosis of #{ticket_id}",
            )

    def action_approve(self) -> None:
        mode = self.runtime.actions_mode if self.runtime is not None else self.settings.actions.mode
        if self.runtime is not None and mode != "approve":
            reason = "actions run on their own" if mode == "auto" else "the operator only observes"
            self.notify(
                f"a approves actions only in approve mode (--mode approve); mode is {mode}: {reason}",
                severity="warning",
            )
            return
        if (found := self._ticket_or_say()) is not None:
            self._approve(*found)

    @work(group="chaos", exit_on_error=False)
    async def _approve(self, runtime: Runtime, ticket_id: int) -> None:
        try:
            record = await runtime.latest_diagnosis(ticket_id)
        except Exception as exc:
            self.notify(f"cannot read ticket #{ticket_id}: {one_line(exc)}", severity="error")
            return
        actions = record.result.get("recommended_actions") if record and record.result else None
        if record is None or record.result is None:
            self.notify(
                f"ticket #{ticket_id} has no finished diagnosis yet; R runs one", severity="warning"
            )
            return
        if not actions:
            self.notify(
                f"ticket #{ticket_id} has no recommended action to approve", severity="warning"
            )
            return
        try:
            events = await runtime.ticket_events(ticket_id)
        except Exception:
            events = []
        done = frozenset(
            i
            for i, a in enumerate(actions)
            if action_done(events, str(a.get("action")), a.get("args") or {})
        )
        chosen = await self.push_screen_wait(ApproveScreen(ticket_id, actions, done))
        if chosen is None:
            return
        if is_high_risk(actions[chosen]):
            call = action_call(actions[chosen])
            question = (
                f"{call} is a high-risk action on the cluster (ticket #{ticket_id}).\n\n"
                "y runs it, n or esc cancels."
            )
            confirm = ConfirmScreen(f"Run {call}?", question, "Run it")
            if not await self.push_screen_wait(confirm):
                self.notify(f"{call} not run", severity="warning")
                return
        try:
            result = await runtime.approve(ticket_id, chosen)
        except Exception as exc:
            self.report_failure(f"approve failed: {one_line(exc)}")
            return
        if not result.ok:
            self.report_failure(result.message)
            return
        self.notify(result.message, timeout=8)

    def action_deploy(self) -> None:
        if self.is_demo:
            self.notify(
                "deploy is for the compose lab; this demo runs an embedded simulated cluster "
                "(run operator-tui without --demo after `operator-tui deploy local up`)",
                severity="warning",
                timeout=8,
            )
            return
        if (runtime := self._runtime_or_say()) is None:
            return
        try:
            screen = self.deploys.screen(runtime)
        except ModuleNotFoundError as exc:
            self.notify(f"deploy is unavailable: {exc.name} is not installed", severity="warning")
            return
        except Exception as exc:
            self.notify(f"deploy is unavailable: {one_line(exc)}", severity="warning")
            return
        self.push_screen(screen)
