"""The packaged lab copied into a state directory: what is written, what is kept, what is refused."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from operator_tikv.lab import files
from operator_tikv.lab.deployment import LocalDeployment
from operator_tikv.settings import TikvSettings

from operator_tui.core.deploy import DeployError, DeploymentOptions

ROOT = Path(__file__).resolve().parents[4]


def test_the_lab_is_package_data() -> None:
    source = files.lab_source()
    assert source.is_relative_to(files.PACKAGE)
    assert (source / "docker-compose.yml").is_file()


def test_materialize_writes_the_project_and_names_the_clone(tmp_path: Path) -> None:
    dest = tmp_path / "lab"
    compose = files.materialize(dest)
    assert compose == dest.resolve() / "docker-compose.yml" and compose.is_file()
    shipped = {
        p.relative_to(files.lab_source()) for p in files.lab_source().rglob("*") if p.is_file()
    }
    written = {p.relative_to(dest.resolve()) for p in dest.resolve().rglob("*") if p.is_file()}
    assert shipped <= written
    assert (dest / "grafana" / "official").is_dir()
    assert f"OPERATOR_SOURCE={ROOT}" in (dest / ".env").read_text().splitlines()


def test_materialize_again_updates_shipped_files_and_keeps_the_users(tmp_path: Path) -> None:
    dest = tmp_path / "lab"
    files.materialize(dest)
    (dest / "config" / "pd.toml").write_text("# edited\n")
    (dest / "grafana" / "official" / "pd.json").write_text("{}")
    (dest / ".env").write_text("GRAFANA_ADMIN_PASSWORD=secret\nOPERATOR_SOURCE=/elsewhere\n")
    files.materialize(dest)
    assert (dest / "config" / "pd.toml").read_text() == (
        files.lab_source() / "config" / "pd.toml"
    ).read_text()
    assert (dest / "grafana" / "official" / "pd.json").read_text() == "{}"
    env = (dest / ".env").read_text().splitlines()
    assert "GRAFANA_ADMIN_PASSWORD=secret" in env and "OPERATOR_SOURCE=/elsewhere" not in env


def test_a_foreign_directory_is_not_written_into(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DeployError, match="not empty and holds no lab"):
        files.materialize(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_default_state_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert files.default_state_dir() == tmp_path / "operator-tui" / "lab"


async def test_opening_the_lab_writes_nothing_until_files_is_asked(tmp_path: Path) -> None:
    dest = tmp_path / "state"
    async with httpx.AsyncClient() as http:
        lab = LocalDeployment.from_options(
            DeploymentOptions(settings=TikvSettings(), http=http, directory=dest)
        )
        assert lab.managed and lab.lab.path == files.lab_source() / "docker-compose.yml"
        assert not dest.exists()
        assert lab.files() == dest
        assert lab.lab.path == dest.resolve() / "docker-compose.yml"
        again = LocalDeployment.from_options(
            DeploymentOptions(settings=TikvSettings(), http=http, directory=dest)
        )
        assert again.lab.path == dest / "docker-compose.yml"


async def test_a_compose_file_of_ones_own_is_used_as_is(tmp_path: Path) -> None:
    own = files.lab_source() / "docker-compose.yml"
    async with httpx.AsyncClient() as http:
        lab = LocalDeployment.from_options(
            DeploymentOptions(settings=TikvSettings(compose_file=own), http=http)
        )
        assert not lab.managed and lab.files() == own.parent
