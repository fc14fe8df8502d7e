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
    assert data["tikv"]["pd"] == ["http://pd0:2379"]
    assert data["diagnosis"]["api_key"] == "**********"
    assert set(data) >= {"subject", "log_level", "diagnosis", "actions", "monitor", "storage"}


def test_config_masks_credentials_in_urls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 9: the userinfo of ANTHROPIC_BASE_URL was printed (a key placed there too)."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://proxy:sk-ant-hidden@llm.example/v1")
    monkeypatch.setenv("OPERATOR_TIKV__PROMETHEUS_URL", "http://prom.example/?token=tok-123")
    assert main(["--pd", "http://ops:pd-secret@pd0:2379", "config", "--json"]) == 0
    out = capsys.readouterr().out
    for secret in ("sk-ant-hidden", "pd-secret", "tok-123"):
        assert secret not in out
    data = json.loads(out)
    assert data["diagnosis"]["base_url"] == "https://proxy:****@llm.example/v1"
    assert data["tikv"]["pd"] == ["http://ops:****@pd0:2379"]
    assert main(["--pd", "http://ops:pd-secret@pd0:2379", "config"]) == 0
    assert "pd-secret" not in capsys.readouterr().out


def test_global_options_are_aliases_of_sectioned_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "op.toml"
    cfg.write_text("[tikv]\nscrape_budget = 7\n")
    argv = [
        "--config", str(cfg),
        "--pd", "pd0:2379,pd1:2379",
        "--prometheus", "prom:9090",
        "--db", str(tmp_path / "t.db"),
        "--interval", "4",
        "--backend", "offline",
        "--mode", "approve",
        "config", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tikv"]["pd"] == ["http://pd0:2379", "http://pd1:2379"]
    assert data["tikv"]["prometheus_url"] == "http://prom:9090"
    assert data["tikv"]["scrape_budget"] == 7
    assert data["storage"]["db_path"] == str(tmp_path / "t.db")
    assert data["monitor"]["interval_s"] == 4
    assert data["diagnosis"]["backend"] == "offline"
    assert data["actions"]["mode"] == "approve"


def test_flat_environment_names_still_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPERATOR_PD", "http://env:1")
    monkeypatch.setenv("OPERATOR_ACTIONS_MODE", "auto")
    monkeypatch.setenv("OPERATOR_TIKV__SCRAPE_BUDGET", "all")
    assert main(["config", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tikv"]["pd"] == ["http://env:1"] and data["actions"]["mode"] == "auto"
    assert data["tikv"]["scrape_budget"] == "all"


def test_backend_choices_come_from_the_registry() -> None:
    from operator_tui.core.diagnosis import backends

    parser = build_parser()
    [action] = [a for a in parser._actions if "--backend" in a.option_strings]
    assert tuple(action.choices) == backends.NAMES
    eval_parser = parser._subparsers._group_actions[0].choices["eval"]  # type: ignore[union-attr]
    [eval_backend] = [a for a in eval_parser._actions if "--backend" in a.option_strings]
    assert tuple(eval_backend.choices) == backends.RUNNABLE


def test_config_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "monitor.interval_s" in out and "tikv.scrape_budget" in out


def test_bad_setting_exits_2_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_INTERVAL_S", "fast")
    proc = subprocess.run(
        [sys.executable, "-m", "operator_tui", "config"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "monitor.interval_s" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("OPERATOR_TIKV__SCRAPE_BUDGET", "-3", "invalid setting tikv.scrape_budget"),
        (
            "OPERATOR_SCRAPE_BUDGET",
            "some",
            "invalid setting tikv.scrape_budget: auto, all or a number of stores, not 'some'",
        ),
        ("OPERATOR_TIKV__INVARIANTS__GRACE_SCALE", "-1", "grace_scale must not be negative"),
        ("OPERATOR_DIAGNOSIS__BACKEND", "oracle", "unknown diagnosis backend 'oracle'"),
    ],
)
def test_bad_sectioned_setting_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: str,
    value: str,
    needle: str,
) -> None:
    monkeypatch.setenv(env, value)
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_subject_plugin_is_registered() -> None:
    from operator_tui.core.registry import available_subjects

    assert "tikv" in available_subjects()


def test_global_options_work_after_the_subcommand_too() -> None:
    from operator_tui.cli import build_parser

    parser = build_parser()
    after = parser.parse_args(["check", "--pd", "http://127.0.0.1:1", "--interval", "3"])
    before = parser.parse_args(["--pd", "http://127.0.0.1:2", "check"])
    neither = parser.parse_args(["check"])
    assert (after.command, after.pd, after.interval) == ("check", "http://127.0.0.1:1", 3.0)
    assert before.pd == "http://127.0.0.1:2"
    assert neither.pd is None
