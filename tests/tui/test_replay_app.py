"""The app over a recording: REPLAY and the recorded time in the header, steps and seeks."""

from __future__ import annotations

from operator_tikv import shipped

from operator_tui.bootstrap import open_replay
from operator_tui.config import load_settings
from operator_tui.core.replay import ReplayRuntime
from operator_tui.tui.replay import ReplayApp
from operator_tui.tui.widgets.incidents import IncidentTable

RECORDING = shipped.recordings_dir() / "kill-and-slow-disk.opr"


async def test_replay_app_steps_seeks_and_says_replay() -> None:
    settings = load_settings(None)
    app = ReplayApp(settings, lambda: open_replay(settings, RECORDING), animate=False)
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(100):
            if isinstance(app.runtime, ReplayRuntime):
                break
            await pilot.pause(0.05)
        player = app.runtime
        assert isinstance(player, ReplayRuntime)
        player.pause()
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause(0.1)
        assert player.position >= 2
        header = str(app.query_one("#header").render())
        assert "REPLAY" in header
        assert player.recorded_now().strftime("%H:%M:%S") in header
        await pilot.press("n")
        await pilot.pause(0.3)
        assert await player.list_incidents()
        for _ in range(50):
            if app.query_one(IncidentTable).row_count:
                break
            await pilot.pause(0.05)
        assert app.query_one(IncidentTable).row_count >= 1
        at = player.position
        await pilot.press("left_square_bracket")
        for _ in range(100):
            if player.position == at - 1:
                break
            await pilot.pause(0.05)
        assert player.position == at - 1
        await pilot.press("q")


async def _opened(app: ReplayApp, pilot) -> ReplayRuntime:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if isinstance(app.runtime, ReplayRuntime):
            break
        await pilot.pause(0.05)
    player = app.runtime
    assert isinstance(player, ReplayRuntime)
    player.pause()
    return player


def test_replay_after_both_incidents(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The replay at the tick after the slow disk's incident opened: REPLAY and the recorded
    time in the header, the stores, hot regions and incidents panes as recorded."""
    settings = load_settings(None)
    app = ReplayApp(settings, lambda: open_replay(settings, RECORDING), animate=False)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        player = await _opened(app, pilot)
        await player.seek(player.recording.start + 104)
        app._moved()
        for _ in range(100):
            if app.query_one(IncidentTable).row_count == 2:
                break
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(140, 40))


async def test_replay_app_jumps_to_the_ends_and_by_ten_minutes() -> None:
    settings = load_settings(None)
    app = ReplayApp(settings, lambda: open_replay(settings, RECORDING), animate=False)
    async with app.run_test(size=(140, 40)) as pilot:
        player = await _opened(app, pilot)
        last = len(player.recording)

        async def lands(key: str, position: int) -> None:
            await pilot.press(key)
            for _ in range(100):
                if player.position == position:
                    break
                await pilot.pause(0.05)
            assert player.position == position, key

        await lands("end", last)
        assert player.at_end and "end" in str(app.query_one("#header").render())
        await lands("home", 1)
        await lands("right_curly_bracket", last)  # the recording is shorter than 10 min
        await lands("left_curly_bracket", 1)
        assert player.paused
        await pilot.press("q")
