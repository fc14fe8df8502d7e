from __future__ import annotations

from pathlib import Path

import pytest
from operator_tikv.plugin import plugin as tikv_plugin
from operator_tikv.settings import TikvSettings

from operator_tui.config import (
    ConfigError,
    Settings,
    describe_fields,
    load_settings,
    section_with,
    settings_class,
)
from operator_tui.testing.fake_subject import FakePlugin, FakeSettings

pytestmark = pytest.mark.usefixtures("clean_env")


def test_defaults() -> None:
    s = load_settings()
    assert s.subject == "tikv"
    assert isinstance(s.tikv, TikvSettings) and s.subject_settings is s.tikv
    assert s.tikv.pd == ["http://127.0.0.1:2379"]
    assert s.monitor.interval_s == 2.0
    assert s.actions.mode == "observe"
    assert s.diagnosis.backend == "auto" and s.diagnosis.resolved_backend == "offline"


def test_nested_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_TIKV__SCRAPE_BUDGET", "64")
    monkeypatch.setenv("OPERATOR_TIKV__PD", "pd0:2379, http://pd1:2379/")
    monkeypatch.setenv("OPERATOR_TIKV__INVARIANTS__GRACE_SCALE", "0.5")
    monkeypatch.setenv("OPERATOR_MONITOR__INTERVAL_S", "5")
    monkeypatch.setenv("OPERATOR_DIAGNOSIS__CONCURRENCY", "4")
    monkeypatch.setenv("OPERATOR_ACTIONS__MODE", "approve")
    s = load_settings()
    assert s.tikv.scrape_budget == 64
    assert s.tikv.pd == ["http://pd0:2379", "http://pd1:2379"]
    assert s.tikv.invariants.grace_scale == 0.5
    assert (s.monitor.interval_s, s.diagnosis.concurrency, s.actions.mode) == (5, 4, "approve")


def test_flat_environment_names_are_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_PD", "pd0:2379, http://pd1:2379/")
    monkeypatch.setenv("OPERATOR_INTERVAL_S", "5")
    monkeypatch.setenv("OPERATOR_PROMETHEUS_URL", "localhost:9090")
    monkeypatch.setenv("OPERATOR_ACTIONS_MODE", "approve")
    monkeypatch.setenv("OPERATOR_DB_PATH", "/tmp/t.db")
    monkeypatch.setenv("OPERATOR_SCRAPE_BUDGET", "all")
    monkeypatch.setenv("OPERATOR_CLAUDE_MAX_TOKENS", "999")
    monkeypatch.setenv("OPERATOR_AGENT_MAX_RETRIES", "1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    s = load_settings()
    assert s.tikv.pd == ["http://pd0:2379", "http://pd1:2379"]
    assert s.tikv.prometheus_url == "http://localhost:9090"
    assert s.tikv.scrape_budget == "all"
    assert s.monitor.interval_s == 5
    assert s.actions.mode == "approve"
    assert s.storage.db_path == Path("/tmp/t.db")
    assert (s.diagnosis.max_tokens, s.diagnosis.max_retries) == (999, 1)
    assert s.diagnosis.base_url == "http://127.0.0.1:9"


def test_every_documented_old_name_is_an_alias_of_its_new_name() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = section.split("| old name | now |", 1)[1]
    documented = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[1].startswith("`"):
            for old in cells[0].split(","):
                documented[old.strip().strip("`")] = cells[1].strip("`")
    assert len(documented) >= 19
    aliases = settings_class(tikv_plugin).flat_aliases
    for old, new in documented.items():
        if old.startswith("--"):
            continue
        [alias] = [a for a in aliases if old in a.env]
        assert f"{alias.section}.{alias.field}" == new, old


def test_nested_name_beats_its_flat_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_PD", "http://flat:1")
    monkeypatch.setenv("OPERATOR_TIKV__PD", "http://nested:1")
    assert load_settings().tikv.pd == ["http://nested:1"]


def test_toml_sections_and_flat_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "op.toml"
    cfg.write_text(
        'interval_s = 7\nactions_mode = "approve"\n\n'
        '[tikv]\npd = ["http://a:1"]\nscrape_budget = 9\n\n'
        "[tikv.invariants]\nlow_disk_grace_s = 5\n\n"
        "[diagnosis]\nmax_tokens = 1000\n"
    )
    monkeypatch.setenv("OPERATOR_INTERVAL_S", "3")
    s = load_settings(cfg)
    assert s.monitor.interval_s == 3
    assert s.actions.mode == "approve"
    assert s.tikv.pd == ["http://a:1"] and s.tikv.scrape_budget == 9
    assert s.tikv.invariants.low_disk_grace_s == 5
    assert s.diagnosis.max_tokens == 1000


def test_toml_path_is_not_kept_between_loads(tmp_path: Path) -> None:
    cfg = tmp_path / "op.toml"
    cfg.write_text("[monitor]\ninterval_s = 7\n")
    assert load_settings(cfg).monitor.interval_s == 7
    assert load_settings().monitor.interval_s == 2.0


def test_overrides_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_TIKV__PD", "http://env:1")
    monkeypatch.setenv("OPERATOR_MONITOR__INTERVAL_S", "9")
    s = load_settings(pd="http://cli:2", interval_s=4, db_path=None)
    assert s.tikv.pd == ["http://cli:2"] and s.monitor.interval_s == 4


def test_dotenv_file_nested_and_flat(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "OPERATOR_CLAUDE_MODEL=claude-test\nOPERATOR_TIKV__PROMETHEUS_URL=http://p:9090\n"
    )
    s = load_settings()
    assert s.diagnosis.claude_model == "claude-test"
    assert s.tikv.prometheus_url == "http://p:9090"


@pytest.mark.parametrize("env", ["ANTHROPIC_API_KEY", "OPERATOR_DIAGNOSIS__API_KEY"])
def test_api_key_is_secret_and_masked(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv(env, "sk-ant-very-secret")
    s = load_settings()
    assert s.diagnosis.resolved_backend == "claude"
    assert "sk-ant-very-secret" not in repr(s)
    assert s.masked()["diagnosis"]["api_key"] == "**********"


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("OPERATOR_INTERVAL_S", "abc", "monitor.interval_s"),
        ("OPERATOR_MONITOR__INTERVAL_S", "0", "monitor.interval_s"),
        ("OPERATOR_ACTIONS_MODE", "yolo", "actions.mode"),
        ("OPERATOR_METRICS_SOURCE", "carrier-pigeon", "tikv.metrics_source"),
        ("OPERATOR_DIAGNOSIS__BACKEND", "oracle", "unknown diagnosis backend 'oracle'"),
        ("OPERATOR_TIKV__PD_TIMEOUT_S", "0", "tikv.pd_timeout_s"),
        ("OPERATOR_TIKV__HOT_REGIONS_EVERY_S", "-1", "tikv.hot_regions_every_s"),
        ("OPERATOR_TIKV__INVARIANTS__LOW_DISK_GRACE_S", "-5", "low_disk_grace_s must not be"),
        ("OPERATOR_TIKV__INVARIANTS__UNREACHABLE_REPORTERS_MIN", "2.5", "reporters_min"),
        ("OPERATOR_TIKV__SCRAPE_CLIENT", "curl", "tikv.scrape_client"),
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


def test_unknown_subject_setting_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "op.toml"
    cfg.write_text("[tikv]\nscrape_budgett = 3\n")
    with pytest.raises(ConfigError, match=r"tikv\.scrape_budgett"):
        load_settings(cfg)


def test_unknown_subject_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_SUBJECT", "nope")
    with pytest.raises(ConfigError, match="unknown subject 'nope'"):
        load_settings()


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_malformed_toml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("interval_s = = 2\n")
    with pytest.raises(ConfigError):
        load_settings(bad)


def test_every_field_documented() -> None:
    rows = list(describe_fields(load_settings()))
    names = {r[0] for r in rows}
    assert {"monitor.interval_s", "tikv.pd", "tikv.invariants.grace_scale"} <= names
    assert ("tikv.scrape_budget", "OPERATOR_TIKV__SCRAPE_BUDGET") in {(r[0], r[1]) for r in rows}
    assert all(r[3] for r in rows if ".invariants." not in r[0])


def test_another_plugin_brings_its_own_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_FAKE__ENDPOINTS", '["http://f:1"]')
    monkeypatch.setenv("OPERATOR_PD", "http://ignored:1")
    s = load_settings(plugin=FakePlugin())
    assert s.subject == "fake" and isinstance(s.subject_settings, FakeSettings)
    assert s.fake.endpoints == ["http://f:1"]  # type: ignore[attr-defined]
    assert not hasattr(s, "tikv")


def test_settings_built_for_a_plugin_name_that_subject() -> None:
    cls = settings_class(FakePlugin())
    with pytest.raises(ValueError):
        cls(subject="tikv")
    assert issubclass(cls, Settings)


def test_section_overrides_are_validated() -> None:
    section = TikvSettings()
    moved = section_with(section, {"pd": ["127.0.0.1:1"], "log_source": "none"})
    assert moved.pd == ["http://127.0.0.1:1"] and moved.log_source == "none"
    assert section.pd == ["http://127.0.0.1:2379"]
    assert section_with(section, {}) is section
    with pytest.raises(ConfigError, match="invalid setting colour"):
        section_with(section, {"colour": "red"})
