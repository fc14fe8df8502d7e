"""``open_lab``: the settings' lab through the subject plugin's ``deployment`` hook, or one line."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from operator_tui.config import Settings
from operator_tui.core import bootstrap
from operator_tui.core.deploy import DeploymentOptions, DeployUnavailable
from operator_tui.core.subject import SubjectError
from operator_tui.testing.fake_subject import FakePlugin


class LabPlugin(FakePlugin):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[DeploymentOptions] = []

    def deployment(self, options: DeploymentOptions) -> object:
        self.asked.append(options)
        return "the lab"


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


async def test_the_plugin_gets_the_compose_file_project_and_pd() -> None:
    plugin = LabPlugin()
    settings = _settings(compose_project="lab2", pd="http://a:2379,http://b:2379")
    async with httpx.AsyncClient() as http:
        assert bootstrap.open_lab(settings, http, plugin) == "the lab"
    (options,) = plugin.asked
    assert options.project == "lab2" and options.http is http
    assert options.compose_file == Path("compose/tikv/docker-compose.yml")
    assert options.endpoints == ("http://a:2379", "http://b:2379")


async def test_no_lab_or_no_subject_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise SubjectError(f"unknown subject {name!r} (available: tikv)")

    async with httpx.AsyncClient() as http:
        with pytest.raises(DeployUnavailable, match="the fake subject has no lab to deploy"):
            bootstrap.open_lab(_settings(), http, FakePlugin())
        monkeypatch.setattr(bootstrap, "load_plugin", missing)
        with pytest.raises(DeployUnavailable, match="unknown subject 'nope'"):
            bootstrap.open_lab(_settings(subject="nope"), http)
