"""Replay checkpoints: a seek through one lands on the state playing from the start reaches,
and the file beside a recording is kept, reused, rebuilt for another version, and carried on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from operator_tikv import shipped

import operator_tui.core.replay_checkpoints as checkpoints
from operator_tui.bootstrap import open_replay
from operator_tui.config import load_settings
from operator_tui.core.history import History
from operator_tui.core.recording_codec import Codec
from operator_tui.core.replay import ReplayRuntime
from operator_tui.core.replay_checkpoints import beside, boundaries
from operator_tui.core.types import RecordTypes, Snapshot, StoreMetrics

RECORDING = shipped.recordings_dir() / "kill-and-slow-disk.opr"


async def _state(rt: ReplayRuntime) -> dict[str, Any]:
    tickets = await rt.list_tickets()
    return {
        "position": rt.position,
        "now": rt.recorded_now(),
        "incidents": [i.summary() for i in await rt.list_incidents()],
        "incident_events": [
            [(e.kind, e.detail) for e in await rt.incident_events(i.id)]
            for i in await rt.list_incidents()
        ],
        "tickets": [t.summary() for t in tickets],
        "ticket_events": [
            [(e.kind, e.detail) for e in await rt.ticket_events(t.id)] for t in tickets
        ],
        "diagnoses": [
            (d.result, d.text) if d else None
            for d in [await rt.latest_diagnosis(t.id) for t in tickets]
        ],
        "metrics": {s: rt.metric_history(s) for s in (1, 2, 3)},
        "logs": rt.recent_log_events(None, 5000),
        "store_logs": {s: rt.recent_log_events(s, 1000) for s in (1, 2, 3)},
        "monitor": (rt.monitor.ticks, dict(rt.monitor._episodes)),
        "latest": rt.latest_snapshot,
    }


@contextlib.asynccontextmanager
async def _built_and_plain() -> AsyncIterator[tuple[ReplayRuntime, ReplayRuntime]]:
    """A player with checkpoints every 20 s, built, and one that plays from the start."""
    settings = load_settings(None)
    async with (
        open_replay(settings, RECORDING, checkpoint_every_s=20) as rt,
        open_replay(settings, RECORDING, checkpoints=False) as plain,
    ):
        task = rt.build_checkpoints()
        assert task is not None
        await task
        yield rt, plain


def test_a_seek_through_checkpoints_lands_where_playing_from_the_start_does() -> None:
    async def go() -> None:
        async with _built_and_plain() as (rt, plain):
            assert rt.checkpoints is not None
            assert rt.checkpoints.indexes == boundaries(rt.recording.times, 20)
            for target in (70, 15, 44, 80, 5, 62, 63):
                await plain.seek_index(target)
                await rt.seek_index(target)
                assert await _state(rt) == await _state(plain), target
            assert rt.restored >= 5
            # Steps carry on from a restored state as from a played one.
            await rt.seek_index(38)
            await plain.seek_index(38)
            for _ in range(12):
                await rt.step()
                await plain.step()
            assert await _state(rt) == await _state(plain)

    asyncio.run(go())


def test_the_file_beside_a_long_recording_is_kept_reused_and_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "KEEP_BESIDE_S", 0.0)
    path = tmp_path / "run.opr"
    shutil.copy(RECORDING, path)
    settings = load_settings(None)

    async def indexes(build: bool, cut_after: int | None = None) -> list[int]:
        async with open_replay(settings, path, checkpoint_every_s=20) as rt:
            assert rt.checkpoints is not None and rt.checkpoints.path == beside(path)
            if build:
                task = rt.build_checkpoints()
                assert task is not None
                if cut_after is None:
                    await task
                else:
                    for _ in range(2000):
                        if len(rt.checkpoints.indexes) >= cut_after:
                            break
                        await asyncio.sleep(0.005)
            return list(rt.checkpoints.indexes)

    async def go() -> None:
        marks = boundaries((await asyncio.to_thread(_times, path)), 20)
        cut = await indexes(build=True, cut_after=2)
        assert 2 <= len(cut) < len(marks) and cut == marks[: len(cut)]
        assert await indexes(build=False) == cut  # kept
        assert await indexes(build=True) == marks  # carried on from the last one
        monkeypatch.setattr(checkpoints, "__version__", "0.0.0-other")
        assert await indexes(build=False) == []  # another version builds them again

    asyncio.run(go())


def _times(path: Path) -> list[float]:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT t FROM ticks ORDER BY seq")]
    finally:
        db.close()


def test_a_file_beside_that_is_not_ours_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "KEEP_BESIDE_S", 0.0)
    path = tmp_path / "run.opr"
    shutil.copy(RECORDING, path)
    other = beside(path)
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE mine (x)")
    db.commit()
    db.close()
    before = other.read_bytes()

    async def go() -> Path | None:
        async with open_replay(load_settings(None), path, checkpoint_every_s=20) as rt:
            return None if rt.checkpoints is None else rt.checkpoints.path

    used = asyncio.run(go())
    assert used is not None and used != other
    assert other.read_bytes() == before


@pytest.mark.parametrize("damage", ["rings", "state", "pages"])
def test_a_damaged_checkpoint_is_dropped_and_the_seek_still_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """A checkpoint whose blobs no longer decode (a disk error, a hand edit): the seek falls
    back to playing from the start, lands where it must, and the file is not used again."""
    monkeypatch.setattr(checkpoints, "KEEP_BESIDE_S", 0.0)
    path = tmp_path / "run.opr"
    shutil.copy(RECORDING, path)
    settings = load_settings(None)

    async def go() -> None:
        async with open_replay(settings, path, checkpoint_every_s=20) as rt:
            task = rt.build_checkpoints()
            assert task is not None
            await task
        db = sqlite3.connect(beside(path))
        if damage == "pages":
            db.execute("UPDATE pages SET blob = x'00ff00ff'")
        else:
            db.execute(f"UPDATE checkpoints SET {damage} = x'28b52ffd0000'")
        db.commit()
        db.close()
        async with (
            open_replay(settings, path, checkpoint_every_s=20) as rt,
            open_replay(settings, path, checkpoints=False) as plain,
        ):
            assert rt.checkpoints is not None
            for target in (70, 15):
                await plain.seek_index(target)
                await rt.seek_index(target)
                assert await _state(rt) == await _state(plain), target
            assert rt.checkpoints is None and rt.restored == 0

    asyncio.run(go())


@dataclass(slots=True)
class _KeyedMetrics(StoreMetrics):
    by_peer: dict[int, float] | None = None
    by_reason: dict[str, float] | None = None


def test_a_restored_history_keeps_each_figure_by_keys_own_key_type() -> None:
    """A store id per peer comes back an int, a reason's name a text (JSON keeps both as text)."""
    history = History()
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    m = _KeyedMetrics(store_id=2, by_peer={3: 4.0}, by_reason={"level0_file_limit_stop": 0.1})
    history.record(Snapshot(taken_at=at, stores=[], store_metrics={2: m}))
    metrics, rings, logs = checkpoints.history_docs(history)
    codec = Codec()
    restored = checkpoints.RestoredHistory(
        json.loads(json.dumps(metrics)),
        rings,
        codec.pack(logs),
        codec,
        RecordTypes(metrics=_KeyedMetrics),
    )
    assert list(restored.metric_history(2)) == [(at, m)]


def test_images_come_back_whole_in_any_order_of_seeks() -> None:
    """The pages a file holds between loads (past the end of a smaller image too) never leak
    into another checkpoint's database: each comes back byte for byte, forwards, backwards and
    after the warm-up on the newest one."""

    async def go() -> None:
        async with _built_and_plain() as (rt, plain):
            assert rt.checkpoints is not None
            file = rt.checkpoints
            images = {}
            for mark in file.indexes:
                await plain.seek_index(mark)
                images[mark] = await plain.tickets.image()
            sizes = {len(image) for image in images.values()}
            assert len(sizes) > 2  # the database grows between checkpoints
            order = file.indexes[::-1] + file.indexes[::2] + file.indexes[1::3][::-1]
            for mark in order:
                assert file._image(mark) == images[mark], mark

    asyncio.run(go())
