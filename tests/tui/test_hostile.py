"""A hostile cluster on every screen: addresses, labels, logs, tickets and a diagnosis full of
markup, terminal escapes and BiDi controls draw as plain text, and nothing crashes."""

from __future__ import annotations

import copy
from datetime import timedelta

from textual.widgets import Markdown

from operator_tui.core.types import LogEvent
from operator_tui.tui.screens.approve import ApproveScreen
from operator_tui.tui.screens.confirm import ConfirmScreen
from operator_tui.tui.screens.store import StoreScreen
from operator_tui.tui.screens.ticket import TicketScreen

SIZE = (160, 50)
TAGS = "[/]"
HOSTILE = (
    "[/][bold red]R[link=file:///etc/passwd]x[/link]"
    "\x1b]0;pwned\x07\x1b[2J\x1b[31m\u202eevil\x9b2J\x1b]8;;file:///etc/passwd\x1b\\y"
)
UNSAFE = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e")


def screen_text(app) -> tuple[str, list]:
    """What the terminal would receive for the whole screen: its text and its styles."""
    strips = app.screen._compositor.render_strips()
    segments = [seg for strip in strips for seg in strip]
    return "".join(seg.text for seg in segments), [seg.style for seg in segments if seg.style]


def assert_drawn_safely(app, *visible: str) -> None:
    text, styles = screen_text(app)
    for ch in UNSAFE:
        assert ch not in text, f"{ch!r} reached the screen"
    assert not any(style.link for style in styles), "a link was rendered from data"
    for literal in visible:
        assert literal in text, f"{literal!r} not shown as text"


def hostile(runtime) -> None:
    store = runtime.stores[0]
    store.address = HOSTILE
    store.version = HOSTILE
    store.labels = {"zone": "[bold red]z", "evil": HOSTILE}
    runtime.stores[1].state = "Down"
    now = runtime.clock()
    runtime.logs = [
        LogEvent(
            time=now - timedelta(seconds=i),
            store_id=1 + i % 3,
            level="WARN\x1b[2J",
            kind="other",
            message=HOSTILE,
            source=HOSTILE,
        )
        for i in range(5)
    ]


async def test_every_screen_draws_a_hostile_cluster_as_text(
    runtime_factory, app_factory, diagnosis_result
) -> None:
    from tests.tui.test_app import chaos_done, ready

    runtime = runtime_factory(mode="approve")
    hostile(runtime)
    result = copy.deepcopy(diagnosis_result)
    result["observation"] = HOSTILE
    result["recommended_actions"][0]["rationale"] = HOSTILE
    result["recommended_actions"][0]["args"] = {"n": HOSTILE}
    app = app_factory(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, runtime)
        ticket = runtime.tickets[1]
        ticket.message = HOSTILE
        ticket.target = HOSTILE
        runtime.finish(1, "## Seen\n\n" + HOSTILE + "\n\n[link](file:///etc/passwd)\n", result)
        await ready(app, pilot, runtime, ticks=1)
        assert_drawn_safely(app, TAGS)

        await pilot.press("1", "enter")  # the hostile store's screen
        await pilot.pause()
        assert isinstance(app.screen, StoreScreen)
        assert_drawn_safely(app, TAGS, "zone=[bold red]z")
        await pilot.press("ctrl+k")  # kill: a confirmation that quotes the address
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert_drawn_safely(app, TAGS)
        await pilot.press("n", "escape")
        await pilot.pause()

        await pilot.press("3", "enter")  # the hostile ticket's screen
        await app.settle()
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert all(not md._open_links for md in app.screen.query(Markdown))
        assert_drawn_safely(app, TAGS)
        await pilot.press("a")  # the approve dialog quotes the model's action and rationale
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ApproveScreen)
        assert_drawn_safely(app, TAGS)
        await pilot.press("escape")
        await pilot.pause()

        app.notify(HOSTILE, title=HOSTILE)  # a notification quoting an error
        await pilot.pause()
        assert_drawn_safely(app, TAGS)
        await chaos_done(app)
