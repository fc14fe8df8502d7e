from __future__ import annotations

from pathlib import Path

import pytest

from operator_tui.config import ConfigError, Settings, describe_fields, load_settings

pytestmark = pytest.mark.usefixtures("clean_env")


def test_defaults() -> None:
    s = load_settings()
    assert s.subject == "tikv"
    assert s.pd == ["http://127.0.0.1:2379"]
    assert s.interval_s == 2.0
    assert s.actions_mode == "observe"
    assert s.backend == "offline"


def test_environment_with_prefix_and_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_PD", "pd0:2379, http://pd1:2379/")
    monkeypatch.setenv("OPERATOR_INTERVAL_S", "5")
    monkeypatch.setenv("OPERATOR_PROMETHEUS_URL", "localhost:9090")
    s = load_settings()
    assert s.pd == ["http://pd0:2379", "http://pd1:2379"]
    assert s.interval_s == 5
    assert s.prometheus_url == "http://localhost:9090"


def test_toml_file_below_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "op.toml"
    cfg.write_text('interval_s = 7\nactions_mode = "approve"\npd = ["http://a:1"]\n')
    monkeypatch.setenv("OPERATOR_INTERVAL_S", "3")
    s = load_settings(cfg)
    assert s.interval_s == 3
    assert s.actions_mode == "approve"
    assert s.pd == ["http://a:1"]


def test_overrides_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_PD", "http://env:1")
    assert load_settings(pd="http://cli:2").pd == ["http://cli:2"]


def test_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPERATOR_CLAUDE_MODEL=claude-test\n")
    assert load_settings().claude_model == "claude-test"


def test_api_key_is_secret_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    s = load_settings()
    assert s.backend == "claude"
    assert "sk-ant-very-secret" not in repr(s)
    assert s.masked()["anthropic_api_key"] == "**********"


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("OPERATOR_INTERVAL_S", "abc", "interval_s"),
        ("OPERATOR_INTERVAL_S", "0", "interval_s"),
        ("OPERATOR_ACTIONS_MODE", "yolo", "actions_mode"),
        ("OPERATOR_METRICS_SOURCE", "carrier-pigeon", "metrics_source"),
    ],
)
def test_invalid_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_malformed_toml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("interval_s = = 2\n")
    with pytest.raises(ConfigError):
        load_settings(bad)


def test_every_field_documented() -> None:
    rows = describe_fields()
    assert {r[0] for r in rows} == set(Settings.model_fields)
    assert all(r[3] for r in rows)


def test_file_log_source_needs_a_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_LOG_SOURCE", "file")
    with pytest.raises(ConfigError, match="log_dir"):
        load_settings()


def test_scrape_budget_auto_all_or_a_count(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().scrape_budget == "auto"
    monkeypatch.setenv("OPERATOR_SCRAPE_BUDGET", "64")
    assert Settings().scrape_budget == 64
    monkeypatch.setenv("OPERATOR_SCRAPE_BUDGET", "0")
    assert Settings().scrape_budget == "all"
    monkeypatch.setenv("OPERATOR_SCRAPE_BUDGET", "all")
    assert Settings().scrape_budget == "all"
    for bad in ("-1", "some"):
        monkeypatch.setenv("OPERATOR_SCRAPE_BUDGET", bad)
        with pytest.raises(ConfigError, match="scrape_budget"):
            load_settings()
