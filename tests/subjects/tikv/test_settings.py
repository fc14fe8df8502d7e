"""``TikvSettings``: the ``[tikv]`` section, validated where it is declared."""

from __future__ import annotations

from pathlib import Path

import pytest
from operator_tikv.invariants import InvariantSettings
from operator_tikv.settings import TikvSettings
from pydantic import ValidationError


def test_auto_without_a_dir_reads_no_logs() -> None:
    assert TikvSettings().logs == "none"


def test_auto_with_a_dir_tails_files(tmp_path: Path) -> None:
    assert TikvSettings(log_dir=tmp_path).logs == "file"


def test_an_explicit_source_is_kept(tmp_path: Path) -> None:
    assert TikvSettings(log_source="docker", compose_project="lab").logs == "docker"
    assert TikvSettings(log_source="none", log_dir=tmp_path).logs == "none"


def test_file_logs_need_a_dir() -> None:
    with pytest.raises(ValidationError, match="log_source file needs log_dir"):
        TikvSettings(log_source="file")


def test_endpoints_normalised() -> None:
    s = TikvSettings(pd="pd0:2379, http://pd1:2379/", prometheus_url="prom:9090/")
    assert s.pd == ["http://pd0:2379", "http://pd1:2379"]
    assert s.prometheus_url == "http://prom:9090"
    assert TikvSettings(prometheus_url="").prometheus_url is None
    with pytest.raises(ValidationError, match="at least one PD endpoint"):
        TikvSettings(pd=" , ")


@pytest.mark.parametrize(
    ("given", "kept", "budget"),
    [("auto", "auto", None), ("all", "all", "all"), (0, "all", "all"), ("9", 9, 9), (3, 3, 3)],
)
def test_scrape_budget(given: object, kept: object, budget: object) -> None:
    s = TikvSettings(scrape_budget=given)
    assert (s.scrape_budget, s.budget) == (kept, budget)


@pytest.mark.parametrize("bad", [-1, "-2", "some"])
def test_bad_scrape_budget(bad: object) -> None:
    with pytest.raises(ValidationError, match="scrape_budget"):
        TikvSettings(scrape_budget=bad)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("tick_timeout_s", 0),
        ("pd_timeout_s", -1),
        ("pd_retries", -1),
        ("prometheus_timeout_s", "soon"),
        ("hot_regions_every_s", -0.5),
        ("prometheus_rate_window", "a minute"),
        ("scrape_client", "curl"),
    ],
)
def test_bad_numbers_and_names(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match=name):
        TikvSettings(**{name: value})


def test_periods_may_be_zero() -> None:
    s = TikvSettings(hot_regions_every_s=0, region_checks_every_s=0, schedule_config_every_s=0)
    assert (s.hot_regions_every_s, s.region_checks_every_s, s.schedule_config_every_s) == (0, 0, 0)


def test_invariants_are_the_checker_settings() -> None:
    s = TikvSettings(invariants={"low_disk_grace_s": "5", "unreachable_reporters_min": 3})
    assert isinstance(s.invariants, InvariantSettings)
    assert s.invariants.low_disk_grace_s == 5.0 and s.invariants.unreachable_reporters_min == 3
    assert s.invariants.high_write_latency_ms == InvariantSettings().high_write_latency_ms
    with pytest.raises(ValidationError, match="must not be negative"):
        TikvSettings(invariants={"grace_scale": -1})
    with pytest.raises(ValidationError, match=r"invariants\.nope"):
        TikvSettings(invariants={"nope": 1})


def test_unknown_setting_refused() -> None:
    with pytest.raises(ValidationError, match="scrape_budgett"):
        TikvSettings(scrape_budgett=3)


def test_one_pass_settings_fire_at_once_and_keep_the_rest() -> None:
    from operator_tikv.plugin import plugin

    section = TikvSettings(pd=["http://pd0:2379"], invariants={"slow_score_threshold": 70})
    once = plugin.one_pass_settings(section, 1.0)
    assert once.invariants.grace_scale == 0.0 and once.min_rate_window_s == 0.5
    assert once.invariants.slow_score_threshold == 70 and once.pd == ["http://pd0:2379"]
    assert section.invariants.grace_scale == 1.0
