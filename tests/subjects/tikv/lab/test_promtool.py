"""promtool on the lab's Prometheus config and rules, and the rules' own unit tests.

Debian's ``prometheus`` package ships promtool. Without it these tests skip, unless
OPERATOR_REQUIRE_PROMETHEUS=1 (CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
PROM = ROOT / "subjects" / "tikv" / "operator_tikv" / "lab" / "compose" / "prometheus"
RULES = PROM / "rules" / "operator.rules.yml"
UNIT_TESTS = Path(__file__).resolve().parent / "promtool" / "operator.rules.test.yml"

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("OPERATOR_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(
                "promtool not found and OPERATOR_REQUIRE_PROMETHEUS=1 (apt-get install prometheus)"
            )
        pytest.skip("promtool not found: apt-get install prometheus to check the lab's rules")
    return path


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, cwd=cwd)


def test_check_config_finds_the_rules(promtool: str) -> None:
    proc = _run(promtool, "check", "config", str(PROM / "prometheus.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 rule files found" in proc.stdout + proc.stderr


def test_check_rules(promtool: str) -> None:
    proc = _run(promtool, "check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rules_fire_as_the_invariants_say(promtool: str) -> None:
    proc = _run(promtool, "test", "rules", UNIT_TESTS.name, cwd=UNIT_TESTS.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unit_tests_catch_a_wrong_threshold(promtool: str, tmp_path: Path) -> None:
    """The unit tests are not vacuous: loosen one threshold and they fail."""
    rules = (
        tmp_path
        / "subjects"
        / "tikv"
        / "operator_tikv"
        / "lab"
        / "compose"
        / "prometheus"
        / "rules"
    )
    rules.mkdir(parents=True)
    text = RULES.read_text()
    assert "> 0.7" in text
    (rules / RULES.name).write_text(text.replace("> 0.7", "> 0.8"))
    tests = tmp_path / "tests" / "subjects" / "tikv" / "lab" / "promtool"
    tests.mkdir(parents=True)
    shutil.copy(UNIT_TESTS, tests / UNIT_TESTS.name)
    proc = _run(promtool, "test", "rules", UNIT_TESTS.name, cwd=tests)
    assert proc.returncode != 0
    assert "OperatorLowDiskWarning" in proc.stdout + proc.stderr
