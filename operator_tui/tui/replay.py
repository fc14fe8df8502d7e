"""The app over a recording: the same screens, with the player's keys and REPLAY in the header.

The runtime is a ``core.replay.ReplayRuntime``: ``p`` pauses and resumes the playing, ``r``
and ``]`` step one tick forward, ``[`` one back, ``n`` seeks to the next incident, ``{`` and
``}`` ten minutes either way, ``home``/``end`` the ends, ``<``/``>`` halve or double the
speed (``+``/``-`` work as on the live app, on the pace). Ages are counted in recorded time.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from textual.binding import Binding

from operator_tui.config import Settings
from operator_tui.core.recording import start_time
from operator_tui.core.replay import ReplayRuntime
from operator_tui.tui.app import OperatorApp
from operator_tui.tui.host import Runtime
from operator_tui.tui.widgets.header import MonitorState

log = logging.getLogger(__name__)
SEEK_JUMP_S = 600.0


class ReplayApp(OperatorApp):
    BINDINGS = [
        *OperatorApp.BINDINGS,
        Binding("left_square_bracket", "replay_step(-1)", "Back", key_display="["),
        Binding("right_square_bracket", "replay_step(1)", "Step", key_display="]"),
        Binding("n", "replay_next_incident", "Next incident", key_display="n"),
        Binding("left_curly_bracket", f"replay_jump(-{SEEK_JUMP_S})", "-10 min", show=False),
        Binding("right_curly_bracket", f"replay_jump({SEEK_JUMP_S})", "+10 min", show=False),
        # Priority: a focused table would take home/end for its own rows otherwise.
        Binding("home", "replay_edge(0)", "Start", show=False, priority=True),
        Binding("end", "replay_edge(1)", "End", show=False, priority=True),
        Binding("less_than_sign", "replay_speed(0.5)", "Slower", key_display="<"),
        Binding("greater_than_sign", "replay_speed(2)", "Faster", key_display=">"),
    ]

    def __init__(self, settings: Settings, runtime_factory, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, runtime_factory=runtime_factory, clock=self._recorded_now, **kw)

    def _recorded_now(self) -> datetime:
        player = self.player
        return player.recorded_now() if player is not None else datetime.now(UTC)

    @property
    def player(self) -> ReplayRuntime | None:
        runtime = self.runtime
        return runtime if isinstance(runtime, ReplayRuntime) else None

    def monitor_state(self) -> MonitorState:
        state = super().monitor_state()
        player = self.player
        if player is None:
            return state
        return replace(state, mode=player.describe_position())

    def _moved(self) -> None:
        self.main.draw_snapshot()
        self.main.draw_header()
        self.run_worker(self.main.load_tickets(), group="tickets", exit_on_error=False)

    async def _seek(self, index: int) -> None:
        player = self.player
        if player is None:
            return
        player.pause()
        await player.seek_index(index)
        self._moved()

    async def action_replay_step(self, delta: int) -> None:
        player = self.player
        if player is not None:
            await self._seek(player.position - 1 + int(delta))

    async def action_replay_edge(self, end: int) -> None:
        player = self.player
        if player is not None:
            await self._seek(len(player.recording) - 1 if end else 0)

    async def action_replay_jump(self, seconds: float) -> None:
        player = self.player
        if player is None:
            return
        player.pause()
        target = player.recorded_now().timestamp() + float(seconds)
        await player.seek(max(player.recording.start, target))
        self._moved()

    async def action_replay_next_incident(self) -> None:
        player = self.player
        if player is None:
            return
        player.pause()
        if not await player.seek_next_incident():
            self.notify("no incident after this point of the recording")
        self._moved()

    def action_replay_speed(self, factor: float) -> None:
        player = self.player
        if player is not None:
            speed = player.set_speed(player.speed * float(factor))
            self.notify(f"replay speed x{speed:g}")
            self.main.draw_header()


def run_replay_tui(
    settings: Settings,
    path: Path,
    *,
    speed: float = 1.0,
    start: str | None = None,
    rediagnose: bool = False,
) -> int:
    from textual.logging import TextualHandler

    root = logging.getLogger()
    root.handlers[:] = [TextualHandler()]
    root.setLevel(settings.log_level)

    def factory() -> AbstractAsyncContextManager[Runtime]:
        return _opened(settings, path, speed, start, rediagnose)

    app = ReplayApp(settings, factory)
    app.run()
    return app.return_code or 0


class _opened:
    """``open_replay`` that first plays up to ``--from``."""

    def __init__(
        self, settings: Settings, path: Path, speed: float, start: str | None, rediagnose: bool
    ) -> None:
        from operator_tui.bootstrap import open_replay

        self._cm = open_replay(settings, path, rediagnose=rediagnose, speed=speed)
        self.start = start

    async def __aenter__(self) -> ReplayRuntime:
        runtime = await self._cm.__aenter__()
        if self.start is not None:
            await runtime.seek(start_time(self.start, runtime.recording.start))
        return runtime

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(*exc)
