"""Snapshots at 120x40 of the states the README shows, built by ``scripts/make_screenshots.py``.

Deterministic: the simulated cluster (seed 42) runs on a manual clock, ticks
are injected one by one, the app's clock reads the simulator's clock, the
diagnosis is the offline one, and spinners are still.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("operator_tikv.sim")

SIZE = (120, 40)


def snapshot(snap_compare, states, name: str, tmp_path: Path, size: tuple[int, int] = SIZE) -> bool:
    demo = states.demo_for(name, tmp_path / "tickets.db")
    app = states.build_app(demo)

    async def run_before(pilot) -> None:
        await states.STATES[name](demo, pilot)

    return snap_compare(app, run_before=run_before, terminal_size=size)


def test_main_healthy(snap_compare, screenshot_states, tmp_path) -> None:
    """Three stores Up with QPS sparklines, hot regions ranked by write flow, no tickets."""
    assert snapshot(snap_compare, screenshot_states, "main-healthy", tmp_path)


def test_main_dead_store(snap_compare, screenshot_states, tmp_path) -> None:
    """Store 2 killed with k, y: Disconnected, its store_down ticket open, the event strip tells both."""
    assert snapshot(snap_compare, screenshot_states, "main-dead-store", tmp_path)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_slow_disk(snap_compare, screenshot_states, tmp_path, size) -> None:
    """20 stores, store 3's disk slow for five ticks: its p99 and write p99 in seconds and in
    the critical colour, every figure whole at every width (address and trend dropped at 80)."""
    assert snapshot(snap_compare, screenshot_states, "main-slow-disk", tmp_path, size)


def test_ticket_with_finished_diagnosis(snap_compare, screenshot_states, tmp_path) -> None:
    """The ticket screen: facts, sparklines of the store and its peers, log events, the diagnosis."""
    assert snapshot(snap_compare, screenshot_states, "ticket-diagnosis", tmp_path)


def test_help_screen(snap_compare, screenshot_states, tmp_path) -> None:
    """Every key with what it does."""
    assert snapshot(snap_compare, screenshot_states, "help", tmp_path)


def test_kill_confirmation(snap_compare, screenshot_states, tmp_path) -> None:
    """The kill dialog names store 2 and its address and waits for y, n or esc."""
    assert snapshot(snap_compare, screenshot_states, "kill-confirm", tmp_path)
