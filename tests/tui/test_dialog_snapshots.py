"""Snapshots at 120x40 of the approve dialog and of the deploy dialog in the middle of a run.

Over the in-memory runtime of ``conftest.py`` (manual clock, no monitor worker), so they are
exact; they guard the dialogs' layout (nothing cut off) the way the main snapshots guard the
panes.
"""

from __future__ import annotations

import asyncio

from operator_tui.core.deploy import UpProgress, UpResult

SIZE = (120, 40)


def test_approve_dialog_lists_every_action(snap_compare, two_action_runtime, app_factory) -> None:
    runtime = two_action_runtime
    app = app_factory(runtime)

    async def run_before(pilot) -> None:
        await runtime.finish_two_actions()
        await app.settle()
        await pilot.press("3", "a")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


class HeldLab:
    """Reports two steps of ``up``, then stays in the second until the app exits."""

    project = "operator-tikv"

    async def up(self, *, on_progress=None):
        on_progress(UpProgress("starting", 8, 8, detail="healthy"))
        on_progress(UpProgress("stores", stores_up=2, stores_expected=3))
        await asyncio.sleep(60)
        return UpResult((), 3, ())


def test_deploy_dialog_follows_a_running_up(snap_compare, runtime, app_factory) -> None:
    runtime.lab = HeldLab()
    app = app_factory(runtime)

    async def run_before(pilot) -> None:
        await runtime.tick_once()
        await app.settle()
        await pilot.press("D", "u")
        for _ in range(100):
            if "stores Up" in str(app.screen.query_one("#deploy-detail").render()):
                break
            await pilot.pause(0.01)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
