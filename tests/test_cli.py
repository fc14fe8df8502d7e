from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from operator_tui.cli import COMMAND_MODULES, build_parser, main

pytestmark = pytest.mark.usefixtures("clean_env")


def test_help_lists_only_commands_that_exist() -> None:
    text = build_parser().format_help()
    root = Path(__file__).resolve().parents[1] / "operator_tui" / "commands"
    for name in COMMAND_MODULES:
        present = (root / f"{name}.py").exists()
        assert (f"    {name} " in text) == present, name


def test_config_json_masks_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-shh")
    assert main(["--pd", "pd0:2379", "config", "--json"]) == 0
    out = capsys.readouterr().out
    assert "sk-ant-shh" not in out
    data = json.loads(out)
    assert data["pd"] == ["http://pd0:2379"]
    assert data["anthropic_api_key"] == "**********"


def test_config_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0
    assert "interval_s" in capsys.readouterr().out


def test_bad_setting_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_INTERVAL_S", "fast")
    proc = subprocess.run(
        [sys.executable, "-m", "operator_tui", "config"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "interval_s" in lines[0]
    assert "Traceback" not in proc.stderr


def test_subject_plugin_is_registered() -> None:
    from operator_tui.core.registry import available_subjects

    assert "tikv" in available_subjects()
