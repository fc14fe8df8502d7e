"""``open_lab``: the settings' lab through the subject plugin's ``deployment`` hook, or one line."""

from __future__ import annotations

import httpx
import pytest

from operator_tui import bootstrap
from operator_tui.config import Settings, load_settings
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
    return load_settings(plugin=FakePlugin(), **kw)


async def test_the_plugin_gets_its_own_section_and_the_client() -> None:
    plugin = LabPlugin()
    settings = _settings()
    async with httpx.AsyncClient() as http:
        assert bootstrap.open_lab(settings, http, plugin) == "the lab"
    (options,) = plugin.asked
    assert options.http is http
    assert options.settings is settings.subject_settings


async def test_no_lab_or_no_subject_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise SubjectError(f"unknown subject {name!r} (available: tikv)")

    async with httpx.AsyncClient() as http:
        with pytest.raises(DeployUnavailable, match="the fake subject has no lab to deploy"):
            bootstrap.open_lab(_settings(), http, FakePlugin())
        monkeypatch.setattr(bootstrap, "load_plugin", missing)
        with pytest.raises(DeployUnavailable, match="unknown subject 'nope'"):
            bootstrap.open_lab(Settings(subject="nope"), http)
