from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from operator_tui.config import Settings
from operator_tui.core.bootstrap import log_options


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def test_auto_keeps_the_demo_log_source() -> None:
    assert log_options(_settings(), demo=True) == {}


def test_auto_without_a_dir_reads_no_logs() -> None:
    assert log_options(_settings(), demo=False) == {"log_source": "none"}


def test_auto_with_a_dir_tails_files(tmp_path: Path) -> None:
    assert log_options(_settings(log_dir=tmp_path), demo=False) == {
        "log_source": "file",
        "log_dir": str(tmp_path),
    }


def test_docker_names_the_compose_lab() -> None:
    opts = log_options(_settings(log_source="docker", compose_project="lab"), demo=False)
    assert opts["log_source"] == "docker"
    assert opts["compose_project"] == "lab"
    assert opts["compose_file"].endswith("docker-compose.yml")


def test_http_names_its_log_urls() -> None:
    settings = _settings(log_source="http", log_url="http://logs:8080/{store_id}, http://b/{host}")
    assert log_options(settings, demo=False) == {
        "log_source": "http",
        "log_url": ["http://logs:8080/{store_id}", "http://b/{host}"],
    }


def test_http_without_a_url_and_sim_are_refused() -> None:
    with pytest.raises(ValidationError, match="log_url"):
        _settings(log_source="http")
    with pytest.raises(ValidationError, match="log_source"):
        _settings(log_source="sim")
