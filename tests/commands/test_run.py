"""The default command: errors are one line and exit 2; --demo options; the TUI is imported lazily."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from operator_tui.cli import main
from operator_tui.commands import run as run_cmd
from operator_tui.config import Settings


def test_bad_db_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    code = main(["--no-ui", "--db", str(bad), "--backend", "offline"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("operator-tui: error: ") and err.count("\n") == 1 and str(bad) in err
    assert bad.read_bytes() == b"not a database" * 100


def test_claude_without_key_is_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPERATOR_ANTHROPIC_API_KEY", raising=False)
    code = main(["--no-ui", "--db", str(tmp_path / "t.db"), "--backend", "claude"])
    assert code == 2 and "ANTHROPIC_API_KEY" in capsys.readouterr().err


def test_demo_options() -> None:
    assert run_cmd.demo_options(argparse.Namespace(demo=False)) is None
    opts = run_cmd.demo_options(argparse.Namespace(demo=True))
    assert opts is not None and opts.max_store_down_time_s == 60


def test_without_no_ui_runs_the_tui(monkeypatch, tmp_path: Path) -> None:
    calls = []

    class FakeApp:
        @staticmethod
        def run_tui(settings, demo=None):
            calls.append((settings, demo))
            return 0

    monkeypatch.setitem(sys.modules, "operator_tui.tui.app", FakeApp)
    args = argparse.Namespace(no_ui=False, demo=True, stream=False)
    s = Settings(db_path=tmp_path / "t.db")
    assert run_cmd.run(args, s) == 0
    assert calls[0][0] is s and calls[0][1].max_store_down_time_s == 60


@pytest.mark.parametrize("flag", ["--no-ui"])
def test_unknown_subject_is_exit_2(tmp_path: Path, capsys, monkeypatch, flag: str) -> None:
    monkeypatch.setenv("OPERATOR_SUBJECT", "nonexistent")
    code = main([flag, "--db", str(tmp_path / "t.db"), "--backend", "offline"])
    assert code == 2 and "unknown subject" in capsys.readouterr().err
