"""Stores serving pages of a million series: ticks keep their grid and SIGTERM stops the operator.

The headless operator runs in one subprocess, the loopback PD whose stores serve the pages in
another, so the operator's process pays only for what it does with the pages. Three runs:

- 1,000,000 series (46 MB) with the default caps: the size cap drops each page from its
  Content-Length, before its body is read;
- 350,000 series (16 MB, just under the 16 MiB cap): received, and the time cap (0.5 s from
  the hand-over) skips the parse;
- 1,000,000 series with the size cap lifted: the time cap does the work while SIGTERM comes.

The monitor ticks at the default 2 s interval. Ticks are counted through the monitor's own
record of skipped slots (``slow_tick`` errors, at most one allowed), not wall times; the one time bound is the 1 s shutdown contract, measured from the signal and
reported in the failure.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import asyncio, json, sys
from operator_tui.config import load_settings
from operator_tui.headless import configure_logging, run_headless
configure_logging("WARNING")

async def main():
    settings = load_settings(
        db_path=sys.argv[1], interval_s=2.0, diagnosis_backend="offline",
        tikv={"pd": [sys.argv[2]], **json.loads(sys.argv[3])},
    )
    return await run_headless(settings)

sys.exit(asyncio.run(main()))
"""
TICKS = 4
LIFTED = {"scrape_max_page_chars": 1 << 30}


def _run(db: Path, series: int, tikv: dict) -> dict:
    """One run: the events of the first ticks, then SIGTERM; the time it took to exit."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = ["-m", "operator_tui.testing.hostile_pd", "--variant", "huge_page"]
    pd = subprocess.Popen(
        [sys.executable, *command, "--series", str(series)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert pd.stdout is not None
        url = pd.stdout.readline().split(" on ")[-1].strip()
        assert url.startswith("http://127.0.0.1:"), url
        return _operator(db, url, tikv, env)
    finally:
        pd.terminate()
        pd.wait(timeout=10)


def _operator(db: Path, pd_url: str, tikv: dict, env: dict[str, str]) -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(db), pd_url, json.dumps(tikv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        events = []
        for _ in range(2000):
            line = proc.stdout.readline()
            if not line:
                break
            events.append(json.loads(line))
            if sum(e["event"] == "tick" for e in events) >= TICKS:
                break
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        _rest, err = proc.communicate(timeout=30)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    return {"events": events, "err": err, "took": took, "code": proc.returncode}


@pytest.fixture(scope="module")
def over_cap(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run(tmp_path_factory.mktemp("huge") / "h.db", 1_000_000, {})


@pytest.fixture(scope="module")
def under_cap(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run(tmp_path_factory.mktemp("big") / "h.db", 350_000, {})


@pytest.fixture(scope="module")
def lifted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run(tmp_path_factory.mktemp("lifted") / "h.db", 1_000_000, LIFTED)


def _skipped_slots(run: dict) -> int:
    assert sum(e["event"] == "tick" for e in run["events"]) == TICKS, run["err"]
    return sum(e.get("skipped", 0) for e in run["events"] if e.get("kind") == "slow_tick")


def _slow(run: dict) -> list[str]:
    return [e["message"] for e in run["events"] if e.get("kind") == "slow_tick"]


def test_sigterm_stops_within_a_second_while_pages_are_parsed(lifted: dict) -> None:
    assert sum(e["event"] == "tick" for e in lifted["events"]) == TICKS, lifted["err"]
    assert lifted["code"] == 0, lifted["err"]
    assert lifted["took"] < 1.0, f"SIGTERM to exit took {lifted['took']:.2f} s"


def test_ticks_keep_their_grid_when_pages_are_over_the_size_cap(over_cap: dict) -> None:
    assert _skipped_slots(over_cap) <= 1, _slow(over_cap)
    assert over_cap["code"] == 0, over_cap["err"]
    assert over_cap["took"] < 1.0, f"SIGTERM to exit took {over_cap['took']:.2f} s"


def test_ticks_keep_their_grid_when_the_time_cap_skips_the_parse(under_cap: dict) -> None:
    assert _skipped_slots(under_cap) <= 1, _slow(under_cap)
    assert under_cap["code"] == 0, under_cap["err"]
    assert under_cap["took"] < 1.0, f"SIGTERM to exit took {under_cap['took']:.2f} s"
