"""A store serving a 1,000,000-series page: ticks keep their grid and SIGTERM stops the operator.

The subprocess runs the headless operator against a loopback PD whose stores serve the page,
with the size cap lifted so the time cap does the work. Ticks are counted through the
monitor's own record of skipped slots (``slow_tick`` errors), not wall times; the one time
bound is the 1 s shutdown contract, measured from the signal and reported in the failure.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = """
import asyncio, sys
from operator_tui.config import load_settings
from operator_tui.headless import configure_logging, run_headless
from operator_tui.testing.hostile_pd import HostilePD
configure_logging("WARNING")

async def main():
    async with HostilePD("huge_page") as pd:
        settings = load_settings(
            db_path=sys.argv[1], interval_s=1.0, diagnosis_backend="offline",
            tikv={"pd": [pd.base_url], "scrape_max_page_chars": 1 << 30},
        )
        return await run_headless(settings)

sys.exit(asyncio.run(main()))
"""
TICKS = 5


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run: the events of the first ticks, then SIGTERM; the time it took to exit."""
    db = tmp_path_factory.mktemp("huge") / "h.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(db)],
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


def test_sigterm_stops_within_a_second_while_pages_are_parsed(run: dict) -> None:
    assert sum(e["event"] == "tick" for e in run["events"]) == TICKS, run["err"]
    assert run["code"] == 0, run["err"]
    assert run["took"] < 1.0, f"SIGTERM to exit took {run['took']:.2f} s"


@pytest.mark.xfail(
    strict=True,
    reason="open: three 46 MB pages are still received and decoded on the loop (ticks take "
    "2-3 s of a 1 s interval); only their parse has moved off it",
)
def test_ticks_keep_their_grid(run: dict) -> None:
    events = run["events"]
    skipped = sum(e.get("skipped", 0) for e in events if e.get("kind") == "slow_tick")
    assert skipped <= 1, [e["message"] for e in events if e.get("kind") == "slow_tick"]
