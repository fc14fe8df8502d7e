"""``--version``: the app's version and each installed subject plugin's distribution and version."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from operator_tui.cli import main


def test_version_names_app_and_subject_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"operator-tui {version('operator-tui')}"
    assert f"  subject tikv: operator-tikv {version('operator-tikv')}" in lines[1:]


def test_aiohttp_is_only_the_simulators_extra() -> None:
    from importlib.metadata import requires

    reqs = requires("operator-tikv") or []
    aiohttp = [r for r in reqs if r.startswith("aiohttp")]
    assert aiohttp and all("extra ==" in r and "sim" in r for r in aiohttp)
    assert any(r.startswith("operator-tikv[sim]") for r in requires("operator-tui") or [])
