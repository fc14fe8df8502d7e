"""A second subject, not TiKV, runs the whole loop: proof that core and the front ends are neutral.

``run_loop.py`` drives the monitor, tickets, agent, offline diagnosis, an approved
action, the headless printer and the app's main and ticket screens over a handful of
loopback HTTP services, in a fresh interpreter, and reports what it saw and which
modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def facts() -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, str(HERE / "run_loop.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_operator_tikv_is_never_imported(facts: dict[str, object]) -> None:
    assert facts["tikv_loaded"] == []


def test_monitor_tickets_agent_and_offline_diagnosis(facts: dict[str, object]) -> None:
    assert facts["healthy_tickets"] == 0
    assert (facts["down_cause"], facts["down_target"]) == ("service_down", 2)
    assert facts["down_store_health"] == "unreachable"
    assert facts["down_resolved"] is True
    assert facts["history_points"] >= 3


def test_an_approved_action_runs_through_execute(facts: dict[str, object]) -> None:
    assert facts["slow_cause"] == "slow_service"
    assert facts["approved"] == ["restart_service", True, "service 3 restarted"]
    assert facts["slow_resolved"] is True


def test_headless_events(facts: dict[str, object]) -> None:
    assert facts["headless_exit"] == 0
    assert facts["headless_opened"] == [["service_down", 3]]
    assert facts["headless_cause"] == "service_down"
    assert facts["headless_tick_stores"] == [2, 3]


def test_the_app_main_and_ticket_screens(facts: dict[str, object]) -> None:
    assert facts["app_ticket"] == [["service_down", 2]]
    assert facts["app_incident"] == [["service_down", [1]]]  # default rules: one per symptom
    assert facts["app_cause"] == "service_down"
    assert facts["app_narrative"] is True
    assert facts["app_exit"] == 0
