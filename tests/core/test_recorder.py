"""The flight recorder and replay: what was recorded plays back as the same events."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from operator_tikv import shipped

from operator_tui.bootstrap import open_recording, open_replay
from operator_tui.commands.scenario import draft
from operator_tui.config import load_settings
from operator_tui.core.recorder import without_secrets
from operator_tui.core.recording import Recording
from operator_tui.core.recording_export import export_recording
from operator_tui.evaluation.runner import run_scenario
from operator_tui.evaluation.scenario import load_scenario
from operator_tui.evaluation.scoring import score_run

ROOT = Path(__file__).resolve().parents[2]
RECORDING = shipped.recordings_dir() / "kill-and-slow-disk.opr"
SCENARIO = shipped.scenarios_dir() / "50-recorded-kill-and-slow-disk.toml"
CONCLUSIONS = ("ticket.", "incident.", "diagnosis.", "action.")


def _conclusions(pairs: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [
        (kind, {k: v for k, v in data.items() if k != "duration_ms"})
        for kind, data in pairs
        if kind.startswith(CONCLUSIONS)
    ]


async def _replayed(rediagnose: bool) -> list[tuple[str, dict]]:
    async with open_replay(load_settings(None), RECORDING, rediagnose=rediagnose) as rt:
        sub = rt.bus.subscribe()
        for _ in range(len(rt.recording) + 1):
            if not await rt.step():
                break
        out = []
        while not sub.queue.empty():
            ev = sub.queue.get_nowait()
            out.append((ev.event, json.loads(json.dumps(ev.data, default=str))))
        return out


def _recorded() -> list[tuple[str, dict]]:
    recording = Recording(RECORDING)
    try:
        return [(e.kind, e.data) for e in recording.events()]
    finally:
        recording.close()


def test_replay_publishes_what_was_recorded() -> None:
    assert _conclusions(asyncio.run(_replayed(False))) == _conclusions(_recorded())


def test_rediagnose_opens_the_recorded_incidents() -> None:
    def opened(pairs: list[tuple[str, dict]]) -> list[tuple[str, str]]:
        return [
            (d["incident"]["target"], d["incident"]["cause"])
            for k, d in pairs
            if k == "incident.opened"
        ]

    recorded = opened(_recorded())
    assert len(recorded) >= 2
    assert opened(asyncio.run(_replayed(True))) == recorded


def test_seeking_back_and_forth_lands_on_the_same_state() -> None:
    async def go() -> tuple[list, list, int]:
        async with open_replay(load_settings(None), RECORDING) as rt:
            end = len(rt.recording) - 1
            await rt.seek_index(end)
            forward = [i.summary() for i in await rt.list_incidents()]
            await rt.seek_index(3)
            assert rt.position == 4
            assert await rt.list_incidents() == []
            await rt.step_back()
            assert rt.position == 3
            found = await rt.seek_next_incident()
            assert found
            opened_at = rt.position
            await rt.seek_index(end)
            return forward, [i.summary() for i in await rt.list_incidents()], opened_at

    forward, again, opened_at = asyncio.run(go())
    assert forward == again and forward
    assert 3 < opened_at


def test_a_recorded_scenario_is_scored_like_a_simulated_one() -> None:
    scenario = load_scenario(SCENARIO)
    outcome = asyncio.run(run_scenario(scenario, load_settings(None)))
    assert outcome.error is None
    assert score_run(scenario, outcome).passed


def test_from_recording_drafts_the_recorded_incidents(tmp_path: Path) -> None:
    recording = Recording(RECORDING)
    try:
        text = draft(recording, RECORDING.as_posix(), "drafted")
    finally:
        recording.close()
    out = tmp_path / "drafted.toml"
    out.write_text(text)
    scenario = load_scenario(out)
    assert scenario.recording == RECORDING.as_posix()
    assert {(w.target, w.classes[0]) for w in scenario.incidents} >= {(2, "store_down")}


def test_settings_lose_their_secrets() -> None:
    kept = without_secrets(
        {"api_key": "sk-1", "nested": {"token": "t", "url": "http://u:pw@host:1/x"}, "n": 1}
    )
    assert kept == {"nested": {"url": kept["nested"]["url"]}, "n": 1}
    assert "pw" not in kept["nested"]["url"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_export_imports_into_a_prometheus_tsdb(tmp_path: Path) -> None:
    recording = asyncio.run(open_recording(load_settings(None), RECORDING))
    try:
        export_recording(recording, tmp_path / "out")
    finally:
        recording.close()
    lines = (tmp_path / "out" / "incidents.jsonl").read_text().splitlines()
    assert lines and json.loads(lines[0])["event"] == "incident.opened"
    done = subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(tmp_path / "out" / "metrics.om"),
            str(tmp_path / "tsdb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert any((tmp_path / "tsdb").iterdir())


WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from operator_tui.core.recorder import Recorder
    from operator_tui.core.types import Snapshot, Store

    rec = Recorder(Path(sys.argv[1]), {"subject": "tikv", "interval_s": 2.0})
    t0 = datetime(2026, 12, 1, tzinfo=UTC)

    def tick(i):
        now = t0 + timedelta(seconds=2 * i)
        rec.tick(now, Snapshot(taken_at=now, stores=[Store(1, "a:1", "Up")]), [])

    for i in range(50):
        tick(i)
    time.sleep(1.5)  # more than a commit period: the first 50 are on disk
    print("committed 50", flush=True)
    i = 50
    while True:
        tick(i)
        i += 1
        time.sleep(0.001)
    """
)


def test_kill_9_while_recording_keeps_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "killed.opr"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "committed 50"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    recording = Recording(path)
    try:
        assert len(recording) >= 50
        for tick in recording.ticks():
            assert tick.snapshot is not None and tick.snapshot.stores[0].id == 1
        assert recording.times == sorted(recording.times)
    finally:
        recording.close()
